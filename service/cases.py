"""A unit's rectification case against one published list, and what its workflow's steps mean.

Each case runs its own `unit_rectification` instance; the functions named `on_…` keep the case's
records (self-check, measures, filings, warnings) in step with it (see `workflow_events`).
"""
from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session

from workflows.engine import StepEvent

from . import access, audit, documents, insight, measures, notices, rounds, targets, workflow
from .auth import Principal
from .context import Context
from .db import UNSYNCED
from .errors import Forbidden, NotFound, Unprocessable
from .models import (
    BusinessKey,
    Case,
    CaseStatus,
    CommonProblem,
    Evidence,
    Filing,
    Institution,
    KeyKind,
    Measure,
    RectificationItem,
    Round,
    SelfCheckItem,
    SupervisionAction,
    WarningLevel,
)
from .validation import MAX_COUNT


# ---------------------------------------------------------------- queries
def list_cases(s: Session, p: Principal, *, round_id: int | None, unit_id: int | None, status: str | None,
               limit: int, offset: int) -> tuple[list[Case], int]:
    """The cases the reader may see, narrowed as asked, in id order; and how many there are in all."""
    query = select(Case).where(access.case_scope(p))
    for column, value in ((Case.round_id, round_id), (Case.unit_id, unit_id), (Case.status, status)):
        if value is not None:
            query = query.where(column == value)
    total = s.scalar(select(func.count()).select_from(query.subquery())) or 0
    return list(s.scalars(query.order_by(Case.id).limit(limit).offset(offset))), total


def get_case(s: Session, p: Principal, case_id: int) -> Case:
    case = s.scalar(select(Case).where(Case.id == case_id, access.case_scope(p)))
    if case is None:
        if access.may_list_governed_cases(p) and s.get(Case, case_id) is not None:
            # a functional department reads the cases of the common problems it governs, not these
            raise Forbidden(f"case {case_id} is not of a common problem the department governs",
                            code="case_not_governed")
        raise NotFound(f"case {case_id} does not exist")
    return case


def case_json(case: Case, ctx: Context) -> dict:
    return {"id": case.id, "unit_id": case.unit_id, "round_id": case.round_id, "status": case.status,
            "due_at": ctx.local_iso(case.due_at), "warning": case.warning,
            "process_instance_id": case.process_instance_id, "filed_at": _iso(case.filed_at),
            "closed_at": _iso(case.closed_at)}


# ---------------------------------------------------------------- commands
def open_case(ctx: Context, s: Session, p: Principal | None, round_id: int, unit_id: int,
              sent: list[CommonProblem], due: datetime) -> Case:
    """A unit's case against the common problems sent to it, which are all it self-checks and files."""
    case = Case(round_id=round_id, unit_id=unit_id, status=CaseStatus.SELF_CHECK, warning=WarningLevel.NONE,
                due_at=due, created_at=ctx.now())
    s.add(case)
    s.flush()
    targets.record(s, case, sent)
    _start(ctx, s, p, case, [{"id": c.id, "title": c.title} for c in sent], recheck=False)
    return case


def recheck_case(ctx: Context, s: Session, p: Principal, case_id: int, comment: str) -> Case:
    """Follow-up re-check (回头看): reopen a closed case for another rectification pass.

    The records of the first pass (items, filings, evidence, its workflow history) stay; a new
    instance starts at rectification, since the unit's self-check still stands.
    """
    p.require(*access.OFFICE)
    if not (comment or "").strip():
        raise Unprocessable.on_field("comment", "comment_required", "say why the case is re-checked")
    case = get_case(s, p, case_id)
    # Claim the case in one statement, so two re-checks at once cannot both reopen it.
    claimed = s.execute(update(Case).where(Case.id == case_id, Case.status == CaseStatus.CLOSED)
                        .values(status=CaseStatus.RECTIFYING).returning(Case.id)).scalar()
    s.refresh(case)
    if not claimed:
        raise Unprocessable(f"case {case_id} is {case.status}; only closed cases are re-checked",
                            code="case_not_closed", status=case.status)
    now = ctx.now()
    if case.process_instance_id is not None:
        case.previous_instance_ids = [*case.previous_instance_ids, case.process_instance_id]
    case.status, case.warning, case.closed_at = CaseStatus.RECTIFYING, WarningLevel.NONE, None
    case.due_at = now + timedelta(days=ctx.settings.recheck_days)
    s.add(SupervisionAction(round_id=case.round_id, case_id=case.id, target_unit_id=case.unit_id, kind="recheck",
                            at=now, actor_id=p.id, detail=comment))
    listed = [{"id": c.id, "title": c.title} for c in targets.received(s, case)]
    insight.flag_rechecked(s, case)  # what the 回头看 found again recurs (问题反弹)
    _start(ctx, s, p, case, listed, recheck=True)
    audit.record(s, "case_recheck_started", p, f"case:{case.id}")
    return case


def _start(ctx: Context, s: Session, p: Principal | None, case: Case, listed: list[dict], recheck: bool) -> None:
    instance = workflow.start(ctx, s, p, MODEL, start_data(ctx, case, listed, recheck),
                              BusinessKey(KeyKind.CASE, case.id), unit_id=case.unit_id)
    case.process_instance_id = instance.id


MODEL = "unit_rectification"


def start_data(ctx: Context, case: Case, listed: list[dict], recheck: bool) -> dict:
    """What a case's workflow starts with: the common problems sent to it and the points of its ladder."""
    return {"case_id": case.id, "unit_id": case.unit_id, "round_id": case.round_id, "common_problems": listed,
            "due_at": ctx.local_iso(case.due_at), "green_days": ctx.settings.green_days,
            "yellow_days": ctx.settings.yellow_days, "talk_days": ctx.settings.talk_days,
            "reply_days_default": ctx.settings.reply_days, "recheck": recheck}


# ---------------------------------------------------------------- what the case's steps need
def check_items(s: Session, case_id: int, data: dict, *, every_problem: bool) -> None:
    """Self-check and rectification items name the common problems sent to the unit, each once; the
    self-check names every one of them."""
    _, sent = targets.case_and_received(s, case_id)
    expected = {c.id for c in sent}
    given = [item.get("common_problem_id") for item in data.get("items", [])]
    errors = []
    if len(given) != len(set(given)):
        errors.append({"field": "items", "code": "item_repeated", "message": "each common problem may appear once"})
    unknown = sorted(set(given) - expected)
    if unknown:
        errors.append({"field": "items", "code": "item_unknown",
                       "message": f"not common problems sent to this unit: {unknown}"})
    missing = sorted(expected - set(given)) if every_problem else []
    if missing:
        errors.append({"field": "items", "code": "item_missing",
                       "message": f"self-check every common problem; missing: {missing}"})
    if errors:
        raise Unprocessable("the items do not match the common-problem list", errors, code="items_mismatch")


def _titles(s: Session, case_id: int) -> dict[int, str]:
    """The titles of the common problems sent to the case, by id, in list order."""
    return {c.id: c.title for c in targets.case_and_received(s, case_id)[1]}


def check_self_check(s: Session, case_id: int, data: dict) -> None:
    check_items(s, case_id, data, every_problem=True)
    # a common problem marked as not applying says why: the office reviews that claim like a measure
    titles = _titles(s, case_id)
    unexplained = [{"field": f"items.{index}.reason", "code": "not_applicable_reason_required",
                    "common_problem_id": item.get("common_problem_id"),
                    "title": titles.get(item.get("common_problem_id"), str(item.get("common_problem_id"))),
                    "message": "a common problem that does not apply needs the reason"}
                   for index, item in enumerate(data.get("items", []))
                   if item.get("applicable") is False and not (item.get("reason") or "").strip()]
    if unexplained:
        raise Unprocessable("say why each common problem marked as not applying does not apply", unexplained,
                            code="not_applicable_reason_required")
    # the shipped form says so too; a designer's own form may not, and the district sums these
    errors = [{"field": f"items.{index}.problems_found", "code": "maximum", "limit": MAX_COUNT,
               "message": f"{item['problems_found']} is greater than the maximum of {MAX_COUNT}"}
              for index, item in enumerate(data.get("items", []))
              if isinstance(item.get("problems_found"), int) and item["problems_found"] > MAX_COUNT]
    if errors:
        raise Unprocessable("a count is larger than any unit can have found", errors, code="invalid_task_data")


def check_rectification(s: Session, case_id: int, data: dict) -> None:
    check_items(s, case_id, data, every_problem=False)
    # a common problem the self-check found applicable is rectified by at least one measure
    applicable = _applicable(s, case_id)
    titles = _titles(s, case_id)
    errors = [_no_measure(f"items.{index}.measures", item["common_problem_id"], titles)
              for index, item in enumerate(data.get("items", []))
              if item.get("common_problem_id") in applicable and not item.get("measures")
              and not (item.get("reason") or "").strip()]
    if errors:
        raise Unprocessable("every applicable common problem needs at least one measure or the reason there is none",
                            errors, code="measures_required")


def check_filing(s: Session, case_id: int, data: dict) -> None:
    """A case is filed only with a measure, or the reason there is none, for every common problem that
    applies to the unit (the self-check says which; one that does not apply states why there) and at
    least one evidence file."""
    errors = []
    recorded = {i.common_problem_id: i for i in s.scalars(
        select(RectificationItem).where(RectificationItem.case_id == case_id))}
    case, titles = s.get_one(Case, case_id), _titles(s, case_id)
    applicable = _applicable(s, case_id)
    for index, common_problem_id in enumerate(titles):
        item = recorded.get(common_problem_id)
        if common_problem_id in applicable and (item is None or not (item.measures or (item.reason or "").strip())):
            errors.append(_no_measure(f"items.{index}.measures", common_problem_id, titles))
    evidence = select(func.count()).select_from(Evidence).where(Evidence.case_id == case_id)
    began = _recheck_began(s, case)
    if began is not None:
        evidence = evidence.where(Evidence.uploaded_at >= began)
    if not s.scalar(evidence):
        errors.append({"field": "evidence", "code": "evidence_required",
                       "message": "attach at least one evidence file before filing" if case.pass_number == 1
                       else "attach at least one evidence file of this follow-up re-check before filing"})
    if errors:
        raise Unprocessable("the case cannot be filed yet", errors, code=errors[0]["code"])


def _recheck_began(s: Session, case: Case) -> datetime | None:
    """When the case's latest follow-up re-check (回头看) began, if it is in one: that pass's filing
    needs evidence of its own; what the earlier pass filed stays on record."""
    if case.pass_number == 1:
        return None
    return s.scalar(select(func.max(SupervisionAction.at)).where(
        SupervisionAction.case_id == case.id, SupervisionAction.kind == "recheck"))


def _no_measure(field: str, common_problem_id: int, titles: dict[int, str]) -> dict:
    title = titles.get(common_problem_id, str(common_problem_id))
    return {"field": field, "code": "measures_required", "common_problem_id": common_problem_id, "title": title,
            "message": f"{title!r} applies to the unit: give at least one measure, or the reason there is none"}


def _applicable(s: Session, case_id: int) -> set[int]:
    """The common problems the unit's self-check found to apply to it."""
    return set(s.scalars(select(SelfCheckItem.common_problem_id).where(
        SelfCheckItem.case_id == case_id, SelfCheckItem.applicable.is_(True))))


# ---------------------------------------------------------------- what the case's steps mean
def on_self_check(ctx: Context, s: Session, p: Principal | None, case_id: int, event: StepEvent) -> None:
    """The items replace the case's earlier ones in two statements: nothing holds them as objects."""
    case = s.get_one(Case, case_id)
    s.execute(delete(SelfCheckItem).where(SelfCheckItem.case_id == case_id), execution_options=UNSYNCED)
    rows = [{"case_id": case_id, "common_problem_id": item["common_problem_id"], "applicable": item["applicable"],
             "reason": item.get("reason"), "problems_found": item["problems_found"], "findings": item["findings"]}
            for item in event.data.get("items", [])]
    if rows:
        s.execute(insert(SelfCheckItem), rows)
    case.status = CaseStatus.RECTIFYING


def on_rectify(ctx: Context, s: Session, p: Principal | None, case_id: int, event: StepEvent) -> None:
    case = s.get_one(Case, case_id)
    existing = {i.common_problem_id: i for i in s.scalars(
        select(RectificationItem).where(RectificationItem.case_id == case_id))}
    for entry in event.data.get("items", []):
        item = existing.get(entry["common_problem_id"])
        if item is None:
            item = RectificationItem(case_id=case_id, common_problem_id=entry["common_problem_id"])
            s.add(item)
        item.status = entry["status"]
        item.reason = (entry.get("reason") or "").strip() or None
        # This pass's measures and institutions are as now reported; earlier passes' stay as they were.
        current = case.pass_number
        item.measures = [m for m in item.measures if m.pass_number < current] + [
            Measure(description=m["description"], deadline=_date(m.get("deadline")), pass_number=current)
            for m in entry.get("measures", [])]
        item.institutions = [i for i in item.institutions if i.pass_number < current] + [
            Institution(title=i["title"], pass_number=current) for i in entry.get("institutions", [])]
    case.status = CaseStatus.RECTIFYING


def on_filed(ctx: Context, s: Session, p: Principal | None, case_id: int, event: StepEvent) -> None:
    case = s.get_one(Case, case_id)
    now = ctx.now()
    filing = Filing(case_id=case_id, filed_by=p.id if p else None, filed_at=now,
                    attest_comment=event.data.get("comment"), pass_number=case.pass_number)
    s.add(filing)
    case.status, case.filed_at = CaseStatus.FILED, now
    s.flush()
    documents.issue_report(ctx, s, p, case, filing)  # the 整改报告 the unit files, as filed


def on_reviewed(ctx: Context, s: Session, p: Principal | None, case_id: int, event: StepEvent) -> None:
    case = s.get_one(Case, case_id)
    now = ctx.now()
    filing = s.scalar(select(Filing).where(Filing.case_id == case_id).order_by(Filing.id.desc()).limit(1))
    accepted = bool(event.data.get("accepted"))
    if filing is not None:
        filing.result = "accepted" if accepted else "returned"
        filing.reviewed_by, filing.reviewed_at = (p.id if p else None), now
        filing.review_comment = event.data.get("comment")
    if not accepted:
        case.status = CaseStatus.RETURNED
        notices.on_returned(ctx, s, case, event.data.get("comment"))
        return
    case.status, case.closed_at = CaseStatus.CLOSED, now
    s.flush()
    measures.follow_up_after_close(ctx, s, p, case)  # measures due after today stay followed
    # Two last reviews at once must not both count the other case as open: take the round first.
    s.get_one(Round, case.round_id, with_for_update=True, populate_existing=True)
    still_open = s.scalar(select(func.count()).select_from(Case).where(
        Case.round_id == case.round_id, Case.status != CaseStatus.CLOSED))
    if still_open == 0:
        rounds.all_cases_closed(ctx, s, p, case.round_id)


def on_warning(level: WarningLevel):
    def handle(ctx: Context, s: Session, p: Principal | None, case_id: int, event: StepEvent) -> None:
        case = s.get_one(Case, case_id)
        if case.status != CaseStatus.CLOSED:
            case.warning = WarningLevel(case.warning).escalated_to(level)
        s.add(SupervisionAction(round_id=case.round_id, case_id=case_id, target_unit_id=case.unit_id,
                                kind=f"warning_{level}", at=ctx.now(), detail=event.name))
        if level in (WarningLevel.YELLOW, WarningLevel.RED):
            notices.on_warning(ctx, s, case, level)  # the unit is told; its leader in charge signs for it
    handle.__doc__ = f"The case reached the {level} point of the supervision ladder."
    return handle


def _date(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def _iso(when: datetime | None) -> str | None:
    return when.isoformat() if when else None
