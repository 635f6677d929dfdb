"""The audit log, for the audit administrator alone: as JSON pages, or every matching entry as an
Excel workbook or CSV (the same file as the page's export, recorded on the log as it leaves)."""
from __future__ import annotations

from flask import request

from .. import audit, audit_log
from ..errors import BadRequest
from ..web.audit import download, export_file
from . import bp, ctx, listing, page, principal


@bp.get("/audit-log")
def audit_log_entries():
    """Entries newest first; `action`, `actor`, `outcome` (ok|refused) and the days `from` and `to`
    (YYYY-MM-DD, in the configured zone, both included) filter; `limit` and `offset` page;
    `format=xlsx|csv` downloads every matching entry instead."""
    p, c = principal(), ctx()
    audit_log.admit(c, p)
    fmt = request.args.get("format") or "json"
    if fmt not in ("json", *audit_log.FORMATS):
        raise BadRequest("format must be json, xlsx or csv", code="invalid_query")
    if fmt != "json":
        with c.db.read() as s:
            found = audit_log.for_export(s, p, request.args, c.zone)
        content = export_file(found.entries, fmt)
        audit_log.exported(c, p, found.filters, fmt, len(found.entries))
        return download(content, fmt)
    limit, offset = page()
    with c.db.read() as s:
        found = audit_log.listing(s, p, request.args, c.zone, limit, offset)
        return listing([audit.entry_json(e, c.zone) for e in found.entries], found.total)
