"""Who is asking: passwords (argon2), bearer tokens, lockout, and the principal a request carries."""
from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, NoReturn, cast

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session

from . import audit, otp
from .db import Conflict as RetryConflict
from .errors import AccountLocked, Forbidden, TotpInvalid, TotpReplayed, TotpRequired, Unauthorized, Unprocessable
from .models import ApiToken, LoginThrottle, PasswordHistory, TotpFactor, Unit, User

if TYPE_CHECKING:
    from .context import Context

log = logging.getLogger(__name__)

_hasher = PasswordHasher()
MIN_PASSWORD_LENGTH = 10
# A new password may not be any of the account's last this many (the current one included).
PASSWORD_HISTORY = 5
# A token's last use is noted to within this much: a token in steady use costs one write per
# this interval, not one per request.
TOKEN_USE_PRECISION = timedelta(minutes=5)
# Compared against when the user does not exist, so both paths cost the same: an argon2 hash made
# with _hasher's parameters (written out, so that importing this module costs no hashing;
# tests/test_login_security.py checks the parameters are still the hasher's).
_DUMMY_HASH = "$argon2id$v=19$m=65536,t=3,p=4$gO9R84POAVUZdkyeIBmX3Q$5WO29Y+GYSZ7E0G2ceWwRxLeuYibEGqjji4gZIP3aOY"


def hash_password(password: str) -> str:
    return _hasher.hash(password)


# The password policy: at least MIN_PASSWORD_LENGTH characters of at least PASSWORD_CLASSES of the
# four classes below. Every password a person sets meets it (a change, `rectiflow create-admin`);
# the temporary ones an administrator hands out (`temporary_password`) are made to meet it.
PASSWORD_CLASSES = 3


def password_classes(password: str) -> int:
    """How many of the classes a password draws on: lower-case, upper-case, digits, anything else."""
    return sum((any(c.islower() for c in password), any(c.isupper() for c in password),
                any(c.isdigit() for c in password), any(not c.isalnum() for c in password)))


def check_password_policy(password: str, field: str = "new_password") -> None:
    """Refuse a password the policy does not allow, naming `field`: `password_too_short`, or
    `password_weak` when it draws on fewer than PASSWORD_CLASSES classes of characters."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise Unprocessable.on_field(field, "password_too_short", f"at least {MIN_PASSWORD_LENGTH} characters",
                                     "the password is too short", limit=MIN_PASSWORD_LENGTH)
    if password_classes(password) < PASSWORD_CLASSES:
        raise Unprocessable.on_field(field, "password_weak",
                                     f"at least {PASSWORD_CLASSES} of: lower-case letters, upper-case letters, "
                                     "digits, other characters", "the password is too weak",
                                     limit=PASSWORD_CLASSES)


_TEMPORARY_ALPHABETS = ("abcdefghijkmnpqrstuvwxyz", "ABCDEFGHJKLMNPQRSTUVWXYZ", "23456789")


def temporary_password(length: int = 12) -> str:
    """A random password an administrator hands out once; it meets the policy (each of three
    classes at least twice), and has no characters easily mistaken for each other."""
    chars = [secrets.choice(alphabet) for alphabet in _TEMPORARY_ALPHABETS for _ in range(2)]
    every = "".join(_TEMPORARY_ALPHABETS)
    chars += [secrets.choice(every) for _ in range(length - len(chars))]
    secrets.SystemRandom().shuffle(chars)
    return "".join(chars)


@dataclass(frozen=True)
class Principal:
    id: int
    username: str
    name: str
    roles: frozenset[str]
    unit_id: int | None
    portfolio: frozenset[int]  # units whose leader in charge this user is
    session_epoch: int = 0  # the generation of page sessions the account is in (User.session_epoch)
    must_change_password: bool = False  # a temporary password: nothing but changing it (User.must_change_password)

    def has(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))

    def require(self, *roles: str) -> None:
        if not self.has(*roles):
            raise Forbidden(f"this needs one of the roles: {', '.join(roles)}", code="role_required", roles=list(roles))

    def as_json(self) -> dict:
        return {"id": self.id, "username": self.username, "name": self.name,
                "roles": sorted(self.roles), "unit_id": self.unit_id}


def principal_for(session: Session, user: User) -> Principal:
    """The portfolio is read only for a leader in charge: no one else's rights depend on it."""
    portfolio = frozenset(session.scalars(select(Unit.id).where(Unit.leader_id == user.id))) \
        if "leader" in user.roles else frozenset()
    return Principal(user.id, user.username, user.name, frozenset(user.roles), user.unit_id, portfolio,
                     user.session_epoch or 0, bool(user.must_change_password))


def verify_credentials(session: Session, username: str, password: str, now: datetime, *,
                       max_attempts: int, lockout_minutes: int, code: str | None = None,
                       second_factor: bool = True) -> Principal:
    """Check a password, and the one-time code of an account with a second factor, counting
    failures towards a lockout; shared by the API and the web login.

    Each attempt first claims one of the allowed guesses in a single UPDATE and commits it, so
    however many attempts run at once, no more passwords are checked than the lockout allows. A
    username no account has is counted and locked the same way, and every answer, locked or not,
    costs one password check: neither the answer nor its time tells whether an account exists.

    An account with an active factor (`TotpFactor`) needs a code: none, and the right password is
    answered `totp_required`; with one, the password and the code are both checked before the
    answer, which is the same (`totp_invalid`) whichever of the two was wrong. A code of a step the
    account used already is `totp_replayed` (only someone who saw that code can get this answer).
    A code sent for an account without a factor is ignored when the password is right and answered
    as a wrong one when it is not, so an answer does not tell which accounts have a factor. Every
    refusal is one guess, as a wrong password is. `second_factor=False` checks the password alone
    (someone logged in already, proving it again to change it).
    """
    user = session.scalar(select(User).where(User.username == username))
    if user is not None and not user.active:
        user = None
    factor = session.get(TotpFactor, user.id) if user is not None and second_factor else None
    if factor is not None and not factor.active:
        factor = None  # an enrolment not yet confirmed asks for nothing
    session.commit()  # the read ends here: the claim below is a write transaction of its own
    key = throttle_key(username)
    claimed = _claim_guess(session, key, now, max_attempts)
    session.commit()  # the guess counts even though the request may fail
    verified = _verify(user.password_hash if user is not None else _DUMMY_HASH, password)
    code = otp.normalise(code) or None
    checked = None if code is None else otp.check(
        factor.secret if factor is not None else otp.DUMMY_SECRET, code, now,
        factor.last_step if factor is not None else None)
    if claimed is None:
        raise AccountLocked("this account is locked after repeated failed logins; try again later")
    password_ok = user is not None and verified
    refusal: Unauthorized | None = None
    if checked is None:
        if user is None or not verified:
            refusal = Unauthorized("wrong username or password")
        elif factor is not None:
            refusal = TotpRequired('this account has two-step verification: send "totp", the code from its '
                                   "authenticator app, with the password", epoch=user.session_epoch or 0)
    elif factor is not None and checked.outcome is otp.Outcome.REPLAYED:
        refusal = TotpReplayed("this code was used already; wait for the next one")
    elif not password_ok or (factor is not None and not checked.ok):
        refusal = TotpInvalid("wrong username, password or code")
    if refusal is not None:
        _refuse(session, key, now, claimed, max_attempts, lockout_minutes, refusal)
    assert user is not None
    if factor is not None and checked is not None:
        _take_step(session, key, now, claimed, max_attempts, lockout_minutes, factor, checked)
    _clear_guesses(session, key)
    return principal_for(session, user)


def verify_code(session: Session, username: str, code: str, now: datetime, *, epoch: int,
                max_attempts: int, lockout_minutes: int) -> Principal:
    """A one-time code alone, from someone whose password is proven: the pages' second step of a
    login (`epoch` is the account's session generation when the password was checked, so a
    password change in between ends it), or a logged-in user turning the factor off. Counted
    towards the lockout as `verify_credentials` counts, one guess per code."""
    user = session.scalar(select(User).where(User.username == username))
    factor = session.get(TotpFactor, user.id) if user is not None else None
    session.commit()
    key = _digest(username)
    claimed = _claim_guess(session, key, now, max_attempts)
    session.commit()
    if claimed is None:
        raise AccountLocked("this account is locked after repeated failed logins; try again later")
    if user is None or not user.active or (user.session_epoch or 0) != epoch or factor is None or not factor.active:
        _refuse(session, key, now, claimed, max_attempts, lockout_minutes,
                Unauthorized("the login has ended; enter the password again"))
    assert user is not None and factor is not None
    checked = otp.check(factor.secret, code, now, factor.last_step)
    if checked.outcome is otp.Outcome.REPLAYED:
        _refuse(session, key, now, claimed, max_attempts, lockout_minutes,
                TotpReplayed("this code was used already; wait for the next one"))
    if not checked.ok:
        _refuse(session, key, now, claimed, max_attempts, lockout_minutes, TotpInvalid("the code is wrong"))
    _take_step(session, key, now, claimed, max_attempts, lockout_minutes, factor, checked)
    _clear_guesses(session, key)
    return principal_for(session, user)


def _refuse(session: Session, key: str, now: datetime, claimed: int, max_attempts: int, lockout_minutes: int,
            refusal: Unauthorized) -> NoReturn:
    """A failed guess: the refusal, or, when it was the last guess allowed, the lockout."""
    if claimed >= max_attempts:
        session.execute(update(LoginThrottle).where(LoginThrottle.name_sha256 == key)
                        .values(failures=0, locked_until=now + timedelta(minutes=lockout_minutes)))
        session.commit()
        raise AccountLocked("too many failed logins: this account is locked for a while")
    raise refusal


def _take_step(session: Session, key: str, now: datetime, claimed: int, max_attempts: int, lockout_minutes: int,
               factor: TotpFactor, checked: otp.Check) -> None:
    """Mark the code's time step used, unless a login running at the same time used it (or a later
    one) first: then this one is a replay."""
    taken = session.execute(
        update(TotpFactor)
        .where(TotpFactor.user_id == factor.user_id,
               or_(TotpFactor.last_step.is_(None), TotpFactor.last_step < checked.step))
        .values(last_step=checked.step)
        .returning(TotpFactor.user_id)).first()
    if taken is None:
        _refuse(session, key, now, claimed, max_attempts, lockout_minutes,
                TotpReplayed("this code was used already; wait for the next one"))


def _clear_guesses(session: Session, key: str) -> None:
    session.execute(update(LoginThrottle).where(LoginThrottle.name_sha256 == key)
                    .values(failures=0, locked_until=None))


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
          max_attempts: int, lockout_minutes: int, code: str | None = None) -> tuple[str, Principal]:
    principal = verify_credentials(session, username, password, now, max_attempts=max_attempts,
                                   lockout_minutes=lockout_minutes, code=code)
    return new_token(session, principal.id, now, token_hours), principal


def new_token(session: Session, user_id: int, now: datetime, hours: int) -> str:
    """A bearer token for the account; only its SHA-256 is stored."""
    token = secrets.token_urlsafe(32)
    session.add(ApiToken(token_sha256=_digest(token), user_id=user_id, created_at=now,
                         expires_at=now + timedelta(hours=hours)))
    return token


def page_login(ctx: Context, username: str, password: str, code: str | None = None) -> Principal:
    """A login to the pages: recorded in the audit log, and so is a refused one (with its code:
    a wrong password, a missing, wrong or replayed one-time code, a lockout)."""
    settings = ctx.settings

    def work(s: Session) -> Principal:
        p = verify_credentials(s, username, password, ctx.now(), max_attempts=settings.login_attempts,
                               lockout_minutes=settings.lockout_minutes, code=code)
        audit.record(s, "login", p, f"user:{p.username}")
        return p

    with audit.refusals(ctx.db, "login_failed", None, f"user:{username}"):
        return ctx.db.transaction(work)


def page_login_code(ctx: Context, username: str, code: str, epoch: int) -> Principal:
    """The second step of a login to the pages (see `verify_code`), recorded as `page_login` is."""
    settings = ctx.settings

    def work(s: Session) -> Principal:
        p = verify_code(s, username, code, ctx.now(), epoch=epoch, max_attempts=settings.login_attempts,
                               lockout_minutes=settings.lockout_minutes)
        audit.record(s, "login", p, f"user:{p.username}")
        return p

    with audit.refusals(ctx.db, "login_failed", None, f"user:{username}"):
        return ctx.db.transaction(work)


def issue_token(ctx: Context, username: str, password: str, code: str | None = None) -> tuple[str, Principal]:
    """An API token for a proven password (and one-time code, where the account has a second
    factor): recorded in the audit log, and so is a refused request."""
    settings = ctx.settings

    def work(s: Session) -> tuple[str, Principal]:
        token, p = login(s, username, password, ctx.now(), token_hours=settings.token_hours,
                         max_attempts=settings.login_attempts, lockout_minutes=settings.lockout_minutes, code=code)
        audit.record(s, "token_issued", p, f"user:{p.username}")
        return token, p

    with audit.refusals(ctx.db, "token_refused", None, f"user:{username}"):
        return ctx.db.transaction(work)


def change_own_password(ctx: Context, p: Principal, current: str, new: str, keep_token: str | None = None,
                        field: str = "new_password") -> int:
    """`change_password` in a transaction of its own, recorded in the audit log; a wrong current
    password is recorded as refused."""
    settings = ctx.settings
    with audit.refusals(ctx.db, "password_change_refused", p, f"user:{p.username}"):
        return ctx.db.transaction(lambda s: change_password(
            s, p, current, new, ctx.now(), max_attempts=settings.login_attempts,
            lockout_minutes=settings.lockout_minutes, keep_token=keep_token, field=field))


def load_principal(session: Session, user_id: int, epoch: int = 0) -> Principal | None:
    """The principal behind a web session; None once the account is gone or disabled, or once the
    session's generation has ended (a logout, a password change)."""
    user = session.get(User, user_id)
    if user is None or not user.active or (user.session_epoch or 0) != epoch:
        return None
    return principal_for(session, user)


def authenticate(ctx: Context, token: str) -> Principal:
    """The principal a bearer token stands for; its last use is noted, at most once per
    TOKEN_USE_PRECISION, in a transaction of its own (most requests write nothing)."""
    now = ctx.now()
    with ctx.db.read() as s:
        row, user = _live_token(s, token, now)
        p = principal_for(s, user)
    if row.last_used_at is None or row.last_used_at <= now - TOKEN_USE_PRECISION:
        try:
            ctx.db.transaction(lambda s: note_token_use(s, row.id, now))
        except RetryConflict:  # the database is busy: the use is noted by the next request instead
            log.warning("could not note the use of API token %s", row.id)
    return p


def note_token_use(session: Session, token_id: int, now: datetime) -> None:
    """Note that the token let a request in, unless that was noted less than TOKEN_USE_PRECISION
    ago (requests that race here write once)."""
    session.execute(update(ApiToken).where(
        ApiToken.id == token_id,
        or_(ApiToken.last_used_at.is_(None), ApiToken.last_used_at <= now - TOKEN_USE_PRECISION),
    ).values(last_used_at=now))


def _live_token(session: Session, token: str, now: datetime) -> tuple[ApiToken, User]:
    """The token and its account, read together: every API request starts here."""
    found = session.execute(select(ApiToken, User).join(User, User.id == ApiToken.user_id)
                            .where(ApiToken.token_sha256 == _digest(token))).first()
    if found is None or found[0].expires_at <= now:
        raise Unauthorized("the token is unknown or has expired; log in again")
    if not found[1].active:
        raise Unauthorized("the account is disabled")
    return found[0], found[1]


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


def prove_password(session: Session, p: Principal, password: str, now: datetime, *,
                   max_attempts: int, lockout_minutes: int) -> None:
    """The account's own password again, before a change to how it logs in (counted towards the
    lockout like a login): a session left open is not enough to change them."""
    try:
        verify_credentials(session, p.username, password, now, max_attempts=max_attempts,
                           lockout_minutes=lockout_minutes, second_factor=False)
    except AccountLocked:
        raise
    except Unauthorized:
        raise Forbidden("the current password is wrong", code="wrong_password") from None
    session.commit()  # the proven password clears the failed-login count, whether or not the change goes on


def change_password(session: Session, p: Principal, current: str, new: str, now: datetime, *,
                    max_attempts: int, lockout_minutes: int, keep_token: str | None = None,
                    field: str = "new_password") -> int:
    """Set a new password once the current one is proven (counted towards the lockout like a login).
    The new password may not be one of the account's last PASSWORD_HISTORY passwords. Every page
    session and every token of the account ends, except the token the change came with; the
    generation a page session must now carry is returned."""
    check_password_policy(new, field)
    prove_password(session, p, current, now, max_attempts=max_attempts, lockout_minutes=lockout_minutes)
    user = session.get(User, p.id)
    assert user is not None  # verify_credentials found it
    if any(_verify(hashed, new) for hashed in recent_passwords(session, user)):
        raise Unprocessable.on_field(field, "password_reused",
                                     f"not one of the last {PASSWORD_HISTORY} passwords",
                                     f"the new password is one of the account's last {PASSWORD_HISTORY}",
                                     limit=PASSWORD_HISTORY)
    hashed = hash_password(new)
    _remember_password(session, user, hashed, now)
    session.execute(update(User).where(User.id == p.id).values(password_hash=hashed, must_change_password=False))
    kept = [ApiToken.token_sha256 != _digest(keep_token)] if keep_token else []
    session.execute(delete(ApiToken).where(ApiToken.user_id == p.id, *kept))
    epoch = end_page_sessions(session, p.id)
    audit.record(session, "password_changed", p, f"user:{p.username}")
    return epoch


def recent_passwords(session: Session, user: User) -> list[str]:
    """The hashes of the account's last PASSWORD_HISTORY passwords, newest first: the current one
    (wherever it was set: also by an administrator, or before passwords were kept) and those kept
    in PasswordHistory."""
    hashes = [user.password_hash]
    kept = session.scalars(select(PasswordHistory.hash).where(PasswordHistory.user_id == user.id)
                           .order_by(PasswordHistory.id.desc()).limit(PASSWORD_HISTORY))
    hashes += [h for h in kept if h != user.password_hash]
    return hashes[:PASSWORD_HISTORY]


def _remember_password(session: Session, user: User, hashed: str, now: datetime) -> None:
    """Keep the new password's hash, and the current one's if it is not kept yet; only the
    account's last PASSWORD_HISTORY stay."""
    kept = set(session.scalars(select(PasswordHistory.hash).where(PasswordHistory.user_id == user.id)))
    if user.password_hash not in kept:
        session.add(PasswordHistory(user_id=user.id, hash=user.password_hash, changed_at=None))
    session.add(PasswordHistory(user_id=user.id, hash=hashed, changed_at=now))
    session.flush()
    older = session.scalars(select(PasswordHistory.id).where(PasswordHistory.user_id == user.id)
                            .order_by(PasswordHistory.id.desc()).offset(PASSWORD_HISTORY)).all()
    if older:
        session.execute(delete(PasswordHistory).where(PasswordHistory.id.in_(older)))


def _verify(hashed: str, password: str) -> bool:
    try:
        return _hasher.verify(hashed, password)
    except (VerificationError, InvalidHashError):
        return False


def throttle_key(username: str) -> str:
    """The login_throttle row of a username tried (its SHA-256: any text fits, none is stored)."""
    return _digest(username)


def token_sha256(token: str) -> str:
    """What is stored of a token, and looked up: its SHA-256, never the token."""
    return _digest(token)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
