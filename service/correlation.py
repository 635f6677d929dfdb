"""Messages and signals from outside systems (POST /messages, /signals), as Camunda's REST API takes them.

A message goes to the instances waiting for it whose key matches (the business key an instance
was started with, or the correlation key its waiting element declares); when none waits, it starts
an instance through a message start event. A signal goes to every instance waiting for it and
starts one through each signal start event. Both are put on the audit log with the instances they
reached, refusals too, and the caller learns only those instances' ids.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from jsonschema import Draft202012Validator
from sqlalchemy.orm import Session

from workflows.forms import schema_problems

from . import access, audit, workflow
from .auth import Principal
from .context import Context
from .designs import model_names
from .errors import NotFound

_NAME = {"type": "string", "minLength": 1, "maxLength": 200}
_KEY = {"type": ["string", "null"], "minLength": 1, "maxLength": 200}
MESSAGE_REQUEST = {"type": "object", "required": ["name"], "additionalProperties": False, "properties": {
    "name": _NAME, "business_key": _KEY, "correlation_key": _KEY, "data": {"type": ["object", "null"]}}}
SIGNAL_REQUEST = {"type": "object", "required": ["name"], "additionalProperties": False, "properties": {
    "name": _NAME, "data": {"type": ["object", "null"]}}}
_VALIDATORS = {"message": Draft202012Validator(MESSAGE_REQUEST), "signal": Draft202012Validator(SIGNAL_REQUEST)}


def problems(kind: str, body: dict) -> list[dict]:
    """What is wrong with a message ("message") or signal ("signal") to send, field by field."""
    return schema_problems(_VALIDATORS[kind], body)


@dataclass(frozen=True)
class AwaitedEvent:
    """A message or signal that would reach something if sent now."""

    kind: str  # message | signal
    name: str
    waiting: int  # instances waiting for it
    starts: list[str]  # names of the models it starts when none waits (a message) or always (a signal)


def awaited(ctx: Context, s: Session, p: Principal) -> list[AwaitedEvent]:
    """The messages and signals the principal's sending would reach now, by kind and name: so that
    whoever sends one by hand sees the names in use instead of guessing them."""
    p.require(*access.EVENT_SENDERS)
    waiting = ctx.engine.awaited_events(s, access.event_reachable_instances(p))
    starts: dict[tuple[str, str], list[str]] = defaultdict(list)
    for kind, name, key in ctx.engine.event_starts(s):
        if access.may_start_by_event(p, key):
            starts[kind, name].append(key)
    names = model_names(s, {key for keys in starts.values() for key in keys})
    return [AwaitedEvent(kind, name, waiting.get((kind, name), 0), [names.get(k, k) for k in starts.get((kind, name), [])])
            for kind, name in sorted(waiting.keys() | starts.keys())]


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

