"""The mechanism's own rules, enforced by the service for the API and the pages alike: no filing
without evidence or without a measure for every applicable common problem, no decision assumed
from a missing answer, no return or rejection without an opinion, and a confirmation on the page
before a step that cannot be undone."""
from __future__ import annotations

import re

import pytest
from support.api import round_awaiting_approval, run_jobs
from support.pages import Pages
from support.returns import UnitCase, rectify, self_check, unit_case

from service.models import Case


def _fields(body: dict) -> set[tuple[str, str]]:
    return {(e["field"], e["code"]) for e in body.get("errors") or []}


def _refused(r, code: str, field: str) -> dict:
    body = r.get_json()
    assert r.status_code == 422, body
    assert body["code"] == code and (field, code) in _fields(body), body
    return body


def _filed_case(api, d) -> UnitCase:
    """A case self-checked, rectified and filed with one evidence file: the office's review is open."""
    uc = unit_case(api, d)
    self_check(api, uc)
    rectify(api, uc)
    head = api.as_(uc.head)
    head.attach_evidence(uc.case_id)
    head.complete(head.tasks(bpmn_id="attest_and_file")[0]["id"], {"attest": True})
    return uc


def _review_task(api, uc: UnitCase) -> str:
    return next(t["id"] for t in api.as_("office1").tasks(bpmn_id="review_filing") if t["unit_id"] == uc.unit_id)


# ------------------------------------------------------------------ filing
def test_filing_needs_evidence_and_a_measure_for_every_applicable_common_problem(api, district):
    uc = unit_case(api, district)
    liaison, head = api.as_(uc.liaison), api.as_(uc.head)
    self_check(api, uc)  # every common problem applies
    task = liaison.tasks(bpmn_id="rectify")[0]["id"]
    # an applicable common problem sent without a measure is named by its row
    r = liaison.post(f"/tasks/{task}/complete", json={"data": {"items": [
        {"common_problem_id": uc.commons[0], "status": "ongoing", "measures": [], "institutions": []}]}})
    _refused(r, "measures_required", "items.0.measures")
    # left out of the rectification altogether, it is named when the head files
    liaison.complete(task, {"items": []})
    attest = head.tasks(bpmn_id="attest_and_file")[0]["id"]
    body = _refused(head.post(f"/tasks/{attest}/complete", json={"data": {"attest": True}}),
                    "measures_required", "items.0.measures")
    assert ("evidence", "evidence_required") in _fields(body), "both missing things are named at once"
    assert api.as_("office1").get(f"/cases/{uc.case_id}").get_json()["status"] != "filed"


def test_filing_without_evidence_is_refused_until_a_file_is_attached(api, district):
    uc = unit_case(api, district)
    self_check(api, uc)
    rectify(api, uc)
    head = api.as_(uc.head)
    attest = head.tasks(bpmn_id="attest_and_file")[0]["id"]
    r = head.post(f"/tasks/{attest}/complete", json={"data": {"attest": True}})
    assert _fields(_refused(r, "evidence_required", "evidence")) == {("evidence", "evidence_required")}
    head.attach_evidence(uc.case_id)
    head.complete(attest, {"attest": True})
    assert api.as_("office1").get(f"/cases/{uc.case_id}").get_json()["status"] == "filed"


def test_a_problem_that_does_not_apply_needs_no_measure(api, district):
    uc = unit_case(api, district)
    liaison, head = api.as_(uc.liaison), api.as_(uc.head)
    liaison.complete(liaison.tasks(bpmn_id="self_check")[0]["id"], {"items": [
        {"common_problem_id": c, "applicable": False, "reason": "本单位无此类业务", "problems_found": 0,
         "findings": "不涉及"} for c in uc.commons]})
    liaison.complete(liaison.tasks(bpmn_id="rectify")[0]["id"], {"items": []})
    head.attach_evidence(uc.case_id, "不涉及说明.pdf")
    head.complete(head.tasks(bpmn_id="attest_and_file")[0]["id"], {"attest": True})


def test_an_applicable_problem_without_a_measure_is_filed_with_the_reason_there_is_none(api, district):
    uc = unit_case(api, district)
    liaison, head = api.as_(uc.liaison), api.as_(uc.head)
    self_check(api, uc)  # it applies
    task = liaison.tasks(bpmn_id="rectify")[0]["id"]
    row = {"common_problem_id": uc.commons[0], "status": "ongoing", "measures": [], "institutions": []}
    for blank in ("", "   "):
        _refused(liaison.post(f"/tasks/{task}/complete", json={"data": {"items": [dict(row, reason=blank)]}}),
                 "measures_required", "items.0.measures")
    liaison.complete(task, {"items": [dict(row, reason="已于上一轮整改到位，本轮无新增问题")]})
    head.attach_evidence(uc.case_id)
    head.complete(head.tasks(bpmn_id="attest_and_file")[0]["id"], {"attest": True})
    office = api.as_("office1")
    assert office.get(f"/cases/{uc.case_id}").get_json()["status"] == "filed"
    assert "已于上一轮整改到位" in _pages_text(api, uc, f"/cases/{uc.case_id}")


def _pages_text(api, uc: UnitCase, path: str) -> str:
    pages = Pages(api.client)
    pages.login(uc.liaison)
    return pages.text(path)


def test_marking_a_problem_not_applicable_needs_the_reason(api, district):
    uc = unit_case(api, district)
    liaison = api.as_(uc.liaison)
    task = liaison.tasks(bpmn_id="self_check")[0]["id"]
    rows = [{"common_problem_id": c, "applicable": True, "problems_found": 1, "findings": "有"} for c in uc.commons]
    rows[0] = {"common_problem_id": uc.commons[0], "applicable": False, "problems_found": 0, "findings": "不涉及"}
    body = _refused(liaison.post(f"/tasks/{task}/complete", json={"data": {"items": rows}}),
                    "not_applicable_reason_required", "items.0.reason")
    assert body["errors"][0]["common_problem_id"] == uc.commons[0]
    rows[0]["reason"] = "  "
    _refused(liaison.post(f"/tasks/{task}/complete", json={"data": {"items": rows}}),
             "not_applicable_reason_required",
             "items.0.reason")
    assert liaison.get(f"/tasks/{task}").get_json()["state"] == "open"
    rows[0]["reason"] = "本单位无工程项目"
    liaison.complete(task, {"items": rows})


# ------------------------------------------------------------------ decisions and opinions
DECIDING = [("approve_list", "approved", "leading1"), ("review_filing", "accepted", "office1")]
NO_DECISION = [{}, {"comment": "同意"}]
NO_OPINION = [{}, {"comment": ""}, {"comment": "   \n"}]


def _deciding_task(api, d, step: str) -> str:
    if step == "approve_list":
        round_awaiting_approval(api, d)
        return api.as_("leading1").tasks(bpmn_id="approve_list")[0]["id"]
    return _review_task(api, _filed_case(api, d))


@pytest.mark.parametrize("step, field, who", DECIDING)
def test_a_decision_is_chosen_and_a_no_says_why(api, district, step, field, who):
    task = _deciding_task(api, district, step)
    user = api.as_(who)
    for data in NO_DECISION + [{field: None}, {field: ""}]:
        _refused(user.post(f"/tasks/{task}/complete", json={"data": data}), "decision_required", field)
    for extra in NO_OPINION:
        _refused(user.post(f"/tasks/{task}/complete", json={"data": {field: False, **extra}}),
                 "opinion_required", "comment")
    assert user.get(f"/tasks/{task}").get_json()["state"] == "open", "nothing refused moved the task on"
    user.complete(task, {field: False, "comment": "请补充完善"})


def test_the_next_handler_reads_the_opinion_of_a_returned_list(api, district):
    round_awaiting_approval(api, district)
    leading, office = api.as_("leading1"), api.as_("office1")
    leading.complete(leading.tasks(bpmn_id="approve_list")[0]["id"], {"approved": False, "comment": "请合并相近问题"})
    distill = office.tasks(bpmn_id="distill_list")[0]["id"]
    assert office.get(f"/tasks/{distill}").get_json()["returned"]["opinion"] == "请合并相近问题"


# ------------------------------------------------------------------ the same through the pages
def _pages(app, username: str) -> Pages:
    pages = Pages(app.test_client())
    pages.login(username)
    return pages


def _summary_and_field(html: str, dom_id: str, text: str) -> None:
    assert re.search(r'class="error-summary".*?' + re.escape(text), html, re.S), "named in the error summary"
    assert re.search(rf'id="{dom_id}-error".*?' + re.escape(text), html, re.S), "named beside its field"


def test_the_approval_page_asks_for_a_decision_an_opinion_and_a_confirmation(app, ctx, api, district):
    round_id = round_awaiting_approval(api, district)
    task = api.as_("leading1").tasks(bpmn_id="approve_list")[0]["id"]
    pages = _pages(app, "leading1")
    page = f"/tasks/{task}"
    html = pages.text(page)
    assert 'name="confirmed"' in html and "我已核对以上内容，确认提交（提交后不能撤回）" in html
    # neither 是 nor 否: an unchecked radio sends nothing, or an empty value; unconfirmed, both are said
    r = pages.post(page, {}, token_from=page)
    assert r.status_code == 422
    _summary_and_field(r.get_data(as_text=True), "f-approved", "请选择“是”或“否”")
    _summary_and_field(r.get_data(as_text=True), "f-confirmed", "此步提交后不能撤回，请勾选确认")
    for form in ({"comment": "同意", "confirmed": "true"}, {"approved": "", "confirmed": "true"}):
        r = pages.post(page, form, token_from=page)
        assert r.status_code == 422
        _summary_and_field(r.get_data(as_text=True), "f-approved", "请选择“是”或“否”")
    r = pages.post(page, {"approved": "false", "comment": " ", "confirmed": "true"}, token_from=page)
    assert r.status_code == 422
    _summary_and_field(r.get_data(as_text=True), "f-comment", "请填写意见")
    # the decision made but not confirmed: the choice is kept, the box is asked for
    r = pages.post(page, {"approved": "true", "comment": "同意印发"}, token_from=page)
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    _summary_and_field(html, "f-confirmed", "此步提交后不能撤回，请勾选确认")
    assert re.search(r'name="approved" value="true"\s+checked', html) and "同意印发" in html
    with ctx.db.read() as s:
        assert s.query(Case).filter(Case.round_id == round_id).count() == 0, "nothing was published"
    r = pages.post(page, {"approved": "true", "comment": "同意印发", "confirmed": "true"}, token_from=page)
    assert r.status_code == 302 and r.location.endswith(f"/rounds/{round_id}/publication"), "to the list's progress"
    run_jobs(api)
    with ctx.db.read() as s:
        assert s.query(Case).filter(Case.round_id == round_id).count() > 0, "approved: the list is published"


def test_the_review_page_refuses_a_return_without_an_opinion(app, api, district):
    uc = _filed_case(api, district)
    task = _review_task(api, uc)
    pages = _pages(app, "office1")
    page = f"/tasks/{task}"
    r = pages.post(page, {"confirmed": "true"}, token_from=page)
    assert r.status_code == 422
    _summary_and_field(r.get_data(as_text=True), "f-accepted", "请选择“是”或“否”")
    r = pages.post(page, {"accepted": "false", "confirmed": "true"}, token_from=page)
    assert r.status_code == 422
    _summary_and_field(r.get_data(as_text=True), "f-comment", "请填写意见")
    r = pages.post(page, {"accepted": "false", "comment": "佐证材料不全", "confirmed": "true"}, token_from=page)
    assert r.status_code == 302
    # the unit's liaison reads the opinion at the top of the rectification it has to redo
    liaison = _pages(app, uc.liaison)
    redo = api.as_(uc.liaison).tasks(bpmn_id="rectify")[0]["id"]
    html = liaison.text(f"/tasks/{redo}")
    assert html.index("佐证材料不全") < html.index('class="task-layout"')


def test_the_filing_page_names_what_is_missing(app, api, district):
    uc = unit_case(api, district)
    self_check(api, uc)
    liaison = api.as_(uc.liaison)
    liaison.complete(liaison.tasks(bpmn_id="rectify")[0]["id"], {"items": [
        {"common_problem_id": uc.commons[0], "status": "done", "institutions": [],
         "measures": [{"description": "建立台账", "deadline": "2027-01-31"}]}]})
    task = api.as_(uc.head).tasks(bpmn_id="attest_and_file")[0]["id"]
    pages = _pages(app, uc.head)
    page = f"/tasks/{task}"
    r = pages.post(page, {"attest": "true"}, token_from=page)
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    summary = html[html.index('class="error-summary"'):html.index('class="field-grid form-root"')]
    assert '<a href="#evidence-file">备案前请至少上传一份佐证材料</a>' in summary, "linked to the upload"
    assert 'id="evidence-file"' in html
    api.as_(uc.head).attach_evidence(uc.case_id)
    assert pages.post(page, {"attest": "true"}, token_from=page).status_code == 302


def test_the_rectify_page_names_the_row_without_a_measure(app, api, district):
    uc = unit_case(api, district)
    self_check(api, uc)
    task = api.as_(uc.liaison).tasks(bpmn_id="rectify")[0]["id"]
    pages = _pages(app, uc.liaison)
    page = f"/tasks/{task}"
    r = pages.post(page, {"items.0.__row": "1", "items.0.common_problem_id": str(uc.commons[0]),
                          "items.0.status": "ongoing"}, token_from=page)
    assert r.status_code == 422
    _summary_and_field(r.get_data(as_text=True), "f-items-0-measures", "适用于本单位，请至少填写一项整改措施")


def test_the_self_check_page_names_the_row_marked_not_applicable_without_a_reason(app, api, district):
    uc = unit_case(api, district)
    task = api.as_(uc.liaison).tasks(bpmn_id="self_check")[0]["id"]
    pages = _pages(app, uc.liaison)
    page = f"/tasks/{task}"
    data = {}
    for n, c in enumerate(uc.commons):
        data.update({f"items.{n}.__row": "1", f"items.{n}.common_problem_id": str(c),
                     f"items.{n}.applicable": "false" if n == 0 else "true",
                     f"items.{n}.problems_found": "0", f"items.{n}.findings": "不涉及"})
    r = pages.post(page, data, token_from=page)
    assert r.status_code == 422
    _summary_and_field(r.get_data(as_text=True), "f-items-0-reason", "不适用于本单位，请说明理由")
