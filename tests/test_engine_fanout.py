"""`Engine.start_many`: instances started together are those `Engine.start` makes one by one, whether
their data sends them down one path, several, or leaves nothing to derive."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import bpmn_snippets as B
import pytest
from sqlalchemy import select

from workflows import fanout
from workflows.clock import Clock
from workflows.tables import HistoryEntry, HumanTask, ProcessInstance, Timer


class TickingClock(Clock):
    """A clock that moves a second each time it is read: a script reading it sees each run apart."""

    def __init__(self):
        super().__init__()
        self.at = datetime(2026, 5, 1, tzinfo=UTC)

    def now(self) -> datetime:
        self.at += timedelta(seconds=1)
        return self.at


@pytest.fixture
def ctx(engine_ctx):
    return engine_ctx


def deploy(ctx, xml):
    ctx.db.transaction(lambda s: ctx.engine.deploy(s, xml, deployed_by="test"))


def start_many(ctx, key, data):
    def work(s):
        results = ctx.engine.start_many(s, key, data, unit_ids=list(range(len(data))),
                                        business_keys=[f"case:{i}" for i in range(len(data))])
        return [r.instance.id for r in results]
    return ctx.db.transaction(work)


def start_each(ctx, key, data):
    return [ctx.db.transaction(lambda s, i=i, d=d: ctx.engine.start(s, key, d, unit_id=i, business_key=f"case:{i}")
                               .instance.id) for i, d in enumerate(data)]


def made(ctx, ids):
    """Per instance: its open tasks, timers, history and canonical state."""
    with ctx.db.read() as s:
        out = []
        for instance_id in ids:
            instance = s.get_one(ProcessInstance, instance_id)
            out.append({
                "tasks": sorted((t.bpmn_id, t.unit_id, t.business_key, t.due_at) for t in s.scalars(
                    select(HumanTask).where(HumanTask.instance_id == instance_id))),
                "timers": sorted((t.bpmn_id, t.due_at) for t in s.scalars(
                    select(Timer).where(Timer.instance_id == instance_id))),
                "history": [(h.event, h.data) for h in s.scalars(
                    select(HistoryEntry).where(HistoryEntry.instance_id == instance_id).order_by(HistoryEntry.id))],
                "status": instance.status,
                "state": fanout.canonical(instance.state),
            })
        return out


def counted(monkeypatch, ctx) -> list:
    runs: list = []
    fresh = type(ctx.engine)._fresh
    monkeypatch.setattr(type(ctx.engine), "_fresh", lambda self, *a: runs.append(1) or fresh(self, *a))
    return runs


def test_a_gateway_reading_start_data_runs_once_per_path(ctx, monkeypatch):
    deploy(ctx, B.with_condition("level &gt; 2"))
    data = [{"level": i % 4, "case_id": 100 + i} for i in range(16)]
    one_by_one = made(ctx, start_each(ctx, "conditional", data))
    runs = counted(monkeypatch, ctx)
    together = made(ctx, start_many(ctx, "conditional", data))
    assert together == one_by_one
    assert [m["status"] for m in together].count("completed") == 12, "levels 0-2 end at once"
    assert len(runs) == 8, "each of the four levels ran for its first two instances; the rest were derived"


def test_timers_follow_each_instance_own_date(ctx, monkeypatch):
    deploy(ctx, B.timer("due"))
    data = [{"due": f"2027-0{1 + i % 3}-15T09:00:00+08:00", "unit": i} for i in range(9)]
    one_by_one = made(ctx, start_each(ctx, "timed", data))
    together = made(ctx, start_many(ctx, "timed", data))
    assert together == one_by_one
    assert len({m["timers"][0][1] for m in together}) == 3


def test_what_the_second_run_shows_different_is_not_derived(engine_ctx, monkeypatch):
    """A script reading the clock gives each instance its own time: the check against the second
    instance's own run sees it, and every instance runs."""
    ticking = TickingClock()
    monkeypatch.setattr(engine_ctx.engine.clock, "now", ticking.now)
    ctx = engine_ctx
    body = f"""<bpmn:startEvent id="start"/>
      <bpmn:scriptTask id="stamp" scriptFormat="python"><bpmn:script>stamped = now()</bpmn:script></bpmn:scriptTask>
      <bpmn:userTask id="after" name="办理"/><bpmn:endEvent id="end"/>
      {B.flow("f1", "start", "stamp")}{B.flow("f2", "stamp", "after")}{B.flow("f3", "after", "end")}"""
    deploy(ctx, B.doc("stamped", body))
    runs = counted(monkeypatch, ctx)
    ids = start_many(ctx, "stamped", [{"unit": i} for i in range(6)])
    assert len(runs) == 6
    with ctx.db.read() as s:
        stamps = {ctx.engine.instance_data(s, s.get_one(ProcessInstance, i))["stamped"] for i in ids}
    assert len(stamps) == 6


def test_a_model_reading_names_it_does_not_spell_runs_each_instance(ctx):
    with pytest.raises(fanout.NotDerivable):
        fanout.referenced_names([{"script": "x = locals()['unit']"}])
