"""Who is asking: passwords (argon2), bearer tokens, lockout, and the principal a request carries."""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, cast

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session

from . import audit
from .errors import AccountLocked, Forbidden, Unauthorized, Unprocessable
from .models import ApiToken, LoginThrottle, Unit, User

if TYPE_CHECKING:
    from .context import Context

_hasher = PasswordHasher()
MIN_PASSWORD_LENGTH = 10
# Compared against when the user does not exist, so both paths cost the same.
_DUMMY_HASH = _hasher.hash("not-a-password")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


@dataclass(frozen=True)
class Principal:
    id: int
    username: str
    name: str
    roles: frozenset[str]
    unit_id: int | None
    portfolio: frozenset[int]  # units whose leader in charge this user is
    session_epoch: int = 0  # the generation of page sessions the account is in (User.session_epoch)

    def has(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))

    def require(self, *roles: str) -> None:
        if not self.has(*roles):
            raise Forbidden(f"this needs one of the roles: {', '.join(roles)}", code="role_required", roles=list(roles))

    def as_json(self) -> dict:
        return {"id": self.id, "username": self.username, "name": self.name,
                "roles": sorted(self.roles), "unit_id": self.unit_id}


def principal_for(session: Session, user: User) -> Principal:
    portfolio = frozenset(session.scalars(select(Unit.id).where(Unit.leader_id == user.id)))
    return Principal(user.id, user.username, user.name, frozenset(user.roles), user.unit_id, portfolio,
                     user.session_epoch or 0)


def verify_credentials(session: Session, username: str, password: str, now: datetime, *,
                       max_attempts: int, lockout_minutes: int) -> Principal:
    """Check a password, counting failures towards a lockout; shared by the API and the web login.

    Each attempt first claims one of the allowed guesses in a single UPDATE and commits it, so
    however many attempts run at once, no more passwords are checked than the lockout allows. A
    username no account has is counted and locked the same way, and every answer, locked or not,
    costs one password check: neither the answer nor its time tells whether an account exists.
    """
    user = session.scalar(select(User).where(User.username == username))
    if user is not None and not user.active:
        user = None
    session.commit()  # the read ends here: the claim below is a write transaction of its own
    key = _digest(username)
    claimed = _claim_guess(session, key, now, max_attempts)
    session.commit()  # the guess counts even though the request may fail
    verified = _verify(user.password_hash if user is not None else _DUMMY_HASH, password)
    if claimed is None:
        raise AccountLocked("this account is locked after repeated failed logins; try again later")
    if user is None or not verified:
        if claimed >= max_attempts:
            session.execute(update(LoginThrottle).where(LoginThrottle.name_sha256 == key)
                            .values(failures=0, locked_until=now + timedelta(minutes=lockout_minutes)))
            session.commit()
            raise AccountLocked("too many failed logins: this account is locked for a while")
        raise Unauthorized("wrong username or password")
    session.execute(update(LoginThrottle).where(LoginThrottle.name_sha256 == key)
                    .values(failures=0, locked_until=None))
    return principal_for(session, user)


def _claim_guess(session: Session, key: str, now: datetime, max_attempts: int) -> int | None:
    """Count one more guess at this name and return the count, or None when the name is locked or
    its guesses are all taken by attempts still running. One statement: a row the sweep forgets
    (forget_idle_names) meanwhile is simply made again."""
    dialect = session.get_bind().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    claim = insert(LoginThrottle).values(name_sha256=key, failures=1, locked_until=None, last_attempt_at=now)
    claim = claim.on_conflict_do_update(
        index_elements=[LoginThrottle.name_sha256],
        set_={"failures": LoginThrottle.failures + 1, "locked_until": None, "last_attempt_at": now},
        where=and_(LoginThrottle.failures < max_attempts,
                   or_(LoginThrottle.locked_until.is_(None), LoginThrottle.locked_until <= now)))
    return session.execute(claim.returning(LoginThrottle.failures)).scalar()


def forget_idle_names(session: Session, now: datetime, lockout_minutes: int) -> int:
    """Delete what login_throttle keeps about names nobody has tried for the lockout window and that
    are not locked: a name's failures count towards a lockout while each comes within that window
    of the one before, so that many names tried once each (a username spray) are forgotten and the
    table stays as large as the last window's guesses. Run by the periodic sweep; returns how many
    names were forgotten."""
    idle_since = now - timedelta(minutes=lockout_minutes)
    forgotten = session.execute(delete(LoginThrottle).where(
        or_(LoginThrottle.last_attempt_at.is_(None), LoginThrottle.last_attempt_at <= idle_since),
        or_(LoginThrottle.locked_until.is_(None), LoginThrottle.locked_until <= now)))
    return cast(CursorResult, forgotten).rowcount


def login(session: Session, username: str, password: str, now: datetime, *, token_hours: int,
          max_attempts: int, lockout_minutes: int) -> tuple[str, Principal]:
    principal = verify_credentials(session, username, password, now, max_attempts=max_attempts,
                                   lockout_minutes=lockout_minutes)
    return new_token(session, principal.id, now, token_hours), principal


def new_token(session: Session, user_id: int, now: datetime, hours: int) -> str:
    """A bearer token for the account; only its SHA-256 is stored."""
    token = secrets.token_urlsafe(32)
    session.add(ApiToken(token_sha256=_digest(token), user_id=user_id, created_at=now,
                         expires_at=now + timedelta(hours=hours)))
    return token


def page_login(ctx: Context, username: str, password: str) -> Principal:
    """A login to the pages: recorded in the audit log, and so is a refused one."""
    settings = ctx.settings

    def work(s: Session) -> Principal:
        p = verify_credentials(s, username, password, ctx.now(), max_attempts=settings.login_attempts,
                               lockout_minutes=settings.lockout_minutes)
        audit.record(s, "login", p, f"user:{p.username}")
        return p

    with audit.refusals(ctx.db, "login_failed", None, f"user:{username}"):
        return ctx.db.transaction(work)


def issue_token(ctx: Context, username: str, password: str) -> tuple[str, Principal]:
    """An API token for a proven password: recorded in the audit log, and so is a refused request."""
    settings = ctx.settings

    def work(s: Session) -> tuple[str, Principal]:
        token, p = login(s, username, password, ctx.now(), token_hours=settings.token_hours,
                         max_attempts=settings.login_attempts, lockout_minutes=settings.lockout_minutes)
        audit.record(s, "token_issued", p, f"user:{p.username}")
        return token, p

    with audit.refusals(ctx.db, "token_refused", None, f"user:{username}"):
        return ctx.db.transaction(work)


def change_own_password(ctx: Context, p: Principal, current: str, new: str, keep_token: str | None = None) -> int:
    """`change_password` in a transaction of its own, recorded in the audit log; a wrong current
    password is recorded as refused."""
    settings = ctx.settings
    with audit.refusals(ctx.db, "password_change_refused", p, f"user:{p.username}"):
        return ctx.db.transaction(lambda s: change_password(
            s, p, current, new, ctx.now(), max_attempts=settings.login_attempts,
            lockout_minutes=settings.lockout_minutes, keep_token=keep_token))


def load_principal(session: Session, user_id: int, epoch: int = 0) -> Principal | None:
    """The principal behind a web session; None once the account is gone or disabled, or once the
    session's generation has ended (a logout, a password change)."""
    user = session.get(User, user_id)
    if user is None or not user.active or (user.session_epoch or 0) != epoch:
        return None
    return principal_for(session, user)


def authenticate(session: Session, token: str, now: datetime) -> Principal:
    row = session.scalar(select(ApiToken).where(ApiToken.token_sha256 == _digest(token)))
    if row is None or row.expires_at <= now:
        raise Unauthorized("the token is unknown or has expired; log in again")
    user = session.get(User, row.user_id)
    if user is None or not user.active:
        raise Unauthorized("the account is disabled")
    return principal_for(session, user)


def end_page_sessions(session: Session, user_id: int) -> int:
    """End every page session of the account (a logout: a captured cookie no longer works); the
    generation new sessions begin in is returned."""
    return session.execute(update(User).where(User.id == user_id)
                           .values(session_epoch=func.coalesce(User.session_epoch, 0) + 1)
                           .returning(User.session_epoch)).scalar_one()


def log_out(session: Session, p: Principal) -> int:
    """A logout from the pages: every page session of the account ends (see end_page_sessions)."""
    epoch = end_page_sessions(session, p.id)
    audit.record(session, "logout", p, f"user:{p.username}")
    return epoch


def revoke_token(session: Session, token: str, p: Principal | None = None) -> None:
    """A logout from the API: the token no longer works."""
    session.execute(delete(ApiToken).where(ApiToken.token_sha256 == _digest(token)))
    if p is not None:
        audit.record(session, "token_revoked", p, f"user:{p.username}")


def change_password(session: Session, p: Principal, current: str, new: str, now: datetime, *,
                    max_attempts: int, lockout_minutes: int, keep_token: str | None = None) -> int:
    """Set a new password once the current one is proven (counted towards the lockout like a login).
    Every page session and every token of the account ends, except the token the change came
    with; the generation a page session must now carry is returned."""
    if len(new) < MIN_PASSWORD_LENGTH:
        raise Unprocessable.on_field("new_password", "password_too_short", f"at least {MIN_PASSWORD_LENGTH} characters",
                                     "the new password is too short", limit=MIN_PASSWORD_LENGTH)
    try:
        verify_credentials(session, p.username, current, now, max_attempts=max_attempts,
                           lockout_minutes=lockout_minutes)
    except AccountLocked:
        raise
    except Unauthorized:
        raise Forbidden("the current password is wrong", code="wrong_password") from None
    session.execute(update(User).where(User.id == p.id).values(password_hash=hash_password(new)))
    kept = [ApiToken.token_sha256 != _digest(keep_token)] if keep_token else []
    session.execute(delete(ApiToken).where(ApiToken.user_id == p.id, *kept))
    epoch = end_page_sessions(session, p.id)
    audit.record(session, "password_changed", p, f"user:{p.username}")
    return epoch


def _verify(hashed: str, password: str) -> bool:
    try:
        return _hasher.verify(hashed, password)
    except (VerificationError, InvalidHashError):
        return False


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
