"""The district's figures, counted from the records every time (never stored totals)."""
from __future__ import annotations

from datetime import datetime
from typing import cast

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from . import access, insight
from .auth import Principal
from .context import Context
from .models import (
    Case,
    Clue,
    CommonProblem,
    Filing,
    Institution,
    Measure,
    RecommendationLetter,
    RectificationItem,
    SelfCheckItem,
    Unit,
)


def figures(ctx: Context, s: Session, p: Principal, round_id: int | None) -> dict:
    scope = access.case_scope(p)

    def cases(q):
        q = q.where(scope)
        return q.where(Case.round_id == round_id) if round_id is not None else q

    def by_round(q, column):
        return q.where(column == round_id) if round_id is not None else q

    count = lambda q: s.scalar(q) or 0  # noqa: E731
    district = access.sees_district_figures(p)
    clue_counts = s.execute(by_round(select(func.count(Clue.id), func.coalesce(func.sum(Clue.people_count), 0))
                                     .where(Clue.disposition == "case_filed"), Clue.round_id)).one()
    first_filings = (select(Filing.case_id, func.min(Filing.filed_at).label("first"))
                     .group_by(Filing.case_id).subquery())
    rows = s.execute(cases(select(Case.created_at, first_filings.c.first)
                           .join(first_filings, first_filings.c.case_id == Case.id)))
    # min() keeps the column's type, so both are aware UTC datetimes
    spans = [(cast(datetime, first) - cast(datetime, created)).total_seconds() / 86400 for created, first in rows]
    totals = {
        "units_total": count(cases(select(func.count(Case.id)))),
        "units_closed": count(cases(select(func.count(Case.id)).where(Case.status == "closed"))),
    }
    return {
        "round_id": round_id,
        "common_problems": count(by_round(select(func.count(CommonProblem.id)), CommonProblem.round_id)),
        "problems_found": count(cases(select(func.coalesce(func.sum(SelfCheckItem.problems_found), 0))
                                      .join(Case, Case.id == SelfCheckItem.case_id))),
        "measures": count(cases(select(func.count(Measure.id)).join(RectificationItem, RectificationItem.id == Measure.item_id)
                                .join(Case, Case.id == RectificationItem.case_id))),
        "institutions": count(cases(select(func.count(Institution.id))
                                    .join(RectificationItem, RectificationItem.id == Institution.item_id)
                                    .join(Case, Case.id == RectificationItem.case_id))),
        "recommendation_letters": count(by_round(select(func.count(RecommendationLetter.id)),
                                                 RecommendationLetter.round_id)) if district else None,
        "cases_filed": clue_counts[0] if district else None,
        "people_filed": int(clue_counts[1]) if district else None,
        "units_total": totals["units_total"],
        "units_filed": count(cases(select(func.count(Case.id)).where(Case.filed_at.is_not(None)))),
        "units_closed": totals["units_closed"],
        "units_overdue": count(cases(select(func.count(Case.id)).where(Case.is_overdue(ctx.now())))),
        "completion_rate": round(totals["units_closed"] / totals["units_total"], 4) if totals["units_total"] else 0.0,
        "average_days_to_file": round(sum(spans) / len(spans), 1) if spans else None,
        # 问题反弹: recurring problems among the problems found (service.insight)
        "recurrence_rate": insight.recurrence_rate(s, p, round_id),
    }


def warning_board(ctx: Context, s: Session, p: Principal, round_id: int | None) -> dict:
    """Open cases by warning colour, with the yellow and red ones listed for follow-up."""
    query = (select(Case, Unit.name).join(Unit, Unit.id == Case.unit_id)
             .where(access.case_scope(p), Case.status != "closed").order_by(Case.due_at, Case.id))
    if round_id is not None:
        query = query.where(Case.round_id == round_id)
    counts = {"none": 0, "green": 0, "yellow": 0, "red": 0}
    listed: dict[str, list[dict]] = {"yellow": [], "red": []}
    for case, unit_name in s.execute(query):
        counts[case.warning] += 1
        if case.warning in listed:
            listed[case.warning].append({"case_id": case.id, "unit_id": case.unit_id, "unit": unit_name,
                                         "round_id": case.round_id, "status": case.status,
                                         "due_at": ctx.local_iso(case.due_at)})
    return {"round_id": round_id, "counts": counts, **listed}
