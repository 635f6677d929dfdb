"""The corrections this engine makes to SpiffWorkflow 3.2, applied by the Engine when it is made.

3.2 passes task data from task to task with `DeepMerge`, which copies nested dicts and lists
only one level deep: parallel branches, and a join and the branches it merged, end up holding
the same nested objects, so a change in one silently rewrites the others' data. Making that
copy deep is the whole fix; the scripting environment and task completion also copy, so data
stays separate even if this patch were dropped by a future SpiffWorkflow. The copy is
`datacopy.deepcopy`: what `copy.deepcopy` makes, at less cost on plain data.

3.2 reads a timer's value where the timer starts waiting, and a value that is no time (a text that
is not a date, a duration in a timeDate, a date past the year 9999) escapes as a bare ValueError,
TypeError or OverflowError that names no task. Those become `TimerValueError`, a task exception
naming the timer, which the engine reports as `timer_invalid`. A duration of more than a hundred
years is one of them, refused before 3.2 counts through its months one by one.

3.2 compares timers with the wall clock (`datetime.now` in its timer module). While a timer is
checked here, "now" is the engine's clock instead (the script engine carries it), so a service whose
clock is set, or moved in a test, never sees a timer fire by the wall clock before its time.
A cycle timer fires only when the engine fires it (`Engine.fire_timers`, one repetition per due
time, each recorded): 3.2 would also fire one by itself in any step that passes its time, unseen
by the instance's history, and leave the used-up cycle waiting for one step more. Here 3.2 only
works out the cycle's first time, when the timer starts waiting, and a computed cycle that would
fire without end (every zero seconds, thousands of times at once) is refused there as deploy
refuses a written one.
Likewise a time written without an offset (`2027-01-01T09:00:00`, as Camunda Modeler's date field
gives it) is read in the district's zone, which the script engine carries too, not in the server's.
"""
from __future__ import annotations

import functools
from contextvars import ContextVar
from datetime import UTC, datetime

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.specs.event_definitions import timer as timer_module
from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    CycleTimerEventDefinition,
    DurationTimerEventDefinition,
    TimeDateEventDefinition,
    TimerEventDefinition,
)
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.util import deep_merge

from . import datacopy
from .timer_checks import check_months, cycle_problem

_applied = False


class TimerValueError(WorkflowTaskException):
    """A timer's value is no time the engine can wait for."""


_clock: ContextVar = ContextVar("timer_clock", default=None)  # the engine's clock while a timer is checked
_zone: ContextVar = ContextVar("timer_zone", default=None)  # and the zone naive times are read in


class _EngineTime(datetime):
    """`datetime` as SpiffWorkflow's timer module sees it: `now` reads the engine's clock when it has one."""

    @classmethod
    def now(cls, tz=None):
        clock = _clock.get()
        return clock().astimezone(tz) if clock is not None else datetime.now(tz)


def _timer_guard(method):
    @functools.wraps(method)
    def guarded(self, my_task):
        token = _clock.set(getattr(my_task.workflow.script_engine, "clock", None))
        zone_token = _zone.set(getattr(my_task.workflow.script_engine, "zone", None))
        try:
            return method(self, my_task)
        except SpiffWorkflowException:
            raise  # the expression itself failed: the engine reports it as it does any expression
        except Exception as exc:  # SpiffWorkflow raises bare Exceptions for bad ISO text
            raise TimerValueError(f"the timer {my_task.task_spec.bpmn_id} has no valid time: {exc}",
                                  task=my_task, exception=exc) from exc
        finally:
            _clock.reset(token)
            _zone.reset(zone_token)
    return guarded


def _get_datetime(expression):
    when = _EngineTime.fromisoformat(expression)  # 3.2 tells dates from durations by this class
    if when.tzinfo is None:
        when = when.replace(tzinfo=_zone.get() or timer_module.LOCALTZ)
    return when.astimezone(UTC)


def _arm_cycle(self, my_task):
    """CycleTimerEventDefinition.cycle_complete, but never firing: the first time and the count only."""
    if my_task._get_internal_data("event_value") is None:
        expression = my_task.workflow.script_engine.evaluate(my_task, self.expression)
        problem = cycle_problem(str(expression), _EngineTime.now(UTC))
        if problem:
            raise ValueError(problem.text)
        cycles, start, duration = TimerEventDefinition.parse_iso_recurring_interval(expression)
        my_task._set_internal_data(event_value={"cycles": cycles, "next": start.isoformat(),
                                                "duration": duration.total_seconds()})
    return False


def _bounded(compute):
    @functools.wraps(compute)
    def bounded(parsed_duration, *args, **kwargs):
        check_months(parsed_duration)
        return compute(parsed_duration, *args, **kwargs)
    return staticmethod(bounded)


def apply() -> None:
    global _applied
    if not _applied:
        deep_merge.copy = datacopy.deepcopy
        timer_module.datetime = _EngineTime
        TimeDateEventDefinition.has_fired = _timer_guard(TimeDateEventDefinition.has_fired)
        DurationTimerEventDefinition.has_fired = _timer_guard(DurationTimerEventDefinition.has_fired)
        CycleTimerEventDefinition.cycle_complete = _timer_guard(_arm_cycle)
        TimerEventDefinition.get_datetime = staticmethod(_get_datetime)
        TimerEventDefinition.get_timedelta_from_start = _bounded(TimerEventDefinition.get_timedelta_from_start)
        TimerEventDefinition.get_timedelta_from_end = _bounded(TimerEventDefinition.get_timedelta_from_end)
        _applied = True
