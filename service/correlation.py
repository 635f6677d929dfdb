"""Messages and signals from outside systems (POST /messages, /signals), as Camunda's REST API takes them.

A message goes to the instances waiting for it whose key matches (the business key an instance
was started with, or the correlation key its waiting element declares); when none waits, it starts
an instance through a message start event. A signal goes to every instance waiting for it and
starts one through each signal start event. Both are put on the audit log with the instances they
reached, refusals too, and the caller learns only those instances' ids.
"""
from __future__ import annotations

from sqlalchemy.orm import Session

from . import access, audit, workflow
from .auth import Principal
from .context import Context
from .errors import NotFound


def send_message(ctx: Context, p: Principal, name: str, business_key: str | None, correlation_key: str | None,
                 data: dict | None) -> dict:
    keys = {k: v for k, v in (("business_key", business_key), ("correlation_key", correlation_key)) if v is not None}
    with audit.refusals(ctx.db, "message_sent", p, f"message:{name}"):
        p.require(*access.EVENT_SENDERS)

    def send(s: Session) -> list[int]:
        results = workflow.correlate_message(
            ctx, s, p, name, business_key=business_key, correlation_key=correlation_key, data=data,
            scope=access.event_reachable_instances(p), may_start=lambda key: access.may_start_by_event(p, key))
        reached = [r.instance.id for r in results]
        audit.record(s, "message_sent", p, f"message:{name}", detail={**keys, "instances": reached})
        return reached

    reached = ctx.db.transaction(send)
    if not reached:
        raise NotFound(f"no process instance waits for the message {name!r} with these keys, and no deployed "
                       "model starts with it", code="message_not_correlated", name=name)
    return {"instances": reached}


def send_signal(ctx: Context, p: Principal, name: str, data: dict | None) -> dict:
    with audit.refusals(ctx.db, "signal_sent", p, f"signal:{name}"):
        p.require(*access.EVENT_SENDERS)

    def send(s: Session) -> list[int]:
        results = workflow.broadcast_signal(ctx, s, p, name, data, scope=access.event_reachable_instances(p),
                                            may_start=lambda key: access.may_start_by_event(p, key))
        reached = [r.instance.id for r in results]
        audit.record(s, "signal_sent", p, f"signal:{name}", detail={"instances": reached})
        return reached

    return {"instances": ctx.db.transaction(send)}

