"""Supervision that acts: the office's choice on an overdue case sets the unit, the leader and the
inspectors to work, and every step lands once on the supervision list (督查清单)."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from support.api import liaison, publish_round

from service.models import Case, Expert, LeaderNotification
from service.timers import run_due_timers


def _errors(body) -> dict:
    return {e["field"]: e["code"] for e in body.get("errors") or []}


def _refused(user, task_id, data, code) -> dict:
    r = user.post(f"/tasks/{task_id}/complete", json={"data": data})
    assert r.status_code == 422, r.get_json()
    body = r.get_json()
    assert body["code"] == code, body
    return _errors(body)


def test_a_late_unit_is_tracked_talked_to_inspected_sent_back_and_closed(ctx, api, district, clock):
    d = district

    def move(when):
        clock.move_to(when)
        api.tokens.clear()  # tokens expire by the same clock

    round_id = publish_round(api, d)
    ctx.db.transaction(lambda s: s.add(Expert(name="王协审", organisation="区审计局", specialties=["工程"],
                                              active=True)))
    office = api.as_("office1")
    case = next(c for c in office.get("/cases", query_string={"limit": 500}).get_json()["items"]
                if c["unit_id"] == d.units[1])
    due = datetime.fromisoformat(case["due_at"])
    common = office.get(f"/rounds/{round_id}").get_json()["common_problems"]
    def unit_staff():
        return liaison(api, d, 1), api.as_(f"{d.codes[d.units[1]].lower()}_head")

    unit, head = unit_staff()
    unit.complete(unit.tasks(bpmn_id="self_check")[0]["id"], {"items": [
        {"common_problem_id": common[0]["id"], "applicable": True, "problems_found": 1, "findings": "合同未审"}]})

    # red: the office is to choose how to track the late unit
    move(due + timedelta(minutes=1))
    run_due_timers(ctx)
    office, (unit, head) = api.as_("office1"), unit_staff()
    track = next(t for t in office.tasks(bpmn_id="track_supervision") if t["unit_id"] == d.units[1])
    form = office.get(f"/tasks/{track['id']}").get_json()["form"]["properties"]
    assert form["action"]["enum"] == ["tracking_letter", "talk_reminder", "special_inspection"]
    assert {"demand", "reply_days", "talked_by", "talked_with", "talked_on", "summary", "inspectors"} <= set(form)

    # each choice is refused without what it needs
    assert _refused(office, track["id"], {"action": "tracking_letter"}, "demand_required") == {
        "demand": "demand_required"}
    assert _refused(office, track["id"], {"action": "talk_reminder", "talked_by": "张书记"},
                    "talk_record_required") == {f: "talk_record_required" for f in
                                                ("talked_with", "talked_on", "summary")}
    assert _refused(office, track["id"], {"action": "special_inspection"}, "inspectors_required") == {
        "inspectors": "inspectors_required"}
    assert _refused(office, track["id"], {"action": "special_inspection", "inspectors": "office1"},
                    "not_an_inspector") == {"inspectors": "not_an_inspector"}
    assert _refused(office, track["id"], {"action": "special_inspection", "inspectors": "inspector0",
                                          "experts": "无名氏"}, "unknown_expert") == {"experts": "unknown_expert"}

    # 督办函: the unit's head answers within the days set on the letter
    office.complete(track["id"], {"action": "tracking_letter", "demand": "七日内书面报告整改进展", "reply_days": 7})
    assert [t for t in office.tasks(bpmn_id="track_supervision") if t["unit_id"] == d.units[1]] == []
    reply = head.tasks(bpmn_id="reply_tracking_letter")
    assert len(reply) == 1 and reply[0]["unit_id"] == d.units[1]
    assert abs(datetime.fromisoformat(reply[0]["due_at"]) - clock.now() - timedelta(days=7)) < timedelta(minutes=1)
    assert unit.tasks(bpmn_id="reply_tracking_letter") == [], "the head answers for the unit"
    head.attach_evidence(case["id"], name="整改进展报告.pdf")
    assert _refused(head, reply[0]["id"], {"reply": "   "}, "invalid_task_data") == {"reply": "required"}
    head.complete(reply[0]["id"], {"reply": "已完成合同审核制度修订，正在组织自查"})
    track = next(t for t in office.tasks(bpmn_id="track_supervision") if t["unit_id"] == d.units[1])

    # the talk timer (the unit has not filed yet): the five-person group talks with the head; the
    # leader in charge is told
    move(due + timedelta(days=ctx.settings.talk_days, minutes=2))
    run_due_timers(ctx)
    office, (unit, head) = api.as_("office1"), unit_staff()
    talk = next(t for t in office.tasks(bpmn_id="talk_reminder") if t["unit_id"] == d.units[1])
    talk_record = {"talked_by": "张书记、李部长", "talked_with": "负责人1", "talked_on": "2027-02-10",
                   "summary": "限期十日内完成整改"}
    assert _refused(office, talk["id"], {**talk_record, "summary": " "}, "talk_record_required") == {
        "summary": "talk_record_required"}
    office.complete(talk["id"], talk_record)
    leader = api.as_("leader1")  # the district gives units[1] to the second leader
    notes = leader.get("/notifications", query_string={"limit": 500}).get_json()["items"]
    assert [n["case_id"] for n in notes if n["kind"] == "talk_record"] == [case["id"]]

    # then the unit rectifies and files, late
    unit.complete(unit.tasks(bpmn_id="rectify")[0]["id"], {"items": [
        {"common_problem_id": common[0]["id"], "status": "done", "institutions": [],
         "measures": [{"description": "合同一律法律审核", "deadline": "2027-03-01"}]}]})
    head.complete(head.tasks(bpmn_id="attest_and_file")[0]["id"], {"attest": True})
    assert len([t for t in office.tasks(bpmn_id="review_filing") if t["unit_id"] == d.units[1]]) == 1


    # 专项督查: the inspectors named check the unit on site; the check fails
    office.complete(track["id"], {"action": "special_inspection", "inspectors": "inspector1，inspector1",
                                  "experts": "王协审", "comment": "实地核查合同台账"})
    assert api.as_("inspector0").tasks(bpmn_id="inspect_unit") == [], "only the inspectors sent"
    inspector = api.as_("inspector1")
    check = inspector.tasks(bpmn_id="inspect_unit")
    assert [t["unit_id"] for t in check] == [d.units[1]]
    assert _refused(inspector, check[0]["id"], {"findings": " ", "result": "failed"}, "invalid_task_data") == {
        "findings": "required"}
    inspector.complete(check[0]["id"], {"findings": "抽查三份合同均未经法律审核", "result": "failed"})
    assert inspector.tasks(bpmn_id="inspect_unit") == []

    # back to rectification: the filing under review is returned, the unit rectifies and files again
    office = api.as_("office1")
    assert office.get(f"/cases/{case['id']}").get_json()["status"] == "returned"
    assert [t for t in office.tasks(bpmn_id="review_filing") if t["unit_id"] == d.units[1]] == []
    assert unit.tasks(bpmn_id="self_check") == [], "the self-check stands"
    run_due_timers(ctx)  # the unit's work starts again past its deadline: no warning is repeated
    unit.complete(unit.tasks(bpmn_id="rectify")[0]["id"], {"items": [
        {"common_problem_id": common[0]["id"], "status": "done", "institutions": [{"title": "合同审核办法"}],
         "measures": [{"description": "全部合同补做法律审核", "deadline": "2027-03-10"}]}]})
    head.complete(head.tasks(bpmn_id="attest_and_file")[0]["id"], {"attest": True})
    review = next(t for t in office.tasks(bpmn_id="review_filing") if t["unit_id"] == d.units[1])
    office.complete(review["id"], {"accepted": True, "comment": "整改到位"})
    assert office.get(f"/cases/{case['id']}").get_json()["status"] == "closed"
    assert [t for t in office.tasks() if t["unit_id"] == d.units[1]] == [], "closing ends the tracking too"

    # the supervision list: every step once, with when, who and how it ended
    rows = office.get("/lists/supervision", query_string={"unit_id": d.units[1]}).get_json()["items"]
    assert [r["kind"] for r in rows] == ["warning_green", "warning_yellow", "warning_red", "tracking_letter",
                                         "tracking_reply", "talk_reminder", "special_inspection",
                                         "inspection_check"]
    by_kind = {r["kind"]: r for r in rows}
    assert by_kind["tracking_letter"]["outcome"] == "replied" and by_kind["tracking_letter"]["actor"] == "巡察办"
    assert by_kind["tracking_letter"]["due"] and "七日内" in by_kind["tracking_letter"]["detail"]
    assert by_kind["tracking_reply"]["actor"] == "负责人1" and "合同审核" in by_kind["tracking_reply"]["detail"]
    assert by_kind["talk_reminder"]["outcome"] == "recorded" and "张书记" in by_kind["talk_reminder"]["detail"]
    assert "巡察员1" in by_kind["special_inspection"]["detail"] and "王协审" in by_kind["special_inspection"]["detail"]
    assert by_kind["inspection_check"]["outcome"] == "failed" and by_kind["inspection_check"]["actor"] == "巡察员1"
    history = office.get(f"/cases/{case['id']}/history").get_json()["items"]
    letter = next(a for a in history if a["kind"] == "tracking_letter")
    assert letter["outcome"] == "replied" and letter["due_at"] and letter["data"] == {"demand": "七日内书面报告整改进展"}
    reply = next(a for a in history if a["kind"] == "tracking_reply")
    assert len(reply["data"]["evidence_ids"]) == 1, "the evidence sent with the reply"
    with ctx.db.read() as s:
        assert s.get(Case, case["id"]).status == "closed"
        assert s.scalar(select(LeaderNotification.kind).where(LeaderNotification.kind == "talk_record"))


def test_an_unanswered_letter_is_on_record_and_the_office_chooses_again(ctx, api, district, clock):
    d = district
    publish_round(api, d)
    office = api.as_("office1")
    due = datetime.fromisoformat(office.get("/cases").get_json()["items"][0]["due_at"])
    clock.move_to(due + timedelta(minutes=1))
    api.tokens.clear()
    run_due_timers(ctx)
    office = api.as_("office1")
    track = next(t for t in office.tasks(bpmn_id="track_supervision") if t["unit_id"] == d.units[2])
    office.complete(track["id"], {"action": "tracking_letter", "demand": "报告整改进展"})
    reply = api.as_(f"{d.codes[d.units[2]].lower()}_head").tasks(bpmn_id="reply_tracking_letter")
    assert len(reply) == 1, "the letter's task is in the unit head's inbox"
    assert abs(datetime.fromisoformat(reply[0]["due_at"]) - clock.now()
               - timedelta(days=ctx.settings.reply_days)) < timedelta(minutes=1)

    clock.move_to(clock.now() + timedelta(days=ctx.settings.reply_days, minutes=1))
    api.tokens.clear()
    run_due_timers(ctx)
    office = api.as_("office1")
    head = api.as_(f"{d.codes[d.units[2]].lower()}_head")
    assert head.tasks(bpmn_id="reply_tracking_letter") == []
    assert [t["unit_id"] for t in office.tasks(bpmn_id="track_supervision")].count(d.units[2]) == 1
    rows = office.get("/lists/supervision", query_string={"unit_id": d.units[2]}).get_json()["items"]
    assert [r["kind"] for r in rows][-2:] == ["tracking_letter", "tracking_reply_late"]
    assert rows[-2]["outcome"] == "reply_late" and rows[-1]["actor"] is None
    told = office.get("/notices", query_string={"limit": 500}).get_json()["items"]
    assert any(n["kind"] == "tracking_reply_late" and n["unit_id"] == d.units[2] for n in told)

    # the office chooses the talk itself, on its tracking task: recorded, the leader in charge told
    track = next(t for t in office.tasks(bpmn_id="track_supervision") if t["unit_id"] == d.units[2])
    office.complete(track["id"], {"action": "talk_reminder", "talked_by": "五人小组：王书记", "talked_with": "负责人2",
                                  "talked_on": "2027-02-05", "summary": "督促三日内备案"})
    rows = office.get("/lists/supervision", query_string={"unit_id": d.units[2]}).get_json()["items"]
    assert rows[-1]["kind"] == "talk_reminder" and rows[-1]["outcome"] == "recorded"
    notes = api.as_("leader0").get("/notifications", query_string={"limit": 500}).get_json()["items"]
    assert [n["unit_ids"] for n in notes if n["kind"] == "talk_record"] == [[d.units[2]]]
    assert [t["unit_id"] for t in office.tasks(bpmn_id="track_supervision")].count(d.units[2]) == 1, \
        "the office chooses again"


def test_a_tracking_task_of_an_earlier_model_version_is_not_asked_for_fields_its_form_lacks():
    """A case still running on the model before supervision acted offers only `action` and `comment`:
    its office can still complete the task."""
    from service.supervision_steps import check_tracking

    earlier = frozenset({"action", "comment"})
    for action in ("tracking_letter", "talk_reminder", "special_inspection"):
        check_tracking(None, 0, {"action": action}, earlier)  # type: ignore[arg-type]


def test_a_failed_check_before_filing_returns_the_case_and_the_unit_keeps_rectifying(ctx, api, district, clock):
    d = district
    round_id = publish_round(api, d)
    office = api.as_("office1")
    case = next(c for c in office.get("/cases", query_string={"limit": 500}).get_json()["items"]
                if c["unit_id"] == d.units[4])
    common = office.get(f"/rounds/{round_id}").get_json()["common_problems"]
    unit = liaison(api, d, 4)
    unit.complete(unit.tasks(bpmn_id="self_check")[0]["id"], {"items": [
        {"common_problem_id": common[0]["id"], "applicable": True, "problems_found": 2, "findings": "两处"}]})
    clock.move_to(datetime.fromisoformat(case["due_at"]) + timedelta(minutes=1))
    api.tokens.clear()
    run_due_timers(ctx)
    office = api.as_("office1")
    track = next(t for t in office.tasks(bpmn_id="track_supervision") if t["unit_id"] == d.units[4])
    office.complete(track["id"], {"action": "special_inspection", "inspectors": "inspector0"})
    inspector = api.as_("inspector0")
    inspector.complete(inspector.tasks(bpmn_id="inspect_unit")[0]["id"],
                       {"findings": "整改措施未落实", "result": "failed"})
    assert office.get(f"/cases/{case['id']}").get_json()["status"] == "returned"
    unit = liaison(api, d, 4)
    assert len(unit.tasks(bpmn_id="rectify")) == 1, "the unit goes on with its rectification"
    told = unit.get("/notices", query_string={"limit": 500}).get_json()["items"]
    assert any(n["kind"] == "returned" and n["detail"] == "整改措施未落实" for n in told)
    rows = office.get("/lists/supervision", query_string={"unit_id": d.units[4]}).get_json()["items"]
    assert [(r["kind"], r["outcome"]) for r in rows][-2:] == [("special_inspection", "failed"),
                                                              ("inspection_check", "failed")]
