"""The supervision of an overdue case in the browser: the office's three choices with their fields,
the unit head's reply with evidence, the inspector's check, and the case page's record."""
from __future__ import annotations

from datetime import datetime, timedelta

from support.api import publish_round
from support.pages import Pages

from service.timers import run_due_timers


def _task(api, user, bpmn_id, unit_id):
    return next(t for t in api.as_(user).tasks(bpmn_id=bpmn_id) if t["unit_id"] == unit_id)


def test_the_office_chooses_the_unit_answers_the_inspector_checks_on_their_pages(ctx, api, app, district, clock):
    d = district
    publish_round(api, d)
    case = next(c for c in api.as_("office1").get("/cases", query_string={"limit": 500}).get_json()["items"]
                if c["unit_id"] == d.units[3])
    clock.move_to(datetime.fromisoformat(case["due_at"]) + timedelta(minutes=1))
    api.tokens.clear()
    run_due_timers(ctx)
    head_name = f"{d.codes[d.units[3]].lower()}_head"

    office = Pages(app.test_client())
    office.login("office1")
    track = _task(api, "office1", "track_supervision", d.units[3])
    html = office.text(f"/tasks/{track['id']}")
    for words in ("跟踪督办函", "谈话提醒", "专项督查", "督办要求（督办函）", "答复期限", "谈话人", "谈话要点",
                  "督查人员账号", "协审专家姓名"):
        assert words in html, words
    # a choice without its fields comes back with the reason beside the field, in Chinese
    r = office.post(f"/tasks/{track['id']}", {"action": "talk_reminder", "talked_by": "张书记"})
    assert r.status_code == 422
    page = r.get_data(as_text=True)
    assert "请填写谈话人、谈话对象、谈话日期和谈话要点" in page and 'aria-invalid="true"' in page
    r = office.post(f"/tasks/{track['id']}", {"action": "tracking_letter", "demand": "三日内报告进展",
                                               "reply_days": "3"})
    assert r.status_code == 302

    # the unit head's inbox holds the reply, with the evidence upload beside it
    head = Pages(app.test_client())
    head.login(head_name)
    reply = _task(api, head_name, "reply_tracking_letter", d.units[3])
    assert "答复督办函" in head.text("/inbox")
    html = head.text(f"/tasks/{reply['id']}")
    assert "答复内容" in html and 'id="evidence-file"' in html
    assert head.post(f"/tasks/{reply['id']}", {"reply": "已整改过半，月底前完成"}).status_code == 302

    # the case page keeps the record: the letter (answered, with its reply date) and the reply
    html = office.text(f"/cases/{case['id']}")
    assert "跟踪督办函" in html and "已答复" in html and "答复期限" in html
    assert "督办函答复" in html and "已整改过半" in html

    # a special inspection: the inspector sent finds the check in their inbox with the case beside it
    track = _task(api, "office1", "track_supervision", d.units[3])
    assert office.post(f"/tasks/{track['id']}", {"action": "special_inspection",
                                                  "inspectors": "inspector0"}).status_code == 302
    inspector = Pages(app.test_client())
    inspector.login("inspector0")
    check = _task(api, "inspector0", "inspect_unit", d.units[3])
    assert "专项督查核查" in inspector.text("/inbox")
    html = inspector.text(f"/tasks/{check['id']}")
    assert "实地核查情况" in html and "未通过（退回整改）" in html
    assert "督办函答复" in inspector.text(f"/cases/{case['id']}"), "the inspector reads the case sent to check"
    other = Pages(app.test_client())
    other.login("inspector1")
    assert other.get(f"/cases/{case['id']}").status_code == 404, "an inspector not sent does not"
    assert inspector.post(f"/tasks/{check['id']}", {"findings": "台账齐全", "result": "passed"}).status_code == 302
    html = office.text(f"/cases/{case['id']}")
    assert "专项督查核查" in html and "通过" in html and "台账齐全" in html
