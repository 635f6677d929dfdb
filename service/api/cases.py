from __future__ import annotations

from datetime import date

from flask import request

from .. import cases as rectification_cases
from .. import documents, evidence, extensions, limits, measures, supervision
from ..errors import BadRequest
from ..models import CASE_STATUSES
from . import bp, ctx, int_arg, listing, page, payload, principal

EVIDENCE_REVIEW = {"type": "object", "required": ["result"], "additionalProperties": False,
                   "properties": {"result": {"enum": ["accepted", "rejected"]},
                                  "comment": {"type": "string", "maxLength": 2000}}}
RECHECK = {"type": "object", "required": ["comment"], "additionalProperties": False,
           "properties": {"comment": {"type": "string", "minLength": 1, "maxLength": 2000}}}


@bp.get("/cases")
def cases():
    limit, offset = page()
    status = request.args.get("status")
    if status and status not in CASE_STATUSES:
        raise BadRequest(f"status must be one of {', '.join(CASE_STATUSES)}", code="invalid_query")
    c = ctx()
    with c.db.read() as s:
        rows, total = rectification_cases.list_cases(s, principal(), round_id=int_arg("round_id"),
                                                     unit_id=int_arg("unit_id"), status=status or None,
                                                     limit=limit, offset=offset)
        return listing([rectification_cases.case_json(r, c) for r in rows], total)


@bp.get("/cases/<int:case_id>")
def get_case(case_id):
    c = ctx()
    with c.db.read() as s:
        return rectification_cases.case_json(rectification_cases.get_case(s, principal(), case_id), c)


@bp.post("/cases/<int:case_id>/evidence")
@limits.limited(limits.UPLOAD)
def upload_evidence(case_id):
    upload = request.files.get("file")
    if upload is None:
        raise BadRequest("send the file as multipart/form-data field 'file'", code="file_required")
    item_id, common_problem_id, measure_id = _form_int("item_id"), _form_int("common_problem_id"), _form_int("measure_id")
    raw_date = request.form.get("effective_date") or None
    try:
        effective = date.fromisoformat(raw_date) if raw_date else None
    except ValueError:
        raise BadRequest.on_field("effective_date", "not_a_date", f"must be a date like 2026-12-31, got {raw_date!r}") from None
    content = upload.read()
    c = ctx()
    row = c.db.transaction(lambda s: evidence.upload(c, s, principal(), case_id, upload.filename or "file",
                                                     content, item_id, effective, common_problem_id, measure_id))
    return evidence.evidence_json(row, c), 201


def _form_int(name: str) -> int | None:
    raw = request.form.get(name) or None
    try:
        return int(raw) if raw is not None else None
    except ValueError:
        raise BadRequest.on_field(name, "not_an_integer", f"must be an integer, got {raw!r}") from None


@bp.get("/cases/<int:case_id>/evidence")
def case_evidence(case_id):
    c = ctx()
    with c.db.read() as s:
        rows = supervision.list_evidence(s, principal(), case_id)
        return listing([evidence.evidence_json(e, c) for e in rows], len(rows))


@bp.get("/evidence/<int:evidence_id>/content")
def evidence_content(evidence_id):
    row, content = ctx().db.transaction(lambda s: supervision.evidence_content(s, principal(), evidence_id))
    return evidence.download(row, content)


@bp.delete("/evidence/<int:evidence_id>")
def remove_evidence(evidence_id):
    """Take back a file uploaded by mistake, until the case is filed (409 evidence_locked after)."""
    c = ctx()
    c.db.transaction(lambda s: evidence.remove(c, s, principal(), evidence_id))
    return "", 204


@bp.put("/evidence/<int:evidence_id>")
@limits.limited(limits.UPLOAD)
def replace_evidence(evidence_id):
    """A new file in place of one not yet filed (multipart `file`, optional `item_id` or
    `common_problem_id`, else the old file's): the new evidence is answered; the old one is gone."""
    upload = request.files.get("file")
    if upload is None:
        raise BadRequest("send the file as multipart/form-data field 'file'", code="file_required")
    item_id, common_problem_id = _form_int("item_id"), _form_int("common_problem_id")
    content = upload.read()
    c = ctx()
    row = c.db.transaction(lambda s: evidence.replace(c, s, principal(), evidence_id, upload.filename or "file",
                                                      content, item_id, common_problem_id))
    return evidence.evidence_json(row, c)


@bp.post("/evidence/<int:evidence_id>/review")
def review_evidence(evidence_id):
    data = payload(EVIDENCE_REVIEW)
    c = ctx()
    row = c.db.transaction(lambda s: supervision.review_evidence(c, s, principal(), evidence_id, data["result"],
                                                                 data.get("comment")))
    return evidence.evidence_json(row, c)


@bp.post("/cases/<int:case_id>/recheck")
def recheck(case_id):
    data = payload(RECHECK)
    c = ctx()
    case = c.db.transaction(lambda s: rectification_cases.recheck_case(c, s, principal(), case_id, data["comment"]))
    return rectification_cases.case_json(case, c)


EXTENSION_REQUEST = {"type": "object", "required": ["days", "reason"], "additionalProperties": False,
                     "properties": {"days": {"type": "integer"}, "reason": {"type": "string", "maxLength": 2000}}}
EXTENSION_DECISION = {"type": "object", "additionalProperties": False,
                      "properties": {"opinion": {"type": "string", "maxLength": 2000}}}


@bp.post("/cases/<int:case_id>/extension")
def request_extension(case_id):
    """The unit asks for more days to file (延期申请); the office decides."""
    data = payload(EXTENSION_REQUEST)
    c = ctx()
    row = c.db.transaction(lambda s: extensions.request_extension(c, s, principal(), case_id, data["days"],
                                                                  data["reason"]))
    return extensions.extension_json(row, c), 201


@bp.get("/cases/<int:case_id>/extensions")
def case_extensions(case_id):
    c = ctx()
    with c.db.read() as s:
        rows = extensions.of_case(s, principal(), case_id)
        return listing([extensions.extension_json(r, c) for r in rows], len(rows))


@bp.get("/extensions")
def pending_extensions():
    """The extension requests waiting for the office."""
    c = ctx()
    with c.db.read() as s:
        rows = extensions.pending(s, principal())
        return listing([extensions.extension_json(r, c) for r, _ in rows], len(rows))


@bp.post("/extensions/<int:request_id>/approve")
def approve_extension(request_id):
    data = payload(EXTENSION_DECISION, optional=True)
    c = ctx()
    row = c.db.transaction(lambda s: extensions.decide(c, s, principal(), request_id, True, data.get("opinion")))
    return extensions.extension_json(row, c)


@bp.post("/extensions/<int:request_id>/refuse")
def refuse_extension(request_id):
    data = payload(EXTENSION_DECISION, optional=True)
    c = ctx()
    row = c.db.transaction(lambda s: extensions.decide(c, s, principal(), request_id, False, data.get("opinion")))
    return extensions.extension_json(row, c)


@bp.get("/cases/<int:case_id>/measures")
def case_measures(case_id):
    """The case's measures with their follow-up after close-out (open, overdue, done)."""
    c = ctx()
    with c.db.read() as s:
        rows = measures.of_case(s, principal(), case_id)
        return listing([measures.measure_json(m) for m in rows], len(rows))


@bp.get("/measures/overdue")
def overdue_measures():
    """Measures followed after close-out and unreported past their deadline (for 回头看)."""
    c = ctx()
    with c.db.read() as s:
        rows = measures.overdue_measures(s, principal(), int_arg("round_id"))
        return listing([measures.measure_json(m) | {"case_id": case.id, "unit_id": case.unit_id}
                        for m, case in rows], len(rows))


@bp.get("/cases/<int:case_id>/documents")
def case_documents(case_id):
    """The documents of a case (整改报告, 督办函, 谈话提醒记录, and its department's 巡察建议书)."""
    c = ctx()
    with c.db.read() as s:
        rows = documents.case_documents(s, principal(), case_id)
        return listing([documents.document_json(d, c) for d in rows], len(rows))


@bp.get("/documents/<int:document_id>/content")
def document_content(document_id):
    """A document as issued (.docx): the same bytes, and SHA-256, at every download."""
    row, data = ctx().db.transaction(lambda s: documents.content(s, principal(), document_id))
    return documents.download(row, data)
