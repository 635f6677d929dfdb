"""Process models as designers see them: list, deploy a new version, read a version back, choose
which version new instances start from (make one current again, retire one), and see how many
instances run on each."""
from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from workflows import design_checks
from workflows.registry import CURRENT_FIRST, DeployError, main_process_id
from workflows.tables import ModelVersion, ProcessInstance
from workflows.xml_safety import parse_xml

from . import access, audit
from .auth import Principal
from .context import Context
from .errors import Conflict, NotFound, TooLarge, Unprocessable
from .operations import INSTANCE_STATUSES


def version_json(v: ModelVersion, current_id: int | None = None, instances: dict[str, int] | None = None) -> dict:
    out = {"key": v.key, "name": v.name, "version": v.version, "sha256": v.sha256, "process_ids": v.process_ids,
           "deployed_by": v.deployed_by, "deployed_at": v.deployed_at.isoformat(),
           "retired_at": v.retired_at.isoformat() if v.retired_at else None}
    if current_id is not None:
        out["current"] = v.id == current_id
    if instances is not None:
        out["instances"] = instances
    return out


def list_models(s: Session, p: Principal) -> list[dict]:
    p.require(*access.DESIGN_READERS)
    latest = select(ModelVersion.key, func.max(ModelVersion.version).label("v")).group_by(ModelVersion.key).subquery()
    rows = s.scalars(select(ModelVersion).join(latest, (ModelVersion.key == latest.c.key)
                                               & (ModelVersion.version == latest.c.v)).order_by(ModelVersion.key))
    current = dict(s.execute(select(ModelVersion.key, ModelVersion.version).where(ModelVersion.retired_at.is_(None))
                             .order_by(ModelVersion.key, *CURRENT_FIRST)).all()[::-1])
    return [{"key": v.key, "name": v.name, "latest_version": v.version, "current_version": current.get(v.key)}
            for v in rows]


def model_names(s: Session, keys) -> dict[str, str]:
    """The name of each process model as its latest version writes it (for everyone, not only designers)."""
    keys = list(keys)
    if not keys:
        return {}
    latest = (select(ModelVersion.key, func.max(ModelVersion.version).label("v"))
              .where(ModelVersion.key.in_(keys)).group_by(ModelVersion.key).subquery())
    rows = s.execute(select(ModelVersion.key, ModelVersion.name)
                     .join(latest, (ModelVersion.key == latest.c.key) & (ModelVersion.version == latest.c.v)))
    return dict(rows.all())


def list_versions(s: Session, p: Principal, key: str) -> list[dict]:
    """Every version of the model, oldest first: which is current, which are retired, and how many of
    its instances are in each status (running, error, suspended, completed, cancelled)."""
    p.require(*access.DESIGN_READERS)
    rows = s.scalars(select(ModelVersion).where(ModelVersion.key == key).order_by(ModelVersion.version)).all()
    if not rows:
        raise NotFound(f"process model {key!r} does not exist")
    current_id = _current_id(s, key)
    counts: dict[int, dict[str, int]] = {v.id: dict.fromkeys(INSTANCE_STATUSES, 0) for v in rows}
    for version_id, status, n in s.execute(
            select(ProcessInstance.model_version_id, ProcessInstance.status, func.count())
            .where(ProcessInstance.model_key == key).group_by(ProcessInstance.model_version_id, ProcessInstance.status)):
        counts[version_id][status] = n
    return [version_json(v, current_id or 0, counts[v.id]) for v in rows]


def _current_id(s: Session, key: str) -> int | None:
    return s.scalar(select(ModelVersion.id).where(ModelVersion.key == key, ModelVersion.retired_at.is_(None))
                    .order_by(*CURRENT_FIRST).limit(1))


def make_current(ctx: Context, s: Session, p: Principal, key: str, version: int) -> ModelVersion:
    """New instances start from this version from now on (a retired one is taken back into use);
    running instances keep the version they run on."""
    p.require(*access.DESIGNERS)
    row = get_version(s, p, key, version)
    if row.id == _current_id(s, key):
        return row
    was_retired = row.retired_at is not None
    row.retired_at = None
    row.current_rank = ctx.engine.registry.next_rank(s, key)
    s.flush()
    audit.record(s, "model_version_made_current", p, f"model:{key}:{version}", detail={"was_retired": was_retired})
    return row


def retire(ctx: Context, s: Session, p: Principal, key: str, version: int, current: int | None = None) -> ModelVersion:
    """No new instance starts from this version; those running on it go on. The current version is
    retired only with another made current in its place (`current`)."""
    p.require(*access.DESIGNERS)
    row = get_version(s, p, key, version)
    if row.id == _current_id(s, key):
        if current is None or current == version:
            raise Conflict(f"version {version} of {key!r} is the current one: make another version current first",
                           code="version_is_current")
        make_current(ctx, s, p, key, current)
    if row.retired_at is None:
        row.retired_at = ctx.now()
        s.flush()
        audit.record(s, "model_version_retired", p, f"model:{key}:{version}",
                     detail={"current": current} if current is not None else None)
    return row


def deploy(ctx: Context, s: Session, p: Principal, xml: bytes) -> tuple[ModelVersion, bool, list[dict]]:
    """A new version, current at once, and the warnings the designer confirmed by deploying; a
    diagram deployed already is not a new version, but it is made current again (a designer taking
    back a change deploys the earlier diagram)."""
    p.require(*access.DESIGNERS)
    if len(xml) > ctx.settings.max_bpmn_kb * 1024:
        raise TooLarge(f"a BPMN file may be at most {ctx.settings.max_bpmn_kb} KB", code="bpmn_too_large",
                       limit_kb=ctx.settings.max_bpmn_kb)
    if not xml.strip():
        raise Unprocessable("the BPMN document is empty", [{"element_id": None, "code": "bpmn_empty", "message": "empty body"}],
                            code="bpmn_empty")
    try:
        version, created = ctx.engine.deploy(s, xml, deployed_by=p.username)
    except DeployError as exc:
        raise Unprocessable("the diagram cannot be deployed", exc.errors, code="deploy_refused") from exc
    if not created:  # a designer deploying an earlier version's diagram again means it to run now
        make_current(ctx, s, p, version.key, version.version)
    warnings = design_checks.design_warnings(parse_xml(xml))
    audit.record(s, "model_deployed", p, f"model:{version.key}:{version.version}",
                 detail={"created": created, "warnings": [w["code"] for w in warnings]})
    return version, created, warnings


def review(ctx: Context, s: Session, p: Principal, xml: bytes) -> dict:
    """What a deploy of the diagram would meet: the errors that refuse it, the warnings the designer
    confirms, and what changes against the model's current version (elements added, removed, renamed)."""
    errors = validate(ctx, s, p, xml)
    if errors:
        return {"errors": errors, "warnings": [], "changes": None, "current_version": None}
    root = parse_xml(xml)
    key, _ = main_process_id(root)
    current = ctx.engine.registry.latest(s, key)
    return {"errors": [], "warnings": design_checks.design_warnings(root),
            "changes": design_checks.changes(parse_xml(current.bpmn_xml) if current is not None else None, root),
            "current_version": current.version if current is not None else None}


def validate(ctx: Context, s: Session, p: Principal, xml: bytes) -> list[dict]:
    """The deploy checks without saving: [] when the diagram would deploy."""
    p.require(*access.DESIGNERS)
    if len(xml) > ctx.settings.max_bpmn_kb * 1024:
        raise TooLarge(f"a BPMN file may be at most {ctx.settings.max_bpmn_kb} KB", code="bpmn_too_large",
                       limit_kb=ctx.settings.max_bpmn_kb)
    if not xml.strip():
        return [{"element_id": None, "code": "bpmn_empty", "message": "the BPMN document is empty"}]
    try:
        ctx.engine.registry.validate(xml, s)
    except DeployError as exc:
        return exc.errors
    return []


def get_version(s: Session, p: Principal, key: str, version: int) -> ModelVersion:
    p.require(*access.DESIGN_READERS)
    row = s.scalar(select(ModelVersion).where(ModelVersion.key == key, ModelVersion.version == version))
    if row is None:
        raise NotFound(f"process model {key!r} has no version {version}")
    return row
