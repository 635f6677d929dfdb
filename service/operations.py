"""Process instances as operators run them: which failed, are held or wait too long; retrying,
suspending, resuming and cancelling one, each with its reason in the history and the audit log."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from workflows.tables import HistoryEntry, HumanTask, ModelVersion, ProcessInstance, Timer

from . import access, audit, workflow
from .auth import Principal
from .context import Context
from .errors import BadRequest, NotFound, Unprocessable
from .models import Unit
from .timers import fire_instance_timers

# running: moving (or waiting for a person, a timer, a message); error: a step failed; suspended: held
# by an operator; completed and cancelled: ended.
INSTANCE_STATUSES = ("running", "error", "suspended", "completed", "cancelled")
REASON_LENGTH = 500


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
    late: Late | None = None  # what it waits for longer than expected, on the overdue list


@dataclass
class Late:
    """The step an instance waits at longer than expected: an open task or a timer past due."""

    kind: str  # task | timer
    bpmn_id: str
    name: str
    due_at: datetime


def list_instances(ctx: Context, s: Session, p: Principal, status: str | None, limit: int, offset: int,
                   model_key: str | None = None, version: int | None = None) -> tuple[list[InstanceRow], int]:
    """The instances the principal operates, failed ones first; of one model (and version) when asked."""
    p.require(*access.INSTANCE_WATCHERS)
    if status and status not in INSTANCE_STATUSES:
        raise BadRequest(f"status must be one of {', '.join(INSTANCE_STATUSES)}", code="invalid_query")
    if version is not None and not model_key:
        raise Unprocessable.on_field("version", "version_needs_model",
                                     "a version filter needs the process_model it is a version of")
    query = _operated(p)
    if status:
        query = query.where(ProcessInstance.status == status)
    if model_key:
        query = query.where(ProcessInstance.model_key == model_key)
    if version is not None:
        query = query.where(ModelVersion.version == version)
    total = s.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = s.execute(query.order_by((ProcessInstance.status == "error").desc(), ProcessInstance.updated_at.desc(),
                                    ProcessInstance.id.desc()).limit(limit).offset(offset))
    return [_row(ctx, s, instance, version, unit) for instance, version, unit in rows], total


def _operated(p: Principal) -> Select[ProcessInstance, ModelVersion, str]:
    return (select(ProcessInstance, ModelVersion, Unit.name)
            .join(ModelVersion, ModelVersion.id == ProcessInstance.model_version_id)
            .outerjoin(Unit, Unit.id == ProcessInstance.unit_id)
            .where(access.operated_instances(p)))


def _row(ctx: Context, s: Session, instance: ProcessInstance, version: ModelVersion, unit: str | None,
         late: Late | None = None) -> InstanceRow:
    return InstanceRow(instance, version, unit, ctx.engine.element_name(s, instance, instance.error_element) or ""
                       if instance.error_element else "", late)


def overdue_instances(ctx: Context, s: Session, p: Principal, limit: int = 100) -> list[InstanceRow]:
    """Instances that wait longer than expected: an open task past its due time, or a timer that should
    have fired, by more than RECTIFLOW_STUCK_HOURS; the longest waiting first. A timer that late means
    its instance is held (failed, suspended) or no sweep runs."""
    p.require(*access.INSTANCE_WATCHERS)
    cutoff = ctx.now() - timedelta(hours=ctx.settings.stuck_hours)
    live = ProcessInstance.status.in_(("running", "error", "suspended"))
    tasks = s.execute(select(HumanTask.instance_id, HumanTask.bpmn_id, HumanTask.name, HumanTask.due_at)
                      .join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id)
                      .where(HumanTask.state == "open", HumanTask.due_at < cutoff, live, access.operated_instances(p))
                      .order_by(HumanTask.due_at).limit(limit * 4)).all()
    timers = s.execute(select(Timer.instance_id, Timer.bpmn_id, Timer.due_at)
                       .join(ProcessInstance, ProcessInstance.id == Timer.instance_id)
                       .where(Timer.due_at < cutoff, live, access.operated_instances(p))
                       .order_by(Timer.due_at).limit(limit * 4)).all()
    late: dict[int, Late] = {}
    for instance_id, bpmn_id, name, due_at in tasks:
        if due_at is not None:  # always: the query asked for due times before the cutoff
            late.setdefault(instance_id, Late("task", bpmn_id, name, due_at))
    for instance_id, bpmn_id, due_at in timers:
        if instance_id not in late or due_at < late[instance_id].due_at:
            late[instance_id] = Late("timer", bpmn_id, "", due_at)
    chosen = sorted(late, key=lambda i: late[i].due_at)[:limit]
    rows = {instance.id: (instance, version, unit)
            for instance, version, unit in s.execute(_operated(p).where(ProcessInstance.id.in_(chosen)))}
    out = []
    for instance_id in chosen:
        instance, version, unit = rows[instance_id]
        wait = late[instance_id]
        if wait.kind == "timer":
            wait.name = ctx.engine.element_name(s, instance, wait.bpmn_id) or ""
        out.append(_row(ctx, s, instance, version, unit, wait))
    return out


# The operators' page: the instances in one status, those waiting too long, or all of them.
OVERDUE = "overdue"
VIEWS = ("error", "suspended", OVERDUE, "running", "completed", "cancelled", "all")


@dataclass
class OperatorPage:
    view: str
    rows: list[InstanceRow]
    total: int
    counts: dict[str, int]  # per view but "all"


def operator_page(ctx: Context, s: Session, p: Principal, view: str, limit: int, offset: int) -> OperatorPage:
    """One view of the operators' page with every view's count, for its tabs."""
    p.require(*access.INSTANCE_WATCHERS)
    overdue = overdue_instances(ctx, s, p)
    if view == OVERDUE:
        rows, total = overdue[offset:offset + limit], len(overdue)
    else:
        rows, total = list_instances(ctx, s, p, view if view in INSTANCE_STATUSES else None, limit, offset)
    found = dict(s.execute(select(ProcessInstance.status, func.count()).where(access.operated_instances(p))
                           .group_by(ProcessInstance.status)).all())
    counts = {status: found.get(status, 0) for status in INSTANCE_STATUSES}
    counts[OVERDUE] = len(overdue)
    return OperatorPage(view, rows, total, counts)


@dataclass
class Hold:
    """An instance an operator suspended or cancelled: why, by whom and when (for its case's page)."""

    status: str  # suspended | cancelled
    reason: str
    actor: str | None
    at: datetime | None


def hold_of(s: Session, instance_id: int | None) -> Hold | None:
    """The operator's hold on an instance, None when it runs (or ended by itself)."""
    if instance_id is None:
        return None
    status = s.scalar(select(ProcessInstance.status).where(ProcessInstance.id == instance_id))
    if status not in ("suspended", "cancelled"):
        return None
    entry = s.scalar(select(HistoryEntry).where(HistoryEntry.instance_id == instance_id, HistoryEntry.event == status)
                     .order_by(HistoryEntry.id.desc()).limit(1))
    if entry is None:  # held before histories recorded it
        return Hold(status, "", None, None)
    return Hold(status, (entry.data or {}).get("reason") or "", entry.actor, entry.at)


def failed_count(s: Session, p: Principal) -> int:
    """How many instances wait for someone to look at them (0 for those who do not operate)."""
    if not access.may_operate(p):
        return 0
    return s.scalar(select(func.count()).select_from(ProcessInstance).where(
        ProcessInstance.status == "error", access.operated_instances(p))) or 0


def _claim(s: Session, p: Principal, instance_id: int) -> ProcessInstance:
    instance = s.scalar(select(ProcessInstance).where(ProcessInstance.id == instance_id,
                                                      access.operated_instances(p)))
    if instance is None:
        raise NotFound(f"process instance {instance_id} does not exist")
    return instance


def _reason(reason: str | None, required: bool) -> str | None:
    text = (reason or "").strip()
    if required and not text:
        raise Unprocessable.on_field("reason", "reason_required", "say why")
    if len(text) > REASON_LENGTH:
        raise Unprocessable.on_field("reason", "too_long", f"at most {REASON_LENGTH} characters",
                                     limit=REASON_LENGTH)
    return text or None


def retry(ctx: Context, p: Principal, instance_id: int, reason: str | None = None) -> dict:
    """Try a failed instance's timer step again now (on the current version when a fix was deployed
    that changes no element: `Engine.retry`); a new failure is recorded as before."""
    p.require(*access.INSTANCE_WATCHERS)
    why = _reason(reason, required=False)

    def claim(s: Session):
        _claim(s, p, instance_id)
        instance = ctx.engine.retry(s, instance_id, p.username)
        audit.record(s, "instance_retried", p, f"process_instance:{instance_id}",
                     detail={"reason": why, "version": s.get_one(ModelVersion, instance.model_version_id).version})
    ctx.db.transaction(claim)
    fire_instance_timers(ctx, instance_id)
    return _json(ctx, instance_id)


def suspend(ctx: Context, p: Principal, instance_id: int, reason: str | None) -> dict:
    """Hold an instance: its tasks cannot be completed and its timers wait until it is resumed."""
    p.require(*access.INSTANCE_WATCHERS)
    why = _reason(reason, required=True)

    def hold(s: Session):
        _claim(s, p, instance_id)
        workflow.suspend(ctx, s, p, instance_id, why or "")
        audit.record(s, "instance_suspended", p, f"process_instance:{instance_id}", detail={"reason": why})
    ctx.db.transaction(hold)
    return _json(ctx, instance_id)


def resume(ctx: Context, p: Principal, instance_id: int, reason: str | None = None) -> dict:
    """Let a suspended instance go on; timers that fell due meanwhile fire now."""
    p.require(*access.INSTANCE_WATCHERS)
    why = _reason(reason, required=False)

    def go_on(s: Session):
        _claim(s, p, instance_id)
        workflow.resume(ctx, s, p, instance_id, why)
        audit.record(s, "instance_resumed", p, f"process_instance:{instance_id}", detail={"reason": why})
    ctx.db.transaction(go_on)
    fire_instance_timers(ctx, instance_id)
    return _json(ctx, instance_id)


def cancel(ctx: Context, p: Principal, instance_id: int, reason: str | None) -> dict:
    """End an instance for good: its open tasks leave every inbox, its timers and messages go."""
    p.require(*access.INSTANCE_WATCHERS)
    why = _reason(reason, required=True)

    def end(s: Session):
        _claim(s, p, instance_id)
        workflow.cancel(ctx, s, p, instance_id, why or "")
        audit.record(s, "instance_cancelled", p, f"process_instance:{instance_id}", detail={"reason": why})
    ctx.db.transaction(end)
    return _json(ctx, instance_id)


def _json(ctx: Context, instance_id: int) -> dict:
    with ctx.db.read() as s:
        instance = s.get_one(ProcessInstance, instance_id)
        return instance_json(instance, s.get_one(ModelVersion, instance.model_version_id).version)


def _iso(when) -> str | None:
    return when.isoformat() if when else None
