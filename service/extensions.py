"""Extension requests (延期申请): a unit asks for more days to file, the office approves or refuses.

An approval moves the case's deadline and, through the engine (`workflow.change_data`), the
warning timers computed from it: the green, yellow, red and talk points then fall at the new
deadline, not the old one. A refusal changes nothing but the request.
"""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from . import access, audit, notices, workflow
from .auth import Principal
from .cases import get_case
from .context import Context
from .db import lock_row
from .errors import Conflict, Forbidden, NotFound, Unprocessable
from .models import Case, ExtensionRequest, SupervisionAction, User
from .organisation import round_names, unit_names
from .validation import MAX_INT

PENDING, APPROVED, REFUSED = "pending", "approved", "refused"
MAX_REASON = 2000


def request_extension(ctx: Context, s: Session, p: Principal, case_id: int, days, reason) -> ExtensionRequest:
    case = get_case(s, p, case_id)
    if not access.may_request_extension(p, case):
        raise Forbidden("only the unit's liaison or head ask for more time", code="extension_not_yours")
    limit = ctx.settings.extension_max_days
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= limit:
        raise Unprocessable.on_field("days", "days_out_of_range", f"a whole number of days from 1 to {limit}",
                                     f"days must be a whole number from 1 to {limit}", limit=limit)
    reason = reason.strip() if isinstance(reason, str) else ""
    if not reason:
        raise Unprocessable.on_field("reason", "reason_required", "say why more time is needed")
    if len(reason) > MAX_REASON:
        raise Unprocessable.on_field("reason", "too_long", f"at most {MAX_REASON} characters",
                                     f"the reason is longer than {MAX_REASON} characters", limit=MAX_REASON)
    lock_row(s, Case, case.id)  # two requests at once: the second sees the first
    s.refresh(case)
    if case.status not in Case.OPEN_STATUSES:
        raise Conflict(f"case {case.id} is {case.status}; more time is asked for while the unit still has to file",
                       code="extension_not_open", status=case.status)
    if _pending(s, case.id) is not None:
        raise Conflict(f"case {case.id} already has an extension request waiting for the office",
                       code="extension_pending")
    row = ExtensionRequest(case_id=case.id, days=days, reason=reason, state=PENDING, requested_by=p.id,
                           requested_at=ctx.now(), due_before=case.due_at)
    s.add(row)
    s.flush()
    notices.tell(ctx, s, notices.people(s, "office"), "extension_requested", round_id=case.round_id,
                 case_id=case.id, unit_id=case.unit_id, detail=reason)
    audit.record(s, "extension_requested", p, f"case:{case.id}", detail={"request": row.id, "days": days})
    return row


def decide(ctx: Context, s: Session, p: Principal, request_id: int, approve: bool, opinion) -> ExtensionRequest:
    if not access.may_decide_extension(p):
        raise Forbidden("the office decides extension requests", code="forbidden")
    row = s.get(ExtensionRequest, request_id) if -MAX_INT <= request_id <= MAX_INT else None
    if row is None:
        raise NotFound(f"extension request {request_id} does not exist")
    case = get_case(s, p, row.case_id)
    opinion = opinion.strip() if isinstance(opinion, str) else ""
    if not approve and not opinion:
        raise Unprocessable.on_field("opinion", "opinion_required", "a refusal needs an opinion",
                                     "say why the extension is refused: the unit reads it")
    if len(opinion) > MAX_REASON:
        raise Unprocessable.on_field("opinion", "too_long", f"at most {MAX_REASON} characters",
                                     f"the opinion is longer than {MAX_REASON} characters", limit=MAX_REASON)
    lock_row(s, Case, case.id)
    s.refresh(row)
    s.refresh(case)
    if row.state != PENDING:
        raise Conflict(f"extension request {row.id} is already {row.state}", code="extension_decided",
                       state=row.state)
    now = ctx.now()
    row.decided_by, row.decided_at, row.opinion = p.id, now, opinion or None
    if approve:
        if case.status not in Case.OPEN_STATUSES or case.process_instance_id is None:
            raise Conflict(f"case {case.id} is {case.status}; its deadline no longer moves",
                           code="extension_not_open", status=case.status)
        row.state = APPROVED
        case.due_at = case.due_at + timedelta(days=row.days)
        row.due_after = case.due_at
        workflow.change_data(ctx, s, p, case.process_instance_id, {"due_at": ctx.local_iso(case.due_at)})
    else:
        row.state = REFUSED
    s.add(SupervisionAction(round_id=case.round_id, case_id=case.id, target_unit_id=case.unit_id,
                            kind=f"extension_{row.state}", at=now, actor_id=p.id,
                            detail=f"{row.days} 天：{row.reason}" + (f"（{opinion}）" if opinion else "")))
    notices.tell(ctx, s, notices.unit_staff(s, case.unit_id), f"extension_{row.state}", round_id=case.round_id,
                 case_id=case.id, unit_id=case.unit_id, detail=opinion or None)
    audit.record(s, "extension_decided", p, f"case:{case.id}", detail={"request": row.id, "state": row.state})
    return row


def _pending(s: Session, case_id: int) -> ExtensionRequest | None:
    return s.scalar(select(ExtensionRequest).where(ExtensionRequest.case_id == case_id,
                                                   ExtensionRequest.state == PENDING))


def of_case(s: Session, p: Principal, case_id: int) -> list[ExtensionRequest]:
    case = get_case(s, p, case_id)
    return list(s.scalars(select(ExtensionRequest).where(ExtensionRequest.case_id == case.id)
                          .order_by(ExtensionRequest.id)))


def pending(s: Session, p: Principal) -> list[tuple[ExtensionRequest, Case]]:
    """The requests waiting for the office, oldest first."""
    if not access.may_decide_extension(p):
        raise Forbidden("the office decides extension requests", code="forbidden")
    return [(r, c) for r, c in s.execute(
        select(ExtensionRequest, Case).join(Case, Case.id == ExtensionRequest.case_id)
        .where(ExtensionRequest.state == PENDING, access.case_scope(p))
        .order_by(ExtensionRequest.requested_at, ExtensionRequest.id))]


def extension_json(r: ExtensionRequest, ctx: Context) -> dict:
    return {"id": r.id, "case_id": r.case_id, "days": r.days, "reason": r.reason, "state": r.state,
            "requested_by": r.requested_by, "requested_at": ctx.local_iso(r.requested_at),
            "due_before": ctx.local_iso(r.due_before),
            "due_after": ctx.local_iso(r.due_after) if r.due_after else None,
            "decided_by": r.decided_by, "decided_at": ctx.local_iso(r.decided_at) if r.decided_at else None,
            "opinion": r.opinion}


def pending_rows(s: Session, p: Principal) -> list[dict]:
    """The waiting requests as the office's list shows them: unit, round, who asked, for how long."""
    rows = pending(s, p)
    units = unit_names(s, {c.unit_id for _, c in rows})
    rounds = round_names(s, {c.round_id for _, c in rows})
    people = dict(s.execute(select(User.id, User.name).where(User.id.in_({r.requested_by for r, _ in rows}))).all())
    return [{"request": r, "case": c, "unit": units.get(c.unit_id, ""), "round": rounds.get(c.round_id, ""),
             "requested_by": people.get(r.requested_by, "")} for r, c in rows]


def pending_count(s: Session, p: Principal) -> int:
    """How many requests wait for the office (0 for anyone who does not decide them)."""
    if not access.may_decide_extension(p):
        return 0
    return s.scalar(select(func.count()).select_from(ExtensionRequest).join(Case, Case.id == ExtensionRequest.case_id)
                    .where(ExtensionRequest.state == PENDING, access.case_scope(p))) or 0
