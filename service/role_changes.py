"""Changes of an account's roles under the two-person rule, and lifting a login lockout.

A change is proposed by the system administrator or the security administrator and takes effect
only when an administrator of the other duty approves it; who may do which is decided in
`access` (`role_change_proposal_refusal`, `role_change_decision_refusal`, `roles_refusal`). Every
step goes on the audit log in the transaction that makes it.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from . import access, audit, organisation
from .auth import Principal, throttle_key
from .db import lock_row
from .errors import Conflict, Forbidden, NotFound, Unprocessable
from .models import ROLES, LoginThrottle, RoleChange, User
from .validation import required_text

PENDING, APPROVED, REJECTED = "pending", "approved", "rejected"
STATES = (PENDING, APPROVED, REJECTED)
MAX_TEXT = 500


def _refuse(code: str | None, message: str) -> None:
    if code == "role_required":
        raise Forbidden(message, code=code, roles=list(access.ROLE_KEEPERS))
    if code is not None:
        raise Forbidden(message, code=code)


def _user(s: Session, user_id: int) -> User:
    user = s.get(User, user_id)
    if user is None:
        raise NotFound(f"user {user_id} does not exist")
    return user


def _text(field: str, value: str | None, required_code: str) -> str:
    return required_text(field, value, required_code, "give a reason", MAX_TEXT)


def propose(s: Session, p: Principal, user_id: int, roles: list[str], reason: str | None,
            now: datetime) -> RoleChange:
    _refuse(access.role_change_proposal_refusal(p, user_id), "nobody changes their own roles, and only "
            "the system or security administrator proposes a change")
    user = _user(s, user_id)
    wanted = sorted(set(roles))
    unknown = [r for r in wanted if r not in ROLES]
    if unknown:
        raise Unprocessable.on_field("roles", "unknown_role", f"unknown roles: {', '.join(unknown)}")
    if access.roles_refusal(wanted) is not None:
        raise Unprocessable.on_field("roles", "roles_exclusive", "an administrator role is held alone: "
                                     f"{', '.join(access.ADMIN_DUTIES)} exclude each other and every other role")
    if wanted == sorted(user.roles):
        raise Unprocessable.on_field("roles", "roles_unchanged", "these are the account's roles already")
    text = _text("reason", reason, "reason_required")
    lock_row(s, User, user.id)  # one pending change per account, however many propose at once
    if s.scalar(select(func.count()).select_from(RoleChange)
                .where(RoleChange.user_id == user.id, RoleChange.state == PENDING)):
        raise Conflict("a change of this account's roles is waiting for approval already",
                       code="role_change_pending")
    duty = "admin" if p.has("admin") else "security_admin"
    change = RoleChange(user_id=user.id, roles_before=sorted(user.roles), roles_after=wanted, reason=text,
                        state=PENDING, proposed_by=p.id, proposer_duty=duty, proposed_at=now)
    s.add(change)
    s.flush()
    audit.record(s, "role_change_proposed", p, f"user:{user.username}",
                 detail={"change": change.id, "before": change.roles_before, "after": wanted})
    return change


def decide(s: Session, p: Principal, change_id: int, approve: bool, comment: str | None,
           now: datetime) -> RoleChange:
    change = s.get(RoleChange, change_id)
    if change is None:
        raise NotFound(f"role change {change_id} does not exist")
    _refuse(access.role_change_decision_refusal(p, change), "the change needs an administrator of the "
            "other duty, who is neither its proposer nor the account it changes")
    lock_row(s, RoleChange, change.id)
    s.refresh(change)
    if change.state != PENDING:
        raise Conflict(f"this change was {change.state} already", code="role_change_decided")
    text = _text("comment", comment, "opinion_required") if not approve else (comment or "").strip() or None
    if text is not None and len(text) > MAX_TEXT:
        raise Unprocessable.on_field("comment", "too_long", f"at most {MAX_TEXT} characters", limit=MAX_TEXT)
    user = _user(s, change.user_id)
    lock_row(s, User, user.id)
    s.refresh(user)
    if approve and sorted(user.roles) != change.roles_before:
        raise Conflict("the account's roles changed since this was proposed; propose again",
                       code="concurrent_change")
    change.state, change.decided_by, change.decided_at, change.comment = \
        (APPROVED if approve else REJECTED), p.id, now, text
    if approve:
        user.roles = list(change.roles_after)
    s.flush()
    audit.record(s, "role_change_approved" if approve else "role_change_rejected", p, f"user:{user.username}",
                 detail={"change": change.id, "before": change.roles_before, "after": change.roles_after})
    return change


def list_changes(s: Session, p: Principal, state: str | None, limit: int, offset: int):
    p.require(*access.ROLE_KEEPERS)
    if state is not None and state not in STATES:
        raise Unprocessable.on_field("state", "invalid_query", f"one of {', '.join(STATES)}")
    query = select(RoleChange)
    if state:
        query = query.where(RoleChange.state == state)
    total = s.scalar(select(func.count()).select_from(query.subquery()))
    rows = s.scalars(query.order_by(RoleChange.state != PENDING, RoleChange.id.desc())
                     .limit(limit).offset(offset)).all()
    return rows, total


def usernames(s: Session, changes) -> dict[int, str]:
    ids = {i for c in changes for i in (c.user_id, c.proposed_by, c.decided_by) if i is not None}
    return {uid: name for uid, name in s.execute(select(User.id, User.username).where(User.id.in_(ids)))} if ids else {}


def change_json(change: RoleChange, names: dict[int, str]) -> dict:
    return {"id": change.id, "user_id": change.user_id, "username": names.get(change.user_id),
            "roles_before": change.roles_before, "roles_after": change.roles_after, "reason": change.reason,
            "state": change.state, "proposed_by": names.get(change.proposed_by),
            "proposer_duty": change.proposer_duty, "proposed_at": change.proposed_at.isoformat(),
            "decided_by": names.get(change.decided_by) if change.decided_by else None,
            "decided_at": change.decided_at.isoformat() if change.decided_at else None,
            "comment": change.comment}


def unlock(s: Session, p: Principal, user_id: int) -> None:
    """Lift an account's login lockout and forget its failed guesses (the security administrator's)."""
    p.require(*access.LOCK_KEEPERS)
    user = _user(s, user_id)
    s.execute(delete(LoginThrottle).where(LoginThrottle.name_sha256 == throttle_key(user.username)))
    audit.record(s, "account_unlocked", p, f"user:{user.username}")


def locked_ids(s: Session, users, now: datetime) -> set[int]:
    """Which of these accounts are locked out now."""
    keys = {throttle_key(u.username): u.id for u in users}
    if not keys:
        return set()
    rows = s.scalars(select(LoginThrottle.name_sha256).where(
        LoginThrottle.name_sha256.in_(list(keys)), LoginThrottle.locked_until > now)).all()
    return {keys[k] for k in rows}


# ---------------------------------------------------------------- what the pages show
@dataclass(frozen=True)
class Account:
    user: User
    unit: str
    locked: bool
    pending: bool        # a change of its roles waits for approval
    may_propose: bool    # the viewer may propose a change of its roles
    may_unlock: bool
    may_edit: bool = False   # the viewer may change its name, unit and state (access.account_edit_refusal)
    may_reset: bool = False  # the viewer may reset its password (access.password_reset_refusal)


def accounts(s: Session, p: Principal, text: str, role: str | None, limit: int, offset: int,
             now: datetime) -> tuple[list[Account], int]:
    """Accounts by username or name (`text`) and role, for the administrators' account page."""
    p.require(*access.ROLE_KEEPERS)
    query = organisation.user_query(s, role=role, text=text)
    total = s.scalar(select(func.count()).select_from(query.subquery())) or 0
    users = s.scalars(query.order_by(User.username).limit(limit).offset(offset)).all()
    units = organisation.unit_names(s, {u.unit_id for u in users})
    pending = set(s.scalars(select(RoleChange.user_id).where(
        RoleChange.state == PENDING, RoleChange.user_id.in_([u.id for u in users]))))
    locked = locked_ids(s, users, now)
    return [Account(u, units.get(u.unit_id, ""), u.id in locked, u.id in pending,
                    access.role_change_proposal_refusal(p, u.id) is None,
                    p.has(*access.LOCK_KEEPERS) and u.id in locked,
                    access.account_edit_refusal(p, u.id, list(u.roles or []), False) is None,
                    access.password_reset_refusal(p, u.id, list(u.roles or [])) is None) for u in users], total


def proposal_subject(s: Session, p: Principal, user_id: int) -> User:
    """The account whose roles the viewer is about to change; refused as `propose` would refuse it."""
    _refuse(access.role_change_proposal_refusal(p, user_id), "nobody changes their own roles, and only "
            "the system or security administrator proposes a change")
    return _user(s, user_id)


@dataclass(frozen=True)
class ChangeRow:
    change: RoleChange
    username: str
    proposed_by: str
    decided_by: str
    refusal: str | None  # why the viewer may not decide it (None: they may)


def change_rows(s: Session, p: Principal, limit: int, offset: int) -> tuple[list[ChangeRow], int]:
    rows, total = list_changes(s, p, None, limit, offset)
    names = usernames(s, rows)
    return [ChangeRow(c, names.get(c.user_id, ""), names.get(c.proposed_by, ""),
                      names.get(c.decided_by, "") if c.decided_by else "",
                      access.role_change_decision_refusal(p, c) if c.state == PENDING else "role_change_decided")
            for c in rows], total
