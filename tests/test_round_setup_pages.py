"""The office's round pages: a new round with its conflicts shown before saving, the list corrected
until it is approved, and each evidence file reviewed on the case page."""
from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import select
from support.api import Api, liaison, publish_round
from support.pages import Pages
from support.rounds import complete, open_task_id, record_problems, start_round

from service.models import CommonProblem, Evidence, Problem, Round, Unit


@pytest.fixture
def pages(client):
    return Pages(client)


def _declare(api, d):
    r = api.as_("office1").put(f"/pools/inspectors/{d.inspectors[0]}", json={
        "home_unit_id": d.units[2], "conflict_unit_ids": [], "specialties": ["工程建设"]})
    assert r.status_code == 200


def test_a_new_round_shows_conflicts_before_saving_and_refuses_them(pages, client, ctx, district):
    d = district
    _declare(Api(client), d)
    pages.login("office1")
    html = pages.text("/rounds")
    assert "/rounds/new" in html and "新建巡察轮次" in html
    html = pages.text("/rounds/new")
    assert "被巡察单位" in html and "巡察员0" in html and "原单位：单位2" in html and "全选" in html
    # picking a group without a script: the page comes back with the group ticked
    r = pages.post("/rounds/new", [("name", "区委第五轮巡察"), ("pick", "kind:street")], token_from="/rounds/new")
    assert r.status_code == 200
    ticked = {int(v) for v in re.findall(r'name="inspected_unit_ids" value="(\d+)" checked', r.get_data(as_text=True))}
    with ctx.db.read() as s:
        streets = set(s.scalars(select(Unit.id).where(Unit.kind == "street")))
    assert ticked == streets and "区委第五轮巡察" in r.get_data(as_text=True)
    picked = [("name", "区委第五轮巡察"), ("inspected_unit_ids", str(d.units[2])),
              ("inspected_unit_ids", str(d.units[3])), ("inspector_ids", str(d.inspectors[0])),
              ("inspector_ids", str(d.inspectors[1]))]
    # checking shows the conflict before anything is saved
    r = pages.post("/rounds/new", picked + [("action", "check")], token_from="/rounds/new")
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and "巡察员0 来自单位2，不得巡察该单位" in html and "利益冲突" in html
    fragment = pages.post("/rounds/new/conflicts", picked, token_from="/rounds/new",
                          headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "巡察员0 来自单位2" in fragment and "<html" not in fragment
    # saving anyway is refused, with the reason at the top
    r = pages.post("/rounds/new", picked + [("action", "save")], token_from="/rounds/new")
    assert r.status_code == 422 and "不得巡察" in r.get_data(as_text=True) and 'id="form-errors"' in r.get_data(as_text=True)
    with ctx.db.read() as s:
        assert s.scalar(select(Round.id)) is None
    # without the unit it is saved
    fixed = [f for f in picked if f != ("inspected_unit_ids", str(d.units[2]))]
    fragment = pages.post("/rounds/new/conflicts", fixed, token_from="/rounds/new").get_data(as_text=True)
    assert "没有利益冲突" in fragment
    r = pages.post("/rounds/new", fixed + [("action", "save")], token_from="/rounds/new")
    assert r.status_code == 302 and r.headers["Location"].endswith("/rounds")
    assert "已创建巡察轮次：区委第五轮巡察" in pages.text("/rounds")
    with ctx.db.read() as s:
        rnd = s.scalar(select(Round))
        assert (rnd.name, [u.unit_id for u in rnd.inspected]) == ("区委第五轮巡察", [d.units[3]])


def test_a_new_round_names_what_is_missing(pages, district):
    pages.login("office1")
    r = pages.post("/rounds/new", [("name", " "), ("action", "save")], token_from="/rounds/new")
    html = r.get_data(as_text=True)
    assert r.status_code == 422 and "此项必填" in html and "请至少选择一个被巡察单位" in html and "请至少选择一名巡察人员" in html


def test_only_the_office_starts_a_round_in_the_page(pages, district):
    for username in ("inspector0", "leading1"):
        pages.login(username)
        assert "/rounds/new" not in pages.text("/rounds")
        assert pages.get("/rounds/new").status_code == 403, username
        pages.post("/logout")
    for username in ("u002_liaison", "admin"):
        pages.login(username)
        assert pages.get("/rounds/new").status_code == 403, username
        pages.post("/logout")


def test_problems_and_common_problems_are_corrected_until_approval(pages, ctx, district):
    d = district
    round_id = start_round(ctx, d)
    problems = record_problems(ctx, d, round_id)
    pages.login("inspector0")
    html = pages.text(f"/rounds/{round_id}/findings")
    assert f"/rounds/{round_id}/problems/{problems[0]}" in html and "修改" in html and "删除" in html
    html = pages.text(f"/rounds/{round_id}/problems/{problems[0]}")
    assert "修改问题" in html and "工程项目未按规定公开招标" in html
    r = pages.post(f"/rounds/{round_id}/problems/{problems[0]}", {
        "unit_id": str(d.units[0]), "category": "工程建设", "source": "inspection", "description": ""},
        token_from=f"/rounds/{round_id}/findings")
    assert r.status_code == 422 and "此项必填" in r.get_data(as_text=True)
    r = pages.post(f"/rounds/{round_id}/problems/{problems[0]}", {
        "unit_id": str(d.units[1]), "category": "工程建设", "source": "audit", "description": "工程项目拆分规避招标"},
        token_from=f"/rounds/{round_id}/findings")
    assert r.status_code == 302
    r = pages.post(f"/rounds/{round_id}/problems/{problems[2]}/remove", {}, token_from=f"/rounds/{round_id}/findings")
    assert r.status_code == 302
    with ctx.db.read() as s:
        rows = {p.id: p for p in s.scalars(select(Problem).where(Problem.round_id == round_id))}
    assert set(rows) == set(problems[:2])
    assert (rows[problems[0]].description, rows[problems[0]].unit_id, rows[problems[0]].source) == (
        "工程项目拆分规避招标", d.units[1], "audit")
    complete(ctx, "inspector0", "record_findings", {})
    pages.post("/logout")
    pages.login("office1")
    r = pages.post(f"/rounds/{round_id}/common-problems", [
        ("title", "工程建设监管不严"), ("category", "工程建设"), ("responsible_department_id", str(d.departments[0])),
        ("problem_ids", str(problems[0]))], token_from=f"/rounds/{round_id}/distill")
    assert r.status_code == 302
    with ctx.db.read() as s:
        cp = s.scalar(select(CommonProblem.id).where(CommonProblem.round_id == round_id))
    html = pages.text(f"/rounds/{round_id}/distill")
    assert f"/rounds/{round_id}/common-problems/{cp}" in html and "修改" in html
    html = pages.text(f"/rounds/{round_id}/common-problems/{cp}")
    assert "修改共性问题" in html and "工程建设监管不严" in html
    r = pages.post(f"/rounds/{round_id}/common-problems/{cp}", [
        ("title", "工程项目建设监管不严"), ("category", "工程建设"), ("description", "招标不规范"),
        ("responsible_department_id", str(d.departments[1])), ("problem_ids", str(problems[0])),
        ("problem_ids", str(problems[1]))], token_from=f"/rounds/{round_id}/distill")
    assert r.status_code == 302
    with ctx.db.read() as s:
        common = s.get(CommonProblem, cp)
        grouped = set(s.scalars(select(Problem.id).where(Problem.common_problem_id == cp)))
    assert (common.title, common.responsible_department_id, grouped) == (
        "工程项目建设监管不严", d.departments[1], set(problems[:2]))
    complete(ctx, "office1", "distill_list", {})
    complete(ctx, "leading1", "approve_list", {"approved": True})
    # approved: no buttons, and a post is refused with the reason
    html = pages.text(f"/rounds/{round_id}/distill")
    assert f"/rounds/{round_id}/common-problems/{cp}/remove" not in html
    r = pages.post(f"/rounds/{round_id}/common-problems/{cp}/remove", {}, token_from="/rounds")
    assert r.status_code == 409 and "清单已审定" in r.get_data(as_text=True)


def test_the_office_reviews_each_evidence_file_on_the_case_page(pages, client, ctx, district):
    d = district
    api = Api(client)
    round_id = publish_round(api, d)
    office = api.as_("office1")
    case = [c for c in office.get("/cases", query_string={"round_id": round_id}).get_json()["items"]
            if c["unit_id"] == d.units[2]][0]
    unit = liaison(api, d, 2)
    cp = office.get(f"/rounds/{round_id}").get_json()["common_problems"][0]["id"]
    unit.complete(unit.tasks(bpmn_id="self_check")[0]["id"], {"items": [
        {"common_problem_id": cp, "applicable": True, "problems_found": 1, "findings": "合同未审"}]})
    uploaded = unit.post(f"/cases/{case['id']}/evidence", data={"file": (io.BytesIO(b"%PDF-1.4 report"), "整改报告.pdf")},
                         content_type="multipart/form-data").get_json()
    pages.login("office1")
    # the task page beside the unit's work links to the review, file by file
    task_html = pages.text(f"/tasks/{open_task_id(ctx, 'u002_liaison', 'rectify')}")
    assert f"/cases/{case['id']}#evidence-review" in task_html
    html = pages.text(f"/cases/{case['id']}")
    assert "逐个审核佐证材料" in html and "整改报告.pdf" in html and uploaded["sha256"] in html
    assert f"/evidence/{uploaded['id']}" in html and "未审核" in html
    r = pages.post(f"/evidence/{uploaded['id']}/review", {"result": "rejected", "comment": ""},
                   token_from=f"/cases/{case['id']}")
    assert r.status_code == 422 and "请填写意见" in r.get_data(as_text=True)
    r = pages.post(f"/evidence/{uploaded['id']}/review", {}, token_from=f"/cases/{case['id']}")
    assert r.status_code == 422
    r = pages.post(f"/evidence/{uploaded['id']}/review", {"result": "rejected", "comment": "盖章不清晰"},
                   token_from=f"/cases/{case['id']}")
    assert r.status_code == 302 and r.headers["Location"].endswith(f"#evidence-{uploaded['id']}")
    html = pages.text(f"/cases/{case['id']}")
    assert "不通过" in html and "盖章不清晰" in html
    with ctx.db.read() as s:
        assert s.get(Evidence, uploaded["id"]).review == "rejected"
    pages.post("/logout")
    # the unit reads its case but reviews nothing
    pages.login(f"{d.codes[d.units[2]].lower()}_liaison")
    html = pages.text(f"/cases/{case['id']}")
    assert "逐个审核佐证材料" not in html
    r = pages.post(f"/evidence/{uploaded['id']}/review", {"result": "accepted"}, token_from=f"/cases/{case['id']}")
    assert r.status_code == 403
