"""The audit log, for the audit administrator alone."""
from __future__ import annotations

from flask import request

from .. import access, audit
from ..errors import Forbidden
from . import bp, ctx, listing, page, principal


@bp.get("/audit-log")
def audit_log():
    """Entries newest first; `action` and `actor` filter, `limit` and `offset` page."""
    p = principal()
    if not p.has(*access.AUDIT_READERS):
        raise Forbidden("only an audit administrator reads the audit log", code="audit_admin_required")
    limit, offset = page()
    c = ctx()
    with c.db.read() as s:
        filters = audit.Filters(action=request.args.get("action") or None, actor=request.args.get("actor") or None)
        rows, total = audit.search(s, filters, c.zone, limit=limit, offset=offset)
        return listing([audit.entry_json(e, c.zone) for e in rows], total)
