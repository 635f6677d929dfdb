"""Sessions end when they should: a logout ends its session on the server, and a password change
ends every other session and token of the account."""
from __future__ import annotations

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
