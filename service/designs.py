"""Process models as designers see them: list, deploy a new version, read a version back."""
from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from workflows import design_checks
from workflows.registry import DeployError, main_process_id
from workflows.tables import ModelVersion
from workflows.xml_safety import parse_xml

from . import access, audit
from .auth import Principal
from .context import Context
from .errors import NotFound, TooLarge, Unprocessable


def version_json(v: ModelVersion) -> dict:
    return {"key": v.key, "name": v.name, "version": v.version, "sha256": v.sha256, "process_ids": v.process_ids,
            "deployed_by": v.deployed_by, "deployed_at": v.deployed_at.isoformat()}


def list_models(s: Session, p: Principal) -> list[dict]:
    p.require(*access.DESIGN_READERS)
    latest = select(ModelVersion.key, func.max(ModelVersion.version).label("v")).group_by(ModelVersion.key).subquery()
    rows = s.scalars(select(ModelVersion).join(latest, (ModelVersion.key == latest.c.key)
                                               & (ModelVersion.version == latest.c.v)).order_by(ModelVersion.key))
    return [{"key": v.key, "name": v.name, "latest_version": v.version} for v in rows]


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
    p.require(*access.DESIGN_READERS)
    rows = s.scalars(select(ModelVersion).where(ModelVersion.key == key).order_by(ModelVersion.version)).all()
    if not rows:
        raise NotFound(f"process model {key!r} does not exist")
    return [version_json(v) for v in rows]


def deploy(ctx: Context, s: Session, p: Principal, xml: bytes) -> tuple[ModelVersion, bool, list[dict]]:
    """The new (or unchanged) version, and the warnings the designer confirmed by deploying."""
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
