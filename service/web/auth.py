"""Login (with a second step for an account with two-step verification), logout, one's own
account, password and second factor, and the language switch.

The password check and the lockout are the service's (`auth.verify_credentials`, shared with
the API's token endpoint); this module only keeps the user id in the signed session cookie.
"""
from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, session, url_for
from markupsafe import Markup

from .. import account as account_service
from .. import auth as auth_service
from .. import limits, otp
from .. import totp as totp_service
from ..errors import AccountLocked, ApiError, NotFound, TotpInvalid, TotpReplayed, TotpRequired, Unauthorized
from . import bp, ctx, principal, safe_next
from .i18n import LANGUAGES, _
from .problems import errors_of

# The pages' login in two steps for an account with a second factor: the password, then the code.
# Between them the session holds the name whose password was right, the account's session
# generation then, and when, for PENDING_SECONDS.
PENDING = "totp_login"
PENDING_SECONDS = 300


@bp.route("/login", methods=["GET", "POST"])
@limits.limited(limits.LOGIN, methods=("POST",))
def login():
    target = safe_next(request.values.get("next"), url_for("web.inbox"))
    if request.method == "GET":
        if session.get("uid") is not None:
            return redirect(target)
        session.pop(PENDING, None)  # back to the first step
        return _login_page(target)
    if request.form.get("step") == "code":
        return _second_step(target)
    username = request.form.get("username", "").strip()
    password = request.form.get("password", "")
    if not username or not password:
        return _login_page(target, username, _("Enter your username and password.")), 400
    try:
        p = auth_service.page_login(ctx(), username, password)
    except AccountLocked:
        return _login_page(target, username, _locked()), 401
    except TotpRequired as exc:
        session[PENDING] = {"username": username, "epoch": exc.params.get("epoch", 0), "at": ctx().now().timestamp()}
        return _login_page(target, username, step="code")
    except Unauthorized:
        return _login_page(target, username, _("Wrong username or password.")), 401
    return _logged_in(p, target)


def _second_step(target: str):
    """The code of an account whose password this browser proved in the first step."""
    pending = session.get(PENDING)
    if not pending or ctx().now().timestamp() - pending.get("at", 0) > PENDING_SECONDS:
        session.pop(PENDING, None)
        return _login_page(target, error=_("The login has expired. Enter your password again.")), 401
    username = pending["username"]
    code = request.form.get("code", "").strip()
    if not code:
        return _login_page(target, username, _("Enter the 6-digit code."), step="code"), 400
    try:
        p = auth_service.page_login_code(ctx(), username, code, pending.get("epoch", 0))
    except AccountLocked:
        session.pop(PENDING, None)
        return _login_page(target, username, _locked()), 401
    except TotpReplayed:
        error = _("This code has been used already. Wait for the next code and enter it.")
        return _login_page(target, username, error, step="code"), 401
    except TotpInvalid:
        error = _("The code is wrong. Check that your phone's time is correct and try again.")
        return _login_page(target, username, error, step="code"), 401
    except Unauthorized:
        session.pop(PENDING, None)
        return _login_page(target, username, _("The login has expired. Enter your password again.")), 401
    return _logged_in(p, target)


def _login_page(target: str, username: str = "", error: str | None = None, step: str = "password") -> str:
    return render_template("login.html", next=target, username=username, error=error, step=step)


def _locked() -> str:
    return _("Too many failed logins: the account is locked. Try again in %(minutes)s minutes.",
             minutes=ctx().settings.lockout_minutes)


def _logged_in(p, target: str):
    lang = session.get("lang")
    session.clear()  # a fresh session on login: nothing from before survives but the language
    if lang:
        session["lang"] = lang
    session["uid"] = p.id
    session["epoch"] = p.session_epoch  # the generation this session belongs to (see auth.load_principal)
    session["seen"] = int(ctx().now().timestamp())  # idle since (see web._load_principal)
    session.permanent = True
    if p.must_change_password:  # a temporary password: a password of one's own first
        return redirect(url_for("web.password"))
    return redirect(target)


def login_refused(error: str, status: int):
    """The login form again, at the step it was on, with what was refused (and the username given)."""
    target = safe_next(request.values.get("next"), url_for("web.inbox"))
    if request.form.get("step") == "code" and session.get(PENDING):
        return _login_page(target, session[PENDING]["username"], error, step="code"), status
    return _login_page(target, request.form.get("username", "").strip(), error), status


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
              _("Needs your current password; your other sessions and API tokens end.")),
             ("web.totp", _("Two-step verification"),
              _("A code from an authenticator app on your phone, asked for at each login after the password."))]
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
@limits.limited(limits.CREDENTIAL, methods=("POST",))
def password():
    """Change one's own password: every other page session and API token of the account ends,
    this session goes on."""
    forced = principal().must_change_password
    if request.method == "GET":
        return render_template("account_password.html", errors={}, forced=forced,
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
    return render_template("account_password.html", errors=errors, forced=forced,
                           password_history=auth_service.PASSWORD_HISTORY), 422


@bp.get("/account/two-step")
def totp():
    """Two-step verification: set up an authenticator app (QR code, or the secret typed in), confirm
    it with a code, or turn it off with a code."""
    return _totp_page(totp_service.status(ctx(), principal()))


@bp.post("/account/two-step/start")
def totp_start():
    totp_service.begin(ctx(), principal())
    return redirect(url_for("web.totp", _anchor="scan"))


@bp.post("/account/two-step/confirm")
@limits.limited(limits.CREDENTIAL)
def totp_confirm():
    code, password = request.form.get("code", "").strip(), request.form.get("password", "")
    errors = {"code": [_("Enter the 6-digit code.")]} if not code else {}
    if not password:
        errors["password"] = [_("Enter your current password.")]
    if not errors:
        try:
            totp_service.confirm(ctx(), principal(), code, password)
        except ApiError as exc:
            errors = errors_of(exc, "password" if exc.code in ("wrong_password", "account_locked") else "code")
        else:
            flash(_("Two-step verification is on: from now on you log in with your password and a code."), "success")
            return redirect(url_for("web.totp"))
    return _totp_page(totp_service.status(ctx(), principal()), errors), 422


@bp.post("/account/two-step/disable")
@limits.limited(limits.CREDENTIAL)
def totp_disable():
    code = request.form.get("code", "").strip()
    errors = {"code": [_("Enter the 6-digit code.")]} if not code else {}
    if not errors:
        try:
            totp_service.disable(ctx(), principal(), code)
        except ApiError as exc:
            errors = errors_of(exc, "code")
        else:
            flash(_("Two-step verification is off."), "info")
            return redirect(url_for("web.totp"))
    return _totp_page(totp_service.status(ctx(), principal()), errors), 422


def _totp_page(status: totp_service.Status, errors: dict[str, list[str]] | None = None) -> str:
    qr = otp.qr_svg(status.otpauth_uri, _("QR code to scan with your authenticator app")) if status.otpauth_uri else ""
    return render_template("account_totp.html", status=status, qr=Markup(qr), errors=errors or {})


@bp.post("/lang")
def set_language():
    lang = request.form.get("lang", "")
    if lang in LANGUAGES:
        session["lang"] = lang
    return redirect(safe_next(request.form.get("next"), url_for("web.inbox")))
