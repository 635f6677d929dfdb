"""Measures followed after close-out: a measure whose own deadline falls after its case was closed
stays open in the rectification list until the unit reports it done, with evidence.

Closing a case starts one `measure_followup` instance per such measure (business key
`measure:<id>`): a few days before the deadline (`measure_notice_days`) the unit's liaison gets a
task to report it done; at the deadline, a measure still unreported is marked overdue, which the
list, the case page and the dashboard show, and the office may re-check (回头看) the case for it.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from workflows.engine import StepEvent
from workflows.tables import HumanTask

from . import access, notices, workflow
from .auth import Principal
from .context import Context
from .errors import Unprocessable
from .models import (
    BusinessKey,
    Case,
    Evidence,
    KeyKind,
    Measure,
    RectificationItem,
    SupervisionAction,
)
from .organisation import round_names, unit_names


def deadline_at(ctx: Context, deadline: date) -> datetime:
    """The end of a measure's last day in the district: it is overdue from the next midnight."""
    return datetime.combine(deadline + timedelta(days=1), time(0), tzinfo=ctx.zone)


def follow_up_after_close(ctx: Context, s: Session, p: Principal | None, case: Case) -> int:
    """At close-out: follow every measure of this pass whose deadline is after the day it closed.
    Returns how many are followed."""
    closed_on = ctx.now().astimezone(ctx.zone).date()
    measures = s.scalars(select(Measure).join(RectificationItem, RectificationItem.id == Measure.item_id)
                         .where(RectificationItem.case_id == case.id, Measure.pass_number == case.pass_number,
                                Measure.deadline > closed_on, Measure.followup_instance_id.is_(None))
                         .order_by(Measure.id)).all()
    if not measures:
        return 0
    data = [{"measure_id": m.id, "case_id": case.id, "unit_id": case.unit_id, "description": m.description,
             "deadline_at": deadline_at(ctx, m.deadline).isoformat() if m.deadline else None,
             "notice_days": ctx.settings.measure_notice_days} for m in measures]
    instances = workflow.start_many(ctx, s, p, "measure_followup", data,
                                    [BusinessKey(KeyKind.MEASURE, m.id) for m in measures],
                                    unit_ids=[case.unit_id] * len(measures))
    for measure, instance in zip(measures, instances, strict=True):
        measure.followup_instance_id = instance.id
    return len(measures)


def check_reported(s: Session, measure_id: int, data: dict) -> None:
    """A measure is reported done only with at least one evidence file uploaded for it."""
    if not s.scalar(select(func.count()).select_from(Evidence).where(Evidence.measure_id == measure_id)):
        raise Unprocessable("attach at least one evidence file for the measure before reporting it done",
                            [{"field": "evidence", "code": "evidence_required",
                              "message": "attach at least one evidence file for the measure"}],
                            code="evidence_required")


def on_reported(ctx: Context, s: Session, p: Principal | None, measure_id: int, event: StepEvent) -> None:
    measure = s.get_one(Measure, measure_id)
    measure.done_at, measure.done_comment = ctx.now(), event.data.get("comment")
    _record(ctx, s, p, measure, "measure_done", measure.done_comment)


def on_overdue(ctx: Context, s: Session, p: Principal | None, measure_id: int, event: StepEvent) -> None:
    measure = s.get_one(Measure, measure_id)
    if measure.done_at is None:
        measure.overdue_at = ctx.now()
        _record(ctx, s, None, measure, "measure_overdue", measure.description)


def _record(ctx: Context, s: Session, p: Principal | None, measure: Measure, kind: str, detail: str | None) -> None:
    case = notices.measure_case(s, measure.id)
    if case is not None:
        s.add(SupervisionAction(round_id=case.round_id, case_id=case.id, target_unit_id=case.unit_id, kind=kind,
                                at=ctx.now(), actor_id=p.id if p else None, detail=detail))


def open_followup_task(s: Session, measure_id: int) -> bool:
    """The unit's task to report the measure done is open: evidence for it is taken meanwhile."""
    return (s.scalar(select(func.count()).select_from(HumanTask).where(
        HumanTask.business_key == str(BusinessKey(KeyKind.MEASURE, measure_id)), HumanTask.state == "open",
        HumanTask.step == "report_measure")) or 0) > 0


def overdue_measures(s: Session, p: Principal, round_id: int | None = None) -> list[tuple[Measure, Case]]:
    """Followed-up measures found overdue and still unreported, in the viewer's scope."""
    query = (select(Measure, Case).join(RectificationItem, RectificationItem.id == Measure.item_id)
             .join(Case, Case.id == RectificationItem.case_id)
             .where(Measure.overdue_at.is_not(None), Measure.done_at.is_(None), access.case_scope(p))
             .order_by(Measure.deadline, Measure.id))
    if round_id is not None:
        query = query.where(Case.round_id == round_id)
    return [(m, c) for m, c in s.execute(query)]


def measure_json(m: Measure) -> dict:
    return {"id": m.id, "description": m.description, "deadline": m.deadline.isoformat() if m.deadline else None,
            "followup": m.followup, "done_at": m.done_at.isoformat() if m.done_at else None,
            "done_comment": m.done_comment, "overdue_at": m.overdue_at.isoformat() if m.overdue_at else None}


def of_case(s: Session, p: Principal, case_id: int) -> list[Measure]:
    from .cases import get_case  # cases starts the follow-ups at close-out, so it imports this module

    case = get_case(s, p, case_id)
    return list(s.scalars(select(Measure).join(RectificationItem, RectificationItem.id == Measure.item_id)
                          .where(RectificationItem.case_id == case.id).order_by(Measure.id)))


def overdue_rows(s: Session, p: Principal, case_id: int | None = None) -> list[dict]:
    """Overdue measures as the pages show them, with their unit and round; of one case when given."""
    rows = [(m, c) for m, c in overdue_measures(s, p) if case_id is None or c.id == case_id]
    units = unit_names(s, {c.unit_id for _, c in rows})
    rounds = round_names(s, {c.round_id for _, c in rows})
    return [{"measure": m, "case": c, "unit": units.get(c.unit_id, ""), "round": rounds.get(c.round_id, "")}
            for m, c in rows]


def overdue_count(s: Session, p: Principal) -> int:
    """How many followed-up measures are overdue in the office's view (0 for other roles)."""
    if not access.may_urge(p):
        return 0
    return s.scalar(select(func.count()).select_from(Measure)
                    .join(RectificationItem, RectificationItem.id == Measure.item_id)
                    .join(Case, Case.id == RectificationItem.case_id)
                    .where(Measure.overdue_at.is_not(None), Measure.done_at.is_(None), access.case_scope(p))) or 0
