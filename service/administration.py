"""The system administrator's work on the organisation: units and accounts created, edited and
disabled (never deleted: cases, tasks and the audit log refer to them), and passwords reset to a
temporary one that must be changed at the next login.

Who may do what is decided in `access` (`ADMINISTRATORS`, `initial_roles_refusal`,
`account_edit_refusal`, `password_reset_refusal`); a change of an existing account's roles goes
through `role_changes` (the two-person rule), never through here. Every change goes on the audit log.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session

from . import access, audit, auth
from .auth import Principal
from .errors import Conflict, Forbidden, NotFound, Unprocessable
from .models import ROLES, UNIT_KINDS, ApiToken, Unit, User
from .organisation import unit_names

USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$")
UNIT_FIELDS = ("code", "name", "kind", "parent_id", "industry", "leader_id", "department_id", "active")
USER_FIELDS = ("username", "name", "unit_id", "roles", "active")


def _refuse(code: str | None) -> None:
    if code == "role_required":
        raise Forbidden("this needs the system administrator", code=code, roles=list(access.ADMINISTRATORS))
    if code is not None:
        raise Forbidden(f"refused: {code}", code=code)


# ---------------------------------------------------------------- units
def _unit(s: Session, unit_id: int) -> Unit:
    unit = s.get(Unit, unit_id) if 0 < unit_id else None
    if unit is None:
        raise NotFound(f"unit {unit_id} does not exist")
    return unit


def unit_problems(s: Session, data: dict, unit_id: int | None) -> list[tuple[str, str]]:
    """What is wrong with a unit's values as (field, code) pairs, checked against the database
    (`unit_id` None: a new unit); shared by the form and the API."""
    problems: list[tuple[str, str]] = []
    for name, limit in (("code", 40), ("name", 200), ("industry", 100)):
        value = data.get(name)
        if name != "industry" and (unit_id is None or name in data) and not (value or "").strip():
            problems.append((name, "value_required"))
        elif value and len(value) > limit:
            problems.append((name, "too_long"))
    if unit_id is None and not data.get("kind"):
        problems.append(("kind", "value_required"))
    if data.get("kind") and data["kind"] not in UNIT_KINDS:
        problems.append(("kind", "unknown_unit_kind"))
    parent_id = data.get("parent_id")
    if parent_id is not None:
        if s.get(Unit, parent_id) is None:
            problems.append(("parent_id", "unknown_unit"))
        elif unit_id is not None and _above(s, parent_id, unit_id):
            problems.append(("parent_id", "unit_cycle"))
    department_id = data.get("department_id")
    if department_id is not None:
        department = s.get(Unit, department_id)
        if department is None:
            problems.append(("department_id", "unknown_unit"))
        elif department.kind != "department":
            problems.append(("department_id", "not_a_department"))
    leader_id = data.get("leader_id")
    if leader_id is not None:
        leader = s.get(User, leader_id)
        if leader is None or "leader" not in (leader.roles or []) or not leader.active:
            problems.append(("leader_id", "not_a_leader"))
    return problems


def _above(s: Session, start_id: int, unit_id: int) -> bool:
    """Whether `unit_id` is `start_id` or above it: making it `start_id`'s child would make a loop."""
    seen: set[int] = set()
    current: int | None = start_id
    while current is not None and current not in seen:
        if current == unit_id:
            return True
        seen.add(current)
        current = s.scalar(select(Unit.parent_id).where(Unit.id == current))
    return False


def _raise_problems(problems: list[tuple[str, str]]) -> None:
    if problems:
        errors = [{"field": f, "code": c, "message": c.replace("_", " ")} for f, c in problems]
        raise Unprocessable(f"{problems[0][0]}: {problems[0][1]}", errors, code=problems[0][1])


def _code_taken(s: Session, code: str, unit_id: int | None) -> None:
    other = s.scalar(select(Unit.id).where(Unit.code == code))
    if other is not None and other != unit_id:
        raise Conflict(f"a unit with code {code!r} exists already", [{"field": "code", "code": "duplicate_code",
                                                                       "message": "the code is taken"}],
                       code="duplicate_code")


def create_unit(s: Session, p: Principal, data: dict) -> Unit:
    p.require(*access.ADMINISTRATORS)
    _raise_problems(unit_problems(s, data, None))
    _code_taken(s, data["code"], None)
    unit = Unit(code=data["code"].strip(), name=data["name"].strip(), kind=data["kind"], parent_id=data.get("parent_id"),
                industry=data.get("industry") or None, department_id=data.get("department_id"),
                leader_id=data.get("leader_id"), active=data.get("active", True) is not False)
    s.add(unit)
    s.flush()
    audit.record(s, "unit_created", p, f"unit:{unit.code}", detail={"id": unit.id, "kind": unit.kind})
    return unit


def update_unit(s: Session, p: Principal, unit_id: int, data: dict) -> Unit:
    """Change the given fields of a unit; `active: false` disables it (it stays, with its cases)."""
    p.require(*access.ADMINISTRATORS)
    unit = _unit(s, unit_id)
    _raise_problems(unit_problems(s, data, unit.id))
    if "code" in data:
        _code_taken(s, data["code"], unit.id)
    changed = {}
    for field in UNIT_FIELDS:
        if field in data:
            value = data[field]
            if field == "industry":
                value = value or None
            if getattr(unit, field) != value:
                changed[field] = value
                setattr(unit, field, value)
    if changed:
        s.flush()
        audit.record(s, "unit_updated", p, f"unit:{unit.code}", detail={"id": unit.id, "changed": sorted(changed)})
    return unit


@dataclass(frozen=True)
class UnitRow:
    unit: Unit
    parent: str
    department: str
    leader: str


def unit_rows(s: Session, p: Principal, *, text: str = "", kind: str | None = None, active: bool | None = None,
              limit: int = 50, offset: int = 0) -> tuple[list[UnitRow], int]:
    """Units by code or name, kind and state, for the administrator's unit list."""
    p.require(*access.ADMINISTRATORS)
    query = select(Unit)
    if text:
        like = f"%{text}%"
        query = query.where(or_(Unit.code.ilike(like), Unit.name.ilike(like)))
    if kind:
        query = query.where(Unit.kind == kind)
    if active is not None:
        query = query.where(Unit.active.is_(active))
    total = s.scalar(select(func.count()).select_from(query.subquery())) or 0
    units = s.scalars(query.order_by(Unit.code).limit(limit).offset(offset)).all()
    names = unit_names(s, {u.parent_id for u in units} | {u.department_id for u in units})
    leaders: dict[int | None, str] = dict(s.execute(select(User.id, User.name).where(
        User.id.in_([u.leader_id for u in units if u.leader_id is not None]))).all())
    return [UnitRow(u, names.get(u.parent_id, ""), names.get(u.department_id, ""), leaders.get(u.leader_id, ""))
            for u in units], total




@dataclass(frozen=True)
class UnitChoices:
    """What a unit or account form offers: every unit, the departments, the leaders in charge."""
    units: list[tuple[int, str]]
    departments: list[tuple[int, str]]
    leaders: list[tuple[int, str]]


def choices(s: Session, p: Principal) -> UnitChoices:
    p.require(*access.ADMINISTRATORS)
    units = s.execute(select(Unit.id, Unit.name, Unit.code, Unit.kind).order_by(Unit.code)).all()
    leaders = [(u.id, f"{u.name}（{u.username}）") for u in s.scalars(select(User).where(User.active.is_(True))
                                                                     .order_by(User.username))
               if "leader" in (u.roles or [])]
    return UnitChoices([(u.id, f"{u.name}（{u.code}）") for u in units],
                       [(u.id, f"{u.name}（{u.code}）") for u in units if u.kind == "department"], leaders)


def unit_for_edit(s: Session, p: Principal, unit_id: int) -> Unit:
    p.require(*access.ADMINISTRATORS)
    return _unit(s, unit_id)


# ---------------------------------------------------------------- accounts
def _user(s: Session, user_id: int) -> User:
    user = s.get(User, user_id) if 0 < user_id else None
    if user is None:
        raise NotFound(f"user {user_id} does not exist")
    return user


def user_problems(s: Session, data: dict, *, new: bool) -> list[tuple[str, str]]:
    """What is wrong with an account's values as (field, code) pairs (the import checks its own units)."""
    problems: list[tuple[str, str]] = []
    if new and not data.get("username"):
        problems.append(("username", "value_required"))
    elif new and not USERNAME.match(data["username"]):
        problems.append(("username", "invalid_username"))
    if (new or "name" in data) and not (data.get("name") or "").strip():
        problems.append(("name", "value_required"))
    elif len(data.get("name") or "") > 100:
        problems.append(("name", "too_long"))
    unit_id = data.get("unit_id")
    if unit_id is not None and s.get(Unit, unit_id) is None:
        problems.append(("unit_id", "unknown_unit"))
    if new:
        roles = data.get("roles") or []
        if [r for r in roles if r not in ROLES]:
            problems.append(("roles", "unknown_role"))
        else:
            refusal = access.initial_roles_refusal(roles)
            if refusal:
                problems.append(("roles", refusal))
    return problems


def _username_taken(s: Session, username: str) -> None:
    if s.scalar(select(User.id).where(func.lower(User.username) == username.lower())) is not None:
        raise Conflict(f"an account named {username!r} exists already",
                       [{"field": "username", "code": "duplicate_username", "message": "the username is taken"}],
                       code="duplicate_username")


def create_user(s: Session, p: Principal, data: dict) -> tuple[User, str]:
    """A new account with the roles of the work (never an administrator duty: see
    access.initial_roles_refusal) and a temporary password, returned once, that its holder must
    change at the first login."""
    p.require(*access.ADMINISTRATORS)
    _raise_problems(user_problems(s, data, new=True))
    _username_taken(s, data["username"])
    password = auth.temporary_password()
    user = User(username=data["username"], name=data["name"].strip(), unit_id=data.get("unit_id"),
                roles=sorted(set(data.get("roles") or [])), active=data.get("active", True) is not False,
                password_hash=auth.hash_password(password), must_change_password=True)
    s.add(user)
    s.flush()
    audit.record(s, "user_created", p, f"user:{user.username}", detail={"id": user.id, "roles": user.roles})
    return user, password


def update_user(s: Session, p: Principal, user_id: int, data: dict) -> User:
    """Change an account's name, unit or state; its roles change only through a role change."""
    user = _user(s, user_id)
    deactivate = data.get("active") is False and user.active
    _refuse(access.account_edit_refusal(p, user.id, list(user.roles or []), deactivate))
    if "roles" in data and sorted(set(data["roles"] or [])) != sorted(user.roles or []):
        raise Unprocessable.on_field("roles", "role_change_required",
                                     "propose a role change (POST /users/{id}/role-changes)")
    _raise_problems(user_problems(s, data, new=False))
    changed = []
    for field in ("name", "unit_id", "active"):
        if field in data:
            value = data[field].strip() if field == "name" else data[field]
            if getattr(user, field) != value:
                setattr(user, field, value)
                changed.append(field)
    if deactivate:
        s.execute(delete(ApiToken).where(ApiToken.user_id == user.id))  # a disabled account's tokens end
    if changed:
        s.flush()
        audit.record(s, "user_updated", p, f"user:{user.username}", detail={"id": user.id, "changed": changed})
    return user


def reset_password(s: Session, p: Principal, user_id: int) -> str:
    """A new temporary password for the account, returned once: its page sessions and tokens end,
    and it must be changed at the next login."""
    user = _user(s, user_id)
    _refuse(access.password_reset_refusal(p, user.id, list(user.roles or [])))
    password = auth.temporary_password()
    user.password_hash = auth.hash_password(password)
    user.must_change_password = True
    s.execute(delete(ApiToken).where(ApiToken.user_id == user.id))
    s.flush()
    auth.end_page_sessions(s, user.id)
    audit.record(s, "password_reset", p, f"user:{user.username}", detail={"id": user.id})
    return password


def user_for_edit(s: Session, p: Principal, user_id: int) -> User:
    p.require(*access.ADMINISTRATORS)
    return _user(s, user_id)


def create_first_admin(s: Session, username: str, name: str, password: str, duty: str = "admin") -> User:
    """An administrator of one duty (`access.ADMIN_DUTIES`), made on the command line (`rectiflow
    create-admin`, by whoever runs the server): the system administrator a clean install needs
    first, and the security and audit administrators, who cannot be made on the pages (an
    administrator duty is granted there only by a change that the other duty approves). Its
    password is the one given, held to the policy."""
    if duty not in access.ADMIN_DUTIES:
        raise Unprocessable.on_field("duty", "unknown_role", f"one of {', '.join(access.ADMIN_DUTIES)}")
    if not USERNAME.match(username):
        raise Unprocessable.on_field("username", "invalid_username", "letters, digits, dots, hyphens, underscores")
    auth.check_password_policy(password, "password")
    _username_taken(s, username)
    user = User(username=username, name=name or username, roles=[duty], active=True,
                password_hash=auth.hash_password(password), must_change_password=False)
    s.add(user)
    s.flush()
    audit.record(s, "admin_created", None, f"user:{username}", detail={"id": user.id, "via": "cli", "roles": [duty]})
    return user
