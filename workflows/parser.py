"""The BPMN parser: SpiffWorkflow's Camunda parser, plus what it leaves out that we run on.

A user task's `camunda:dueDate` (an expression, as Camunda Modeler writes `${due_at}`) is kept
on its spec as `due_date`, so the engine can date the task when it opens; its `camunda:assignee`,
`candidateUsers`, `candidateGroups` and `priority` (each a literal or a `${…}` expression) are kept
as written, for the engine to work out when the task opens.

A timer's value as Camunda Modeler writes it is ISO 8601 text (`2027-01-01T09:00:00+08:00`,
`PT1H`, `R3/PT1H`), where SpiffWorkflow evaluates every timer value as an expression: such text
either fails to parse or names a variable that does not exist. `literal_timers` gives each such
timer the same text as a quoted string, so a literal and an expression both work.
"""
from __future__ import annotations

from SpiffWorkflow.bpmn.parser.BpmnParser import full_tag
from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.camunda.parser import CamundaParser
from SpiffWorkflow.camunda.parser.task_spec import CAMUNDA_MODEL_NS, UserTaskParser
from SpiffWorkflow.camunda.specs.user_task import UserTask

from .timer_checks import literal_value


def expression_body(text: str | None) -> str:
    """The expression inside Camunda's `${…}`, or the text as written."""
    body = (text or "").strip()
    if body.startswith("${") and body.endswith("}"):
        body = body[2:-1].strip()
    return body


class DatedUserTaskParser(UserTaskParser):
    def create_task(self):
        task = super().create_task()
        task.due_date = expression_body(self.node.get(f"{{{CAMUNDA_MODEL_NS}}}dueDate")) or None
        task.assignment = {name: value.strip() for name in ("assignee", "candidateUsers", "candidateGroups", "priority")
                           if (value := self.node.get(f"{{{CAMUNDA_MODEL_NS}}}{name}") or "").strip()}
        return task


class Parser(CamundaParser):
    OVERRIDE_PARSER_CLASSES = {**CamundaParser.OVERRIDE_PARSER_CLASSES,
                               full_tag("userTask"): (DatedUserTaskParser, UserTask)}


def literal_timers(specs) -> None:
    """Every timer whose value is ISO 8601 text written out gets it as a quoted expression."""
    for spec in specs:
        for task_spec in spec.task_specs.values():
            definition = getattr(task_spec, "event_definition", None)
            inner = definition.event_definitions if isinstance(definition, MultipleEventDefinition) else [definition]
            for timer in inner:
                if isinstance(timer, TimerEventDefinition):
                    body = expression_body(timer.expression)
                    text = literal_value(body)
                    timer.expression = repr(text) if text is not None else body
