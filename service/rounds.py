"""An inspection round: its problems, its common-problem list, and the list's publication.

The round's own workflow (`inspection_round`) orders the work; the functions at the bottom are
what its steps mean for the records (see `workflow_events`).
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from workflows.engine import StepEvent
from workflows.tables import HumanTask

from . import access, audit, cases, letters, notices, pools, workflow
from .auth import Principal
from .context import Context
from .db import lock_row
from .errors import Forbidden, NotFound, Unprocessable
from .models import (
    RECTIFYING_KINDS,
    BusinessKey,
    Clue,
    CommonProblem,
    KeyKind,
    Problem,
    ProblemSource,
    Round,
    RoundInspector,
    RoundStatus,
    RoundUnit,
    Unit,
    User,
)
from .organisation import unit_names
from .validation import require_lengths

# The round's list may change until it is published.
LISTABLE = (RoundStatus.DISCOVERING, RoundStatus.LISTING)


# ---------------------------------------------------------------- commands
def create_round(ctx: Context, s: Session, p: Principal, name: str, unit_ids: list[int],
                 inspector_ids: list[int]) -> Round:
    p.require(*access.OFFICE)
    require_units(s, unit_ids, "inspected_unit_ids")
    inspectors = s.scalars(select(User).where(User.id.in_(inspector_ids))).all() if inspector_ids else []
    found = {u.id: u for u in inspectors}
    bad = [i for i in inspector_ids if i not in found or "inspector" not in found[i].roles]
    if bad:
        raise Unprocessable("some inspector ids are not inspectors",
                            [{"field": "inspector_ids", "code": "not_an_inspector",
                              "message": f"not an inspector: {bad}"}], code="not_an_inspector")
    barred = pools.conflicts(s, inspector_ids, unit_ids)
    if barred:
        raise Unprocessable("an inspector may not inspect a unit they have a conflict of interest with", barred,
                            code="conflict_of_interest")
    rnd = Round(name=name, status=RoundStatus.DISCOVERING, created_by=p.id, created_at=ctx.now(),
                inspected=[RoundUnit(unit_id=u) for u in dict.fromkeys(unit_ids)],
                inspectors=[RoundInspector(user_id=i) for i in dict.fromkeys(inspector_ids)])
    s.add(rnd)
    s.flush()
    instance = workflow.start(ctx, s, p, "inspection_round", {"round_id": rnd.id, "round_name": name},
                              BusinessKey(KeyKind.ROUND, rnd.id),
                              candidates={"inspector": list(dict.fromkeys(inspector_ids))})
    rnd.process_instance_id = instance.id
    audit.record(s, "round_created", p, f"round:{rnd.id}",
                 detail={"units": len(rnd.inspected), "inspectors": len(rnd.inspectors)})
    return rnd


def add_problem(ctx: Context, s: Session, p: Principal, round_id: int, unit_id: int, description: str,
                category: str, source: str) -> Problem:
    require_lengths(description=(description, 5000), category=(category, 100))
    if source not in ProblemSource.__members__.values():
        raise Unprocessable.on_field("source", "unknown_source", f"one of {', '.join(ProblemSource)}", "unknown source")
    rnd = round_taking_findings(s, p, round_id, access.may_record_findings,
                                "only the office and this round's inspectors record its problems")
    require_units(s, [unit_id], "unit_id")
    problem = Problem(round_id=rnd.id, unit_id=unit_id, description=description, category=category,
                      source=source, recorded_by=p.id, recorded_at=ctx.now())
    s.add(problem)
    s.flush()
    audit.record(s, "problem_recorded", p, f"problem:{problem.id}", detail={"round": rnd.id, "unit": unit_id})
    return problem


def add_common_problem(ctx: Context, s: Session, p: Principal, round_id: int, title: str, description: str,
                       category: str, department_id: int, problem_ids: list[int]) -> CommonProblem:
    p.require(*access.OFFICE)
    require_lengths(title=(title, 300), category=(category, 100), description=(description or "", 5000))
    rnd = get_round(s, p, round_id)
    # The publication takes the round too: a common problem goes out with it, or waits for it and is refused.
    lock_row(s, Round, rnd.id)
    s.refresh(rnd)
    if rnd.status not in LISTABLE:
        raise Unprocessable(f"round {round_id}'s list is already published", code="list_published", status=rnd.status)
    dept = s.get(Unit, department_id)
    if dept is None or dept.kind != "department":
        raise Unprocessable("the responsible department must be a district department",
                            [{"field": "responsible_department_id", "code": "not_a_department",
                              "message": f"not a department: {department_id}"}], code="not_a_department")
    problems = s.scalars(select(Problem).where(Problem.id.in_(problem_ids))).all() if problem_ids else []
    bad = sorted(set(problem_ids) - {pr.id for pr in problems if pr.round_id == rnd.id})
    if bad:
        raise Unprocessable("problem ids must be problems of this round",
                            [{"field": "problem_ids", "code": "not_in_round",
                              "message": f"not problems of round {round_id}: {bad}"}], code="not_in_round")
    common = CommonProblem(round_id=rnd.id, title=title, description=description, category=category,
                           responsible_department_id=department_id, created_at=ctx.now())
    s.add(common)
    s.flush()
    for pr in problems:
        pr.common_problem_id = common.id
    audit.record(s, "common_problem_added", p, f"common_problem:{common.id}",
                 detail={"round": rnd.id, "problems": sorted(problem_ids)})
    return common


# ---------------------------------------------------------------- queries
@dataclass
class RoundRow:
    """A line of the rounds page."""

    round: Round
    problems: int
    common_problems: int
    may_record: bool  # the user records its findings
    may_distil: bool  # the user distils its list


@dataclass
class Findings:
    round: Round
    body: dict                        # round_json: the problems this user records and reads
    units: list[Unit]                 # units a problem may name: the inspected first, then the others
    unit_names: dict[int | None, str]  # every unit a problem or clue names
    clues: list[tuple[Clue, bool]]    # the round's clues the user may know of, newest first; True: may read content
    task_id: str | None               # the user's open "record findings" task of this round


@dataclass
class Distillation:
    round: Round
    body: dict                        # round_json
    units: dict[int, Unit]            # every unit, by id
    departments: list[Unit]           # the active district departments, by code
    recipients: Recipients            # who publishing the list reaches now
    leader_names: dict[int, str]      # the recipients' leaders in charge
    task_id: str | None               # the user's open "distil the list" task of this round


def round_taking_findings(s: Session, p: Principal, round_id: int,
                          allowed: Callable[[Principal, Round], bool], refusal: str) -> Round:
    """The round, if the access rule `allowed` lets `p` add to it and it still takes findings and clues."""
    rnd = get_round(s, p, round_id)
    if not allowed(p, rnd):
        raise Forbidden(refusal)
    if not rnd.accepts_findings:
        raise Unprocessable(f"round {round_id} is {rnd.status}; findings and clues are recorded while it is open",
                            code="round_not_open", status=rnd.status)
    return rnd


def get_round(s: Session, p: Principal, round_id: int) -> Round:
    rnd = s.get(Round, round_id)
    if rnd is None or not access.can_read_round(p, rnd):
        raise NotFound(f"round {round_id} does not exist")
    return rnd


def visible_rounds(s: Session, p: Principal, *, newest_first: bool = False) -> list[Round]:
    order = Round.id.desc() if newest_first else Round.id
    return list(s.scalars(select(Round).where(access.round_scope(p)).order_by(order)))


def overview(s: Session, p: Principal) -> list[RoundRow]:
    """The rounds the user may read, newest first, with how many problems and common problems each has."""
    p.require(*access.ROUND_WORKERS)
    rows = visible_rounds(s, p, newest_first=True)
    ids = [r.id for r in rows]
    problems = dict(s.execute(select(Problem.round_id, func.count()).where(Problem.round_id.in_(ids))
                              .group_by(Problem.round_id)).all()) if ids else {}
    commons = dict(s.execute(select(CommonProblem.round_id, func.count()).where(CommonProblem.round_id.in_(ids))
                             .group_by(CommonProblem.round_id)).all()) if ids else {}
    return [RoundRow(r, problems.get(r.id, 0), commons.get(r.id, 0), access.may_record_findings(p, r),
                     access.may_distil_list(p)) for r in rows]


def findings(s: Session, p: Principal, round_id: int) -> Findings:
    """What the findings page shows: the round's problems, the units a problem may name (the inspected
    ones first: most findings are about them; residents' reports may name others) and the clues."""
    rnd = get_round(s, p, round_id)
    if not access.may_record_findings(p, rnd):
        raise Forbidden("only the office and this round's inspectors record its findings")
    body = round_json(s, rnd)
    inspected = set(body["inspected_unit_ids"])
    units = s.scalars(select(Unit).where(Unit.kind.in_(RECTIFYING_KINDS), Unit.active.is_(True))
                      .order_by(Unit.code)).all()
    units = [u for u in units if u.id in inspected] + [u for u in units if u.id not in inspected]
    round_clues = s.scalars(select(Clue).where(Clue.round_id == rnd.id, access.clue_scope(p))
                            .order_by(Clue.id.desc())).all()
    named: dict[int | None, str] = {u.id: u.name for u in units}
    others = {pr["unit_id"] for pr in body["problems"]} | {cl.unit_id for cl in round_clues}
    named.update(unit_names(s, others - set(named)))
    return Findings(rnd, body, units, named, [(cl, access.sees_clue_content(p, cl)) for cl in round_clues],
                    _open_task(s, p, rnd.id, "record_findings"))


def distillation(s: Session, p: Principal, round_id: int) -> Distillation:
    """What the distillation page shows: the round's problems and list, the district's departments,
    and who publishing the list reaches (`recipients`, as the publication fans it out)."""
    if not access.may_distil_list(p):
        raise Forbidden("only the office distils a round's list")
    rnd = get_round(s, p, round_id)
    body = round_json(s, rnd)
    units = {u.id: u for u in s.scalars(select(Unit))}
    departments = sorted((u for u in units.values() if u.kind == "department" and u.active), key=lambda u: u.code)
    to = recipients(s, rnd.id)
    leaders = {u.id: u.name for u in s.scalars(select(User).where(User.id.in_(list(to.leaders))))} if to.leaders \
        else {}
    return Distillation(rnd, body, units, departments, to, leaders,
                        _open_task(s, p, rnd.id, "distill_list"))


def _open_task(s: Session, p: Principal, round_id: int, step: str) -> str | None:
    """The round's open task of that step, if this user may complete it (for the finish button)."""
    return s.scalar(select(HumanTask.id).where(
        HumanTask.business_key == str(BusinessKey(KeyKind.ROUND, round_id)), HumanTask.step == step,
        HumanTask.state == "open", access.task_actionable(p)).limit(1))


def list_summary(s: Session, rnd: Round) -> dict:
    """The round's list as the leading group approves it: common problems, departments, problems."""
    body = round_json(s, rnd)
    departments = {u.id: u.name for u in s.scalars(select(Unit).where(
        Unit.id.in_({cp["responsible_department_id"] for cp in body["common_problems"]})))}
    return {"id": rnd.id, "name": rnd.name, "status": rnd.status, "problems": len(body["problems"]),
            "common_problems": [{"title": cp["title"], "category": cp["category"], "description": cp["description"],
                                 "department": departments.get(cp["responsible_department_id"], ""),
                                 "problems": len(cp["problem_ids"])} for cp in body["common_problems"]]}


def common_problems(s: Session, round_id: int) -> list[CommonProblem]:
    return list(s.scalars(select(CommonProblem).where(CommonProblem.round_id == round_id)
                          .order_by(CommonProblem.id)))


def round_json(s: Session, rnd: Round, p: Principal | None = None) -> dict:
    """The round, its list and its problems; a unit user sees the list but only their own problems."""
    problems = s.scalars(select(Problem).where(Problem.round_id == rnd.id).order_by(Problem.id)).all()
    if p is not None and not access.sees_all_findings(p, rnd):
        problems = [pr for pr in problems if access.can_read_unit(p, pr.unit_id)]
    return {
        "id": rnd.id, "name": rnd.name, "status": rnd.status, "process_instance_id": rnd.process_instance_id,
        "created_at": _iso(rnd.created_at), "published_at": _iso(rnd.published_at),
        "closed_at": _iso(rnd.closed_at),
        "inspected_unit_ids": [u.unit_id for u in rnd.inspected],
        "inspector_ids": [i.user_id for i in rnd.inspectors],
        "problems": [problem_json(pr) for pr in problems],
        "common_problems": [{"id": c.id, "title": c.title, "description": c.description, "category": c.category,
                             "responsible_department_id": c.responsible_department_id,
                             "problem_ids": [pr.id for pr in problems if pr.common_problem_id == c.id]}
                            for c in common_problems(s, rnd.id)],
    }


def problem_json(pr: Problem) -> dict:
    return {"id": pr.id, "round_id": pr.round_id, "unit_id": pr.unit_id, "description": pr.description,
            "category": pr.category, "source": pr.source, "common_problem_id": pr.common_problem_id,
            "recorded_at": _iso(pr.recorded_at)}


# ---------------------------------------------------------------- publication
@dataclass
class Recipients:
    """Who a round's list goes to: every rectifying unit, the leaders in charge of them (with their
    portfolios) and the departments responsible for a common problem (with what they govern)."""

    units: list[Unit]
    leaders: dict[int, list[int]]
    departments: dict[int, list[CommonProblem]]


def recipients(s: Session, round_id: int) -> Recipients:
    """The one computation of a publication's recipients, for the publication and for its preview."""
    units = list(s.scalars(select(Unit).where(Unit.active.is_(True), Unit.kind.in_(RECTIFYING_KINDS))
                           .order_by(Unit.id)))
    leaders: dict[int, list[int]] = defaultdict(list)
    for unit in units:
        if unit.leader_id is not None:
            leaders[unit.leader_id].append(unit.id)
    departments: dict[int, list[CommonProblem]] = defaultdict(list)
    for common in common_problems(s, round_id):
        departments[common.responsible_department_id].append(common)
    return Recipients(units, dict(leaders), dict(departments))


def publish(ctx: Context, s: Session, p: Principal | None, rnd: Round) -> None:
    """Fan out: a case for every unit, the list to every leader in charge, a letter to every department."""
    now = ctx.now()
    # Take the round before reading its list, so that a common problem added meanwhile is either
    # committed first (and published here) or made to wait and refused (see add_common_problem).
    lock_row(s, Round, rnd.id)
    s.refresh(rnd)
    rnd.status, rnd.published_at = RoundStatus.PUBLISHED, now
    to = recipients(s, rnd.id)
    listed = [{"id": c.id, "title": c.title} for c in common_problems(s, rnd.id)]
    due = now + timedelta(days=ctx.settings.deadline_days)
    for unit in to.units:
        notices.on_list_published(ctx, s, cases.open_case(ctx, s, p, rnd.id, unit.id, listed, due))
    for leader_id, unit_ids in to.leaders.items():
        notices.tell_leader(ctx, s, rnd.id, leader_id, "list", unit_ids)
    for department_id, governed in to.departments.items():
        letters.send(ctx, s, p, rnd.id, department_id, governed, due)


# ---------------------------------------------------------------- what the round's steps mean
def on_findings_recorded(ctx: Context, s: Session, p: Principal | None, round_id: int, event: StepEvent) -> None:
    s.get_one(Round, round_id).status = RoundStatus.LISTING


def on_list_approved(ctx: Context, s: Session, p: Principal | None, round_id: int, event: StepEvent) -> None:
    if event.data.get("approved"):
        s.get_one(Round, round_id).approved_at = ctx.now()


def on_list_published(ctx: Context, s: Session, p: Principal | None, round_id: int, event: StepEvent) -> None:
    publish(ctx, s, p, s.get_one(Round, round_id))


def on_round_summarised(ctx: Context, s: Session, p: Principal | None, round_id: int, event: StepEvent) -> None:
    rnd = s.get_one(Round, round_id)
    rnd.status, rnd.closed_at = RoundStatus.CLOSED, ctx.now()


def require_a_common_problem(s: Session, round_id: int, data: dict) -> None:
    """Before the list moves on (distilled, approved) it must hold at least one common problem."""
    count = s.scalar(select(func.count()).select_from(CommonProblem).where(CommonProblem.round_id == round_id))
    if not count:
        raise Unprocessable("distil at least one common problem before the list moves on", code="list_empty")


def all_cases_closed(ctx: Context, s: Session, p: Principal | None, round_id: int) -> None:
    """Tell the round's workflow that its last case is closed, so the office can sum the round up."""
    workflow.deliver_message(ctx, s, p, "round_cases_closed", BusinessKey(KeyKind.ROUND, round_id),
                             {"round_id": round_id})


# ---------------------------------------------------------------- helpers
def require_units(s: Session, unit_ids: list[int], field: str) -> None:
    if not unit_ids:
        return
    found = set(s.scalars(select(Unit.id).where(Unit.id.in_(unit_ids))))
    missing = sorted(set(unit_ids) - found)
    if missing:
        raise Unprocessable(f"unknown units in {field}", [{"field": field, "code": "unknown_unit",
                                                           "message": f"unknown unit ids: {missing}"}],
                            code="unknown_unit")


def _iso(when: datetime | None) -> str | None:
    return when.isoformat() if when else None
