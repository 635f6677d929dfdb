"""The inbox (待办) and the done list (已办) as data, for the pages to format.

The inbox reads only the engine's task index (`service.tasks.list_open`, the need-to-know rules
of `service.access`) plus, for the rows of one page, their units and cases: it never loads a
workflow, so a page stays fast however many tasks the district has (see bench/inbox_bench.py).
Done items come from the engine's history (`wf_history`, event `task_completed`, actor = the
user), which records who completed what even after the task index row is gone.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case as sql_case
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from workflows.tables import HistoryEntry, HumanTask, ProcessInstance

from . import access, instance_views, organisation, tasks
from .auth import Principal
from .context import Context
from .designs import model_names
from .models import BusinessKey, Case, Clue, KeyKind, Measure, RecommendationLetter, RectificationItem, User
from .organisation import unit_names

# The reviews that can send work back, by the step of the reviewing task: the field holding the
# decision (false = returned), the field holding the opinion, and the steps the work returns to.
RETURNS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "review_filing": ("accepted", "comment", ("self_check", "rectify", "attest_and_file")),
    "approve_list": ("approved", "comment", ("distill_list",)),
}


@dataclass
class Returned:
    """Why a task came back: the review that returned it, with its opinion."""

    opinion: str
    by: str          # the reviewer's name
    at: datetime
    step_name: str   # the reviewing task's name as the model writes it


@dataclass
class Facets:
    """Counts of the user's open tasks by process, task type and unit, and how many are urgent."""

    processes: dict[str, int]      # model key -> open tasks
    tasks: dict[str, int]          # task type (bpmn id) -> open tasks
    task_names: dict[str, str]     # task type -> its name as the model writes it
    units: dict                    # unit id (or None) -> open tasks
    counts: dict[str, int]         # total, overdue, soon (due within 7 days)
    process_names: dict[str, str]  # model key -> its latest version's name as written


@dataclass
class InboxPage:
    rows: list[HumanTask]
    total: int
    facets: Facets
    units: dict[int | None, str]   # names of the rows' units and of every unit in the filter menu
    cases: dict[str | None, Case]  # the rows' cases by business key (their warning colours)
    rounds: dict[str | None, str]  # the rows' rounds' names by business key
    returns: dict[str, Returned]   # the rows that were sent back, by task id
    diagrams: set[int]             # the rows' process instances the viewer may open
    suspended: set[int]            # the rows' process instances an operator suspended: their tasks wait


@dataclass
class DoneItem:
    entry: HistoryEntry
    model_key: str
    unit_id: int | None
    case: Case | None
    round: str                     # the round's name ("" when the task belongs to none)
    form: dict                     # the task's form schema, to label what was submitted


@dataclass
class DonePage:
    items: list[DoneItem]
    total: int
    units: dict[int | None, str]
    process_names: dict[str, str]
    diagrams: set[int]             # the items' process instances the viewer may open


def inbox_page(s: Session, p: Principal, now: datetime, *, process_model: str | None = None,
               bpmn_id: str | None = None, unit_id: int | None = None, sort: str | None = None, limit: int = 20,
               offset: int = 0) -> InboxPage:
    """One page of the user's open tasks, the filter counts, and the names and cases the rows show."""
    rows, total = tasks.list_open(s, p, process_model=process_model, bpmn_id=bpmn_id, unit_id=unit_id,
                                  sort=sort, limit=limit, offset=offset)
    counted = facets(s, p, now)
    units = unit_names(s, {r.unit_id for r in rows} | set(counted.units))
    keys = [r.business_key for r in rows]
    instance_ids = {r.instance_id for r in rows}
    return InboxPage(list(rows), total, counted, units, cases_by_key(s, keys), round_names(s, keys),
                     returns_of(s, rows), instance_views.visible_ids(s, p, instance_ids),
                     _suspended(s, instance_ids))


def _suspended(s: Session, instance_ids: set[int]) -> set[int]:
    """Those of the instances an operator suspended."""
    if not instance_ids:
        return set()
    return set(s.scalars(select(ProcessInstance.id).where(ProcessInstance.id.in_(instance_ids),
                                                         ProcessInstance.status == "suspended")))


def facets(s: Session, p: Principal, now: datetime) -> Facets:
    """Grouped counts of the rows the inbox lists (the same access rule), so the filter menus show
    how many tasks each choice leaves."""
    # 0 overdue, 1 due within a week, 2 later or never; grouped in the order of ix_wf_task_facets,
    # which holds every column read: index-only scans
    due = sql_case((HumanTask.due_at < now, 0), (HumanTask.due_at < now + timedelta(days=7), 1), else_=2)
    grouped = tasks.grouped_open(s, access.actionable_parts(p), [HumanTask.state == "open"],
                                 HumanTask.unit_id, HumanTask.model_key, HumanTask.bpmn_id, due)
    processes: dict[str, int] = {}
    task_counts: dict[str, int] = {}
    task_models: dict[str, str] = {}
    unit_counts: dict = {}
    counts = {"total": 0, "overdue": 0, "soon": 0}
    for (unit_id, model_key, bpmn_id, when), n in grouped.items():
        processes[model_key] = processes.get(model_key, 0) + n
        task_counts[bpmn_id] = task_counts.get(bpmn_id, 0) + n
        task_models.setdefault(bpmn_id, model_key)
        unit_counts[unit_id] = unit_counts.get(unit_id, 0) + n
        counts["total"] += n
        if when == 0:
            counts["overdue"] += n
        elif when == 1:
            counts["soon"] += n
    return Facets(processes, task_counts, task_names(s, task_models), unit_counts, counts,
                  model_names(s, processes))


def task_names(s: Session, task_models: dict[str, str]) -> dict[str, str]:
    """The name of each task type: one index seek per type (a handful), not a scan of the rows."""
    return {bpmn_id: s.scalar(select(HumanTask.name).where(HumanTask.bpmn_id == bpmn_id,
                                                         HumanTask.model_key == model_key).limit(1)) or bpmn_id
            for bpmn_id, model_key in task_models.items()}


def done_page(ctx: Context, s: Session, p: Principal, *, limit: int = 20, offset: int = 0) -> DonePage:
    """The tasks the user completed, newest first, from the engine's history, each with its round
    and the form it was completed on (the model's versions are cached, so this loads no workflow)."""
    mine = (HistoryEntry.actor == p.username) & (HistoryEntry.event == "task_completed")
    total = s.scalar(select(func.count()).select_from(HistoryEntry).where(mine))
    rows = s.execute(
        select(HistoryEntry, ProcessInstance.model_key, ProcessInstance.unit_id, ProcessInstance.business_key,
               ProcessInstance)
        .join(ProcessInstance, ProcessInstance.id == HistoryEntry.instance_id)
        .where(mine).order_by(HistoryEntry.at.desc(), HistoryEntry.id.desc())
        .limit(limit).offset(offset)).all()
    units = unit_names(s, {r.unit_id for r in rows})
    names = model_names(s, {r.model_key for r in rows})
    cases = cases_by_key(s, [r.business_key for r in rows])
    rounds = round_names(s, [r.business_key for r in rows])
    items = [DoneItem(entry, model_key, unit_id, cases.get(business_key) if business_key else None,
                      rounds.get(business_key, ""), ctx.engine.element_form(s, instance, entry.bpmn_id))
             for entry, model_key, unit_id, business_key, instance in rows]
    return DonePage(items, total or 0, units, names,
                    instance_views.visible_ids(s, p, {entry.instance_id for entry, *_ in rows}))


def cases_by_key(s: Session, business_keys) -> dict[str | None, Case]:
    """The cases that business keys name (`case:12`), by key; other keys are left out."""
    keys = [key for key in map(BusinessKey.parse, business_keys) if key is not None]
    ids = {key.id for key in keys if key.kind == KeyKind.CASE}
    found: dict[str | None, Case] = {}
    if ids:
        found.update({str(BusinessKey(KeyKind.CASE, c.id)): c for c in s.scalars(select(Case).where(Case.id.in_(ids)))})
    measure_ids = {key.id for key in keys if key.kind == KeyKind.MEASURE}
    if measure_ids:  # a followed-up measure's task belongs to the measure's case
        for measure_id, case in s.execute(
                select(Measure.id, Case).join(RectificationItem, RectificationItem.id == Measure.item_id)
                .join(Case, Case.id == RectificationItem.case_id).where(Measure.id.in_(measure_ids))):
            found[str(BusinessKey(KeyKind.MEASURE, measure_id))] = case
    return found


def round_names(s: Session, business_keys) -> dict[str | None, str]:
    """The name of the round each business key's record belongs to (a round, a case, a letter, a
    clue), by key: one query per kind of record on the page."""
    keys = {k: key for k in business_keys if (key := BusinessKey.parse(k)) is not None}
    by_kind: dict[KeyKind, set[int]] = {}
    for key in keys.values():
        by_kind.setdefault(key.kind, set()).add(key.id)
    owners = {KeyKind.CASE: (Case.id, Case.round_id),
              KeyKind.LETTER: (RecommendationLetter.id, RecommendationLetter.round_id),
              KeyKind.CLUE: (Clue.id, Clue.round_id)}
    round_of: dict[tuple[KeyKind, int], int] = {(KeyKind.ROUND, i): i for i in by_kind.get(KeyKind.ROUND, ())}
    for kind, (id_column, round_column) in owners.items():
        ids = by_kind.get(kind)
        if ids:
            for ident, round_id in s.execute(select(id_column, round_column).where(id_column.in_(ids))):
                round_of[(kind, ident)] = round_id
    measure_ids = by_kind.get(KeyKind.MEASURE)
    if measure_ids:
        for ident, round_id in s.execute(
                select(Measure.id, Case.round_id).join(RectificationItem, RectificationItem.id == Measure.item_id)
                .join(Case, Case.id == RectificationItem.case_id).where(Measure.id.in_(measure_ids))):
            round_of[(KeyKind.MEASURE, ident)] = round_id
    names = organisation.round_names(s, round_of.values())
    return {k: names.get(round_of.get((key.kind, key.id), 0), "") for k, key in keys.items()}


def returns_of(s: Session, rows: list[HumanTask]) -> dict[str, Returned]:
    """Which of these tasks were sent back by a review, with its opinion: a task is returned when
    the last review of its instance before the task arrived (see RETURNS) decided against."""
    targets = {step for *_, steps in RETURNS.values() for step in steps}
    wanted = [r for r in rows if r.step is not None and r.step in targets]
    if not wanted:
        return {}
    reviews = s.execute(
        select(HistoryEntry, HumanTask.step)
        .join(HumanTask, HumanTask.id == HistoryEntry.task_id)
        .where(HistoryEntry.instance_id.in_({r.instance_id for r in wanted}),
               HistoryEntry.event == "task_completed", HumanTask.step.in_(RETURNS))
        .order_by(HistoryEntry.at, HistoryEntry.id)).all()
    actors = {e.actor for e, _ in reviews if e.actor}
    names = dict(s.execute(select(User.username, User.name).where(User.username.in_(actors))).all()) if actors else {}
    out: dict[str, Returned] = {}
    for row in wanted:
        last = None
        for entry, step in reviews:
            if (step is not None and entry.instance_id == row.instance_id and entry.at <= row.created_at
                    and row.step in RETURNS[step][2]):
                last = (entry, step)
        if last is None:
            continue
        entry, step = last
        decision, opinion, _ = RETURNS[step]
        data = entry.data or {}
        if data.get(decision) is False:
            out[row.id] = Returned(str(data.get(opinion) or ""), names.get(entry.actor or "", entry.actor or ""),
                                   entry.at, entry.name or "")
    return out


def returned_task(s: Session, p: Principal, task_id: str) -> Returned | None:
    """Why an open task the viewer may see was sent back, or None (see `returns_of`)."""
    row = tasks.get_visible(s, p, task_id)
    return returns_of(s, [row]).get(row.id) if row.state == "open" else None
