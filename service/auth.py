"""Who is asking: passwords (argon2), bearer tokens, lockout, and the principal a request carries."""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from .errors import AccountLocked, Forbidden, Unauthorized
from .models import ApiToken, Unit, User

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
    """Check a password, counting failures towards a lockout; shared by the API and the web login."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None or not user.active:
        _verify(_DUMMY_HASH, password)
        raise Unauthorized("wrong username or password")
    if user.locked_until is not None and user.locked_until > now:
        raise AccountLocked("this account is locked after repeated failed logins; try again later")
    if not _verify(user.password_hash, password):
        # counted in the database, so parallel guesses cannot overwrite each other's count
        session.execute(update(User).where(User.id == user.id).values(failed_logins=User.failed_logins + 1))
        session.refresh(user)
        locked = user.failed_logins >= max_attempts
        if locked:
            user.locked_until = now + timedelta(minutes=lockout_minutes)
            user.failed_logins = 0
        session.commit()  # the failure must count even though the request fails
        if locked:
            raise AccountLocked("too many failed logins: this account is locked for a while")
        raise Unauthorized("wrong username or password")
    user.failed_logins = 0
    user.locked_until = None
    return principal_for(session, user)


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
