"""A round driven through the service functions (no HTTP), for the web and browser tests that
need one at a given step before they look at the pages."""
from __future__ import annotations

from sqlalchemy import select

from service import evidence, jobs, rounds, tasks
from service.auth import principal_for
from service.models import Case, CommonProblem, User
from workflows.tables import HumanTask


def principal(ctx, username: str):
    with ctx.db.read() as s:
        return principal_for(s, s.scalar(select(User).where(User.username == username)))


def as_user(ctx, username: str, work):
    p = principal(ctx, username)
    return ctx.db.transaction(lambda s: work(s, p))


def open_task_id(ctx, username: str, bpmn_id: str, unit_id: int | None = None) -> str:
    p = principal(ctx, username)
    with ctx.db.read() as s:
        rows, _ = tasks.list_open(s, p, bpmn_id=bpmn_id, unit_id=unit_id, limit=500)
    assert rows, f"{username} has no open {bpmn_id} task"
    return rows[0].id


def complete(ctx, username: str, bpmn_id: str, data: dict, unit_id: int | None = None):
    task_id = open_task_id(ctx, username, bpmn_id, unit_id)
    return as_user(ctx, username, lambda s, p: tasks.complete(ctx, s, p, task_id, data))


def attach_evidence(ctx, username: str, unit_id: int | None = None, name: str = "整改报告.pdf") -> int:
    """An evidence file on the case whose filing `username` (the unit's head) has open: no filing without one."""
    task_id = open_task_id(ctx, username, "attest_and_file", unit_id)
    with ctx.db.read() as s:
        case_id = s.scalar(select(Case.id).where(Case.process_instance_id == s.get(HumanTask, task_id).instance_id))
    row = as_user(ctx, username, lambda s, p: evidence.upload(ctx, s, p, case_id, name, b"%PDF-1.4 report", None))
    return row.id


def start_round(ctx, d, name: str = "区委第一轮巡察") -> int:
    rnd = as_user(ctx, "office1", lambda s, p: rounds.create_round(ctx, s, p, name, d.units[:3], d.inspectors[:1]))
    return rnd.id


def record_problems(ctx, d, round_id: int) -> list[int]:
    texts = [("工程项目未按规定公开招标", "工程建设"), ("政府采购合同未经法律审核", "合同管理"),
             ("便民服务中心窗口长期空岗", "便民服务")]
    ids = []
    for i, (text, category) in enumerate(texts):
        problem = as_user(ctx, "inspector0", lambda s, p, i=i, text=text, category=category: rounds.add_problem(
            ctx, s, p, round_id, d.units[i % 3], text, category, "inspection"))
        ids.append(problem.id)
    return ids


def publish_round(ctx, d, name: str = "区委第一轮巡察") -> tuple[int, list[int]]:
    """A round up to its published list: two common problems, cases for every unit."""
    round_id = start_round(ctx, d, name)
    problems = record_problems(ctx, d, round_id)
    complete(ctx, "inspector0", "record_findings", {})
    for i, title in enumerate(("工程项目建设监管不严", "政府合同管理不规范")):
        as_user(ctx, "office1", lambda s, p, i=i, title=title: rounds.add_common_problem(
            ctx, s, p, round_id, title, "说明", "类别", d.departments[i], [problems[i]]))
    complete(ctx, "office1", "distill_list", {})
    complete(ctx, "leading1", "approve_list", {"approved": True})
    jobs.run_pending(ctx)
    with ctx.db.read() as s:
        commons = list(s.scalars(select(CommonProblem.id).where(CommonProblem.round_id == round_id)
                                 .order_by(CommonProblem.id)))
    return round_id, commons


def case_of(ctx, round_id: int, unit_id: int) -> Case:
    with ctx.db.read() as s:
        return s.scalar(select(Case).where(Case.round_id == round_id, Case.unit_id == unit_id))
