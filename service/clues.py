"""The problem-clue library (问题线索库): need-to-know above everything else.

The registering inspector and the discipline role see a clue's content; the office sees its
metadata (to approve the hand-over and follow the disposition), nobody else sees it at all.
Content never enters a workflow's data, so no task, history or instance view can leak it.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from workflows.engine import StepEvent

from . import access, audit, workflow
from .auth import Principal
from .context import Context
from .errors import Forbidden, NotFound
from .models import BusinessKey, Clue, KeyKind, Round, Unit, User
from .rounds import require_units, round_taking_findings
from .validation import require_lengths

DISPOSITIONS = {"case_filed": "立案", "preliminary_check": "初核", "closed": "了结"}


def clue_json(p: Principal, clue: Clue, ctx: Context) -> dict:
    body = {"id": clue.id, "round_id": clue.round_id, "unit_id": clue.unit_id, "summary": clue.summary,
            "status": clue.status, "registered_by": clue.registered_by,
            "registered_at": ctx.local_iso(clue.registered_at),
            "handed_over_at": ctx.local_iso(clue.handed_over_at) if clue.handed_over_at else None,
            "received_at": ctx.local_iso(clue.received_at) if clue.received_at else None,
            "disposition": clue.disposition, "people_count": clue.people_count,
            "process_instance_id": clue.process_instance_id}
    if access.sees_clue_content(p, clue):
        body["content"] = clue.content
    return body


def register(ctx: Context, s: Session, p: Principal, round_id: int, unit_id: int, summary: str, content: str) -> Clue:
    require_lengths(summary=(summary, 300), content=(content, 20000))
    round_taking_findings(s, p, round_id, access.may_register_clue, "clues are registered by the round's inspectors")
    require_units(s, [unit_id], "unit_id")
    clue = Clue(round_id=round_id, unit_id=unit_id, summary=summary, content=content, registered_by=p.id,
                registered_at=ctx.now(), status="registered")
    s.add(clue)
    s.flush()
    instance = workflow.start(ctx, s, p, "clue_handover", {"clue_id": clue.id}, BusinessKey(KeyKind.CLUE, clue.id))
    clue.process_instance_id = instance.id
    audit.record(s, "clue_registered", p, f"clue:{clue.id}", detail={"round": round_id})  # never its content
    return clue


STATUSES = ("registered", "handed_over", "not_handed_over", "received", "disposed")


def list_clues(s: Session, p: Principal, round_id: int | None, limit: int, offset: int,
               unit_id: int | None = None, status: str | None = None):
    if not access.may_read_clue_library(p):
        raise Forbidden("the clue library is for inspectors, the office and the discipline inspection")
    query = select(Clue).where(access.clue_scope(p))
    if round_id is not None:
        query = query.where(Clue.round_id == round_id)
    if unit_id is not None:
        query = query.where(Clue.unit_id == unit_id)
    if status is not None:
        query = query.where(Clue.status == status)
    total = s.scalar(select(func.count()).select_from(query.subquery()))
    return s.scalars(query.order_by(Clue.id).limit(limit).offset(offset)).all(), total


def get_clue(s: Session, p: Principal, clue_id: int) -> Clue:
    clue = s.scalar(select(Clue).where(Clue.id == clue_id, access.clue_scope(p)))
    if clue is None:
        raise NotFound(f"clue {clue_id} does not exist")
    return clue


def task_clue(s: Session, p: Principal, clue_id: int) -> Clue | None:
    """The clue a hand-over task works on, when the viewer may know of it (content per sees_clue_content)."""
    try:
        return get_clue(s, p, clue_id)
    except NotFound:
        return None


# ---------------------------------------------------------------- what the hand-over's steps mean
def on_handover_decided(ctx: Context, s: Session, p: Principal | None, clue_id: int, event: StepEvent) -> None:
    clue = s.get_one(Clue, clue_id)
    if event.data.get("approved"):
        clue.status, clue.handed_over_at = "handed_over", ctx.now()
    else:
        clue.status = "not_handed_over"


def on_received(ctx: Context, s: Session, p: Principal | None, clue_id: int, event: StepEvent) -> None:
    clue = s.get_one(Clue, clue_id)
    clue.status, clue.received_at = "received", ctx.now()


def on_disposed(ctx: Context, s: Session, p: Principal | None, clue_id: int, event: StepEvent) -> None:
    clue = s.get_one(Clue, clue_id)
    clue.status, clue.disposed_at = "disposed", ctx.now()
    clue.disposition = event.data["disposition"]
    clue.people_count = event.data.get("people_count") or 0


# ---------------------------------------------------------------- what the pages show
@dataclass
class Library:
    clues: list[Clue]
    total: int
    units: dict[int, str]              # names of the clues' units and of the units to filter by
    rounds: dict[int, str]             # names of the rounds the reader may filter by, newest first
    people: dict[int, str]             # who registered each clue
    content: set[int]                  # the clues whose content the reader may see


def library(s: Session, p: Principal, round_id: int | None, unit_id: int | None, status: str | None,
            limit: int, offset: int) -> Library:
    rows, total = list_clues(s, p, round_id, limit, offset, unit_id=unit_id, status=status)
    known = select(Clue.unit_id).where(access.clue_scope(p))
    units = dict(s.execute(select(Unit.id, Unit.name).where(Unit.id.in_(known)).order_by(Unit.code)).all())
    rounds = dict(s.execute(select(Round.id, Round.name).where(Round.id.in_(select(Clue.round_id)
                                                                             .where(access.clue_scope(p))))
                            .order_by(Round.id.desc())).all())
    people = dict(s.execute(select(User.id, User.name).where(User.id.in_({c.registered_by for c in rows}))).all())
    return Library(list(rows), total or 0, units, rounds, people, {c.id for c in rows if access.sees_clue_content(p, c)})


@dataclass
class ClueView:
    clue: Clue
    unit: str
    round: str
    registered_by: str
    content: str | None                # None when the reader may not see it


def clue_view(s: Session, p: Principal, clue_id: int) -> ClueView:
    clue = get_clue(s, p, clue_id)
    return _view(s, p, clue)


def task_clue_view(s: Session, p: Principal, clue_id: int) -> ClueView | None:
    """The clue a hand-over task works on, when the viewer may know of it (content per sees_clue_content)."""
    clue = task_clue(s, p, clue_id)
    return _view(s, p, clue) if clue is not None else None


def _view(s: Session, p: Principal, clue: Clue) -> ClueView:
    return ClueView(clue, s.scalar(select(Unit.name).where(Unit.id == clue.unit_id)) or "",
                    s.scalar(select(Round.name).where(Round.id == clue.round_id)) or "",
                    s.scalar(select(User.name).where(User.id == clue.registered_by)) or "",
                    clue.content if access.sees_clue_content(p, clue) else None)
