from __future__ import annotations

from flask import Response, request

from .. import administration, downloads, org_import, organisation, role_changes
from ..errors import BadRequest
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
        "active": {"type": "boolean"},
    },
}
UNIT_PATCH = {**UNIT_REQUEST, "required": []}
USER_REQUEST: dict = {
    "type": "object", "required": ["username", "name"], "additionalProperties": False,
    "properties": {
        "username": {"type": "string", "minLength": 1, "maxLength": 80},
        "name": {"type": "string", "minLength": 1, "maxLength": 100},
        "unit_id": {"type": ["integer", "null"]},
        "roles": {"type": "array", "items": {"type": "string", "maxLength": 40}, "maxItems": 20},
        "active": {"type": "boolean"},
    },
}
USER_PATCH = {"type": "object", "additionalProperties": False,
              "properties": {k: v for k, v in USER_REQUEST["properties"].items() if k != "username"}}


@bp.get("/units")
def units():
    limit, offset = page()
    with ctx().db.read() as s:
        rows, total = organisation.list_units(s, choice_arg("kind", UNIT_KINDS), limit, offset)
        return listing([organisation.unit_json(u) for u in rows], total)


@bp.post("/units")
def create_unit():
    data = payload(UNIT_REQUEST)
    unit = ctx().db.transaction(lambda s: administration.create_unit(s, principal(), data))
    return organisation.unit_json(unit), 201


@bp.patch("/units/<int:unit_id>")
def update_unit(unit_id: int):
    data = payload(UNIT_PATCH)
    unit = ctx().db.transaction(lambda s: administration.update_unit(s, principal(), unit_id, data))
    return organisation.unit_json(unit)


@bp.post("/users")
def create_user():
    data = payload(USER_REQUEST)
    user, password = ctx().db.transaction(lambda s: administration.create_user(s, principal(), data))
    return {"id": user.id, "temporary_password": password}, 201


@bp.patch("/users/<int:user_id>")
def update_user(user_id: int):
    data = payload(USER_PATCH)
    user = ctx().db.transaction(lambda s: administration.update_user(s, principal(), user_id, data))
    return organisation.user_json(user)


@bp.post("/users/<int:user_id>/reset-password")
def reset_password(user_id: int):
    password = ctx().db.transaction(lambda s: administration.reset_password(s, principal(), user_id))
    return {"temporary_password": password}


@bp.get("/org/import-template")
def import_template():
    principal().require(*org_import.access.ADMINISTRATORS)
    return Response(org_import.template(), mimetype=org_import.XLSX, headers={
        "Content-Disposition": downloads.disposition(org_import.TEMPLATE_NAME, "org-import.xlsx")})


@bp.post("/org/import")
def import_organisation():
    """Check (dry_run=true, the default) or write (dry_run=false) a workbook of units and accounts."""
    dry_run = choice_arg("dry_run", ("true", "false")) != "false"
    principal().require(*org_import.access.ADMINISTRATORS)
    upload = request.files.get("file")
    if upload is None:
        raise BadRequest("send the workbook as the multipart field file", code="import_file_required")
    content = upload.stream.read(org_import.MAX_BYTES + 1)
    report = ctx().db.transaction(lambda s: org_import.run(s, principal(), content, dry_run))
    return report.as_json()


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
