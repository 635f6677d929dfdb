"""An instance's saved state: kept compressed, and states written by earlier releases (plain JSON)
still load and move on; a completion keeps the index rows exactly as a full rebuild would."""
from __future__ import annotations

import json

import bpmn_snippets as B
import pytest
from sqlalchemy import func, select, text

from workflows.tables import HumanTask, MessageSubscription, ProcessInstance, Timer


@pytest.fixture
def ctx(engine_ctx):
    return engine_ctx


def _start(ctx, key, data=None, **kw) -> int:
    return ctx.db.transaction(lambda s: ctx.engine.start(s, key, data or {}, **kw).instance.id)


def _open(ctx, instance_id) -> list[HumanTask]:
    with ctx.db.read() as s:
        return list(s.scalars(select(HumanTask).where(HumanTask.instance_id == instance_id, HumanTask.state == "open")
                              .order_by(HumanTask.bpmn_id)))


def _complete(ctx, task_id, data=None):
    return ctx.db.transaction(lambda s: ctx.engine.complete_task(s, task_id, data or {}, actor="tester"))


def test_the_state_is_stored_compressed_and_read_back_whole(ctx):
    ctx.db.transaction(lambda s: ctx.engine.deploy(s, B.parallel(8)))
    instance_id = _start(ctx, "fanout", {"note": "整改" * 200})
    with ctx.db.read() as s:
        stored, state = s.execute(select(func.length(ProcessInstance.state), ProcessInstance.state)
                                  .where(ProcessInstance.id == instance_id)).one()
    assert json.loads(state)["data"] is not None, "readers get the JSON text"
    assert stored * 3 < len(state), f"the column holds {stored} characters for {len(state)} of JSON"


def test_a_state_saved_plain_by_an_earlier_release_loads_and_moves_on(ctx):
    ctx.db.transaction(lambda s: ctx.engine.deploy(s, B.parallel(8)))
    instance_id = _start(ctx, "fanout")
    with ctx.db.read() as s:
        plain = s.get_one(ProcessInstance, instance_id).state
    with ctx.db.engine.begin() as conn:  # as written before states were compressed: the JSON itself
        conn.execute(text("UPDATE wf_instance SET state = :state WHERE id = :id"), {"state": plain, "id": instance_id})
        assert conn.scalar(text("SELECT state FROM wf_instance WHERE id = :id"), {"id": instance_id}) == plain
    for task in _open(ctx, instance_id):
        _complete(ctx, task.id)
    assert [t.bpmn_id for t in _open(ctx, instance_id)] == ["after"]
    with ctx.db.read() as s:
        assert s.scalar(select(func.length(ProcessInstance.state)).where(ProcessInstance.id == instance_id)) \
            < len(s.get_one(ProcessInstance, instance_id).state), "its next save compressed it"


def _guarded() -> bytes:
    """A task with a deadline (a boundary timer) and, after it, a wait for a message."""
    return B.doc("guarded", f"""
      <bpmn:startEvent id="start"/>
      <bpmn:userTask id="task" name="整改"/>
      <bpmn:boundaryEvent id="late" attachedToRef="task">
        <bpmn:timerEventDefinition id="td">
          <bpmn:timeDuration xsi:type="bpmn:tFormalExpression">"P10D"</bpmn:timeDuration>
        </bpmn:timerEventDefinition>
      </bpmn:boundaryEvent>
      <bpmn:userTask id="chase" name="督办"/>
      <bpmn:intermediateCatchEvent id="wait" name="等待通知">
        <bpmn:messageEventDefinition id="md" messageRef="msg"/>
      </bpmn:intermediateCatchEvent>
      <bpmn:userTask id="after" name="收到后"/><bpmn:endEvent id="end"/><bpmn:endEvent id="end_late"/>
      {B.flow("f1", "start", "task")}{B.flow("f2", "task", "wait")}{B.flow("f3", "wait", "after")}
      {B.flow("f4", "after", "end")}{B.flow("f5", "late", "chase")}{B.flow("f6", "chase", "end_late")}""",
                 extra='<bpmn:message id="msg" name="cases_closed"/>')


def test_a_completion_leaves_the_rows_a_full_rebuild_would(ctx):
    """Completions write only what changed; the tasks, timers and messages then are those the state
    implies, as the engine's other calls (which rebuild them from the state) leave them."""
    ctx.db.transaction(lambda s: ctx.engine.deploy(s, _guarded()))
    instance_id = _start(ctx, "guarded", business_key="round:9")

    def rows(instance_id):
        with ctx.db.read() as s:
            return (sorted((t.id, t.bpmn_id, t.state) for t in s.scalars(
                        select(HumanTask).where(HumanTask.instance_id == instance_id))),
                    sorted((t.task_id, t.bpmn_id, t.due_at) for t in s.scalars(
                        select(Timer).where(Timer.instance_id == instance_id))),
                    sorted((m.task_id, m.name) for m in s.scalars(
                        select(MessageSubscription).where(MessageSubscription.instance_id == instance_id))))

    tasks, timers, messages = rows(instance_id)
    assert [b for _, b, _ in tasks] == ["task"] and [b for _, b, _ in timers] == ["late"] and messages == []
    _complete(ctx, _open(ctx, instance_id)[0].id)
    tasks, timers, messages = rows(instance_id)
    assert [(b, state) for _, b, state in tasks] == [("task", "completed")]
    assert timers == [], "the finished task's deadline no longer waits"
    assert [name for _, name in messages] == ["cases_closed"]
    delivered = ctx.db.transaction(lambda s: ctx.engine.deliver_message(s, "cases_closed", "round:9", {}))
    assert [r.instance.id for r in delivered] == [instance_id]
    assert [t.bpmn_id for t in _open(ctx, instance_id)] == ["after"]
    _complete(ctx, _open(ctx, instance_id)[0].id)
    tasks, timers, messages = rows(instance_id)
    assert sorted(b for _, b, state in tasks if state == "completed") == ["after", "task"]
    assert timers == [] and messages == []
    with ctx.db.read() as s:
        assert s.get_one(ProcessInstance, instance_id).status == "completed"
