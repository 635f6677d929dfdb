from __future__ import annotations

from flask import request

from .. import organisation, role_changes
from ..models import UNIT_KINDS
from . import bp, choice_arg, ctx, int_arg, listing, page, payload, principal

UNIT_REQUEST = {
    "type": "object", "required": ["code", "name", "kind"], "additionalProperties": False,
    "properties": {
        "code": {"type": "string", "minLength": 1, "maxLength": 40},
        "name": {"type": "string", "minLength": 1, "maxLength": 200},
        "kind": {"enum": list(UNIT_KINDS)},
        "parent_id": {"type": ["integer", "null"]},
        "industry": {"type": ["string", "null"], "maxLength": 100},
        "department_id": {"type": ["integer", "null"]},
        "leader_id": {"type": ["integer", "null"]},
    },
}


@bp.get("/units")
def units():
    limit, offset = page()
    with ctx().db.read() as s:
        rows, total = organisation.list_units(s, choice_arg("kind", UNIT_KINDS), limit, offset)
        return listing([organisation.unit_json(u) for u in rows], total)


@bp.post("/units")
def create_unit():
    data = payload(UNIT_REQUEST)
    unit = ctx().db.transaction(lambda s: organisation.create_unit(s, principal(), data))
    return organisation.unit_json(unit), 201


@bp.get("/users")
def users():
    limit, offset = page()
    with ctx().db.read() as s:
        rows, total = organisation.list_users(s, principal(), request.args.get("role"), int_arg("unit_id"),
                                              limit, offset)
        return listing([organisation.user_json(u) for u in rows], total)


ROLE_CHANGE_REQUEST = {
    "type": "object", "required": ["roles", "reason"], "additionalProperties": False,
    "properties": {"roles": {"type": "array", "items": {"type": "string", "maxLength": 40}, "maxItems": 20},
                   "reason": {"type": "string", "maxLength": 500}},
}
DECISION_REQUEST = {
    "type": "object", "additionalProperties": False,
    "properties": {"comment": {"type": ["string", "null"], "maxLength": 500}},
}


@bp.get("/role-changes")
def role_change_list():
    limit, offset = page()
    with ctx().db.read() as s:
        rows, total = role_changes.list_changes(s, principal(), request.args.get("state"), limit, offset)
        names = role_changes.usernames(s, rows)
        return listing([role_changes.change_json(c, names) for c in rows], total)


@bp.post("/users/<int:user_id>/role-changes")
def propose_role_change(user_id: int):
    data = payload(ROLE_CHANGE_REQUEST)
    c = ctx()

    def work(s):
        change = role_changes.propose(s, principal(), user_id, data["roles"], data["reason"], c.now())
        return role_changes.change_json(change, role_changes.usernames(s, [change]))
    return c.db.transaction(work), 201


@bp.post("/role-changes/<int:change_id>/approve")
def approve_role_change(change_id: int):
    return _decide(change_id, approve=True)


@bp.post("/role-changes/<int:change_id>/reject")
def reject_role_change(change_id: int):
    return _decide(change_id, approve=False)


def _decide(change_id: int, approve: bool):
    data = payload(DECISION_REQUEST, optional=True)
    c = ctx()

    def work(s):
        change = role_changes.decide(s, principal(), change_id, approve, data.get("comment"), c.now())
        return role_changes.change_json(change, role_changes.usernames(s, [change]))
    return c.db.transaction(work)


@bp.post("/users/<int:user_id>/unlock")
def unlock_user(user_id: int):
    c = ctx()
    c.db.transaction(lambda s: role_changes.unlock(s, principal(), user_id))
    return "", 204
