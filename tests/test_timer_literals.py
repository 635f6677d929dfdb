"""Timers as Camunda Modeler writes them: a literal ISO 8601 date (with or without an offset), a
literal duration and a cycle that fires again after each firing until its repetitions are used up,
on intermediate, start and boundary events; the clock is moved and the due timers run as the
service's sweep runs them. One diagram goes the whole way a designer's would: deployed over the API,
begun by a message from outside, its reminders in the office's inbox."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import bpmn_snippets as B
import pytest
from sqlalchemy import select

from service.timers import run_due_timers
from workflows.tables import HistoryEntry, HumanTask, ProcessInstance, Timer


@pytest.fixture
def eng(engine_ctx):
    """The engine and its sweep, on a database without the default models."""
    return engine_ctx


def deploy(eng, xml):
    version, created = eng.db.transaction(lambda s: eng.engine.deploy(s, xml, deployed_by="test"))
    assert created
    return version


def start(eng, key):
    return eng.db.transaction(lambda s: eng.engine.start(s, key, {}).instance.id)


def tasks(eng, instance_id, bpmn_id):
    with eng.db.read() as s:
        return s.scalars(select(HumanTask).where(HumanTask.instance_id == instance_id,
                                                 HumanTask.bpmn_id == bpmn_id, HumanTask.state == "open")).all()


def timers(eng, instance_id):
    with eng.db.read() as s:
        return s.scalars(select(Timer.due_at).where(Timer.instance_id == instance_id)).all()


def fired(eng, instance_id):
    with eng.db.read() as s:
        return len(s.scalars(select(HistoryEntry).where(HistoryEntry.instance_id == instance_id,
                                                        HistoryEntry.event == "timer_fired")).all())


def status(eng, instance_id):
    with eng.db.read() as s:
        return s.get(ProcessInstance, instance_id).status


@pytest.mark.parametrize("value, due", [
    ("2027-01-01T09:00:00+08:00", datetime(2027, 1, 1, 1, 0, tzinfo=UTC)),
    ("2027-01-01T09:00:00", datetime(2027, 1, 1, 1, 0, tzinfo=UTC)),  # read in RECTIFLOW_TIMEZONE
    ("2027-01-01T01:00:00Z", datetime(2027, 1, 1, 1, 0, tzinfo=UTC)),
])
def test_a_literal_date_waits_for_that_moment(eng, clock, value, due):
    deploy(eng, B.timer_catch("timeDate", value))
    instance = start(eng, "ticking")
    assert timers(eng, instance) == [due]
    clock.move_to(due - timedelta(minutes=1))
    assert run_due_timers(eng) == 0 and tasks(eng, instance, "after") == []
    clock.move_to(due + timedelta(minutes=1))
    assert run_due_timers(eng) == 1
    assert len(tasks(eng, instance, "after")) == 1 and timers(eng, instance) == []


@pytest.mark.parametrize("value, wait", [("PT1H", timedelta(hours=1)), ("P14D", timedelta(days=14)),
                                         ("PT90M", timedelta(minutes=90))])
def test_a_literal_duration_waits_that_long_from_where_it_starts(eng, clock, value, wait):
    deploy(eng, B.timer_catch("timeDuration", value))
    began = clock.now()
    instance = start(eng, "ticking")
    (due,) = timers(eng, instance)
    assert abs(due - (began + wait)) < timedelta(seconds=5)
    clock.advance(wait - timedelta(minutes=1))
    assert run_due_timers(eng) == 0
    clock.advance(timedelta(minutes=2))
    assert run_due_timers(eng) == 1
    assert len(tasks(eng, instance, "after")) == 1


def test_a_timer_start_event_with_a_literal_duration_begins_the_process_when_it_is_due(eng, clock):
    deploy(eng, B.timer_start("timeDuration", "PT1H"))
    instance = start(eng, "scheduled")
    assert tasks(eng, instance, "after") == [] and len(timers(eng, instance)) == 1
    clock.advance(timedelta(hours=1, minutes=1))
    assert run_due_timers(eng) == 1
    assert len(tasks(eng, instance, "after")) == 1


def test_a_timer_start_event_with_a_literal_date_or_cycle(eng, clock):
    deploy(eng, B.timer_start("timeDate", "2027-03-01T08:30:00", pid="dated"))
    deploy(eng, B.timer_start("timeCycle", "R2/PT1H", pid="cycled"))
    dated, cycled = start(eng, "dated"), start(eng, "cycled")
    assert timers(eng, dated) == [datetime(2027, 3, 1, 0, 30, tzinfo=UTC)]
    assert _hourly(eng, clock, cycled, 3, "after") == [1, 2, 2], "each firing of the cycle begins a path"
    clock.move_to(datetime(2027, 3, 1, 0, 31, tzinfo=UTC))
    run_due_timers(eng)
    assert len(tasks(eng, dated, "after")) == 1


def _hourly(eng, clock, instance, hours, bpmn_id):
    """Move the clock an hour at a time, running the sweep each time; the open tasks after each."""
    seen = []
    for _ in range(hours):
        clock.advance(timedelta(hours=1, minutes=1))
        run_due_timers(eng)
        seen.append(len(tasks(eng, instance, bpmn_id)))
    return seen


def test_a_non_interrupting_boundary_cycle_fires_exactly_its_repetitions(eng, clock):
    deploy(eng, B.boundary_timer("timeCycle", "R3/PT1H"))
    instance = start(eng, "reminded")
    assert _hourly(eng, clock, instance, 5, "reminder") == [1, 2, 3, 3, 3]
    assert fired(eng, instance) == 3 and timers(eng, instance) == []
    assert len(tasks(eng, instance, "work")) == 1, "the task the timer sits on stays open"


def test_an_unbounded_cycle_keeps_firing(eng, clock):
    deploy(eng, B.boundary_timer("timeCycle", "R/PT1H"))
    instance = start(eng, "reminded")
    assert _hourly(eng, clock, instance, 4, "reminder") == [1, 2, 3, 4]
    assert len(timers(eng, instance)) == 1


def test_a_cycle_with_a_start_date_fires_from_that_date(eng, clock):
    deploy(eng, B.boundary_timer("timeCycle", "R2/2027-01-01T09:00:00+08:00/PT1H"))
    instance = start(eng, "reminded")
    first = datetime(2027, 1, 1, 1, 0, tzinfo=UTC)
    assert timers(eng, instance) == [first]
    clock.move_to(first - timedelta(minutes=1))
    assert run_due_timers(eng) == 0
    clock.move_to(first - timedelta(hours=1))
    assert _hourly(eng, clock, instance, 3, "reminder") == [1, 2, 2]


def test_an_intermediate_cycle_fires_its_repetitions_then_goes_on(eng, clock):
    deploy(eng, B.timer_catch("timeCycle", "R3/PT1H"))
    instance = start(eng, "ticking")
    assert _hourly(eng, clock, instance, 5, "after") == [1, 2, 3, 3, 3]
    assert fired(eng, instance) == 3 and timers(eng, instance) == []


def test_an_interrupting_boundary_cycle_fires_once_and_ends_the_task(eng, clock):
    deploy(eng, B.boundary_timer("timeCycle", "R3/PT1H", interrupting=True))
    instance = start(eng, "reminded")
    assert _hourly(eng, clock, instance, 3, "reminder") == [1, 1, 1]
    assert tasks(eng, instance, "work") == [] and timers(eng, instance) == []


def test_a_modeler_diagram_with_a_reminder_cycle_reminds_the_office_three_times(ctx, api, district, clock):
    xml = B.boundary_timer("timeCycle", "R3/PT1H", pid="hotline_case").replace(
        b'<bpmn:startEvent id="start"/>',
        b'<bpmn:startEvent id="start"><bpmn:messageEventDefinition id="md" messageRef="m"/></bpmn:startEvent>'
        b'<bpmn:laneSet id="ls"><bpmn:lane id="lane" name="office"><bpmn:flowNodeRef>work</bpmn:flowNodeRef>'
        b'<bpmn:flowNodeRef>reminder</bpmn:flowNodeRef></bpmn:lane></bpmn:laneSet>').replace(
        b'<bpmn:process', b'<bpmn:message id="m" name="hotline_call"/><bpmn:process')
    r = api.as_("designer1").post("/process-models", data=xml, content_type="application/xml")
    assert r.status_code == 201, r.get_json()
    office = api.as_("office1")
    r = office.post("/messages", json={"name": "hotline_call", "business_key": "hotline:12345"})
    assert r.status_code == 200, r.get_json()
    (instance,) = r.get_json()["instances"]

    def reminders():
        api.tokens.clear()  # tokens are dated by the moved clock
        return len(api.as_("office1").tasks(process_model="hotline_case", bpmn_id="reminder"))

    seen = []
    for _ in range(5):
        clock.advance(timedelta(hours=1, minutes=1))
        run_due_timers(ctx)
        seen.append(reminders())
    assert seen == [1, 2, 3, 3, 3]
    assert [t["process_instance_id"] for t in api.as_("office1").tasks(bpmn_id="work")] == [instance]
