"""Extension requests (延期申请) move a case's deadline and its warning points; measures due after a
case is closed are followed up: the unit reports each done with evidence, or it is flagged overdue."""
from __future__ import annotations

import io
from datetime import datetime, timedelta

from support.api import liaison, publish_round
from support.followups import case_of as _case
from support.followups import close_with_measures as _close_with_measures

from service.timers import run_due_timers


def _warning(api, case_id):
    return api.as_("office1").get(f"/cases/{case_id}").get_json()["warning"]


def _mover(api, clock, ctx):
    def move(when):
        clock.move_to(when)
        api.tokens.clear()  # tokens expire by the same clock
        run_due_timers(ctx)
        run_due_timers(ctx)
    return move


def test_an_approved_extension_moves_the_deadline_and_the_yellow_and_red_points(ctx, api, district, clock):
    d = district
    round_id = publish_round(api, d)
    office, unit = api.as_("office1"), liaison(api, d, 1)
    case, other = _case(api, d, round_id, 1), _case(api, d, round_id, 2)
    due = datetime.fromisoformat(case["due_at"])

    r = unit.post(f"/cases/{case['id']}/extension", json={"days": 15, "reason": "涉及重新招标，需延长时限"})
    assert r.status_code == 201, r.get_json()
    request = r.get_json()
    assert request["state"] == "pending" and request["days"] == 15
    again = unit.post(f"/cases/{case['id']}/extension", json={"days": 5, "reason": "再延"})
    assert again.status_code == 409 and again.get_json()["code"] == "extension_pending"
    assert [e["id"] for e in office.get("/extensions").get_json()["items"]] == [request["id"]]

    r = office.post(f"/extensions/{request['id']}/approve", json={"opinion": "同意延期"})
    assert r.status_code == 200 and r.get_json()["state"] == "approved", r.get_json()
    new_due = due + timedelta(days=15)
    assert datetime.fromisoformat(office.get(f"/cases/{case['id']}").get_json()["due_at"]) == new_due
    assert datetime.fromisoformat(unit.tasks(bpmn_id="self_check")[0]["due_at"]) == new_due, \
        "the unit's open task shows the new deadline"
    assert office.get("/extensions").get_json()["items"] == []
    again = office.post(f"/extensions/{request['id']}/refuse", json={"opinion": "改判"})
    assert again.status_code == 409 and again.get_json()["code"] == "extension_decided"

    move = _mover(api, clock, ctx)
    move(due - timedelta(days=10) + timedelta(minutes=1))  # the old yellow point
    assert _warning(api, other["id"]) == "yellow", "a unit without an extension is warned as before"
    assert _warning(api, case["id"]) == "none", "nothing fires at the old points"
    move(due + timedelta(minutes=1))  # the old red point; the new green point (new_due - 20 days) has passed
    assert _warning(api, other["id"]) == "red"
    assert _warning(api, case["id"]) == "green"
    move(new_due - timedelta(days=10) + timedelta(minutes=1))
    assert _warning(api, case["id"]) == "yellow", "the yellow warning fires at the new point"
    move(new_due - timedelta(minutes=1))
    assert _warning(api, case["id"]) == "yellow"
    move(new_due + timedelta(minutes=1))
    assert _warning(api, case["id"]) == "red", "the red warning fires at the new deadline"
    kinds = [a["kind"] for a in api.as_("office1").get("/lists/supervision", query_string={"unit_id": d.units[1]})
             .get_json()["items"]]
    assert kinds.count("warning_yellow") == 1 and kinds.count("warning_red") == 1 and "extension_approved" in kinds


def test_a_refused_extension_changes_nothing_and_requests_are_checked(ctx, api, district, clock):
    d = district
    round_id = publish_round(api, d)
    office, unit = api.as_("office1"), liaison(api, d, 1)
    case = _case(api, d, round_id, 1)
    path = f"/cases/{case['id']}/extension"
    for body, code in (({"days": 0, "reason": "x"}, "days_out_of_range"),
                       ({"days": ctx.settings.extension_max_days + 1, "reason": "x"}, "days_out_of_range"),
                       ({"days": 5, "reason": "  "}, "reason_required")):
        r = unit.post(path, json=body)
        assert r.status_code == 422 and r.get_json()["code"] == code, (body, r.get_json())
    assert office.post(path, json={"days": 5, "reason": "巡察办代申请"}).status_code == 403
    assert liaison(api, d, 2).post(path, json={"days": 5, "reason": "别的单位"}).status_code in (403, 404)

    request = unit.post(path, json={"days": 10, "reason": "人员调整"}).get_json()
    r = office.post(f"/extensions/{request['id']}/refuse", json={})
    assert r.status_code == 422 and r.get_json()["code"] == "opinion_required"
    r = office.post(f"/extensions/{request['id']}/refuse", json={"opinion": "理由不充分，请按期完成"})
    assert r.status_code == 200 and r.get_json()["state"] == "refused"
    assert office.get(f"/cases/{case['id']}").get_json()["due_at"] == case["due_at"]
    states = [e["state"] for e in unit.get(f"/cases/{case['id']}/extensions").get_json()["items"]]
    assert states == ["refused"]

    due = datetime.fromisoformat(case["due_at"])
    _mover(api, clock, ctx)(due - timedelta(days=10) + timedelta(minutes=1))
    assert _warning(api, case["id"]) == "yellow", "the warnings stay where they were"


def test_a_measure_due_after_close_out_is_reported_with_evidence_or_flagged_overdue(ctx, api, district, clock):
    d = district
    round_id = publish_round(api, d)
    closed_on = clock.now().astimezone(ctx.zone).date()
    soon, later = closed_on + timedelta(days=30), closed_on + timedelta(days=40)
    case = _close_with_measures(api, d, round_id, 2, [("已完成的措施", closed_on.isoformat()),
                                                      ("建立合同审查台账", soon.isoformat()),
                                                      ("修订招标管理办法", later.isoformat())])
    office, unit = api.as_("office1"), liaison(api, d, 2)
    assert office.get(f"/cases/{case['id']}").get_json()["status"] == "closed"
    followed = {m["description"]: m["followup"] for m in unit.get(f"/cases/{case['id']}/measures").get_json()["items"]}
    assert followed == {"已完成的措施": None, "建立合同审查台账": "open", "修订招标管理办法": "open"}
    [row] = office.get("/lists/rectifications", query_string={"round_id": round_id, "unit_id": d.units[2]}) \
        .get_json()["items"]
    assert row["followup"] == "open" and "建立合同审查台账" in row["followup_measures"]
    assert unit.tasks(bpmn_id="report_measure") == [], "no task before its notice point"

    move = _mover(api, clock, ctx)

    def unit():  # logged in again after each move of the clock
        return liaison(api, d, 2)

    def office():
        return api.as_("office1")
    zone = ctx.zone
    end_of = lambda day: datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=zone)  # noqa: E731
    notice = timedelta(days=ctx.settings.measure_notice_days)
    move(end_of(soon) - notice - timedelta(minutes=1))
    assert unit().tasks(bpmn_id="report_measure") == []
    move(end_of(soon) - notice + timedelta(minutes=1))
    [task] = unit().tasks(bpmn_id="report_measure")
    assert datetime.fromisoformat(task["due_at"]) == end_of(soon)
    inbox = unit().get("/tasks").get_json()["items"]
    assert task["id"] in {t["id"] for t in inbox}, "the follow-up task is in the unit's inbox"

    r = unit().post(f"/tasks/{task['id']}/complete", json={"data": {"comment": "台账已建立"}})
    assert r.status_code == 422 and r.get_json()["code"] == "evidence_required", r.get_json()
    measure_id = next(m["id"] for m in unit().get(f"/cases/{case['id']}/measures").get_json()["items"]
                      if m["description"] == "建立合同审查台账")
    later_id = next(m["id"] for m in unit().get(f"/cases/{case['id']}/measures").get_json()["items"]
                    if m["description"] == "修订招标管理办法")
    upload = {"file": (io.BytesIO(b"%PDF-1.4 ledger"), "台账.pdf"), "measure_id": str(later_id)}
    r = unit().post(f"/cases/{case['id']}/evidence", data=upload, content_type="multipart/form-data")
    assert r.status_code == 422 and r.get_json()["code"] == "evidence_not_open", "its task is not open yet"
    upload = {"file": (io.BytesIO(b"%PDF-1.4 ledger"), "台账.pdf"), "measure_id": str(measure_id)}
    r = unit().post(f"/cases/{case['id']}/evidence", data=upload, content_type="multipart/form-data")
    assert r.status_code == 201 and r.get_json()["measure_id"] == measure_id, r.get_json()
    unit().complete(task["id"], {"comment": "台账已建立"})

    move(end_of(later) + timedelta(minutes=1))  # the other measure was never reported
    followed = {m["description"]: m["followup"] for m in unit().get(f"/cases/{case['id']}/measures").get_json()["items"]}
    assert followed == {"已完成的措施": None, "建立合同审查台账": "done", "修订招标管理办法": "overdue"}
    overdue = office().get("/measures/overdue").get_json()["items"]
    assert [(m["description"], m["case_id"]) for m in overdue] == [("修订招标管理办法", case["id"])]
    [row] = office().get("/lists/rectifications", query_string={"round_id": round_id, "unit_id": d.units[2]}) \
        .get_json()["items"]
    assert row["followup"] == "overdue" and "【逾期未完成】修订招标管理办法" in row["followup_measures"]
    kinds = [a["kind"] for a in office().get("/lists/supervision", query_string={"unit_id": d.units[2]})
             .get_json()["items"]]
    assert "measure_done" in kinds and "measure_overdue" in kinds
    # the office re-checks the case for it (回头看)
    r = office().post(f"/cases/{case['id']}/recheck", json={"comment": "措施逾期未完成，回头看"})
    assert r.status_code == 200 and r.get_json()["status"] == "rectifying"
