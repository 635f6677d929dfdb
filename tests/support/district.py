"""A small district built straight into the database (fast), for the API, page and browser tests."""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select

from service.models import Unit, User

PASSWORD = "test-password"


@dataclass
class District:
    office: int = 0
    departments: list[int] = field(default_factory=list)
    units: list[int] = field(default_factory=list)  # every rectifying unit, departments included
    leaders: list[int] = field(default_factory=list)
    inspectors: list[int] = field(default_factory=list)
    codes: dict[int, str] = field(default_factory=dict)


def build_district(ctx, password_hash: str, n_units: int = 6, n_departments: int = 2) -> District:
    d = District()

    def work(s):
        office = Unit(code="X01", name="区委巡察办", kind="office")
        lg = Unit(code="L01", name="领导小组", kind="leading_group")
        disc = Unit(code="J01", name="纪委监委", kind="discipline")
        s.add_all([office, lg, disc])
        s.flush()
        d.office = office.id
        leaders = [User(username=f"leader{i}", name=f"分管领导{i}", password_hash=password_hash, roles=["leader"])
                   for i in range(2)]
        s.add_all(leaders)
        s.flush()
        d.leaders = [u.id for u in leaders]
        for i in range(n_units):
            kind = "department" if i < n_departments else ("street" if i % 2 else "company")
            unit = Unit(code=f"U{i:03d}", name=f"单位{i}", kind=kind, industry="行业" + str(i % 3),
                        leader_id=d.leaders[i % 2])
            s.add(unit)
            s.flush()
            d.units.append(unit.id)
            d.codes[unit.id] = unit.code
            if kind == "department":
                d.departments.append(unit.id)
            liaison_roles = ["unit_liaison"] + (["department"] if kind == "department" else [])
            s.add(User(username=f"{unit.code.lower()}_liaison", name=f"联络员{i}", password_hash=password_hash,
                       roles=liaison_roles, unit_id=unit.id))
            s.add(User(username=f"{unit.code.lower()}_head", name=f"负责人{i}", password_hash=password_hash,
                       roles=["unit_head"], unit_id=unit.id))
        s.add_all([
            # the three administration duties, one account each
            User(username="admin", name="管理员", password_hash=password_hash, roles=["admin"], unit_id=office.id),
            User(username="security1", name="安全管理员", password_hash=password_hash, roles=["security_admin"],
                 unit_id=office.id),
            User(username="auditor1", name="审计员", password_hash=password_hash, roles=["audit_admin"]),
            User(username="office1", name="巡察办", password_hash=password_hash, roles=["office"], unit_id=office.id),
            User(username="leading1", name="领导小组", password_hash=password_hash, roles=["leading_group"],
                 unit_id=lg.id),
            User(username="designer1", name="设计", password_hash=password_hash, roles=["designer"],
                 unit_id=office.id),
            User(username="discipline1", name="纪委", password_hash=password_hash, roles=["discipline"],
                 unit_id=disc.id),
            User(username="shenji1", name="审计员", password_hash=password_hash, roles=["auditor"]),
        ])
        for i in range(2):
            u = User(username=f"inspector{i}", name=f"巡察员{i}", password_hash=password_hash,
                     roles=["inspector"], unit_id=office.id)
            s.add(u)
            s.flush()
            d.inspectors.append(u.id)

    ctx.db.transaction(work)
    return d


def user_id(ctx, username: str) -> int:
    with ctx.db.read() as s:
        return s.scalar(select(User.id).where(User.username == username))
