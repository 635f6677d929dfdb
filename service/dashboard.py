"""The office dashboard's figures: the round's and the district's numbers behind its charts.

Everything is counted from the records on each request, inside the viewer's need-to-know scope
(`access.case_scope`): the office and the leading group see the district, a leader in charge
sees the units of their portfolio. The headline figures are `stats.figures` itself, so the
board can never disagree with GET /api/v1/stats; the chart series are small grouped queries
kept here because only the dashboard needs them.
"""
from __future__ import annotations

from typing import cast

from sqlalchemy import case as sql_case
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from . import access, insight, measures, petitions, rounds, stats
from .auth import Principal
from .context import Context
from .errors import NotFound
from .models import CASE_STATUSES, Case, Round, Unit
from .organisation import unit_names


def _cases(p: Principal, round_id: int | None):
    query = select(Case).where(access.case_scope(p))
    return query.where(Case.round_id == round_id) if round_id is not None else query


def default_round_id(s: Session, p: Principal) -> int | None:
    """The round the board opens on: the latest one whose list is published (the one being supervised)."""
    published = [r for r in rounds.visible_rounds(s, p) if r.published_at is not None]
    return published[-1].id if published else None


def progress_by_unit(s: Session, p: Principal, round_id: int | None) -> dict:
    """Cases per unit by status: with a round chosen, one bar per unit coloured by where it is."""
    scoped = _cases(p, round_id).subquery()
    rows = s.execute(select(Unit.id, Unit.name, scoped.c.status, func.count())
                     .join(scoped, scoped.c.unit_id == Unit.id)
                     .group_by(Unit.id, Unit.name, scoped.c.status).order_by(Unit.id)).all()
    units: dict[int, str] = {}
    counts: dict[tuple[int, str], int] = {}
    for unit_id, name, status, n in cast(list[tuple[int, str, str, int]], rows):
        units[unit_id] = name
        counts[(unit_id, status)] = n
    statuses = [st for st in CASE_STATUSES if any(k[1] == st for k in counts)]
    return {"units": list(units.values()), "statuses": statuses,
            "series": {st: [counts.get((uid, st), 0) for uid in units] for st in statuses}}


def warning_board(ctx: Context, s: Session, p: Principal, round_id: int | None) -> dict:
    """`stats.warning_board` (open cases by colour, yellow and red listed) plus what the page links
    to: each listed case's process instance, and its deadline as a local date."""
    board_ = stats.warning_board(ctx, s, p, round_id)
    listed = [row for level in ("red", "yellow") for row in board_[level]]
    instances = dict(s.execute(select(Case.id, Case.process_instance_id)
                               .where(Case.id.in_([row["case_id"] for row in listed]))).all())
    for row in listed:
        row["process_instance_id"] = instances.get(row["case_id"])
        row["due_date"] = row["due_at"][:10]
    # measures due after their case closed and unreported by their deadline: still the unit's to finish
    late = measures.overdue_measures(s, p, round_id)
    names = unit_names(s, {c.unit_id for _, c in late})
    overdue = [{"case_id": c.id, "unit": names.get(c.unit_id, ""), "description": m.description,
                "deadline": m.deadline.isoformat() if m.deadline else ""} for m, c in late]
    return {"counts": board_["counts"], "red_units": board_["red"], "yellow_units": board_["yellow"],
            "overdue_measures": overdue}


def by_industry(s: Session, p: Principal, round_id: int | None) -> list[dict]:
    """Units (cases) per industry and the share of them closed out, in per cent."""
    scoped = _cases(p, round_id).subquery()
    industry = func.coalesce(Unit.industry, "")
    rows = cast(list[tuple[str, int, int | None]], s.execute(
        select(industry, func.count(), func.sum(sql_case((scoped.c.status == "closed", 1), else_=0)))
        .join(scoped, scoped.c.unit_id == Unit.id)
        .group_by(industry).order_by(func.count().desc(), industry)).all())
    return [{"industry": name, "units": n, "closed": int(closed or 0),
             "rate": round(100 * int(closed or 0) / n, 1) if n else 0.0} for name, n, closed in rows]


def trend(ctx: Context, s: Session, p: Principal, rounds_: list[Round]) -> list[dict]:
    """The seed report's headline counts per round, oldest first, from `stats.figures` itself."""
    out = []
    for rnd in rounds_:
        f = stats.figures(ctx, s, p, rnd.id)
        out.append({"round_id": rnd.id, "round": rnd.name, "common_problems": f["common_problems"],
                    "problems_found": f["problems_found"], "measures": f["measures"],
                    "institutions": f["institutions"]})
    return out


def board(ctx: Context, s: Session, p: Principal, round_id: int | None) -> dict:
    """Everything the dashboard draws, as plain JSON-able data."""
    p.require(*access.DASHBOARD_READERS)
    visible = rounds.visible_rounds(s, p)  # oldest first: the trend's x axis and the filter's options
    if round_id is not None and round_id not in {r.id for r in visible}:
        raise NotFound(f"round {round_id} does not exist")
    return {
        "round_id": round_id,
        "rounds": [{"id": r.id, "name": r.name, "status": r.status} for r in visible],
        "figures": stats.figures(ctx, s, p, round_id),
        "progress": progress_by_unit(s, p, round_id),
        "warnings": warning_board(ctx, s, p, round_id),
        "industries": by_industry(s, p, round_id),
        "trend": trend(ctx, s, p, visible),
        "satisfaction": petitions.satisfaction(s, p, round_id),
        "petitions": petitions.petition_trend(s, p),
        # 问题反弹 per round, industry and unit; and per industry and department the common problems,
        # their units, overdue share and recurrence (管行业必须管共性问题整改)
        "recurrence": insight.recurrence(s, p, round_id),
        "root_causes": insight.root_causes(s, p, round_id, ctx.now()),
    }
