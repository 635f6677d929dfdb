"""Deadline timers: green at T-20 days, yellow (leader alerted) at T-10, red and a tracking task when overdue."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from support.api import liaison, publish_round

from service.models import LeaderNotification, SupervisionAction
from service.timers import run_due_timers


def _counts(ctx):
    with ctx.db.read() as s:
        actions = dict(s.execute(select(SupervisionAction.kind, func.count())
                                 .where(SupervisionAction.case_id.is_not(None)).group_by(SupervisionAction.kind)).all())
        alerts = s.scalar(select(func.count()).select_from(LeaderNotification)
                          .where(LeaderNotification.kind == "yellow_warning"))
    return actions, alerts


def _warnings(api):
    return {c["unit_id"]: c["warning"] for c in api.as_("office1").get("/cases", query_string={"limit": 500})
            .get_json()["items"]}


def test_warnings_escalate_once_each_as_the_clock_moves(ctx, api, district, clock):
    d = district

    def move(when):
        clock.move_to(when)
        api.tokens.clear()  # tokens expire by the same clock

    publish_round(api, d)
    office = api.as_("office1")
    case = office.get("/cases").get_json()["items"][0]
    due = datetime.fromisoformat(case["due_at"])
    assert due.utcoffset() == timedelta(hours=8), "deadlines are shown in Asia/Shanghai"
    published = due - timedelta(days=60)
    assert abs((published - clock.now()).total_seconds()) < 60

    # one unit files early: it must never be warned
    early = liaison(api, d, 0)
    round_id = case["round_id"]
    common = office.get(f"/rounds/{round_id}").get_json()["common_problems"]
    early.complete(early.tasks(bpmn_id="self_check")[0]["id"], {"items": [
        {"common_problem_id": common[0]["id"], "applicable": False, "reason": "无", "problems_found": 0, "findings": "不涉及"}]})
    early.complete(early.tasks(bpmn_id="rectify")[0]["id"], {"items": []})
    head = api.as_(f"{d.codes[d.units[0]].lower()}_head")
    head.attach_evidence(next(c["id"] for c in office.get("/cases", query_string={"limit": 500}).get_json()["items"]
                              if c["unit_id"] == d.units[0]))
    head.complete(head.tasks(bpmn_id="attest_and_file")[0]["id"], {"attest": True})
    late_units = set(d.units[1:])

    move(due - timedelta(days=20, minutes=1))
    assert run_due_timers(ctx) == 0
    assert set(_warnings(api).values()) == {"none"}

    move(due - timedelta(days=20) + timedelta(minutes=1))
    assert run_due_timers(ctx) == len(late_units)
    assert run_due_timers(ctx) == 0, "a timer fires once"
    warnings = _warnings(api)
    assert {u for u, w in warnings.items() if w == "green"} == late_units
    assert warnings[d.units[0]] == "none"
    assert _counts(ctx) == ({"warning_green": len(late_units)}, 0)

    move(due - timedelta(days=10) + timedelta(minutes=1))
    run_due_timers(ctx)
    assert {u for u, w in _warnings(api).items() if w == "yellow"} == late_units
    assert _counts(ctx) == ({"warning_green": 5, "warning_yellow": 5}, 5), "each late unit's leader is alerted"
    assert api.as_("office1").tasks(bpmn_id="track_supervision") == []

    move(due + timedelta(minutes=1))
    run_due_timers(ctx)
    run_due_timers(ctx)
    assert {u for u, w in _warnings(api).items() if w == "red"} == late_units
    tracking = api.as_("office1").tasks(bpmn_id="track_supervision")
    assert sorted(t["unit_id"] for t in tracking) == sorted(late_units)
    assert api.as_("office1").get("/stats").get_json()["units_overdue"] == len(late_units)
    board = api.as_("office1").get("/warnings").get_json()
    assert board["counts"] == {"none": 1, "green": 0, "yellow": 0, "red": 5}
    assert sorted(r["unit_id"] for r in board["red"]) == sorted(late_units)
    mine = liaison(api, d, 2).get("/warnings").get_json()
    assert mine["counts"]["red"] == 1 and [r["unit_id"] for r in mine["red"]] == [d.units[2]]

    office = api.as_("office1")
    office.complete(tracking[0]["id"], {"action": "tracking_letter", "comment": "发出跟踪督办函",
                                         "demand": "五日内报告整改进展"})
    actions, alerts = _counts(ctx)
    assert actions == {"warning_green": 5, "warning_yellow": 5, "warning_red": 5, "tracking_letter": 1}
    assert alerts == 5

    # a late unit can still self-check and file after the tracking letter
    late = liaison(api, d, 1)
    assert len(late.tasks(bpmn_id="self_check")) == 1

    # the second red step: a still-late unit's head is talked to, and the office records the talk
    move(due + timedelta(days=ctx.settings.talk_days, minutes=1))
    run_due_timers(ctx)
    assert run_due_timers(ctx) == 0
    office = api.as_("office1")
    talks = office.tasks(bpmn_id="talk_reminder")
    assert sorted(t["unit_id"] for t in talks) == sorted(late_units), "one talk per late unit, none for the early one"
    target = tracking[0]["unit_id"]
    talk = next(t for t in talks if t["unit_id"] == target)
    office.complete(talk["id"], {"talked_with": "单位主要负责人", "talked_by": "区委五人小组", "talked_on": "2027-02-10",
                                 "summary": "限期十日内完成整改"})
    ladder = office.get("/lists/supervision", query_string={"unit_id": target}).get_json()["items"]
    assert [r["kind"] for r in ladder] == ["warning_green", "warning_yellow", "warning_red", "tracking_letter",
                                         "tracking_reply_late", "talk_reminder"], "the letter went unanswered"
    assert "区委五人小组" in ladder[-1]["detail"] and "单位主要负责人" in ladder[-1]["detail"]
    early_rows = office.get("/lists/supervision", query_string={"unit_id": d.units[0]}).get_json()["items"]
    assert [r["kind"] for r in early_rows] == ["recommendation_letter"], "the early unit (a department) only got its letter"
