"""Leaders in charge, functional departments and the message centre in Chromium: a leader signs for
a red warning with an instruction that the office then reads; a department opens a case of a unit
it governs and is refused one it does not; the unread count in the top bar follows the messages."""
from __future__ import annotations

import re
from datetime import timedelta

from playwright.sync_api import expect
from sqlalchemy import select
from support.browser import PHONE, assert_translated
from support.notices import govern
from support.rounds import as_user, publish_round

from service import supervision
from service.models import Case
from service.timers import run_due_timers


def _case(ctx, unit_id: int) -> Case:
    with ctx.db.read() as s:
        return s.scalar(select(Case).where(Case.unit_id == unit_id))


def test_a_leader_signs_for_a_red_warning_with_an_instruction_the_office_then_reads(
        live_app, live_server, new_context, guard, sign_in, shoot, clock):
    ctx, d = live_app.extensions["rectiflow"], live_app.district
    publish_round(ctx, d)
    case = _case(ctx, d.units[2])  # in leader0's charge
    clock.move_to(case.due_at + timedelta(minutes=5))
    run_due_timers(ctx)
    run_due_timers(ctx)

    page = guard.watch(new_context().new_page())
    sign_in(page, "leader0")
    expect(page.locator(".notices-link")).to_have_attribute("aria-label", re.compile(r"^消息，\d+ 条未读$"))
    page.get_by_role("link", name="分管单位通知").click()
    red = page.locator(".notice-list > li").filter(has_text="红色预警").filter(has_text="单位2")
    expect(red).to_have_count(1)
    shoot(page, "leader-notices", full_page=True)
    red.get_by_label("批示（可不填）").fill("请单位主要负责人亲自督办，一周内整改到位。")
    red.get_by_role("button", name="签收").click()
    expect(page.locator(".flash")).to_contain_text("已签收")
    signed = page.locator(".notice-list > li").filter(has_text="红色预警").filter(has_text="单位2")
    expect(signed.locator(".instruction")).to_contain_text("一周内整改到位")
    assert_translated(page)

    sign_in(page, "office1", "/notices")
    page.locator(".notice-list > li").filter(has_text="领导批示").first.get_by_role("link").click()
    expect(page).to_have_url(re.compile(rf"/cases/{case.id}$"))
    expect(page.locator(".instruction")).to_contain_text("请单位主要负责人亲自督办，一周内整改到位。")
    expect(page.locator(".instruction")).to_contain_text("分管领导0")
    shoot(page, "case-with-instruction", full_page=True)

    phone = guard.watch(new_context(viewport=PHONE).new_page())
    sign_in(phone, "leader0", "/notifications")
    expect(phone.locator(".notice-list > li").first).to_be_visible()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390, "nothing wider than the phone"
    shoot(phone, "leader-notices-phone", full_page=True)


def test_a_department_opens_a_case_it_governs_and_not_one_it_does_not(
        live_app, live_server, new_context, guard, sign_in, shoot):
    ctx, d = live_app.extensions["rectiflow"], live_app.district
    govern(ctx, d.departments[0], [d.units[2], d.units[3]])
    publish_round(ctx, d)
    other = _case(ctx, d.units[4])

    page = guard.watch(new_context().new_page())
    sign_in(page, "u000_liaison")
    page.get_by_role("link", name="主管行业整改").click()
    expect(page.get_by_role("heading", name="主管行业整改")).to_be_visible()
    expect(page.locator("tbody tr")).to_have_count(2)
    shoot(page, "governed-cases", full_page=True)
    page.get_by_role("link", name="单位2").click()
    expect(page.get_by_role("heading", name=re.compile("单位2"))).to_be_visible()
    page.get_by_label("给单位的意见").fill("建议对照行业规范完善合同审核流程。")
    page.get_by_role("button", name="发送意见").click()
    expect(page.locator(".flash")).to_contain_text("意见已发送给单位")
    shoot(page, "case-department-comment", full_page=True)
    response = page.goto(f"{live_server}/cases/{other.id}")
    assert response is not None and response.status == 403
    assert_translated(page)

    phone = guard.watch(new_context(viewport=PHONE).new_page())
    sign_in(phone, "u000_liaison", "/governed-cases")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390, "nothing wider than the phone"
    shoot(phone, "governed-cases-phone", full_page=True)


def test_the_unread_count_in_the_top_bar_follows_the_messages(live_app, live_server, new_context, guard, sign_in,
                                                              shoot):
    ctx, d = live_app.extensions["rectiflow"], live_app.district
    page = guard.watch(new_context().new_page())
    sign_in(page, "u002_liaison")
    badge = page.locator(".notices-link")
    expect(badge).to_have_attribute("aria-label", "消息，没有未读")
    expect(page.locator("#unread-notices")).to_have_count(0)

    publish_round(ctx, d)  # the list is published: a message, and the self-check task
    page.reload()
    expect(badge).to_have_attribute("aria-label", "消息，2 条未读")
    expect(page.locator("#unread-notices")).to_have_text("2")

    case = _case(ctx, d.units[2])
    as_user(ctx, "office1", lambda s, p: supervision.urge(ctx, s, p, case.id, "自查进度滞后，请抓紧。"))
    page.reload()
    expect(badge).to_have_attribute("aria-label", "消息，3 条未读")

    badge.click()
    urge = page.locator(".notice-list > li").filter(has_text="催办")
    expect(urge).to_contain_text("自查进度滞后，请抓紧。")
    shoot(page, "notices", full_page=True)
    urge.get_by_role("button", name="标为已读").click()
    expect(badge).to_have_attribute("aria-label", "消息，2 条未读")
    page.get_by_role("button", name="全部标为已读").click()
    expect(badge).to_have_attribute("aria-label", "消息，没有未读")
    assert_translated(page)

    phone = guard.watch(new_context(viewport=PHONE).new_page())
    sign_in(phone, "office1", "/notices")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390, "nothing wider than the phone"
    shoot(phone, "notices-phone", full_page=True)
    sign_in(phone, "office1", f"/cases/{case.id}")
    expect(phone.get_by_label("催办单位")).to_be_visible()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    shoot(phone, "case-urge-phone", full_page=True)

    # 回头看 on a closed case: a confirmation first
    ctx.db.transaction(lambda s: setattr(s.get(Case, case.id), "status", "closed"))
    sign_in(phone, "office1", f"/cases/{case.id}/recheck")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    shoot(phone, "recheck-confirm-phone", full_page=True)
    page = guard.watch(new_context().new_page())
    sign_in(page, "office1", f"/cases/{case.id}")
    page.get_by_role("link", name="回头看…").click()
    expect(page.get_by_role("heading", name=re.compile("回头看"))).to_be_visible()
    shoot(page, "recheck-confirm")
    page.get_by_label("回头看的原因").fill("群众反映问题反弹")
    page.get_by_role("button", name="启动回头看").click()
    expect(page.locator(".flash")).to_contain_text("已启动回头看")
