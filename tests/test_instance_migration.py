"""A fix deployed mid-round reaches the cases already running: version 2 of `unit_rectification`
(tests/fixtures/unit_rectification_v2.bpmn drops the special inspection's send-back while the office
reviews a filing) is deployed with every unit's case open. The dry run names which instances can move
and why the others cannot; the migration moves the movable ones as a background job, keeping their
open tasks (ids, drafts, due dates) and timers as they were; a rollback returns one; the migrated
cases then run to close-out on the new version."""
from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from support.api import publish_round, run_jobs
from support.pages import Pages
from support.returns import case_of, file_case, rectify, self_check

from service import jobs, workflow
from service.models import AuditEntry, Case
from workflows.tables import HistoryEntry, HumanTask, ModelVersion, ProcessInstance, Timer

V2 = (Path(__file__).parent / "fixtures" / "unit_rectification_v2.bpmn").read_bytes()


def _instance(ctx, case_id: int) -> ProcessInstance:
    with ctx.db.read() as s:
        return s.scalar(select(ProcessInstance).where(ProcessInstance.business_key == f"case:{case_id}"))


def _rows(ctx, instance_id: int) -> tuple[set[tuple], set[tuple]]:
    """The open task rows (id, element, due date) and the timers (task id, element, due time) of an instance."""
    with ctx.db.read() as s:
        tasks = {(t.id, t.bpmn_id, t.due_at) for t in s.scalars(
            select(HumanTask).where(HumanTask.instance_id == instance_id, HumanTask.state == "open"))}
        timers = {(t.task_id, t.bpmn_id, t.due_at) for t in s.scalars(select(Timer).where(Timer.instance_id == instance_id))}
    return tasks, timers


def _history(ctx, instance_id: int) -> list[tuple]:
    with ctx.db.read() as s:
        return [(h.event, (h.data or {}).get("__from_version"), (h.data or {}).get("__to_version")) for h in s.scalars(
            select(HistoryEntry).where(HistoryEntry.instance_id == instance_id,
                                       HistoryEntry.event.in_(("migrated", "migration_rolled_back")))
            .order_by(HistoryEntry.id))]


@pytest.fixture
def mid_round(ctx, api, district):
    """Six cases on version 1: two at their self-check (one with a draft), one filed and under the
    office's review, one failed in a timer step, the others untouched; then version 2 deployed."""
    d = district
    round_id = publish_round(api, d)
    cases = [case_of(api, d, round_id, i) for i in range(len(d.units))]
    self_check(api, cases[2])
    rectify(api, cases[2])
    file_case(api, cases[2])
    failed = _instance(ctx, cases[3].case_id).id
    ctx.db.transaction(lambda s: ctx.engine.record_failure(s, failed, "boom", "warn_green"))
    liaison = api.as_(cases[0].liaison)
    draft_task = liaison.tasks(bpmn_id="self_check")[0]["id"]
    assert liaison.put(f"/tasks/{draft_task}/draft", json={"data": {"items": []}}).status_code in (200, 204)
    deployed = api.as_("designer1").post("/process-models", data=V2, headers={"Content-Type": "application/xml"})
    assert deployed.status_code == 201 and deployed.get_json()["version"] == 2, deployed.get_json()
    return cases, draft_task


def test_a_mid_round_fix_reaches_the_running_cases(ctx, api, district, mid_round):
    cases, draft_task = mid_round
    designer, office = api.as_("designer1"), api.as_("office1")
    instances = {i: _instance(ctx, c.case_id).id for i, c in enumerate(cases)}
    before = {i: _rows(ctx, instances[i]) for i in instances}
    assert before[0][1], "the cases wait for their warning timers"

    # the dry run, which the office may read too
    report = office.post("/process-models/unit_rectification/migrations", json={"to_version": 2, "dry_run": True})
    assert report.status_code == 200, report.get_json()
    body = report.get_json()
    movable = {m["instance_id"]: m for m in body["movable"]}
    immovable = {m["instance_id"]: m for m in body["immovable"]}
    assert set(movable) == {instances[i] for i in (0, 1, 4, 5)}
    assert immovable[instances[2]]["reason"] == "open_element_removed"
    assert immovable[instances[2]]["reasons"][0]["element_id"] == "sent_back_received", immovable[instances[2]]
    assert immovable[instances[3]]["reason"] == "instance_in_error"
    assert movable[instances[0]]["case_id"] == cases[0].case_id
    assert [t["bpmn_id"] for t in movable[instances[0]]["open_tasks"]] == ["self_check"]
    assert designer.post("/process-models/unit_rectification/migrations",
                         json={"to_version": 2}).get_json() == body, "a dry run is the default"

    # only designers (and the administrator) migrate
    refused = office.post("/process-models/unit_rectification/migrations", json={"to_version": 2, "dry_run": False})
    assert refused.status_code == 403
    started = designer.post("/process-models/unit_rectification/migrations", json={"to_version": 2, "dry_run": False})
    assert started.status_code == 202, started.get_json()
    job_id = started.get_json()["job_id"]
    assert designer.get(f"/jobs/{job_id}").get_json()["state"] == "queued"
    assert run_jobs(api) == 1
    job = designer.get(f"/jobs/{job_id}").get_json()
    assert (job["state"], job["done"], job["total"], job["kind"]) == ("done", 4, 4, "migration")

    with ctx.db.read() as s:
        versions = dict(s.execute(select(ModelVersion.id, ModelVersion.version)
                                  .where(ModelVersion.key == "unit_rectification")).all())
        on = {i: versions[s.get(ProcessInstance, instances[i]).model_version_id] for i in instances}
        audit = list(s.scalars(select(AuditEntry.target).where(AuditEntry.action == "instance_migrated")))
    assert on == {0: 2, 1: 2, 2: 1, 3: 1, 4: 2, 5: 2}
    assert sorted(audit) == sorted(f"instance:{instances[i]}" for i in (0, 1, 4, 5))
    for i in (0, 1, 4, 5):
        assert _rows(ctx, instances[i]) == before[i], "open tasks and timers are kept as they were"
        assert _history(ctx, instances[i]) == [("migrated", 1, 2)]
    liaison = api.as_(cases[0].liaison)
    assert liaison.get(f"/tasks/{draft_task}/draft").get_json()["data"] == {"items": []}, "the draft is kept"

    # a second run of the same migration has nothing left to move
    again = designer.post("/process-models/unit_rectification/migrations", json={"to_version": 2, "dry_run": False})
    assert again.status_code == 409 and again.get_json()["code"] == "nothing_to_migrate"

    # one instance rolled back to version 1, once
    back = designer.post(f"/process-instances/{instances[1]}/rollback-migration")
    assert back.status_code == 200 and back.get_json()["version"] == 1, back.get_json()
    assert _history(ctx, instances[1]) == [("migrated", 1, 2), ("migration_rolled_back", 2, 1)]
    assert _rows(ctx, instances[1]) == before[1]
    twice = designer.post(f"/process-instances/{instances[1]}/rollback-migration")
    assert twice.status_code == 409 and twice.get_json()["code"] == "no_migration"
    assert office.post(f"/process-instances/{instances[0]}/rollback-migration").status_code == 403

    # the migrated case runs on version 2 to its close-out
    self_check(api, cases[0])
    rectify(api, cases[0])
    file_case(api, cases[0])
    review = office.tasks(bpmn_id="review_filing", unit_id=cases[0].unit_id)[0]
    office.complete(review["id"], {"accepted": True})
    with ctx.db.read() as s:
        assert s.get(ProcessInstance, instances[0]).status == "completed"
        assert s.get(Case, cases[0].case_id).status == "closed"


def test_the_migration_page_reports_runs_and_rolls_back(app, ctx, api, district, mid_round):
    cases, _ = mid_round
    moved = _instance(ctx, cases[0].case_id).id
    office, designer = Pages(app.test_client()), Pages(app.test_client())
    office.login("office1")
    designer.login("designer1")
    page = "/designer/models/unit_rectification/migration"
    assert page in designer.text("/designer/"), "linked from the model's versions"

    html = office.text(page)
    assert "可迁移" in html and "新版本已没有该实例所在或等待的环节" in html and "专项督查未通过" in html
    assert "实例出错" in html
    assert "迁移 4 个实例" not in html, "the office reads the report and does not migrate"
    assert office.post(page, {"to_version": "2"}, token_from=page).status_code == 403

    html = designer.text(page + "?to=2")
    assert "迁移 4 个实例" in html
    r = designer.post(page, {"to_version": "2"}, token_from=page)
    assert r.status_code == 302 and "job=" in r.headers["Location"]
    progress = page + "/progress?job=" + re.search(r"job=(\d+)", r.headers["Location"]).group(1)
    assert "HX-Refresh" not in designer.get(progress).headers, "the page goes on watching while it runs"
    run_jobs(api)
    assert designer.get(progress).headers.get("HX-Refresh") == "true", "and reads itself again once it is over"
    html = designer.text(r.headers["Location"])
    assert "4 / 4" in html and "回退到版本 1" in html
    back = designer.post(f"/designer/instances/{moved}/rollback-migration", {"key": "unit_rectification"},
                         token_from=page)
    assert back.status_code == 302
    assert _history(ctx, moved)[-1] == ("migration_rolled_back", 2, 1)
    html = designer.text(page + "?to=2")
    assert f"#{moved} " in html.split('id="movable-title"')[1].split('id="immovable-title"')[0], "movable again"


def test_a_migration_cut_off_half_way_goes_on_and_moves_each_instance_once(ctx, api, mid_round):
    cases, _ = mid_round
    designer = api.as_("designer1")
    job_id = designer.post("/process-models/unit_rectification/migrations",
                           json={"to_version": 2, "dry_run": False}).get_json()["job_id"]
    jobs.run_job(ctx, job_id, max_chunks=2)  # the runner dies after two instances
    assert designer.get(f"/jobs/{job_id}").get_json()["done"] == 2
    ctx.clock.advance(timedelta(seconds=ctx.settings.job_stale_seconds + 1))
    run_jobs(api)
    job = designer.get(f"/jobs/{job_id}").get_json()
    assert (job["state"], job["done"], job["total"]) == ("done", 4, 4)
    for i in (0, 1, 4, 5):
        assert _history(ctx, _instance(ctx, cases[i].case_id).id) == [("migrated", 1, 2)]


def test_a_timer_of_a_migrated_instance_fires_on_the_new_version(ctx, api, mid_round):
    cases, _ = mid_round
    designer = api.as_("designer1")
    designer.post("/process-models/unit_rectification/migrations", json={"to_version": 2, "dry_run": False})
    run_jobs(api)
    instance = _instance(ctx, cases[4].case_id)
    _, timers = _rows(ctx, instance.id)
    green = min(due for _, bpmn_id, due in timers if bpmn_id == "timer_green")
    ctx.clock.move_to(green + timedelta(minutes=1))
    ctx.db.transaction(lambda s: workflow.fire_timers(ctx, s, instance.id))
    with ctx.db.read() as s:
        fired = s.scalars(select(HistoryEntry.bpmn_id).where(HistoryEntry.instance_id == instance.id,
                                                             HistoryEntry.event == "timer_fired")).all()
        assert "timer_green" in fired and s.get(Case, cases[4].case_id).warning == "green"


def test_the_instance_page_shows_the_move(app, ctx, api, mid_round):
    cases, _ = mid_round
    api.as_("designer1").post("/process-models/unit_rectification/migrations", json={"to_version": 2, "dry_run": False})
    run_jobs(api)
    pages = Pages(app.test_client())
    pages.login("office1")
    html = pages.text(f"/instances/{_instance(ctx, cases[0].case_id).id}")
    history = html.split("已迁移到其他版本")[1][:400]
    assert "v1 → v2" in history and "version_id" not in history


def test_an_instance_that_went_on_since_the_report_is_left_where_it_is(ctx, api, mid_round):
    """Between the report and its turn in the job, a case went on into the review that version 2 changed."""
    cases, _ = mid_round
    designer = api.as_("designer1")
    job_id = designer.post("/process-models/unit_rectification/migrations",
                           json={"to_version": 2, "dry_run": False}).get_json()["job_id"]
    late = _instance(ctx, cases[5].case_id).id
    self_check(api, cases[5])
    rectify(api, cases[5])
    file_case(api, cases[5])
    run_jobs(api)
    assert designer.get(f"/jobs/{job_id}").get_json()["state"] == "done"
    assert _history(ctx, late) == []
    with ctx.db.read() as s:
        assert s.scalar(select(AuditEntry.outcome).where(AuditEntry.action == "instance_migration_skipped",
                                                         AuditEntry.target == f"instance:{late}")) == "refused"


def test_a_migration_names_what_is_wrong_with_the_request(api, district):
    designer = api.as_("designer1")
    url = "/process-models/unit_rectification/migrations"
    assert designer.post("/process-models/nope/migrations", json={"to_version": 1}).get_json()["code"] == "unknown_model"
    assert designer.post(url, json={"to_version": 9}).get_json()["code"] == "unknown_version"
    assert designer.post(url, json={"dry_run": True}).get_json()["code"] == "invalid_body"
    assert designer.post(url, json={"to_version": 1, "dry_run": False}).get_json()["code"] == "nothing_to_migrate"
    unit = api.as_(f"{district.codes[district.units[2]].lower()}_liaison")
    assert unit.post(url, json={"to_version": 1}).get_json()["code"] == "role_required"
    assert designer.post("/process-instances/999999/rollback-migration").status_code == 404
