"""The inbox: list, read and complete human tasks, with the need-to-know rules applied."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select, union_all
from sqlalchemy.orm import Session

from workflows.engine import WorkflowFailure
from workflows.tables import HumanTask

from . import access, audit, drafts, jobs, workflow, workflow_events
from .auth import Principal
from .context import Context
from .errors import BadRequest, Conflict, Forbidden, NotFound


def task_json(row: HumanTask, ctx: Context) -> dict:
    return {"id": row.id, "name": row.name, "bpmn_id": row.bpmn_id, "step": row.step, "process_model": row.model_key,
            "process_instance_id": row.instance_id, "unit_id": row.unit_id, "lane": row.lane, "role": row.role,
            "state": row.state, "due_at": ctx.local_iso(row.due_at) if row.due_at else None,
            "created_at": ctx.local_iso(row.created_at), "priority": row.priority, "assignee": row.assignee,
            "completed_at": ctx.local_iso(row.completed_at) if row.completed_at else None}


# The inbox's orders: by due date (the default), or by the priority the diagram gives a task.
SORTS = ("due", "priority")


def list_open(s: Session, p: Principal, *, process_model=None, bpmn_id=None, step=None, unit_id=None,
              sort: str | None = None, limit=50, offset=0) -> tuple[list[HumanTask], int]:
    if sort not in (None, *SORTS):
        raise BadRequest(f"sort must be one of {', '.join(SORTS)}", code="invalid_query")
    filters = [HumanTask.state == "open"]
    if process_model:
        filters.append(HumanTask.model_key == process_model)
    if bpmn_id:
        filters.append(HumanTask.bpmn_id == bpmn_id)
    if step:
        filters.append(HumanTask.step == step)
    if unit_id is not None:
        filters.append(HumanTask.unit_id == unit_id)
    parts = access.actionable_parts(p)
    # each part's first rows in the inbox's order, read from its index, then merged
    merged = union_all(*(select(select(HumanTask).where(*filters, part).order_by(*_ordered(HumanTask, sort))
                                .limit(offset + limit).subquery())
                         for part in parts.listed()))
    page = merged.order_by(*_ordered(merged.selected_columns, sort)).limit(limit).offset(offset)
    rows = list(s.scalars(select(HumanTask).from_statement(page)))
    # a page that is not full is the last one: the total is known without counting (most people's lists)
    last = len(rows) < limit and (bool(rows) or offset == 0)
    return rows, offset + len(rows) if last else count_open(s, parts, filters)


def count_open(s: Session, parts: access.ActionableParts, filters: list) -> int:
    """How many open tasks (meeting `filters`) the principal may work."""
    return sum(grouped_open(s, parts, filters).values())


def grouped_open(s: Session, parts: access.ActionableParts, filters: list, *group_by) -> dict[tuple, int]:
    """How many open tasks (meeting `filters`) the principal may work, by the values of the `group_by`
    expressions (a tuple each; groups of none left out), each part counted off an index
    (`ActionableParts.counted`)."""
    counts: dict[tuple, int] = {}
    for condition, sign in parts.counted():
        query = select(*group_by, func.count()).select_from(HumanTask).where(*filters, condition).group_by(*group_by)
        for row in s.execute(query):
            key = tuple(row[:-1])
            counts[key] = counts.get(key, 0) + sign * row[-1]
    return {key: n for key, n in counts.items() if n}


def _ordered(task, sort: str | None) -> list:
    """The inbox's order on a task's columns (of the table or of a query): by due date, then by
    creation and id; by priority first when asked."""
    order: list = [task.due_at.asc().nulls_last(), task.created_at, task.id]
    if sort == "priority":
        order.insert(0, task.priority.desc().nulls_last())
    return order


def get_visible(s: Session, p: Principal, task_id: str) -> HumanTask:
    row = s.scalar(select(HumanTask).where(HumanTask.id == task_id, access.task_visible(p)))
    if row is None:
        raise NotFound(f"task {task_id} does not exist")
    return row


def get_with_form(ctx: Context, s: Session, p: Principal, task_id: str) -> dict:
    row = get_visible(s, p, task_id)
    body = task_json(row, ctx)
    body["form"] = ctx.engine.task_form(s, row)
    body["actionable"] = bool(access.actionable_ids(s, p, [row.id]))
    draft = drafts.find(s, p, task_id)
    body["draft"] = drafts.draft_json(draft, ctx) if draft is not None else None
    from .inbox import returns_of  # the inbox reads tasks through this module

    returned = returns_of(s, [row]).get(row.id) if row.state == "open" else None
    body["returned"] = {"opinion": returned.opinion, "by": returned.by, "at": ctx.local_iso(returned.at)} \
        if returned is not None else None
    return body


def check_decision(s: Session, p: Principal, task_id: str, data: dict) -> None:
    """The decision rules alone (`workflow_events.check_decision`), for a page that says everything at once."""
    workflow_events.check_decision(get_visible(s, p, task_id), data)


@dataclass
class Completion:
    """A completed task's next tasks, and the background job it started (a list's publication), if any."""

    items: list[dict]
    job_id: int | None = None
    round_id: int | None = None


def complete_and_follow(ctx: Context, s: Session, p: Principal, task_id: str, data: dict) -> Completion:
    """Complete the task; what it started in the background is named so the caller can follow it."""
    items = complete(ctx, s, p, task_id, data)
    started = jobs.created_in(s)
    if not started:
        return Completion(items)
    job = jobs.job_row(s, started[-1])
    return Completion(items, job.id, job.round_id)


def submit(ctx: Context, p: Principal, task_id: str, data: dict) -> Completion:
    """`complete_and_follow` in a transaction of its own. When the model itself fails (a script or
    expression after the task), the person is told, and the failure is kept on the instance, as a
    failed timer step is, for the operators to see and retry once the model is fixed."""
    try:
        return ctx.db.transaction(lambda s: complete_and_follow(ctx, s, p, task_id, data))
    except WorkflowFailure as exc:
        _keep_failure(ctx, task_id, exc)
        raise


def _keep_failure(ctx: Context, task_id: str, failure: WorkflowFailure) -> None:
    def record(s: Session) -> None:
        instance_id = s.scalar(select(HumanTask.instance_id).where(HumanTask.id == task_id))
        if instance_id is not None:
            ctx.engine.record_failure(s, instance_id, str(failure), failure.element_id, code=failure.code, timed=False)
    ctx.db.transaction(record)


def complete(ctx: Context, s: Session, p: Principal, task_id: str, data: dict) -> list[dict]:
    row, actionable, (drafted,) = access.visible_task(s, p, task_id, drafts.saved())
    if row is None:
        raise NotFound(f"task {task_id} does not exist")
    if not actionable:
        raise Forbidden(f"task {task_id} is for the role {row.role!r}, which you do not hold here")
    if row.state != "open":
        raise Conflict(f"task {task_id} is already {row.state}", code="task_not_open", state=row.state)
    workflow_events.check_decision(row, data)

    def check(r: HumanTask, d: dict) -> None:
        # read once the engine holds the instance (locked and loaded): the form costs no query of its own
        offered = frozenset(ctx.engine.task_form(s, r).get("properties") or {})
        workflow_events.check_before_complete(s, r, d, offered)

    result = workflow.complete(ctx, s, p, task_id, data, check=check)
    if drafted:
        drafts.discard_all(s, task_id)
    s.flush()
    audit.record(s, "task_completed", p, f"task:{task_id}", detail={"step": row.step, "task": row.name,
                                                                         "instance": row.instance_id})
    nxt = s.scalars(select(HumanTask).where(HumanTask.instance_id == result.instance.id,
                                            HumanTask.state == "open", access.task_visible(p))).all()
    return [task_json(r, ctx) for r in nxt]
