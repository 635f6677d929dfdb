"""Workflow state without its spec.

SpiffWorkflow's default serialization embeds the whole parsed spec in every instance; the spec
already lives once per model version (and parsed in the registry's cache), so each save would
pay for it again. This converter keeps only the instance's own state and takes the spec back
from the cache on load. A serializer's registry holds per-call state, hence one per thread.
"""
from __future__ import annotations

import json
import threading
from copy import copy
from uuid import UUID

from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnSubWorkflowConverter, BpmnWorkflowConverter
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent
from SpiffWorkflow.bpmn.util.subworkflow import BpmnSubWorkflow
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.camunda.serializer import DEFAULT_CONFIG
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

FORMAT = "rectiflow-1"


class TaskTree:
    """A workflow's tasks to and from the dictionaries of SpiffWorkflow's `TaskConverter`, the same
    ones, written and read a tree at a time instead of a task at a time.

    Every completion loads and saves its instance's fifty-odd tasks. Task by task, the registry
    dispatches each one by its type name and parses or formats a task's id once for every place it
    appears (its own, its parent's list of children, its children's parent); a tree at a time, each
    id is parsed and formatted once, and a task's data starts from its parent's as
    `DeepMerge.merge({}, parent.data)` makes it (a copy of each mutable value)."""

    @staticmethod
    def to_dict(registry, workflow) -> dict[str, dict]:
        names = {uid: str(uid) for uid in workflow.tasks}
        convert = registry.convert
        tasks = {}
        for uid, task in workflow.tasks.items():
            parent = workflow.tasks.get(task._parent)
            if parent is None:
                data, delta = task.data, {}
            else:
                before, after = parent.data, task.data
                data, delta = {}, {"updates": {k: v for k, v in after.items() if k not in before or v != before[k]},
                                   "deletions": [k for k in before if k not in after]}
            tasks[names[uid]] = {
                "id": names[uid], "parent": names[task._parent] if parent is not None else None,
                "children": [names.get(child) or str(child) for child in task._children],
                "last_state_change": task.last_state_change, "state": task.state, "task_spec": task.task_spec.name,
                "triggered": task.triggered, "internal_data": convert(task.internal_data), "data": data,
                "delta": delta, "typename": "Task"}
        return tasks

    @staticmethod
    def from_dict(registry, dcts: dict[str, dict], workflow) -> None:
        """Restore the tasks into `workflow.tasks`, where each new Task enters itself."""
        ids = {key: UUID(key) for key in dcts}
        restore, specs = registry.restore, workflow.spec.task_specs
        events = workflow.top_workflow.event_manager
        for key, dct in dcts.items():
            spec = specs.get(dct["task_spec"])
            task = Task(workflow, spec, state=dct["state"], id=ids[key])
            parent = dct["parent"]
            task._parent = None if parent is None else (ids.get(parent) or UUID(parent))
            task._children = [ids.get(child) or UUID(child) for child in dct["children"]]
            task.last_state_change = dct["last_state_change"]
            task.triggered = dct["triggered"]
            task.internal_data = restore(dct["internal_data"]) if dct["internal_data"] else {}
            if isinstance(spec, CatchingEvent) and task.has_state(TaskState.WAITING):
                events.add_task(task)
            delta, above = dct.get("delta"), workflow.tasks.get(task._parent)
            if delta and above is not None:
                data = {k: copy(v) if isinstance(v, dict | list | set) else v for k, v in above.data.items()}
                updates = delta.get("updates")
                if updates:
                    data.update(restore(updates))
                for k in delta.get("deletions", ()):
                    data.pop(k, None)
            else:
                data = restore(dct["data"])
            task.data = data


def _workflow_dict(registry, workflow) -> dict:
    """What SpiffWorkflow's `WorkflowConverter.to_dict` writes of a workflow or a sub-process's, its
    tasks written by `TaskTree`."""
    return {"data": registry.convert(registry.clean(workflow.data)), "correlations": workflow.correlations,
            "last_task": str(workflow.last_task.id) if workflow.last_task is not None else None,
            "success": workflow.success, "completed": workflow.completed,
            "tasks": TaskTree.to_dict(registry, workflow), "root": str(workflow.task_tree.id)}


class SpeclessWorkflowConverter(BpmnWorkflowConverter):
    def to_dict(self, workflow):
        return {**_workflow_dict(self.registry, workflow), "subprocesses": self.mapping_to_dict(workflow.subprocesses),
                "bpmn_events": self.registry.convert(workflow.bpmn_events), "format": FORMAT}

    def from_dict(self, dct, spec=None, subprocess_specs=None):
        dct.pop("format", None)
        workflow = self.target_class(spec, subprocess_specs, deserializing=True)
        TaskTree.from_dict(self.registry, dct["tasks"], workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


class SubWorkflowTreeConverter(BpmnSubWorkflowConverter):
    """SpiffWorkflow's converter of a sub-process's workflow, its tasks a tree at a time."""

    def to_dict(self, workflow):
        return {**_workflow_dict(self.registry, workflow), "parent_task_id": str(workflow.parent_task_id),
                "spec": workflow.spec.name}

    def from_dict(self, dct, task, top_workflow):
        spec = top_workflow.subprocess_specs.get(task.task_spec.spec)
        subprocess = self.target_class(spec, task.id, top_workflow, deserializing=True)
        TaskTree.from_dict(self.registry, dct["tasks"], subprocess)
        subprocess.task_tree = subprocess.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(subprocess, dct)
        return subprocess


class CompactEncoder(json.JSONEncoder):
    """UTF-8 text and no padding: a case's state is mostly Chinese text, saved on every step."""

    def __init__(self, **kwargs):
        super().__init__(**{**kwargs, "ensure_ascii": False, "separators": (",", ":")})


class SpeclessSerializer(BpmnWorkflowSerializer):
    """SpiffWorkflow's serializer with the spec-less workflow converter; a load takes its spec."""

    def __init__(self):
        config = dict(DEFAULT_CONFIG)
        config[BpmnWorkflow] = SpeclessWorkflowConverter
        config[BpmnSubWorkflow] = SubWorkflowTreeConverter
        super().__init__(self.configure(config), json_encoder_cls=CompactEncoder)

    def deserialize_json(self, serialization, spec=None, subprocess_specs=None):
        dct = json.loads(serialization, cls=self.json_decoder_cls)
        self.migrate(dct)
        return self.from_dict(dct, spec=spec, subprocess_specs=subprocess_specs)


_local = threading.local()


def _serializer() -> SpeclessSerializer:
    serializer = getattr(_local, "serializer", None)
    if serializer is None:
        serializer = _local.serializer = SpeclessSerializer()
    return serializer


def dumps(workflow: BpmnWorkflow) -> str:
    return _serializer().serialize_json(workflow)


def loads(state: str, spec, subprocess_specs, script_engine) -> BpmnWorkflow:
    """Restore a workflow; the script engine is set here because SpiffWorkflow does not keep it."""
    workflow = _serializer().deserialize_json(state, spec=spec, subprocess_specs=subprocess_specs)
    workflow.script_engine = script_engine
    return workflow


def to_dict(workflow: BpmnWorkflow) -> dict:
    """The dictionary `dumps` encodes: its values still Python objects, which `encode` writes as
    `dumps` would (a state derived from another is written part by part, see `workflows.fanout`)."""
    serializer = _serializer()
    serializer.registry._encoder_mode = True
    try:
        dct = serializer.to_dict(workflow)
    finally:
        serializer.registry._encoder_mode = False
    dct[serializer.VERSION_KEY] = serializer.VERSION
    return dct


def encode(value) -> str:
    """A value as `dumps` writes it inside a state."""
    return json.dumps(value, cls=_serializer()._encoder_cls)


def encoder() -> json.JSONEncoder:
    """An encoder that writes values as `encode` does, to be used again and again (making one costs
    more than encoding a number)."""
    return _serializer()._encoder_cls()


def spec_registry():
    """The converter registry, which also turns task specs into dictionaries (for comparing two
    versions of an element, `workflows.migration`)."""
    return _serializer().registry
