"""Leader notifications and evidence review: the office's follow-through."""
from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from . import access, audit, notices
from .auth import Principal
from .cases import get_case
from .context import Context
from .db import lock_row
from .errors import Conflict, Forbidden, NotFound, Unprocessable
from .models import (
    Case,
    CaseComment,
    Evidence,
    EvidenceBlob,
    EvidenceReview,
    LeaderNotification,
    SupervisionAction,
)
from .validation import required_text


def list_notifications(s: Session, p: Principal, round_id: int | None, pending: bool, limit: int, offset: int):
    if not access.may_read_notifications(p):
        raise Forbidden("notifications go to leaders in charge; the office follows them")
    query = select(LeaderNotification).where(access.notification_scope(p))
    if round_id is not None:
        query = query.where(LeaderNotification.round_id == round_id)
    if pending:
        query = query.where(LeaderNotification.acknowledged_at.is_(None))
    total = s.scalar(select(func.count()).select_from(query.subquery()))
    rows = s.scalars(query.order_by(LeaderNotification.id).limit(limit).offset(offset)).all()
    return rows, total


def acknowledge(ctx: Context, s: Session, p: Principal, notification_id: int,
                instruction: str | None = None) -> LeaderNotification:
    """A leader signs for their notice (签收), with an instruction (批示) if they write one, which the
    office and the unit then read on its case page, and are told of."""
    note = s.scalar(select(LeaderNotification).where(LeaderNotification.id == notification_id,
                                                     access.notification_scope(p)))
    if note is None:
        raise NotFound(f"notification {notification_id} does not exist")
    if note.leader_id != p.id:
        raise Forbidden("only the leader it was sent to acknowledges a notification")
    if instruction is not None and len(instruction) > MAX_TEXT:
        raise Unprocessable.on_field("instruction", "too_long", f"at most {MAX_TEXT} characters")
    # One statement that acknowledges only an unacknowledged notice: of two at once, the second
    # waits for the first and then finds it acknowledged, whose time stays.
    claimed = s.execute(update(LeaderNotification).where(
        LeaderNotification.id == note.id, LeaderNotification.acknowledged_at.is_(None))
        .values(acknowledged_at=ctx.now(), instruction=(instruction or "").strip() or None)
        .returning(LeaderNotification.id)).scalar()
    if claimed is None:
        raise Conflict(f"notification {notification_id} was acknowledged already", code="already_acknowledged")
    s.refresh(note)
    audit.record(s, "notification_acknowledged", p, f"notification:{note.id}",
                 detail={"instruction": bool(note.instruction)})
    if note.instruction:
        notices.on_instruction(ctx, s, note)
    return note


def notification_json(n: LeaderNotification, ctx: Context) -> dict:
    return {"id": n.id, "round_id": n.round_id, "leader_id": n.leader_id, "kind": n.kind, "case_id": n.case_id,
            "unit_ids": n.unit_ids, "created_at": ctx.local_iso(n.created_at),
            "acknowledged_at": ctx.local_iso(n.acknowledged_at) if n.acknowledged_at else None,
            "instruction": n.instruction}


def list_evidence(s: Session, p: Principal, case_id: int) -> list[Evidence]:
    case = get_case(s, p, case_id)
    return list(s.scalars(select(Evidence).where(Evidence.case_id == case.id).order_by(Evidence.id)))


def evidence_content(s: Session, p: Principal, evidence_id: int) -> tuple[Evidence, bytes]:
    """An evidence file for whoever may read its case; the download goes on the audit log."""
    evidence = s.get(Evidence, evidence_id)
    if evidence is None:
        raise NotFound(f"evidence {evidence_id} does not exist")
    get_case(s, p, evidence.case_id)  # 404 unless the case is in the caller's scope
    content = s.get_one(EvidenceBlob, evidence.sha256).content
    audit.record(s, "evidence_downloaded", p, f"evidence:{evidence.id}", detail={"case": evidence.case_id})
    return evidence, content


def evidence_case_id(s: Session, p: Principal, evidence_id: int) -> int:
    """The case an evidence file belongs to, for whoever may read that case."""
    evidence = s.get(Evidence, evidence_id)
    if evidence is None:
        raise NotFound(f"evidence {evidence_id} does not exist")
    return get_case(s, p, evidence.case_id).id


def review_evidence(ctx: Context, s: Session, p: Principal, evidence_id: int, result: str, comment: str | None) -> Evidence:
    if not access.may_review_evidence(p):
        p.require(*access.OFFICE)
    evidence = s.get(Evidence, evidence_id)
    if evidence is None:
        raise NotFound(f"evidence {evidence_id} does not exist")
    comment = (comment or "").strip() or None
    if result == "rejected" and comment is None:
        raise Unprocessable.on_field("comment", "opinion_required", "a rejected file needs the reviewer's opinion",
                                     "say why the file is rejected")
    # Take the file, so two reviews at once are both kept, in the order they were made.
    lock_row(s, Evidence, evidence.id)
    s.refresh(evidence)
    if not evidence.reviews and evidence.review is not None:
        # a review made before they were kept one by one: on record first, as it stands
        evidence.reviews.append(EvidenceReview(result=evidence.review, comment=evidence.review_comment,
                                               reviewed_by=evidence.reviewed_by, reviewed_at=evidence.reviewed_at))
    now = ctx.now()
    evidence.reviews.append(EvidenceReview(result=result, comment=comment, reviewed_by=p.id, reviewed_at=now))
    evidence.review, evidence.review_comment = result, comment
    evidence.reviewed_by, evidence.reviewed_at = p.id, now
    s.flush()
    audit.record(s, "evidence_reviewed", p, f"evidence:{evidence.id}", detail={"case": evidence.case_id, "result": result})
    return evidence


# ---------------------------------------------------------------- urging, and the departments' comments
MAX_TEXT = 2000  # an urge's or a comment's words, an instruction


def _comment(field: str, text: str | None) -> str:
    return required_text(field, text, "comment_required", "write a few words", MAX_TEXT)


def urge(ctx: Context, s: Session, p: Principal, case_id: int, comment: str) -> SupervisionAction:
    """催办: the office presses a unit whose case is still its to do; its liaison and head are told,
    and the urge goes on the case's supervision record and the audit log."""
    if not access.may_urge(p):
        raise Forbidden("the inspection office urges units", code="role_required", roles=list(access.URGERS))
    comment = _comment("comment", comment)
    case = get_case(s, p, case_id)
    if case.status not in Case.OPEN_STATUSES:
        raise Unprocessable(f"case {case_id} is {case.status}; only a case still the unit's to do is urged",
                            code="case_not_open", status=case.status)
    action = SupervisionAction(round_id=case.round_id, case_id=case.id, target_unit_id=case.unit_id, kind="urge",
                               at=ctx.now(), actor_id=p.id, detail=comment)
    s.add(action)
    s.flush()
    notices.tell(ctx, s, notices.unit_staff(s, case.unit_id), "urge", round_id=case.round_id, case_id=case.id,
                 unit_id=case.unit_id, detail=comment)
    audit.record(s, "case_urged", p, f"case:{case.id}")
    return action


def case_history(s: Session, p: Principal, case_id: int) -> list[SupervisionAction]:
    """The supervision record of a case (warnings, urges, tracking, talks, re-checks), oldest first."""
    case = get_case(s, p, case_id)
    return list(s.scalars(select(SupervisionAction).where(SupervisionAction.case_id == case.id)
                          .order_by(SupervisionAction.at, SupervisionAction.id)))


def action_json(a: SupervisionAction, ctx: Context) -> dict:
    return {"id": a.id, "case_id": a.case_id, "kind": a.kind, "at": ctx.local_iso(a.at), "actor_id": a.actor_id,
            "detail": a.detail, "outcome": a.outcome, "due_at": ctx.local_iso(a.due_at) if a.due_at else None,
            "data": a.data}


def governed_cases(s: Session, p: Principal, limit: int, offset: int) -> tuple[list[Case], int]:
    """The cases a functional department reads because it governs their common problems."""
    if not access.may_list_governed_cases(p):
        raise Forbidden("functional departments read the cases of the common problems they govern",
                        code="role_required", roles=list(access.COMMENTERS))
    query = select(Case).where(access.governed_case_scope(p))
    total = s.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = s.scalars(query.order_by(Case.round_id.desc(), Case.unit_id).limit(limit).offset(offset)).all()
    return list(rows), total


def add_comment(ctx: Context, s: Session, p: Principal, case_id: int, text: str) -> CaseComment:
    """A functional department's comment (意见) on a case whose common problems it governs; the
    unit's liaison and head are told, and read it on their case page."""
    if not access.may_list_governed_cases(p):
        raise Forbidden("functional departments comment on the cases they govern",
                        code="role_required", roles=list(access.COMMENTERS))
    case = get_case(s, p, case_id)
    governed = s.scalar(select(Case.id).where(Case.id == case.id, access.governed_case_scope(p)))
    if governed is None:
        raise Forbidden("the department does not govern this case's common problems", code="case_not_governed")
    text = _comment("comment", text)
    comment = CaseComment(case_id=case.id, department_id=p.unit_id, author_id=p.id, text=text, created_at=ctx.now())
    s.add(comment)
    s.flush()
    notices.tell(ctx, s, notices.unit_staff(s, case.unit_id), "comment", round_id=case.round_id, case_id=case.id,
                 unit_id=case.unit_id, detail=text)
    audit.record(s, "case_commented", p, f"case:{case.id}")
    return comment


def list_comments(s: Session, p: Principal, case_id: int) -> list[CaseComment]:
    case = get_case(s, p, case_id)
    return list(s.scalars(select(CaseComment).where(CaseComment.case_id == case.id).order_by(CaseComment.id)))


def comment_json(c: CaseComment, ctx: Context) -> dict:
    return {"id": c.id, "case_id": c.case_id, "department_id": c.department_id, "author_id": c.author_id,
            "text": c.text, "created_at": ctx.local_iso(c.created_at)}


def leader_notices(s: Session, p: Principal, limit: int, offset: int) -> tuple[list[LeaderNotification], int]:
    """The notices of a leader's page: those still to sign for first, then the newest."""
    if not access.may_read_notifications(p):
        raise Forbidden("notifications go to leaders in charge; the office follows them")
    query = select(LeaderNotification).where(access.notification_scope(p))
    total = s.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = s.scalars(query.order_by(LeaderNotification.acknowledged_at.is_not(None), LeaderNotification.id.desc())
                     .limit(limit).offset(offset)).all()
    return list(rows), total
