"""The timer sweep: fire what is due, one instance per transaction, each failure kept to itself;
then forget the failed-login counts nobody needs any more."""
from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.orm import Session

from workflows.engine import WorkflowFailure

from . import auth, workflow
from .context import Context
from .db import Conflict as RetryConflict
from .errors import ApiError

log = logging.getLogger(__name__)


def run_due_timers(ctx: Context, now: datetime | None = None) -> int:
    """Fire every timer due by `now`; returns how many instances moved. Then the housekeeping:
    failed-login counts of names not tried for a while are forgotten.

    An instance whose step fails is marked failed on its own row and tried again later; it never
    keeps the other instances' timers from firing.

    Any number of processes may sweep at once (the app processes and `rectiflow sweep` workers of
    the scaled mode): each instance is claimed in the transaction that fires it, so an instance
    another sweep holds is passed over, not fired twice, and one whose sweep died is due again.
    """
    now = now or ctx.now()
    with ctx.db.read() as s:
        instance_ids = ctx.engine.due_timer_instances(s, now)
    moved = sum(1 for instance_id in instance_ids if fire_instance_timers(ctx, instance_id, now))
    forget_idle_logins(ctx, now)
    return moved


def forget_idle_logins(ctx: Context, now: datetime) -> None:
    """The sweep's housekeeping: usernames not tried for the lockout window leave login_throttle."""
    try:
        forgotten = ctx.db.transaction(lambda s: auth.forget_idle_names(s, now, ctx.settings.lockout_minutes))
    except Exception:  # noqa: BLE001 - the timers have fired; the next sweep tries again
        log.exception("could not prune the failed-login counts")
        return
    if forgotten:
        log.info("forgot the failed-login counts of %d username(s) not tried for %d minutes",
                 forgotten, ctx.settings.lockout_minutes)


def fire_instance_timers(ctx: Context, instance_id: int, now: datetime | None = None) -> bool:
    """Fire one instance's due timers and apply what they did, in one transaction that first claims
    the instance (`Engine.claim_for_timers`); on failure record it on the instance. False when
    nothing moved: nothing was due any more, another transaction held the instance (it is fired by
    whoever holds it, or by the next sweep), or the step failed."""
    def fire(s: Session) -> bool:
        if not ctx.engine.claim_for_timers(s, instance_id, now):
            return False
        return workflow.fire_timers(ctx, s, instance_id, now) is not None

    try:
        return ctx.db.transaction(fire)
    except RetryConflict:  # busy with someone else's change: the next sweep finds it due again
        return False
    except Exception as exc:  # noqa: BLE001 - whatever one instance does, the sweep goes on
        element = getattr(exc, "element_id", None)
        known = isinstance(exc, (WorkflowFailure, ApiError))
        message = str(exc) if known else f"{type(exc).__name__}: {exc}"
        code = str(getattr(exc, "code", "workflow_failed")) if known else "step_error"
        log.warning("timer step of process instance %s failed at %s: %s", instance_id, element, message,
                    exc_info=not isinstance(exc, WorkflowFailure))
        try:
            ctx.db.transaction(lambda s: ctx.engine.record_failure(s, instance_id, message, element, now, code))
        except Exception:  # noqa: BLE001
            log.exception("could not record the failure of process instance %s", instance_id)
        return False
