"""Login, logout, one's own password, and the language switch.

The password check and the lockout are the service's (`auth.verify_credentials`, shared with
the API's token endpoint); this module only keeps the user id in the signed session cookie.
"""
from __future__ import annotations

from flask import flash, redirect, render_template, request, session, url_for

from .. import auth as auth_service
from .. import limits
from ..errors import AccountLocked, ApiError, Unauthorized
from . import bp, ctx, principal, safe_next
from .i18n import LANGUAGES, _
from .problems import errors_of


@bp.route("/login", methods=["GET", "POST"])
@limits.limited(limits.LOGIN, methods=("POST",))
def login():
    target = safe_next(request.values.get("next"), url_for("web.inbox"))
    if request.method == "GET":
        if session.get("uid") is not None:
            return redirect(target)
        return render_template("login.html", next=target, username="", error=None)
    username = request.form.get("username", "").strip()
    password = request.form.get("password", "")
    if not username or not password:
        return render_template("login.html", next=target, username=username,
                               error=_("Enter your username and password.")), 400
    settings = ctx().settings
    try:
        p = auth_service.page_login(ctx(), username, password)
    except AccountLocked:
        return login_refused(_("Too many failed logins: the account is locked. Try again in %(minutes)s minutes.",
                               minutes=settings.lockout_minutes), 401)
    except Unauthorized:
        return login_refused(_("Wrong username or password."), 401)
    lang = session.get("lang")
    session.clear()  # a fresh session on login: nothing from before survives but the language
    if lang:
        session["lang"] = lang
    session["uid"] = p.id
    session["epoch"] = p.session_epoch  # the generation this session belongs to (see auth.load_principal)
    session["seen"] = int(ctx().now().timestamp())  # idle since (see web._load_principal)
    session.permanent = True
    return redirect(target)


def login_refused(error: str, status: int):
    """The login form again, with what was refused (and the username given) above it."""
    target = safe_next(request.values.get("next"), url_for("web.inbox"))
    username = request.form.get("username", "").strip()
    return render_template("login.html", next=target, username=username, error=error), status


@bp.post("/logout")
def logout():
    if session.get("uid") is not None and session.get("epoch", 0) == principal().session_epoch:
        # ends the session on the server too: a copy of this cookie taken before no longer works
        p = principal()
        ctx().db.transaction(lambda s: auth_service.log_out(s, p))
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    flash(_("You are logged out."), "info")
    return redirect(url_for("web.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@limits.limited(limits.CREDENTIAL, methods=("POST",))
def password():
    """Change one's own password: every other page session and API token of the account ends,
    this session goes on."""
    if request.method == "GET":
        return render_template("account_password.html", errors={}, summary=None)
    current, new = request.form.get("current_password", ""), request.form.get("new_password", "")
    errors: dict[str, list[str]] = {}
    if not current:
        errors["current_password"] = [_("Enter your current password.")]
    if new != request.form.get("confirm_password", ""):
        errors["confirm_password"] = [_("The two new passwords differ.")]
    if not errors:
        try:
            session["epoch"] = auth_service.change_own_password(ctx(), principal(), current, new)
        except ApiError as exc:
            errors = errors_of(exc, "current_password" if exc.code in ("wrong_password", "account_locked")
                               else "new_password")
        else:
            flash(_("Your password is changed; your other sessions and API tokens have ended."), "success")
            return redirect(url_for("web.inbox"))
    return render_template("account_password.html", errors=errors, summary=len(errors)), 422


@bp.post("/lang")
def set_language():
    lang = request.form.get("lang", "")
    if lang in LANGUAGES:
        session["lang"] = lang
    return redirect(safe_next(request.form.get("next"), url_for("web.inbox")))
