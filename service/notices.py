"""The message centre (消息): what each person is told, and whether they have read it.

Notices are made where the things they tell of happen, never by a page: every run of a workflow
tells whoever may do each task it opened (`on_run`, called by `service.workflow` for every start,
completion, timer and message); a return, a warning, a published list, an urge, a leader's
instruction and a department's comment tell those they concern from the functions that record them.
A leader in charge is told through `tell_leader`, which also leaves the notice they sign for.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from workflows.engine import RunResult
from workflows.fanout import write_rows
from workflows.tables import HumanTask

from . import access
from .auth import Principal
from .context import Context
from .db import UNSYNCED
from .errors import NotFound
from .models import BusinessKey, Case, KeyKind, LeaderNotification, Measure, Notice, RectificationItem, Unit, User
from .organisation import round_names, unit_names

# What a notice tells of; the pages word each kind (web.i18n LABELS["notice"]).
KINDS = ("task", "returned", "warning_yellow", "warning_red", "talk_reminder", "urge", "list_published",
         "instruction", "comment", "extension_requested", "extension_approved", "extension_refused",
         "tracking_letter", "tracking_replied", "tracking_reply_late", "talk_recorded")
# A leader's notice (LeaderNotification.kind) as the message that tells them of it.
LEADER_KIND = {"list": "list_published", "yellow_warning": "warning_yellow", "red_warning": "warning_red",
               "talk_reminder": "talk_reminder", "talk_record": "talk_recorded"}
UNIT_STAFF = ("unit_liaison", "unit_head")


# ---------------------------------------------------------------- who is told
def people(s: Session, role: str, unit_id: int | None = None) -> list[int]:
    """The active accounts holding `role` (of one unit, when given)."""
    query = select(User.id, User.roles).where(User.active.is_(True))
    if unit_id is not None:
        query = query.where(User.unit_id == unit_id)
    return [uid for uid, roles in s.execute(query.order_by(User.id)) if role in (roles or [])]


def unit_staff(s: Session, unit_id: int) -> list[int]:
    """A unit's liaison and head: those who answer for its case."""
    query = select(User.id, User.roles).where(User.active.is_(True), User.unit_id == unit_id).order_by(User.id)
    return [uid for uid, roles in s.execute(query) if set(roles or []) & set(UNIT_STAFF)]


def leader_of(s: Session, unit_id: int) -> int | None:
    """The unit's leader in charge (分管区领导), if it has one."""
    return s.scalar(select(Unit.leader_id).where(Unit.id == unit_id))


class Roster:
    """The active accounts of some units, read at once: `people` and `unit_staff` for many units
    (the cases a published list opens) without a query per unit."""

    def __init__(self, s: Session, unit_ids: Iterable[int]):
        self.unit_ids = set(unit_ids)
        self._roles: dict[int | None, list[tuple[int, list[str]]]] = {u: [] for u in self.unit_ids}
        if self.unit_ids:
            query = select(User.id, User.unit_id, User.roles).where(User.active.is_(True),
                                                                     User.unit_id.in_(self.unit_ids))
            for uid, unit_id, roles in s.execute(query.order_by(User.id)):
                self._roles[unit_id].append((uid, roles or []))

    def people(self, role: str, unit_id: int) -> list[int]:
        return [uid for uid, roles in self._roles[unit_id] if role in roles]

    def unit_staff(self, unit_id: int) -> list[int]:
        return [uid for uid, roles in self._roles[unit_id] if set(roles) & set(UNIT_STAFF)]


def roster(s: Session, unit_ids: Iterable[int]) -> Roster:
    return Roster(s, unit_ids)


def task_recipients(s: Session, task: HumanTask, roster: Roster | None = None) -> list[int]:
    """Whoever may do the task: its assignee; else its candidate users and the holders of its
    candidate groups' roles; else the users it names, or the holders of its lane's role (of its
    unit, for a unit's role; the leader in charge of its unit, for a leader's)."""
    if task.assignee or task.offers:
        named = [task.assignee] if task.assignee else [o.name for o in task.offers if o.kind == "user"]
        found = list(s.scalars(select(User.id).where(User.username.in_(named), User.active.is_(True)))) if named else []
        if task.assignee:
            return found
        for offer in task.offers:
            if offer.kind == "group":
                found += _role_recipients(s, task, offer.name, roster)
        return found
    if task.candidates:
        return [c.user_id for c in task.candidates]
    return _role_recipients(s, task, task.role, roster)


def _role_recipients(s: Session, task: HumanTask, role: str | None, roster: Roster | None) -> list[int]:
    if role is None:
        return []
    if role == "inspector":  # inspectors are named for a task, never reached by role
        return [c.user_id for c in task.candidates]
    if role in access.UNIT_SCOPED and roster is not None and task.unit_id in roster.unit_ids:
        return roster.people(role, task.unit_id)
    if role == "leader":
        leader = s.scalar(select(Unit.leader_id).where(Unit.id == task.unit_id)) if task.unit_id else None
        return [leader] if leader else []
    if role in access.UNIT_SCOPED:
        return people(s, role, task.unit_id) if task.unit_id is not None else []
    if role in access.ROLE_ONLY:
        return people(s, role)
    return []


# ---------------------------------------------------------------- telling
def tell(ctx: Context, s: Session, user_ids: Iterable[int | None], kind: str, *, round_id: int | None = None,
         case_id: int | None = None, task_id: str | None = None, notification_id: int | None = None,
         unit_id: int | None = None, subject: str | None = None, detail: str | None = None) -> int:
    """A notice of `kind` to each of these users, once each; how many were told."""
    now = ctx.now()
    recipients = sorted({u for u in user_ids if u is not None})
    gathered = s.info.get(_GATHERED)
    for user_id in recipients:
        values = dict(user_id=user_id, kind=kind, round_id=round_id, case_id=case_id, task_id=task_id,
                      notification_id=notification_id, unit_id=unit_id, subject=subject, detail=detail,
                      created_at=now)
        if gathered is not None:
            gathered.append(values)
        else:
            s.add(Notice(**values))
    return len(recipients)


_GATHERED = "notices_gathered"


@contextmanager
def written_together(s: Session) -> Iterator[None]:
    """The notices told inside are written at its end in one statement, in the order told (a list
    published to thousands of units tells each unit's people twice); nothing inside reads them back."""
    if _GATHERED in s.info:  # inside another: that one writes them
        yield
        return
    gathered: list[dict] = []
    s.info[_GATHERED] = gathered
    try:
        yield
    finally:
        del s.info[_GATHERED]
    if gathered:
        s.flush()  # what they refer to (a leader's notice to sign for) first
        write_rows(s, Notice, [{**row, "read_at": None} for row in gathered])


def tell_leader(ctx: Context, s: Session, round_id: int, leader_id: int, kind: str, unit_ids: list[int],
                case_id: int | None = None) -> LeaderNotification:
    """A notice a leader in charge signs for (签收), and the message that tells them of it."""
    note = LeaderNotification(round_id=round_id, leader_id=leader_id, kind=kind, case_id=case_id,
                              unit_ids=unit_ids, created_at=ctx.now())
    s.add(note)
    s.flush()
    tell(ctx, s, [leader_id], LEADER_KIND[kind], round_id=round_id, case_id=case_id, notification_id=note.id,
         unit_id=unit_ids[0] if len(unit_ids) == 1 else None)
    return note


def on_run(ctx: Context, s: Session, result: RunResult, roster: Roster | None = None) -> None:
    """Tell whoever may do it of each task a workflow run opened; when the office is to hold a talk
    with a still-late unit, the unit's leader in charge is told too. The notices of tasks the run
    closed are read: there is nothing left to do about them."""
    if result.closed:
        s.execute(update(Notice).where(Notice.read_at.is_(None), Notice.task_id.in_(result.closed))
                  .values(read_at=ctx.now()), execution_options=UNSYNCED)
    for task in result.opened:
        key = BusinessKey.parse(task.business_key)
        case = s.get(Case, key.id) if key is not None and key.kind == KeyKind.CASE else (
            measure_case(s, key.id) if key is not None and key.kind == KeyKind.MEASURE else None)
        round_id = case.round_id if case is not None else (
            key.id if key is not None and key.kind == KeyKind.ROUND else None)
        told = tell(ctx, s, task_recipients(s, task, roster), "task", round_id=round_id,
                    case_id=case.id if case else None, task_id=task.id, unit_id=task.unit_id, subject=task.name)
        if told and task.step == "talk_reminder" and case is not None:
            leader = s.scalar(select(Unit.leader_id).where(Unit.id == case.unit_id))
            if leader is not None:
                tell_leader(ctx, s, case.round_id, leader, "talk_reminder", [case.unit_id], case.id)


def measure_case(s: Session, measure_id: int) -> Case | None:
    """The case a followed-up measure belongs to: its task's notice links there."""
    return s.scalar(select(Case).join(RectificationItem, RectificationItem.case_id == Case.id)
                    .join(Measure, Measure.item_id == RectificationItem.id).where(Measure.id == measure_id))


def on_warning(ctx: Context, s: Session, case: Case, level: str) -> None:
    """A yellow or red warning: the unit's liaison and head are told, and its leader in charge
    gets a notice to sign for."""
    tell(ctx, s, unit_staff(s, case.unit_id), f"warning_{level}", round_id=case.round_id, case_id=case.id,
         unit_id=case.unit_id)
    leader = s.scalar(select(Unit.leader_id).where(Unit.id == case.unit_id))
    if leader is not None:
        tell_leader(ctx, s, case.round_id, leader, f"{level}_warning", [case.unit_id], case.id)


def on_returned(ctx: Context, s: Session, case: Case, reason: str | None) -> None:
    tell(ctx, s, unit_staff(s, case.unit_id), "returned", round_id=case.round_id, case_id=case.id,
         unit_id=case.unit_id, detail=reason)


def on_list_published(ctx: Context, s: Session, case: Case, roster: Roster | None = None) -> None:
    staff = roster.unit_staff(case.unit_id) if roster is not None and case.unit_id in roster.unit_ids \
        else unit_staff(s, case.unit_id)
    tell(ctx, s, staff, "list_published", round_id=case.round_id, case_id=case.id,
         unit_id=case.unit_id)


def on_instruction(ctx: Context, s: Session, note: LeaderNotification) -> None:
    """A leader's instruction (批示): the office is told, and so is the unit of a case's notice."""
    unit_id = note.unit_ids[0] if len(note.unit_ids) == 1 else None
    told = people(s, "office")
    if note.case_id is not None and unit_id is not None:
        told += unit_staff(s, unit_id)
    tell(ctx, s, told, "instruction", round_id=note.round_id, case_id=note.case_id, unit_id=unit_id,
         detail=note.instruction)


# ---------------------------------------------------------------- reading
def list_notices(s: Session, p: Principal, unread: bool, limit: int, offset: int) -> tuple[list[Notice], int]:
    query = select(Notice).where(access.notice_scope(p))
    if unread:
        query = query.where(Notice.read_at.is_(None))
    total = s.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = s.scalars(query.order_by(Notice.id.desc()).limit(limit).offset(offset)).all()
    return list(rows), total


def unread_count(s: Session, p: Principal) -> int:
    return s.scalar(select(func.count()).select_from(Notice).where(access.notice_scope(p),
                                                                   Notice.read_at.is_(None))) or 0


def mark_read(ctx: Context, s: Session, p: Principal, notice_id: int) -> Notice:
    """Mark one's own notice read (again: it stays read at the first time)."""
    notice = s.scalar(select(Notice).where(Notice.id == notice_id, access.notice_scope(p)))
    if notice is None:
        raise NotFound(f"notice {notice_id} does not exist")
    if notice.read_at is None:
        notice.read_at = ctx.now()
        s.flush()
    return notice


def mark_all_read(ctx: Context, s: Session, p: Principal) -> int:
    result = s.execute(update(Notice).where(access.notice_scope(p), Notice.read_at.is_(None))
                       .values(read_at=ctx.now()))
    return int(getattr(result, "rowcount", 0) or 0)


def instructions_for(s: Session, case: Case) -> list[LeaderNotification]:
    """The leaders' instructions about a case: on its own notices, and on its round's list notices
    that name its unit."""
    rows = s.scalars(select(LeaderNotification).where(
        LeaderNotification.round_id == case.round_id, LeaderNotification.instruction.is_not(None),
        or_(LeaderNotification.case_id == case.id, LeaderNotification.case_id.is_(None)))
        .order_by(LeaderNotification.id)).all()
    return [n for n in rows if n.case_id == case.id or case.unit_id in (n.unit_ids or [])]


def names_for(s: Session, rows: Iterable[Notice | LeaderNotification]) -> tuple[dict[int | None, str], dict[int | None, str]]:
    """The names of the units and rounds these notices are about, by id."""
    rows = list(rows)
    unit_ids: set[int] = set()
    for n in rows:
        unit_ids.update(getattr(n, "unit_ids", None) or [])
        one = getattr(n, "unit_id", None)
        if one is not None:
            unit_ids.add(one)
    return names(s, unit_ids, {n.round_id for n in rows if n.round_id})


def names(s: Session, unit_ids: Iterable[int], round_ids: Iterable[int]) -> tuple[dict[int | None, str], dict[int | None, str]]:
    return unit_names(s, unit_ids), round_names(s, round_ids)


def notice_json(n: Notice, ctx: Context) -> dict:
    return {"id": n.id, "kind": n.kind, "round_id": n.round_id, "case_id": n.case_id, "task_id": n.task_id,
            "notification_id": n.notification_id, "unit_id": n.unit_id, "subject": n.subject, "detail": n.detail,
            "created_at": ctx.local_iso(n.created_at), "read": n.read_at is not None,
            "read_at": ctx.local_iso(n.read_at) if n.read_at else None}
