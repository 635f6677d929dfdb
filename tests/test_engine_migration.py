"""Moving an instance between versions of a small model (workflows.migration): a person's open task
keeps its id and leads on into the new diagram; an open task whose element the new version removed
or made another kind of element cannot move, and a move never half-happens."""
from __future__ import annotations

import bpmn_snippets as B
import pytest
from sqlalchemy import select

from workflows.migration import MigrationRefused, instance_obstacles, migrate_instance
from workflows.tables import HumanTask, ProcessInstance


@pytest.fixture
def ctx(engine_ctx):
    return engine_ctx


def chain(*tasks: tuple[str, str]) -> bytes:
    """start → the tasks in order (id, element kind) → end."""
    ids = ["start", *[t for t, _ in tasks], "end"]
    nodes = "".join(f'<bpmn:{kind} id="{t}" name="{t}"/>' for t, kind in tasks)
    flows = "".join(B.flow(f"f{i}", a, b) for i, (a, b) in enumerate(zip(ids, ids[1:], strict=False)))
    return B.doc("chain", f'<bpmn:startEvent id="start"/>{nodes}<bpmn:endEvent id="end"/>{flows}')


def deploy(ctx, xml) -> int:
    return ctx.db.transaction(lambda s: ctx.engine.deploy(s, xml, deployed_by="test")[0].id)


def open_rows(ctx, instance_id) -> list[tuple[str, str]]:
    with ctx.db.read() as s:
        return [(t.id, t.bpmn_id) for t in s.scalars(select(HumanTask).where(
            HumanTask.instance_id == instance_id, HumanTask.state == "open"))]


def complete(ctx, instance_id) -> None:
    [(task_id, _)] = open_rows(ctx, instance_id)
    ctx.db.transaction(lambda s: ctx.engine.complete_task(s, task_id, {}, actor="tester"))


def obstacles(ctx, instance_id, version_id):
    with ctx.db.read() as s:
        return [(o.code, o.element_id) for o in instance_obstacles(ctx.engine, s, s.get(ProcessInstance, instance_id),
                                                                   version_id)]


def test_an_open_task_moves_and_leads_into_the_new_diagram(ctx):
    deploy(ctx, chain(("a", "userTask"), ("b", "userTask")))
    at_a = ctx.db.transaction(lambda s: ctx.engine.start(s, "chain", {}).instance.id)
    before = open_rows(ctx, at_a)
    v2 = deploy(ctx, chain(("a", "userTask"), ("c", "userTask"), ("b", "userTask")))
    assert obstacles(ctx, at_a, v2) == []
    ctx.db.transaction(lambda s: migrate_instance(ctx.engine, s, at_a, v2, actor="designer"))
    assert open_rows(ctx, at_a) == before, "the same task, under the same id"
    complete(ctx, at_a)
    assert [b for _, b in open_rows(ctx, at_a)] == ["c"], "the step version 2 added comes next"
    complete(ctx, at_a)
    complete(ctx, at_a)
    with ctx.db.read() as s:
        assert s.get(ProcessInstance, at_a).status == "completed"


def test_an_open_task_removed_or_changed_in_kind_keeps_the_instance_where_it_is(ctx):
    v1 = deploy(ctx, chain(("a", "userTask"), ("b", "userTask")))
    at_a = ctx.db.transaction(lambda s: ctx.engine.start(s, "chain", {}).instance.id)
    at_b = ctx.db.transaction(lambda s: ctx.engine.start(s, "chain", {}).instance.id)
    complete(ctx, at_b)
    removed = deploy(ctx, chain(("a", "userTask")))
    assert obstacles(ctx, at_a, removed) == []
    assert obstacles(ctx, at_b, removed) == [("open_element_removed", "b")]
    changed = deploy(ctx, chain(("a", "manualTask"), ("b", "userTask")))
    assert obstacles(ctx, at_a, changed) == [("element_type_changed", "a")]
    rows = open_rows(ctx, at_b)
    with pytest.raises(MigrationRefused):
        ctx.db.transaction(lambda s: migrate_instance(ctx.engine, s, at_b, removed, actor="designer"))
    with ctx.db.read() as s:
        assert s.get(ProcessInstance, at_b).model_version_id == v1
    assert open_rows(ctx, at_b) == rows


def test_an_open_task_that_gets_boundary_events_cannot_move(ctx):
    """The new version attaches an event to the task: SpiffWorkflow would wait for a split the
    instance never passed, and the task could never be completed."""
    deploy(ctx, chain(("a", "userTask"), ("b", "userTask")))
    at_b = ctx.db.transaction(lambda s: ctx.engine.start(s, "chain", {}).instance.id)
    complete(ctx, at_b)
    ids = ["start", "a", "b", "end"]
    flows = "".join(B.flow(f"f{i}", x, y) for i, (x, y) in enumerate(zip(ids, ids[1:], strict=False)))
    v2 = deploy(ctx, B.doc("chain", '<bpmn:startEvent id="start"/><bpmn:userTask id="a"/><bpmn:userTask id="b"/>'
                           '<bpmn:endEvent id="end"/><bpmn:boundaryEvent id="sig" attachedToRef="b">'
                           '<bpmn:signalEventDefinition id="sd" signalRef="s1"/></bpmn:boundaryEvent>'
                           '<bpmn:endEvent id="sig_end"/>' + flows + B.flow("fs", "sig", "sig_end"),
                           extra='<bpmn:signal id="s1" name="s1"/>'))
    assert obstacles(ctx, at_b, v2) == [("boundary_events_changed", "b")]


def test_an_instance_inside_a_removed_sub_process_cannot_move(ctx):
    inner = ('<bpmn:subProcess id="sub"><bpmn:startEvent id="s0"/><bpmn:userTask id="x"/><bpmn:endEvent id="s1"/>'
             + B.flow("g0", "s0", "x") + B.flow("g1", "x", "s1") + '</bpmn:subProcess>')
    deploy(ctx, B.doc("chain", '<bpmn:startEvent id="start"/>' + inner + '<bpmn:endEvent id="end"/>'
                      + B.flow("f0", "start", "sub") + B.flow("f1", "sub", "end")))
    inside = ctx.db.transaction(lambda s: ctx.engine.start(s, "chain", {}).instance.id)
    v2 = deploy(ctx, chain(("x", "userTask")))
    # SpiffWorkflow aligns the sub-process with the task now in its place: another kind of element
    assert obstacles(ctx, inside, v2) == [("subprocess_removed", "sub"), ("element_type_changed", "sub")]
