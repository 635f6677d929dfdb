"""The BPMN parser: SpiffWorkflow's Camunda parser, plus what it leaves out that we run on.

A user task's `camunda:dueDate` (an expression, as Camunda Modeler writes `${due_at}`) is kept
on its spec as `due_date`, so the engine can date the task when it opens; its `camunda:assignee`,
`candidateUsers`, `candidateGroups` and `priority` (each a literal or a `${…}` expression) are kept
as written, for the engine to work out when the task opens.
"""
from __future__ import annotations

from SpiffWorkflow.bpmn.parser.BpmnParser import full_tag
from SpiffWorkflow.camunda.parser import CamundaParser
from SpiffWorkflow.camunda.parser.task_spec import CAMUNDA_MODEL_NS, UserTaskParser
from SpiffWorkflow.camunda.specs.user_task import UserTask


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
