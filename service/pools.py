"""The inspector talent pool, the co-audit expert pool, and audit findings linked to problems."""
from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from . import access
from .auth import Principal
from .context import Context
from .errors import NotFound, Unprocessable
from .models import AuditFinding, Expert, InspectorProfile, Problem, Round, Unit, User


def profile_json(profile: InspectorProfile, user: User) -> dict:
    return {"user_id": user.id, "username": user.username, "name": user.name, "specialties": profile.specialties,
            "home_unit_id": profile.home_unit_id, "conflict_unit_ids": profile.conflict_unit_ids, "note": profile.note}


def list_inspectors(s: Session, p: Principal) -> list[dict]:
    p.require(*access.POOL_KEEPERS)
    rows = s.execute(select(InspectorProfile, User).join(User, User.id == InspectorProfile.user_id).order_by(User.id))
    return [profile_json(profile, user) for profile, user in rows]


def put_inspector(s: Session, p: Principal, user_id: int, data: dict) -> dict:
    p.require(*access.POOL_KEEPERS)
    user = s.get(User, user_id)
    if user is None or "inspector" not in user.roles:
        raise NotFound(f"user {user_id} is not an inspector")
    units = [u for u in [data.get("home_unit_id"), *data.get("conflict_unit_ids", [])] if u is not None]
    known = set(s.scalars(select(Unit.id).where(Unit.id.in_(units))))
    if set(units) - known:
        raise Unprocessable.on_field("conflict_unit_ids", "unknown_unit", f"no units {sorted(set(units) - known)}",
                                     "unknown units")
    profile = s.get(InspectorProfile, user_id) or InspectorProfile(user_id=user_id)
    profile.specialties = data.get("specialties", [])
    profile.home_unit_id = data.get("home_unit_id")
    profile.conflict_unit_ids = sorted(set(data.get("conflict_unit_ids", [])))
    profile.note = data.get("note")
    s.add(profile)
    s.flush()
    return profile_json(profile, user)


def conflicts(s: Session, inspector_ids: list[int], unit_ids: list[int]) -> list[dict]:
    """Field problems for inspectors who may not inspect one of the units (home unit or declared conflict)."""
    if not inspector_ids or not unit_ids:
        return []
    inspected = set(unit_ids)
    names = {u.id: u.name for u in s.scalars(select(Unit).where(Unit.id.in_(unit_ids)))}
    problems = []
    rows = s.execute(select(InspectorProfile, User).join(User, User.id == InspectorProfile.user_id)
                     .where(InspectorProfile.user_id.in_(inspector_ids)))
    for profile, user in rows:
        barred = ({profile.home_unit_id} | set(profile.conflict_unit_ids)) & inspected
        for unit_id in sorted(u for u in barred if u is not None):
            reason = "is from" if unit_id == profile.home_unit_id else "has a declared conflict of interest with"
            problems.append({"field": "inspector_ids", "code": "conflict_of_interest",
                             "message": f"inspector {user.name} ({user.username}) {reason} {names[unit_id]} "
                                        "and may not inspect it"})
    return problems


def list_experts(s: Session, p: Principal) -> list[Expert]:
    p.require(*access.POOL_KEEPERS)
    return list(s.scalars(select(Expert).order_by(Expert.id)))


def add_expert(s: Session, p: Principal, data: dict) -> Expert:
    p.require(*access.POOL_KEEPERS)
    expert = Expert(name=data["name"], organisation=data["organisation"], specialties=data.get("specialties", []),
                    contact=data.get("contact"))
    s.add(expert)
    s.flush()
    return expert


def expert_json(e: Expert) -> dict:
    return {"id": e.id, "name": e.name, "organisation": e.organisation, "specialties": e.specialties,
            "contact": e.contact, "active": e.active}


def add_finding(ctx: Context, s: Session, p: Principal, data: dict) -> AuditFinding:
    p.require(*access.OFFICE)
    if s.get(Unit, data["unit_id"]) is None:
        raise Unprocessable.on_field("unit_id", "unknown_unit", f"no unit {data['unit_id']}", "unknown unit")
    if data.get("round_id") is not None and s.get(Round, data["round_id"]) is None:
        raise Unprocessable.on_field("round_id", "unknown_round", f"no round {data['round_id']}", "unknown round")
    if data.get("expert_id") is not None and s.get(Expert, data["expert_id"]) is None:
        raise Unprocessable.on_field("expert_id", "unknown_expert", f"no expert {data['expert_id']}", "unknown expert")
    finding = AuditFinding(round_id=data.get("round_id"), unit_id=data["unit_id"], title=data["title"],
                           description=data.get("description", ""), audit_ref=data.get("audit_ref"),
                           expert_id=data.get("expert_id"), recorded_by=p.id, recorded_at=ctx.now())
    s.add(finding)
    s.flush()
    if data.get("problem_id") is not None:
        link_finding(s, p, finding.id, data["problem_id"])
    return finding


def link_finding(s: Session, p: Principal, finding_id: int, problem_id: int) -> AuditFinding:
    p.require(*access.OFFICE)
    finding = s.get(AuditFinding, finding_id)
    if finding is None:
        raise NotFound(f"audit finding {finding_id} does not exist")
    problem = s.get(Problem, problem_id)
    if problem is None:
        raise Unprocessable.on_field("problem_id", "unknown_problem", f"no problem {problem_id}", "unknown problem")
    if problem.unit_id != finding.unit_id:
        raise Unprocessable.on_field("problem_id", "other_unit", "an audit finding links to a problem of the same unit",
                                     "the problem was found in another unit")
    finding.problem_id = problem_id
    return finding


def list_findings(s: Session, p: Principal, round_id: int | None) -> tuple[list[AuditFinding], int]:
    p.require(*access.AUDIT_LINKERS)
    query = select(AuditFinding)
    if round_id is not None:
        query = query.where(AuditFinding.round_id == round_id)
    total = s.scalar(select(func.count()).select_from(query.subquery())) or 0
    return list(s.scalars(query.order_by(AuditFinding.id))), total


def finding_json(f: AuditFinding, ctx: Context) -> dict:
    return {"id": f.id, "round_id": f.round_id, "unit_id": f.unit_id, "title": f.title,
            "description": f.description, "audit_ref": f.audit_ref, "problem_id": f.problem_id,
            "expert_id": f.expert_id, "recorded_at": ctx.local_iso(f.recorded_at)}
