"""DMN decisions as designers see them: list, deploy a new version, read a version back.

A decision's new version reaches new instances at once: the deploy gives each process model whose
current version runs the decision a new version pinned to it (`ModelRegistry.deploy_decision`);
running instances keep the decision version their model version pinned."""
from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from workflows.registry import DeployError, ModelRegistry
from workflows.tables import DecisionVersion

from . import access, audit
from .auth import Principal
from .context import Context
from .errors import NotFound, TooLarge, Unprocessable


def version_json(v: DecisionVersion, current_id: int | None = None) -> dict:
    out = {"key": v.key, "name": v.name, "version": v.version, "sha256": v.sha256,
           "deployed_by": v.deployed_by, "deployed_at": v.deployed_at.isoformat()}
    if current_id is not None:
        out["current"] = v.id == current_id
    return out


def list_decisions(s: Session, p: Principal) -> list[dict]:
    """Each decision with its current version (the one new instances run) and its latest."""
    p.require(*access.DESIGN_READERS)
    current = ModelRegistry.current_decision_ids(s)
    latest = dict(s.execute(select(DecisionVersion.key, func.max(DecisionVersion.version))
                            .group_by(DecisionVersion.key)).all())
    rows = list(s.scalars(select(DecisionVersion).where(DecisionVersion.id.in_(current.values()))
                          .order_by(DecisionVersion.key)))
    return [{"key": v.key, "name": v.name, "current_version": v.version, "latest_version": latest[v.key]}
            for v in rows]


def list_versions(s: Session, p: Principal, key: str) -> list[dict]:
    p.require(*access.DESIGN_READERS)
    rows = s.scalars(select(DecisionVersion).where(DecisionVersion.key == key).order_by(DecisionVersion.version)).all()
    if not rows:
        raise NotFound(f"decision {key!r} does not exist")
    current_id = ModelRegistry.current_decision_ids(s, {key})[key]
    return [version_json(v, current_id) for v in rows]


def get_version(s: Session, p: Principal, key: str, version: int) -> DecisionVersion:
    p.require(*access.DESIGN_READERS)
    row = s.scalar(select(DecisionVersion).where(DecisionVersion.key == key, DecisionVersion.version == version))
    if row is None:
        raise NotFound(f"decision {key!r} has no version {version}")
    return row


def deploy(ctx: Context, s: Session, p: Principal, xml: bytes) -> tuple[DecisionVersion, bool, list[dict]]:
    """A new version of the decision (or the same document deployed before), current at once, and the
    process model versions that run it from now on (each recorded as a deploy of its own)."""
    p.require(*access.DESIGNERS)
    if len(xml) > ctx.settings.max_bpmn_kb * 1024:
        raise TooLarge(f"a DMN file may be at most {ctx.settings.max_bpmn_kb} KB", code="bpmn_too_large",
                       limit_kb=ctx.settings.max_bpmn_kb)
    if not xml.strip():
        raise Unprocessable("the DMN document is empty", [{"element_id": None, "code": "dmn_empty",
                                                           "message": "empty body"}], code="dmn_empty")
    try:
        version, created, models = ctx.engine.deploy_decision(s, xml, deployed_by=p.username)
    except DeployError as exc:
        raise Unprocessable("the decision cannot be deployed", exc.errors, code="deploy_refused") from exc
    audit.record(s, "decision_deployed", p, f"decision:{version.key}:{version.version}",
                 detail={"created": created, "process_models": [f"{m.key}:{m.version}" for m in models]})
    for m in models:
        audit.record(s, "model_deployed", p, f"model:{m.key}:{m.version}",
                     detail={"decision": f"{version.key}:{version.version}"})
    return version, created, [{"key": m.key, "version": m.version} for m in models]
