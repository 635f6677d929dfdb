from __future__ import annotations

from flask import request
from sqlalchemy import text

from .. import account, limits, notices, totp
from .. import auth as auth_service
from . import bp, ctx, payload, principal

TOKEN_REQUEST = {
    "type": "object", "required": ["username", "password"], "additionalProperties": False,
    "properties": {"username": {"type": "string", "minLength": 1, "maxLength": 80},
                   "password": {"type": "string", "minLength": 1, "maxLength": 200},
                   # the authenticator app's code, for an account with two-step verification
                   "totp": {"type": "string", "maxLength": 20}},
}
TOTP_CONFIRM = {
    "type": "object", "required": ["code", "password"], "additionalProperties": False,
    "properties": {"code": {"type": "string", "minLength": 1, "maxLength": 20},
                   "password": {"type": "string", "minLength": 1, "maxLength": 200}},
}
TOTP_CODE = {
    "type": "object", "required": ["code"], "additionalProperties": False,
    "properties": {"code": {"type": "string", "minLength": 1, "maxLength": 20}},
}


@bp.get("/health")
def health():
    try:
        with ctx().db.read() as s:
            s.execute(text("SELECT 1"))
        return {"status": "ok", "database": "ok"}
    except Exception as exc:  # the health check reports, it does not raise
        return {"status": "degraded", "database": f"error: {exc.__class__.__name__}"}, 503


@bp.post("/auth/token")
@limits.limited(limits.LOGIN)
def issue_token():
    data = payload(TOKEN_REQUEST)
    token, p = auth_service.issue_token(ctx(), data["username"], data["password"], data.get("totp"))
    return {"token": token, "user": p.as_json(), "must_change_password": p.must_change_password}


PASSWORD_CHANGE = {
    "type": "object", "required": ["current_password", "new_password"], "additionalProperties": False,
    "properties": {"current_password": {"type": "string", "minLength": 1, "maxLength": 200},
                   "new_password": {"type": "string", "maxLength": 200}},
}


def _bearer() -> str:
    return request.headers.get("Authorization", "").partition(" ")[2].strip()


@bp.delete("/auth/token")
def revoke_token():
    """Log out: the token the request carries no longer works."""
    p = principal()
    ctx().db.transaction(lambda s: auth_service.revoke_token(s, _bearer(), p))
    return "", 204


@bp.post("/auth/password")
@limits.limited(limits.CREDENTIAL)
def change_password():
    """A new password for the caller; every other token and every page session of the account ends."""
    data = payload(PASSWORD_CHANGE)
    auth_service.change_own_password(ctx(), principal(), data["current_password"], data["new_password"],
                                     keep_token=_bearer())
    return "", 204


MY_PASSWORD = {
    "type": "object", "required": ["current", "new"], "additionalProperties": False,
    "properties": {"current": {"type": "string", "minLength": 1, "maxLength": 200},
                   "new": {"type": "string", "maxLength": 200}},
}


@bp.post("/me/password")
@limits.limited(limits.CREDENTIAL)
def change_my_password():
    """A new password for the caller (the way out of a temporary one); every other token and every
    page session of the account ends."""
    data = payload(MY_PASSWORD)
    auth_service.change_own_password(ctx(), principal(), data["current"], data["new"], keep_token=_bearer(),
                                     field="new")
    return "", 204


@bp.get("/me")
def me():
    p = principal()
    body = p.as_json()
    body["portfolio"] = sorted(p.portfolio)
    body["totp"] = totp.status(ctx(), p).as_json()
    with ctx().db.read() as s:
        body["unread_notices"] = notices.unread_count(s, p)
    return body


@bp.get("/me/tokens")
def my_tokens():
    """The caller's API tokens that still work (never their secrets); `current` marks this one."""
    c = ctx()
    return {"items": [t.as_json(c) for t in account.list_tokens(c, principal(), _bearer())]}


@bp.delete("/me/tokens/<int:token_id>")
def revoke_my_token(token_id):
    """End one of the caller's own tokens."""
    account.revoke_token(ctx(), principal(), token_id, via="api")
    return "", 204


@bp.post("/me/totp")
def start_totp():
    """Begin (or begin again) enrolling an authenticator app: a new secret, active once confirmed."""
    return totp.begin(ctx(), principal())


@bp.post("/me/totp/confirm")
@limits.limited(limits.CREDENTIAL)
def confirm_totp():
    data = payload(TOTP_CONFIRM)
    totp.confirm(ctx(), principal(), data["code"], data["password"])
    return "", 204


@bp.delete("/me/totp")
@limits.limited(limits.CREDENTIAL)
def disable_totp():
    totp.disable(ctx(), principal(), payload(TOTP_CODE)["code"])
    return "", 204
