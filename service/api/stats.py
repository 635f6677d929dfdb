from __future__ import annotations

from flask import Response, request

from .. import downloads, lists, stats
from ..errors import BadRequest
from ..openapi import document
from . import bp, ctx, int_arg, listing, principal


@bp.get("/stats")
def figures():
    c = ctx()
    with c.db.read() as s:
        return stats.figures(c, s, principal(), int_arg("round_id"))


@bp.get("/warnings")
def warnings():
    c = ctx()
    with c.db.read() as s:
        return stats.warning_board(c, s, principal(), int_arg("round_id"))


@bp.get("/openapi.json")
def openapi():
    return document()


def _filters() -> lists.Filters:
    overdue = request.args.get("overdue")
    if overdue not in (None, "", "true", "false"):
        raise BadRequest("overdue must be true or false", code="invalid_query")
    return lists.Filters(round_id=int_arg("round_id"), unit_id=int_arg("unit_id"),
                         industry=request.args.get("industry") or None, status=request.args.get("status") or None,
                         department_id=int_arg("department_id"),
                         overdue=None if overdue in (None, "") else overdue == "true")


def _xlsx(content: bytes, name: str, title: str, round_title: str | None) -> Response:
    """A workbook named in Chinese (问题清单-2026年第二轮巡察.xlsx), `name.xlsx` for ASCII-only clients."""
    return Response(content, mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": downloads.disposition(lists.export_name(title, round_title, "xlsx"),
                                                                     f"{name}.xlsx")})


@bp.get("/lists/<name>")
def list_rows(name):
    fmt = request.args.get("format", "json")
    if fmt not in ("json", "xlsx"):
        raise BadRequest("format must be json or xlsx", code="invalid_query")
    c, filters = ctx(), _filters()
    with c.db.read() as s:
        spec, rows = lists.rows(c, s, principal(), name, filters=filters)
        round_title = lists.round_name(s, filters.round_id)
    if fmt == "xlsx":
        return _xlsx(lists.exported(c, principal(), [name], lists.workbook(spec, rows), filters), name,
                     spec.title, round_title)
    body = listing(rows, len(rows))
    body["columns"] = [{"key": col.key, "header": col.header,
                        **({"labels": {k: v for k, v in col.labels.items() if k is not None}} if col.labels else {})}
                       for col in spec.columns]
    return body


@bp.get("/lists")
def all_lists():
    """The whole ledger: every list as one sheet of one workbook."""
    c, filters = ctx(), _filters()
    with c.db.read() as s:
        sheets = [lists.rows(c, s, principal(), name, filters=filters) for name in lists.LISTS]
        round_title = lists.round_name(s, filters.round_id)
    return _xlsx(lists.exported(c, principal(), list(lists.LISTS), lists.ledger(sheets), filters), "ledger",
                 lists.LEDGER_TITLE, round_title)
