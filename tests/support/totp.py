"""Second factors for the tests: codes as an authenticator app computes them (pyotp, from the
secret the service handed out), a clock at the start of a time step, and a factor given directly."""
from __future__ import annotations

from datetime import UTC, datetime

import pyotp

from service import otp
from service.models import TotpFactor
from workflows.clock import Clock

from .district import user_id


def code(ctx, secret: str, offset: int = 0) -> str:
    """The code an app shows now (`offset` steps of 30 s later or earlier), by the service's clock."""
    return pyotp.TOTP(secret).at(ctx.now(), counter_offset=offset)


def wrong(right: str) -> str:
    """A well-formed code that is not `right`."""
    return f"{(int(right) + 1) % 1_000_000:06d}"


def clock_at_step_start() -> Clock:
    """The real clock, moved on to the start of the next 30-second step: the codes a test computes
    stay those of the current step for the test's few seconds (no code turns over mid-test)."""
    clock = Clock()
    start = (int(clock.now().timestamp()) // otp.STEP_SECONDS + 1) * otp.STEP_SECONDS
    clock.move_to(datetime.fromtimestamp(start, UTC))
    return clock


def give_factor(ctx, username: str) -> str:
    """An active factor for the account, as a confirmed enrolment leaves it but with no step used
    yet (enrolling has tests of its own); its secret."""
    secret = otp.new_secret()
    uid = user_id(ctx, username)
    ctx.db.transaction(lambda s: s.add(TotpFactor(user_id=uid, secret=secret, active=True, created_at=ctx.now(),
                                                  enabled_at=ctx.now())))
    return secret
