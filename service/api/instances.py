from __future__ import annotations

from flask import request

from .. import operations
from . import bp, ctx, listing, page, principal


@bp.get("/process-instances")
def process_instances():
    limit, offset = page()
    with ctx().db.read() as s:
        rows, total = operations.list_instances(ctx(), s, principal(), request.args.get("status") or None, limit, offset)
    return listing([operations.instance_json(row.instance, row.version.version) for row in rows], total)


@bp.post("/process-instances/<int:instance_id>/retry")
def retry_instance(instance_id):
    return operations.retry(ctx(), principal(), instance_id)
