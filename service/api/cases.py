from __future__ import annotations

from flask import request
from sqlalchemy import func, select

from .. import access, evidence, lifecycle
from ..errors import BadRequest
from ..models import CASE_STATUSES, Case
from . import bp, ctx, int_arg, listing, page, principal


@bp.get("/cases")
def cases():
    limit, offset = page()
    status = request.args.get("status")
    if status and status not in CASE_STATUSES:
        raise BadRequest(f"status must be one of {', '.join(CASE_STATUSES)}")
    query = select(Case).where(access.case_scope(principal()))
    for column, value in ((Case.round_id, int_arg("round_id")), (Case.unit_id, int_arg("unit_id"))):
        if value is not None:
            query = query.where(column == value)
    if status:
        query = query.where(Case.status == status)
    c = ctx()
    with c.db.read() as s:
        total = s.scalar(select(func.count()).select_from(query.subquery()))
        rows = s.scalars(query.order_by(Case.id).limit(limit).offset(offset)).all()
        return listing([lifecycle.case_json(r, c) for r in rows], total)


@bp.get("/cases/<int:case_id>")
def get_case(case_id):
    c = ctx()
    with c.db.read() as s:
        return lifecycle.case_json(lifecycle.get_case(s, principal(), case_id), c)


@bp.post("/cases/<int:case_id>/evidence")
def upload_evidence(case_id):
    upload = request.files.get("file")
    if upload is None:
        raise BadRequest("send the file as multipart/form-data field 'file'")
    item_id = request.form.get("item_id")
    try:
        item_id = int(item_id) if item_id not in (None, "") else None
    except ValueError:
        raise BadRequest(f"item_id must be an integer, got {item_id!r}") from None
    content = upload.read()
    c = ctx()
    row = c.db.transaction(lambda s: evidence.upload(c, s, principal(), case_id, upload.filename or "file",
                                                     content, item_id))
    return evidence.evidence_json(row, c), 201
