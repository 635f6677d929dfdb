"""The office sends a common problem to chosen units with a co-responsible department, in Chromium,
on a desktop and on a phone: the boxes are reached by their labels, the preview follows each tick,
and the list says whom each common problem reaches."""
from __future__ import annotations

from playwright.sync_api import expect
from support.api import Api
from support.browser import DESKTOP, PHONE, assert_translated


def _fits(page, width):
    assert page.evaluate("document.documentElement.scrollWidth") <= width, "nothing wider than the screen"


def test_the_office_targets_a_common_problem_and_names_a_co_responsible_department(
        live_app, live_server, new_context, guard, sign_in, shoot):
    d = live_app.district
    office = Api(live_app.test_client()).as_("office1")
    for size, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        round_id = office.post("/rounds", json={"name": f"定向轮次（{size}）", "inspected_unit_ids": d.units[:2],
                                                "inspector_ids": d.inspectors[:1]}).get_json()["id"]
        page = guard.watch(new_context(viewport=viewport).new_page())
        sign_in(page, "office1", f"/rounds/{round_id}/distill")
        form = page.locator("form[aria-labelledby=cp-form-title]")
        form.locator("#cp-title").fill("工程项目建设监管不严")
        form.locator("#cp-category").fill("工程建设")
        form.locator("#cp-responsible_department_id").select_option(str(d.departments[0]))
        form.locator("#cp-co_department_ids").get_by_label("单位1").check()
        form.locator("summary").filter(has_text="下发对象").click()
        form.get_by_role("group", name="按单位类型").get_by_label("街道").check()
        expect(page.locator("#recipients")).to_contain_text("正在填写的共性问题将下发给 2 个单位")
        expect(page.locator("#recipients")).to_contain_text("2 个职能部门收到巡察建议书")
        _fits(page, viewport["width"])
        assert_translated(page)
        shoot(page, f"distill-targets-{size}", full_page=True)
        form.get_by_role("button", name="加入清单").click()
        expect(page.locator(".flash")).to_be_visible()
        listed = page.locator("section[aria-labelledby=list-title]")
        expect(listed).to_contain_text("定向下发给 2 个单位")
        expect(listed).to_contain_text("协同责任部门：单位1")
        page.locator("#recipients summary").first.click()
        expect(page.locator("#recipients")).to_contain_text("单位3、单位5")
        _fits(page, viewport["width"])
        shoot(page, f"distill-targeted-list-{size}", full_page=True)
