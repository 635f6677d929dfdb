"""Timers as Camunda Modeler writes them: a literal ISO 8601 date (with or without an offset), a
literal duration and a cycle that fires again after each firing until its repetitions are used up,
on intermediate, start and boundary events; the clock is moved and the due timers run as the
service's sweep runs them."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import bpmn_snippets as B
import pytest
from sqlalchemy import select

from service.timers import run_due_timers
from workflows.tables import HistoryEntry, HumanTask, ProcessInstance, Timer


@pytest.fixture
def ctx(engine_ctx):
    return engine_ctx


def deploy(ctx, xml):
    version, created = ctx.db.transaction(lambda s: ctx.engine.deploy(s, xml, deployed_by="test"))
    assert created
    return version


def start(ctx, key):
    return ctx.db.transaction(lambda s: ctx.engine.start(s, key, {}).instance.id)


def tasks(ctx, instance_id, bpmn_id):
    with ctx.db.read() as s:
        return s.scalars(select(HumanTask).where(HumanTask.instance_id == instance_id,
                                                 HumanTask.bpmn_id == bpmn_id, HumanTask.state == "open")).all()


def timers(ctx, instance_id):
    with ctx.db.read() as s:
        return s.scalars(select(Timer.due_at).where(Timer.instance_id == instance_id)).all()


def fired(ctx, instance_id):
    with ctx.db.read() as s:
        return len(s.scalars(select(HistoryEntry).where(HistoryEntry.instance_id == instance_id,
                                                        HistoryEntry.event == "timer_fired")).all())


def status(ctx, instance_id):
    with ctx.db.read() as s:
        return s.get(ProcessInstance, instance_id).status


@pytest.mark.parametrize("value, due", [
    ("2027-01-01T09:00:00+08:00", datetime(2027, 1, 1, 1, 0, tzinfo=UTC)),
    ("2027-01-01T09:00:00", datetime(2027, 1, 1, 1, 0, tzinfo=UTC)),  # read in RECTIFLOW_TIMEZONE
    ("2027-01-01T01:00:00Z", datetime(2027, 1, 1, 1, 0, tzinfo=UTC)),
])
def test_a_literal_date_waits_for_that_moment(ctx, clock, value, due):
    deploy(ctx, B.timer_catch("timeDate", value))
    instance = start(ctx, "ticking")
    assert timers(ctx, instance) == [due]
    clock.move_to(due - timedelta(minutes=1))
    assert run_due_timers(ctx) == 0 and tasks(ctx, instance, "after") == []
    clock.move_to(due + timedelta(minutes=1))
    assert run_due_timers(ctx) == 1
    assert len(tasks(ctx, instance, "after")) == 1 and timers(ctx, instance) == []


@pytest.mark.parametrize("value, wait", [("PT1H", timedelta(hours=1)), ("P14D", timedelta(days=14)),
                                         ("PT90M", timedelta(minutes=90))])
def test_a_literal_duration_waits_that_long_from_where_it_starts(ctx, clock, value, wait):
    deploy(ctx, B.timer_catch("timeDuration", value))
    began = clock.now()
    instance = start(ctx, "ticking")
    (due,) = timers(ctx, instance)
    assert abs(due - (began + wait)) < timedelta(seconds=5)
    clock.advance(wait - timedelta(minutes=1))
    assert run_due_timers(ctx) == 0
    clock.advance(timedelta(minutes=2))
    assert run_due_timers(ctx) == 1
    assert len(tasks(ctx, instance, "after")) == 1


def test_a_timer_start_event_with_a_literal_duration_begins_the_process_when_it_is_due(ctx, clock):
    deploy(ctx, B.timer_start("timeDuration", "PT1H"))
    instance = start(ctx, "scheduled")
    assert tasks(ctx, instance, "after") == [] and len(timers(ctx, instance)) == 1
    clock.advance(timedelta(hours=1, minutes=1))
    assert run_due_timers(ctx) == 1
    assert len(tasks(ctx, instance, "after")) == 1


def _hourly(ctx, clock, instance, hours, bpmn_id):
    """Move the clock an hour at a time, running the sweep each time; the open tasks after each."""
    seen = []
    for _ in range(hours):
        clock.advance(timedelta(hours=1, minutes=1))
        run_due_timers(ctx)
        seen.append(len(tasks(ctx, instance, bpmn_id)))
    return seen


def test_a_non_interrupting_boundary_cycle_fires_exactly_its_repetitions(ctx, clock):
    deploy(ctx, B.boundary_timer("timeCycle", "R3/PT1H"))
    instance = start(ctx, "reminded")
    assert _hourly(ctx, clock, instance, 5, "reminder") == [1, 2, 3, 3, 3]
    assert fired(ctx, instance) == 3 and timers(ctx, instance) == []
    assert len(tasks(ctx, instance, "work")) == 1, "the task the timer sits on stays open"


def test_an_unbounded_cycle_keeps_firing(ctx, clock):
    deploy(ctx, B.boundary_timer("timeCycle", "R/PT1H"))
    instance = start(ctx, "reminded")
    assert _hourly(ctx, clock, instance, 4, "reminder") == [1, 2, 3, 4]
    assert len(timers(ctx, instance)) == 1


def test_a_cycle_with_a_start_date_fires_from_that_date(ctx, clock):
    deploy(ctx, B.boundary_timer("timeCycle", "R2/2027-01-01T09:00:00+08:00/PT1H"))
    instance = start(ctx, "reminded")
    first = datetime(2027, 1, 1, 1, 0, tzinfo=UTC)
    assert timers(ctx, instance) == [first]
    clock.move_to(first - timedelta(minutes=1))
    assert run_due_timers(ctx) == 0
    clock.move_to(first - timedelta(hours=1))
    assert _hourly(ctx, clock, instance, 3, "reminder") == [1, 2, 2]


def test_an_intermediate_cycle_fires_its_repetitions_then_goes_on(ctx, clock):
    deploy(ctx, B.timer_catch("timeCycle", "R3/PT1H"))
    instance = start(ctx, "ticking")
    assert _hourly(ctx, clock, instance, 5, "after") == [1, 2, 3, 3, 3]
    assert fired(ctx, instance) == 3 and timers(ctx, instance) == []


def test_an_interrupting_boundary_cycle_fires_once_and_ends_the_task(ctx, clock):
    deploy(ctx, B.boundary_timer("timeCycle", "R3/PT1H", interrupting=True))
    instance = start(ctx, "reminded")
    assert _hourly(ctx, clock, instance, 3, "reminder") == [1, 1, 1]
    assert tasks(ctx, instance, "work") == [] and timers(ctx, instance) == []
