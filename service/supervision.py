"""Leader notifications and evidence review: the office's follow-through."""
from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from . import access, audit
from .auth import Principal
from .cases import get_case
from .context import Context
from .db import lock_row
from .errors import Conflict, Forbidden, NotFound, Unprocessable
from .models import Evidence, EvidenceBlob, EvidenceReview, LeaderNotification


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


def acknowledge(ctx: Context, s: Session, p: Principal, notification_id: int) -> LeaderNotification:
    note = s.scalar(select(LeaderNotification).where(LeaderNotification.id == notification_id,
                                                     access.notification_scope(p)))
    if note is None:
        raise NotFound(f"notification {notification_id} does not exist")
    if note.leader_id != p.id:
        raise Forbidden("only the leader it was sent to acknowledges a notification")
    # One statement that acknowledges only an unacknowledged notice: of two at once, the second
    # waits for the first and then finds it acknowledged, whose time stays.
    claimed = s.execute(update(LeaderNotification).where(
        LeaderNotification.id == note.id, LeaderNotification.acknowledged_at.is_(None))
        .values(acknowledged_at=ctx.now()).returning(LeaderNotification.id)).scalar()
    if claimed is None:
        raise Conflict(f"notification {notification_id} was acknowledged already", code="already_acknowledged")
    s.refresh(note)
    audit.record(s, "notification_acknowledged", p, f"notification:{note.id}")
    return note


def notification_json(n: LeaderNotification, ctx: Context) -> dict:
    return {"id": n.id, "round_id": n.round_id, "leader_id": n.leader_id, "kind": n.kind, "case_id": n.case_id,
            "unit_ids": n.unit_ids, "created_at": ctx.local_iso(n.created_at),
            "acknowledged_at": ctx.local_iso(n.acknowledged_at) if n.acknowledged_at else None}


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
