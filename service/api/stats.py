from __future__ import annotations

from .. import stats
from ..openapi import document
from . import bp, ctx, int_arg, principal


@bp.get("/stats")
def figures():
    c = ctx()
    with c.db.read() as s:
        return stats.figures(c, s, principal(), int_arg("round_id"))


@bp.get("/openapi.json")
def openapi():
    return document()
