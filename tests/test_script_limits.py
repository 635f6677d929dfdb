"""A model script that would run or grow without bound fails its step quickly with a coded 422 (or,
on a timer, a recorded failure) and nothing of the step is saved; so does one that leaves data the
instance cannot store."""
from __future__ import annotations

import time
import tracemalloc
from datetime import datetime, timedelta

from sqlalchemy import func, select
from support.api import round_awaiting_approval, run_jobs
from support.diagrams import with_script
from support.pages import Pages

from service import jobs
from service.models import Case, Round
from service.timers import run_due_timers
from workflows import scripting

ROUND = {"name": "新轮次"}


def _deploy(api, xml: bytes) -> None:
    r = api.as_("designer1").post("/process-models", data=xml, content_type="application/xml")
    assert r.status_code == 201, r.get_json()


def _start_round(api, d):
    started = time.monotonic()
    r = api.as_("office1").post("/rounds", json={**ROUND, "inspected_unit_ids": d.units[:1],
                                                 "inspector_ids": d.inspectors[:1]})
    return r, time.monotonic() - started


def _rounds_saved(ctx) -> int:
    with ctx.db.read() as s:
        return s.scalar(select(func.count()).select_from(Round).where(Round.name == ROUND["name"]))


def _assert_failed(r, took, code, element="init_round"):
    body = r.get_json()
    assert r.status_code == 422, body
    assert body["code"] == code, body
    assert body["errors"][0]["element_id"] == element and body["errors"][0]["code"] == code
    assert took < 2, f"the request took {took:.1f} s"
    return body


def test_builtins_over_a_million_items_in_a_loop_answer_422_within_seconds(api, district, ctx):
    _deploy(api, with_script("inspection_round", "init_round",
                             "x = list(range(100000)) * 10\nfor i in range(1000):\n    m = max(x)"))
    r, took = _start_round(api, district)
    body = _assert_failed(r, took, "script_too_slow")
    assert "iterations and items" in body["detail"]
    assert _rounds_saved(ctx) == 0


def test_a_list_grown_in_a_loop_answers_422_before_the_script_holds_50_mb(api, district, ctx, monkeypatch):
    # only the size limit is on trial here: the time limits are lifted, so that a slow machine (and
    # tracemalloc, which doubles the time) cannot stop the script first
    monkeypatch.setattr(scripting, "MAX_SECONDS", 60.0)
    monkeypatch.setattr(ctx.engine, "script_seconds", 60.0)
    monkeypatch.setattr(ctx.engine, "max_seconds", 60.0)
    _deploy(api, with_script("inspection_round", "init_round",
                             "rows = []\nfor i in range(50):\n    for j in range(10000):\n"
                             "        rows.append({'i': i, 'j': j, 'note': 'x' * 200})"))
    tracemalloc.start()
    try:
        r, _ = _start_round(api, district)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # what is on trial is the memory the request held, not its time (tracemalloc slows it, and so does
    # a busy machine): the time limits have tests of their own above
    body = _assert_failed(r, 0, "script_too_large")
    assert "built more than" in body["detail"]
    assert peak < 50e6, f"the request allocated {peak / 1e6:.0f} MB"
    assert _rounds_saved(ctx) == 0


def test_self_referencing_data_answers_422_naming_the_script_every_time(api, district, ctx):
    _deploy(api, with_script("inspection_round", "init_round", "a = []\na.append(a)\napproved = False"))
    for _ in range(2):
        r, took = _start_round(api, district)
        body = _assert_failed(r, took, "script_data_invalid")
        assert "'a' containing itself" in body["detail"]
    assert _rounds_saved(ctx) == 0


def test_publishing_a_chunk_of_units_shares_one_script_time_budget(app, api, district, ctx, monkeypatch):
    """Each unit's script is within its own limits; together, one per unit of a chunk, they are not:
    the publication's job stops with the reason, and nothing of the chunk is saved."""
    monkeypatch.setattr(ctx.engine, "script_seconds", 0.3)
    _deploy(api, with_script("unit_rectification", "init_case",
                             "n = 0\nfor i in range(3):\n    for j in range(100000):\n        n += 1\n"
                             "self_checked = recheck\naccepted = False\nwarned = {}"))
    d = district
    leading = api.as_("leading1")
    round_awaiting_approval(api, d)
    task = leading.tasks(bpmn_id="approve_list")[0]["id"]
    r = leading.post(f"/tasks/{task}/complete", json={"data": {"approved": True}})
    assert r.status_code == 200, r.get_json()
    started = time.monotonic()
    run_jobs(api)
    took = time.monotonic() - started
    assert took < (2 + 0.1 * len(d.units)) * jobs.JOB_ATTEMPTS, f"{jobs.JOB_ATTEMPTS} attempts took {took:.1f} s"
    job = api.as_("office1").get(f"/jobs/{r.get_json()['job_id']}").get_json()
    assert job["state"] == "failed" and ("in all" in job["error"] or "longer than" in job["error"]), job
    assert job["done"] == 0
    with ctx.db.read() as s:
        assert s.scalar(select(func.count()).select_from(Case)) == 0, "no case of the failed chunk is saved"
    # the stopped publication's page says why and offers the office to take it up again; others cannot
    office = Pages(app.test_client())
    office.login("office1")
    page = f"/rounds/{job['round_id']}/publication"
    assert "重新启动发布" in office.text(page)
    leader = Pages(app.test_client())
    leader.login("leading1")
    assert "重新启动发布" not in leader.text(page), "the leading group follows the publication, the office runs it"
    refused = api.as_("leading1").post(f"/jobs/{job['id']}/retry")
    assert (refused.status_code, refused.get_json()["code"]) == (403, "role_required")
    # the model put right, the office takes the job up again from the page (or the API, or the
    # command line: rectiflow run-jobs --retry); a job that has not failed is not taken up
    _deploy(api, with_script("unit_rectification", "init_case", "n = 0\nself_checked = recheck\naccepted = False\nwarned = {}"))
    assert office.post(f"{page}/retry", {"job_id": job["id"]}, token_from=page).status_code == 302
    again = api.as_("office1").post(f"/jobs/{job['id']}/retry")
    assert (again.status_code, again.get_json()["code"]) == (409, "job_not_failed")
    assert not jobs.retry(ctx, job["id"])
    run_jobs(api)
    job = api.as_("office1").get(f"/jobs/{job['id']}").get_json()
    assert (job["state"], job["done"]) == ("done", len(d.units))
    assert "重新启动发布" not in office.text(page)


def test_a_timer_step_whose_script_runs_away_is_recorded_with_its_code(api, district, ctx, clock):
    from support.api import publish_round

    _deploy(api, with_script("unit_rectification", "warn_green",
                             "x = list(range(100000)) * 10\nfor i in range(30):\n    m = max(x)\n"
                             "warned = {'green': True}"))
    publish_round(api, district)
    cases = api.as_("office1").get("/cases", query_string={"limit": 500}).get_json()["items"]
    clock.move_to(datetime.fromisoformat(cases[0]["due_at"]) - timedelta(days=20) + timedelta(minutes=1))
    api.tokens.clear()
    started = time.monotonic()
    assert run_due_timers(ctx) == 0
    assert time.monotonic() - started < 2 + 0.1 * len(cases)
    failed = api.as_("office1").get("/process-instances", query_string={"status": "error"}).get_json()["items"]
    assert len(failed) == len(cases)
    assert {(row["error_element"], row["error_code"]) for row in failed} == {("warn_green", "script_too_slow")}
