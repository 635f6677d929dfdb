from __future__ import annotations

from flask import request
from sqlalchemy import text

from .. import auth as auth_service
from .. import limits
from . import bp, ctx, payload, principal

TOKEN_REQUEST = {
    "type": "object", "required": ["username", "password"], "additionalProperties": False,
    "properties": {"username": {"type": "string", "minLength": 1, "maxLength": 80},
                   "password": {"type": "string", "minLength": 1, "maxLength": 200}},
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
    token, p = auth_service.issue_token(ctx(), data["username"], data["password"])
    return {"token": token, "user": p.as_json()}


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


@bp.get("/me")
def me():
    p = principal()
    body = p.as_json()
    body["portfolio"] = sorted(p.portfolio)
    return body
