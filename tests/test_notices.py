"""The message centre (消息), the leaders' 签收 and 批示, 催办, and the functional departments' read
access to the cases of the common problems they govern, through the API."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from support.api import liaison, publish_round
from support.audit import entries
from support.notices import govern, kinds, notices, unread

from service.timers import run_due_timers


def _case_of(api, unit_id):
    rows = api.as_("office1").get("/cases", query_string={"limit": 500}).get_json()["items"]
    return next(c for c in rows if c["unit_id"] == unit_id)


def _head(api, d, index):
    return api.as_(f"{d.codes[d.units[index]].lower()}_head")


def test_a_published_list_and_new_tasks_reach_whoever_does_them_and_are_read_one_by_one_or_all(api, district):
    d = district
    unit = liaison(api, d, 2)
    assert unread(unit) == 0
    publish_round(api, d)

    assert kinds(unit) == ["list_published", "task"]
    task_notice = next(n for n in notices(unit) if n["kind"] == "task")
    self_check = unit.tasks(bpmn_id="self_check")[0]
    assert task_notice["task_id"] == self_check["id"] and task_notice["read"] is False
    assert task_notice["case_id"] == _case_of(api, d.units[2])["id"] and task_notice["subject"]
    assert kinds(_head(api, d, 2)) == ["list_published"], "the self-check is the liaison's task"
    leader = api.as_("leader0")
    leader_notice = notices(leader)
    assert [n["kind"] for n in leader_notice] == ["list_published"] and leader_notice[0]["notification_id"]

    # reading one lowers the count by one; someone else's is not there to read
    assert unread(unit) == 2
    r = unit.post(f"/notices/{task_notice['id']}/read")
    assert r.status_code == 200 and r.get_json()["read"] is True and r.get_json()["read_at"]
    assert unread(unit) == 1
    assert unit.get("/notices", query_string={"unread": "true"}).get_json()["total"] == 1
    assert leader.post(f"/notices/{task_notice['id']}/read").status_code == 404
    assert unit.get("/notices", query_string={"unread": "maybe"}).status_code == 400

    # a task done is nothing to be told of any more
    assert unread(liaison(api, d, 3)) == 2
    other = liaison(api, d, 3)
    common = api.as_("office1").get("/cases").get_json()["items"][0]["round_id"]
    cp = api.as_("office1").get(f"/rounds/{common}").get_json()["common_problems"][0]["id"]
    other.complete(other.tasks(bpmn_id="self_check")[0]["id"], {"items": [
        {"common_problem_id": cp, "applicable": False, "reason": "本单位不涉及", "problems_found": 0, "findings": "不涉及"}]})
    assert [n["kind"] for n in notices(other, unread="true")] == ["task", "list_published"]
    assert notices(other, unread="true")[0]["subject"] != task_notice["subject"], "the rectify task, new"

    r = unit.post("/notices/read-all")
    assert r.status_code == 200 and r.get_json() == {"marked": 1}
    assert unread(unit) == 0


def test_warnings_reach_the_unit_and_its_leader_who_signs_with_an_instruction_the_office_and_unit_read(
        ctx, api, district, clock):
    d = district
    publish_round(api, d)
    case = _case_of(api, d.units[2])
    due = datetime.fromisoformat(case["due_at"])
    leader = api.as_("leader0")  # units 0, 2 and 4 are in leader0's charge
    before = unread(leader)

    clock.move_to(due - timedelta(days=10) + timedelta(minutes=1))
    api.tokens.clear()
    run_due_timers(ctx)
    run_due_timers(ctx)
    leader = api.as_("leader0")
    assert "warning_yellow" in kinds(liaison(api, d, 2)) and "warning_yellow" in kinds(_head(api, d, 2))
    assert unread(leader) == before + 3, "a yellow warning for each of the three units in the leader's charge"

    clock.move_to(due + timedelta(minutes=1))
    api.tokens.clear()
    run_due_timers(ctx)
    run_due_timers(ctx)
    leader = api.as_("leader0")
    assert "warning_red" in kinds(liaison(api, d, 2))
    notes = leader.get("/notifications", query_string={"limit": 500}).get_json()["items"]
    red = next(n for n in notes if n["kind"] == "red_warning" and n["case_id"] == case["id"])
    assert {n["kind"] for n in notes} == {"list", "yellow_warning", "red_warning"}
    assert all(n["leader_id"] == d.leaders[0] for n in notes)

    # the talk with a still-late unit's head: the office holds it, the leader is reminded
    clock.move_to(due + timedelta(days=ctx.settings.talk_days, minutes=2))
    api.tokens.clear()
    run_due_timers(ctx)
    run_due_timers(ctx)
    leader = api.as_("leader0")
    talks = [n for n in leader.get("/notifications", query_string={"limit": 500}).get_json()["items"]
             if n["kind"] == "talk_reminder"]
    assert sorted(n["unit_ids"][0] for n in talks) == sorted([d.units[0], d.units[2], d.units[4]])
    assert "talk_reminder" in kinds(leader)

    # 签收 with a 批示: refused to others, checked, then told to the office and the unit
    path = f"/notifications/{red['id']}/acknowledge"
    r = leader.post(path, json={"instruction": 5})
    assert r.status_code == 422 and r.get_json()["errors"][0]["field"] == "instruction"
    r = leader.post(path, json={"instruction": "x" * 2001})
    assert r.status_code == 422 and r.get_json()["errors"][0]["field"] == "instruction"
    assert api.as_("office1").post(path, json={"instruction": "代签"}).status_code == 403
    assert api.as_("leader1").post(path, json={}).status_code == 404
    assert liaison(api, d, 2).post(path, json={}).status_code == 404
    office_before = unread(api.as_("office1"))
    r = leader.post(path, json={"instruction": "限期一周内整改到位，主要负责人亲自抓。"})
    assert r.status_code == 200 and r.get_json()["instruction"] == "限期一周内整改到位，主要负责人亲自抓。"
    assert r.get_json()["acknowledged_at"]
    assert unread(api.as_("office1")) == office_before + 1
    told = notices(api.as_("office1"))[0]
    assert told["kind"] == "instruction" and told["case_id"] == case["id"] and "一周" in told["detail"]
    assert "instruction" in kinds(liaison(api, d, 2))
    assert "instruction" not in kinds(liaison(api, d, 4)), "only the unit the notice is about"
    # a notice without a body is signed for without an instruction
    yellow = next(n for n in leader.get("/notifications").get_json()["items"] if n["kind"] == "yellow_warning")
    r = leader.post(f"/notifications/{yellow['id']}/acknowledge")
    assert r.status_code == 200 and r.get_json()["instruction"] is None
    assert [e.detail for e in entries(ctx, action="notification_acknowledged")] == [
        {"instruction": True}, {"instruction": False}]


def test_the_office_urges_a_late_unit_whose_liaison_and_head_are_told(ctx, api, district):
    d = district
    publish_round(api, d)
    case = _case_of(api, d.units[2])
    office = api.as_("office1")
    path = f"/cases/{case['id']}/urge"

    for who in ("u002_liaison", "u002_head", "leader0", "leading1", "u000_liaison", "admin", "inspector0",
                "discipline1", "designer1"):
        r = api.as_(who).post(path, json={"comment": "请抓紧"})
        assert r.status_code in (403,), (who, r.status_code)
    r = office.post(path, json={})
    assert r.status_code == 422 and r.get_json()["errors"][0]["field"] == "comment"
    r = office.post(path, json={"comment": "   "})
    assert r.status_code == 422 and r.get_json()["errors"][0]["field"] == "comment"
    assert office.post("/cases/999999/urge", json={"comment": "请抓紧"}).status_code == 404

    before = unread(liaison(api, d, 2)), unread(_head(api, d, 2))
    r = office.post(path, json={"comment": "自查进度滞后，请于本周内完成。"})
    assert r.status_code == 201 and r.get_json()["kind"] == "urge"
    assert (unread(liaison(api, d, 2)), unread(_head(api, d, 2))) == (before[0] + 1, before[1] + 1)
    urge = notices(_head(api, d, 2))[0]
    assert urge["kind"] == "urge" and urge["detail"] == "自查进度滞后，请于本周内完成。"
    assert "urge" not in kinds(liaison(api, d, 3))
    history = liaison(api, d, 2).get(f"/cases/{case['id']}/history").get_json()["items"]
    assert [(h["kind"], h["detail"]) for h in history] == [("urge", "自查进度滞后，请于本周内完成。")]
    assert liaison(api, d, 3).get(f"/cases/{case['id']}/history").status_code == 404
    assert [e.target for e in entries(ctx, action="case_urged")] == [f"case:{case['id']}"]

    # a filed case is the office's to review, not the unit's to be urged
    unit = liaison(api, d, 0)
    round_id = case["round_id"]
    cp = office.get(f"/rounds/{round_id}").get_json()["common_problems"][0]["id"]
    unit.complete(unit.tasks(bpmn_id="self_check")[0]["id"], {"items": [
        {"common_problem_id": cp, "applicable": False, "reason": "本单位不涉及", "problems_found": 0, "findings": "不涉及"}]})
    unit.complete(unit.tasks(bpmn_id="rectify")[0]["id"], {"items": []})
    head = _head(api, d, 0)
    head.attach_evidence(_case_of(api, d.units[0])["id"])
    head.complete(head.tasks(bpmn_id="attest_and_file")[0]["id"], {"attest": True})
    filed = _case_of(api, d.units[0])
    r = office.post(f"/cases/{filed['id']}/urge", json={"comment": "请抓紧"})
    assert r.status_code == 422 and r.get_json()["code"] == "case_not_open"

    # a return tells the unit why
    office.complete(office.tasks(bpmn_id="review_filing", unit_id=d.units[0])[0]["id"],
                    {"accepted": False, "comment": "佐证材料不全，请补充。"})
    returned = next(n for n in notices(unit) if n["kind"] == "returned")
    assert returned["detail"] == "佐证材料不全，请补充。" and returned["case_id"] == filed["id"]


@pytest.fixture
def governed(ctx, api, district):
    """Department 0 governs units 2 and 3, and the published list's common problem."""
    govern(ctx, district.departments[0], [district.units[2], district.units[3]])
    publish_round(api, district)
    return {u: _case_of(api, u)["id"] for u in district.units}


def test_a_department_reads_and_comments_on_the_cases_it_governs_and_no_other(ctx, api, district, governed):
    d = district
    department = api.as_("u000_liaison")  # the department's own liaison holds the department role
    listed = department.get("/cases", query_string={"limit": 500}).get_json()["items"]
    assert sorted(c["unit_id"] for c in listed) == sorted([d.units[0], d.units[2], d.units[3]])
    assert department.get(f"/cases/{governed[d.units[2]]}").status_code == 200
    r = department.get(f"/cases/{governed[d.units[4]]}")
    assert r.status_code == 403 and r.get_json()["code"] == "case_not_governed"
    assert department.get(f"/cases/{governed[d.units[4]]}/evidence").status_code == 403
    assert api.as_("u001_liaison").get(f"/cases/{governed[d.units[2]]}").status_code == 403, "not department 1's"
    assert department.get("/cases/999999").status_code == 404

    path = f"/cases/{governed[d.units[2]]}/comments"
    r = department.post(path, json={"comment": ""})
    assert r.status_code == 422 and r.get_json()["errors"][0]["field"] == "comment"
    for who in ("office1", "leader0", "u002_liaison", "u002_head", "leading1", "admin"):
        assert api.as_(who).post(path, json={"comment": "意见"}).status_code == 403, who
    r = department.post(f"/cases/{governed[d.units[0]]}/comments", json={"comment": "意见"})
    assert r.status_code == 403 and r.get_json()["code"] == "case_not_governed", "its own case is not governed"
    r = department.post(path, json={"comment": "建议对照行业规范完善合同审核流程。"})
    assert r.status_code == 201 and r.get_json()["department_id"] == d.departments[0]

    unit = liaison(api, d, 2)
    assert [c["text"] for c in unit.get(path).get_json()["items"]] == ["建议对照行业规范完善合同审核流程。"]
    assert notices(unit)[0]["kind"] == "comment"
    assert liaison(api, d, 4).get(path).status_code == 404
    assert [e.target for e in entries(ctx, action="case_commented")] == [f"case:{governed[d.units[2]]}"]


def test_a_department_whose_governance_report_is_sent_back_is_told_why(api, district):
    d = district
    publish_round(api, d)
    department, office = api.as_("u000_liaison"), api.as_("office1")
    assert "task" in kinds(department), "the recommendation letter's plan is the department's task"
    department.complete(department.tasks(bpmn_id="plan_governance")[0]["id"], {"plan": "开展合同管理专项治理"})
    department.complete(department.tasks(bpmn_id="report_governance")[0]["id"],
                        {"report": "已完成", "measures": 3, "institutions": 1})
    office.complete(office.tasks(bpmn_id="evaluate_governance")[0]["id"],
                    {"accepted": False, "comment": "制度建设不足，请补充。"})
    returned = next(n for n in notices(department) if n["kind"] == "returned")
    assert returned["detail"] == "制度建设不足，请补充。" and returned["unit_id"] == d.departments[0]
