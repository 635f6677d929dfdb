"""Clues, pools, audit findings, notifications and letters."""
from __future__ import annotations

from .. import clues, pools, supervision
from .. import letters as recommendation_letters
from . import bp, choice_arg, ctx, int_arg, listing, page, payload, principal

CLUE_REQUEST = {"type": "object", "required": ["unit_id", "summary", "content"], "additionalProperties": False,
                "properties": {"unit_id": {"type": "integer"},
                               "summary": {"type": "string", "minLength": 1, "maxLength": 300},
                               "content": {"type": "string", "minLength": 1, "maxLength": 20000}}}
INSPECTOR_PROFILE = {"type": "object", "additionalProperties": False, "properties": {
    "specialties": {"type": "array", "items": {"type": "string", "maxLength": 50}, "maxItems": 20},
    "home_unit_id": {"type": ["integer", "null"]},
    "conflict_unit_ids": {"type": "array", "items": {"type": "integer"}, "maxItems": 200},
    "note": {"type": ["string", "null"], "maxLength": 2000}}}
EXPERT_REQUEST = {"type": "object", "required": ["name", "organisation"], "additionalProperties": False, "properties": {
    "name": {"type": "string", "minLength": 1, "maxLength": 100},
    "organisation": {"type": "string", "minLength": 1, "maxLength": 200},
    "specialties": {"type": "array", "items": {"type": "string", "maxLength": 50}, "maxItems": 20},
    "contact": {"type": ["string", "null"], "maxLength": 200}}}
FINDING_REQUEST = {"type": "object", "required": ["unit_id", "title"], "additionalProperties": False, "properties": {
    "round_id": {"type": ["integer", "null"]}, "unit_id": {"type": "integer"},
    "title": {"type": "string", "minLength": 1, "maxLength": 300},
    "description": {"type": "string", "maxLength": 5000}, "audit_ref": {"type": ["string", "null"], "maxLength": 100},
    "problem_id": {"type": ["integer", "null"]}, "expert_id": {"type": ["integer", "null"]}}}
ASSIGN_REQUEST = {"type": "object", "required": ["expert_id"], "additionalProperties": False,
                  "properties": {"expert_id": {"type": "integer"}}}
LINK_REQUEST = {"type": "object", "required": ["problem_id"], "additionalProperties": False,
                "properties": {"problem_id": {"type": "integer"}}}
# a leader's 签收, with their 批示 if they write one; the body may be left out
ACKNOWLEDGE = {"type": "object", "additionalProperties": False,
               "properties": {"instruction": {"type": "string", "maxLength": 2000}}}


@bp.post("/rounds/<int:round_id>/clues")
def register_clue(round_id):
    data = payload(CLUE_REQUEST)
    c, p = ctx(), principal()
    clue = c.db.transaction(lambda s: clues.register(c, s, p, round_id, data["unit_id"], data["summary"],
                                                     data["content"]))
    return clues.clue_json(p, clue, c), 201


@bp.get("/clues")
def list_clues():
    limit, offset = page()
    c, p = ctx(), principal()
    with c.db.read() as s:
        rows, total = clues.list_clues(s, p, int_arg("round_id"), limit, offset, unit_id=int_arg("unit_id"),
                                       status=choice_arg("status", clues.STATUSES))
        return listing([clues.clue_json(p, r, c) for r in rows], total)


@bp.get("/clues/<int:clue_id>")
def get_clue(clue_id):
    c, p = ctx(), principal()
    with c.db.read() as s:
        return clues.clue_json(p, clues.get_clue(s, p, clue_id), c)


@bp.get("/pools/inspectors")
def inspector_pool():
    with ctx().db.read() as s:
        items = pools.list_inspectors(ctx(), s, principal())
        return listing(items, len(items))


@bp.put("/pools/inspectors/<int:user_id>")
def put_inspector(user_id):
    data = payload(INSPECTOR_PROFILE)
    c = ctx()
    return c.db.transaction(lambda s: pools.put_inspector(c, s, principal(), user_id, data))


@bp.get("/pools/experts")
def expert_pool():
    with ctx().db.read() as s:
        rows = pools.list_experts(s, principal())
        assigned = pools.expert_rounds(s, [e.id for e in rows])
        return listing([pools.expert_json(e, assigned[e.id]) for e in rows], len(rows))


@bp.post("/pools/experts")
def add_expert():
    data = payload(EXPERT_REQUEST)
    return pools.expert_json(ctx().db.transaction(lambda s: pools.add_expert(s, principal(), data))), 201


@bp.get("/audit-findings")
def audit_findings():
    c = ctx()
    with c.db.read() as s:
        linked = choice_arg("linked", ("true", "false"))
        rows, total = pools.list_findings(s, principal(), int_arg("round_id"),
                                          None if linked is None else linked == "true")
        return listing([pools.finding_json(f, c) for f in rows], total)


@bp.post("/audit-findings")
def add_audit_finding():
    data = payload(FINDING_REQUEST)
    c = ctx()
    return pools.finding_json(c.db.transaction(lambda s: pools.add_finding(c, s, principal(), data)), c), 201


@bp.post("/audit-findings/<int:finding_id>/link")
def link_audit_finding(finding_id):
    data = payload(LINK_REQUEST)
    c = ctx()
    return pools.finding_json(c.db.transaction(
        lambda s: pools.link_finding(s, principal(), finding_id, data["problem_id"])), c)


@bp.get("/rounds/<int:round_id>/experts")
def round_experts(round_id):
    with ctx().db.read() as s:
        rows = pools.round_experts(s, principal(), round_id)
        return listing([pools.expert_json(e) for e in rows], len(rows))


@bp.post("/rounds/<int:round_id>/experts")
def assign_expert(round_id):
    data = payload(ASSIGN_REQUEST)
    c = ctx()
    rows = c.db.transaction(lambda s: pools.assign_expert(c, s, principal(), round_id, data["expert_id"]))
    return listing([pools.expert_json(e) for e in rows], len(rows)), 201


@bp.delete("/rounds/<int:round_id>/experts/<int:expert_id>")
def unassign_expert(round_id, expert_id):
    c = ctx()
    c.db.transaction(lambda s: pools.unassign_expert(s, principal(), round_id, expert_id))
    return "", 204


@bp.get("/notifications")
def notifications():
    limit, offset = page()
    c = ctx()
    with c.db.read() as s:
        rows, total = supervision.list_notifications(s, principal(), int_arg("round_id"),
                                                     choice_arg("pending", ("true", "false")) == "true", limit, offset)
        return listing([supervision.notification_json(n, c) for n in rows], total)


@bp.post("/notifications/<int:notification_id>/acknowledge")
def acknowledge(notification_id):
    data = payload(ACKNOWLEDGE, optional=True)
    c = ctx()
    note = c.db.transaction(lambda s: supervision.acknowledge(c, s, principal(), notification_id,
                                                              data.get("instruction")))
    return supervision.notification_json(note, c)


@bp.get("/letters")
def letters():
    c = ctx()
    with c.db.read() as s:
        rows = recommendation_letters.list_letters(s, principal(), int_arg("round_id"))
        shared = recommendation_letters.shared_ids(s, rows)
        return listing([recommendation_letters.letter_json(r, c, shared[r.id]) for r in rows], len(rows))
