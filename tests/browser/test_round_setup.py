"""The office's first act in Chromium: a new round whose conflict of interest shows before saving,
is fixed and saved; then a problem corrected, a common problem's buttons, and an evidence file
reviewed on the case page, on a desktop and on a phone."""
from __future__ import annotations

import io
import re

from playwright.sync_api import expect
from sqlalchemy import select
from support.api import Api, liaison, publish_round
from support.browser import DESKTOP, PHONE, assert_translated
from support.rounds import as_user

from service import pools, rounds
from service.models import Problem, Round


def _fits(page, width):
    assert page.evaluate("document.documentElement.scrollWidth") <= width, "nothing wider than the screen"


def _declare_home_unit(ctx, d):
    as_user(ctx, "office1", lambda s, p: pools.put_inspector(ctx, s, p, d.inspectors[0], {
        "home_unit_id": d.units[2], "conflict_unit_ids": [], "specialties": ["工程建设"]}))


def test_the_office_creates_a_round_sees_a_conflict_fixes_it_and_corrects_a_problem(
        live_app, live_server, new_context, guard, sign_in, shoot):
    ctx, d = live_app.extensions["rectiflow"], live_app.district
    _declare_home_unit(ctx, d)
    for size, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        page = guard.watch(new_context(viewport=viewport).new_page())
        sign_in(page, "office1", "/rounds")
        page.get_by_role("link", name="新建巡察轮次").click()
        expect(page.get_by_role("heading", name="新建巡察轮次")).to_be_visible()
        name = f"区委第五轮巡察（{size}）"
        page.get_by_label("轮次名称").fill(name)
        # every community company at once (单位2 and 单位4), in place
        page.get_by_role("button", name="全选：社区股份公司").click()
        expect(page.locator('[data-count="units"]')).to_have_text("2")
        page.get_by_label("巡察员0").check()
        page.get_by_label("巡察员1").check()
        # the conflict shows before anything is saved
        conflicts = page.locator("#conflicts")
        expect(conflicts).to_contain_text("巡察员0 来自单位2，不得巡察该单位")
        expect(page.locator(".tag-conflict:visible")).to_have_count(1)
        assert_translated(page)
        _fits(page, viewport["width"])
        shoot(page, f"round-new-conflict-{size}", full_page=True)
        # fixed: take the unit off
        page.get_by_label("单位2", exact=False).first.uncheck()
        expect(conflicts).to_contain_text("没有利益冲突")
        expect(page.locator('[data-count="units"]')).to_have_text("1")
        page.get_by_role("button", name="创建巡察轮次").click()
        expect(page.locator(".flash")).to_contain_text(f"已创建巡察轮次：{name}")
        shoot(page, f"rounds-{size}", full_page=True)
        with ctx.db.read() as s:
            rnd = s.scalar(select(Round).where(Round.name == name))
            assert [u.unit_id for u in rnd.inspected] == [d.units[4]]
            round_id = rnd.id

        # an inspector records a problem; the office corrects it on the findings page
        as_user(ctx, "inspector1", lambda s, p, round_id=round_id: rounds.add_problem(
            ctx, s, p, round_id, d.units[4], "工程项目未公开招标", "工程建设", "inspection"))
        page.goto(f"{live_server}/rounds/{round_id}/findings")
        shoot(page, f"findings-buttons-{size}", full_page=True)
        page.get_by_role("link", name=re.compile("^修改：工程项目未公开招标")).click()
        expect(page.get_by_role("heading", name="修改问题")).to_be_visible()
        page.get_by_label("问题描述").fill("工程项目拆分规避公开招标")
        assert_translated(page)
        _fits(page, viewport["width"])
        shoot(page, f"problem-edit-{size}", full_page=True)
        page.get_by_role("button", name="保存修改").click()
        expect(page.locator(".flash")).to_contain_text("问题已修改")
        expect(page.locator("#problems")).to_contain_text("工程项目拆分规避公开招标")
        with ctx.db.read() as s:
            assert s.scalar(select(Problem.description).where(Problem.round_id == round_id)) == "工程项目拆分规避公开招标"


def test_common_problem_buttons_and_evidence_review_on_a_desktop_and_a_phone(
        live_app, live_server, new_context, guard, sign_in, shoot):
    d = live_app.district
    api = Api(live_app.test_client())
    office = api.as_("office1")
    # a round with a common problem, not yet approved: its buttons on the distillation page
    open_round = office.post("/rounds", json={"name": "区委第六轮巡察", "inspected_unit_ids": d.units[:2],
                                              "inspector_ids": d.inspectors[1:]}).get_json()["id"]
    pid = office.post(f"/rounds/{open_round}/problems", json={
        "unit_id": d.units[0], "description": "合同未经法律审核", "category": "合同管理"}).get_json()["id"]
    assert office.post(f"/rounds/{open_round}/common-problems", json={
        "title": "政府合同管理不规范", "category": "合同管理", "responsible_department_id": d.departments[0],
        "problem_ids": [pid]}).status_code == 201
    # a published round with an evidence file to review
    round_id = publish_round(api, d)
    case = [c for c in office.get("/cases", query_string={"round_id": round_id}).get_json()["items"]
            if c["unit_id"] == d.units[2]][0]
    unit = liaison(api, d, 2)
    first = office.get(f"/rounds/{round_id}").get_json()["common_problems"][0]["id"]
    unit.complete(unit.tasks(bpmn_id="self_check")[0]["id"], {"items": [
        {"common_problem_id": first, "applicable": True, "problems_found": 1, "findings": "合同未审"}]})
    unit.post(f"/cases/{case['id']}/evidence", data={"file": (io.BytesIO(b"%PDF-1.4 report"), "整改报告.pdf")},
              content_type="multipart/form-data")
    for size, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        page = guard.watch(new_context(viewport=viewport).new_page())
        sign_in(page, "office1", f"/rounds/{open_round}/distill")
        expect(page.get_by_role("link", name="修改：政府合同管理不规范")).to_be_visible()
        _fits(page, viewport["width"])
        shoot(page, f"distill-buttons-{size}", full_page=True)
        page.get_by_role("link", name="修改：政府合同管理不规范").click()
        expect(page.get_by_role("heading", name="修改共性问题")).to_be_visible()
        assert_translated(page)
        _fits(page, viewport["width"])
        shoot(page, f"common-problem-edit-{size}", full_page=True)

        page.goto(f"{live_server}/cases/{case['id']}")
        review = page.locator("#evidence-review")
        expect(review).to_contain_text("整改报告.pdf")
        review.get_by_role("radio", name="不通过").check()
        review.get_by_role("button", name="保存审核").click()
        expect(page.locator(".error-summary")).to_contain_text("请填写意见")
        page.locator("#evidence-review").get_by_role("radio", name="不通过").check()
        page.locator("#evidence-review").get_by_label("审核意见（不通过时必填）").fill("盖章不清晰，请重新上传")
        page.locator("#evidence-review").get_by_role("button", name="保存审核").click()
        expect(page.locator(".flash")).to_contain_text("已审核：整改报告.pdf，不通过")
        expect(page.locator("#evidence-review")).to_contain_text("盖章不清晰，请重新上传")
        assert_translated(page)
        _fits(page, viewport["width"])
        shoot(page, f"case-evidence-review-{size}", full_page=True)
