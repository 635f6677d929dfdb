"""Task schemas as HTML forms and posted forms back as task data (service/web/forms.py)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from werkzeug.datastructures import MultiDict

from service.web import forms
from service.web.problems import place_errors
from workflows.forms import validate

FORMS = Path(__file__).resolve().parent.parent / "bpmn" / "forms"
REVIEW = {"type": "object", "required": ["accepted"], "additionalProperties": False,
          "properties": {"accepted": {"type": "boolean", "title": "审核通过（销号）"},
                         "comment": {"type": "string", "title": "审核意见"}}}
TRACK = {"type": "object", "required": ["action"], "properties": {
    "action": {"type": "string", "enum": ["tracking_letter", "talk_reminder"],
               "x-enum-labels": {"tracking_letter": "跟踪督办函", "talk_reminder": "谈话提醒"}},
    "count": {"type": "integer", "title": "涉及人数", "minimum": 0}}}


@pytest.fixture(autouse=True)
def request_context(app):
    with app.test_request_context():
        yield


def _schema(name):
    return json.loads((FORMS / name).read_text(encoding="utf-8"))


def _by_name(fields):
    out = {}
    for f in fields:
        out[f.name] = f
        out.update(_by_name(f.children))
        for row in f.rows:
            out.update(_by_name(row.fields))
    return out


def test_self_check_rows_are_fixed_one_per_common_problem():
    form = forms.build(_schema("self_check.json"), {"items": [{"common_problem_id": 7}, {"common_problem_id": 9}]},
                       refs={"common_problem": {7: "工程项目建设监管不严", 9: "政府合同管理不规范"}})
    rows = form.fields[0]
    assert rows.kind == "rows" and rows.fixed and rows.template is None
    assert [r.title for r in rows.rows] == ["工程项目建设监管不严", "政府合同管理不规范"]
    kinds = {f.name: f.kind for f in rows.rows[0].fields}
    assert kinds == {"items.0.common_problem_id": "ref", "items.0.applicable": "bool", "items.0.reason": "textarea",
                     "items.0.problems_found": "integer", "items.0.findings": "textarea"}
    # short fields side by side first, in the order the grid shows them
    assert [f.name.split(".")[-1] for f in rows.rows[0].fields] == [
        "common_problem_id", "applicable", "problems_found", "reason", "findings"]


def test_rectify_nested_rows_have_templates_with_their_own_placeholder():
    form = forms.build(_schema("rectify.json"), {"items": [{"common_problem_id": 1, "measures": [{}], "institutions": []}]})
    item = form.fields[0].rows[0]
    fields = {f.name: f for f in item.fields}
    measures = fields["items.0.measures"]
    assert measures.kind == "rows" and not measures.fixed and measures.token == "__i1__"
    assert [f.name for f in measures.template.fields] == ["items.0.measures.__i1__.description",
                                                         "items.0.measures.__i1__.deadline"]
    assert measures.next_index == 1 and fields["items.0.institutions"].next_index == 0
    assert fields["items.0.status"].kind == "radio"
    assert fields["items.0.status"].options == [("done", "已完成"), ("ongoing", "整改中"), ("not_done", "未完成")]


def test_parse_renumbers_rows_and_types_values():
    posted = MultiDict({
        "items.0.__row": "1", "items.0.common_problem_id": "7", "items.0.status": "done",
        "items.0.measures.0.__row": "1", "items.0.measures.0.description": "甲\r\n乙",
        "items.0.measures.0.deadline": "2027-01-31",
        "items.0.measures.5.__row": "1", "items.0.measures.5.description": "丙", "items.0.measures.5.deadline": "2027-02-01",
        "items.3.__row": "1", "items.3.common_problem_id": "9", "items.3.status": "",
        "csrf_token": "ignored", "unknown": "ignored"})
    data = forms.parse(_schema("rectify.json"), posted)
    assert data == {"items": [
        {"common_problem_id": 7, "status": "done", "institutions": [],
         "measures": [{"description": "甲\n乙", "deadline": "2027-01-31"}, {"description": "丙", "deadline": "2027-02-01"}]},
        {"common_problem_id": 9, "measures": [], "institutions": []}]}
    errors = place_errors(validate(_schema("rectify.json"), data))
    assert errors == {"items.1.status": ["此项必填"]}


def test_parse_keeps_what_does_not_convert_so_the_page_shows_it_again():
    data = forms.parse(TRACK, MultiDict({"action": "talk_reminder", "count": "三"}))
    assert data == {"action": "talk_reminder", "count": "三"}
    errors = place_errors(validate(TRACK, data))
    assert errors == {"count": ["请输入整数"]}
    form = forms.build(TRACK, data, errors)
    count = _by_name(form.fields)["count"]
    assert count.text == "三" and count.errors == ["请输入整数"] and form.error_count == 1
    assert form.error_links() == [("f-count", "涉及人数：请输入整数")]


def test_booleans_and_the_attest_checkbox():
    assert forms.parse(REVIEW, MultiDict({"accepted": "false", "comment": ""})) == {"accepted": False}
    assert forms.parse(REVIEW, MultiDict({})) == {}
    attest = _schema("attest_and_file.json")
    assert forms.parse(attest, MultiDict({})) == {"attest": False}
    assert forms.parse(attest, MultiDict({"attest": "true"})) == {"attest": True}
    errors = place_errors(validate(attest, {"attest": False}))
    assert errors == {"attest": ["请勾选此项"]}
    assert _by_name(forms.build(attest, {}).fields)["attest"].kind == "confirm"
    assert _by_name(forms.build(REVIEW, {}).fields)["accepted"].kind == "bool"


def test_enum_labels_from_formdata_and_errors_not_on_a_field_are_general():
    form = forms.build(TRACK, {}, {"data": ["流程出错"], "action": ["请选择一项"]})
    action = _by_name(form.fields)["action"]
    assert action.kind == "radio" and action.options == [("tracking_letter", "跟踪督办函"), ("talk_reminder", "谈话提醒")]
    assert form.general_errors == ["流程出错"]
    assert ("f-action", "action：请选择一项") in form.error_links()


def test_required_errors_stand_beside_the_missing_field():
    errors = place_errors(validate(_schema("self_check.json"), {"items": [{"common_problem_id": 1, "applicable": True,
                                                                            "problems_found": 0}]}))
    assert errors == {"items.0.findings": ["此项必填"]}
    assert place_errors([{"field": "items", "code": "item_repeated", "message": "each common problem may appear once"}]) \
        == {"items": ["每个共性问题只能填写一次"]}
