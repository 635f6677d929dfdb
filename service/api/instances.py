from __future__ import annotations

from flask import request

from .. import correlation, operations
from . import bp, ctx, listing, page, payload, principal


@bp.get("/process-instances")
def process_instances():
    limit, offset = page()
    with ctx().db.read() as s:
        rows, total = operations.list_instances(ctx(), s, principal(), request.args.get("status") or None, limit, offset)
    return listing([operations.instance_json(row.instance, row.version.version) for row in rows], total)


@bp.post("/process-instances/<int:instance_id>/retry")
def retry_instance(instance_id):
    return operations.retry(ctx(), principal(), instance_id)


_NAME = {"type": "string", "minLength": 1, "maxLength": 200}
_KEY = {"type": ["string", "null"], "minLength": 1, "maxLength": 200}
MESSAGE_REQUEST = {"type": "object", "required": ["name"], "additionalProperties": False, "properties": {
    "name": _NAME, "business_key": _KEY, "correlation_key": _KEY, "data": {"type": ["object", "null"]}}}
SIGNAL_REQUEST = {"type": "object", "required": ["name"], "additionalProperties": False, "properties": {
    "name": _NAME, "data": {"type": ["object", "null"]}}}


@bp.post("/messages")
def send_message():
    body = payload(MESSAGE_REQUEST)
    return correlation.send_message(ctx(), principal(), body["name"], body.get("business_key"),
                                    body.get("correlation_key"), body.get("data"))


@bp.post("/signals")
def send_signal():
    body = payload(SIGNAL_REQUEST)
    return correlation.send_signal(ctx(), principal(), body["name"], body.get("data"))
