"""The administrators' pages in Chromium, on a phone: the system administrator proposes a change of
roles, the security administrator approves it, each on their own page, under the guard's policy."""
from __future__ import annotations

import re

from playwright.sync_api import expect
from sqlalchemy import select
from support.browser import PHONE, assert_translated

from service.models import User


def test_a_role_change_proposed_and_approved_on_a_phone(live_app, live_server, new_context, guard, sign_in, shoot):
    ctx = live_app.extensions["rectiflow"]
    page = guard.watch(new_context(viewport=PHONE).new_page())
    sign_in(page, "admin")
    page.get_by_role("link", name="账号与角色").click()
    page.locator("#filter-q").fill("inspector1")
    page.get_by_role("button", name="筛选").click()
    page.get_by_role("link", name=re.compile("变更角色.*巡察员1")).click()
    page.get_by_label("巡察办").check()
    page.get_by_label("原因").fill("调入巡察办")
    page.get_by_role("button", name="提交变更申请").click()
    expect(page.locator(".flash")).to_contain_text("经另一职责的管理员审批后生效")
    expect(page.locator(".role-change").first).to_contain_text("待审批")
    expect(page.get_by_role("button", name=re.compile("^同意.*inspector1"))).to_have_count(0)
    assert_translated(page)

    sign_in(page, "security1", "/admin/role-changes")
    page.get_by_role("button", name=re.compile("^同意.*inspector1")).click()
    expect(page.locator(".flash")).to_contain_text("变更即时生效")
    expect(page.locator(".role-change").first).to_contain_text("已同意")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390, "nothing wider than the phone"
    assert_translated(page)
    shoot(page, "admin-role-changes-phone", full_page=True)
    with ctx.db.read() as s:
        assert sorted(s.scalar(select(User.roles).where(User.username == "inspector1"))) == ["inspector", "office"]
