"""The administrators' pages: accounts and their roles, role changes under the two-person rule, and
lifting a login lockout. The rules are `service.role_changes` and `service.access`; a refusal is
shown in the page's words by its code."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for

from .. import access, role_changes
from ..errors import ApiError
from ..models import ROLES
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
                  "locked": a.locked, "pending": a.pending, "may_propose": a.may_propose, "may_unlock": a.may_unlock}
                 for a in rows]
    return render_template("admin/users.html", items=items, total=total, page=page, page_size=PAGE_SIZE,
                           q=text, role=role, roles=list(ROLES))


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
