"""A list's publication as a background job: the leading group's approval answers at once with a job
id, the job opens every unit's case in committed chunks, and a job cut off half-way is taken up
again and ends with exactly one case per unit; its progress is read through GET /jobs/{id} and on
the round's publication page."""
from __future__ import annotations

import re
import time
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text
from support.api import liaison, round_awaiting_approval, run_jobs
from support.pages import Pages

from service import jobs
from service.models import Case, Job, LeaderNotification, RecommendationLetter
from workflows.tables import HumanTask, ProcessInstance


def _approve(api) -> dict:
    leading = api.as_("leading1")
    return leading.complete(leading.tasks(bpmn_id="approve_list")[0]["id"], {"approved": True})


def _cases(ctx, round_id: int) -> list[Case]:
    with ctx.db.read() as s:
        return list(s.scalars(select(Case).where(Case.round_id == round_id).order_by(Case.id)))


def _sent(ctx, round_id: int) -> tuple[int, int, Counter]:
    """Letters and leader notices of the round, and how many workflow instances each case has."""
    with ctx.db.read() as s:
        letters = s.scalar(select(func.count()).select_from(RecommendationLetter)
                           .where(RecommendationLetter.round_id == round_id))
        notes = s.scalar(select(func.count()).select_from(LeaderNotification)
                         .where(LeaderNotification.round_id == round_id))
        keys = Counter(s.scalars(select(ProcessInstance.business_key).where(ProcessInstance.business_key.in_(
            [f"case:{c.id}" for c in _cases(ctx, round_id)]))))
    return letters, notes, keys


def test_the_approval_answers_at_once_and_the_job_opens_every_case(ctx, api, district):
    d = district
    round_id = round_awaiting_approval(api, d)
    office = api.as_("office1")
    body = _approve(api)
    job_id = body["job_id"]
    assert _cases(ctx, round_id) == [], "no case is opened inside the approval"
    assert office.get(f"/rounds/{round_id}").get_json()["status"] == "published"
    job = office.get(f"/jobs/{job_id}").get_json()
    assert (job["state"], job["done"], job["total"], job["kind"], job["round_id"]) == \
        ("queued", 0, len(d.units), "publication", round_id)
    assert _sent(ctx, round_id)[:2] == (0, 0), "letters and leaders' notices wait for the cases"

    assert run_jobs(api) == 1
    job = office.get(f"/jobs/{job_id}").get_json()
    assert (job["state"], job["done"], job["total"], job["error"]) == ("done", len(d.units), len(d.units), None)
    assert sorted(c.unit_id for c in _cases(ctx, round_id)) == sorted(d.units)
    letters, notes, instances = _sent(ctx, round_id)
    assert letters == 1 and notes == 2, "one letter to the department, the list to each of the two leaders"
    assert set(instances.values()) == {1} and len(instances) == len(d.units)
    # every unit was told, and can self-check
    unit = liaison(api, d, 3)
    assert unit.tasks(bpmn_id="self_check")
    assert any(n["kind"] == "list_published" for n in unit.get("/notices").get_json()["items"])
    assert run_jobs(api) == 0, "a finished job is not run again"


def test_a_job_cut_off_after_one_chunk_is_taken_up_and_opens_each_case_once(ctx, api, district, clock):
    d = district
    ctx.settings.publication_chunk = 2
    round_id = round_awaiting_approval(api, d)
    job_id = _approve(api)["job_id"]

    # a runner opens one chunk and dies without a word
    assert jobs.run_job(ctx, job_id, max_chunks=1)
    first = _cases(ctx, round_id)
    assert len(first) == 2
    job = api.as_("office1").get(f"/jobs/{job_id}").get_json()
    assert (job["state"], job["done"], job["total"]) == ("running", 2, len(d.units))
    # while its heartbeat is recent nobody else takes it
    assert run_jobs(api) == 0 and len(_cases(ctx, round_id)) == 2

    clock.advance(timedelta(seconds=ctx.settings.job_stale_seconds + 1))
    assert run_jobs(api) == 1
    cases = _cases(ctx, round_id)
    assert sorted(c.unit_id for c in cases) == sorted(d.units), "exactly one case per unit"
    assert [c.id for c in cases[:2]] == [c.id for c in first], "the first chunk's cases are kept as they were"
    letters, notes, instances = _sent(ctx, round_id)
    assert (letters, notes) == (1, 2) and set(instances.values()) == {1}
    with ctx.db.read() as s:
        job_row = s.get_one(Job, job_id)
        assert (job_row.state, job_row.done, job_row.attempts) == ("done", len(d.units), 2)


def test_a_job_whose_count_ran_ahead_still_gives_every_unit_its_case(ctx, api, district, clock):
    """A chunk reads only its own units' cases, trusting the committed count for those before; a
    job counted otherwise (past units that have no case) is made whole by the check at its end."""
    d = district
    ctx.settings.publication_chunk = 2
    round_id = round_awaiting_approval(api, d)
    job_id = _approve(api)["job_id"]
    assert jobs.run_job(ctx, job_id, max_chunks=1)

    def ahead(s):
        s.get_one(Job, job_id).done = 4  # units 3 and 4 of the plan have no case
    ctx.db.transaction(ahead)
    clock.advance(timedelta(seconds=ctx.settings.job_stale_seconds + 1))
    assert run_jobs(api) == 1
    cases = _cases(ctx, round_id)
    assert sorted(c.unit_id for c in cases) == sorted(d.units), "exactly one case per unit"
    unit = liaison(api, d, 2)
    assert unit.tasks(bpmn_id="self_check"), "a unit given its case at the end can self-check"
    with ctx.db.read() as s:
        assert (s.get_one(Job, job_id).state, s.get_one(Job, job_id).done) == ("done", len(d.units))


def test_a_chunk_done_twice_opens_nothing_twice(ctx, api, district):
    """The chunk's own guard, for a runner that took over while the first still wrote."""
    d = district
    round_id = round_awaiting_approval(api, d)
    _approve(api)
    run_jobs(api)
    from service import rounds

    due = _cases(ctx, round_id)[0].due_at
    opened = ctx.db.transaction(lambda s: rounds.open_cases(ctx, s, None, round_id, d.units, due))
    assert opened == 0 and len(_cases(ctx, round_id)) == len(d.units)


def test_once_a_publication_is_out_postgresql_plans_on_the_rows_it_wrote(ctx, api, district, postgres):
    """Without fresh statistics, the planner took the tables a publication had just filled for as
    they were before it: a unit's completion looked for its instance's next tasks through every
    open task of the district, until autovacuum came to the tables minutes later."""
    if postgres is None:
        pytest.skip("planner statistics are PostgreSQL's; SQLite plans without them")
    round_awaiting_approval(api, district)
    _approve(api)
    run_jobs(api)
    with ctx.db.read() as s:
        planned = {name: s.scalar(text("SELECT reltuples FROM pg_class WHERE relname = :name"), {"name": name})
                   for name in ("wf_human_task", "rectification_case")}
        rows = {"wf_human_task": s.scalar(select(func.count()).select_from(HumanTask)),
                "rectification_case": s.scalar(select(func.count()).select_from(Case))}
    assert planned == rows


@pytest.mark.parametrize("username, status", [("office1", 200), ("leading1", 200), ("admin", 200),
                                              ("u003_liaison", 403), ("inspector0", 403)])
def test_who_reads_a_job(api, district, username, status):
    round_awaiting_approval(api, district)
    job_id = _approve(api)["job_id"]
    r = api.as_(username).get(f"/jobs/{job_id}")
    assert r.status_code == status, r.get_json()
    if status == 200:
        assert {"state", "done", "total", "kind", "round_id", "error"} <= set(r.get_json())
    assert api.as_("office1").get(f"/jobs/{job_id + 1000}").status_code == 404


def _progress(html: str) -> tuple[str, str, str]:
    bar = re.search(r'<progress id="publication-bar" max="(\d+)" value="(\d+)"', html)
    label = re.search(r'<label for="publication-bar">([^<]*)</label>', html)
    assert bar and label, html
    return bar.group(1), bar.group(2), label.group(1)


def test_the_round_page_shows_the_publication_while_it_runs(app, ctx, api, client, district, clock):
    d = district
    ctx.settings.publication_chunk = 2
    round_id = round_awaiting_approval(api, d)
    pages = Pages(client)
    pages.login("leading1")
    approve = api.as_("leading1").tasks(bpmn_id="approve_list")[0]["id"]
    r = pages.post(f"/tasks/{approve}", {"approved": "true", "confirmed": "true"}, token_from=f"/tasks/{approve}")
    page = f"/rounds/{round_id}/publication"
    assert r.status_code == 302 and r.location.endswith(page), "the approval leads to the publication's progress"
    n = len(d.units)
    html = pages.text(page)
    assert _progress(html) == (str(n), "0", f"已开启 0 / {n} 个单位")
    assert 'hx-trigger="every 2s"' in html, "the page refreshes itself while the job runs"

    job_id = ctx.db.transaction(lambda s: s.scalar(select(Job.id).where(Job.round_id == round_id)))
    jobs.run_job(ctx, job_id, max_chunks=1)
    part = pages.text(f"{page}/progress")
    assert _progress(part) == (str(n), "2", f"已开启 2 / {n} 个单位") and "hx-trigger" in part

    clock.advance(timedelta(seconds=ctx.settings.job_stale_seconds + 1))  # its runner gone: taken up again
    run_jobs(api)
    html = pages.text(page)
    assert _progress(html) == (str(n), str(n), f"已开启 {n} / {n} 个单位")
    assert "hx-trigger" not in html, "nothing polls once it is over"
    assert "每个单位均已开启整改" in html
    # the rounds list leads there; a unit's liaison does not see it
    assert page in pages.text("/rounds")
    other = Pages(app.test_client())
    other.login("u003_liaison")
    assert other.get(page).status_code == 403


REDIS_DB = "redis://127.0.0.1:6379/13"  # a database of its own, emptied first


def _redis_or_skip():
    redis = pytest.importorskip("redis")
    client = redis.Redis.from_url(REDIS_DB)
    try:
        client.ping()
    except redis.exceptions.ConnectionError:
        pytest.skip("no Redis at 127.0.0.1:6379")
    client.flushdb()
    return client


def test_with_a_broker_the_approval_queues_the_job_and_a_celery_worker_runs_it(ctx, api, district):
    _redis_or_skip()
    from celery.contrib.testing.worker import start_worker

    from service import celery_app

    d = district
    ctx.settings.broker_url = REDIS_DB
    round_id = round_awaiting_approval(api, d)
    job_id = _approve(api)["job_id"]
    assert _cases(ctx, round_id) == []
    celery_app.use_context(ctx)
    try:
        with start_worker(celery_app.app, pool="solo", perform_ping_check=False, shutdown_timeout=30):
            deadline = time.monotonic() + 60
            while api.as_("office1").get(f"/jobs/{job_id}").get_json()["state"] != "done":
                assert time.monotonic() < deadline, "the worker did not run the job"
                time.sleep(0.1)
    finally:
        celery_app.use_context(None)
    assert sorted(c.unit_id for c in _cases(ctx, round_id)) == sorted(d.units)
    assert _sent(ctx, round_id)[:2] == (1, 2)
