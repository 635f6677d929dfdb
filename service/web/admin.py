"""The administrators' pages: accounts and their roles, role changes under the two-person rule,
lifting a login lockout; the system administrator's units, accounts (created, edited, disabled,
their passwords reset) and the organisation import. The rules are `service.role_changes`,
`service.administration`, `service.org_import` and `service.access`; a refusal is shown in the
page's words by its code.

A temporary password (a new account's, a reset one's, the imported accounts') is shown once, on the
page that answers the POST that made it, and never stored but as its hash; that page is not cached.
The import keeps the uploaded workbook on the server between the preview and the confirmation,
under a random name held only in the uploader's session (`org_import.keep`)."""
from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, render_template, request, session, url_for

from .. import access, administration, downloads, org_import, role_changes
from ..errors import ApiError
from ..models import ROLES, UNIT_KINDS
from . import ctx, fmt_time, page_number, principal
from .i18n import _, label
from .problems import error_text, errors_of, of_exception

bp: Blueprint = Blueprint("admin", __name__, url_prefix="/admin")

PAGE_SIZE = 50


@bp.get("/users")
def users():
    text = request.args.get("q", "").strip()[:80]
    role = request.args.get("role") if request.args.get("role") in ROLES else None
    page = page_number()
    c = ctx()
    with c.db.read() as s:
        rows, total = role_changes.accounts(s, principal(), text, role, PAGE_SIZE, (page - 1) * PAGE_SIZE, c.now())
        items = [{"id": a.user.id, "username": a.user.username, "name": a.user.name, "unit": a.unit,
                  "roles": [label("role", r) for r in sorted(a.user.roles)], "active": a.user.active,
                  "locked": a.locked, "pending": a.pending, "may_propose": a.may_propose, "may_unlock": a.may_unlock,
                  "may_edit": a.may_edit, "may_reset": a.may_reset, "temporary": a.user.must_change_password}
                 for a in rows]
    return render_template("admin/users.html", items=items, total=total, page=page, page_size=PAGE_SIZE,
                           q=text, role=role, roles=list(ROLES), may_create=principal().has(*access.ADMINISTRATORS))


@bp.route("/users/<int:user_id>/roles", methods=["GET", "POST"])
def user_roles(user_id: int):
    c = ctx()
    with c.db.read() as s:
        user = role_changes.proposal_subject(s, principal(), user_id)
        current = sorted(user.roles)
        subject = {"id": user.id, "username": user.username, "name": user.name}
    chosen, reason, errors = current, "", {}
    if request.method == "POST":
        chosen, reason = request.form.getlist("roles"), request.form.get("reason", "")
        try:
            c.db.transaction(lambda s: role_changes.propose(s, principal(), user_id, chosen, reason, c.now()))
        except ApiError as exc:
            errors = errors_of(exc, "roles")
        else:
            flash(_("The change is proposed; it takes effect once an administrator of the other duty approves it."),
                  "success")
            return redirect(url_for("admin.changes"))
    return render_template("admin/user_roles.html", subject=subject, current=current, chosen=chosen, reason=reason,
                           roles=list(ROLES), duties=access.ADMIN_DUTIES, errors=errors), (422 if errors else 200)


@bp.get("/role-changes")
def changes():
    page = page_number()
    c = ctx()
    with c.db.read() as s:
        rows, total = role_changes.change_rows(s, principal(), PAGE_SIZE, (page - 1) * PAGE_SIZE)
        items = [{"id": r.change.id, "state": r.change.state, "username": r.username, "user_id": r.change.user_id,
                  "before": [label("role", x) for x in r.change.roles_before],
                  "after": [label("role", x) for x in r.change.roles_after],
                  "added": [label("role", x) for x in r.change.roles_after if x not in r.change.roles_before],
                  "removed": [label("role", x) for x in r.change.roles_before if x not in r.change.roles_after],
                  "reason": r.change.reason, "proposed_by": r.proposed_by,
                  "proposer_duty": label("role", r.change.proposer_duty),
                  "proposed_at": fmt_time(r.change.proposed_at), "decided_by": r.decided_by,
                  "decided_at": fmt_time(r.change.decided_at) if r.change.decided_at else "",
                  "comment": r.change.comment or "", "may_decide": r.refusal is None,
                  "why_not": error_text(r.refusal, None) if r.refusal and r.change.state == "pending" else ""}
                 for r in rows]
    return render_template("admin/role_changes.html", items=items, total=total, page=page, page_size=PAGE_SIZE)


@bp.post("/role-changes/<int:change_id>/<any(approve, reject):decision>")
def decide(change_id: int, decision: str):
    c = ctx()
    comment = request.form.get("comment", "")
    try:
        c.db.transaction(lambda s: role_changes.decide(s, principal(), change_id, decision == "approve", comment,
                                                       c.now()))
    except ApiError as exc:
        if exc.status == 404:
            raise
        flash(of_exception(exc), "error")
    else:
        flash(_("The change is approved and in force.") if decision == "approve" else _("The change is rejected."),
              "success")
    return redirect(url_for("admin.changes"))


@bp.post("/users/<int:user_id>/unlock")
def unlock(user_id: int):
    c = ctx()
    c.db.transaction(lambda s: role_changes.unlock(s, principal(), user_id))
    flash(_("The lockout is lifted; the account may log in again."), "success")
    return redirect(url_for("admin.users", q=request.form.get("q", "")))


# ---------------------------------------------------------------- units (the system administrator)
def _id(name: str) -> int | None:
    raw = request.form.get(name, "").strip()
    return int(raw) if raw.isdigit() and len(raw) < 10 else None


def _unit_form() -> dict:
    """The unit form's fields as the service takes them."""
    return {"code": request.form.get("code", "").strip(), "name": request.form.get("name", "").strip(),
            "kind": request.form.get("kind", ""), "parent_id": _id("parent_id"),
            "industry": request.form.get("industry", "").strip() or None, "leader_id": _id("leader_id"),
            "department_id": _id("department_id"), "active": request.form.get("active") == "on"}


@bp.get("/units")
def units():
    text = request.args.get("q", "").strip()[:80]
    kind = request.args.get("kind") if request.args.get("kind") in UNIT_KINDS else None
    state = request.args.get("state") if request.args.get("state") in ("active", "inactive") else None
    page = page_number()
    with ctx().db.read() as s:
        rows, total = administration.unit_rows(s, principal(), text=text, kind=kind,
                                               active=None if state is None else state == "active",
                                               limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
        items = [{"id": r.unit.id, "code": r.unit.code, "name": r.unit.name, "kind": label("unit_kind", r.unit.kind),
                  "industry": r.unit.industry or "", "parent": r.parent, "department": r.department,
                  "leader": r.leader, "active": r.unit.active} for r in rows]
    return render_template("admin/units.html", items=items, total=total, page=page, page_size=PAGE_SIZE,
                           q=text, kind=kind, state=state, kinds=list(UNIT_KINDS))


@bp.route("/units/new", methods=["GET", "POST"])
def new_unit():
    return _unit_page(None)


@bp.route("/units/<int:unit_id>/edit", methods=["GET", "POST"])
def edit_unit(unit_id: int):
    return _unit_page(unit_id)


def _unit_page(unit_id: int | None):
    c = ctx()
    errors: dict[str, list[str]] = {}
    with c.db.read() as s:
        options = administration.choices(s, principal())
        if unit_id is not None:
            unit = administration.unit_for_edit(s, principal(), unit_id)
            values = {f: getattr(unit, f) for f in administration.UNIT_FIELDS}
        else:
            values = {"kind": "street", "active": True}
    if request.method == "POST":
        values = _unit_form()
        try:
            if unit_id is None:
                c.db.transaction(lambda s: administration.create_unit(s, principal(), values))
            else:
                c.db.transaction(lambda s: administration.update_unit(s, principal(), unit_id, values))
        except ApiError as exc:
            if exc.status in (403, 404):
                raise
            errors = errors_of(exc, "name")
        else:
            flash(_("The unit %(name)s is saved.", name=values["name"]), "success")
            return redirect(url_for("admin.units"))
    return render_template("admin/unit_form.html", unit_id=unit_id, values=values, errors=errors,
                           kinds=list(UNIT_KINDS), options=options), (422 if errors else 200)


# ---------------------------------------------------------------- accounts (the system administrator)
WORK_ROLES = [r for r in ROLES if r not in access.ADMIN_DUTIES]


def _one_time(subject: dict, password: str, created: bool):
    """The page that shows a temporary password, once: it is not cached."""
    body = render_template("admin/temporary_password.html", subject=subject, password=password, created=created)
    return body, 200, {"Cache-Control": "no-store"}


@bp.route("/users/new", methods=["GET", "POST"])
def new_user():
    c = ctx()
    errors: dict[str, list[str]] = {}
    values: dict = {"username": "", "name": "", "unit_id": None, "roles": []}
    with c.db.read() as s:
        options = administration.choices(s, principal())
    if request.method == "POST":
        values = {"username": request.form.get("username", "").strip(), "name": request.form.get("name", "").strip(),
                  "unit_id": _id("unit_id"), "roles": request.form.getlist("roles")}
        try:
            user, password = c.db.transaction(lambda s: administration.create_user(s, principal(), values))
        except ApiError as exc:
            if exc.status in (403, 404):
                raise
            errors = errors_of(exc, "username")
        else:
            return _one_time({"id": user.id, "username": user.username, "name": user.name}, password, True)
    return render_template("admin/user_form.html", user_id=None, values=values, errors=errors, options=options,
                           roles=WORK_ROLES), (422 if errors else 200)


@bp.route("/users/<int:user_id>/edit", methods=["GET", "POST"])
def edit_user(user_id: int):
    c = ctx()
    errors: dict[str, list[str]] = {}
    with c.db.read() as s:
        options = administration.choices(s, principal())
        user = administration.user_for_edit(s, principal(), user_id)
        values = {"username": user.username, "name": user.name, "unit_id": user.unit_id, "active": user.active,
                  "roles": sorted(user.roles or [])}
    if request.method == "POST":
        changes = {"name": request.form.get("name", "").strip(), "unit_id": _id("unit_id"),
                   "active": request.form.get("active") == "on"}
        values.update(changes)
        try:
            c.db.transaction(lambda s: administration.update_user(s, principal(), user_id, changes))
        except ApiError as exc:
            if exc.status == 404:
                raise
            errors = errors_of(exc, "active" if exc.status == 403 else "name")
        else:
            flash(_("The account %(name)s is saved.", name=values["name"]), "success")
            return redirect(url_for("admin.users", q=values["username"]))
    return render_template("admin/user_form.html", user_id=user_id, values=values, errors=errors, options=options,
                           roles=WORK_ROLES), (422 if errors else 200)


@bp.post("/users/<int:user_id>/reset-password")
def reset_password(user_id: int):
    c = ctx()
    try:
        password = c.db.transaction(lambda s: administration.reset_password(s, principal(), user_id))
    except ApiError as exc:
        if exc.status == 404:
            raise
        flash(of_exception(exc), "error")
        return redirect(url_for("admin.users"))
    with c.db.read() as s:
        user = administration.user_for_edit(s, principal(), user_id)
        subject = {"id": user.id, "username": user.username, "name": user.name}
    return _one_time(subject, password, False)


# ---------------------------------------------------------------- the organisation import
IMPORT_KEY = "org_import"  # the session's key of the workbook kept between preview and confirmation


@bp.get("/import")
def org_import_page():
    principal().require(*access.ADMINISTRATORS)
    return render_template("admin/import.html", report=None, errors={}, max_kb=org_import.MAX_BYTES // 1024)


@bp.get("/import/template")
def org_import_template():
    principal().require(*access.ADMINISTRATORS)
    return Response(org_import.template(), mimetype=org_import.XLSX, headers={
        "Content-Disposition": downloads.disposition(org_import.TEMPLATE_NAME, "org-import.xlsx")})


@bp.post("/import")
def org_import_preview():
    principal().require(*access.ADMINISTRATORS)
    upload = request.files.get("file")
    content = upload.stream.read(org_import.MAX_BYTES + 1) if upload is not None else b""
    org_import.forget(ctx().settings.instance_dir, session.pop(IMPORT_KEY, None))
    try:
        name, report = org_import.check_upload(ctx(), principal(), content)
    except ApiError as exc:
        if exc.status == 403:
            raise
        return render_template("admin/import.html", report=None, errors=errors_of(exc, "file"),
                               max_kb=org_import.MAX_BYTES // 1024), 422
    if name:
        session[IMPORT_KEY] = name
    return render_template("admin/import.html", report=_report(report), errors={},
                           max_kb=org_import.MAX_BYTES // 1024, confirmable=name is not None)


@bp.post("/import/confirm")
def org_import_confirm():
    try:
        report = org_import.confirm_upload(ctx(), principal(), session.pop(IMPORT_KEY, None))
    except org_import.ImportInvalid as exc:
        return render_template("admin/import.html", report=_report(exc.report), errors={},
                               max_kb=org_import.MAX_BYTES // 1024, confirmable=False), 422
    except ApiError as exc:
        if exc.status == 403:
            raise
        flash(of_exception(exc), "error")
        return redirect(url_for("admin.org_import_page"))
    body = render_template("admin/import_done.html", report=_report(report))
    return body, 200, {"Cache-Control": "no-store"}


def _report(report: org_import.Report) -> dict:
    """The report with every bad row's reason in the page's words."""
    return {"units": {"create": report.units_create, "update": report.units_update},
            "users": {"create": report.users_create, "update": report.users_update},
            "errors": [dict(e, reason=error_text(e["code"], None)) for e in report.errors],
            "changes": report.changes, "passwords": report.passwords}
