"""延期申请 in Chromium: the liaison asks on the case page (by keyboard, on a phone too), the office
follows the inbox's link to the waiting request and approves it on the case page, and the case
page shows the new deadline."""
from __future__ import annotations

from playwright.sync_api import expect
from support.browser import DESKTOP, PHONE, assert_translated
from support.rounds import case_of, publish_round


def test_the_liaison_asks_for_more_time_and_the_office_approves(live_app, live_server, new_context, guard,
                                                                 sign_in, shoot):
    ctx = live_app.extensions["rectiflow"]
    d = live_app.district
    unit = d.units[2]
    round_id, _ = publish_round(ctx, d)
    case = case_of(ctx, round_id, unit)
    liaison = f"{d.codes[unit].lower()}_liaison"

    page = guard.watch(new_context(viewport=DESKTOP).new_page())
    sign_in(page, liaison, f"/cases/{case.id}")
    form = page.locator("form", has=page.get_by_label("申请延期天数"))
    expect(form).to_be_visible()
    form.get_by_label("申请延期天数").fill("10")
    form.get_by_label("延期理由").fill("需重新组织招标")
    shoot(page, "extension-request-desktop", full_page=True)
    form.get_by_label("延期理由").press("Tab")
    page.keyboard.press("Enter")  # the submit button, reached by keyboard
    expect(page.locator("#case-extensions")).to_contain_text("待巡察办决定")
    expect(page.get_by_label("申请延期天数")).to_have_count(0)
    assert_translated(page)

    phone = guard.watch(new_context(viewport=PHONE, is_mobile=True, has_touch=True).new_page())
    sign_in(phone, liaison, f"/cases/{case.id}")
    expect(phone.locator("#case-extensions")).to_contain_text("需重新组织招标")
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], "no sideways scrolling"
    shoot(phone, "extension-pending-phone", full_page=True)

    office = guard.watch(new_context(viewport=DESKTOP).new_page())
    sign_in(office, "office1")
    office.get_by_role("link", name="1 项延期申请待您决定。").click()
    shoot(office, "extension-list-desktop")
    office.locator("tbody tr").get_by_role("link").first.click()
    office.get_by_label("同意：顺延整改期限及各预警时点").check()
    office.get_by_role("button", name="提交决定").click()
    expect(office.locator("#case-extensions")).to_contain_text("已批准")
    expect(office.locator("#case-extensions")).to_contain_text("新的整改期限")
    assert_translated(office)
    shoot(office, "extension-approved-desktop", full_page=True)
