"""Petition counts (信访量) and residents' satisfaction: the figures that show whether rectification
reached the people it is for.

The office enters each unit's petitions per month from the petition bureau's figures (a later entry
for the same unit and month replaces the earlier). Satisfaction is the residents' ratings (1-5) of
published rectifications and of the handling of their own reports, each counted against the unit
and round it was given for. Both are counted inside the viewer's need-to-know scope
(`access.unit_scope`), like the rest of the dashboard.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import cast

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from . import access, audit, rounds
from .auth import Principal
from .context import Context
from .db import lock_row
from .errors import Unprocessable
from .models import PetitionCount, Rating, Round, Unit
from .organisation import unit_names

PERIOD = re.compile(r"^(20\d\d)-(0[1-9]|1[0-2])$")
MAX_COUNT = 1_000_000


def enter(ctx: Context, s: Session, p: Principal, unit_id: int, period: str, count) -> PetitionCount:
    """One unit's petitions in one month (YYYY-MM); entering it again corrects it."""
    p.require(*access.PETITION_KEEPERS)
    period = (period or "").strip()
    if not PERIOD.match(period):
        raise Unprocessable.on_field("period", "invalid_period", "a month as YYYY-MM")
    if isinstance(count, bool) or not isinstance(count, int) or not 0 <= count <= MAX_COUNT:
        raise Unprocessable.on_field("count", "out_of_range", f"a whole number from 0 to {MAX_COUNT}")
    rounds.require_units(s, [unit_id], "unit_id")
    row = s.scalar(select(PetitionCount).where(PetitionCount.unit_id == unit_id, PetitionCount.period == period))
    if row is None:
        row = PetitionCount(unit_id=unit_id, period=period, count=count, entered_by=p.id, entered_at=ctx.now())
        s.add(row)
        s.flush()
    else:
        lock_row(s, PetitionCount, row.id)
        row.count, row.entered_by, row.entered_at = count, p.id, ctx.now()
    audit.record(s, "petitions_entered", p, f"unit:{unit_id}", detail={"period": period, "count": count})
    return row


@dataclass
class EntryPage:
    units: list[Unit]
    rows: list[tuple[PetitionCount, str]]   # the latest entries with their unit's name


def entry_page(s: Session, p: Principal, limit: int = 100) -> EntryPage:
    p.require(*access.PETITION_KEEPERS)
    units = list(s.scalars(select(Unit).where(Unit.active.is_(True), Unit.kind.in_(
        ("department", "street", "community", "company"))).order_by(Unit.code)))
    rows = list(s.scalars(select(PetitionCount).order_by(PetitionCount.period.desc(), PetitionCount.unit_id)
                          .limit(limit)))
    names = unit_names(s, {r.unit_id for r in rows})
    return EntryPage(units, [(r, names.get(r.unit_id, "")) for r in rows])


def petition_trend(s: Session, p: Principal) -> dict:
    """Petitions per month (every unit in scope together) and per unit and month, oldest month first."""
    rows = cast(list[tuple[str, int, int]], s.execute(
        select(PetitionCount.period, PetitionCount.unit_id, PetitionCount.count)
        .where(access.unit_scope(p, PetitionCount.unit_id)).order_by(PetitionCount.period)).all())
    periods = sorted({period for period, _, _ in rows})
    names = unit_names(s, {unit_id for _, unit_id, _ in rows})
    by_unit: dict[int, dict[str, int]] = {}
    totals = dict.fromkeys(periods, 0)
    for period, unit_id, count in rows:
        by_unit.setdefault(unit_id, {})[period] = count
        totals[period] += count
    units = sorted(by_unit, key=lambda u: names.get(u, ""))
    return {"periods": periods, "totals": [totals[period] for period in periods],
            "units": [{"unit_id": u, "unit": names.get(u, ""),
                       "counts": [by_unit[u].get(period) for period in periods]} for u in units]}


def satisfaction(s: Session, p: Principal, round_id: int | None) -> dict:
    """Average rating and number of ratings per unit (of the chosen round, or all) and per round."""
    scoped = access.unit_scope(p, Rating.unit_id)
    per_unit = select(Rating.unit_id, func.avg(Rating.score), func.count()).where(scoped, Rating.unit_id.is_not(None))
    if round_id is not None:
        per_unit = per_unit.where(Rating.round_id == round_id)
    unit_rows = cast(list[tuple[int, float, int]], s.execute(per_unit.group_by(Rating.unit_id)).all())
    names = unit_names(s, {u for u, _, _ in unit_rows})
    round_rows = cast(list[tuple[int, str, float, int]], s.execute(
        select(Round.id, Round.name, func.avg(Rating.score), func.count()).join(Round, Round.id == Rating.round_id)
        .where(scoped).group_by(Round.id, Round.name).order_by(Round.id)).all())
    return {"units": sorted(({"unit_id": u, "unit": names.get(u, ""), "average": round(float(avg), 2), "ratings": n}
                             for u, avg, n in unit_rows), key=lambda row: row["unit"]),
            "rounds": [{"round_id": r, "round": name, "average": round(float(avg), 2), "ratings": n}
                       for r, name, avg, n in round_rows]}
