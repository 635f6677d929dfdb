"""The pages of 延期申请 and of measures followed after close-out: the unit asks on its case page, the
office finds the request from its inbox and decides on the case page; the unit's follow-up task
takes the measure's evidence; overdue measures are listed for the office to re-check."""
from __future__ import annotations

from datetime import datetime, timedelta

from support.api import liaison, publish_round
from support.followups import case_of as _case
from support.followups import close_with_measures as _close_with_measures
from support.pages import Pages

from service.timers import run_due_timers


def test_the_unit_asks_for_more_time_and_the_office_decides_on_the_case_page(app, ctx, api, district):
    d = district
    round_id = publish_round(api, d)
    case = _case(api, d, round_id, 1)
    unit = Pages(app.test_client())
    unit.login(f"{d.codes[d.units[1]].lower()}_liaison")
    page = f"/cases/{case['id']}"
    html = unit.text(page)
    assert "申请延期" in html and 'name="days"' in html

    r = unit.post(f"{page}/extension", {"days": "", "reason": ""}, token_from=page)
    assert r.status_code == 422
    refused = r.get_data(as_text=True)
    assert 'aria-invalid="true"' in refused and "form-errors" in refused
    r = unit.post(f"{page}/extension", {"days": "12", "reason": "招标流程较长"}, token_from=page)
    assert r.status_code == 302
    html = unit.text(page)
    assert "招标流程较长" in html and "待巡察办决定" in html and 'name="days"' not in html, \
        "the request is shown, and no second one can be asked for while it waits"

    office = Pages(app.test_client())
    office.login("office1")
    assert "1 项延期申请待您决定" in office.text("/inbox")
    listing = office.text("/extensions")
    assert "招标流程较长" in listing and f"/cases/{case['id']}#case-extensions" in listing
    request_id = api.as_("office1").get("/extensions").get_json()["items"][0]["id"]
    r = office.post(f"/extensions/{request_id}/decide", {"decision": "refuse", "opinion": "", "case_id": case["id"]},
                    token_from=page)
    assert r.status_code == 422 and "opinion-error" in r.get_data(as_text=True)
    r = office.post(f"/extensions/{request_id}/decide", {"decision": "approve", "opinion": "", "case_id": case["id"]},
                    token_from=page)
    assert r.status_code == 302
    new_due = datetime.fromisoformat(case["due_at"]) + timedelta(days=12)
    html = unit.text(page)
    assert "已批准" in html and new_due.strftime("%Y-%m-%d") in html


def test_the_follow_up_task_takes_the_measures_evidence_and_the_office_sees_it_overdue(app, ctx, api, district,
                                                                                        clock):
    d = district
    round_id = publish_round(api, d)
    closed_on = clock.now().astimezone(ctx.zone).date()
    soon = closed_on + timedelta(days=3)  # within the notice days: the task opens at the next sweep
    case = _close_with_measures(api, d, round_id, 2, [("建立合同审查台账", soon.isoformat())])
    clock.advance(timedelta(minutes=1))
    run_due_timers(ctx)
    [task] = liaison(api, d, 2).tasks(bpmn_id="report_measure")
    unit = Pages(app.test_client())
    unit.login(f"{d.codes[d.units[2]].lower()}_liaison")
    assert "报告整改措施完成" in unit.text("/inbox")
    html = unit.text(f"/tasks/{task['id']}")
    assert "建立合同审查台账" in html and 'name="measure_id"' in html, "the upload is for the measure"

    clock.advance(timedelta(days=4))
    api.tokens.clear()
    run_due_timers(ctx)
    office = Pages(app.test_client())
    office.login("office1")
    assert "1 项措施在销号后逾期未完成" in office.text("/inbox")
    listing = office.text("/measures/overdue")
    assert "建立合同审查台账" in listing and f"/cases/{case['id']}/recheck" in listing
    assert "逾期" in office.text(f"/cases/{case['id']}")
    assert "建立合同审查台账" in office.text(f"/cases/{case['id']}/recheck")
    assert "建立合同审查台账" in office.text("/dashboard/")
