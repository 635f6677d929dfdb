"""One instance's failing timer step is its own: recorded on it, retried with back-off a bounded
number of times, shown to the office, and never in the way of the other instances' timers."""
from __future__ import annotations

import re
from datetime import datetime, timedelta

from sqlalchemy import func, select
from support.api import publish_round
from support.diagrams import poisoned_model
from support.pages import Pages

from service.timers import run_due_timers
from workflows.tables import HistoryEntry, ProcessInstance


def _failures(ctx, instance_id):
    with ctx.db.read() as s:
        return s.scalar(select(func.count()).select_from(HistoryEntry).where(
            HistoryEntry.instance_id == instance_id, HistoryEntry.event == "failed"))


def test_a_poisoned_instance_fails_alone_retries_with_back_off_then_waits_for_the_office(ctx, api, district, clock):
    d = district
    poisoned_unit = d.units[3]
    r = api.as_("designer1").post("/process-models", data=poisoned_model(poisoned_unit),
                                  content_type="application/xml")
    assert r.status_code == 201, r.get_json()
    publish_round(api, d)
    office = api.as_("office1")
    cases = office.get("/cases", query_string={"limit": 500}).get_json()["items"]
    assert len(cases) == len(d.units)
    poisoned = next(c for c in cases if c["unit_id"] == poisoned_unit)
    green_at = datetime.fromisoformat(cases[0]["due_at"]) - timedelta(days=20) + timedelta(minutes=1)

    def move(when):
        clock.move_to(when)
        api.tokens.clear()

    move(green_at)
    assert run_due_timers(ctx) == len(d.units) - 1
    warnings = {c["unit_id"]: c["warning"] for c in api.as_("office1").get("/cases").get_json()["items"]}
    assert warnings.pop(poisoned_unit) == "none"
    assert set(warnings.values()) == {"green"}, "every other unit got its green warning"

    office = api.as_("office1")
    failed = office.get("/process-instances", query_string={"status": "error"}).get_json()
    assert failed["total"] == 1
    row = failed["items"][0]
    assert row["id"] == poisoned["process_instance_id"]
    assert row["error_element"] == "warn_green" and row["error_code"] == "workflow_failed"
    assert "division by zero" in row["error"]
    assert row["failures"] == 1 and row["retry_at"] is not None
    assert run_due_timers(ctx) == 0 and _failures(ctx, row["id"]) == 1, "not again before its retry time"

    # each retry waits twice as long; after the configured number the instance waits for the office
    retries = ctx.settings.timer_retries
    for attempt in range(2, retries + 2):
        with ctx.db.read() as s:
            retry_at = s.get(ProcessInstance, row["id"]).retry_at
        move(retry_at - timedelta(seconds=1))
        run_due_timers(ctx)
        assert _failures(ctx, row["id"]) == attempt - 1
        move(retry_at + timedelta(seconds=1))
        run_due_timers(ctx)
        assert _failures(ctx, row["id"]) == attempt
    with ctx.db.read() as s:
        instance = s.get(ProcessInstance, row["id"])
        assert instance.status == "error" and instance.retry_at is None
        assert instance.failures == retries + 1
    move(clock.now() + timedelta(days=1))
    run_due_timers(ctx)
    assert _failures(ctx, row["id"]) == retries + 1, "no retries after the configured number"

    # the office sees it on the instance's page and in its list, and may try it once more
    pages = Pages(api.client)
    pages.login("office1")
    listing = pages.get("/instances/?status=error").get_data(as_text=True)
    assert f"/instances/{row['id']}" in listing and "绿色提醒" in listing
    view = pages.get(f"/instances/{row['id']}").get_data(as_text=True)
    for html in (listing, view):  # the reason in the reader's words; the engine's own words folded away
        assert "本环节的脚本或表达式执行出错" in html
        assert re.search(r"<details[^>]*>\s*<summary>技术信息</summary>\s*<code lang=\"en\">[^<]*division by zero", html)
    again = api.as_("office1").post(f"/process-instances/{row['id']}/retry")
    assert again.status_code == 200 and again.get_json()["status"] == "error"
    assert again.get_json()["failures"] == 1, "a retry by hand starts a fresh series"

    # units and leaders see nothing of the district's failed instances
    liaison = api.as_(f"{d.codes[poisoned_unit].lower()}_liaison")
    assert liaison.get("/process-instances").status_code == 403
    assert liaison.post(f"/process-instances/{row['id']}/retry").status_code == 403


def test_an_instance_that_recovers_is_running_again_and_keeps_its_history(ctx, api, district, clock):
    """A failure that goes away (here: the step no longer fails once the model's data is fixed by a
    retry of a transient fault) clears the error; the failure stays in the history."""
    d = district
    publish_round(api, d)
    office = api.as_("office1")
    case = office.get("/cases").get_json()["items"][0]
    instance_id = case["process_instance_id"]
    clock.move_to(datetime.fromisoformat(case["due_at"]) - timedelta(days=20) + timedelta(minutes=1))
    ctx.db.transaction(  # a transient fault
        lambda s: ctx.engine.record_failure(s, instance_id, "database went away", "timer_green"))
    api.tokens.clear()
    assert api.as_("office1").get("/process-instances", query_string={"status": "error"}).get_json()["total"] == 1
    with ctx.db.read() as s:
        retry_at = s.get(ProcessInstance, instance_id).retry_at
    clock.move_to(retry_at + timedelta(seconds=1))
    assert run_due_timers(ctx) == len(d.units)
    with ctx.db.read() as s:
        instance = s.get(ProcessInstance, instance_id)
        assert (instance.status, instance.error, instance.failures, instance.retry_at) == ("running", None, 0, None)
    assert _failures(ctx, instance_id) == 1
