"""Workflow state without its spec.

SpiffWorkflow's default serialization embeds the whole parsed spec in every instance; the spec
already lives once per model version (and parsed in the registry's cache), so each save would
pay for it again. This converter keeps only the instance's own state and takes the spec back
from the cache on load. A serializer's registry holds per-call state, hence one per thread.
"""
from __future__ import annotations

import json
import threading
from uuid import UUID

from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, WorkflowConverter
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.camunda.serializer import DEFAULT_CONFIG

FORMAT = "rectiflow-1"


class SpeclessWorkflowConverter(BpmnWorkflowConverter):
    def to_dict(self, workflow):
        dct = WorkflowConverter.to_dict(self, workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        dct["format"] = FORMAT
        return dct

    def from_dict(self, dct, spec=None, subprocess_specs=None):
        dct.pop("format", None)
        workflow = self.target_class(spec, subprocess_specs, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


class CompactEncoder(json.JSONEncoder):
    """UTF-8 text and no padding: a case's state is mostly Chinese text, saved on every step."""

    def __init__(self, **kwargs):
        super().__init__(**{**kwargs, "ensure_ascii": False, "separators": (",", ":")})


class SpeclessSerializer(BpmnWorkflowSerializer):
    """SpiffWorkflow's serializer with the spec-less workflow converter; a load takes its spec."""

    def __init__(self):
        config = dict(DEFAULT_CONFIG)
        config[BpmnWorkflow] = SpeclessWorkflowConverter
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
