"""Supervision that acts: what the office's choice on an overdue case sets going, step by step.

An overdue case gives the office a 跟踪督办 task in a loop (`unit_rectification`): each round it
chooses a tracking letter (督办函: the unit answers within a set number of days, or the lateness is
recorded and the office told), a talk by the five-person group with the unit's head (谈话提醒: the
talk is recorded and the unit's leader in charge told), or a special inspection (专项督查: the
inspectors it names check the unit on site; a failed check sends the case back to rectification).

Each step leaves one `SupervisionAction` (kind, time, who, outcome), which the case page and the
supervision list (督查清单) read. The checks run before a task completes and refuse what the
mechanism needs but the form cannot require (a choice's own fields) with 422 codes.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows.engine import StepEvent
from workflows.tables import HumanTask, TaskCandidate

from . import access, documents, notices, pools
from .auth import Principal
from .context import Context
from .errors import Unprocessable
from .models import Case, CaseStatus, Evidence, Expert, Filing, SupervisionAction, User

# The office's choices on its 跟踪督办 task (the form's `action`).
TRACKING_LETTER, TALK, SPECIAL_INSPECTION = "tracking_letter", "talk_reminder", "special_inspection"
# The steps (SupervisionAction.kind) this module records, besides the three choices.
REPLY, REPLY_LATE, CHECK = "tracking_reply", "tracking_reply_late", "inspection_check"
# How a step ended (SupervisionAction.outcome).
OUTCOMES = ("awaiting_reply", "replied", "reply_late", "recorded", "assigned", "passed", "failed")
# The user tasks a choice opens (their `rectiflow.step`), which the choice's record fills in.
REPLY_STEP, CHECK_STEP = "reply_tracking_letter", access.SPECIAL_INSPECTION_STEP
TALK_FIELDS = ("talked_by", "talked_with", "talked_on", "summary")
MAX_NAMES = 20  # inspectors or experts named on one special inspection


# ---------------------------------------------------------------- checks before a task completes
def check_tracking(s: Session, case_id: int, data: dict, offered: frozenset[str]) -> None:
    """Each choice carries what it needs: a letter its demand, a talk its record, an inspection
    its inspectors (who may inspect the unit) and, if any, experts of the pool. A field the form does
    not offer (a task of an earlier model version) is not asked for."""
    action = data.get("action")
    errors: list[dict] = []
    if action == TRACKING_LETTER and "demand" in offered and not _text(data.get("demand")):
        errors.append(_missing("demand", "demand_required", "say what the tracking letter demands of the unit"))
    elif action == TALK:
        errors += _talk_problems(data, offered)
    elif action == SPECIAL_INSPECTION and "inspectors" in offered:
        case = s.get_one(Case, case_id)
        errors += _inspector_problems(s, case, data.get("inspectors"))
        errors += _expert_problems(s, data.get("experts"))
    if errors:
        raise Unprocessable("the chosen supervision lacks what it needs", errors, code=errors[0]["code"])


def check_talk(s: Session, case_id: int, data: dict, offered: frozenset[str]) -> None:
    """A talk is recorded with who talked, with whom, when, and what was said."""
    errors = _talk_problems(data, offered)
    if errors:
        raise Unprocessable("the talk record is incomplete", errors, code=errors[0]["code"])


def check_reply(s: Session, case_id: int, data: dict) -> None:
    if not _text(data.get("reply")):
        raise Unprocessable.on_field("reply", "reply_required", "answer the tracking letter",
                                     "the reply to the tracking letter is empty")


def check_inspection(s: Session, case_id: int, data: dict) -> None:
    if not _text(data.get("findings")):
        raise Unprocessable.on_field("findings", "findings_required", "record what the on-site check found",
                                     "the findings of the check are empty")


def _talk_problems(data: dict, offered: frozenset[str]) -> list[dict]:
    return [_missing(field, "talk_record_required", "the talk record needs who talked, with whom, when and "
                                                    "what was said")
            for field in TALK_FIELDS if field in offered and not _text(data.get(field))]


def _inspector_problems(s: Session, case: Case, names: str | None) -> list[dict]:
    wanted = _names(names)
    if not wanted:
        return [_missing("inspectors", "inspectors_required", "name at least one inspector (their account)")]
    if len(wanted) > MAX_NAMES:
        return [{"field": "inspectors", "code": "max_items", "limit": MAX_NAMES, "message": f"at most {MAX_NAMES} inspectors"}]
    found = _inspectors(s, wanted)
    unknown = [n for n in wanted if n not in {u.username for u in found}]
    if unknown:
        return [{"field": "inspectors", "code": "not_an_inspector",
                 "message": f"not active inspector accounts: {', '.join(unknown)}"}]
    return [dict(p, field="inspectors") for p in pools.conflicts(s, [u.id for u in found], [case.unit_id])]


def _expert_problems(s: Session, names: str | None) -> list[dict]:
    wanted = _names(names)
    if len(wanted) > MAX_NAMES:
        return [{"field": "experts", "code": "max_items", "limit": MAX_NAMES, "message": f"at most {MAX_NAMES} experts"}]
    known = {e.name for e in _experts(s, wanted)}
    unknown = [n for n in wanted if n not in known]
    if unknown:
        return [{"field": "experts", "code": "unknown_expert",
                 "message": f"not in the co-audit expert pool: {', '.join(unknown)}"}]
    return []


def _inspectors(s: Session, usernames: list[str]) -> list[User]:
    """The active accounts among these usernames that may be sent on a special inspection."""
    users = s.scalars(select(User).where(User.username.in_(usernames), User.active.is_(True)).order_by(User.id))
    return [u for u in users if access.may_be_sent_to_inspect(u.roles or [])]


def _experts(s: Session, names: list[str]) -> list[Expert]:
    return list(s.scalars(select(Expert).where(Expert.name.in_(names), Expert.active.is_(True)).order_by(Expert.id)))


# ---------------------------------------------------------------- what the steps mean
def on_tracked(ctx: Context, s: Session, p: Principal | None, case_id: int, event: StepEvent) -> None:
    """The office's choice on an overdue case, put into effect."""
    case = s.get_one(Case, case_id)
    d = event.data
    action = d.get("action") or TRACKING_LETTER
    if action == TRACKING_LETTER:
        days = d.get("reply_days") or ctx.settings.reply_days
        due = _open_task_due(s, case, REPLY_STEP) or ctx.now() + timedelta(days=days)
        _issue_tracking_letter(ctx, s, p, case, demand=_text(d.get("demand")) or _text(d.get("comment")) or "",
                               reply_days=days, reply_due=due)
    elif action == TALK:
        record_talk(ctx, s, p, case, d)
    elif action == SPECIAL_INSPECTION:
        _send_inspectors(ctx, s, p, case, d)
    else:  # a designer's own choice: kept on record as it was made
        _add(ctx, s, p, case, action, _text(d.get("comment")))


def _issue_tracking_letter(ctx: Context, s: Session, p: Principal | None, case: Case, *, demand: str,
                           reply_days: int, reply_due: datetime) -> SupervisionAction:
    """The one place a tracking letter (督办函) is issued: on record with its demand and the date the
    unit's reply is due, written as a numbered document, and the unit's liaison and head told."""
    letter = _add(ctx, s, p, case, TRACKING_LETTER, demand, outcome="awaiting_reply", due_at=reply_due,
                  data={"demand": demand})
    documents.issue_tracking_letter(ctx, s, p, case, demand=demand, reply_days=reply_days, action=letter)
    notices.tell(ctx, s, notices.unit_staff(s, case.unit_id), "tracking_letter", round_id=case.round_id,
                 case_id=case.id, unit_id=case.unit_id, detail=demand)
    return letter


def on_replied(ctx: Context, s: Session, p: Principal | None, case_id: int, event: StepEvent) -> None:
    """The unit answers the tracking letter; the office is told."""
    case = s.get_one(Case, case_id)
    letter = _last(s, case, TRACKING_LETTER)
    reply = _text(event.data.get("reply"))
    evidence = _evidence_since(s, case, letter.at if letter else None)
    _add(ctx, s, p, case, REPLY, reply, outcome="replied", data={"reply": reply, "evidence_ids": evidence})
    if letter is not None and letter.outcome == "awaiting_reply":
        letter.outcome = "replied"
    notices.tell(ctx, s, notices.people(s, "office"), "tracking_replied", round_id=case.round_id,
                 case_id=case.id, unit_id=case.unit_id, detail=reply)


def on_reply_late(ctx: Context, s: Session, p: Principal | None, case_id: int, event: StepEvent) -> None:
    """The reply's time ran out unanswered: on the case's record, and the office is told."""
    case = s.get_one(Case, case_id)
    letter = _last(s, case, TRACKING_LETTER)
    if letter is not None and letter.outcome == "awaiting_reply":
        letter.outcome = "reply_late"
    due = letter.due_at if letter is not None else None
    detail = f"答复期限 {ctx.local_iso(due)[:10]} 已过，单位未答复" if due else "单位逾期未答复督办函"
    _add(ctx, s, None, case, REPLY_LATE, detail, outcome="reply_late", due_at=due)
    notices.tell(ctx, s, notices.people(s, "office"), "tracking_reply_late", round_id=case.round_id,
                 case_id=case.id, unit_id=case.unit_id)


def on_talked(ctx: Context, s: Session, p: Principal | None, case_id: int, event: StepEvent) -> None:
    """The talk the timer called for (谈话提醒 task), recorded."""
    record_talk(ctx, s, p, s.get_one(Case, case_id), event.data)


def record_talk(ctx: Context, s: Session, p: Principal | None, case: Case, d: dict) -> SupervisionAction:
    """The five-person group's talk with the unit's head (五人小组谈话提醒), on record; the unit's
    leader in charge gets a notice to sign for."""
    data = {field: _text(d.get(field)) for field in TALK_FIELDS}
    detail = f"{data['talked_by']} 于 {data['talked_on']} 与 {data['talked_with']} 谈话：{data['summary']}"
    talk = _add(ctx, s, p, case, TALK, detail.rstrip("："), outcome="recorded", data=data)
    documents.issue_talk_record(ctx, s, p, case, talked_with=data["talked_with"], talked_by=data["talked_by"],
                                talked_at=_day(ctx, data["talked_on"]), summary=data["summary"], action=talk)
    leader = notices.leader_of(s, case.unit_id)
    if leader is not None:
        notices.tell_leader(ctx, s, case.round_id, leader, "talk_record", [case.unit_id], case.id)
    return talk


def _send_inspectors(ctx: Context, s: Session, p: Principal | None, case: Case, d: dict) -> None:
    """The inspectors named get the check task (and are told by the run); the experts go with them."""
    inspectors = _inspectors(s, _names(d.get("inspectors")))
    experts = _experts(s, _names(d.get("experts")))
    task = _open_task(s, case, CHECK_STEP)
    if task is not None:
        task.candidates = [TaskCandidate(user_id=u.id) for u in inspectors]
    parts = [f"督查人员：{'、'.join(u.name for u in inspectors)}" if inspectors else "",
             f"协审专家：{'、'.join(e.name for e in experts)}" if experts else "", _text(d.get("comment"))]
    detail = "；".join(part for part in parts if part)
    _add(ctx, s, p, case, SPECIAL_INSPECTION, detail, outcome="assigned",
         data={"inspector_ids": [u.id for u in inspectors], "expert_ids": [e.id for e in experts]})


def on_inspected(ctx: Context, s: Session, p: Principal | None, case_id: int, event: StepEvent) -> None:
    """The on-site check's result. A failed check sends the case back to rectification: a filing
    under review is returned (the workflow ends its review), and the unit is told why."""
    case = s.get_one(Case, case_id)
    findings = _text(event.data.get("findings"))
    failed = event.data.get("result") == "failed"
    _add(ctx, s, p, case, CHECK, findings, outcome="failed" if failed else "passed",
         data={"findings": findings, "result": event.data.get("result")})
    assigned = _last(s, case, SPECIAL_INSPECTION)
    if assigned is not None and assigned.outcome == "assigned":
        assigned.outcome = "failed" if failed else "passed"
    if not failed:
        return
    if case.status == CaseStatus.FILED:
        filing = s.scalar(select(Filing).where(Filing.case_id == case.id, Filing.result.is_(None))
                          .order_by(Filing.id.desc()).limit(1))
        if filing is not None:
            filing.result, filing.review_comment = "returned", findings
            filing.reviewed_by, filing.reviewed_at = (p.id if p else None), ctx.now()
    if case.status in (CaseStatus.FILED, CaseStatus.RECTIFYING):
        case.status = CaseStatus.RETURNED
    notices.on_returned(ctx, s, case, findings)


# ---------------------------------------------------------------- helpers
def _add(ctx: Context, s: Session, p: Principal | None, case: Case, kind: str, detail: str | None, *,
         outcome: str | None = None, due_at: datetime | None = None, data: dict | None = None) -> SupervisionAction:
    action = SupervisionAction(round_id=case.round_id, case_id=case.id, target_unit_id=case.unit_id, kind=kind,
                               at=ctx.now(), actor_id=p.id if p else None, detail=detail or None,
                               outcome=outcome, due_at=due_at, data=data)
    s.add(action)
    s.flush()
    return action


def _last(s: Session, case: Case, kind: str) -> SupervisionAction | None:
    return s.scalar(select(SupervisionAction).where(SupervisionAction.case_id == case.id,
                                                    SupervisionAction.kind == kind)
                    .order_by(SupervisionAction.id.desc()).limit(1))


def _open_task(s: Session, case: Case, step: str) -> HumanTask | None:
    return s.scalar(select(HumanTask).where(HumanTask.instance_id == case.process_instance_id,
                                            HumanTask.step == step, HumanTask.state == "open")
                    .order_by(HumanTask.created_at.desc()).limit(1))


def _open_task_due(s: Session, case: Case, step: str) -> datetime | None:
    task = _open_task(s, case, step)
    return task.due_at if task is not None else None


def _evidence_since(s: Session, case: Case, since: datetime | None) -> list[int]:
    query = select(Evidence.id).where(Evidence.case_id == case.id)
    if since is not None:
        query = query.where(Evidence.uploaded_at >= since)
    return list(s.scalars(query.order_by(Evidence.id)))


def _day(ctx: Context, text: str) -> date:
    """The talk's day as the form gave it (YYYY-MM-DD); today when it is not one."""
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        return ctx.now().astimezone(ctx.zone).date()


def _names(text: str | None) -> list[str]:
    """Names or accounts as typed: separated by commas (either width), 、 or new lines; each once."""
    raw = (text or "").replace("，", ",").replace("、", ",").replace("\n", ",")
    return list(dict.fromkeys(n.strip() for n in raw.split(",") if n.strip()))


def _text(value) -> str:
    return value.strip() if isinstance(value, str) else ""


def _missing(field: str, code: str, message: str) -> dict:
    return {"field": field, "code": code, "message": message}
