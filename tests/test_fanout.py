"""Publication's fan-out: the cases opened together (`service.fanout`) are those opened one by one.

Two copies of one district, on one frozen clock, publish the same targeted list to ten units: one
copy through `cases.open_case` per unit (with the list's notice after each), the other through
`fanout.open_cases`. Ids of rows and records come out the same; task ids are new UUIDs either way,
so rows are compared with them mapped to (instance, element)."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from support.fixtures import AUDIT_KEY

from config import Settings
from service import cases, fanout, notices, rounds
from service.context import make_context
from service.models import Case, CaseProblem, CommonProblem, Notice, Round, Unit, User
from workflows import fanout as derivation
from workflows import serializer
from workflows.clock import Clock
from workflows.tables import HistoryEntry, HumanTask, MessageSubscription, ProcessInstance, TaskCandidate, Timer

EXTRA_UNITS = 4  # beside the district's six: ten cases


class FrozenClock(Clock):
    """Both copies publish at the same instant, so their times can be compared exactly."""

    def __init__(self, at: datetime):
        super().__init__()
        self.at = at

    def now(self) -> datetime:
        return self.at

    def advance(self, delta: timedelta) -> datetime:
        self.at += delta
        return self.at


@pytest.fixture
def clock() -> Clock:
    return FrozenClock(datetime(2026, 3, 2, 1, 30, tzinfo=UTC))


@pytest.fixture
def twin(district_seed, tmp_path, clock):
    """A second copy of the district, with a context of its own on the same clock."""
    folder = tmp_path / "twin"
    folder.mkdir()
    with district_seed.template.copy(folder) as url:
        context = make_context(Settings(instance_dir=folder / "instance", database_url=url, secret_key="test",
                                        audit_key=AUDIT_KEY), clock)
        yield context
        context.db.engine.dispose()


def _prepare(ctx, district) -> int:
    """Four more units (one under a street), and a round whose list reaches units differently."""
    def work(s):
        street = next(u for u in district.units if s.get_one(Unit, u).kind == "street")
        for i in range(EXTRA_UNITS):
            unit = Unit(code=f"V{i:03d}", name=f"新单位{i}", kind="company", industry="行业" + str(i % 2),
                        parent_id=street if i == 0 else None, leader_id=district.leaders[i % 2])
            s.add(unit)
            s.flush()
            s.add_all([User(username=f"v{i}_liaison", name=f"联络员V{i}", password_hash="x", roles=["unit_liaison"],
                            unit_id=unit.id),
                       User(username=f"v{i}_head", name=f"负责人V{i}", password_hash="x", roles=["unit_head"],
                            unit_id=unit.id)])
        office = s.scalar(select(User.id).where(User.username == "office1"))
        rnd = Round(name="扇出轮次", created_by=office, created_at=ctx.now(), status="listing")
        s.add(rnd)
        s.flush()
        for title, targets in (("全部单位", None), ("街道及下属", {"parent_ids": [street]}),
                               ("行业1", {"industries": ["行业1"]}), ("两个单位", {"unit_ids": district.units[2:4]})):
            s.add(CommonProblem(round_id=rnd.id, title=title, category="工程", targets=targets,
                                responsible_department_id=district.departments[0], created_at=ctx.now()))
        return rnd.id
    return ctx.db.transaction(work)


def _one_by_one(ctx, round_id: int) -> None:
    """Publication's fan-out as it was: a case at a time, and the list's notice to its unit after it."""
    def work(s):
        to = rounds.recipients(s, round_id)
        due = ctx.now() + timedelta(days=ctx.settings.deadline_days)
        for unit in to.units:
            case = cases.open_case(ctx, s, None, round_id, unit.id, to.per_unit[unit.id], due)
            notices.on_list_published(ctx, s, case)
    ctx.db.transaction(work)


def _together(ctx, round_id: int) -> None:
    def work(s):
        to = rounds.recipients(s, round_id)
        due = ctx.now() + timedelta(days=ctx.settings.deadline_days)
        fanout.open_cases(ctx, s, None, round_id, [(u.id, to.per_unit[u.id]) for u in to.units], due)
    ctx.db.transaction(work)


def _columns(row, leave_out=()) -> dict:
    return {c.key: getattr(row, c.key) for c in row.__table__.columns if c.key not in leave_out}


def _snapshot(ctx) -> dict:
    """Everything publication leaves, with task ids as (instance, element)."""
    with ctx.db.read() as s:
        tasks = s.scalars(select(HumanTask).order_by(HumanTask.instance_id, HumanTask.bpmn_id)).all()
        named = {t.id: (t.instance_id, t.bpmn_id) for t in tasks}
        instances = s.scalars(select(ProcessInstance).where(ProcessInstance.model_key == "unit_rectification")
                              .order_by(ProcessInstance.id)).all()
        shapes = {}
        for instance in instances:
            model, workflow = ctx.engine._load(s, instance)
            shapes[instance.id] = sorted(
                (task.task_spec.name, int(task.state), serializer.encode(task.data))
                for wf in [workflow, *workflow.subprocesses.values()] for task in wf.tasks.values())
        for instance in instances:  # timers and messages wait on tasks of their own instance's state
            for waiting in s.scalars(select(Timer.task_id).where(Timer.instance_id == instance.id)):
                assert waiting in instance.state
        return {
            "cases": [_columns(c) for c in s.scalars(select(Case).order_by(Case.id))],
            "sent": sorted((r.case_id, r.common_problem_id) for r in s.scalars(select(CaseProblem))),
            "instances": [_columns(i, ("state", "lock_version")) for i in instances],
            "states": {i.id: derivation.canonical(i.state) for i in instances},
            "shapes": shapes,
            "tasks": [{**_columns(t, ("id",)), "task": named[t.id]} for t in tasks],
            "candidates": sorted((named[c.task_id], c.user_id) for c in s.scalars(select(TaskCandidate))),
            "timers": sorted((t.instance_id, t.bpmn_id, t.due_at) for t in s.scalars(select(Timer))),
            "messages": sorted((m.instance_id, m.name, m.correlation_key)
                               for m in s.scalars(select(MessageSubscription))),
            "history": [{**_columns(h, ("id", "task_id")), "task": named.get(h.task_id or "")}
                        for h in s.scalars(select(HistoryEntry).order_by(HistoryEntry.id))],
            "notices": [{**_columns(n, ("task_id",)), "task": named.get(n.task_id or "")}
                        for n in s.scalars(select(Notice).order_by(Notice.id))],
        }


def test_cases_opened_together_are_those_opened_one_by_one(ctx, twin, district, monkeypatch):
    round_id = _prepare(ctx, district)
    assert _prepare(twin, district) == round_id
    _one_by_one(ctx, round_id)
    runs = []
    fresh = type(twin.engine)._fresh
    monkeypatch.setattr(type(twin.engine), "_fresh", lambda self, *a: runs.append(1) or fresh(self, *a))
    _together(twin, round_id)
    assert len(runs) == 2, "SpiffWorkflow ran for the first case and for the one that checks the derivation"
    before, after = _snapshot(ctx), _snapshot(twin)
    assert len(before["cases"]) == 6 + EXTRA_UNITS - 0
    sent = {}
    for case_id, common_problem_id in before["sent"]:
        sent.setdefault(case_id, set()).add(common_problem_id)
    assert len({frozenset(v) for v in sent.values()}) >= 3, "the units received different lists"
    assert before["tasks"] and before["timers"] and before["notices"]
    for part in before:
        assert after[part] == before[part], part


def test_a_case_opened_together_is_worked_like_any_other(ctx, api, district):
    """Self-check, rectification and filing on a case whose workflow state was derived, not run."""
    round_id = _prepare(ctx, district)
    _together(ctx, round_id)
    unit = district.units[3]  # not among the first two cases, whose workflows run for real
    with ctx.db.read() as s:
        case = s.scalars(select(Case).where(Case.round_id == round_id, Case.unit_id == unit)).one()
        received = [c.id for c in cases.targets.received(s, case)]
    assert len(received) >= 2
    code = district.codes[unit].lower()
    liaison, head, office = api.as_(f"{code}_liaison"), api.as_(f"{code}_head"), api.as_("office1")
    [task] = liaison.tasks(bpmn_id="self_check")
    assert task["unit_id"] == unit
    liaison.complete(task["id"], {"items": [
        {"common_problem_id": c, "applicable": True, "problems_found": 1, "findings": "发现问题"} for c in received]})
    [task] = liaison.tasks(bpmn_id="rectify")
    liaison.complete(task["id"], {"items": [
        {"common_problem_id": c, "status": "done", "measures": [{"description": "建立审核制度", "deadline": "2027-01-31"}],
         "institutions": []} for c in received]})
    liaison.attach_evidence(case.id)
    [task] = head.tasks(bpmn_id="attest_and_file")
    head.complete(task["id"], {"attest": True})
    assert office.get(f"/cases/{case.id}").get_json()["status"] == "filed"
    [review] = [t for t in office.tasks(bpmn_id="review_filing") if t["unit_id"] == unit]
    office.complete(review["id"], {"accepted": True, "comment": "同意"})
    assert office.get(f"/cases/{case.id}").get_json()["status"] == "closed"
