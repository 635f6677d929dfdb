"""Sessions end when they should: a logout ends its session on the server, a password change
ends every other session and token of the account, and a page session unused for a while ends."""
from __future__ import annotations

from datetime import timedelta

from support.district import PASSWORD
from support.pages import Pages

NEW_PASSWORD = "a-new-password-2027"


def _cookie(client) -> str:
    cookie = client.get_cookie("session")
    assert cookie is not None, "the login set a session cookie"
    return cookie.value


def _replayed(app, cookie: str):
    """Another browser sending a captured cookie."""
    thief = app.test_client()
    thief.set_cookie("session", cookie)
    return thief.get("/inbox")


def test_a_session_cookie_captured_before_logout_no_longer_works(app, client, district):
    pages = Pages(client)
    pages.login("office1")
    captured = _cookie(client)
    assert _replayed(app, captured).status_code == 200
    pages.post("/logout")
    r = _replayed(app, captured)
    assert r.status_code == 302 and "/login" in r.headers["Location"], "logout ended the session on the server"
    pages.login("office1")  # logging in again works as before
    assert pages.get("/inbox").status_code == 200


def test_a_password_change_ends_every_other_session_and_token(app, client, district):
    browser = Pages(app.test_client())
    browser.login("office1")
    captured = _cookie(browser.client)
    tokens = [client.post("/api/v1/auth/token", json={"username": "office1", "password": PASSWORD}).get_json()["token"]
              for _ in range(2)]
    this, other = ({"Authorization": f"Bearer {t}"} for t in tokens)
    r = client.post("/api/v1/auth/password", headers=this,
                    json={"current_password": PASSWORD, "new_password": NEW_PASSWORD})
    assert r.status_code == 204, r.get_json()
    assert client.get("/api/v1/me", headers=this).status_code == 200, "the token that changed it goes on"
    r = client.get("/api/v1/me", headers=other)
    assert r.status_code == 401 and r.get_json()["code"] == "unauthorized"
    assert browser.get("/inbox").status_code == 302, "the page session of another browser ended"
    assert _replayed(app, captured).status_code == 302
    assert client.post("/api/v1/auth/token", json={"username": "office1", "password": PASSWORD}).status_code == 401
    assert browser.login("office1", NEW_PASSWORD).status_code == 302
    assert browser.get("/inbox").status_code == 200


def test_a_password_change_needs_the_current_password_and_a_long_new_one(client, api, district):
    office = api.as_("office1")
    r = office.post("/auth/password", json={"current_password": "wrong", "new_password": NEW_PASSWORD})
    assert r.status_code == 403 and r.get_json()["code"] == "wrong_password"
    r = office.post("/auth/password", json={"current_password": PASSWORD, "new_password": "short"})
    assert r.status_code == 422 and r.get_json()["errors"][0]["field"] == "new_password"
    assert r.get_json()["code"] == "password_too_short"
    assert office.get("/me").status_code == 200, "a refused change ends nothing"
    assert client.post("/api/v1/auth/token", json={"username": "office1", "password": PASSWORD}).status_code == 200


def test_an_api_token_can_be_revoked(client, district):
    token = client.post("/api/v1/auth/token", json={"username": "office1", "password": PASSWORD}).get_json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert client.delete("/api/v1/auth/token", headers=headers).status_code == 204
    r = client.get("/api/v1/me", headers=headers)
    assert r.status_code == 401 and r.get_json()["code"] == "unauthorized"


def test_people_change_their_password_on_a_page_and_stay_logged_in(app, client, district):
    other = Pages(app.test_client())
    other.login("leader0")
    token = client.post("/api/v1/auth/token", json={"username": "leader0", "password": PASSWORD}).get_json()["token"]
    pages = Pages(client)
    pages.login("leader0")
    inbox = pages.text("/inbox")
    assert 'href="/account/"' in inbox, "the top bar links the account page for every role"
    assert 'href="/account/password"' in pages.text("/account/"), "which links the password page"
    assert "修改密码" in pages.text("/account/password")

    def change(current, new, again):
        return pages.post("/account/password", {"current_password": current, "new_password": new,
                                                "confirm_password": again}, token_from="/account/password")

    for (current, new, again), said in (((PASSWORD, NEW_PASSWORD, NEW_PASSWORD + "x"), "两次输入的新密码不一致"),
                                        (("wrong-password", NEW_PASSWORD, NEW_PASSWORD), "当前密码不正确"),
                                        ((PASSWORD, "short", "short"), "至少需要 10 个字符"),
                                        (("", NEW_PASSWORD, NEW_PASSWORD), "请输入当前密码")):
        r = change(current, new, again)
        html = r.get_data(as_text=True)
        assert r.status_code == 422 and said in html and 'class="error-summary"' in html, said
    assert other.get("/inbox").status_code == 200, "a refused change ends nothing"

    r = change(PASSWORD, NEW_PASSWORD, NEW_PASSWORD)
    assert r.status_code == 302 and r.headers["Location"].endswith("/inbox")
    assert "密码已修改" in pages.text("/inbox"), "this session goes on, and says what happened"
    assert other.get("/inbox").status_code == 302, "the other browser's session ended"
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert Pages(app.test_client()).login("leader0", NEW_PASSWORD).status_code == 302


def test_a_page_session_unused_for_longer_than_the_idle_limit_ends(ctx, client, clock, district):
    pages = Pages(client)
    pages.login("office1")
    idle = timedelta(minutes=ctx.settings.session_idle_minutes)
    clock.advance(idle - timedelta(minutes=1))
    assert pages.get("/inbox").status_code == 200
    clock.advance(idle - timedelta(minutes=1))  # longer than the limit since login, not since the last click
    assert pages.get("/inbox").status_code == 200
    clock.advance(idle + timedelta(seconds=1))
    r = pages.get("/rounds")
    assert r.status_code == 302 and r.headers["Location"] == "/login?next=/rounds"
    html = pages.text(r.headers["Location"])
    assert "长时间未操作，已自动退出，请重新登录。" in html and 'role="status"' in html
    assert pages.get("/inbox").status_code == 302, "the session has ended, not just this request"
    assert pages.login("office1").status_code == 302 and pages.get("/inbox").status_code == 200
