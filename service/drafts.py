"""Drafts of task forms (暂存): what a user typed into a task's form and saved without submitting.

A draft belongs to one task and one user: only someone who may complete the task saves one, and
only its author reads it back. It is not validated against the form (it is unfinished by nature),
only limited in size; it is dropped when the task is completed (`discard_all`, called by
`service.tasks.complete`).
"""
from __future__ import annotations

import json

from sqlalchemy import delete, exists, select
from sqlalchemy.orm import Session

from workflows.tables import HumanTask

from . import access
from .auth import Principal
from .context import Context
from .db import UNSYNCED
from .errors import Conflict, Forbidden, NotFound, TooLarge, Unprocessable
from .models import TaskDraft

MAX_DRAFT_KB = 256


def draft_json(row: TaskDraft, ctx: Context) -> dict:
    return {"task_id": row.task_id, "data": row.data, "saved_at": ctx.local_iso(row.saved_at)}


def _own_open_task(s: Session, p: Principal, task_id: str) -> HumanTask:
    from .tasks import get_visible

    row = get_visible(s, p, task_id)
    if not access.actionable_ids(s, p, [row.id]):
        raise Forbidden(f"task {task_id} is for the role {row.role!r}, which you do not hold here")
    if row.state != "open":
        raise Conflict(f"task {task_id} is already {row.state}", code="task_not_open", state=row.state)
    return row


def save(ctx: Context, s: Session, p: Principal, task_id: str, data: dict) -> TaskDraft:
    """Keep what the user typed so far, replacing their earlier draft of the task."""
    row = _own_open_task(s, p, task_id)
    if not isinstance(data, dict):
        raise Unprocessable.on_field("data", "invalid_body", "must be an object", "a draft's data is an object")
    size = len(json.dumps(data, ensure_ascii=False).encode("utf-8"))
    if size > MAX_DRAFT_KB * 1024:
        raise TooLarge(f"a draft may hold at most {MAX_DRAFT_KB} KB", code="draft_too_large", limit_kb=MAX_DRAFT_KB)
    draft = s.scalar(select(TaskDraft).where(TaskDraft.task_id == row.id, TaskDraft.user_id == p.id))
    if draft is None:
        draft = TaskDraft(task_id=row.id, user_id=p.id, data=data, saved_at=ctx.now())
        s.add(draft)
    else:
        draft.data, draft.saved_at = data, ctx.now()
    s.flush()
    return draft


def find(s: Session, p: Principal, task_id: str) -> TaskDraft | None:
    """The user's draft of a task they may see, or None."""
    from .tasks import get_visible

    row = get_visible(s, p, task_id)
    return s.scalar(select(TaskDraft).where(TaskDraft.task_id == row.id, TaskDraft.user_id == p.id))


def get(s: Session, p: Principal, task_id: str) -> TaskDraft:
    draft = find(s, p, task_id)
    if draft is None:
        raise NotFound(f"no draft of task {task_id}", code="draft_not_found")
    return draft


def discard(s: Session, p: Principal, task_id: str) -> None:
    """Drop the user's draft of a task (no error when there is none)."""
    from .tasks import get_visible

    row = get_visible(s, p, task_id)
    s.execute(delete(TaskDraft).where(TaskDraft.task_id == row.id, TaskDraft.user_id == p.id))


def saved():
    """SQL: whether anyone has saved a draft of the HumanTask, read with the task (drafts are the
    exception: a completion deletes them only when there are some)."""
    return exists().where(TaskDraft.task_id == HumanTask.id).correlate(HumanTask).label("drafted")


def discard_all(s: Session, task_id: str) -> None:
    """A completed task's drafts, whoever saved them, are of no further use."""
    s.execute(delete(TaskDraft).where(TaskDraft.task_id == task_id), execution_options=UNSYNCED)


def prune_stale(ctx: Context) -> int:
    """Delete the drafts of tasks no longer open (cancelled by the process rather than completed,
    which drops its own); how many went is returned. Only writes when there is something to delete."""
    stale = ~exists().where(HumanTask.id == TaskDraft.task_id, HumanTask.state == "open").correlate(TaskDraft)
    with ctx.db.read() as s:
        if not s.scalar(select(exists(select(TaskDraft.id).where(stale)))):
            return 0
    return ctx.db.transaction(lambda s: len(s.execute(
        delete(TaskDraft).where(stale).returning(TaskDraft.id)).all()))
