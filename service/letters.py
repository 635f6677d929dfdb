"""Recommendation letters (巡察建议书): a responsible department's special governance of the
common problems it governs, from the letter through its plan and report to the office's evaluation."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows.engine import StepEvent

from . import access, documents, notices, workflow
from .auth import Principal
from .context import Context
from .errors import Forbidden
from .models import BusinessKey, CommonProblem, KeyKind, RecommendationLetter, SupervisionAction
from .organisation import unit_names


def send(ctx: Context, s: Session, p: Principal | None, round_id: int, department_id: int,
         governed: list[CommonProblem], report_due: datetime) -> RecommendationLetter:
    """The letter to a department about the common problems it leads or shares (协同), each marked so:
    a co-responsible department governs its own industry's part of the problem beside the lead."""
    now = ctx.now()
    letter = RecommendationLetter(round_id=round_id, department_id=department_id,
                                  common_problem_ids=[c.id for c in governed], created_at=now)
    s.add(letter)
    s.flush()
    instance = workflow.start(
        ctx, s, p, "recommendation_letter",
        {"letter_id": letter.id, "department_id": department_id,
         "common_problems": [{"id": c.id, "title": c.title, "role": role(c, department_id)} for c in governed],
         "plan_due_at": ctx.local_iso(now + timedelta(days=ctx.settings.plan_days)),
         "report_due_at": ctx.local_iso(report_due)},
        BusinessKey(KeyKind.LETTER, letter.id), unit_id=department_id)
    letter.process_instance_id = instance.id
    action = SupervisionAction(round_id=round_id, target_unit_id=department_id, kind="recommendation_letter",
                               at=now, actor_id=p.id if p else None,
                               detail="巡察建议书：" + "；".join(
                                   c.title + ("（协同）" if role(c, department_id) == "co" else "") for c in governed))
    s.add(action)
    s.flush()
    documents.issue_recommendation_letter(ctx, s, p, letter, action)
    return letter


def role(common: CommonProblem, department_id: int) -> str:
    """`lead` for the responsible department (牵头), `co` for a co-responsible one (协同)."""
    return "lead" if common.responsible_department_id == department_id else "co"


def list_letters(s: Session, p: Principal, round_id: int | None) -> list[RecommendationLetter]:
    if not access.may_read_letters(p):
        raise Forbidden("recommendation letters are for the office and the departments they are sent to")
    query = select(RecommendationLetter).where(access.letter_scope(p))
    if round_id is not None:
        query = query.where(RecommendationLetter.round_id == round_id)
    return list(s.scalars(query.order_by(RecommendationLetter.id)))


def letter_summary(s: Session, letter_id: int) -> dict | None:
    """The department a letter goes to and the titles of the common problems it governs, those it
    shares with a lead department (协同) apart."""
    letter = s.get(RecommendationLetter, letter_id)
    if letter is None:
        return None
    commons = s.scalars(select(CommonProblem).where(CommonProblem.id.in_(letter.common_problem_ids))
                        .order_by(CommonProblem.id)).all()
    names = unit_names(s, {letter.department_id} | {c.responsible_department_id for c in commons})
    leads = [c.title for c in commons if role(c, letter.department_id) == "lead"]
    shared = [(c.title, names.get(c.responsible_department_id, "")) for c in commons
              if role(c, letter.department_id) == "co"]
    return {"department": names.get(letter.department_id, ""), "common_problems": leads, "shared": shared,
            "documents": letter.documents}


def shared_ids(s: Session, letters: list[RecommendationLetter]) -> dict[int, list[int]]:
    """Per letter, its common problems the department shares (协同) rather than leads: one query for all."""
    leads = dict(s.execute(select(CommonProblem.id, CommonProblem.responsible_department_id).where(
        CommonProblem.id.in_({cid for letter in letters for cid in letter.common_problem_ids}))).all())
    return {letter.id: sorted(cid for cid in letter.common_problem_ids
                              if cid in leads and leads[cid] != letter.department_id) for letter in letters}


def letter_json(letter: RecommendationLetter, ctx: Context, shared: list[int]) -> dict:
    return {"id": letter.id, "round_id": letter.round_id, "department_id": letter.department_id,
            "common_problem_ids": letter.common_problem_ids, "status": letter.status,
            "co_common_problem_ids": shared,
            "process_instance_id": letter.process_instance_id, "created_at": ctx.local_iso(letter.created_at),
            "documents": [{"id": d.id, "kind": d.kind, "number": d.number, "sha256": d.sha256}
                          for d in letter.documents]}


def _step(status: str, kind: str, detail):
    def handle(ctx: Context, s: Session, p: Principal | None, letter_id: int, event: StepEvent) -> None:
        letter = s.get_one(RecommendationLetter, letter_id)
        if status != "accepted" or event.data.get("accepted"):
            letter.status = status
        s.add(SupervisionAction(round_id=letter.round_id, target_unit_id=letter.department_id, kind=kind,
                                at=ctx.now(), actor_id=p.id if p else None, detail=detail(event.data)))
    return handle


on_planned = _step("planned", "governance_plan", lambda d: f"专项治理方案：{d.get('plan', '')}")
on_reported = _step("reported", "governance_report",
                    lambda d: f"专项治理情况：{d.get('report', '')}（措施 {d.get('measures', 0)} 项，"
                              f"制度 {d.get('institutions', 0)} 项）")
_evaluated = _step("accepted", "governance_evaluated",
                   lambda d: ("评估通过" if d.get("accepted") else "评估未通过，退回")
                   + (f"：{d['comment']}" if d.get("comment") else ""))


def on_evaluated(ctx: Context, s: Session, p: Principal | None, letter_id: int, event: StepEvent) -> None:
    """The office's evaluation; a report sent back tells the department why."""
    _evaluated(ctx, s, p, letter_id, event)
    if not event.data.get("accepted"):
        letter = s.get_one(RecommendationLetter, letter_id)
        notices.tell(ctx, s, notices.people(s, "department", letter.department_id), "returned",
                     round_id=letter.round_id, unit_id=letter.department_id, detail=event.data.get("comment"))
