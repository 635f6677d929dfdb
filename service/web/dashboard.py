"""The office dashboard: the round's and the district's figures as charts, and the four lists.

Everything is counted from the records on each request, inside the viewer's need-to-know scope
(`access.case_scope`): the office and the leading group see the district, a leader in charge
sees the units of their portfolio. The headline figures are `stats.figures` itself, so the
board can never disagree with GET /api/v1/stats; the chart series are small grouped queries
kept here because only this page needs them.
"""
from __future__ import annotations

from flask import Blueprint, Response, current_app, render_template, request
from sqlalchemy import case as sql_case
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .. import access, lists, stats
from ..auth import Principal
from ..context import Context
from ..errors import BadRequest, NotFound
from ..models import CASE_STATUSES, Case, Round, Unit
from . import ctx, login_required, principal
from .i18n import LABELS, _, get_language, js_counted, label, ngettext

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard")

DASHBOARD_ROLES = ("office", "leading_group", "leader")


# ---------------------------------------------------------------- the figures
def visible_rounds(s: Session, p: Principal) -> list[Round]:
    """Rounds the viewer may read, oldest first (the trend's x axis and the filter's options)."""
    return [r for r in s.scalars(select(Round).order_by(Round.id)) if access.can_read_round(p, r)]


def _cases(p: Principal, round_id: int | None):
    query = select(Case).where(access.case_scope(p))
    return query.where(Case.round_id == round_id) if round_id is not None else query


def progress_by_unit(s: Session, p: Principal, round_id: int | None) -> dict:
    """Cases per unit by status: with a round chosen, one bar per unit coloured by where it is."""
    scoped = _cases(p, round_id).subquery()
    rows = s.execute(select(Unit.id, Unit.name, scoped.c.status, func.count())
                     .join(scoped, scoped.c.unit_id == Unit.id)
                     .group_by(Unit.id, Unit.name, scoped.c.status).order_by(Unit.id)).all()
    units: dict[int, str] = {}
    counts: dict[tuple[int, str], int] = {}
    for unit_id, name, status, n in rows:
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
    return {"counts": board_["counts"], "red_units": board_["red"], "yellow_units": board_["yellow"]}


def by_industry(s: Session, p: Principal, round_id: int | None) -> list[dict]:
    """Units (cases) per industry and the share of them closed out, in per cent."""
    scoped = _cases(p, round_id).subquery()
    industry = func.coalesce(Unit.industry, "")
    rows = s.execute(select(industry, func.count(),
                            func.sum(sql_case((scoped.c.status == "closed", 1), else_=0)))
                     .join(scoped, scoped.c.unit_id == Unit.id)
                     .group_by(industry).order_by(func.count().desc(), industry)).all()
    return [{"industry": name, "units": n, "closed": int(closed or 0),
             "rate": round(100 * int(closed or 0) / n, 1) if n else 0.0} for name, n, closed in rows]


def trend(ctx: Context, s: Session, p: Principal, rounds: list[Round]) -> list[dict]:
    """The seed report's headline counts per round, oldest first, from `stats.figures` itself."""
    out = []
    for rnd in rounds:
        f = stats.figures(ctx, s, p, rnd.id)
        out.append({"round_id": rnd.id, "round": rnd.name, "common_problems": f["common_problems"],
                    "problems_found": f["problems_found"], "measures": f["measures"],
                    "institutions": f["institutions"]})
    return out


def board(ctx: Context, s: Session, p: Principal, round_id: int | None) -> dict:
    """Everything the dashboard draws, as plain JSON-able data."""
    p.require(*DASHBOARD_ROLES)
    rounds = visible_rounds(s, p)
    if round_id is not None and round_id not in {r.id for r in rounds}:
        raise NotFound(f"round {round_id} does not exist")
    return {
        "round_id": round_id,
        "rounds": [{"id": r.id, "name": r.name, "status": r.status} for r in rounds],
        "figures": stats.figures(ctx, s, p, round_id),
        "progress": progress_by_unit(s, p, round_id),
        "warnings": warning_board(ctx, s, p, round_id),
        "industries": by_industry(s, p, round_id),
        "trend": trend(ctx, s, p, rounds),
    }


# ---------------------------------------------------------------- views
FIGURES = ("common_problems", "problems_found", "measures", "institutions", "recommendation_letters",
           "cases_filed", "people_filed", "units_total", "units_filed", "units_closed", "units_overdue",
           "completion_rate", "average_days_to_file")
MAX_TABLE_ROWS = 1000  # the page shows this many; the Excel download always holds every row


def _round_arg(s: Session, p: Principal) -> int | None:
    """`?round_id=N` picks a round, `?round_id=` (empty) means every round; without the parameter
    the board opens on the latest round whose list is published (the one being supervised)."""
    raw = request.args.get("round_id")
    if raw is None:
        published = [r for r in visible_rounds(s, p) if r.published_at is not None]
        return published[-1].id if published else None
    if raw == "":
        return None
    try:
        return int(raw)
    except ValueError:
        raise BadRequest(f"round_id must be an integer, got {raw!r}") from None


def _list_name() -> str:
    name = request.args.get("list", "problems")
    return name if name in lists.LISTS else "problems"


@bp.get("/")
@login_required
def index():
    c = ctx()
    p = principal()
    p.require(*DASHBOARD_ROLES)
    name = _list_name()
    with c.db.read() as s:
        round_id = _round_arg(s, p)
        data = board(c, s, p, round_id)
        spec, rows = lists.rows(c, s, p, name, round_id)
    return render_template("dashboard/index.html", data=data, figures=FIGURES, list_name=name,
                           list_names=list(lists.LISTS), spec=spec, rows=rows[:MAX_TABLE_ROWS],
                           headers=[_header(col) for col in spec.columns],
                           case_page="web.case_file" if "web.case_file" in current_app.view_functions else None,
                           total_rows=len(rows), max_rows=MAX_TABLE_ROWS,
                           config={"data": data, "messages": chart_messages()})


def _header(col: lists.Column) -> str:
    """The list's own (Chinese) header, or its English one when the page is English and one is known."""
    return label("column", col.key) if get_language() == "en" and col.key in LABELS["column"] else col.header


def chart_messages() -> dict:
    """The labels the charts draw, in the page's language (ECharts gets text, never keys)."""
    return {"no_data": _("No data yet"), "cases": _("Cases"), "units": _("Units"),
            "completion_rate": _("Closed-out rate"),
            "status": {st: label("case_status", st) for st in CASE_STATUSES},
            "warning": {w: label("warning", w) for w in ("none", "green", "yellow", "red")},
            "figure": {k: label("figure", k) for k in FIGURES},
            "rows": js_counted(lambda k: ngettext("%(n)s row", "%(n)s rows", k, n="{n}"))}


@bp.get("/data.json")
@login_required
def data_json():
    """The board's numbers as JSON, for a wall display that refreshes itself (and for tests)."""
    c = ctx()
    p = principal()
    p.require(*DASHBOARD_ROLES)
    with c.db.read() as s:
        return board(c, s, p, _round_arg(s, p))


@bp.get("/lists/<name>.xlsx")
@login_required
def list_workbook(name: str):
    """The list as an Excel ledger for the logged-in user (the API's download needs a bearer token)."""
    c = ctx()
    p = principal()
    p.require(*DASHBOARD_ROLES)
    with c.db.read() as s:
        round_id = _round_arg(s, p)
        spec, rows = lists.rows(c, s, p, name, round_id)
    filename = f"{name}-round-{round_id}.xlsx" if round_id else f"{name}.xlsx"
    return Response(lists.workbook(spec, rows),
                    mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})
