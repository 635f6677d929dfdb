from __future__ import annotations

from flask import request

from .. import drafts, inbox, tasks
from . import bp, ctx, int_arg, listing, page, payload, principal

DRAFT_REQUEST = {
    "type": "object", "required": ["data"], "additionalProperties": False,
    "properties": {"data": {"type": "object"}},
}
COMPLETE_REQUEST = {
    "type": "object", "required": ["data"], "additionalProperties": False,
    "properties": {"data": {"type": "object"}},
}


@bp.get("/tasks")
def list_tasks():
    limit, offset = page()
    c = ctx()
    with c.db.read() as s:
        rows, total = tasks.list_open(s, principal(), process_model=request.args.get("process_model"),
                                      bpmn_id=request.args.get("bpmn_id"), step=request.args.get("step"),
                                      unit_id=int_arg("unit_id"), sort=request.args.get("sort"),
                                      limit=limit, offset=offset)
        returns = inbox.returns_of(s, rows)
        return listing([tasks.task_json(r, c) | {"returned": r.id in returns} for r in rows], total)


@bp.get("/tasks/<task_id>")
def get_task(task_id):
    c = ctx()
    with c.db.read() as s:
        return tasks.get_with_form(c, s, principal(), task_id)


@bp.post("/tasks/<task_id>/complete")
def complete_task(task_id):
    data = payload(COMPLETE_REQUEST)["data"]
    done = tasks.submit(ctx(), principal(), task_id, data)
    body = {"completed_task_id": task_id, "items": done.items, "total": len(done.items)}
    if done.job_id is not None:  # the list's publication goes on in the background: GET /jobs/{job_id}
        body["job_id"] = done.job_id
    return body


@bp.put("/tasks/<task_id>/draft")
def save_draft(task_id):
    """Keep the caller's unfinished form data (暂存): not checked against the form, only limited in size."""
    data = payload(DRAFT_REQUEST)["data"]
    c = ctx()
    draft = c.db.transaction(lambda s: drafts.save(c, s, principal(), task_id, data))
    return drafts.draft_json(draft, c)


@bp.get("/tasks/<task_id>/draft")
def get_draft(task_id):
    c = ctx()
    with c.db.read() as s:
        return drafts.draft_json(drafts.get(s, principal(), task_id), c)


@bp.delete("/tasks/<task_id>/draft")
def delete_draft(task_id):
    ctx().db.transaction(lambda s: drafts.discard(s, principal(), task_id))
    return "", 204
