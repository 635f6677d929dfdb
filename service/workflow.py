"""The one way the service moves a workflow: every engine call, with what it did applied.

The engine only runs diagrams; the records (rounds, cases, filings, letters, clues) follow the
steps it reports. Each function here calls the engine and then hands its events to
`workflow_events`, in the same transaction, so no caller can move a workflow and forget its
records, and a step has the same effect whichever page, client or timer caused it.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ColumnElement
from sqlalchemy.orm import Session

from workflows.engine import RunResult, Trigger
from workflows.migration import migrate_instance
from workflows.tables import HumanTask, ProcessInstance

from .auth import Principal
from .context import Context
from .models import BusinessKey

if TYPE_CHECKING:
    from .notices import Roster


def start(ctx: Context, s: Session, p: Principal | None, model_key: str, data: dict, key: BusinessKey, *,
          unit_id: int | None = None, candidates: dict[str, list[int]] | None = None) -> ProcessInstance:
    with ctx.engine.script_account():  # shared with the calls its steps set off
        result = ctx.engine.start(s, model_key, data, unit_id=unit_id, business_key=str(key),
                                  actor=p.username if p else None, candidates=candidates)
        _dispatch(ctx, s, p, result)
    return result.instance


def start_many(ctx: Context, s: Session, p: Principal | None, model_key: str, data: list[dict],
               keys: list[BusinessKey], *, unit_ids: list[int | None], roster: Roster | None = None,
               then: Callable[[int, RunResult], None] | None = None) -> list[ProcessInstance]:
    """`start` for many instances of one model at once (a list published to every unit): the engine
    makes them together; each one's events are applied as `start` applies them, one instance after
    the other, and `then(index, result)` runs after each (what the caller does per instance). The
    `roster` of the units' accounts tells their people without a query per instance."""
    from . import notices

    results = ctx.engine.start_many(s, model_key, data, unit_ids=unit_ids, business_keys=[str(k) for k in keys],
                                    actor=p.username if p else None)
    roster = roster or notices.roster(s, [u for u in unit_ids if u is not None])
    for index, result in enumerate(results):
        with ctx.engine.script_account():  # as `start`: shared with the calls its steps set off
            _dispatch(ctx, s, p, result, roster)
            if then is not None:
                then(index, result)
    return [r.instance for r in results]


def complete(ctx: Context, s: Session, p: Principal, task_id: str, data: dict,
             check: Callable[[HumanTask, dict], None] | None = None) -> RunResult:
    with ctx.engine.script_account():  # publishing a list starts a case per unit: one budget for all
        result = ctx.engine.complete_task(s, task_id, data, actor=p.username, check=check)
        _dispatch(ctx, s, p, result)
    return result


def fire_timers(ctx: Context, s: Session, instance_id: int, now: datetime | None = None) -> RunResult | None:
    with ctx.engine.script_account():
        result = ctx.engine.fire_timers(s, instance_id, now)
        if result is not None:
            _dispatch(ctx, s, None, result)
    return result


def change_data(ctx: Context, s: Session, p: Principal | None, instance_id: int, changes: dict) -> RunResult:
    """Values of a running instance's data changed (an approved extension's deadline); its waiting
    timers and open tasks' due dates follow, and whatever that sets off is applied as usual."""
    with ctx.engine.script_account():
        result = ctx.engine.change_data(s, instance_id, changes, actor=p.username if p else None)
        _dispatch(ctx, s, p, result)
    return result


def deliver_message(ctx: Context, s: Session, p: Principal | None, name: str, key: BusinessKey,
                    payload: dict | None = None) -> list[RunResult]:
    with ctx.engine.script_account():
        results = ctx.engine.deliver_message(s, name, str(key), payload, actor=p.username if p else None)
        for result in results:
            _dispatch(ctx, s, p, result)
    return results


def suspend(ctx: Context, s: Session, p: Principal, instance_id: int, reason: str) -> ProcessInstance:
    """Nothing runs: the instance's tasks and timers wait (no events to apply)."""
    return ctx.engine.suspend(s, instance_id, p.username, reason)


def resume(ctx: Context, s: Session, p: Principal, instance_id: int, reason: str | None) -> ProcessInstance:
    return ctx.engine.resume(s, instance_id, p.username, reason)


def cancel(ctx: Context, s: Session, p: Principal, instance_id: int, reason: str) -> RunResult:
    """The instance ends where it stands; the notices of the tasks it closed are read."""
    result = ctx.engine.cancel(s, instance_id, p.username, reason)
    _dispatch(ctx, s, p, result)
    return result


def correlate_message(ctx: Context, s: Session, p: Principal | None, name: str, *, business_key: str | None,
                      correlation_key: str | None, data: dict | None, scope: ColumnElement[bool],
                      may_start: Callable[[str], bool]) -> list[RunResult]:
    """A message from outside: to the instances waiting for it whose key matches; when none waits,
    it starts an instance of each model whose current version begins with a start event for it
    (those `may_start` lets through), the business key given becoming the new instance's."""
    actor = p.username if p else None
    with ctx.engine.script_account():
        results = ctx.engine.deliver_message(s, name, correlation_key, data, actor, business_key=business_key,
                                             scope=scope)
        if not results:
            trigger = Trigger("message", name, data)
            results = [ctx.engine.start(s, key, {}, business_key=business_key, actor=actor, trigger=trigger)
                       for key in ctx.engine.start_events(s, "message", name) if may_start(key)]
        for result in results:
            _dispatch(ctx, s, p, result)
    return results


def broadcast_signal(ctx: Context, s: Session, p: Principal | None, name: str, data: dict | None, *,
                     scope: ColumnElement[bool], may_start: Callable[[str], bool]) -> list[RunResult]:
    """A signal: to every instance waiting for it, and it starts an instance of each model whose
    current version begins with a start event for it."""
    actor = p.username if p else None
    with ctx.engine.script_account():
        results = ctx.engine.broadcast_signal(s, name, data, actor, scope=scope)
        trigger = Trigger("signal", name, data)
        results += [ctx.engine.start(s, key, {}, actor=actor, trigger=trigger)
                    for key in ctx.engine.start_events(s, "signal", name) if may_start(key)]
        for result in results:
            _dispatch(ctx, s, p, result)
    return results


def migrate(ctx: Context, s: Session, p: Principal | None, instance_id: int, to_version_id: int, *,
            rollback: bool = False) -> None:
    """Move an instance onto another version of its model (`workflows.migration`). Nothing runs: its
    open tasks and timers stay as they were, so there are no steps to apply."""
    migrate_instance(ctx.engine, s, instance_id, to_version_id, actor=p.username if p else None,
                     event="migration_rolled_back" if rollback else "migrated")


def _dispatch(ctx: Context, s: Session, p: Principal | None, result: RunResult,
              roster: Roster | None = None) -> None:
    # Imported here: the handlers live in the modules that call this one (publishing a round starts cases).
    from . import notices
    from .workflow_events import dispatch

    dispatch(ctx, s, p, result)
    notices.on_run(ctx, s, result, roster)  # whoever may do a task it opened is told
