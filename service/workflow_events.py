"""What each step of the mechanism means for the records, in one table.

A step is declared on a BPMN element (`workflows.steps`); an instance's business key says which
record it works on (`round:3`, `case:12`). When the engine reports a completed step, the handler
for (record kind, step) updates that record in the same transaction; before a user task completes,
its check (if any) applies the rules a form schema cannot express. The table also tells the
engine which steps each default model must declare, so a version that drops one is refused.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from workflows.engine import RunResult, StepEvent
from workflows.tables import HumanTask

from . import cases, clues, letters, measures, residents, rounds, supervision_steps
from .auth import Principal
from .context import Context
from .errors import Unprocessable
from .models import BusinessKey, KeyKind, WarningLevel

Handler = Callable[[Context, Session, "Principal | None", int, StepEvent], None]
Check = Callable[[Session, int, dict], None]
# A check of what a form offers: a rule about a field applies only when the task's form has the field,
# so a task of an earlier model version (whose form lacked it) can still be completed.
FormCheck = Callable[[Session, int, dict, frozenset[str]], None]

MODEL_OF = {KeyKind.ROUND: "inspection_round", KeyKind.CASE: "unit_rectification",
            KeyKind.LETTER: "recommendation_letter", KeyKind.CLUE: "clue_handover",
            KeyKind.MEASURE: "measure_followup", KeyKind.RESIDENT_REPORT: "resident_report"}


@dataclass(frozen=True)
class Step:
    kind: KeyKind
    name: str
    purpose: str  # why the service needs the step: named when a model version lacks it
    handler: Handler | None = None
    check: Check | None = None
    form_check: FormCheck | None = None


STEPS = (
    Step(KeyKind.ROUND, "record_findings", "the round moves on to its list once the findings are recorded",
         rounds.on_findings_recorded),
    Step(KeyKind.ROUND, "distill_list", "the office distils the common-problem list",
         check=rounds.require_a_common_problem),
    Step(KeyKind.ROUND, "approve_list", "the leading group's approval is recorded on the round",
         rounds.on_list_approved, rounds.require_a_common_problem),
    Step(KeyKind.ROUND, "publish_list", "publishing the list opens every unit's case and sends the letters",
         rounds.on_list_published),
    Step(KeyKind.ROUND, "round_summary", "the summary closes the round", rounds.on_round_summarised),
    Step(KeyKind.CASE, "self_check", "the unit's self-check is recorded on its case",
         cases.on_self_check, cases.check_self_check),
    Step(KeyKind.CASE, "rectify", "the unit's measures and institutions are recorded on its case",
         cases.on_rectify, cases.check_rectification),
    Step(KeyKind.CASE, "attest_and_file", "the head's attestation files the case", cases.on_filed,
         cases.check_filing),
    Step(KeyKind.CASE, "review_filing", "the office's review closes or returns the case", cases.on_reviewed),
    Step(KeyKind.CASE, "warn_green", "the green reminder is recorded", cases.on_warning(WarningLevel.GREEN)),
    Step(KeyKind.CASE, "warn_yellow", "the yellow warning is recorded and the leader told",
         cases.on_warning(WarningLevel.YELLOW)),
    Step(KeyKind.CASE, "warn_red", "the red (overdue) warning is recorded", cases.on_warning(WarningLevel.RED)),
    Step(KeyKind.CASE, "track_supervision", "the office's choice on an overdue case is put into effect",
         supervision_steps.on_tracked, form_check=supervision_steps.check_tracking),
    Step(KeyKind.CASE, "talk_reminder", "the talk with a still-late unit's head is recorded",
         supervision_steps.on_talked, form_check=supervision_steps.check_talk),
    Step(KeyKind.CASE, "reply_tracking_letter", "the unit's reply to a tracking letter is recorded",
         supervision_steps.on_replied, supervision_steps.check_reply),
    Step(KeyKind.CASE, "tracking_reply_late", "a tracking letter left unanswered is recorded and the office told",
         supervision_steps.on_reply_late),
    Step(KeyKind.CASE, "special_inspection_check", "the special inspection's result is recorded; a failure "
         "sends the case back", supervision_steps.on_inspected, supervision_steps.check_inspection),
    Step(KeyKind.MEASURE, "report_measure", "the unit's report that a measure is done (with evidence) is recorded",
         measures.on_reported, measures.check_reported),
    Step(KeyKind.MEASURE, "measure_overdue", "a measure unreported at its deadline is flagged overdue",
         measures.on_overdue),
    Step(KeyKind.LETTER, "plan_governance", "the department's governance plan is recorded", letters.on_planned),
    Step(KeyKind.LETTER, "report_governance", "the department's governance report is recorded", letters.on_reported),
    Step(KeyKind.LETTER, "evaluate_governance", "the office's evaluation is recorded", letters.on_evaluated),
    Step(KeyKind.CLUE, "approve_handover", "the hand-over decision is recorded on the clue",
         clues.on_handover_decided),
    Step(KeyKind.CLUE, "receive_clue", "the discipline inspection's receipt is recorded", clues.on_received),
    Step(KeyKind.CLUE, "dispose_clue", "the disposition is recorded on the clue", clues.on_disposed),
    Step(KeyKind.RESIDENT_REPORT, "handle_resident_report", "the unit's answer to a forwarded resident's report "
         "is recorded for the office's reply", residents.on_handled),
)
_BY_KEY: dict[tuple[KeyKind, str | None], Step] = {(step.kind, step.name): step for step in STEPS}


def required_steps() -> dict[str, dict[str, str]]:
    """Per default model: the steps a new version must declare, each with why."""
    needed: dict[str, dict[str, str]] = {}
    for step in STEPS:
        needed.setdefault(MODEL_OF[step.kind], {})[step.name] = step.purpose
    return needed


def dispatch(ctx: Context, s: Session, p: Principal | None, result: RunResult) -> None:
    key = BusinessKey.parse(result.instance.business_key)
    if key is None:
        return
    for event in result.events:
        step = _BY_KEY.get((key.kind, event.step)) if event.kind == "task_completed" else None
        if step is not None and step.handler is not None:
            step.handler(ctx, s, p, key.id, event)


def check_before_complete(s: Session, task: HumanTask, data: dict, offered: frozenset[str] = frozenset()) -> None:
    """The domain's rules for a user task's data, beyond its form (ids that must belong to this round…);
    `offered` names the fields the task's form has."""
    key = BusinessKey.parse(task.business_key)
    if key is None:
        return
    step = _BY_KEY.get((key.kind, task.step))
    if step is not None and step.check is not None:
        step.check(s, key.id, data)
    if step is not None and step.form_check is not None:
        step.form_check(s, key.id, data, offered)


# Steps that decide: the field the decision is in, chosen explicitly (是 or 否), and a no explained by an opinion.
DECISIONS: dict[tuple[KeyKind, str], str] = {
    (KeyKind.ROUND, "approve_list"): "approved",
    (KeyKind.CASE, "review_filing"): "accepted",
}
OPINION_FIELD = "comment"


def decision_field(task: HumanTask) -> str | None:
    """The field a deciding task's choice is in; None for a task that decides nothing."""
    key = BusinessKey.parse(task.business_key)
    return DECISIONS.get((key.kind, task.step or "")) if key is not None else None


def check_decision(task: HumanTask, data: dict) -> None:
    """A decision is chosen, never assumed from a missing answer; a return or rejection says why.
    Runs before the form's own checks, so a model whose form forgot `required` keeps the rule."""
    field = decision_field(task)
    if field is None or not isinstance(data, dict):
        return
    choice = data.get(field)
    if choice is None or choice == "":
        raise Unprocessable.on_field(field, "decision_required", "choose yes or no",
                                     f"the decision {field!r} is not chosen")
    opinion = data.get(OPINION_FIELD)
    if choice is False and not (isinstance(opinion, str) and opinion.strip()):
        raise Unprocessable.on_field(OPINION_FIELD, "opinion_required", "a return or rejection needs an opinion",
                                     "say why: the next handler reads it at the top of their task")
