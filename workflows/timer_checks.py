"""Timer values a diagram may hold, checked when it is deployed.

A timer whose value is written out (an ISO 8601 text, quoted or as Camunda Modeler writes it)
is read here the way SpiffWorkflow will read it. A zero duration or cycle fires again the moment
it has fired, so an instance never stops running; a cycle with a start long past, or with
thousands of repetitions, fires them all at once. Both are refused before any instance exists.
Values computed by an expression are only known at run time: a computed cycle is checked the same
way when its timer starts waiting, and the engine's step limit stops whatever else slips through.
"""
from __future__ import annotations

import ast
import re
from datetime import UTC, datetime, timedelta

from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition

from .refusals import Refusal

MAX_CYCLE_REPETITIONS = 1000
MIN_CYCLE_INTERVAL = timedelta(minutes=1)  # the scheduler sweeps every few tens of seconds
MAX_TIMER_SPAN = timedelta(days=100 * 366)  # no step of a district's process waits a century
# SpiffWorkflow adds up a duration's years and months one month at a time: a hundred years is 1,200
# steps, "P99999999Y" would hold a thread for hours. Longer durations are refused before that count.
MAX_TIMER_MONTHS = 100 * 12

_ISO_TEXT = re.compile(r"^(R\d*/.+|P[0-9YMWDTHS.,]+|\d{4}-\d{2}-\d{2}([T ].*)?)$", re.IGNORECASE)


def literal_value(body: str) -> str | None:
    """The ISO text a timer expression stands for, when it is one written out; else None."""
    try:
        node = ast.parse(body, mode="eval").body
    except SyntaxError:
        node = None
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value.strip()
    return body if _ISO_TEXT.match(body) else None


class TimerTooLong(ValueError):
    pass


def check_months(parsed: dict) -> None:
    """Refuse a parsed duration (SpiffWorkflow's dict of parts) whose years and months run past
    `MAX_TIMER_MONTHS`, before anything counts through them. Applied at deploy and at run time."""
    months = parsed.get("years", 0) * 12 + parsed.get("months", 0)
    if months > MAX_TIMER_MONTHS:
        raise TimerTooLong("the duration is longer than a hundred years")


def _duration(text: str, start: datetime) -> timedelta:
    parsed = TimerEventDefinition.parse_iso_duration(text)
    check_months(parsed)
    return TimerEventDefinition.get_timedelta_from_start(parsed, start)


def timer_problem(kind: str, body: str, now: datetime | None = None) -> Refusal | None:
    """Why a timer (`timeDate`, `timeDuration` or `timeCycle`) would misbehave, or None."""
    text = literal_value(body)
    if text is None:
        return None
    now = now or datetime.now(UTC)
    try:
        if kind == "timeDuration":
            duration = _duration(text, now)
            if duration <= timedelta(0):
                return Refusal("timer_zero_duration", f"the duration {text!r} is zero: the timer would fire the "
                               "moment it starts", {"value": text})
            if duration > MAX_TIMER_SPAN:
                return _too_long(text)
        elif kind == "timeCycle":
            return cycle_problem(text, now)
        elif not isinstance(TimerEventDefinition.parse_time_or_duration(text), datetime):
            return Refusal("timer_date_is_duration", f"{text!r} is a duration: a timeDate must be a date and time "
                           "(use timeDuration for a duration)", {"value": text})
    except TimerTooLong:
        return _too_long(text)
    except Exception as exc:  # SpiffWorkflow raises bare Exceptions for bad ISO text
        if kind == "timeCycle":
            return Refusal("timer_cycle_not_iso", f"{text!r} is not an ISO 8601 cycle ({exc})", {"value": text})
        return Refusal("timer_not_iso", f"{text!r} is not an ISO 8601 time or duration ({exc})", {"value": text})
    return None


def _too_long(text: str) -> Refusal:
    return Refusal("timer_too_long", f"the duration {text!r} is longer than a hundred years", {"value": text})


def cycle_problem(text: str, now: datetime) -> Refusal | None:
    """Why a cycle would fire without end or too much at once; also asked of computed cycles as they start."""
    for part in text.split("/")[1:]:
        if part.upper().startswith("P"):
            check_months(TimerEventDefinition.parse_iso_duration(part))
    cycles, start, interval = TimerEventDefinition.parse_iso_recurring_interval(text)
    if interval <= timedelta(0):
        return Refusal("timer_cycle_zero", f"the cycle {text!r} repeats every zero seconds: it would fire without end",
                       {"value": text})
    if interval < MIN_CYCLE_INTERVAL:
        return Refusal("timer_cycle_too_often", f"the cycle {text!r} repeats more often than once a minute",
                       {"value": text})
    if cycles > MAX_CYCLE_REPETITIONS:
        return Refusal("timer_cycle_too_many",
                       f"the cycle {text!r} repeats {cycles:,} times, more than the limit of {MAX_CYCLE_REPETITIONS:,}",
                       {"value": text, "count": cycles, "limit": MAX_CYCLE_REPETITIONS})
    if start < now:  # an unbounded cycle (cycles == -1) catches up on every interval since its start
        overdue = int((now - start) / interval) + 1
        at_once = overdue if cycles < 0 else min(cycles, overdue)
        if at_once > MAX_CYCLE_REPETITIONS:
            return Refusal("timer_cycle_catch_up",
                           f"the cycle {text!r} started in the past and would fire {at_once:,} times at once, "
                           f"more than the limit of {MAX_CYCLE_REPETITIONS:,}",
                           {"value": text, "count": at_once, "limit": MAX_CYCLE_REPETITIONS})
    return None
