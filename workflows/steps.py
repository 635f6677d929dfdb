"""Steps: what an element of a diagram means to the service, declared on the element itself.

An element declares the step of the mechanism it carries out with a Camunda extension property
(`camunda:properties/camunda:property name="rectiflow.step" value="self_check"`), which Camunda
Modeler and the designer's properties panel edit like any other. The service reacts to steps,
never to element ids, so a designer may rename and rearrange elements; a version of a model
that drops a step the service needs is refused when deployed.
"""
from __future__ import annotations

STEP_PROPERTY = "rectiflow.step"


def step_of(task_spec) -> str | None:
    """The step an element declares; else its id (models drawn before steps were declared)."""
    extensions = getattr(task_spec, "extensions", None) or {}
    return extensions.get(STEP_PROPERTY) or getattr(task_spec, "bpmn_id", None)


def declared_steps(specs) -> set[str]:
    return {step for spec in specs for ts in spec.task_specs.values() if (step := step_of(ts))}
