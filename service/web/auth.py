"""Login, logout, one's own account and password, and the language switch.

The password check and the lockout are the service's (`auth.verify_credentials`, shared with
the API's token endpoint); this module only keeps the user id in the signed session cookie.
"""
from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, session, url_for

from .. import account as account_service
from .. import auth as auth_service
from ..errors import AccountLocked, ApiError, NotFound, Unauthorized
from . import bp, ctx, principal, safe_next
from .i18n import LANGUAGES, _
from .problems import errors_of


@bp.route("/login", methods=["GET", "POST"])
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
        return render_template("login.html", next=target, username=username,
                               error=_("Too many failed logins: the account is locked. Try again in %(minutes)s "
                                       "minutes.", minutes=settings.lockout_minutes)), 401
    except Unauthorized:
        error = _("Wrong username or password.")
        return render_template("login.html", next=target, username=username, error=error), 401
    lang = session.get("lang")
    session.clear()  # a fresh session on login: nothing from before survives but the language
    if lang:
        session["lang"] = lang
    session["uid"] = p.id
    session["epoch"] = p.session_epoch  # the generation this session belongs to (see auth.load_principal)
    session.permanent = True
    return redirect(target)


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


def _account_links() -> list[dict]:
    """The account's own settings pages, as the account page lists them: each with a line that
    says what it is for. A settings page of the account is linked by adding it here."""
    links = [("web.password", _("Change password"),
              _("Needs your current password; your other sessions and API tokens end."))]
    return [{"url": url_for(endpoint), "label": label, "hint": hint}
            for endpoint, label, hint in links if endpoint in current_app.view_functions]


@bp.get("/account/")
def account():
    """Who one is, one's API tokens with a revoke button each, and ending one's other sessions."""
    return render_template("account.html", account=account_service.overview(ctx(), principal()),
                           links=_account_links())


@bp.post("/account/tokens/<int:token_id>/revoke")
def revoke_token(token_id: int):
    try:
        account_service.revoke_token(ctx(), principal(), token_id, via="page")
    except NotFound:  # revoked already (another tab, a second click), or expired meanwhile
        flash(_("That API token had already ended."), "info")
    else:
        flash(_("The API token is revoked: it no longer works."), "success")
    return redirect(url_for("web.account"))


@bp.post("/account/sessions/end")
def end_other_sessions():
    """End every other page session of the account; this one goes on in the new generation."""
    session["epoch"] = account_service.end_other_sessions(ctx(), principal())
    flash(_("Your other sessions have ended; this one goes on."), "success")
    return redirect(url_for("web.account"))


@bp.route("/account/password", methods=["GET", "POST"])
def password():
    """Change one's own password: every other page session and API token of the account ends,
    this session goes on."""
    if request.method == "GET":
        return render_template("account_password.html", errors={}, summary=None,
                               password_history=auth_service.PASSWORD_HISTORY)
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
    return render_template("account_password.html", errors=errors, summary=len(errors),
                           password_history=auth_service.PASSWORD_HISTORY), 422


@bp.post("/lang")
def set_language():
    lang = request.form.get("lang", "")
    if lang in LANGUAGES:
        session["lang"] = lang
    return redirect(safe_next(request.form.get("next"), url_for("web.inbox")))
