"""Process instances as the office and designers run them: which failed, and trying them again."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from workflows.tables import ModelVersion, ProcessInstance

from . import access
from .auth import Principal
from .context import Context
from .errors import BadRequest, NotFound
from .models import Unit
from .timers import fire_instance_timers

INSTANCE_STATUSES = ("running", "error", "completed")


def instance_json(instance: ProcessInstance, version: int | None = None) -> dict:
    return {"id": instance.id, "process_model": instance.model_key, "version": version,
            "business_key": instance.business_key, "unit_id": instance.unit_id, "status": instance.status,
            "error": instance.error, "error_code": instance.error_code, "error_element": instance.error_element,
            "failures": instance.failures,
            "retry_at": _iso(instance.retry_at), "created_at": _iso(instance.created_at),
            "updated_at": _iso(instance.updated_at)}


@dataclass
class InstanceRow:
    instance: ProcessInstance
    version: ModelVersion
    unit: str | None
    error_name: str  # the failed element's name as the model writes it ("" when none)


def list_instances(ctx: Context, s: Session, p: Principal, status: str | None, limit: int,
                   offset: int) -> tuple[list[InstanceRow], int]:
    """The instances the principal operates, failed ones first."""
    p.require(*access.INSTANCE_WATCHERS)
    if status and status not in INSTANCE_STATUSES:
        raise BadRequest(f"status must be one of {', '.join(INSTANCE_STATUSES)}", code="invalid_query")
    query = (select(ProcessInstance, ModelVersion, Unit.name)
             .join(ModelVersion, ModelVersion.id == ProcessInstance.model_version_id)
             .outerjoin(Unit, Unit.id == ProcessInstance.unit_id)
             .where(access.operated_instances(p)))
    if status:
        query = query.where(ProcessInstance.status == status)
    total = s.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = s.execute(query.order_by((ProcessInstance.status == "error").desc(), ProcessInstance.updated_at.desc(),
                                    ProcessInstance.id.desc()).limit(limit).offset(offset))
    return [InstanceRow(instance, version, unit, ctx.engine.element_name(s, instance, instance.error_element) or ""
                        if instance.error_element else "") for instance, version, unit in rows], total


def failed_count(s: Session, p: Principal) -> int:
    """How many instances wait for someone to look at them (0 for those who do not operate)."""
    if not access.may_operate(p):
        return 0
    return s.scalar(select(func.count()).select_from(ProcessInstance).where(
        ProcessInstance.status == "error", access.operated_instances(p))) or 0


def retry(ctx: Context, p: Principal, instance_id: int) -> dict:
    """Try a failed instance's timer step again now; a new failure is recorded as before."""
    p.require(*access.INSTANCE_WATCHERS)
    def claim(s: Session):
        instance = s.scalar(select(ProcessInstance).where(ProcessInstance.id == instance_id,
                                                          access.operated_instances(p)))
        if instance is None:
            raise NotFound(f"process instance {instance_id} does not exist")
        ctx.engine.retry(s, instance_id, p.username)
    ctx.db.transaction(claim)
    fire_instance_timers(ctx, instance_id)
    with ctx.db.read() as s:
        instance = s.get(ProcessInstance, instance_id)
        return instance_json(instance, s.get(ModelVersion, instance.model_version_id).version)


def _iso(when) -> str | None:
    return when.isoformat() if when else None
