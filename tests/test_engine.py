"""The engine layer on a real database: versions, instances, timers, messages, hazards, concurrency."""
from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta, timezone

import bpmn_snippets as B
import pytest
from sqlalchemy import func, select

from workflows.engine import InvalidTaskData, TaskNotOpen, WorkflowFailure
from workflows.registry import DeployError
from workflows.scripting import SafeEnvironment
from workflows.tables import HistoryEntry, HumanTask, ProcessInstance, Timer


@pytest.fixture
def ctx(engine_ctx):
    return engine_ctx


def deploy(ctx, xml):
    return ctx.db.transaction(lambda s: ctx.engine.deploy(s, xml, deployed_by="test"))


def start(ctx, key, data=None, **kw):
    return ctx.db.transaction(lambda s: ctx.engine.start(s, key, data or {}, **kw).instance.id)


def open_tasks(ctx, instance_id):
    with ctx.db.read() as s:
        return s.scalars(select(HumanTask).where(HumanTask.instance_id == instance_id, HumanTask.state == "open")
                         .order_by(HumanTask.bpmn_id)).all()


def complete(ctx, task_id, data=None, actor="tester"):
    return ctx.db.transaction(lambda s: ctx.engine.complete_task(s, task_id, data or {}, actor=actor))


def test_versions_hash_and_instances_stay_on_their_version(ctx):
    v1, created = deploy(ctx, B.one_task(task_name="初审"))
    assert created and v1.version == 1
    again, created = deploy(ctx, B.one_task(task_name="初审"))
    assert not created and again.version == 1, "identical content is not a new version"
    first = start(ctx, "simple")
    v2, created = deploy(ctx, B.one_task(task_name="复审"))
    assert created and v2.version == 2
    second = start(ctx, "simple")
    assert [t.name for t in open_tasks(ctx, first)] == ["初审"]
    assert [t.name for t in open_tasks(ctx, second)] == ["复审"]
    # the old instance still completes on its own version
    complete(ctx, open_tasks(ctx, first)[0].id, {"ok": True})
    with ctx.db.read() as s:
        assert s.get(ProcessInstance, first).status == "completed"


def test_task_row_carries_role_from_lane_and_form_is_enforced(ctx):
    deploy(ctx, B.one_task())
    instance = start(ctx, "simple", unit_id=7)
    task = open_tasks(ctx, instance)[0]
    assert (task.role, task.unit_id, task.lane) == ("office", 7, "巡察办")
    with pytest.raises(InvalidTaskData) as err:
        complete(ctx, task.id, {"ok": "yes"})
    assert err.value.errors[0]["field"] == "ok"
    with pytest.raises(InvalidTaskData):
        complete(ctx, task.id, {"unexpected": 1, "ok": True})
    complete(ctx, task.id, {"ok": True})
    with pytest.raises(TaskNotOpen):
        complete(ctx, task.id, {"ok": True})


@pytest.mark.parametrize("script", [
    "__import__('os').system('id')",
    "().__class__.__mro__[1].__subclasses__()",
    "import os",
    "open('/etc/passwd').read()",
])
def test_hostile_script_is_rejected_at_deploy_with_element_id(ctx, script):
    with pytest.raises(DeployError) as err:
        deploy(ctx, B.with_script(script))
    assert {e["element_id"] for e in err.value.errors} == {"calc"}


def test_hostile_condition_is_rejected_at_deploy_with_element_id(ctx):
    with pytest.raises(DeployError) as err:
        deploy(ctx, B.with_condition("eval('1') == 1"))
    assert err.value.errors[0]["element_id"] == "f_cond"


def test_script_engine_is_the_safe_one_after_every_load(ctx):
    deploy(ctx, B.with_script('later = days_after("2026-01-01T00:00:00+08:00", 3)'))
    instance = start(ctx, "scripted")
    # the script runs only after a save and a load: it needs the helper our environment provides
    complete(ctx, open_tasks(ctx, instance)[0].id)
    assert [t.bpmn_id for t in open_tasks(ctx, instance)] == ["second"]
    with ctx.db.read() as s:
        data = ctx.engine.instance_data(s, s.get(ProcessInstance, instance))
        assert data["later"].startswith("2026-01-04T00:00:00")
    assert isinstance(ctx.engine.script_engine.environment, SafeEnvironment)


def test_task_data_is_not_shared_between_parallel_branches(ctx):
    deploy(ctx, B.parallel_scripts())
    result = ctx.db.transaction(lambda s: ctx.engine.start(s, "branches", {"shared": {"items": []}}))
    seen = {e.bpmn_id: e.data["shared"]["items"] for e in result.events if e.bpmn_id in ("branch_a", "branch_b")}
    assert seen == {"branch_a": ["a"], "branch_b": ["b"]}


def test_gateway_loop_back_fails_loudly_instead_of_stalling(ctx):
    deploy(ctx, B.loop_back(100))
    short = start(ctx, "looping", {"n": 0})
    assert [t.bpmn_id for t in open_tasks(ctx, short)] == ["after"]
    deploy(ctx, B.loop_back(250, pid="looping_long"))
    with pytest.raises(WorkflowFailure) as err:
        start(ctx, "looping_long", {"n": 0})
    assert "standardLoopCharacteristics" in str(err.value)
    with ctx.db.read() as s:  # nothing half-written stays behind
        assert s.scalar(select(func.count()).select_from(ProcessInstance)
                        .where(ProcessInstance.model_key == "looping_long")) == 0


def test_timer_fires_by_the_engine_clock_once(ctx, clock):
    due = datetime(2031, 3, 1, 9, 0, tzinfo=timezone(timedelta(hours=8)))
    deploy(ctx, B.timer("due"))
    instance = start(ctx, "timed", {"due": due.isoformat()})
    with ctx.db.read() as s:
        assert [t.due_at for t in s.scalars(select(Timer))] == [due.astimezone(UTC)]
        assert ctx.engine.due_timer_instances(s) == []
    clock.move_to(due + timedelta(seconds=1))
    with ctx.db.read() as s:
        assert ctx.engine.due_timer_instances(s) == [instance]
    ctx.db.transaction(lambda s: ctx.engine.fire_timers(s, instance))
    assert [t.bpmn_id for t in open_tasks(ctx, instance)] == ["after"]
    with ctx.db.read() as s:
        assert s.scalar(select(func.count()).select_from(Timer)) == 0
        assert ctx.engine.due_timer_instances(s) == []
        fired = s.scalars(select(HistoryEntry).where(HistoryEntry.event == "timer_fired")).all()
        assert [h.bpmn_id for h in fired] == ["wait"]


def test_a_timer_waits_for_the_engine_clock_even_when_the_wall_clock_is_past_it(ctx, clock):
    """The service's clock is the authority: a service whose clock reads an earlier day than the
    machine's sees a timer wait until its own time, not fire because the wall clock has passed it."""
    clock.move_to(datetime(2020, 1, 1, 9, 0, tzinfo=UTC))
    due = datetime(2020, 6, 1, 9, 0, tzinfo=UTC)  # long past by the wall clock
    deploy(ctx, B.timer("due"))
    instance = start(ctx, "timed", {"due": due.isoformat()})
    assert open_tasks(ctx, instance) == []
    with ctx.db.read() as s:
        assert [t.due_at for t in s.scalars(select(Timer))] == [due]
        assert ctx.engine.due_timer_instances(s) == []
    clock.move_to(due + timedelta(seconds=1))
    ctx.db.transaction(lambda s: ctx.engine.fire_timers(s, instance))
    assert [t.bpmn_id for t in open_tasks(ctx, instance)] == ["after"]


def test_changed_data_moves_a_waiting_timer_that_was_computed_from_it(ctx, clock):
    """SpiffWorkflow keeps a waiting timer's value once computed: change_data computes it again."""
    due = datetime(2031, 3, 1, 9, 0, tzinfo=timezone(timedelta(hours=8)))
    later = due + timedelta(days=15)
    deploy(ctx, B.timer("due"))
    instance = start(ctx, "timed", {"due": due.isoformat()})
    ctx.db.transaction(lambda s: ctx.engine.change_data(s, instance, {"due": later.isoformat()}, actor="office1"))
    with ctx.db.read() as s:
        assert [t.due_at for t in s.scalars(select(Timer))] == [later.astimezone(UTC)]
        assert ctx.engine.instance_data(s, s.get_one(ProcessInstance, instance))["due"] == later.isoformat()
    clock.move_to(due + timedelta(seconds=1))
    with ctx.db.read() as s:
        assert ctx.engine.due_timer_instances(s) == [], "nothing is due at the old point"
    clock.move_to(later + timedelta(seconds=1))
    ctx.db.transaction(lambda s: ctx.engine.fire_timers(s, instance))
    assert [t.bpmn_id for t in open_tasks(ctx, instance)] == ["after"]
    ended = start(ctx, "timed", {"due": due.isoformat()})
    ctx.db.transaction(lambda s: ctx.engine.fire_timers(s, ended))
    complete(ctx, open_tasks(ctx, ended)[0].id)
    with pytest.raises(TaskNotOpen):
        ctx.db.transaction(lambda s: ctx.engine.change_data(s, ended, {"due": later.isoformat()}, actor="office1"))


def test_naive_timer_values_are_read_in_the_district_zone_not_the_servers(ctx, monkeypatch):
    import time

    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    try:
        deploy(ctx, B.timer("due"))
        start(ctx, "timed", {"due": "2031-03-01T09:00:00"})
        with ctx.db.read() as s:
            assert s.scalar(select(Timer.due_at)) == datetime(2031, 3, 1, 1, 0, tzinfo=UTC)
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()


def test_message_is_delivered_by_name_and_correlation(ctx):
    deploy(ctx, B.message())
    a = start(ctx, "waiting", business_key="round:1")
    b = start(ctx, "waiting", business_key="round:2")
    delivered = ctx.db.transaction(lambda s: ctx.engine.deliver_message(s, "cases_closed", "round:2", {"n": 1}))
    assert [r.instance.id for r in delivered] == [b]
    assert open_tasks(ctx, a) == []
    assert [t.bpmn_id for t in open_tasks(ctx, b)] == ["after"]
    nothing = ctx.db.transaction(lambda s: ctx.engine.deliver_message(s, "cases_closed", "round:2", {}))
    assert nothing == []


def test_eight_threads_on_one_instance_lose_nothing_and_complete_nothing_twice(ctx):
    deploy(ctx, B.parallel(8))
    instances = [start(ctx, "fanout") for _ in range(2)]
    work = [t.id for i in instances for t in open_tasks(ctx, i)]
    assert len(work) == 16
    outcomes: list[tuple[str, str]] = []
    lock = threading.Lock()
    barrier = threading.Barrier(8)

    def worker(n):
        barrier.wait()
        # every task is attempted by two threads; exactly one may win
        for task_id in work[n::8] + work[(n + 1) % 8::8]:
            try:
                complete(ctx, task_id, actor=f"worker{n}")
                result = "done"
            except TaskNotOpen:
                result = "refused"
            with lock:
                outcomes.append((task_id, result))

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    done = [task for task, result in outcomes if result == "done"]
    assert sorted(done) == sorted(work), "every task completed exactly once"
    assert len(outcomes) == 32
    with ctx.db.read() as s:
        history = s.scalars(select(HistoryEntry.task_id).where(HistoryEntry.event == "task_completed")).all()
        assert sorted(history) == sorted(work)
    for i in instances:
        assert [t.bpmn_id for t in open_tasks(ctx, i)] == ["after"], "the join saw all eight branches"


def test_element_states_for_drawing_an_instance(ctx):
    deploy(ctx, B.parallel(2))
    instance = start(ctx, "fanout")
    complete(ctx, next(t.id for t in open_tasks(ctx, instance) if t.bpmn_id == "t0"))
    with ctx.db.read() as s:
        states = ctx.engine.element_states(s, s.get(ProcessInstance, instance))
    assert states["active"] == ["t1"]
    assert {"start", "split", "t0"} <= set(states["completed"])
    assert "join" in states["waiting"] and "after" not in states["completed"]


def test_scheduler_thread_fires_due_timers(ctx, clock):
    import time

    from service.scheduler import TimerScheduler

    deploy(ctx, B.timer("due"))
    instance = start(ctx, "timed", {"due": (clock.now() + timedelta(days=1)).isoformat()})
    clock.advance(timedelta(days=1, seconds=1))
    scheduler = TimerScheduler(ctx, interval=0.05)
    scheduler.start()
    try:
        for _ in range(100):
            if open_tasks(ctx, instance):
                break
            time.sleep(0.05)
    finally:
        scheduler.stop()
    assert [t.bpmn_id for t in open_tasks(ctx, instance)] == ["after"]
