"""Running instances moved onto a newer version of their model, and one of them moved back.

A designer deploys a fix mid-round; the cases already running stay on the version they started on
until they are migrated. The report (dry run) says of every running instance on another version
whether it can move and, when not, why (`workflows.migration.Obstacle`); the migration itself is a
background job that moves the movable ones one per committed step, so a job cut off half-way goes
on where it stopped and an instance moved already is left alone. Each move is in the instance's
history (`migrated`, with both versions) and on the audit log; the history is also what a rollback
reads to know the version an instance came from.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows.migration import MigrationRefused, Obstacle, instance_obstacles
from workflows.tables import HistoryEntry, HumanTask, ModelVersion, ProcessInstance

from . import access, audit, jobs, workflow
from .auth import Principal
from .context import Context
from .errors import Conflict, NotFound, Unprocessable
from .models import BusinessKey, Job, JobKind, KeyKind, Unit

# Instances a migration looks at: finished ones have nothing left to move.
OPEN_STATUSES = ("running", "error", "suspended")
MIGRATION_EVENTS = ("migrated", "migration_rolled_back")


@dataclass
class Report:
    """The dry run: the target version and every open instance on another version, movable or not."""

    key: str
    name: str
    to_version: int
    movable: list[dict]
    immovable: list[dict]


def _target(s: Session, key: str, to_version) -> ModelVersion:
    if not isinstance(to_version, int) or isinstance(to_version, bool):
        raise Unprocessable("to_version must be a version number", [{
            "field": "to_version", "code": "version_required", "message": "give the version number to move to"}],
            code="version_required")
    row = s.scalar(select(ModelVersion).where(ModelVersion.key == key, ModelVersion.version == to_version))
    if row is None:
        if s.scalar(select(ModelVersion.id).where(ModelVersion.key == key).limit(1)) is None:
            raise NotFound(f"process model {key!r} does not exist", code="unknown_model")
        raise NotFound(f"process model {key!r} has no version {to_version}", code="unknown_version")
    return row


def _obstacle_json(o: Obstacle, names: dict[str, str]) -> dict:
    return {"code": o.code, "element_id": o.element_id, "element_name": o.element_name or names.get(o.element_id or "")}


def report(ctx: Context, s: Session, p: Principal, key: str, to_version) -> Report:
    """Every open instance of `key` on a version other than `to_version`: can it move, and if not, why."""
    p.require(*access.MIGRATION_READERS)
    target = _target(s, key, to_version)
    versions = dict(s.execute(select(ModelVersion.id, ModelVersion.version).where(ModelVersion.key == key)).all())
    instances = list(s.scalars(select(ProcessInstance).where(
        ProcessInstance.model_key == key, ProcessInstance.model_version_id != target.id,
        ProcessInstance.status.in_(OPEN_STATUSES), access.migrated_instances(p)).order_by(ProcessInstance.id)))
    tasks: dict[int, list[dict]] = {}
    for row in s.scalars(select(HumanTask).where(HumanTask.instance_id.in_([i.id for i in instances]),
                                                 HumanTask.state == "open").order_by(HumanTask.created_at)):
        tasks.setdefault(row.instance_id, []).append({"id": row.id, "bpmn_id": row.bpmn_id, "name": row.name,
                                                      "due_at": ctx.local_iso(row.due_at) if row.due_at else None})
    units = dict(s.execute(select(Unit.id, Unit.name).where(
        Unit.id.in_({i.unit_id for i in instances if i.unit_id is not None}))).all())
    movable, immovable = [], []
    for instance in instances:
        case = BusinessKey.parse(instance.business_key)
        item = {"instance_id": instance.id, "business_key": instance.business_key,
                "case_id": case.id if case is not None and case.kind == KeyKind.CASE else None,
                "unit_id": instance.unit_id,
                "unit": units.get(instance.unit_id) if instance.unit_id is not None else None,
                "version": versions.get(instance.model_version_id), "status": instance.status,
                "open_tasks": tasks.get(instance.id, [])}
        found = instance_obstacles(ctx.engine, s, instance, target.id)
        if found:
            names = {t["bpmn_id"]: t["name"] for t in tasks.get(instance.id, [])}
            reasons = [_obstacle_json(o, names) for o in found]
            immovable.append({**item, "reason": reasons[0]["code"], "reasons": reasons})
        else:
            movable.append(item)
    return Report(key, target.name, target.version, movable, immovable)


def report_json(r: Report, job: Job | None = None) -> dict:
    body = {"key": r.key, "to_version": r.to_version, "movable": r.movable, "immovable": r.immovable}
    if job is not None:
        body["job_id"] = job.id
    return body


def start(ctx: Context, s: Session, p: Principal, key: str, to_version) -> tuple[Report, Job]:
    """Queue the migration of every instance the report finds movable; the job moves them after
    this transaction commits, one per step."""
    p.require(*access.MIGRATORS)
    found = report(ctx, s, p, key, to_version)
    if not found.movable:
        raise Conflict(f"no running instance of {key!r} can move to version {found.to_version}",
                       code="nothing_to_migrate")
    target = _target(s, key, to_version)
    ids = [item["instance_id"] for item in found.movable]
    job = jobs.create(ctx, s, JobKind.MIGRATION, None, len(ids),
                      {"key": key, "to_version": target.version, "to_version_id": target.id, "instance_ids": ids},
                      p.id)
    audit.record(s, "migration_started", p, f"model:{key}:{target.version}",
                 detail={"job_id": job.id, "instances": len(ids), "immovable": len(found.immovable)})
    return found, job


def chunk(ctx: Context, s: Session, p: Principal | None, job: Job) -> bool:
    """Move the job's next instance; True once every one has had its turn. An instance moved
    already (the job taken up again) or that can no longer move (it failed, or went on into an
    element the new version removed, since the report) is passed over, and says so on the audit log."""
    ids: list[int] = job.payload["instance_ids"]
    at = job.done or 0
    if at >= len(ids):
        return True
    instance_id, to_id = ids[at], job.payload["to_version_id"]
    instance = s.get(ProcessInstance, instance_id)
    actor = p.username if p is not None else None
    if instance is not None and instance.model_version_id != to_id:
        try:
            workflow.migrate(ctx, s, p, instance_id, to_id)
        except MigrationRefused as exc:
            audit.record(s, "instance_migration_skipped", actor, f"instance:{instance_id}",
                         outcome=audit.REFUSED, detail={"job_id": job.id, "reason": exc.obstacles[0].code})
        else:
            audit.record(s, "instance_migrated", actor, f"instance:{instance_id}",
                         detail={"job_id": job.id, "to_version": job.payload["to_version"]})
    job.done = at + 1
    return job.done >= len(ids)


def rollback(ctx: Context, s: Session, p: Principal, instance_id: int) -> dict:
    """Move one migrated instance back to the version it came from, if it still fits that version."""
    p.require(*access.MIGRATORS)
    instance = s.scalar(select(ProcessInstance).where(ProcessInstance.id == instance_id, access.migrated_instances(p)))
    if instance is None:
        raise NotFound(f"process instance {instance_id} does not exist")
    last = s.scalar(select(HistoryEntry).where(HistoryEntry.instance_id == instance_id,
                                               HistoryEntry.event.in_(MIGRATION_EVENTS))
                    .order_by(HistoryEntry.id.desc()).limit(1))
    moved = (last.data or {}) if last is not None else {}
    if last is None or last.event != "migrated" or moved.get("__to_version_id") != instance.model_version_id:
        raise Conflict(f"process instance {instance_id} has no migration to roll back", code="no_migration")
    back = moved["__from_version_id"]
    found = instance_obstacles(ctx.engine, s, instance, back)
    if found:
        raise Unprocessable(f"process instance {instance_id} no longer fits version {moved.get('__from_version')}",
                            [{"field": "instance", **_obstacle_json(o, {}), "message": o.code} for o in found],
                            code="rollback_refused")
    workflow.migrate(ctx, s, p, instance_id, back, rollback=True)
    audit.record(s, "instance_migration_rolled_back", p, f"instance:{instance_id}",
                 detail={"to_version": moved.get("__from_version")})
    return {"instance_id": instance_id, "version": moved.get("__from_version")}


def latest_job(s: Session, key: str) -> Job | None:
    """The model's last migration, for its page to follow."""
    return s.scalar(select(Job).where(Job.kind == JobKind.MIGRATION, Job.payload["key"].as_string() == key)
                    .order_by(Job.id.desc()).limit(1))


def migrated(s: Session, p: Principal, key: str) -> list[dict]:
    """The model's open instances whose last move was a migration, with where they came from: the
    ones a rollback can take back."""
    rows = s.execute(select(HistoryEntry, ProcessInstance).join(ProcessInstance, ProcessInstance.id == HistoryEntry.instance_id)
                     .where(ProcessInstance.model_key == key, ProcessInstance.status.in_(OPEN_STATUSES),
                            HistoryEntry.event.in_(MIGRATION_EVENTS), access.migrated_instances(p))
                     .order_by(HistoryEntry.id)).all()
    last: dict[int, tuple[HistoryEntry, ProcessInstance]] = {}
    for entry, instance in rows:
        last[instance.id] = (entry, instance)
    units = dict(s.execute(select(Unit.id, Unit.name).where(
        Unit.id.in_({i.unit_id for _, i in last.values() if i.unit_id is not None}))).all())
    return [{"instance_id": instance.id, "business_key": instance.business_key, "at": entry.at, "unit_id": instance.unit_id,
             "unit": units.get(instance.unit_id) if instance.unit_id is not None else None,
             "from_version": (entry.data or {}).get("__from_version"),
             "to_version": (entry.data or {}).get("__to_version")}
            for entry, instance in last.values()
            if entry.event == "migrated" and (entry.data or {}).get("__to_version_id") == instance.model_version_id]


def overview(ctx: Context, s: Session, p: Principal, key: str, to_version: int | None, job_id: int | None) -> dict:
    """The migration page of a model: its versions, the report for the chosen one (the newest by
    default), the migration being followed and the instances a rollback can take back."""
    p.require(*access.MIGRATION_READERS)
    versions = list(s.scalars(select(ModelVersion).where(ModelVersion.key == key).order_by(ModelVersion.version.desc())))
    if not versions:
        raise NotFound(f"process model {key!r} does not exist", code="unknown_model")
    chosen = to_version if to_version in {v.version for v in versions} else versions[0].version
    job = s.get(Job, job_id) if job_id is not None else latest_job(s, key)
    if job is not None and (job.kind != JobKind.MIGRATION or job.payload.get("key") != key):
        job = None
    return {"key": key, "name": versions[0].name, "versions": [(v.version, v.deployed_at) for v in versions],
            "report": report(ctx, s, p, key, chosen), "job": job, "migrated": migrated(s, p, key),
            "may_migrate": p.has(*access.MIGRATORS)}


def progress(s: Session, p: Principal, key: str, job_id: int) -> Job:
    """A migration of this model, for its page to follow."""
    job = jobs.get_job(s, p, job_id)
    if job.kind != JobKind.MIGRATION or job.payload.get("key") != key:
        raise NotFound(f"job {job_id} is not a migration of {key!r}")
    return job
