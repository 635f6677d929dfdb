"""The office dashboard page: the figures of `service.dashboard` as charts, and the four lists of
`service.lists` as tables and Excel ledgers, in the page's language.

The figures are counted inside the viewer's need-to-know scope (see `service.dashboard`); the
lists' rows carry codes, which the table shows as the catalogue's words.
"""
from __future__ import annotations

from flask import Blueprint, Response, current_app, render_template, request
from sqlalchemy.orm import Session

from .. import access, downloads, lists
from .. import case_file as case_reads
from ..auth import Principal
from ..dashboard import board, default_round_id
from ..errors import BadRequest
from ..models import CASE_STATUSES
from . import ctx, principal
from .i18n import LABELS, _, get_language, js_counted, label, ngettext

bp: Blueprint = Blueprint("dashboard", __name__, url_prefix="/dashboard")


# ---------------------------------------------------------------- views
FIGURES = ("common_problems", "problems_found", "measures", "institutions", "recommendation_letters",
           "cases_filed", "people_filed", "units_total", "units_filed", "units_closed", "units_overdue",
           "completion_rate", "average_days_to_file", "recurrence_rate")
MAX_TABLE_ROWS = 1000  # the page shows this many; the Excel download always holds every row
# The list columns that hold codes, and the catalogue's kind of word for them: the rows carry codes
# (the workbook shows its own Chinese words), the page shows them in its language.
CODE_COLUMNS = {"source": "source", "status": "item_status", "case_status": "case_status", "kind": "supervision",
                "followup": "measure_followup", "outcome": "supervision_outcome", "recurring": "recurrence"}


def _round_arg(s: Session, p: Principal) -> int | None:
    """`?round_id=N` picks a round, `?round_id=` (empty) means every round; without the parameter
    the board opens on the latest round whose list is published (the one being supervised)."""
    raw = request.args.get("round_id")
    if raw is None:
        return default_round_id(s, p)
    if raw == "":
        return None
    try:
        return int(raw)
    except ValueError:
        raise BadRequest(f"round_id must be an integer, got {raw!r}") from None


def _list_name() -> str:
    name = request.args.get("list", "problems")
    return name if name in lists.LISTS else "problems"


def _searched() -> list[str]:
    """`?q=` narrows the list to the rows whose text, as the table shows it, holds these words (the
    search box above the table; its script narrows the shown rows further as one types, and the
    download link then carries both searches: `q` may come more than once, and every one must match)."""
    return [q.strip()[:100] for q in request.args.getlist("q") if q.strip()][:5]


def _matching(spec: lists.ListSpec, rows: list[dict], searched: list[str]) -> list[dict]:
    """The rows whose shown text (the page's words, cells joined as the table's row reads) holds
    every one of `searched`, case aside; the rows themselves keep their codes (the workbook words them)."""
    if not searched:
        return rows
    needles = [q.lower() for q in searched]
    return [row for row, shown in zip(rows, _shown(spec, rows), strict=True)
            if all(n in "".join("" if v is None else str(v) for v in shown.values()).lower() for n in needles)]


@bp.get("/")
def index():
    c = ctx()
    p = principal()
    p.require(*access.DASHBOARD_READERS)
    name = _list_name()
    searched = _searched()
    with c.db.read() as s:
        round_id = _round_arg(s, p)
        data = board(c, s, p, round_id)
        spec, rows = lists.rows(c, s, p, name, round_id)
        rows = _matching(spec, rows, searched)
        diagrams = case_reads.instance_ids(s, p, [r.get("case_id") for r in rows[:MAX_TABLE_ROWS]])
    return render_template("dashboard/index.html", diagrams=diagrams, data=data, figures=FIGURES, list_name=name,
                           documents=[r.get("document_id") for r in rows[:MAX_TABLE_ROWS]],
                           list_names=list(lists.LISTS), spec=spec, rows=_shown(spec, rows[:MAX_TABLE_ROWS]),
                           headers=[_header(col) for col in spec.columns], searched=" ".join(searched),
                           case_page="web.case_file" if "web.case_file" in current_app.view_functions else None,
                           total_rows=len(rows), max_rows=MAX_TABLE_ROWS,
                           may_enter_petitions=access.may_enter_petitions(p),
                           config={"data": data, "messages": chart_messages()})


def _shown(spec: lists.ListSpec, rows: list[dict]) -> list[dict]:
    """The rows as the table shows them: codes as words of the page's language, the system as an actor."""
    def cell(col: lists.Column, value):
        if col.key in CODE_COLUMNS and value is not None:
            return label(CODE_COLUMNS[col.key], value)
        if col.key == "actor" and value is None:
            return _("System")
        return value
    return [{col.key: cell(col, row[col.key]) for col in spec.columns} for row in rows]


def _header(col: lists.Column) -> str:
    """The list's own (Chinese) header, or its English one when the page is English and one is known."""
    return label("column", col.key) if get_language() == "en" and col.key in LABELS["column"] else col.header


def chart_messages() -> dict:
    """The labels the charts draw, in the page's language (ECharts gets text, never keys)."""
    return {"no_data": _("No data yet"), "cases": _("Cases"), "units": _("Units"),
            "completion_rate": _("Closed-out rate"), "recurrence_rate": label("figure", "recurrence_rate"),
            "satisfaction": _("Average satisfaction (1–5)"), "petitions": _("Petitions"),
            "status": {st: label("case_status", st) for st in CASE_STATUSES},
            "warning": {w: label("warning", w) for w in ("none", "green", "yellow", "red")},
            "figure": {k: label("figure", k) for k in FIGURES},
            "rows": js_counted(lambda k: ngettext("%(n)s row", "%(n)s rows", k, n="{n}")),
            "progress_description": js_counted(lambda k: ngettext(
                "Progress per unit, %(n)s unit: its cases by status are in the table under the chart.",
                "Progress per unit, %(n)s units: their cases by status are in the table under the chart.",
                k, n="{n}"))}


@bp.get("/data.json")
def data_json():
    """The board's numbers as JSON, for a wall display that refreshes itself (and for tests)."""
    c = ctx()
    p = principal()
    p.require(*access.DASHBOARD_READERS)
    with c.db.read() as s:
        return board(c, s, p, _round_arg(s, p))


@bp.get("/lists/<name>.xlsx")
def list_workbook(name: str):
    """The list as an Excel ledger for the logged-in user (the API's download needs a bearer token)."""
    c = ctx()
    p = principal()
    p.require(*access.DASHBOARD_READERS)
    searched = _searched()
    with c.db.read() as s:
        round_id = _round_arg(s, p)
        spec, rows = lists.rows(c, s, p, name, round_id)
        round_title = lists.round_name(s, round_id)
    rows = _matching(spec, rows, searched)  # the rows the page shows for the same filters, every one
    fallback = f"{name}-round-{round_id}.xlsx" if round_id else f"{name}.xlsx"
    filename = lists.export_name(spec.title, round_title, "xlsx", " ".join(searched))
    return Response(lists.exported(c, p, [name], lists.workbook(spec, rows), lists.Filters(round_id=round_id),
                                   " ".join(searched)),
                    mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": downloads.disposition(filename, fallback)})
