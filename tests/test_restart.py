"""A workflow step has the same effect on the records whatever the process holds in memory:
after a restart (a new application over the same database) or with the model cache emptied."""
from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import func, select
from support.api import Api, run_jobs
from support.district import build_district

from config import Settings
from service import create_app
from service.models import Case, LeaderNotification, RecommendationLetter, Round
from workflows.tables import HumanTask, ProcessInstance


def _round_at_approval(api, d, name: str) -> int:
    """A round whose list is distilled, so approve_list is open."""
    office, inspector = api.as_("office1"), api.as_("inspector0")
    round_id = office.post("/rounds", json={"name": name, "inspected_unit_ids": d.units[:2],
                                            "inspector_ids": d.inspectors[:1]}).get_json()["id"]
    pid = inspector.post(f"/rounds/{round_id}/problems", json={
        "unit_id": d.units[0], "description": "合同未经法律审核", "category": "合同"}).get_json()["id"]
    task = [t for t in inspector.tasks(bpmn_id="record_findings") if t["process_instance_id"]
            == office.get(f"/rounds/{round_id}").get_json()["process_instance_id"]][0]
    inspector.complete(task["id"], {})
    for i, department in enumerate(d.departments):
        r = office.post(f"/rounds/{round_id}/common-problems", json={
            "title": f"共性问题{i}", "category": "合同", "responsible_department_id": department,
            "problem_ids": [pid] if i == 0 else []})
        assert r.status_code == 201, r.get_json()
    office.complete(_task_of_round(api, "office1", "distill_list", round_id)["id"], {})
    return round_id


def _task_of_round(api, username: str, bpmn_id: str, round_id: int) -> dict:
    instance_id = api.as_("office1").get(f"/rounds/{round_id}").get_json()["process_instance_id"]
    mine = [t for t in api.as_(username).tasks(bpmn_id=bpmn_id) if t["process_instance_id"] == instance_id]
    assert len(mine) == 1, mine
    return mine[0]


def _outcome(ctx, round_id: int) -> dict:
    """What a publication wrote: the round's state and every record and task it created."""
    with ctx.db.read() as s:
        rnd = s.get(Round, round_id)
        cases = s.scalars(select(Case).where(Case.round_id == round_id)).all()
        instance_ids = [c.process_instance_id for c in cases] + [rnd.process_instance_id] + list(s.scalars(
            select(RecommendationLetter.process_instance_id).where(RecommendationLetter.round_id == round_id)))
        tasks = Counter(s.scalars(select(HumanTask.bpmn_id).where(HumanTask.instance_id.in_(instance_ids),
                                                                  HumanTask.state == "open")))
        statuses = Counter(s.scalars(select(ProcessInstance.status).where(ProcessInstance.id.in_(instance_ids))))
        return {
            "round": rnd.status, "published": rnd.published_at is not None,
            "cases": sorted((c.unit_id, c.status) for c in cases),
            "letters": sorted(s.scalars(select(RecommendationLetter.department_id)
                                        .where(RecommendationLetter.round_id == round_id))),
            "notices": s.scalar(select(func.count()).select_from(LeaderNotification)
                                .where(LeaderNotification.round_id == round_id)),
            "open_tasks": dict(tasks), "instances": dict(statuses),
        }


@pytest.mark.parametrize("between", ["new_application", "emptied_model_cache"])
def test_approval_after_a_restart_publishes_exactly_as_without_one(app, ctx, api, password_hash, between):
    d = build_district(ctx, password_hash, n_units=6, n_departments=2)
    control = _round_at_approval(api, d, "不重启")
    api.as_("leading1").complete(_task_of_round(api, "leading1", "approve_list", control)["id"], {"approved": True})
    run_jobs(api)

    round_id = _round_at_approval(api, d, "重启之后")
    if between == "new_application":
        settings = Settings(instance_dir=ctx.settings.instance_dir, database_url=ctx.settings.database_url,
                            secret_key="test", audit_key=ctx.settings.audit_key)
        restarted = create_app(settings, ctx.clock)
        ctx, api = restarted.extensions["rectiflow"], Api(restarted.test_client())
        assert not ctx.engine.registry._cache, "a new process starts with nothing parsed"
    else:
        ctx.engine.registry._cache.clear()
    try:
        api.as_("leading1").complete(_task_of_round(api, "leading1", "approve_list", round_id)["id"],
                                     {"approved": True})
        run_jobs(api)  # the restarted service's runner takes the publication up
        after, before = _outcome(ctx, round_id), _outcome(ctx, control)
        assert after == before
        assert after["round"] == "published" and len(after["cases"]) == len(d.units)
        assert after["letters"] == sorted(d.departments)
        assert after["open_tasks"]["self_check"] == len(d.units)
        assert after["open_tasks"]["plan_governance"] == len(d.departments)
        assert after["instances"] == {"running": len(d.units) + len(d.departments) + 1}
    finally:
        if between == "new_application":
            ctx.db.engine.dispose()


def test_a_rejection_after_a_restart_sends_the_list_back_for_distillation(ctx, api, district):
    """The loop's other way out: not approved, the office distils again (also on a cold cache)."""
    round_id = _round_at_approval(api, district, "退回")
    ctx.engine.registry._cache.clear()
    api.as_("leading1").complete(_task_of_round(api, "leading1", "approve_list", round_id)["id"],
                                 {"approved": False, "comment": "再研判"})
    assert _task_of_round(api, "office1", "distill_list", round_id)
    ctx.engine.registry._cache.clear()
    api.as_("office1").complete(_task_of_round(api, "office1", "distill_list", round_id)["id"], {})
    ctx.engine.registry._cache.clear()
    api.as_("leading1").complete(_task_of_round(api, "leading1", "approve_list", round_id)["id"],
                                 {"approved": True})
    assert _outcome(ctx, round_id)["round"] == "published"
