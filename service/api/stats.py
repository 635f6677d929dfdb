from __future__ import annotations

from flask import Response, request

from .. import lists, stats
from ..errors import BadRequest
from ..openapi import document
from . import bp, ctx, int_arg, listing, principal


@bp.get("/stats")
def figures():
    c = ctx()
    with c.db.read() as s:
        return stats.figures(c, s, principal(), int_arg("round_id"))


@bp.get("/openapi.json")
def openapi():
    return document()


@bp.get("/lists/<name>")
def list_rows(name):
    fmt = request.args.get("format", "json")
    if fmt not in ("json", "xlsx"):
        raise BadRequest("format must be json or xlsx")
    c = ctx()
    round_id = int_arg("round_id")
    with c.db.read() as s:
        spec, rows = lists.rows(c, s, principal(), name, round_id)
    if fmt == "xlsx":
        filename = f"{name}-round-{round_id}.xlsx" if round_id else f"{name}.xlsx"
        return Response(lists.workbook(spec, rows),
                        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                        headers={"Content-Disposition": f'attachment; filename="{filename}"'})
    body = listing(rows, len(rows))
    body["columns"] = [{"key": col.key, "header": col.header} for col in spec.columns]
    return body
