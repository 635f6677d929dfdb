"""The inspector talent pool, the co-audit expert pool, and audit findings linked to problems."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from . import access, audit
from .auth import Principal
from .context import Context
from .db import lock_row
from .errors import NotFound, Unprocessable
from .models import (
    RECTIFYING_KINDS,
    AuditFinding,
    Expert,
    InspectorDeclaration,
    InspectorProfile,
    Problem,
    Round,
    RoundExpert,
    Unit,
    User,
)
from .organisation import unit_names


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
    """Every inspector: those with a pool entry, and active inspector accounts that have none yet
    (an empty entry, set by their first change)."""
    p.require(*access.POOL_KEEPERS)
    rows = s.execute(select(InspectorProfile, User).join(User, User.id == InspectorProfile.user_id).order_by(User.id)).all()
    entered = {user.id for _, user in rows}
    # roles are a JSON list: filtered here, as organisation.user_query does
    fresh = [u for u in s.scalars(select(User).where(User.active.is_(True), User.id.not_in(entered)).order_by(User.id))
             if "inspector" in (u.roles or [])]
    histories = _histories(s, [user.id for _, user in rows])
    listed = [profile_json(profile, user, histories[user.id], ctx) for profile, user in rows]
    listed += [profile_json(InspectorProfile(user_id=u.id, specialties=[], conflict_unit_ids=[]), u, [], ctx)
               for u in fresh]
    return sorted(listed, key=lambda r: r["user_id"])


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


def expert_json(e: Expert, round_ids: list[int] | None = None) -> dict:
    body = {"id": e.id, "name": e.name, "organisation": e.organisation, "specialties": e.specialties,
            "contact": e.contact, "active": e.active}
    if round_ids is not None:
        body["round_ids"] = round_ids
    return body


def add_finding(ctx: Context, s: Session, p: Principal, data: dict) -> AuditFinding:
    p.require(*access.AUDIT_REGISTRARS)
    if s.get(Unit, data["unit_id"]) is None:
        raise Unprocessable.on_field("unit_id", "unknown_unit", f"no unit {data['unit_id']}", "unknown unit")
    rnd = s.get(Round, data["round_id"]) if data.get("round_id") is not None else None
    if data.get("round_id") is not None and (rnd is None or not access.can_read_round(p, rnd)):
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
    p.require(*access.AUDIT_LINKERS)
    finding = s.get(AuditFinding, finding_id)
    if finding is None:
        raise NotFound(f"audit finding {finding_id} does not exist")
    problem = s.get(Problem, problem_id)
    if problem is None or s.scalar(select(Round.id).where(Round.id == problem.round_id,
                                                          access.findings_scope(p))) is None:
        raise Unprocessable.on_field("problem_id", "unknown_problem", f"no problem {problem_id}", "unknown problem")
    if problem.unit_id != finding.unit_id:
        raise Unprocessable.on_field("problem_id", "other_unit", "an audit finding links to a problem of the same unit",
                                     "the problem was found in another unit")
    if finding.round_id is not None and problem.round_id != finding.round_id:
        raise Unprocessable.on_field("problem_id", "not_in_round", "an audit finding of a round links to a problem "
                                     "of that round", "the problem was found in another round")
    finding.problem_id = problem_id
    s.flush()
    audit.record(s, "audit_finding_linked", p, f"audit_finding:{finding.id}", detail={"problem": problem_id})
    return finding


def list_findings(s: Session, p: Principal, round_id: int | None,
                  linked: bool | None = None) -> tuple[list[AuditFinding], int]:
    p.require(*access.AUDIT_FINDING_READERS)
    query = select(AuditFinding)
    if round_id is not None:
        query = query.where(AuditFinding.round_id == round_id)
    if linked is not None:
        query = query.where(AuditFinding.problem_id.is_not(None) if linked else AuditFinding.problem_id.is_(None))
    total = s.scalar(select(func.count()).select_from(query.subquery())) or 0
    return list(s.scalars(query.order_by(AuditFinding.id))), total


def finding_json(f: AuditFinding, ctx: Context) -> dict:
    return {"id": f.id, "round_id": f.round_id, "unit_id": f.unit_id, "title": f.title,
            "description": f.description, "audit_ref": f.audit_ref, "problem_id": f.problem_id,
            "expert_id": f.expert_id, "recorded_at": ctx.local_iso(f.recorded_at)}


# ---------------------------------------------------------------- co-audit experts of a round
def round_experts(s: Session, p: Principal, round_id: int) -> list[Expert]:
    """The experts assigned to a round, in the order they were assigned."""
    p.require(*access.POOL_KEEPERS)
    if s.get(Round, round_id) is None:
        raise NotFound(f"round {round_id} does not exist")
    return list(s.scalars(select(Expert).join(RoundExpert, RoundExpert.expert_id == Expert.id)
                          .where(RoundExpert.round_id == round_id).order_by(RoundExpert.assigned_at, Expert.id)))


def assign_expert(ctx: Context, s: Session, p: Principal, round_id: int, expert_id: int) -> list[Expert]:
    """Assign an expert of the pool to a round; assigning one twice changes nothing."""
    p.require(*access.EXPERT_ASSIGNERS)
    if s.get(Round, round_id) is None:
        raise NotFound(f"round {round_id} does not exist")
    expert = s.get(Expert, expert_id)
    if expert is None:
        raise Unprocessable.on_field("expert_id", "unknown_expert", f"no expert {expert_id}", "unknown expert")
    if not expert.active:
        raise Unprocessable.on_field("expert_id", "expert_inactive", f"expert {expert_id} is no longer in the pool",
                                     "the expert is no longer in the pool")
    if s.get(RoundExpert, (round_id, expert_id)) is None:
        s.add(RoundExpert(round_id=round_id, expert_id=expert_id, assigned_by=p.id, assigned_at=ctx.now()))
        s.flush()
        audit.record(s, "expert_assigned", p, f"expert:{expert_id}", detail={"round": round_id})
    return round_experts(s, p, round_id)


def unassign_expert(s: Session, p: Principal, round_id: int, expert_id: int) -> None:
    p.require(*access.EXPERT_ASSIGNERS)
    row = s.get(RoundExpert, (round_id, expert_id))
    if row is None:
        raise NotFound(f"expert {expert_id} is not assigned to round {round_id}")
    s.delete(row)
    s.flush()
    audit.record(s, "expert_unassigned", p, f"expert:{expert_id}", detail={"round": round_id})


def expert_rounds(s: Session, expert_ids: list[int]) -> dict[int, list[int]]:
    """Per expert, the rounds they are assigned to."""
    found: dict[int, list[int]] = {e: [] for e in expert_ids}
    if expert_ids:
        for round_id, expert_id in s.execute(select(RoundExpert.round_id, RoundExpert.expert_id)
                                             .where(RoundExpert.expert_id.in_(expert_ids))
                                             .order_by(RoundExpert.round_id)):
            found[expert_id].append(round_id)
    return found


def link_candidates(s: Session, p: Principal, finding: AuditFinding) -> list[Problem]:
    """The problems an audit finding may be linked to: those of its unit (and of its round, if it names one)."""
    p.require(*access.AUDIT_LINKERS)
    query = (select(Problem).join(Round, Round.id == Problem.round_id)
             .where(Problem.unit_id == finding.unit_id, access.findings_scope(p)))
    if finding.round_id is not None:
        query = query.where(Problem.round_id == finding.round_id)
    return list(s.scalars(query.order_by(Problem.id)))


# ---------------------------------------------------------------- what the pages show
@dataclass
class InspectorPool:
    inspectors: list[dict]             # profile_json, with history
    units: dict[int, str]              # every unit, by id: names for the rows and choices for the form
    names: dict[int, str]              # people who changed an entry


def inspector_pool(ctx: Context, s: Session, p: Principal) -> InspectorPool:
    rows = list_inspectors(ctx, s, p)
    units = dict(s.execute(select(Unit.id, Unit.name).order_by(Unit.code)).all())
    changers = {v["changed_by"] for r in rows for v in r["history"] if v["changed_by"]}
    names = dict(s.execute(select(User.id, User.name).where(User.id.in_(changers))).all()) if changers else {}
    return InspectorPool(rows, units, names)


def inspector_entry(ctx: Context, s: Session, p: Principal, user_id: int) -> tuple[dict, dict[int, str]]:
    """One inspector's entry (with its history) and every unit, for the edit form."""
    entry = next((r for r in list_inspectors(ctx, s, p) if r["user_id"] == user_id), None)
    if entry is None:
        user = s.get(User, user_id)
        if user is None or "inspector" not in user.roles:
            raise NotFound(f"user {user_id} is not an inspector")
        entry = {"user_id": user.id, "username": user.username, "name": user.name, "specialties": [],
                 "home_unit_id": None, "conflict_unit_ids": [], "note": None, "history": []}
    units = dict(s.execute(select(Unit.id, Unit.name).order_by(Unit.code)).all())
    return entry, units


@dataclass
class ExpertPool:
    experts: list[Expert]
    rounds_of: dict[int, list[int]]    # per expert, the rounds they are assigned to
    rounds: dict[int, str]             # every round, by id, newest first
    may_assign: bool


def expert_pool(s: Session, p: Principal) -> ExpertPool:
    experts = list_experts(s, p)
    rounds = dict(s.execute(select(Round.id, Round.name).order_by(Round.id.desc())).all())
    return ExpertPool(experts, expert_rounds(s, [e.id for e in experts]), rounds, p.has(*access.EXPERT_ASSIGNERS))


@dataclass
class FindingsPage:
    findings: list[AuditFinding]
    total: int
    units: dict[int | None, str]       # names of the findings' units, and the units a finding may name
    rounds: dict[int, str]             # the rounds the reader may see, newest first
    problems: dict[int, str]           # the linked problems' descriptions
    candidates: dict[int, list[Problem]]  # per unlinked finding, the problems it may be linked to
    experts: dict[int, str]            # names of the findings' experts
    may_register: bool
    may_link: bool


def findings_page(s: Session, p: Principal, round_id: int | None, linked: bool | None) -> FindingsPage:
    rows, total = list_findings(s, p, round_id, linked)
    units: dict[int | None, str] = dict(s.execute(select(Unit.id, Unit.name).where(Unit.kind.in_(RECTIFYING_KINDS))
                                                 .order_by(Unit.code)).all())
    units.update(unit_names(s, {f.unit_id for f in rows}))
    rounds = dict(s.execute(select(Round.id, Round.name).where(access.round_scope(p)).order_by(Round.id.desc())).all())
    linked_ids = {f.problem_id for f in rows if f.problem_id is not None}
    problems = dict(s.execute(select(Problem.id, Problem.description).where(Problem.id.in_(linked_ids))).all())
    may_link = p.has(*access.AUDIT_LINKERS)
    candidates = {f.id: link_candidates(s, p, f) for f in rows if f.problem_id is None} if may_link else {}
    expert_ids = {f.expert_id for f in rows if f.expert_id is not None}
    experts = dict(s.execute(select(Expert.id, Expert.name).where(Expert.id.in_(expert_ids))).all())
    return FindingsPage(rows, total, units, rounds, problems, candidates, experts,
                        p.has(*access.AUDIT_REGISTRARS), may_link)
