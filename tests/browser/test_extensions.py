"""延期申请 in Chromium: the liaison asks on the case page (by keyboard, on a phone too), the office
follows the inbox's link to the waiting request and approves it on the case page, and the case
page shows the new deadline. A measure followed after close-out: the liaison reports it with its
evidence on a phone; the office finds the one left overdue and re-checks the case for it."""
from __future__ import annotations

import re
from datetime import timedelta

from playwright.sync_api import expect
from support.browser import DESKTOP, PHONE, assert_translated
from support.rounds import as_user, case_of, complete, publish_round

from service import evidence
from service.timers import run_due_timers


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


def test_the_liaison_reports_a_followed_measure_with_its_evidence_and_the_office_sees_the_overdue_one(
        live_app, live_server, new_context, guard, sign_in, shoot):
    ctx = live_app.extensions["rectiflow"]
    d = live_app.district
    unit = d.units[2]
    round_id, commons = publish_round(ctx, d)
    liaison, head = f"{d.codes[unit].lower()}_liaison", f"{d.codes[unit].lower()}_head"
    today = ctx.now().astimezone(ctx.zone).date()
    deadlines = {"建立合同审查台账": today + timedelta(days=3), "修订招标管理办法": today + timedelta(days=5)}
    complete(ctx, liaison, "self_check", {"items": [
        {"common_problem_id": c, "applicable": True, "problems_found": 1, "findings": "合同未经审核"} for c in commons]},
        unit)
    complete(ctx, liaison, "rectify", {"items": [
        {"common_problem_id": c, "status": "ongoing", "institutions": [],
         "measures": [{"description": m, "deadline": when.isoformat()} for m, when in deadlines.items()]}
        for c in commons[:1]] + [{"common_problem_id": commons[1], "status": "done", "institutions": [],
                                  "measures": [{"description": "已整改", "deadline": today.isoformat()}]}]}, unit)
    case = case_of(ctx, round_id, unit)
    as_user(ctx, liaison, lambda s, p: evidence.upload(ctx, s, p, case.id, "备案材料.pdf", b"%PDF-1.4 filing", None))
    complete(ctx, head, "attest_and_file", {"attest": True}, unit)
    complete(ctx, "office1", "review_filing", {"accepted": True}, unit)
    ctx.clock.advance(timedelta(minutes=1))
    run_due_timers(ctx)  # both measures are within the notice days: their tasks open

    page = guard.watch(new_context(viewport=PHONE, is_mobile=True, has_touch=True).new_page())
    sign_in(page, liaison)
    page.locator("tbody tr", has_text="报告整改措施完成").first.get_by_role("link").first.click()
    page.wait_for_url(re.compile(r"/tasks/"))
    measure = page.locator("[aria-labelledby=measure-title]").inner_text()
    page.get_by_label("完成情况").fill("已按期完成")
    page.get_by_role("button", name="提交并办结").click()
    expect(page.locator(".error-summary")).to_contain_text("佐证材料")
    page.locator("#evidence-file").set_input_files(files=[{"name": "台账.pdf", "mimeType": "application/pdf",
                                                           "buffer": b"%PDF-1.4 ledger"}])
    page.locator("form[data-upload] button[type=submit]").click()
    expect(page.locator("#evidence-list li", has_text="台账.pdf")).to_be_visible()
    expect(page.get_by_label("完成情况")).to_have_value("已按期完成")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], "no sideways scrolling"
    assert_translated(page)
    shoot(page, "measure-report-phone", full_page=True)
    page.get_by_role("button", name="提交并办结").click()
    page.wait_for_url(re.compile(r"/inbox"))

    ctx.clock.advance(timedelta(days=7))
    run_due_timers(ctx)  # the other measure is never reported
    office = guard.watch(new_context(viewport=DESKTOP).new_page())
    sign_in(office, "office1")
    office.get_by_role("link", name="1 项措施在销号后逾期未完成。").click()
    other = next(m for m in deadlines if m not in measure)
    expect(office.locator("tbody")).to_contain_text(other)
    assert_translated(office)
    shoot(office, "measures-overdue-desktop")
    office.get_by_role("link", name="回头看…").click()
    expect(office.locator("form.card")).to_contain_text(other)
    shoot(office, "measures-recheck-desktop", full_page=True)
