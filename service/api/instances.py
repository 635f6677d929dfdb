"""Operations on process instances: list them by status, retry, suspend, resume, cancel."""
from __future__ import annotations

from flask import request

from .. import correlation, operations
from . import bp, choice_arg, ctx, int_arg, listing, page, payload, principal

REASON = {"type": "object", "properties": {"reason": {"type": ["string", "null"]}}, "additionalProperties": False}


@bp.get("/process-instances")
def process_instances():
    limit, offset = page()
    status = choice_arg("status", operations.INSTANCE_STATUSES)
    with ctx().db.read() as s:
        rows, total = operations.list_instances(ctx(), s, principal(), status, limit, offset,
                                                request.args.get("process_model") or None, int_arg("version", None, 1))
    return listing([operations.instance_json(row.instance, row.version.version) for row in rows], total)


@bp.post("/process-instances/<int:instance_id>/retry")
def retry_instance(instance_id):
    return operations.retry(ctx(), principal(), instance_id, payload(REASON, optional=True).get("reason"))


@bp.post("/process-instances/<int:instance_id>/suspend")
def suspend_instance(instance_id):
    return operations.suspend(ctx(), principal(), instance_id, payload(REASON, optional=True).get("reason"))


@bp.post("/process-instances/<int:instance_id>/resume")
def resume_instance(instance_id):
    return operations.resume(ctx(), principal(), instance_id, payload(REASON, optional=True).get("reason"))


@bp.post("/process-instances/<int:instance_id>/cancel")
def cancel_instance(instance_id):
    return operations.cancel(ctx(), principal(), instance_id, payload(REASON, optional=True).get("reason"))


@bp.post("/messages")
def send_message():
    body = payload(correlation.MESSAGE_REQUEST)
    return correlation.send_message(ctx(), principal(), body["name"], body.get("business_key"),
                                    body.get("correlation_key"), body.get("data"))


@bp.post("/signals")
def send_signal():
    body = payload(correlation.SIGNAL_REQUEST)
    return correlation.send_signal(ctx(), principal(), body["name"], body.get("data"))
