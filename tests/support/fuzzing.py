"""A district with records of every kind the API names by id, for the fuzz tests (tests/test_api_fuzz.py)
to find some of the time: built once per test process into a template database, copied for every test."""
from __future__ import annotations

import hashlib
from datetime import timedelta

from sqlalchemy import select, update

from service import clues, evidence, pools
from service.auth import new_token
from service.models import ApiToken, Case, CommonProblem
from workflows.tables import HumanTask, ModelVersion

from .district import District, user_id
from .rounds import as_user, complete, publish_round, record_problems, start_round

LIAISON = "u002_liaison"  # a plain unit liaison (units 0 and 1 are departments, whose liaisons hold that role too)
# Bearer tokens the template database holds for its callers: known before any test runs, as the fuzz
# tests build some of their requests while pytest collects them.
TOKENS = {"office1": "fuzz-token-of-the-office", LIAISON: "fuzz-token-of-a-unit-liaison"}


def populate(ctx, d: District) -> None:
    """A published round (a case for every unit, the leaders' notifications, the departments' letters)
    in which one unit has done its self-check and uploaded evidence; a second round still in discovery
    with its problems and a clue; an expert and an audit finding."""
    round_id, _ = publish_round(ctx, d)
    unit = d.units[2]
    with ctx.db.read() as s:
        commons = list(s.scalars(select(CommonProblem.id).where(CommonProblem.round_id == round_id)))
        case_id = s.scalar(select(Case.id).where(Case.round_id == round_id, Case.unit_id == unit))
    complete(ctx, LIAISON, "self_check", {"items": [
        {"common_problem_id": c, "applicable": False, "reason": "无", "problems_found": 0, "findings": "不涉及"}
        for c in commons]})
    as_user(ctx, LIAISON, lambda s, p: evidence.upload(ctx, s, p, case_id, "整改报告.pdf", b"%PDF-1.7 report",
                                                       None, None))
    second = start_round(ctx, d, "区委第二轮巡察")
    problems = record_problems(ctx, d, second)
    as_user(ctx, "inspector0", lambda s, p: clues.register(ctx, s, p, second, d.units[0], "线索摘要", "线索内容"))
    expert = as_user(ctx, "office1", lambda s, p: pools.add_expert(s, p, {"name": "专家", "organisation": "审计局"}))
    as_user(ctx, "office1", lambda s, p: pools.add_finding(ctx, s, p, {
        "round_id": second, "unit_id": d.units[0], "title": "审计发现", "problem_id": problems[0],
        "expert_id": expert.id}))
    for username, token in TOKENS.items():
        uid = user_id(ctx, username)
        ctx.db.transaction(lambda s, uid=uid, token=token: _known_token(ctx, s, uid, token))


def _known_token(ctx, s, uid: int, token: str) -> None:
    """A token issued as any other, then given a value known in advance and a year to live."""
    issued = new_token(s, uid, ctx.now(), ctx.settings.token_hours)
    s.flush()
    s.execute(update(ApiToken).where(ApiToken.token_sha256 == _sha256(issued))
              .values(token_sha256=_sha256(token), expires_at=ctx.now() + timedelta(days=365)))


def _sha256(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()  # as the service stores a token


def known_names(ctx) -> dict[str, list[str]]:
    """The names paths take that are no small numbers: open tasks' ids, process models' keys."""
    with ctx.db.read() as s:
        return {"task": list(s.scalars(select(HumanTask.id).where(HumanTask.state == "open").order_by(HumanTask.id))),
                "key": list(s.scalars(select(ModelVersion.key).distinct().order_by(ModelVersion.key)))}
