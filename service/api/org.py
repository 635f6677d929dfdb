from __future__ import annotations

from flask import request

from .. import organisation
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
