"""One process instance as its page shows it: drawn on its model version, with its history.

Who may look is `access.instance_scope`, the same need-to-know rules as cases and tasks: the
office and the leading group see every instance; anyone else sees an instance of a unit whose
case they may read, or one holding a task they may see (an inspector's round, the discipline
role's hand-over). Everyone else gets NotFound, not Forbidden, so the page does not confirm that
an instance exists.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from workflows.tables import HistoryEntry, HumanTask, ModelVersion, ProcessInstance

from . import access
from .auth import Principal
from .context import Context
from .errors import NotFound
from .models import Case, CommonProblem, Round, Unit, User


@dataclass
class Summary:
    """The header facts: model version, unit, the case or round it belongs to, and the open tasks
    the viewer may see."""

    instance: ProcessInstance
    version: ModelVersion
    unit: Unit | None
    case: Case | None
    round: Round | None
    open_tasks: list[HumanTask]
    error_name: str   # the failed element's name as the model writes it ("" when none)
    may_retry: bool   # failed, and the viewer runs such instances
    operable: bool    # the viewer retries, suspends, resumes and cancels it


@dataclass
class Step:
    """One line of the history, with the name of whoever acted (None for the system)."""

    entry: HistoryEntry
    actor_name: str | None
    form: dict          # the completed task's form schema, to label its data ({} for other events)
    element_name: str = ""  # the element's name as the model writes it, when the entry records only an id


@dataclass
class InstanceView:
    summary: Summary
    states: dict[str, list[str]]  # element ids: completed, active, waiting
    history: list[Step]
    titles: dict[int, str]        # the round's common problems by id, to name them in the history


def get_instance(s: Session, p: Principal, instance_id: int) -> ProcessInstance:
    instance = s.scalar(select(ProcessInstance).where(ProcessInstance.id == instance_id, access.instance_scope(p)))
    if instance is None:
        raise NotFound(f"process instance {instance_id} does not exist")
    return instance


def instance_view(ctx: Context, s: Session, p: Principal, instance_id: int) -> InstanceView:
    instance = get_instance(s, p, instance_id)
    states = ctx.engine.element_states(s, instance) if instance.state else {"completed": [], "active": [],
                                                                            "waiting": []}
    if instance.status == "cancelled":  # its state is kept as it stood, but nothing of it waits any more
        states = {**states, "active": [], "waiting": []}
    facts = summary(ctx, s, p, instance)
    round_id = facts.case.round_id if facts.case else facts.round.id if facts.round else None
    titles = dict(s.execute(select(CommonProblem.id, CommonProblem.title)
                            .where(CommonProblem.round_id == round_id)).all()) if round_id else {}
    return InstanceView(facts, states, history(ctx, s, instance), titles)


def summary(ctx: Context, s: Session, p: Principal, instance: ProcessInstance) -> Summary:
    version = s.get_one(ModelVersion, instance.model_version_id)
    unit = s.get(Unit, instance.unit_id) if instance.unit_id else None
    case = s.scalar(select(Case).where(Case.process_instance_id == instance.id))
    rnd = s.get(Round, case.round_id) if case else s.scalar(
        select(Round).where(Round.process_instance_id == instance.id))
    open_tasks = s.scalars(select(HumanTask).where(HumanTask.instance_id == instance.id, HumanTask.state == "open",
                                                   access.task_visible(p))
                           .order_by(HumanTask.created_at)).all()
    operable = bool(s.scalar(select(exists().where(ProcessInstance.id == instance.id, access.operated_instances(p)))))
    return Summary(instance, version, unit, case, rnd, list(open_tasks),
                   ctx.engine.element_name(s, instance, instance.error_element) or "",
                   operable and instance.status == "error", operable)


def history(ctx: Context, s: Session, instance: ProcessInstance) -> list[Step]:
    """Who did what when, oldest first, with the data each step submitted."""
    rows = s.scalars(select(HistoryEntry).where(HistoryEntry.instance_id == instance.id)
                     .order_by(HistoryEntry.at, HistoryEntry.id)).all()
    names = dict(s.execute(select(User.username, User.name)
                           .where(User.username.in_({r.actor for r in rows if r.actor}))).all())
    forms: dict[str, dict] = {}
    for row in rows:
        if row.event == "task_completed" and row.bpmn_id and row.bpmn_id not in forms:
            forms[row.bpmn_id] = ctx.engine.element_form(s, instance, row.bpmn_id)
    # a message is recorded under its name, which models usually give the catching element as its id
    element_names = {row.bpmn_id: ctx.engine.element_name(s, instance, row.bpmn_id) or ""
                     for row in rows if row.bpmn_id and (not row.name or row.name == row.bpmn_id)}
    return [Step(row, names.get(row.actor, row.actor) if row.actor else None,
                 forms.get(row.bpmn_id or "", {}) if row.event == "task_completed" else {},
                 element_names.get(row.bpmn_id or "", "")) for row in rows]


def bpmn_xml(s: Session, p: Principal, instance_id: int) -> bytes:
    """The XML of the version this instance runs on (not the model's latest)."""
    instance = get_instance(s, p, instance_id)
    return s.get_one(ModelVersion, instance.model_version_id).bpmn_xml


def visible_ids(s: Session, p: Principal, instance_ids) -> set[int]:
    """Which of these instances the viewer may open (`access.instance_scope`), so that pages link
    only to diagrams the viewer will see (a clue's hand-over is the discipline inspection's alone)."""
    ids = {i for i in instance_ids if i is not None}
    if not ids:
        return set()
    return set(s.scalars(select(ProcessInstance.id).where(ProcessInstance.id.in_(ids), access.instance_scope(p))))
