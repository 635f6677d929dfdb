"""Units and users of the district."""
from __future__ import annotations

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from . import access
from .auth import Principal
from .errors import Unprocessable
from .models import ROLES, Round, Unit, User


def unit_json(u: Unit) -> dict:
    return {"id": u.id, "code": u.code, "name": u.name, "kind": u.kind, "parent_id": u.parent_id,
            "industry": u.industry, "department_id": u.department_id, "leader_id": u.leader_id, "active": u.active}


def user_json(u: User) -> dict:
    return {"id": u.id, "username": u.username, "name": u.name, "roles": u.roles, "unit_id": u.unit_id,
            "active": u.active}


def round_names(s: Session, round_ids) -> dict[int | None, str]:
    """The names of these rounds (None ids are skipped), in one query."""
    ids = {r for r in round_ids if r is not None}
    return dict(s.execute(select(Round.id, Round.name).where(Round.id.in_(ids))).all()) if ids else {}


def unit_names(s: Session, unit_ids) -> dict[int | None, str]:
    """The names of these units (None ids are skipped), in one query."""
    ids = [u for u in unit_ids if u is not None]
    if not ids:
        return {}
    return dict(s.execute(select(Unit.id, Unit.name).where(Unit.id.in_(ids))).all())


def unit_name(s: Session, unit_id: int | None) -> str:
    if unit_id is None:
        return ""
    return s.scalar(select(Unit.name).where(Unit.id == unit_id)) or ""


def list_units(s: Session, kind: str | None, limit: int, offset: int):
    query = select(Unit)
    if kind:
        query = query.where(Unit.kind == kind)
    total = s.scalar(select(func.count()).select_from(query.subquery()))
    return s.scalars(query.order_by(Unit.id).limit(limit).offset(offset)).all(), total


def list_users(s: Session, p: Principal, role: str | None, unit_id: int | None, limit: int, offset: int):
    p.require(*access.ACCOUNT_READERS)
    if role is not None and role not in ROLES:
        raise Unprocessable.on_field("role", "unknown_role", f"one of {', '.join(ROLES)}", "unknown role")
    query = user_query(s, role=role, unit_id=unit_id)
    total = s.scalar(select(func.count()).select_from(query.subquery()))
    return s.scalars(query.order_by(User.id).limit(limit).offset(offset)).all(), total


def user_query(s: Session, *, role: str | None = None, unit_id: int | None = None, text: str = ""):
    """Accounts holding `role`, of `unit_id`, whose username or name holds `text` (each if given)."""
    query = select(User)
    if unit_id is not None:
        query = query.where(User.unit_id == unit_id)
    if text:
        like = f"%{text}%"
        query = query.where(or_(User.username.ilike(like), User.name.ilike(like)))
    if role:
        # roles is a JSON list; filtering in Python keeps the query portable across databases
        ids = [u.id for u in s.scalars(select(User).order_by(User.id)) if role in u.roles]
        query = query.where(User.id.in_(ids))
    return query
