"""My account (我的账号) in Chromium: someone opens it from the top bar on a phone, revokes an API
token after confirming, and ends their session in another browser."""
from __future__ import annotations

from playwright.sync_api import expect
from support.browser import PHONE, assert_translated
from support.district import user_id

from service.auth import new_token


def test_people_revoke_a_token_and_end_their_other_sessions(live_app, live_server, new_context, guard, sign_in,
                                                             shoot):
    ctx = live_app.extensions["rectiflow"]
    uid = user_id(ctx, "office1")
    older, newer = (ctx.db.transaction(lambda s: new_token(s, uid, ctx.now(), ctx.settings.token_hours))
                    for _ in range(2))
    api = live_app.test_client()

    def works(token: str) -> bool:
        return api.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200

    elsewhere = guard.watch(new_context().new_page())
    sign_in(elsewhere, "office1", "/account/")
    expect(elsewhere.get_by_role("heading", name="我的账号")).to_be_visible()
    shoot(elsewhere, "account-desktop", full_page=True)

    page = guard.watch(new_context(viewport=PHONE).new_page())
    sign_in(page, "office1")
    page.get_by_role("link", name="我的账号").click()
    expect(page.get_by_role("heading", name="我的账号")).to_be_visible()
    expect(page.get_by_role("link", name="修改密码")).to_be_visible()
    rows = page.locator(".token-table tbody tr")
    expect(rows).to_have_count(2)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), "nothing runs off a phone"
    assert_translated(page)
    shoot(page, "account-phone", full_page=True)

    asked: list[str] = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    revoke = rows.first.get_by_role("button", name="撤销")
    revoke.click()
    expect(rows).to_have_count(2)
    assert asked and "确定撤销" in asked[0], "the button asks first, and no is no"
    assert works(newer)

    page.once("dialog", lambda dialog: dialog.accept())
    revoke.click()
    expect(page.locator(".flash")).to_contain_text("API 令牌已撤销")
    expect(rows).to_have_count(1)
    assert not works(newer) and works(older), "the newest token, at the top, was revoked; the other goes on"

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="退出其他所有登录").click()
    expect(page.locator(".flash")).to_contain_text("您的其他登录已退出")
    elsewhere.reload()
    expect(elsewhere).to_have_url(f"{live_server}/login?next=/account/")
    page.get_by_role("link", name="我的账号").click()
    expect(page.get_by_role("heading", name="我的账号")).to_be_visible()  # this session goes on
