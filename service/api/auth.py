from __future__ import annotations

from sqlalchemy import text

from .. import auth as auth_service
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
def issue_token():
    data = payload(TOKEN_REQUEST)
    c = ctx()
    settings = c.settings

    def work(s):
        return auth_service.login(s, data["username"], data["password"], c.now(), token_hours=settings.token_hours,
                                  max_attempts=settings.login_attempts, lockout_minutes=settings.lockout_minutes)

    token, p = c.db.transaction(work)
    return {"token": token, "user": p.as_json()}


@bp.get("/me")
def me():
    p = principal()
    body = p.as_json()
    body["portfolio"] = sorted(p.portfolio)
    return body
