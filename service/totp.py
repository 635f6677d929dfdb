"""An account's second factor (TOTP, `service.otp`): enrolling an authenticator app, confirming
it with a code, turning it off with a code, and the gate that keeps an account whose role needs a
factor (`access.needs_second_factor`) out of everything else until it has one.

A factor is pending from `begin` until a code confirms it, and asks for nothing at login until
then; beginning again replaces a pending secret, never an active one (turning that off needs a
code, or an operator's `rectiflow totp-reset` for a lost phone). Logins check the codes
(`auth.verify_credentials`). Each change is on the audit log.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from . import access, audit, auth, otp
from .auth import Principal, verify_code
from .errors import Conflict, Forbidden, TotpInvalid, TotpReplayed, Unprocessable
from .models import TotpFactor, User

if TYPE_CHECKING:
    from config import Settings

    from .context import Context


@dataclass(frozen=True)
class Status:
    state: str                       # "off", "pending" (begun, not confirmed) or "on"
    required: bool                   # the account's roles need a factor (under the policy)
    secret: str | None = None        # while pending: to type into the app by hand
    otpauth_uri: str | None = None   # while pending: what the app scans
    enabled_at: datetime | None = None

    def as_json(self) -> dict:
        return {"state": self.state, "required": self.required}


def status(ctx: Context, p: Principal) -> Status:
    with ctx.db.read() as s:
        factor = s.get(TotpFactor, p.id)
    required = access.needs_second_factor(p, ctx.settings.totp_required)
    if factor is None:
        return Status("off", required)
    if factor.active:
        return Status("on", required, enabled_at=factor.enabled_at)
    return Status("pending", required, factor.secret, otp.provisioning_uri(factor.secret, p.username))


def begin(ctx: Context, p: Principal) -> dict:
    """A new secret for the account, pending until confirmed: `{"otpauth_uri", "secret"}`.
    A pending one is replaced; an active one stays (turn it off first)."""
    now = ctx.now()

    def work(s: Session) -> dict:
        factor = s.get(TotpFactor, p.id)
        if factor is not None and factor.active:
            raise Conflict("two-step verification is on already; turn it off (with a code) before enrolling again",
                           code="totp_already_enabled")
        secret = otp.new_secret()
        if factor is None:
            s.add(TotpFactor(user_id=p.id, secret=secret, active=False, created_at=now))
        else:
            factor.secret, factor.last_step, factor.created_at = secret, None, now
        s.flush()
        audit.record(s, "totp_enrolment_started", p, f"user:{p.username}")
        return {"otpauth_uri": otp.provisioning_uri(secret, p.username), "secret": secret}

    return ctx.db.transaction(work)


def confirm(ctx: Context, p: Principal, code: str, password: str) -> None:
    """Activate the pending factor with a code its app shows now (that code's step counts as used)
    and the account's password: someone at a session left open cannot tie the account to their own app."""
    now = ctx.now()
    settings = ctx.settings

    def work(s: Session) -> None:
        auth.prove_password(s, p, password, now, max_attempts=settings.login_attempts,
                            lockout_minutes=settings.lockout_minutes)
        factor = s.get(TotpFactor, p.id)
        if factor is None:
            raise Conflict("no enrolment to confirm: POST /api/v1/me/totp first", code="totp_not_started")
        if factor.active:
            raise Conflict("two-step verification is on already", code="totp_already_enabled")
        checked = otp.check(factor.secret, code, now, None)
        if not checked.ok:
            raise Unprocessable.on_field("code", "totp_invalid", "the code does not match; check the app's time",
                                         "the code does not match the secret being enrolled")
        factor.active, factor.last_step, factor.enabled_at = True, checked.step, now
        audit.record(s, "totp_enabled", p, f"user:{p.username}")

    ctx.db.transaction(work)


def disable(ctx: Context, p: Principal, code: str) -> None:
    """Turn the factor off with a current code (one guess towards the lockout, as at login); refused
    when the account's roles need a factor. A refusal is on the audit log too."""
    settings = ctx.settings

    def work(s: Session) -> None:
        if access.needs_second_factor(p, settings.totp_required):
            raise Forbidden("your role needs two-step verification; it cannot be turned off",
                            code="totp_required_by_policy")
        factor = s.get(TotpFactor, p.id)
        if factor is None or not factor.active:
            raise Conflict("two-step verification is not on", code="totp_not_enabled")
        try:
            verify_code(s, p.username, code, ctx.now(), epoch=p.session_epoch,
                        max_attempts=settings.login_attempts, lockout_minutes=settings.lockout_minutes)
        except (TotpInvalid, TotpReplayed) as exc:
            raise Forbidden(exc.detail, code=exc.code) from None
        s.execute(delete(TotpFactor).where(TotpFactor.user_id == p.id))
        audit.record(s, "totp_disabled", p, f"user:{p.username}")

    with audit.refusals(ctx.db, "totp_disable_refused", p, f"user:{p.username}"):
        ctx.db.transaction(work)


def reset(s: Session, username: str) -> bool:
    """An operator turns an account's factor off (`rectiflow totp-reset`: its phone is lost); on the
    audit log with no actor, as other commands are. False when it had none."""
    removed = s.execute(delete(TotpFactor).where(
        TotpFactor.user_id == select(User.id).where(User.username == username).scalar_subquery())
        .returning(TotpFactor.user_id)).first()
    if removed is None:
        return False
    audit.record(s, "totp_reset", None, f"user:{username}", detail={"via": "cli"})
    return True


def enrolment_required(s: Session, p: Principal, settings: Settings) -> bool:
    """Whether the account must enrol before anything else: its roles need a factor and it has none
    confirmed. Costs a query only for those roles, and only under the policy."""
    if not access.needs_second_factor(p, settings.totp_required):
        return False
    return not s.scalar(select(TotpFactor.active).where(TotpFactor.user_id == p.id))


def check_enrolled(s: Session, p: Principal, settings: Settings) -> None:
    """The gate every request of such an account passes, but those that enrol (see `enrolment_required`)."""
    if enrolment_required(s, p, settings):
        raise Forbidden("your role needs two-step verification: enrol a TOTP authenticator first "
                        "(POST /api/v1/me/totp, then POST /api/v1/me/totp/confirm)", code="totp_enrolment_required")
