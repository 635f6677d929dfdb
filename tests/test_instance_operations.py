"""Operators repair and hold running processes: a timer step broken by a script is retried on the
fixed version once one is deployed; an instance is suspended, resumed and cancelled with a reason,
each recorded in its history and the audit log."""
from __future__ import annotations

import re
from datetime import datetime, timedelta

from sqlalchemy import select
from support.api import liaison, publish_round
from support.diagrams import poisoned_model, with_script
from support.pages import Pages
from support.returns import unit_case

from service.models import AuditEntry
from service.timers import run_due_timers
from workflows.tables import HistoryEntry, ProcessInstance


def _history(ctx, instance_id) -> list[HistoryEntry]:
    with ctx.db.read() as s:
        return list(s.scalars(select(HistoryEntry).where(HistoryEntry.instance_id == instance_id)
                              .order_by(HistoryEntry.id)))


def _audited(ctx, action) -> list[AuditEntry]:
    with ctx.db.read() as s:
        return list(s.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def _move(api, clock, when):
    clock.move_to(when)
    api.tokens.clear()


def _green_time(case) -> datetime:
    return datetime.fromisoformat(case["due_at"]) - timedelta(days=20) + timedelta(minutes=1)


def test_a_broken_timer_script_fails_stops_retrying_and_runs_on_after_a_fixed_version(ctx, api, district, clock):
    d = district
    poisoned_unit = d.units[3]
    designer = api.as_("designer1")
    broken = poisoned_model(poisoned_unit)
    r = designer.post("/process-models", data=broken, content_type="application/xml")
    assert r.status_code == 201, r.get_json()
    broken_version = r.get_json()["version"]
    publish_round(api, d)
    cases = api.as_("office1").get("/cases", query_string={"limit": 500}).get_json()["items"]
    case = next(c for c in cases if c["unit_id"] == poisoned_unit)
    instance_id = case["process_instance_id"]

    _move(api, clock, _green_time(case))
    run_due_timers(ctx)
    failed = api.as_("office1").get("/process-instances", query_string={"status": "error"}).get_json()
    assert [i["id"] for i in failed["items"]] == [instance_id]
    assert failed["items"][0]["error_element"] == "warn_green"
    assert failed["items"][0]["version"] == broken_version

    # retried with back-off, then no more: it waits for an operator
    for _attempt in range(ctx.settings.timer_retries):
        with ctx.db.read() as s:
            retry_at = s.get_one(ProcessInstance, instance_id).retry_at
        assert retry_at is not None
        _move(api, clock, retry_at + timedelta(seconds=1))
        run_due_timers(ctx)
    with ctx.db.read() as s:
        instance = s.get_one(ProcessInstance, instance_id)
        assert (instance.status, instance.retry_at) == ("error", None)
        assert instance.failures == ctx.settings.timer_retries + 1
    _move(api, clock, clock.now() + timedelta(days=2))
    run_due_timers(ctx)
    assert sum(h.event == "failed" for h in _history(ctx, instance_id)) == ctx.settings.timer_retries + 1

    # the designer deploys the fix as a new version; the operator retries and the step runs fixed
    fixed = re.sub(rb"warned = \{'green': 1 / \(unit_id - \d+\) or True\}", b"warned = {'green': True}  # fixed", broken)
    assert fixed != broken
    r = api.as_("designer1").post("/process-models", data=fixed, content_type="application/xml")
    assert r.status_code == 201, r.get_json()
    fixed_version = r.get_json()["version"]
    again = api.as_("office1").post(f"/process-instances/{instance_id}/retry", json={"reason": "脚本已修复"})
    assert again.status_code == 200, again.get_json()
    body = again.get_json()
    assert (body["status"], body["error"], body["version"]) == ("running", None, fixed_version)
    warning = next(c for c in api.as_("office1").get("/cases", query_string={"limit": 500}).get_json()["items"]
                   if c["unit_id"] == poisoned_unit)["warning"]
    assert warning == "green", "the fixed script ran: the instance went on to its green warning"
    retried = [h for h in _history(ctx, instance_id) if h.event == "retried"]
    assert retried[-1].actor == "office1"
    assert retried[-1].data == {"from_version": broken_version, "to_version": fixed_version}
    (entry,) = _audited(ctx, "instance_retried")
    assert entry.actor == "office1" and entry.target == f"process_instance:{instance_id}"
    # the instance goes on: its next timer (the yellow warning) waits on the fixed version
    with ctx.db.read() as s:
        assert s.get_one(ProcessInstance, instance_id).status == "running"
    assert api.as_("office1").get("/process-instances", query_string={"status": "error"}).get_json()["total"] == 0


def test_suspend_resume_and_cancel_an_instance_with_a_reason(ctx, api, district, clock):
    d = district
    publish_round(api, d)
    office = api.as_("office1")
    case = office.get("/cases", query_string={"unit_id": d.units[0]}).get_json()["items"][0]
    instance_id = case["process_instance_id"]
    unit = liaison(api, d, 0)
    (task,) = [t for t in unit.tasks() if t["process_instance_id"] == instance_id]

    r = office.post(f"/process-instances/{instance_id}/suspend", json={})
    assert r.status_code == 422 and r.get_json()["code"] == "reason_required"
    r = office.post(f"/process-instances/{instance_id}/suspend", json={"reason": "  "})
    assert r.status_code == 422 and r.get_json()["code"] == "reason_required"
    r = office.post(f"/process-instances/{instance_id}/suspend", json={"reason": "单位合并，暂停整改"})
    assert r.status_code == 200 and r.get_json()["status"] == "suspended"
    listed = office.get("/process-instances", query_string={"status": "suspended"}).get_json()
    assert [i["id"] for i in listed["items"]] == [instance_id]
    assert office.post(f"/process-instances/{instance_id}/suspend", json={"reason": "again"}).status_code == 409

    # its task cannot be completed, its timers do not fire; the unit's inbox marks it as waiting
    r = unit.post(f"/tasks/{task['id']}/complete", json={"data": {}})
    assert r.status_code == 409 and r.get_json()["code"] == "instance_suspended"
    pages = Pages(api.client.application.test_client())
    pages.login(f"{d.codes[d.units[0]].lower()}_liaison")
    row = re.search(rf'<tr[^>]*>(?:(?!</tr>).)*id="task-{task["id"]}"(?:(?!</tr>).)*</tr>', pages.text("/inbox"), re.S)
    assert row and "流程已挂起" in row.group(0)
    _move(api, clock, _green_time(case))
    run_due_timers(ctx)
    assert api.as_("office1").get(f"/cases/{case['id']}").get_json()["warning"] == "none"

    # resumed: the timer that fell due meanwhile fires
    r = api.as_("office1").post(f"/process-instances/{instance_id}/resume")
    assert r.status_code == 200 and r.get_json()["status"] == "running"
    pages.login(f"{d.codes[d.units[0]].lower()}_liaison")  # the clock moved past the session's life
    html = pages.text("/inbox")
    assert f'id="task-{task["id"]}"' in html and "流程已挂起" not in html
    assert api.as_("office1").get(f"/cases/{case['id']}").get_json()["warning"] == "green"
    assert api.as_("office1").post(f"/process-instances/{instance_id}/resume").get_json()["code"] == \
        "instance_not_suspended"

    # cancelled: its open task leaves the unit's inbox, the case shows it
    office = api.as_("office1")
    r = office.post(f"/process-instances/{instance_id}/cancel", json={})
    assert r.status_code == 422 and r.get_json()["code"] == "reason_required"
    r = office.post(f"/process-instances/{instance_id}/cancel", json={"reason": "单位已撤销"})
    assert r.status_code == 200 and r.get_json()["status"] == "cancelled"
    assert not [t for t in liaison(api, d, 0).tasks() if t["process_instance_id"] == instance_id]
    r = office.post(f"/process-instances/{instance_id}/cancel", json={"reason": "again"})
    assert r.status_code == 409 and r.get_json()["code"] == "instance_ended"
    assert [i["id"] for i in office.get("/process-instances", query_string={"status": "cancelled"})
            .get_json()["items"]] == [instance_id]

    events = [(h.event, h.actor, (h.data or {}).get("reason")) for h in _history(ctx, instance_id)
              if h.event in ("suspended", "resumed", "cancelled")]
    assert events == [("suspended", "office1", "单位合并，暂停整改"), ("resumed", "office1", None),
                      ("cancelled", "office1", "单位已撤销")]
    for action in ("instance_suspended", "instance_resumed", "instance_cancelled"):
        (entry,) = _audited(ctx, action)
        assert entry.actor == "office1" and entry.target == f"process_instance:{instance_id}"

    pages = Pages(api.client)
    pages.login("office1")
    html = pages.get(f"/cases/{case['id']}").get_data(as_text=True)
    assert "流程已被终止" in html and "单位已撤销" in html

    # units and leaders may not hold or end the district's processes
    assert liaison(api, d, 1).post(f"/process-instances/{instance_id}/suspend",
                                   json={"reason": "x"}).status_code == 403
    assert office.get("/process-instances", query_string={"status": "stuck"}).status_code == 400


def test_a_designer_makes_an_earlier_version_current_and_retires_one(ctx, api, district):
    d = district
    designer = api.as_("designer1")
    versions = designer.get("/process-models/unit_rectification/versions").get_json()["items"]
    first = versions[-1]["version"]
    assert versions[-1]["current"] is True
    r = designer.post("/process-models", data=poisoned_model(d.units[3]), content_type="application/xml")
    second = r.get_json()["version"]
    publish_round(api, d)  # every case starts on the new version
    versions = {v["version"]: v for v in designer.get("/process-models/unit_rectification/versions")
                .get_json()["items"]}
    assert versions[second]["current"] and not versions[first]["current"]
    assert versions[second]["instances"]["running"] == len(d.units)
    assert versions[first]["instances"]["running"] == 0
    office = api.as_("office1")
    on_second = office.get("/process-instances", query_string={"process_model": "unit_rectification",
                                                               "version": second}).get_json()
    assert on_second["total"] == len(d.units) and {i["version"] for i in on_second["items"]} == {second}
    refused = office.get("/process-instances", query_string={"version": second})
    assert (refused.status_code, refused.get_json()["code"]) == (422, "version_needs_model")

    # back to the first version: new instances start from it, running ones keep theirs
    assert office.put("/process-models/unit_rectification/current", json={"version": first}).status_code == 403
    r = designer.put("/process-models/unit_rectification/current", json={"version": first})
    assert r.status_code == 200 and r.get_json()["current"] is True
    with ctx.db.read() as s:
        assert ctx.engine.registry.current_id(s, "unit_rectification") is not None
    assert designer.put("/process-models/unit_rectification/current", json={"version": 99}).status_code == 404
    assert designer.put("/process-models/unit_rectification/current", json={}).status_code == 422

    # the current version is retired only with another chosen in its place
    r = designer.post(f"/process-models/unit_rectification/versions/{first}/retire")
    assert r.status_code == 409 and r.get_json()["code"] == "version_is_current"
    r = designer.post(f"/process-models/unit_rectification/versions/{second}/retire")
    assert r.status_code == 200 and r.get_json()["retired_at"] and not r.get_json()["current"]
    r = designer.post(f"/process-models/unit_rectification/versions/{first}/retire", json={"current_version": second})
    assert r.status_code == 200
    versions = {v["version"]: v for v in designer.get("/process-models/unit_rectification/versions")
                .get_json()["items"]}
    assert versions[second]["current"] and versions[second]["retired_at"] is None, "made current: back in use"
    assert versions[first]["retired_at"] and not versions[first]["current"]
    assert [e.target for e in _audited(ctx, "model_version_made_current")] == [
        f"model:unit_rectification:{first}", f"model:unit_rectification:{second}"]
    assert [e.target for e in _audited(ctx, "model_version_retired")] == [
        f"model:unit_rectification:{second}", f"model:unit_rectification:{first}"]
    # a new instance starts from the current version, never a retired one
    round2 = publish_round(api, d)
    cases = office.get("/cases", query_string={"round_id": round2, "limit": 500}).get_json()["items"]
    ids = {c["process_instance_id"] for c in cases}
    with ctx.db.read() as s:
        current_id = ctx.engine.registry.current_id(s, "unit_rectification")
        assert {i.model_version_id for i in s.scalars(select(ProcessInstance).where(ProcessInstance.id.in_(ids)))} \
            == {current_id}


def test_the_pages_refuse_an_act_without_a_reason_and_designers_alone_choose_versions(ctx, api, district):
    d = district
    publish_round(api, d)
    case = api.as_("office1").get("/cases", query_string={"unit_id": d.units[0]}).get_json()["items"][0]
    instance_id = case["process_instance_id"]
    pages = Pages(api.client)
    pages.login("office1")
    listing = pages.text("/instances/?status=running")
    assert f'action="/instances/{instance_id}/suspend"' in listing and "挂起原因" in listing
    r = pages.post(f"/instances/{instance_id}/cancel", {"reason": " ", "back": "/instances/?status=running"},
                   token_from="/instances/")
    assert r.status_code == 302 and r.headers["Location"].endswith("/instances/?status=running")
    assert "请填写理由" in pages.text("/instances/?status=running")
    with ctx.db.read() as s:
        assert s.get_one(ProcessInstance, instance_id).status == "running"
    r = pages.post(f"/instances/{instance_id}/suspend", {"reason": "核实情况", "back": "https://example.com/"},
                   token_from="/instances/")
    assert r.headers["Location"].endswith(f"/instances/{instance_id}"), "never back to another site"
    assert "已挂起" in pages.text(f"/instances/{instance_id}")

    # the office reads the versions page without its buttons, and may not post them
    versions = pages.text("/designer/models/unit_rectification/versions")
    assert "当前版本" in versions and "设为当前版本…" not in versions
    assert pages.post("/designer/models/unit_rectification/versions/1/retire", {},
                      token_from="/designer/").status_code == 403
    designer = Pages(api.client.application.test_client())
    designer.login("designer1")
    confirm = designer.text("/designer/models/unit_rectification/versions/1/retire")
    assert "这是当前版本" in confirm
    r = designer.post("/designer/models/unit_rectification/versions/1/retire", {}, token_from="/designer/")
    assert r.status_code == 302
    assert "请先将其他版本设为当前版本再停用" in designer.text("/designer/models/unit_rectification/versions")


def test_a_script_that_fails_after_a_task_is_kept_on_the_instance_and_repaired_by_a_retry(ctx, api, district):
    """The person is told the step failed and their task stays open; the operators see the instance
    in error at the script; after a fixed version and a retry, the same completion goes through."""
    d = district
    designer = api.as_("designer1")
    r = designer.post("/process-models", data=with_script("unit_rectification", "mark_self_checked",
                                                          "self_checked = 1 / 0 or True"),
                      content_type="application/xml")
    assert r.status_code == 201, r.get_json()
    uc = unit_case(api, d)
    unit = api.as_(uc.liaison)
    (task,) = unit.tasks(bpmn_id="self_check")
    data = {"items": [{"common_problem_id": c, "applicable": True, "problems_found": 1, "findings": "合同未审核"}
                      for c in uc.commons]}
    r = unit.post(f"/tasks/{task['id']}/complete", json={"data": data})
    assert r.status_code == 422 and r.get_json()["code"] == "workflow_failed"
    assert [t["id"] for t in unit.tasks(bpmn_id="self_check")] == [task["id"]], "nothing of the step was saved"
    failed = api.as_("office1").get("/process-instances", query_string={"status": "error"}).get_json()["items"]
    assert [(i["id"], i["error_element"], i["retry_at"]) for i in failed] == [
        (task["process_instance_id"], "mark_self_checked", None)], "kept for an operator, not retried by itself"

    # the fix takes the change back: the shipped diagram, deployed again, is current again
    fixed = with_script("unit_rectification", "mark_self_checked", "self_checked = True")
    r = designer.post("/process-models", data=fixed, content_type="application/xml")
    assert r.status_code == 200 and r.get_json()["created"] is False
    versions = designer.get("/process-models/unit_rectification/versions").get_json()["items"]
    assert [v["version"] for v in versions if v["current"]] == [r.get_json()["version"]]
    again = api.as_("office1").post(f"/process-instances/{task['process_instance_id']}/retry")
    assert again.status_code == 200 and again.get_json()["status"] == "running"
    unit.complete(task["id"], data)
    assert unit.tasks(bpmn_id="rectify"), "the unit goes on to rectify"
