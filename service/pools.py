"""The inspector talent pool, the co-audit expert pool, and audit findings linked to problems."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from . import access, audit
from .auth import Principal
from .context import Context
from .db import lock_row
from .errors import NotFound, Unprocessable
from .models import AuditFinding, Expert, InspectorDeclaration, InspectorProfile, Problem, Round, Unit, User


def profile_json(profile: InspectorProfile, user: User, history: list[InspectorDeclaration] | None = None,
                 ctx: Context | None = None) -> dict:
    body = {"user_id": user.id, "username": user.username, "name": user.name, "specialties": profile.specialties,
            "home_unit_id": profile.home_unit_id, "conflict_unit_ids": profile.conflict_unit_ids,
            "note": profile.note}
    if history is not None:
        body["history"] = history_json(history, ctx)
    return body


def history_json(history: list[InspectorDeclaration], ctx: Context | None) -> list[dict]:
    """Every version of the entry, oldest first: who set it, when, and the conflicts it added and took off."""
    rows: list[dict] = []
    before: set[int] = set()
    for version in history:
        now = set(version.conflict_unit_ids or [])
        when = version.changed_at
        rows.append({"changed_by": version.changed_by,
                     "changed_at": (ctx.local_iso(when) if ctx else when.isoformat()) if when else None,
                     "specialties": version.specialties, "home_unit_id": version.home_unit_id,
                     "conflict_unit_ids": version.conflict_unit_ids, "note": version.note,
                     "conflicts_added": sorted(now - before), "conflicts_removed": sorted(before - now)})
        before = now
    return rows


def _histories(s: Session, user_ids: list[int]) -> dict[int, list[InspectorDeclaration]]:
    found: dict[int, list[InspectorDeclaration]] = {u: [] for u in user_ids}
    if user_ids:
        for version in s.scalars(select(InspectorDeclaration).where(InspectorDeclaration.user_id.in_(user_ids))
                                 .order_by(InspectorDeclaration.id)):
            found[version.user_id].append(version)
    return found


def list_inspectors(ctx: Context, s: Session, p: Principal) -> list[dict]:
    p.require(*access.POOL_KEEPERS)
    rows = s.execute(select(InspectorProfile, User).join(User, User.id == InspectorProfile.user_id).order_by(User.id)).all()
    histories = _histories(s, [user.id for _, user in rows])
    return [profile_json(profile, user, histories[user.id], ctx) for profile, user in rows]


def put_inspector(ctx: Context, s: Session, p: Principal, user_id: int, data: dict) -> dict:
    p.require(*access.POOL_KEEPERS)
    user = s.get(User, user_id)
    if user is None or "inspector" not in user.roles:
        raise NotFound(f"user {user_id} is not an inspector")
    units = [u for u in [data.get("home_unit_id"), *data.get("conflict_unit_ids", [])] if u is not None]
    known = set(s.scalars(select(Unit.id).where(Unit.id.in_(units))))
    if set(units) - known:
        raise Unprocessable.on_field("conflict_unit_ids", "unknown_unit", f"no units {sorted(set(units) - known)}",
                                     "unknown units")
    # Take the inspector, so two changes at once are both kept as versions, in order.
    lock_row(s, User, user_id)
    profile = s.get(InspectorProfile, user_id, populate_existing=True)
    history = _histories(s, [user_id])[user_id]
    if profile is not None and not history:
        # the entry as it stood before versions were kept: on record first
        history.append(_version(profile, None, None))
        s.add(history[-1])
    profile = profile or InspectorProfile(user_id=user_id)
    profile.specialties = data.get("specialties", [])
    profile.home_unit_id = data.get("home_unit_id")
    profile.conflict_unit_ids = sorted(set(data.get("conflict_unit_ids", [])))
    profile.note = data.get("note")
    s.add(profile)
    history.append(_version(profile, p.id, ctx.now()))
    s.add(history[-1])
    s.flush()
    audit.record(s, "inspector_profile_changed", p, f"user:{user.username}",
                 detail={"conflict_units": profile.conflict_unit_ids})
    return profile_json(profile, user, history, ctx)


def _version(profile: InspectorProfile, by: int | None, at: datetime | None) -> InspectorDeclaration:
    return InspectorDeclaration(user_id=profile.user_id, specialties=list(profile.specialties or []),
                                home_unit_id=profile.home_unit_id,
                                conflict_unit_ids=list(profile.conflict_unit_ids or []), note=profile.note,
                                changed_by=by, changed_at=at)


def declared_conflicts(s: Session, inspector_ids: list[int]) -> dict[int, set[int]]:
    """Per inspector, every unit they have declared a conflict of interest with, now or in any earlier
    version of their entry: taking a conflict off the profile does not make it go away."""
    declared: dict[int, set[int]] = {i: set() for i in inspector_ids}
    for user_id, units in s.execute(select(InspectorProfile.user_id, InspectorProfile.conflict_unit_ids)
                                    .where(InspectorProfile.user_id.in_(inspector_ids))):
        declared[user_id].update(units or [])
    for user_id, units in s.execute(select(InspectorDeclaration.user_id, InspectorDeclaration.conflict_unit_ids)
                                    .where(InspectorDeclaration.user_id.in_(inspector_ids))):
        declared[user_id].update(units or [])
    return declared


def conflict_pairs(s: Session, inspector_ids: list[int], unit_ids: list[int]) -> list[tuple[User, Unit, str]]:
    """Every (inspector, unit, why) where the inspector may not inspect the unit: it is their home unit
    ("home"), or a unit they have declared a conflict of interest with, now or before ("declared"; see
    declared_conflicts). The one conflict-of-interest rule, for the check before saving and the save."""
    if not inspector_ids or not unit_ids:
        return []
    inspected = set(unit_ids)
    units = {u.id: u for u in s.scalars(select(Unit).where(Unit.id.in_(unit_ids)))}
    declared = declared_conflicts(s, inspector_ids)
    pairs = []
    rows = s.execute(select(User, InspectorProfile.home_unit_id)
                     .outerjoin(InspectorProfile, InspectorProfile.user_id == User.id)
                     .where(User.id.in_(inspector_ids)).order_by(User.id))
    for user, home_unit_id in rows:
        barred = ({home_unit_id} | declared.get(user.id, set())) & inspected
        for unit_id in sorted(u for u in barred if u is not None and u in units):
            pairs.append((user, units[unit_id], "home" if unit_id == home_unit_id else "declared"))
    return pairs


def conflicts(s: Session, inspector_ids: list[int], unit_ids: list[int]) -> list[dict]:
    """Field problems for inspectors who may not inspect one of the units (see conflict_pairs)."""
    problems = []
    for user, unit, why in conflict_pairs(s, inspector_ids, unit_ids):
        reason = "is from" if why == "home" else "has declared a conflict of interest with"
        problems.append({"field": "inspector_ids", "code": "conflict_of_interest",
                         "message": f"inspector {user.name} ({user.username}) {reason} {unit.name} "
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
    audit.record(s, "expert_added", p, f"expert:{expert.id}")
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
    audit.record(s, "audit_finding_added", p, f"audit_finding:{finding.id}", detail={"unit": finding.unit_id})
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
    s.flush()
    audit.record(s, "audit_finding_linked", p, f"audit_finding:{finding.id}", detail={"problem": problem_id})
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
