"""The message centre, urging a unit, a case's supervision record and the departments' comments."""
from __future__ import annotations

from .. import notices, supervision
from . import bp, choice_arg, ctx, listing, page, payload, principal

COMMENT = {"type": "object", "required": ["comment"], "additionalProperties": False,
           "properties": {"comment": {"type": "string", "minLength": 1, "maxLength": 2000, "pattern": r"\S"}}}
URGE = COMMENT


@bp.get("/notices")
def my_notices():
    limit, offset = page()
    c = ctx()
    with c.db.read() as s:
        rows, total = notices.list_notices(s, principal(), choice_arg("unread", ("true", "false")) == "true",
                                           limit, offset)
        body = listing([notices.notice_json(n, c) for n in rows], total)
        body["unread"] = notices.unread_count(s, principal())
        return body


@bp.post("/notices/<int:notice_id>/read")
def read_notice(notice_id):
    c = ctx()
    return notices.notice_json(c.db.transaction(lambda s: notices.mark_read(c, s, principal(), notice_id)), c)


@bp.post("/notices/read-all")
def read_all_notices():
    c = ctx()
    return {"marked": c.db.transaction(lambda s: notices.mark_all_read(c, s, principal()))}


@bp.post("/cases/<int:case_id>/urge")
def urge_case(case_id):
    data = payload(URGE)
    c = ctx()
    action = c.db.transaction(lambda s: supervision.urge(c, s, principal(), case_id, data["comment"].strip()))
    return supervision.action_json(action, c), 201


@bp.get("/cases/<int:case_id>/history")
def case_history(case_id):
    c = ctx()
    with c.db.read() as s:
        rows = supervision.case_history(s, principal(), case_id)
        return listing([supervision.action_json(a, c) for a in rows], len(rows))


@bp.get("/cases/<int:case_id>/comments")
def case_comments(case_id):
    c = ctx()
    with c.db.read() as s:
        rows = supervision.list_comments(s, principal(), case_id)
        return listing([supervision.comment_json(r, c) for r in rows], len(rows))


@bp.post("/cases/<int:case_id>/comments")
def comment_on_case(case_id):
    data = payload(COMMENT)
    c = ctx()
    row = c.db.transaction(lambda s: supervision.add_comment(c, s, principal(), case_id, data["comment"].strip()))
    return supervision.comment_json(row, c), 201
