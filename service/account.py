"""One's own account: who one is, one's API tokens and one's page sessions (GB/T 22239
identification: a person sees the credentials issued to them and can end them).

Every function acts for the principal alone: tokens are found through `access.own_token_scope`,
so another person's token id is not found, whoever asks. A token's secret is never shown again
after it was issued; only its SHA-256 is stored."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import delete, exists, select
from sqlalchemy.orm import Session

from . import access, audit, auth
from .errors import NotFound
from .models import ApiToken, Unit, User
from .validation import MAX_INT

if TYPE_CHECKING:
    from .auth import Principal
    from .context import Context


@dataclass(frozen=True)
class Token:
    id: int
    created_at: datetime
    expires_at: datetime
    last_used_at: datetime | None  # to within auth.TOKEN_USE_PRECISION
    current: bool  # the token the request came with

    def as_json(self, ctx: Context) -> dict:
        return {"id": self.id, "created_at": ctx.local_iso(self.created_at),
                "expires_at": ctx.local_iso(self.expires_at),
                "last_used_at": ctx.local_iso(self.last_used_at) if self.last_used_at else None,
                "current": self.current}


@dataclass(frozen=True)
class Account:
    username: str
    name: str
    unit_name: str | None
    roles: list[str]  # role codes, sorted
    tokens: list[Token]


def _tokens(s: Session, p: Principal, now: datetime, current_token: str | None) -> list[Token]:
    """The principal's tokens that still work, newest first; expired ones are not listed."""
    current = auth.token_sha256(current_token) if current_token else None
    rows = s.scalars(select(ApiToken).where(access.own_token_scope(p), ApiToken.expires_at > now)
                     .order_by(ApiToken.created_at.desc(), ApiToken.id.desc()))
    return [Token(t.id, t.created_at, t.expires_at, t.last_used_at, t.token_sha256 == current) for t in rows]


def list_tokens(ctx: Context, p: Principal, current_token: str | None = None) -> list[Token]:
    with ctx.db.read() as s:
        return _tokens(s, p, ctx.now(), current_token)


def overview(ctx: Context, p: Principal) -> Account:
    """The account page: who the principal is, and their tokens."""
    with ctx.db.read() as s:
        user = s.get(User, p.id)
        assert user is not None  # the principal was loaded from it for this request
        unit = s.scalar(select(Unit.name).where(Unit.id == user.unit_id)) if user.unit_id is not None else None
        return Account(user.username, user.name, unit, sorted(user.roles or []), _tokens(s, p, ctx.now(), None))


def revoke_token(ctx: Context, p: Principal, token_id: int, *, via: str) -> None:
    """End one of the principal's own tokens (listed by `list_tokens`); any other id, another
    person's or an expired one, is not found. Recorded in the audit log."""
    now = ctx.now()

    def work(s: Session) -> None:
        gone = None
        if 0 < token_id <= MAX_INT:
            gone = s.execute(delete(ApiToken).where(ApiToken.id == token_id, access.own_token_scope(p),
                                                    ApiToken.expires_at > now)
                             .returning(ApiToken.id)).scalar()
        if gone is None:
            raise NotFound(f"you have no API token {token_id}")
        audit.record(s, "token_revoked", p, f"user:{p.username}", detail={"token_id": token_id, "via": via})

    ctx.db.transaction(work)


def end_other_sessions(ctx: Context, p: Principal) -> int:
    """End every page session of the account, recorded in the audit log; the generation the
    session that asked must now carry (to go on) is returned. API tokens are not touched: they
    are revoked one by one."""

    def work(s: Session) -> int:
        epoch = auth.end_page_sessions(s, p.id)
        audit.record(s, "sessions_ended", p, f"user:{p.username}")
        return epoch

    return ctx.db.transaction(work)


def prune_expired_tokens(ctx: Context) -> int:
    """Delete the tokens that have expired (they no longer work and are not listed); how many
    went is returned. Only writes when there is something to delete."""
    now = ctx.now()
    with ctx.db.read() as s:
        if not s.scalar(select(exists().where(ApiToken.expires_at <= now))):
            return 0
    return ctx.db.transaction(lambda s: len(s.execute(
        delete(ApiToken).where(ApiToken.expires_at <= now).returning(ApiToken.id)).all()))
