"""The domain's rules and step handlers, without HTTP: one rule, one place, the same in Python and SQL."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from service import access, cases, workflow_events
from service.auth import principal_for
from service.context import BPMN_DIR, DEFAULT_MODELS
from service.models import (
    BusinessKey,
    Case,
    CaseStatus,
    KeyKind,
    LeaderNotification,
    Round,
    RoundInspector,
    RoundStatus,
    SupervisionAction,
    Unit,
    User,
    WarningLevel,
)
from workflows.engine import StepEvent
from workflows.registry import ModelRegistry
from workflows.steps import declared_steps


def test_a_warning_only_ever_rises():
    assert WarningLevel.NONE.escalated_to(WarningLevel.GREEN) == WarningLevel.GREEN
    assert WarningLevel.RED.escalated_to(WarningLevel.GREEN) == WarningLevel.RED
    assert WarningLevel.YELLOW.escalated_to(WarningLevel.YELLOW) == WarningLevel.YELLOW
    assert [w.rank for w in WarningLevel] == [0, 1, 2, 3]


@pytest.mark.parametrize("text, expected", [("case:12", BusinessKey(KeyKind.CASE, 12)),
                                            ("round:3", BusinessKey(KeyKind.ROUND, 3)),
                                            ("case:", None), ("case:x", None), ("job:1", None), (None, None)])
def test_business_keys_read_back_what_they_wrote(text, expected):
    key = BusinessKey.parse(text)
    assert key == expected
    if key is not None:
        assert str(key) == text


def test_a_round_accepts_findings_until_its_list_is_published():
    assert [Round(status=s).accepts_findings for s in RoundStatus] == [True, True, False, False]


def test_overdue_means_the_same_in_python_and_in_sql(ctx, district):
    now = datetime.now(UTC)

    def work(s):
        rnd = Round(name="r", status=RoundStatus.PUBLISHED, created_by=1, created_at=now)
        s.add(rnd)
        s.flush()
        for unit_id, status, days in zip(district.units, list(CaseStatus) + [CaseStatus.RETURNED],
                                         (-3, -2, -1, 1, -5, 2), strict=True):
            s.add(Case(round_id=rnd.id, unit_id=unit_id, status=status, warning="none",
                       due_at=now + timedelta(days=days), created_at=now))
    ctx.db.transaction(work)
    with ctx.db.read() as s:
        rows = s.scalars(select(Case)).all()
        in_python = {c.id for c in rows if c.is_overdue(now)}
        in_sql = set(s.scalars(select(Case.id).where(Case.is_overdue(now))))
    assert in_python == in_sql
    # self_check and rectifying past their deadline; filed and closed never; returned before its deadline not
    assert len(in_python) == 2


def test_a_yellow_warning_tells_the_leader_and_a_late_green_never_lowers_red(ctx, district):
    now = datetime.now(UTC)

    def work(s):
        rnd = Round(name="r", status=RoundStatus.PUBLISHED, created_by=1, created_at=now)
        s.add(rnd)
        s.flush()
        case = Case(round_id=rnd.id, unit_id=district.units[0], status=CaseStatus.RECTIFYING,
                    warning=WarningLevel.RED, due_at=now, created_at=now)
        s.add(case)
        s.flush()
        cases.on_warning(WarningLevel.GREEN)(ctx, s, None, case.id, StepEvent("task_completed", "warn_green", "绿色提醒"))
        cases.on_warning(WarningLevel.YELLOW)(ctx, s, None, case.id, StepEvent("task_completed", "w", "黄色预警"))
        return case.id
    case_id = ctx.db.transaction(work)
    with ctx.db.read() as s:
        assert s.get(Case, case_id).warning == "red"
        kinds = s.scalars(select(SupervisionAction.kind).where(SupervisionAction.case_id == case_id)
                          .order_by(SupervisionAction.id)).all()
        assert kinds == ["warning_green", "warning_yellow"]
        notice = s.scalar(select(LeaderNotification).where(LeaderNotification.case_id == case_id))
        assert notice.kind == "yellow_warning"
        assert notice.leader_id == s.get(Unit, district.units[0]).leader_id


def test_every_step_the_service_needs_is_declared_by_the_shipped_models():
    registry = ModelRegistry()
    needed = workflow_events.required_steps()
    assert set(needed) == set(DEFAULT_MODELS)
    for key in DEFAULT_MODELS:
        _, _, _, spec, subprocesses = registry.validate((BPMN_DIR / f"{key}.bpmn").read_bytes())
        assert set(needed[key]) <= declared_steps([spec, *subprocesses.values()]), key


def test_who_sees_a_round_is_the_same_rule_in_python_and_in_sql(ctx, district):
    now = datetime.now(UTC)

    def work(s):
        made = []
        for n, published in enumerate((None, now, None)):
            rnd = Round(name=f"r{n}", status="discovering", created_by=1, created_at=now, published_at=published)
            s.add(rnd)
            s.flush()
            made.append(rnd.id)
        s.add(RoundInspector(round_id=made[2], user_id=district.inspectors[0]))
    ctx.db.transaction(work)
    with ctx.db.read() as s:
        rounds = s.scalars(select(Round)).all()
        names = ["office1", "inspector0", "inspector1", "leader0", "u002_liaison", "designer1"]
        for user in s.scalars(select(User).where(User.username.in_(names))):
            p = principal_for(s, user)
            in_sql = set(s.scalars(select(Round.id).where(access.round_scope(p))))
            assert in_sql == {r.id for r in rounds if access.can_read_round(p, r)}, user.username
            assert len(in_sql) == {"office1": 3, "inspector0": 2}.get(user.username, 1), user.username
