"""An inspection round: its problems, its common-problem list, and the list's publication.

The round's own workflow (`inspection_round`) orders the work; the functions at the bottom are
what its steps mean for the records (see `workflow_events`).
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from workflows.engine import StepEvent
from workflows.tables import HumanTask

from . import access, audit, fanout, insight, jobs, letters, notices, pools, targets, workflow
from .auth import Principal
from .context import Context
from .db import lock_row
from .errors import Conflict, Forbidden, NotFound, Unprocessable
from .models import (
    RECTIFYING_KINDS,
    AuditFinding,
    BusinessKey,
    Case,
    CaseStatus,
    Clue,
    CoDepartment,
    CommonProblem,
    InspectorProfile,
    Job,
    JobKind,
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
    if not access.may_start_round(p):
        p.require(*access.OFFICE)
    require_units(s, unit_ids, "inspected_unit_ids")
    require_inspectors(s, inspector_ids)
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
    insight.flag_recurrence(s, problem)
    audit.record(s, "problem_recorded", p, f"problem:{problem.id}", detail={"round": rnd.id, "unit": unit_id})
    return problem


def get_problem(s: Session, p: Principal, problem_id: int) -> Problem:
    """One problem, for whoever reads its round's findings (every problem, or their own units')."""
    problem = s.get(Problem, problem_id)
    rnd = s.get(Round, problem.round_id) if problem is not None else None
    if problem is None or rnd is None or not (
            access.sees_all_findings(p, rnd) or (access.can_read_round(p, rnd)
                                                 and access.can_read_unit(p, problem.unit_id))):
        raise NotFound(f"problem {problem_id} does not exist")
    return problem


def add_common_problem(ctx: Context, s: Session, p: Principal, round_id: int, title: str, description: str,
                       category: str, department_id: int, problem_ids: list[int], chosen: dict | None = None,
                       co_department_ids: list[int] | None = None) -> CommonProblem:
    """A common problem on the round's list: to every unit, or to those `chosen` (see `targets`), with a
    lead department and any co-responsible ones."""
    p.require(*access.OFFICE)
    require_lengths(title=(title, 300), category=(category, 100), description=(description or "", 5000))
    rnd = get_round(s, p, round_id)
    # The publication takes the round too: a common problem goes out with it, or waits for it and is refused.
    lock_row(s, Round, rnd.id)
    s.refresh(rnd)
    if rnd.status not in LISTABLE:
        raise Unprocessable(f"round {round_id}'s list is already published", code="list_published", status=rnd.status)
    _require_department(s, department_id)
    co = _co_departments(s, department_id, co_department_ids or [])
    aimed = _targets(s, chosen)
    problems = _problems_of_round(s, rnd, problem_ids)
    common = CommonProblem(round_id=rnd.id, title=title, description=description, category=category,
                           responsible_department_id=department_id, created_at=ctx.now(), targets=aimed,
                           co_departments=[CoDepartment(department_id=d) for d in co])
    s.add(common)
    s.flush()
    for pr in problems:
        pr.common_problem_id = common.id
    audit.record(s, "common_problem_added", p, f"common_problem:{common.id}",
                 detail={"round": rnd.id, "problems": sorted(problem_ids), "targets": aimed, "co_departments": co})
    return common


def change_problem(ctx: Context, s: Session, p: Principal, round_id: int, problem_id: int, changes: dict) -> Problem:
    """Correct a problem (unit, description, category, source) while the round's list may change."""
    rnd, problem = _problem_to_change(s, p, round_id, problem_id)
    if "description" in changes or "category" in changes:
        require_lengths(description=(changes.get("description", problem.description), 5000),
                        category=(changes.get("category", problem.category), 100))
    if "source" in changes and changes["source"] not in ProblemSource.__members__.values():
        raise Unprocessable.on_field("source", "unknown_source", f"one of {', '.join(ProblemSource)}", "unknown source")
    if "unit_id" in changes:
        require_units(s, [changes["unit_id"]], "unit_id")
    for name in ("unit_id", "description", "category", "source"):
        if name in changes:
            setattr(problem, name, changes[name])
    s.flush()
    if "unit_id" in changes or "description" in changes:
        insight.flag_recurrence(s, problem)
    audit.record(s, "problem_changed", p, f"problem:{problem.id}",
                 detail={"round": rnd.id, "unit": problem.unit_id})
    return problem


def remove_problem(ctx: Context, s: Session, p: Principal, round_id: int, problem_id: int) -> None:
    """Take a problem off the round (recorded by mistake) while its list may change; an audit finding
    linked to it stays, unlinked."""
    rnd, problem = _problem_to_change(s, p, round_id, problem_id)
    for finding in s.scalars(select(AuditFinding).where(AuditFinding.problem_id == problem.id)):
        finding.problem_id = None
    s.delete(problem)
    s.flush()
    audit.record(s, "problem_removed", p, f"problem:{problem_id}", detail={"round": rnd.id, "unit": problem.unit_id})


def change_common_problem(ctx: Context, s: Session, p: Principal, round_id: int, common_id: int,
                          changes: dict) -> CommonProblem:
    """Correct a common problem (title, description, category, departments, its problems, who it goes
    to) until the list is approved."""
    rnd, common = _common_to_change(s, p, round_id, common_id)
    require_lengths(title=(changes.get("title", common.title), 300),
                    category=(changes.get("category", common.category), 100),
                    description=(changes.get("description", common.description) or "", 5000))
    if "responsible_department_id" in changes:
        _require_department(s, changes["responsible_department_id"])
    lead = changes.get("responsible_department_id", common.responsible_department_id)
    if "co_department_ids" in changes or "responsible_department_id" in changes:
        co = _co_departments(s, lead, changes.get("co_department_ids", common.co_department_ids) or [])
        common.co_departments = [CoDepartment(department_id=d) for d in co]
    if "targets" in changes:
        common.targets = _targets(s, changes["targets"])
    if "problem_ids" in changes:
        problems = _problems_of_round(s, rnd, changes["problem_ids"])
        for pr in s.scalars(select(Problem).where(Problem.common_problem_id == common.id)):
            pr.common_problem_id = None
        for pr in problems:
            pr.common_problem_id = common.id
    for name in ("title", "description", "category", "responsible_department_id"):
        if name in changes:
            setattr(common, name, changes[name])
    s.flush()
    audit.record(s, "common_problem_changed", p, f"common_problem:{common.id}",
                 detail={"round": rnd.id})
    return common


def remove_common_problem(ctx: Context, s: Session, p: Principal, round_id: int, common_id: int) -> None:
    """Take a common problem off the list until it is approved; its problems go back to the ungrouped."""
    rnd, common = _common_to_change(s, p, round_id, common_id)
    for pr in s.scalars(select(Problem).where(Problem.common_problem_id == common.id)):
        pr.common_problem_id = None
    s.delete(common)
    s.flush()
    audit.record(s, "common_problem_removed", p, f"common_problem:{common_id}", detail={"round": rnd.id})


def list_may_change(rnd: Round) -> bool:
    """A round's problems and list may be corrected until the leading group approves the list."""
    return rnd.status in LISTABLE and rnd.approved_at is None


def _changeable_round(s: Session, p: Principal, round_id: int, lock: bool = True) -> Round:
    rnd = get_round(s, p, round_id)
    if lock:
        # Take the round, as the publication does: a change either lands before the list goes out, or is refused.
        lock_row(s, Round, rnd.id)
        s.refresh(rnd)
    return rnd


def _refuse_if_settled(rnd: Round) -> None:
    if not list_may_change(rnd):
        raise Conflict(f"round {rnd.id}'s list is approved and can no longer change", code="list_approved",
                       status=rnd.status)


def _problem_to_change(s: Session, p: Principal, round_id: int, problem_id: int,
                       lock: bool = True) -> tuple[Round, Problem]:
    p.require(*access.PROBLEM_KEEPERS)
    rnd = _changeable_round(s, p, round_id, lock)
    problem = s.get(Problem, problem_id)
    if problem is None or problem.round_id != rnd.id or not access.sees_all_findings(p, rnd):
        raise NotFound(f"round {round_id} has no problem {problem_id}")
    if not access.may_change_problem(p, rnd, problem.recorded_by):
        raise Forbidden("the office, and the inspector who recorded it, correct a problem",
                        code="problem_not_yours")
    _refuse_if_settled(rnd)
    return rnd, problem


def _common_to_change(s: Session, p: Principal, round_id: int, common_id: int,
                      lock: bool = True) -> tuple[Round, CommonProblem]:
    p.require(*access.OFFICE)
    rnd = _changeable_round(s, p, round_id, lock)
    common = s.get(CommonProblem, common_id)
    if common is None or common.round_id != rnd.id:
        raise NotFound(f"round {round_id} has no common problem {common_id}")
    _refuse_if_settled(rnd)
    return rnd, common


def _require_department(s: Session, department_id: int) -> None:
    dept = s.get(Unit, department_id)
    if dept is None or dept.kind != "department":
        raise Unprocessable("the responsible department must be a district department",
                            [{"field": "responsible_department_id", "code": "not_a_department",
                              "message": f"not a department: {department_id}"}], code="not_a_department")


def _co_departments(s: Session, lead: int, department_ids: list[int]) -> list[int]:
    """The co-responsible departments, each once and without the lead; each must be a department."""
    chosen = [d for d in dict.fromkeys(department_ids) if d != lead]
    found = set(s.scalars(select(Unit.id).where(Unit.id.in_(chosen), Unit.kind == "department"))) if chosen else set()
    bad = [d for d in chosen if d not in found]
    if bad:
        raise Unprocessable("co-responsible departments must be district departments",
                            [{"field": "co_department_ids", "code": "not_a_department",
                              "message": f"not departments: {bad}"}], code="not_a_department")
    return chosen


def _targets(s: Session, chosen: dict | None) -> dict | None:
    """The chosen recipients as stored; a choice that reaches no active rectifying unit is refused."""
    aimed = targets.normalised(s, chosen)
    if aimed is not None and not any(targets.reaches(aimed, u) for u in _rectifying_units(s)):
        raise Unprocessable("the chosen recipients reach no unit that rectifies",
                            [{"field": "targets", "code": "targets_reach_no_unit",
                              "message": "no active rectifying unit matches the choice"}],
                            code="targets_reach_no_unit")
    return aimed


def _rectifying_units(s: Session) -> list[Unit]:
    return list(s.scalars(select(Unit).where(Unit.active.is_(True), Unit.kind.in_(RECTIFYING_KINDS))
                          .order_by(Unit.id)))


def _problems_of_round(s: Session, rnd: Round, problem_ids: list[int]) -> list[Problem]:
    problems = s.scalars(select(Problem).where(Problem.id.in_(problem_ids))).all() if problem_ids else []
    bad = sorted(set(problem_ids) - {pr.id for pr in problems if pr.round_id == rnd.id})
    if bad:
        raise Unprocessable("problem ids must be problems of this round",
                            [{"field": "problem_ids", "code": "not_in_round",
                              "message": f"not problems of round {rnd.id}: {bad}"}], code="not_in_round")
    return list(problems)


@dataclass
class ProblemEdit:
    """What the page correcting a problem shows: the problem and the units it may name."""

    round: Round
    problem: Problem
    units: list[Unit]


@dataclass
class TargetChoices:
    """What a common problem may be sent to: the active rectifying units (by kind and code), the
    streets among them and their industries."""

    units: list[Unit]
    streets: list[Unit]
    industries: list[str]


def target_choices(s: Session) -> TargetChoices:
    units = sorted(_rectifying_units(s), key=lambda u: (RECTIFYING_KINDS.index(u.kind), u.code))
    return TargetChoices(units, [u for u in units if u.kind == "street"],
                         sorted({u.industry for u in units if u.industry}))


@dataclass
class CommonProblemEdit:
    """What the page correcting a common problem shows: it, the problems it may group, the departments,
    and whom it may be sent to."""

    round: Round
    common: CommonProblem
    problems: list[Problem]            # its own problems first, then those not grouped yet
    departments: list[Unit]
    unit_names: dict[int | None, str]
    choices: TargetChoices | None = None


def problem_edit(s: Session, p: Principal, round_id: int, problem_id: int) -> ProblemEdit:
    rnd, problem = _problem_to_change(s, p, round_id, problem_id, lock=False)
    return ProblemEdit(rnd, problem, _findings_units(s, rnd))


def common_problem_edit(s: Session, p: Principal, round_id: int, common_id: int) -> CommonProblemEdit:
    rnd, common = _common_to_change(s, p, round_id, common_id, lock=False)
    problems = s.scalars(select(Problem).where(Problem.round_id == rnd.id, or_(
        Problem.common_problem_id == common.id, Problem.common_problem_id.is_(None))).order_by(Problem.id)).all()
    problems = sorted(problems, key=lambda pr: (pr.common_problem_id != common.id, pr.id))
    departments = list(s.scalars(select(Unit).where(Unit.kind == "department", Unit.active.is_(True))
                                 .order_by(Unit.code)))
    named = {common.responsible_department_id, *common.co_department_ids} - {d.id for d in departments}
    if named:
        departments += list(s.scalars(select(Unit).where(Unit.id.in_(named))))
    return CommonProblemEdit(rnd, common, problems, departments, unit_names(s, {pr.unit_id for pr in problems}),
                             target_choices(s))


def changeable_problems(s: Session, p: Principal, rnd: Round) -> set[int]:
    """The round's problems this user may correct or remove now."""
    if not list_may_change(rnd) or not p.has(*access.PROBLEM_KEEPERS):
        return set()
    rows = s.execute(select(Problem.id, Problem.recorded_by).where(Problem.round_id == rnd.id))
    return {pid for pid, by in rows if access.may_change_problem(p, rnd, by)}


def _findings_units(s: Session, rnd: Round) -> list[Unit]:
    """The units a problem may name: the inspected first (most findings are about them), then the others."""
    inspected = {u.unit_id for u in rnd.inspected}
    units = s.scalars(select(Unit).where(Unit.kind.in_(RECTIFYING_KINDS), Unit.active.is_(True))
                      .order_by(Unit.code)).all()
    return [u for u in units if u.id in inspected] + [u for u in units if u.id not in inspected]


# ---------------------------------------------------------------- setting a round up
@dataclass
class RoundSetup:
    """What the office picks a new round from: the units that may be inspected and the inspectors."""

    units: list[Unit]                                     # active rectifying units, by kind and code
    streets: list[Unit]                                   # the streets, whose units are picked together
    industries: list[str]
    inspectors: list[tuple[User, InspectorProfile | None]]
    unit_names: dict[int, str]                            # every unit, by id (home units, parents)


def round_setup(s: Session, p: Principal) -> RoundSetup:
    if not access.may_start_round(p):
        p.require(*access.OFFICE)
    every = list(s.scalars(select(Unit).order_by(Unit.code)))
    units = sorted((u for u in every if u.active and u.kind in RECTIFYING_KINDS),
                   key=lambda u: (RECTIFYING_KINDS.index(u.kind), u.code))
    streets = [u for u in units if u.kind == "street"]
    industries = sorted({u.industry for u in units if u.industry})
    rows = s.execute(select(User, InspectorProfile).outerjoin(InspectorProfile, InspectorProfile.user_id == User.id)
                     .where(User.active.is_(True)).order_by(User.username)).all()
    inspectors: list[tuple[User, InspectorProfile | None]] = [
        (user, profile) for user, profile in rows if "inspector" in (user.roles or [])]
    return RoundSetup(units, streets, industries, inspectors, {u.id: u.name for u in every})


def check_round(s: Session, p: Principal, unit_ids: list[int], inspector_ids: list[int]) -> list[tuple[User, Unit, str]]:
    """Before saving: which picked inspectors may not inspect which picked units (the rule the save applies)."""
    if not access.may_start_round(p):
        p.require(*access.OFFICE)
    require_units(s, unit_ids, "inspected_unit_ids")
    require_inspectors(s, inspector_ids)
    return pools.conflict_pairs(s, inspector_ids, unit_ids)


def require_inspectors(s: Session, inspector_ids: list[int]) -> None:
    inspectors = s.scalars(select(User).where(User.id.in_(inspector_ids))).all() if inspector_ids else []
    found = {u.id: u for u in inspectors}
    bad = [i for i in inspector_ids if i not in found or "inspector" not in found[i].roles]
    if bad:
        raise Unprocessable("some inspector ids are not inspectors",
                            [{"field": "inspector_ids", "code": "not_an_inspector",
                              "message": f"not an inspector: {bad}"}], code="not_an_inspector")


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
    changeable: set[int] = field(default_factory=set)  # problems the user may correct or remove now


@dataclass
class Distillation:
    round: Round
    body: dict                        # round_json
    units: dict[int, Unit]            # every unit, by id
    departments: list[Unit]           # the active district departments, by code
    recipients: Recipients            # who publishing the list reaches now
    leader_names: dict[int, str]      # the recipients' leaders in charge
    task_id: str | None               # the user's open "distil the list" task of this round
    may_change: bool = False          # the list may still be corrected (not approved yet)
    choices: TargetChoices | None = None  # whom a common problem may be sent to
    # suggested groupings (service.insight), when asked for, and what the office took up of them
    suggestions: insight.Suggestions | None = None
    proposal: insight.Suggestion | None = None
    outcomes: dict[int, insight.Outcome] = field(default_factory=dict)  # of the similar earlier common problems


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
    units = _findings_units(s, rnd)
    round_clues = s.scalars(select(Clue).where(Clue.round_id == rnd.id, access.clue_scope(p))
                            .order_by(Clue.id.desc())).all()
    named: dict[int | None, str] = {u.id: u.name for u in units}
    others = {pr["unit_id"] for pr in body["problems"]} | {cl.unit_id for cl in round_clues}
    named.update(unit_names(s, others - set(named)))
    return Findings(rnd, body, units, named, [(cl, access.sees_clue_content(p, cl)) for cl in round_clues],
                    _open_task(s, p, rnd.id, "record_findings"), changeable_problems(s, p, rnd))


def distillation(s: Session, p: Principal, round_id: int, drafted: dict | None = None,
                 suggest: dict | None = None) -> Distillation:
    """What the distillation page shows: the round's problems and list, the district's departments,
    and who publishing the list reaches (`recipients`, as the publication fans it out), counting the
    common problem being written (`drafted`: its department, co-responsible ones and targets) as if saved.
    With `suggest` ({"include_earlier", "taken": problem ids}) also the suggested groupings and, for
    the problems taken up from them, a proposed title and department."""
    if not access.may_distil_list(p):
        raise Forbidden("only the office distils a round's list")
    rnd = get_round(s, p, round_id)
    body = round_json(s, rnd)
    units = {u.id: u for u in s.scalars(select(Unit))}
    departments = sorted((u for u in units.values() if u.kind == "department" and u.active), key=lambda u: u.code)
    to = recipients(s, rnd.id, _draft(s, drafted) if drafted else None)
    leaders = {u.id: u.name for u in s.scalars(select(User).where(User.id.in_(list(to.leaders))))} if to.leaders \
        else {}
    data = Distillation(rnd, body, units, departments, to, leaders,
                        _open_task(s, p, rnd.id, "distill_list"), list_may_change(rnd), target_choices(s))
    if suggest is not None and list_may_change(rnd):
        data.suggestions = insight.suggestions(s, p, rnd.id, include_earlier=bool(suggest.get("include_earlier")))
        if suggest.get("taken"):
            data.proposal = insight.proposal(s, p, rnd.id, suggest["taken"])
        data.outcomes = insight.earlier_outcomes(s, sorted(
            {cid for c in data.suggestions.clusters for cid in c.similar_common_problem_ids}
            | set(data.proposal.similar_common_problem_ids if data.proposal else [])))
    return data


def _draft(s: Session, drafted: dict) -> CommonProblem | None:
    """A common problem being written, unsaved, for the preview; None when it names no department yet.
    Choices that name nothing known are left out rather than refused: the save refuses them."""
    lead = drafted.get("responsible_department_id")
    if lead is None:
        return None
    known = set(s.scalars(select(Unit.id).where(Unit.kind == "department")))
    try:
        aimed = targets.normalised(s, drafted.get("targets"))
    except Unprocessable:
        aimed = None
    return CommonProblem(title="", responsible_department_id=lead, targets=aimed,
                         co_departments=[CoDepartment(department_id=d) for d in drafted.get("co_department_ids", [])
                                         if d in known and d != lead])


def _open_task(s: Session, p: Principal, round_id: int, step: str) -> str | None:
    """The round's open task of that step, if this user may complete it (for the finish button)."""
    return s.scalar(select(HumanTask.id).where(
        HumanTask.business_key == str(BusinessKey(KeyKind.ROUND, round_id)), HumanTask.step == step,
        HumanTask.state == "open", access.task_actionable(p)).limit(1))


def list_summary(s: Session, rnd: Round) -> dict:
    """The round's list as the leading group approves it: common problems, their lead and
    co-responsible departments, problems, and how many units each reaches (and the list as a whole)."""
    body = round_json(s, rnd)
    departments = unit_names(s, {d for cp in body["common_problems"]
                                 for d in [cp["responsible_department_id"], *cp["co_department_ids"]]})
    to = recipients(s, rnd.id)
    return {"id": rnd.id, "name": rnd.name, "status": rnd.status, "problems": len(body["problems"]),
            "units": len(to.units),
            "common_problems": [{"title": cp["title"], "category": cp["category"], "description": cp["description"],
                                 "department": departments.get(cp["responsible_department_id"], ""),
                                 "co_departments": [departments.get(d, "") for d in cp["co_department_ids"]],
                                 "targeted": any(cp["targets"].values()),
                                 "units": len(to.per_problem.get(cp["id"], [])),
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
                             "co_department_ids": c.co_department_ids, "targets": _targets_json(c.targets),
                             "problem_ids": [pr.id for pr in problems if pr.common_problem_id == c.id]}
                            for c in common_problems(s, rnd.id)],
    }


def common_problem_json(c: CommonProblem) -> dict:
    return {"id": c.id, "title": c.title, "round_id": c.round_id, "description": c.description,
            "category": c.category, "responsible_department_id": c.responsible_department_id,
            "co_department_ids": c.co_department_ids, "targets": _targets_json(c.targets)}


def _targets_json(aimed: dict | None) -> dict:
    """Every key present (empty lists: every unit), for clients that read them without checking."""
    return {key: list((aimed or {}).get(key, [])) for key in targets.KEYS}


def problem_json(pr: Problem) -> dict:
    return {"id": pr.id, "round_id": pr.round_id, "unit_id": pr.unit_id, "description": pr.description,
            "category": pr.category, "source": pr.source, "common_problem_id": pr.common_problem_id,
            "recorded_at": _iso(pr.recorded_at),
            # 问题反弹: the earlier case it recurs after (see service.insight), and why
            "recurring_of": pr.recurring_of_case_id, "recurrence": pr.recurrence}


# ---------------------------------------------------------------- publication
@dataclass
class Recipients:
    """Who a round's list goes to: the rectifying units that receive at least one of its common
    problems (each with what it receives), the leaders in charge of them (with their portfolios)
    and the departments leading or sharing a common problem (with what they govern)."""

    units: list[Unit]
    leaders: dict[int, list[int]]
    departments: dict[int, list[CommonProblem]]
    per_unit: dict[int, list[CommonProblem]] = field(default_factory=dict)
    per_problem: dict[int, list[Unit]] = field(default_factory=dict)


def recipients(s: Session, round_id: int, extra: CommonProblem | None = None) -> Recipients:
    """The one computation of a publication's recipients, for the publication and for its preview
    (`extra`: a common problem being written, not saved yet, counted as if it were)."""
    every = _rectifying_units(s)
    commons = common_problems(s, round_id) + ([extra] if extra is not None else [])
    per_problem = {c.id: [u for u in every if targets.reaches(c.targets, u)] for c in commons}
    per_unit: dict[int, list[CommonProblem]] = {}
    for common in commons:
        for unit in per_problem[common.id]:
            per_unit.setdefault(unit.id, []).append(common)
    # an empty list (it cannot be published so) is previewed as reaching everyone, as it will by default
    units = [u for u in every if u.id in per_unit] if commons else every
    leaders: dict[int, list[int]] = defaultdict(list)
    for unit in units:
        if unit.leader_id is not None:
            leaders[unit.leader_id].append(unit.id)
    departments: dict[int, list[CommonProblem]] = defaultdict(list)
    for common in commons:
        for department_id in common.department_ids():
            departments[department_id].append(common)
    return Recipients(units, dict(leaders), dict(departments), per_unit, per_problem)


def preview(s: Session, p: Principal, round_id: int) -> dict:
    """Before approval and publication: who receives what, per common problem and per unit."""
    if not access.may_preview_recipients(p):
        raise Forbidden("the office and the leading group see who a list goes to")
    rnd = get_round(s, p, round_id)
    to = recipients(s, rnd.id)
    return {"round_id": rnd.id, "units": len(to.units),
            "common_problems": [{"id": cid, "units": len(units), "unit_ids": [u.id for u in units]}
                                for cid, units in to.per_problem.items()],
            "per_unit": [{"unit_id": u.id, "common_problem_ids": [c.id for c in to.per_unit[u.id]]}
                         for u in to.units],
            "leaders": [{"leader_id": lid, "unit_ids": ids} for lid, ids in to.leaders.items()],
            "departments": [{"department_id": d, "common_problem_ids": [c.id for c in governed],
                             "leads": [c.id for c in governed if c.responsible_department_id == d]}
                            for d, governed in to.departments.items()]}


def publish(ctx: Context, s: Session, p: Principal | None, rnd: Round) -> Job:
    """The list goes out: the round is published now, and a publication job (see `jobs`) fans it out
    in chunks after this transaction: a case for every unit the list reaches (with the common
    problems sent to it), then the list to every leader in charge and a letter to every department
    leading or sharing a common problem. Who receives what is fixed here, at approval."""
    now = ctx.now()
    # Take the round before reading its list, so that a common problem added meanwhile is either
    # committed first (and published here) or made to wait and refused (see add_common_problem).
    lock_row(s, Round, rnd.id)
    s.refresh(rnd)
    rnd.status, rnd.published_at = RoundStatus.PUBLISHED, now
    to = recipients(s, rnd.id)
    due = now + timedelta(days=ctx.settings.deadline_days)
    plan = {"unit_ids": [u.id for u in to.units], "due_at": due.isoformat(),
            "leaders": [[leader_id, unit_ids] for leader_id, unit_ids in to.leaders.items()],
            "departments": [[d, [c.id for c in governed]] for d, governed in to.departments.items()]}
    return jobs.create(ctx, s, JobKind.PUBLICATION, rnd.id, len(to.units), plan, p.id if p else None)


def open_cases(ctx: Context, s: Session, p: Principal | None, round_id: int, unit_ids: list[int],
               due: datetime) -> int:
    """The published list's cases of these units, each unit told; a unit that has its case already is
    left alone, so a chunk done twice opens nothing twice. Returns how many were opened."""
    have = cases_opened(s, round_id, unit_ids)
    commons = common_problems(s, round_id)
    units = {u.id: u for u in s.scalars(select(Unit).where(Unit.id.in_(unit_ids)))}
    sent = [(unit_id, [c for c in commons if targets.reaches(c.targets, units[unit_id])])
            for unit_id in unit_ids if unit_id not in have and unit_id in units]
    return len(fanout.open_cases(ctx, s, p, round_id, sent, due))


def finish_publication(ctx: Context, s: Session, p: Principal | None, round_id: int, plan: dict) -> None:
    """Once every unit has its case: the list to every leader in charge, the letters to the departments."""
    due = datetime.fromisoformat(plan["due_at"])
    commons = {c.id: c for c in common_problems(s, round_id)}
    for leader_id, unit_ids in plan["leaders"]:
        notices.tell_leader(ctx, s, round_id, leader_id, "list", unit_ids)
    for department_id, common_ids in plan["departments"]:
        letters.send(ctx, s, p, round_id, department_id, [commons[c] for c in common_ids if c in commons], due)
    # a case closed while others were still being opened left the round's workflow waiting: tell it now
    lock_row(s, Round, round_id)
    still_open = s.scalar(select(func.count()).select_from(Case).where(
        Case.round_id == round_id, Case.status != CaseStatus.CLOSED))
    if plan["unit_ids"] and still_open == 0:
        workflow.deliver_message(ctx, s, p, "round_cases_closed", BusinessKey(KeyKind.ROUND, round_id),
                                 {"round_id": round_id})


def cases_opened(s: Session, round_id: int, unit_ids: list[int]) -> set[int]:
    """Which of these units have their case of the round (for a whole list of thousands, read as the
    round's cases: one indexed read rather than a statement with thousands of parameters)."""
    if len(unit_ids) > 1000:
        return set(unit_ids) & set(s.scalars(select(Case.unit_id).where(Case.round_id == round_id)))
    return set(s.scalars(select(Case.unit_id).where(Case.round_id == round_id, Case.unit_id.in_(unit_ids))))


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
    """Tell the round's workflow that its last case is closed, so the office can sum the round up;
    while its publication still opens cases, the publication's end tells it instead (see
    `finish_publication`). The caller holds the round."""
    if jobs.publication_running(s, round_id):
        return
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
