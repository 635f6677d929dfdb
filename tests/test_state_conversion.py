"""An instance's state is converted a whole task tree at a time (`workflows.serializer.TaskTree`): it
must read and write exactly as SpiffWorkflow's own task-by-task converters do, whatever step the
instance is at."""
from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

import bpmn_snippets as B
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, WorkflowConverter
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.camunda.serializer import DEFAULT_CONFIG
from sqlalchemy import select
from support import rounds

from workflows import serializer
from workflows.tables import HumanTask, ProcessInstance


class _SpiffTaskByTask(BpmnWorkflowConverter):
    """The spec-less workflow as SpiffWorkflow's own converters write and read its tasks, one at a time."""

    def to_dict(self, workflow):
        return {**WorkflowConverter.to_dict(self, workflow), "subprocesses": self.mapping_to_dict(workflow.subprocesses),
                "bpmn_events": self.registry.convert(workflow.bpmn_events), "format": serializer.FORMAT}

    def from_dict(self, dct, spec=None, subprocess_specs=None):
        dct.pop("format", None)
        workflow = self.target_class(spec, subprocess_specs, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


class _SpiffSerializer(serializer.SpeclessSerializer):
    def __init__(self):
        config = {**DEFAULT_CONFIG, BpmnWorkflow: _SpiffTaskByTask}
        BpmnWorkflowSerializer.__init__(self, self.configure(config), json_encoder_cls=serializer.CompactEncoder)


def _tree(workflow) -> list:
    """Each task as read: its place, state and data, and which of its data's lists and dicts are its
    parent's very objects (none: each task changes its own)."""
    return [(str(t.id), str(t._parent), [str(c) for c in t._children], t.task_spec.name, t.state, t.triggered,
             t.last_state_change, t.data, t.internal_data,
             sorted(k for k, v in t.data.items() if t.parent is not None and isinstance(v, dict | list)
                    and v is t.parent.data.get(k)))
            for wf in [workflow, *workflow.subprocesses.values()] for t in wf.tasks.values()]


def _loaded(ctx, s, instance: ProcessInstance):
    model = ctx.engine.registry.load(s, instance.model_version_id)
    return serializer.loads(instance.state, model.spec, model.subprocess_specs, None)


def _read_and_written_alike(ctx) -> list[ProcessInstance]:
    """Every instance's state read with `serializer.loads` and with SpiffWorkflow's task-by-task
    converters gives the same tasks, data and waiting events, and is written back to the same text."""
    spiff = _SpiffSerializer()
    with ctx.db.read() as s:
        instances = s.scalars(select(ProcessInstance).order_by(ProcessInstance.id)).all()
        for instance in instances:
            ours = _loaded(ctx, s, instance)
            model = ctx.engine.registry.load(s, instance.model_version_id)
            theirs = spiff.deserialize_json(instance.state, model.spec, model.subprocess_specs)
            assert _tree(ours) == _tree(theirs), instance.id
            assert set(ours.event_manager.tasks) == set(theirs.event_manager.tasks), instance.id
            assert serializer.dumps(ours) == spiff.serialize_json(theirs) == serializer.dumps(theirs), instance.id
    return instances


def test_the_demo_districts_states_are_read_and_written_as_spiffworkflow_does(app_over, demo_database_url):
    """Tasks are converted a whole tree at a time (`serializer.TaskTree`); every instance of the demo
    district, at whatever step, comes out as SpiffWorkflow's own converters make it."""
    with app_over(demo_database_url) as application:
        instances = _read_and_written_alike(application.extensions["rectiflow"])
    assert len({i.model_key for i in instances}) >= 3 and any(i.status == "completed" for i in instances)


def test_waiting_timers_dates_and_removed_data_are_read_and_written_as_spiffworkflow_does(ctx, district):
    """Cases just published wait on their deadlines' timers inside a sub-process; dates in the data are
    kept as objects, whether a task took them from its parent or set them itself; a task whose data
    lacks a name its parent's has (SpiffWorkflow removes a multi-instance's item or a data object so)
    is written with the name deleted, and read so."""
    rounds.publish_round(ctx, district)
    ctx.db.transaction(lambda s: ctx.engine.deploy(s, B.with_script("later = note")))
    instance_id = ctx.db.transaction(lambda s: ctx.engine.start(
        s, "scripted", {"note": "删", "dates": [{"at": datetime(2026, 3, 1, tzinfo=UTC)}]}).instance.id)
    first = ctx.db.transaction(lambda s: s.scalar(select(HumanTask.id).where(HumanTask.instance_id == instance_id)))
    ctx.db.transaction(lambda s: ctx.engine.complete_task(s, first, {}, actor="tester"))
    instances = _read_and_written_alike(ctx)
    assert any(i.model_key == "unit_rectification" for i in instances)

    spiff = _SpiffSerializer()
    with ctx.db.read() as s:
        waiting = [_loaded(ctx, s, i) for i in instances if i.model_key == "unit_rectification"]
        instance = s.get_one(ProcessInstance, instance_id)
        model = ctx.engine.registry.load(s, instance.model_version_id)
        scripted = _loaded(ctx, s, instance)
    assert all(w.event_manager.tasks for w in waiting), "the deadlines' timers wait"
    [second] = [t for t in scripted.tasks.values() if t.task_spec.name == "second"]
    assert second.data["later"] == "删" and second.data["dates"][0]["at"] == datetime(2026, 3, 1, tzinfo=UTC)
    del second.data["note"]
    second.data["checked_at"] = checked = datetime(2026, 3, 2, 9, tzinfo=UTC)  # a date among a task's own changes
    text = serializer.dumps(scripted)
    assert text == spiff.serialize_json(scripted)
    ours = serializer.loads(text, model.spec, model.subprocess_specs, None)
    assert _tree(ours) == _tree(spiff.deserialize_json(text, model.spec, model.subprocess_specs))
    [again] = [t for t in ours.tasks.values() if t.task_spec.name == "second"]
    assert "note" not in again.data and again.data["later"] == "删" and again.data["checked_at"] == checked
