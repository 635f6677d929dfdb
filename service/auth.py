"""Who is asking: passwords (argon2), bearer tokens, lockout, and the principal a request carries."""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import or_, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from .errors import AccountLocked, Forbidden, Unauthorized
from .models import ApiToken, LoginThrottle, Unit, User

_hasher = PasswordHasher()
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
    return Principal(user.id, user.username, user.name, frozenset(user.roles), user.unit_id, portfolio)


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
    its guesses are all taken by attempts still running."""
    dialect = session.get_bind().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    session.execute(insert(LoginThrottle).values(name_sha256=key, failures=0).on_conflict_do_nothing())
    return session.execute(
        update(LoginThrottle)
        .where(LoginThrottle.name_sha256 == key, LoginThrottle.failures < max_attempts,
               or_(LoginThrottle.locked_until.is_(None), LoginThrottle.locked_until <= now))
        .values(failures=LoginThrottle.failures + 1, locked_until=None)
        .returning(LoginThrottle.failures)).scalar()


def login(session: Session, username: str, password: str, now: datetime, *, token_hours: int,
          max_attempts: int, lockout_minutes: int) -> tuple[str, Principal]:
    principal = verify_credentials(session, username, password, now, max_attempts=max_attempts,
                                   lockout_minutes=lockout_minutes)
    token = secrets.token_urlsafe(32)
    session.add(ApiToken(token_sha256=_digest(token), user_id=principal.id, created_at=now,
                         expires_at=now + timedelta(hours=token_hours)))
    return token, principal


def load_principal(session: Session, user_id: int) -> Principal | None:
    """The principal behind a web session; None once the account is gone or disabled."""
    user = session.get(User, user_id)
    return principal_for(session, user) if user is not None and user.active else None


def authenticate(session: Session, token: str, now: datetime) -> Principal:
    row = session.scalar(select(ApiToken).where(ApiToken.token_sha256 == _digest(token)))
    if row is None or row.expires_at <= now:
        raise Unauthorized("the token is unknown or has expired; log in again")
    user = session.get(User, row.user_id)
    if user is None or not user.active:
        raise Unauthorized("the account is disabled")
    return principal_for(session, user)


def _verify(hashed: str, password: str) -> bool:
    try:
        return _hasher.verify(hashed, password)
    except (VerificationError, InvalidHashError):
        return False


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
