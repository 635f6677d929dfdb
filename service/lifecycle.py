"""The inspection round from discovery to close-out, and what each workflow step means for the records.

The BPMN decides the order of work; this module keeps the domain records (cases, filings,
warnings, letters) in step with what the workflows did, inside the same transaction.
"""
from __future__ import annotations

import logging
from collections import defaultdict
from datetime import date, datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from workflows.engine import RunResult, StepEvent, WorkflowFailure
from workflows.tables import HumanTask

from . import access, pools
from .auth import Principal
from .context import Context
from .db import Conflict as RetryConflict
from .errors import ApiError, Forbidden, NotFound, Unprocessable
from .models import (
    PROBLEM_SOURCES,
    RECTIFYING_KINDS,
    Case,
    Clue,
    CommonProblem,
    Filing,
    Institution,
    LeaderNotification,
    Measure,
    Problem,
    RecommendationLetter,
    RectificationItem,
    Round,
    RoundInspector,
    RoundUnit,
    SelfCheckItem,
    SupervisionAction,
    Unit,
    User,
)

log = logging.getLogger(__name__)
WARNING_ORDER = {"none": 0, "green": 1, "yellow": 2, "red": 3}


# ---------------------------------------------------------------- rounds
def create_round(ctx: Context, s: Session, p: Principal, name: str, unit_ids: list[int],
                 inspector_ids: list[int]) -> Round:
    p.require("office")
    _require_units(s, unit_ids, "inspected_unit_ids")
    inspectors = s.scalars(select(User).where(User.id.in_(inspector_ids))).all() if inspector_ids else []
    found = {u.id: u for u in inspectors}
    bad = [i for i in inspector_ids if i not in found or "inspector" not in found[i].roles]
    if bad:
        raise Unprocessable("some inspector ids are not inspectors",
                            [{"field": "inspector_ids", "message": f"not an inspector: {bad}"}])
    barred = pools.conflicts(s, inspector_ids, unit_ids)
    if barred:
        raise Unprocessable("an inspector may not inspect a unit they have a conflict of interest with", barred)
    rnd = Round(name=name, status="discovering", created_by=p.id, created_at=ctx.now(),
                inspected=[RoundUnit(unit_id=u) for u in dict.fromkeys(unit_ids)],
                inspectors=[RoundInspector(user_id=i) for i in dict.fromkeys(inspector_ids)])
    s.add(rnd)
    s.flush()
    result = ctx.engine.start(s, "inspection_round", {"round_id": rnd.id, "round_name": name},
                              business_key=f"round:{rnd.id}", actor=p.username,
                              candidates={"inspector": list(dict.fromkeys(inspector_ids))})
    rnd.process_instance_id = result.instance.id
    apply_events(ctx, s, p, result)
    return rnd


def get_round(s: Session, p: Principal, round_id: int) -> Round:
    rnd = s.get(Round, round_id)
    if rnd is None or not can_read_round(p, rnd):
        raise NotFound(f"round {round_id} does not exist")
    return rnd


def is_inspector_of(p: Principal, rnd: Round) -> bool:
    return p.has("inspector") and any(i.user_id == p.id for i in rnd.inspectors)


def can_read_round(p: Principal, rnd: Round) -> bool:
    if p.has("office", "leading_group") or is_inspector_of(p, rnd):
        return True
    # Everyone else sees a round once its list is published: the list goes to every unit.
    return rnd.published_at is not None


def require_lengths(**fields: tuple[str | None, int]) -> None:
    """Text fits its column; the API's schemas say so too, but pages post straight to these functions."""
    errors = [{"field": name, "message": f"at most {limit} characters"}
              for name, (value, limit) in fields.items() if value is not None and len(value) > limit]
    if errors:
        raise Unprocessable("some fields do not fit", errors)


def add_problem(ctx: Context, s: Session, p: Principal, round_id: int, unit_id: int, description: str,
                category: str, source: str) -> Problem:
    require_lengths(description=(description, 5000), category=(category, 100))
    if source not in PROBLEM_SOURCES:
        raise Unprocessable("unknown source", [{"field": "source", "message": f"one of {', '.join(PROBLEM_SOURCES)}"}])
    rnd = get_round(s, p, round_id)
    if not (p.has("office") or is_inspector_of(p, rnd)):
        raise Forbidden("only the office and this round's inspectors record its problems")
    if rnd.status not in ("discovering", "listing"):
        raise Unprocessable(f"round {round_id} is {rnd.status}; problems can no longer be recorded")
    _require_units(s, [unit_id], "unit_id")
    problem = Problem(round_id=rnd.id, unit_id=unit_id, description=description, category=category,
                      source=source, recorded_by=p.id, recorded_at=ctx.now())
    s.add(problem)
    s.flush()
    return problem


def add_common_problem(ctx: Context, s: Session, p: Principal, round_id: int, title: str, description: str,
                       category: str, department_id: int, problem_ids: list[int]) -> CommonProblem:
    p.require("office")
    require_lengths(title=(title, 300), category=(category, 100), description=(description or "", 5000))
    rnd = get_round(s, p, round_id)
    if rnd.published_at is not None:
        raise Unprocessable(f"round {round_id}'s list is already published")
    dept = s.get(Unit, department_id)
    if dept is None or dept.kind != "department":
        raise Unprocessable("the responsible department must be a district department",
                            [{"field": "responsible_department_id", "message": f"not a department: {department_id}"}])
    problems = s.scalars(select(Problem).where(Problem.id.in_(problem_ids))).all() if problem_ids else []
    bad = sorted(set(problem_ids) - {pr.id for pr in problems if pr.round_id == rnd.id})
    if bad:
        raise Unprocessable("problem ids must be problems of this round",
                            [{"field": "problem_ids", "message": f"not problems of round {round_id}: {bad}"}])
    common = CommonProblem(round_id=rnd.id, title=title, description=description, category=category,
                           responsible_department_id=department_id, created_at=ctx.now())
    s.add(common)
    s.flush()
    for pr in problems:
        pr.common_problem_id = common.id
    return common


def round_json(s: Session, rnd: Round, p: Principal | None = None) -> dict:
    """The round, its list and its problems; a unit user sees the list but only their own problems."""
    problems = s.scalars(select(Problem).where(Problem.round_id == rnd.id).order_by(Problem.id)).all()
    if p is not None and not (p.has("office", "leading_group") or is_inspector_of(p, rnd)):
        problems = [pr for pr in problems if access.can_read_unit(p, pr.unit_id)]
    commons = s.scalars(select(CommonProblem).where(CommonProblem.round_id == rnd.id)
                        .order_by(CommonProblem.id)).all()
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
                            for c in commons],
    }


def problem_json(pr: Problem) -> dict:
    return {"id": pr.id, "round_id": pr.round_id, "unit_id": pr.unit_id, "description": pr.description,
            "category": pr.category, "source": pr.source, "common_problem_id": pr.common_problem_id,
            "recorded_at": _iso(pr.recorded_at)}


# ---------------------------------------------------------------- task preconditions
def check_before_complete(s: Session, task: HumanTask, data: dict) -> None:
    """Domain rules a form schema cannot express (ids that must belong to this round, etc.)."""
    model_key, bpmn_id = task.model_key, task.bpmn_id
    kind, _, ident = (task.business_key or "").partition(":")
    if model_key == "inspection_round" and bpmn_id in ("distill_list", "approve_list"):
        count = s.scalar(select(func.count()).select_from(CommonProblem).where(CommonProblem.round_id == int(ident)))
        if not count:
            raise Unprocessable("distil at least one common problem before the list moves on")
    if model_key == "unit_rectification" and bpmn_id in ("self_check", "rectify") and kind == "case":
        case = s.get(Case, int(ident))
        expected = set(s.scalars(select(CommonProblem.id).where(CommonProblem.round_id == case.round_id)))
        given = [item.get("common_problem_id") for item in data.get("items", [])]
        errors = []
        if len(given) != len(set(given)):
            errors.append({"field": "items", "message": "each common problem may appear once"})
        unknown = sorted(set(given) - expected)
        if unknown:
            errors.append({"field": "items", "message": f"not common problems of this list: {unknown}"})
        missing = sorted(expected - set(given)) if bpmn_id == "self_check" else []
        if missing:
            errors.append({"field": "items", "message": f"self-check every common problem; missing: {missing}"})
        if errors:
            raise Unprocessable("the items do not match the common-problem list", errors)


# ---------------------------------------------------------------- workflow events
def apply_events(ctx: Context, s: Session, p: Principal | None, result: RunResult) -> None:
    instance = result.instance
    kind, _, ident = (instance.business_key or "").partition(":")
    for event in result.events:
        handler = _HANDLERS.get((instance.model_key, event.kind, event.bpmn_id))
        if handler is not None and ident:
            handler(ctx, s, p, int(ident), event)


def _round_step(status: str):
    def handle(ctx, s, p, round_id, event):
        s.get(Round, round_id).status = status
    return handle


def _on_approve(ctx, s, p, round_id, event: StepEvent):
    rnd = s.get(Round, round_id)
    if event.data.get("approved"):
        rnd.approved_at = ctx.now()


def _on_publish(ctx, s, p, round_id, event):
    """Fan out: a case for every unit, the list to every leader in charge, a letter to every department."""
    rnd = s.get(Round, round_id)
    now = ctx.now()
    rnd.status, rnd.published_at = "published", now
    commons = s.scalars(select(CommonProblem).where(CommonProblem.round_id == round_id)
                        .order_by(CommonProblem.id)).all()
    listed = [{"id": c.id, "title": c.title} for c in commons]
    due = now + timedelta(days=ctx.settings.deadline_days)
    units = s.scalars(select(Unit).where(Unit.active.is_(True), Unit.kind.in_(RECTIFYING_KINDS))
                      .order_by(Unit.id)).all()
    for unit in units:
        case = Case(round_id=round_id, unit_id=unit.id, status="self_check", warning="none", due_at=due,
                    created_at=now)
        s.add(case)
        s.flush()
        _start_case(ctx, s, p, case, listed, recheck=False)
    portfolios: dict[int, list[int]] = defaultdict(list)
    for unit in units:
        if unit.leader_id is not None:
            portfolios[unit.leader_id].append(unit.id)
    for leader_id, unit_ids in portfolios.items():
        s.add(LeaderNotification(round_id=round_id, leader_id=leader_id, kind="list", unit_ids=unit_ids,
                                 created_at=now))
    by_department: dict[int, list[CommonProblem]] = defaultdict(list)
    for c in commons:
        by_department[c.responsible_department_id].append(c)
    for department_id, governed in by_department.items():
        letter = RecommendationLetter(round_id=round_id, department_id=department_id,
                                      common_problem_ids=[c.id for c in governed], created_at=now)
        s.add(letter)
        s.flush()
        result = ctx.engine.start(
            s, "recommendation_letter",
            {"letter_id": letter.id, "department_id": department_id,
             "common_problems": [{"id": c.id, "title": c.title} for c in governed],
             "plan_due_at": ctx.local_iso(now + timedelta(days=ctx.settings.plan_days)),
             "report_due_at": ctx.local_iso(due)},
            unit_id=department_id, business_key=f"letter:{letter.id}", actor=p.username if p else None)
        letter.process_instance_id = result.instance.id
        s.add(SupervisionAction(round_id=round_id, target_unit_id=department_id, kind="recommendation_letter",
                                at=now, actor_id=p.id if p else None,
                                detail="巡察建议书：" + "；".join(c.title for c in governed)))


def _start_case(ctx: Context, s: Session, p: Principal | None, case: Case, listed: list[dict], recheck: bool) -> None:
    result = ctx.engine.start(
        s, "unit_rectification",
        {"case_id": case.id, "unit_id": case.unit_id, "round_id": case.round_id, "common_problems": listed,
         "due_at": ctx.local_iso(case.due_at), "green_days": ctx.settings.green_days,
         "yellow_days": ctx.settings.yellow_days, "talk_days": ctx.settings.talk_days, "recheck": recheck},
        unit_id=case.unit_id, business_key=f"case:{case.id}", actor=p.username if p else None)
    case.process_instance_id = result.instance.id
    apply_events(ctx, s, p, result)


def recheck_case(ctx: Context, s: Session, p: Principal, case_id: int, comment: str) -> Case:
    """Follow-up re-check (回头看): reopen a closed case for another rectification pass.

    The records of the first pass (items, filings, evidence, its workflow history) stay; a new
    instance starts at rectification, since the unit's self-check still stands.
    """
    p.require("office")
    case = get_case(s, p, case_id)
    # Claim the case in one statement, so two re-checks at once cannot both reopen it.
    claimed = s.execute(update(Case).where(Case.id == case_id, Case.status == "closed")
                        .values(status="rectifying")).rowcount
    s.refresh(case)
    if not claimed:
        raise Unprocessable(f"case {case_id} is {case.status}; only closed cases are re-checked")
    now = ctx.now()
    case.previous_instance_ids = [*case.previous_instance_ids, case.process_instance_id]
    case.status, case.warning, case.closed_at = "rectifying", "none", None
    case.due_at = now + timedelta(days=ctx.settings.recheck_days)
    s.add(SupervisionAction(round_id=case.round_id, case_id=case.id, target_unit_id=case.unit_id, kind="recheck",
                            at=now, actor_id=p.id, detail=comment))
    commons = s.scalars(select(CommonProblem).where(CommonProblem.round_id == case.round_id)
                        .order_by(CommonProblem.id)).all()
    _start_case(ctx, s, p, case, [{"id": c.id, "title": c.title} for c in commons], recheck=True)
    return case


def _on_summary(ctx, s, p, round_id, event):
    rnd = s.get(Round, round_id)
    rnd.status, rnd.closed_at = "closed", ctx.now()


def _on_self_check(ctx, s, p, case_id, event):
    case = s.get(Case, case_id)
    for old in s.scalars(select(SelfCheckItem).where(SelfCheckItem.case_id == case_id)):
        s.delete(old)
    s.flush()
    for item in event.data.get("items", []):
        s.add(SelfCheckItem(case_id=case_id, common_problem_id=item["common_problem_id"],
                            applicable=item["applicable"], reason=item.get("reason"),
                            problems_found=item["problems_found"], findings=item["findings"]))
    case.status = "rectifying"


def _on_rectify(ctx, s, p, case_id, event):
    case = s.get(Case, case_id)
    existing = {i.common_problem_id: i for i in s.scalars(
        select(RectificationItem).where(RectificationItem.case_id == case_id))}
    for entry in event.data.get("items", []):
        item = existing.get(entry["common_problem_id"])
        if item is None:
            item = RectificationItem(case_id=case_id, common_problem_id=entry["common_problem_id"])
            s.add(item)
        item.status = entry["status"]
        item.measures = [Measure(description=m["description"], deadline=_date(m.get("deadline")))
                         for m in entry.get("measures", [])]
        item.institutions = [Institution(title=i["title"]) for i in entry.get("institutions", [])]
    case.status = "rectifying"


def _on_file(ctx, s, p, case_id, event):
    case = s.get(Case, case_id)
    now = ctx.now()
    s.add(Filing(case_id=case_id, filed_by=p.id, filed_at=now, attest_comment=event.data.get("comment")))
    case.status, case.filed_at = "filed", now


def _on_review(ctx, s, p, case_id, event):
    case = s.get(Case, case_id)
    now = ctx.now()
    filing = s.scalar(select(Filing).where(Filing.case_id == case_id).order_by(Filing.id.desc()).limit(1))
    accepted = bool(event.data.get("accepted"))
    if filing is not None:
        filing.result = "accepted" if accepted else "returned"
        filing.reviewed_by, filing.reviewed_at = p.id, now
        filing.review_comment = event.data.get("comment")
    if not accepted:
        case.status = "returned"
        return
    case.status, case.closed_at = "closed", now
    s.flush()
    # Two last reviews at once must not both count the other case as open: take the round first.
    s.get(Round, case.round_id, with_for_update=True, populate_existing=True)
    still_open = s.scalar(select(func.count()).select_from(Case).where(
        Case.round_id == case.round_id, Case.status != "closed"))
    if still_open == 0:
        for result in ctx.engine.deliver_message(s, "round_cases_closed", f"round:{case.round_id}",
                                                 {"round_id": case.round_id}, actor=p.username):
            apply_events(ctx, s, p, result)


def _on_warning(level: str):
    def handle(ctx, s, p, case_id, event):
        case = s.get(Case, case_id)
        if WARNING_ORDER[level] > WARNING_ORDER[case.warning] and case.status != "closed":
            case.warning = level
        s.add(SupervisionAction(round_id=case.round_id, case_id=case_id, target_unit_id=case.unit_id,
                                kind=f"warning_{level}", at=ctx.now(), detail=event.name))
        if level == "yellow":
            unit = s.get(Unit, case.unit_id)
            if unit.leader_id is not None:
                s.add(LeaderNotification(round_id=case.round_id, leader_id=unit.leader_id, kind="yellow_warning",
                                         case_id=case_id, unit_ids=[unit.id], created_at=ctx.now()))
    return handle


def _on_tracking(ctx, s, p, case_id, event):
    case = s.get(Case, case_id)
    s.add(SupervisionAction(round_id=case.round_id, case_id=case_id, target_unit_id=case.unit_id,
                            kind=event.data.get("action") or "tracking_letter", at=ctx.now(),
                            actor_id=p.id if p else None, detail=event.data.get("comment")))


def _letter_step(status: str, kind: str, detail):
    def handle(ctx, s, p, letter_id, event):
        letter = s.get(RecommendationLetter, letter_id)
        if status != "accepted" or event.data.get("accepted"):
            letter.status = status
        s.add(SupervisionAction(round_id=letter.round_id, target_unit_id=letter.department_id, kind=kind,
                                at=ctx.now(), actor_id=p.id if p else None, detail=detail(event.data)))
    return handle


def _on_talk(ctx, s, p, case_id, event):
    case = s.get(Case, case_id)
    d = event.data
    s.add(SupervisionAction(round_id=case.round_id, case_id=case_id, target_unit_id=case.unit_id, kind="talk_reminder",
                            at=ctx.now(), actor_id=p.id if p else None,
                            detail=f"{d.get('talked_by')} 于 {d.get('talked_on')} 与 {d.get('talked_with')} 谈话："
                                   f"{d.get('summary') or ''}".rstrip("：")))


def _on_handover(ctx, s, p, clue_id, event):
    clue = s.get(Clue, clue_id)
    if event.data.get("approved"):
        clue.status, clue.handed_over_at = "handed_over", ctx.now()
    else:
        clue.status = "not_handed_over"


def _on_receive(ctx, s, p, clue_id, event):
    clue = s.get(Clue, clue_id)
    clue.status, clue.received_at = "received", ctx.now()


def _on_dispose(ctx, s, p, clue_id, event):
    clue = s.get(Clue, clue_id)
    clue.status, clue.disposed_at = "disposed", ctx.now()
    clue.disposition = event.data["disposition"]
    clue.people_count = event.data.get("people_count") or 0


_HANDLERS = {
    ("inspection_round", "task_completed", "record_findings"): _round_step("listing"),
    ("inspection_round", "task_completed", "approve_list"): _on_approve,
    ("inspection_round", "task_completed", "publish_list"): _on_publish,
    ("inspection_round", "task_completed", "round_summary"): _on_summary,
    ("unit_rectification", "task_completed", "self_check"): _on_self_check,
    ("unit_rectification", "task_completed", "rectify"): _on_rectify,
    ("unit_rectification", "task_completed", "attest_and_file"): _on_file,
    ("unit_rectification", "task_completed", "review_filing"): _on_review,
    ("unit_rectification", "task_completed", "warn_green"): _on_warning("green"),
    ("unit_rectification", "task_completed", "warn_yellow"): _on_warning("yellow"),
    ("unit_rectification", "task_completed", "warn_red"): _on_warning("red"),
    ("unit_rectification", "task_completed", "track_supervision"): _on_tracking,
    ("unit_rectification", "task_completed", "talk_reminder"): _on_talk,
    ("clue_handover", "task_completed", "approve_handover"): _on_handover,
    ("clue_handover", "task_completed", "receive_clue"): _on_receive,
    ("clue_handover", "task_completed", "dispose_clue"): _on_dispose,
    ("recommendation_letter", "task_completed", "plan_governance"): _letter_step(
        "planned", "governance_plan", lambda d: f"专项治理方案：{d.get('plan', '')}"),
    ("recommendation_letter", "task_completed", "report_governance"): _letter_step(
        "reported", "governance_report",
        lambda d: f"专项治理情况：{d.get('report', '')}（措施 {d.get('measures', 0)} 项，制度 {d.get('institutions', 0)} 项）"),
    ("recommendation_letter", "task_completed", "evaluate_governance"): _letter_step(
        "accepted", "governance_evaluated",
        lambda d: ("评估通过" if d.get("accepted") else "评估未通过，退回") + (f"：{d['comment']}" if d.get("comment") else "")),
}


# ---------------------------------------------------------------- timers
def run_due_timers(ctx: Context, now: datetime | None = None) -> int:
    """Fire every timer due by `now`, one instance per transaction; returns how many instances moved.

    An instance whose step fails is marked failed on its own row and tried again later; it never
    keeps the other instances' timers from firing.
    """
    now = now or ctx.now()
    with ctx.db.read() as s:
        instance_ids = ctx.engine.due_timer_instances(s, now)
    return sum(1 for instance_id in instance_ids if fire_instance_timers(ctx, instance_id, now))


def fire_instance_timers(ctx: Context, instance_id: int, now: datetime | None = None) -> bool:
    """Fire one instance's due timers and apply what they did; on failure record it on the instance."""
    def work(s):
        result = ctx.engine.fire_timers(s, instance_id, now)
        if result is not None:
            apply_events(ctx, s, None, result)
        return result
    try:
        return ctx.db.transaction(work) is not None
    except RetryConflict:  # busy with someone else's change: the next sweep finds it due again
        return False
    except Exception as exc:  # noqa: BLE001 - whatever one instance does, the sweep goes on
        element = getattr(exc, "element_id", None)
        message = str(exc) if isinstance(exc, (WorkflowFailure, ApiError)) else f"{type(exc).__name__}: {exc}"
        log.warning("timer step of process instance %s failed at %s: %s", instance_id, element, message,
                    exc_info=not isinstance(exc, WorkflowFailure))
        try:
            ctx.db.transaction(lambda s: ctx.engine.record_failure(s, instance_id, message, element, now))
        except Exception:  # noqa: BLE001
            log.exception("could not record the failure of process instance %s", instance_id)
        return False


# ---------------------------------------------------------------- cases
def case_json(case: Case, ctx: Context) -> dict:
    return {"id": case.id, "unit_id": case.unit_id, "round_id": case.round_id, "status": case.status,
            "due_at": ctx.local_iso(case.due_at), "warning": case.warning,
            "process_instance_id": case.process_instance_id, "filed_at": _iso(case.filed_at),
            "closed_at": _iso(case.closed_at)}


def get_case(s: Session, p: Principal, case_id: int) -> Case:
    case = s.scalar(select(Case).where(Case.id == case_id, access.case_scope(p)))
    if case is None:
        raise NotFound(f"case {case_id} does not exist")
    return case


# ---------------------------------------------------------------- helpers
def _require_units(s: Session, unit_ids: list[int], field: str) -> None:
    if not unit_ids:
        return
    found = set(s.scalars(select(Unit.id).where(Unit.id.in_(unit_ids))))
    missing = sorted(set(unit_ids) - found)
    if missing:
        raise Unprocessable(f"unknown units in {field}", [{"field": field, "message": f"unknown unit ids: {missing}"}])


def _date(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def _iso(when: datetime | None) -> str | None:
    return when.isoformat() if when else None
