"""The district the benchmarks run on: units with a liaison and a head each, a round of three common
problems (the third sent to half the units) published to all of them, and fresh databases to hold it.

Written in bulk, so that setting up thousands of units takes seconds, not the benchmark's time.
"""
from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from sqlalchemy import create_engine, insert, select, text, update
from sqlalchemy.engine import make_url

from service import fanout, rounds
from service.auth import new_token
from service.models import ApiToken, Case, CaseProblem, CommonProblem, Round, Unit, User
from workflows.tables import HumanTask

POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


@contextmanager
def database(kind: str, folder: Path, server: str = POSTGRES) -> Iterator[str]:
    """A fresh database: a file for SQLite ("sqlite"), else a database of its own on the server."""
    if kind == "sqlite":
        yield f"sqlite:///{folder}/bench.db"
        return
    name = f"rectiflow_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(server).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@dataclass
class Published:
    round_id: int
    office_id: int
    unit_ids: list[int]


def publish(ctx, units: int) -> Published:
    """`units` companies (two industries), each with a liaison `u{i}_unit_liaison` and a head `u{i}_unit_head`, the office
    (`office1`) and a department; a round whose three common problems are published to every unit."""
    def seed(s):
        office = s.scalar(insert(Unit).values(code="X01", name="区委巡察办", kind="office").returning(Unit.id))
        department = s.scalar(insert(Unit).values(code="D01", name="职能部门", kind="department").returning(Unit.id))
        office_id = s.scalar(insert(User).values(username="office1", name="巡察办", password_hash="x",
                                                 roles=["office"], unit_id=office).returning(User.id))
        s.execute(insert(Unit), [{"code": f"U{i:06d}", "name": f"单位{i}", "kind": "company",
                                  "industry": f"行业{i % 2}"} for i in range(units)])
        unit_ids = list(s.scalars(select(Unit.id).where(Unit.code.like("U%")).order_by(Unit.id)))
        s.execute(insert(User), [{"username": f"u{i}_{role}", "name": role, "password_hash": "x", "roles": [role],
                                  "unit_id": uid} for i, uid in enumerate(unit_ids)
                                 for role in ("unit_liaison", "unit_head")])
        rnd = Round(name="基准轮次", created_by=office_id, created_at=ctx.now(), status="listing")
        s.add(rnd)
        s.flush()
        for j, targets in enumerate((None, None, {"industries": ["行业1"]})):
            s.add(CommonProblem(round_id=rnd.id, title=f"共性问题{j}", category="合同", targets=targets,
                                responsible_department_id=department, created_at=ctx.now()))
        s.flush()
        return Published(rnd.id, office_id, unit_ids)

    published = ctx.db.transaction(seed)

    def fan_out(s):
        to = rounds.recipients(s, published.round_id)
        due = ctx.now() + timedelta(days=ctx.settings.deadline_days)
        fanout.open_cases(ctx, s, None, published.round_id, [(u.id, to.per_unit[u.id]) for u in to.units], due)
    ctx.db.transaction(fan_out)
    ctx.db.refresh_statistics(fanout.FILLED)  # as the publication's job does once it is over
    return published


def self_check_data(common_ids: list[int]) -> dict:
    """A self-check that finds none of the problems at the unit: the next step is the head's filing."""
    return {"items": [{"common_problem_id": c, "applicable": False, "reason": "不涉及", "problems_found": 0,
                       "findings": "无"} for c in common_ids]}


@dataclass
class SelfCheck:
    task_id: str
    liaison_id: int
    data: dict


def open_self_checks(ctx) -> list[SelfCheck]:
    """Every open self-check, with its unit's liaison and the data that completes it."""
    with ctx.db.read() as s:
        rows = s.execute(select(HumanTask.id, User.id, Case.id)
                         .join(User, (User.unit_id == HumanTask.unit_id) & User.username.like("%_liaison"))
                         .join(Case, Case.process_instance_id == HumanTask.instance_id)
                         .where(HumanTask.bpmn_id == "self_check", HumanTask.state == "open")
                         .order_by(HumanTask.unit_id)).all()
        problems: dict[int, list[int]] = {}
        for case_id, common_id in s.execute(select(CaseProblem.case_id, CaseProblem.common_problem_id)
                                            .order_by(CaseProblem.common_problem_id)):
            problems.setdefault(case_id, []).append(common_id)
    return [SelfCheck(r[0], r[1], self_check_data(problems[r[2]])) for r in rows]


def tokens(ctx, user_ids: list[int]) -> dict[int, str]:
    """An API token per user, issued as a login would, and already used, as by the requests a user
    makes before completing a task (the inbox, the task's form): a token's use is written at most
    once per `auth.TOKEN_USE_PRECISION`, and a completion is not the first request of a session."""
    def issue(s):
        issued = {uid: new_token(s, uid, ctx.now(), 12) for uid in user_ids}
        s.execute(update(ApiToken).where(ApiToken.user_id.in_(user_ids)).values(last_used_at=ctx.now()))
        return issued
    return ctx.db.transaction(issue)
