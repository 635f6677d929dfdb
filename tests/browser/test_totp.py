"""Two-step verification in Chromium: set up from 我的账号 in the top bar (the QR code and
the key as an authenticator app reads them, the code computed from the key shown), then a login
through the form in two steps, the password and then the code; the page on a phone."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect
from support.browser import PHONE
from support.district import PASSWORD
from support.totp import clock_at_step_start, code


@pytest.fixture
def clock():
    return clock_at_step_start()


def test_enrol_on_the_page_then_log_in_with_password_and_code(live_app, live_server, new_context, guard, sign_in,
                                                              shoot):
    ctx = live_app.extensions["rectiflow"]
    page = guard.watch(new_context().new_page())
    sign_in(page, "office1")
    page.locator(".topbar").get_by_role("link", name="我的账号").click()
    page.get_by_role("link", name="两步验证").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("两步验证")
    page.get_by_role("button", name="开启两步验证").click()

    expect(page.get_by_role("img", name="用验证器应用扫描的二维码")).to_be_visible()
    secret = page.locator("#totp-secret").inner_text().replace(" ", "")
    assert len(secret) == 32
    shoot(page, "totp-enrol", full_page=True)
    page.get_by_label("6 位验证码").fill("000000" if code(ctx, secret) != "000000" else "111111")
    page.get_by_label("当前密码").fill(PASSWORD)
    page.get_by_role("button", name="确认开启两步验证").click()
    expect(page.locator("#form-errors")).to_contain_text("验证码错误或已过期")
    expect(page.get_by_label("6 位验证码")).to_have_attribute("aria-invalid", "true")
    assert page.locator("#totp-secret").inner_text().replace(" ", "") == secret, "the same key, still pending"
    page.get_by_label("6 位验证码").fill(code(ctx, secret))
    page.get_by_label("当前密码").fill(PASSWORD)
    page.get_by_role("button", name="确认开启两步验证").click()
    expect(page.locator(".flash-success")).to_contain_text("两步验证已开启")

    page.locator(".topbar form[action$='/logout'] button").click()
    page.wait_for_url(f"{live_server}/login")
    page.locator("#username").fill("office1")
    page.locator("#password").fill(PASSWORD)
    page.locator("#password").press("Enter")
    field = page.get_by_label("验证码")
    expect(field).to_be_focused()
    expect(field).to_have_attribute("autocomplete", "one-time-code")
    expect(field).to_have_attribute("inputmode", "numeric")
    shoot(page, "totp-login")
    field.fill(code(ctx, secret, 1))  # the app's next code: the one that confirmed the enrolment is used
    field.press("Enter")
    page.wait_for_url(f"{live_server}/inbox")

    page.set_viewport_size(PHONE)
    page.goto(f"{live_server}/account/two-step")
    expect(page.get_by_role("button", name="关闭两步验证")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], "nothing wider than the phone"
    shoot(page, "totp-on-phone", full_page=True)
