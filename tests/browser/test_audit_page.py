"""审计日志 in Chromium on a phone: the audit administrator filters the log, reads the entries as
labelled cards no wider than the screen, and verifies the chain, under the guard's policy."""
from __future__ import annotations

from playwright.sync_api import expect
from support.browser import PHONE, assert_translated

from service import audit


def test_the_audit_administrator_filters_and_verifies_the_log_on_a_phone(live_app, new_context, guard, sign_in,
                                                                         shoot):
    ctx = live_app.extensions["rectiflow"]

    def history(s):
        for name in ("office1", "nobody-with-a-rather-long-username-typed-at-the-login-form"):
            audit.record(s, "login_failed", None, f"user:{name}", outcome="refused", detail={"code": "unauthorized"},
                         address="2001:db8:85a3:0000:0000:8a2e:0370:7334")
        audit.record(s, "login", "office1", "user:office1", address="10.0.0.7")
        audit.record(s, "role_change_proposed", "admin", "user:inspector1",
                     detail={"change": 1, "before": ["inspector"], "after": ["inspector", "office"]})
    ctx.db.transaction(history)

    page = guard.watch(new_context(viewport=PHONE).new_page())
    sign_in(page, "auditor1")
    page.get_by_role("link", name="审计日志").click()
    expect(page.locator("h1")).to_have_text("审计日志")
    expect(page.locator("tbody tr")).to_have_count(4)
    expect(page.locator("thead")).to_have_css("position", "absolute")  # cards, each cell labelled
    expect(page.locator("tbody tr").first.locator("td").nth(3)).to_have_attribute("data-label", "操作")

    page.get_by_label("操作", exact=True).select_option(label="登录失败")
    page.get_by_label("结果").select_option(label="拒绝")
    page.get_by_role("button", name="筛选").click()
    rows = page.locator("tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("用户名或密码错误")
    expect(page.locator(".audit-total")).to_have_text("共 2 条")
    expect(page.get_by_role("link", name="导出 Excel")).to_have_attribute(
        "href", "/audit/export.xlsx?action=login_failed&outcome=refused")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390, "nothing wider than the phone"
    assert_translated(page)
    shoot(page, "audit-log-phone", full_page=True)

    page.get_by_role("button", name="校验完整性").click()
    expect(page.locator(".flash")).to_have_text("审计日志完整：已校验 4 条记录。")
    expect(page.locator("tbody tr").first).to_contain_text("校验审计日志")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
