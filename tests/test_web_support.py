"""Helpers for the web tests (test-client and browser): a logged-in page client, and a round
driven through the service functions up to the published list. No tests in here."""
from __future__ import annotations

import re

from conftest import PASSWORD
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from service import rounds, tasks
from service.auth import principal_for
from service.models import Case, CommonProblem, User

_CSRF = re.compile(r'name="csrf-token" content="([^"]+)"|name="csrf_token" value="([^"]+)"')


def csrf_token(html: str) -> str:
    match = _CSRF.search(html)
    assert match, "the page carries no CSRF token"
    return match.group(1) or match.group(2)


class Pages:
    """The Flask test client as a person with a browser: logs in through the form, posts with the
    page's CSRF token."""

    def __init__(self, client):
        self.client = client

    def login(self, username: str, password: str = PASSWORD, follow: bool = False):
        token = csrf_token(self.client.get("/login").get_data(as_text=True))
        return self.client.post("/login", data={"username": username, "password": password, "csrf_token": token},
                                follow_redirects=follow)

    def token(self, path: str = "/inbox") -> str:
        return csrf_token(self.client.get(path).get_data(as_text=True))

    def get(self, path: str, **kw):
        return self.client.get(path, **kw)

    def text(self, path: str, status: int = 200) -> str:
        r = self.client.get(path)
        assert r.status_code == status, (r.status_code, r.get_data(as_text=True)[:2000])
        return r.get_data(as_text=True)

    def post(self, path: str, data: dict | list | None = None, token_from: str = "/inbox", **kw):
        data = dict(data or {}) if not isinstance(data, list) else data
        token = self.token(token_from)
        if isinstance(data, list):  # repeated names (checkboxes)
            data = MultiDict(data + [("csrf_token", token)])
        else:
            data.setdefault("csrf_token", token)
        return self.client.post(path, data=data, **kw)


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
    with ctx.db.read() as s:
        commons = list(s.scalars(select(CommonProblem.id).where(CommonProblem.round_id == round_id)
                                 .order_by(CommonProblem.id)))
    return round_id, commons


def case_of(ctx, round_id: int, unit_id: int) -> Case:
    with ctx.db.read() as s:
        return s.scalar(select(Case).where(Case.round_id == round_id, Case.unit_id == unit_id))
