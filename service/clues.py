"""The problem-clue library (问题线索库): need-to-know above everything else.

The registering inspector and the discipline role see a clue's content; the office sees its
metadata (to approve the hand-over and follow the disposition), nobody else sees it at all.
Content never enters a workflow's data, so no task, history or instance view can leak it.
"""
from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from workflows.engine import StepEvent

from . import access, audit, workflow
from .auth import Principal
from .context import Context
from .errors import Forbidden, NotFound
from .models import BusinessKey, Clue, KeyKind
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


def list_clues(s: Session, p: Principal, round_id: int | None, limit: int, offset: int):
    if not p.has(*access.CLUE_READERS):
        raise Forbidden("the clue library is for inspectors, the office and the discipline inspection")
    query = select(Clue).where(access.clue_scope(p))
    if round_id is not None:
        query = query.where(Clue.round_id == round_id)
    total = s.scalar(select(func.count()).select_from(query.subquery()))
    return s.scalars(query.order_by(Clue.id).limit(limit).offset(offset)).all(), total


def get_clue(s: Session, p: Principal, clue_id: int) -> Clue:
    clue = s.scalar(select(Clue).where(Clue.id == clue_id, access.clue_scope(p)))
    if clue is None:
        raise NotFound(f"clue {clue_id} does not exist")
    return clue




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
