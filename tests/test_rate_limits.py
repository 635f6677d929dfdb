"""Rate limits: a client that asks too often is answered 429 too_many_requests with Retry-After,
on the API and on the pages, while other addresses and accounts go on as before. The tests set low
rates; the defaults are on in every other test."""
from __future__ import annotations

import io
import uuid
from pathlib import Path

import pytest
from support.api import liaison, publish_round
from support.district import PASSWORD
from support.pages import Pages

from config import Settings, SettingsError
from service import create_app

A, B, C = ({"REMOTE_ADDR": f"192.0.2.{n}"} for n in (1, 2, 3))


def _refused(r) -> int:
    """A 429 from the API: problem+json, code too_many_requests, Retry-After in whole seconds."""
    assert r.status_code == 429, (r.status_code, r.get_data(as_text=True)[:300])
    assert r.headers["Content-Type"] == "application/problem+json"
    body = r.get_json()
    assert body["code"] == "too_many_requests", body
    seconds = int(r.headers["Retry-After"])
    assert 1 <= seconds <= 60 and body["retry_after"] == seconds
    return seconds


def _browser_at(app, env) -> Pages:
    """A browser of its own on another address."""
    client = app.test_client()
    client.environ_base.update(env)
    return Pages(client)


def _token(client, username, password=PASSWORD, env=A):
    return client.post("/api/v1/auth/token", json={"username": username, "password": password}, environ_base=env)


def test_logins_are_limited_per_address_and_per_username(ctx, client, district):
    ctx.settings.rate_limit_login = "2 per minute"
    assert _token(client, "office1", "wrong").status_code == 401
    assert _token(client, "leading1").status_code == 200
    _refused(_token(client, "designer1"))  # a third login from address A, whatever the name
    _refused(_token(client, "designer1", env=A))
    assert _token(client, "designer1", env=B).status_code == 200, "another address is not affected"
    assert _token(client, "office1", "wrong", env=B).status_code == 401
    # office1 was tried twice now, from A and from B: a third try is refused from anywhere
    _refused(_token(client, "office1", env=C))
    assert _token(client, "leading1", env=C).status_code == 200


def test_the_login_page_says_when_to_try_again_and_shares_the_count_with_the_api(ctx, client, district):
    ctx.settings.rate_limit_login = "2 per minute"
    pages = Pages(client)
    assert _token(client, "office1", "wrong", env={}).status_code == 401  # the test client's own address
    assert pages.login("office1", "wrong").status_code == 401
    r = pages.login("office1")
    assert r.status_code == 429 and 1 <= int(r.headers["Retry-After"]) <= 60
    html = r.get_data(as_text=True)
    assert "请求过于频繁" in html and f"{r.headers['Retry-After']} 秒后再试" in html, html
    assert 'role="alert"' in html and 'value="office1"' in html, "the form comes back with the refusal above it"
    assert client.get("/login").status_code == 200, "showing the form is not counted"
    other = _browser_at(client.application, B)
    assert other.login("office1").status_code == 429, "the username's count holds on every address"
    assert other.login("leading1").headers["Location"].endswith("/inbox")


def test_password_changes_are_limited_per_account_on_the_api_and_the_page(ctx, client, api, district):
    ctx.settings.rate_limit_credential = "2 per minute"
    office = api.as_("office1")
    for _ in range(2):
        r = office.post("/auth/password", json={"current_password": "wrong", "new_password": "a-new-password-1"})
        assert r.get_json()["code"] == "wrong_password"
    _refused(office.post("/auth/password", json={"current_password": PASSWORD, "new_password": "a-new-password-1"}))
    pages = Pages(client)
    assert pages.login("office1").status_code == 302
    assert pages.get("/account/password").status_code == 200
    r = pages.post("/account/password", {"current_password": PASSWORD, "new_password": "a-new-password-1",
                                         "confirm_password": "a-new-password-1"}, token_from="/account/password")
    assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1
    html = r.get_data(as_text=True)
    assert "<h1>请求过于频繁</h1>" in html and f"请 {r.headers['Retry-After']} 秒后再试。" in html, html
    leading = api.as_("leading1")  # another account
    r = leading.post("/auth/password", json={"current_password": PASSWORD, "new_password": "a-new-password-1"})
    assert r.status_code == 204


def test_evidence_uploads_are_limited_per_account(ctx, client, api, district):
    publish_round(api, district)
    mine = liaison(api, district, 2)
    case = mine.get("/cases").get_json()["items"][0]
    common = mine.get(f"/rounds/{case['round_id']}").get_json()["common_problems"]
    mine.complete(mine.tasks(step="self_check")[0]["id"], {"items": [
        {"common_problem_id": c["id"], "applicable": True, "problems_found": 1, "findings": "发现问题"}
        for c in common]})
    ctx.settings.rate_limit_upload = "1 per minute"

    def upload(user, name):
        return user.post(f"/cases/{case['id']}/evidence", data={"file": (io.BytesIO(b"%PDF-1.4 x"), name)},
                         content_type="multipart/form-data")

    assert upload(mine, "一.pdf").status_code == 201
    _refused(upload(mine, "二.pdf"))
    pages = Pages(client)
    pages.login(f"{district.codes[district.units[2]].lower()}_liaison")
    xhr = {"X-Requested-With": "XMLHttpRequest", "X-CSRFToken": pages.token(f"/cases/{case['id']}")}
    r = client.post(f"/cases/{case['id']}/evidence", headers=xhr, content_type="multipart/form-data",
                    data={"file": (io.BytesIO(b"%PDF-1.4 x"), "三.pdf")})
    assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1
    assert r.get_data(as_text=True) == f"请求过于频繁: 请 {r.headers['Retry-After']} 秒后再试。", \
        "the upload widget shows the answer's text"
    head = api.as_(f"{district.codes[district.units[2]].lower()}_head")
    assert upload(head, "四.pdf").status_code == 201, "another account of the unit is not affected"


def test_every_api_request_counts_towards_a_general_limit_per_address(ctx, client, api, district):
    ctx.settings.rate_limit_api = "3 per minute"
    office = api.as_("office1")
    for _ in range(3):
        assert office.get("/me").status_code == 200
    _refused(office.get("/units"))
    _refused(client.get("/api/v1/me"))  # not logged in: counted all the same, before the token is looked up
    assert client.get("/api/v1/me", headers=office.headers, environ_base=B).status_code == 200
    assert Pages(client).login("office1").status_code == 302, "the pages are not under the API's limit"


def test_a_rate_that_cannot_be_read_is_a_settings_error(monkeypatch, tmp_path):
    monkeypatch.setenv("RECTIFLOW_RATE_LIMIT_LOGIN", "ten a minute")
    with pytest.raises(SettingsError, match="RECTIFLOW_RATE_LIMIT_LOGIN"):
        Settings(instance_dir=tmp_path, secret_key="k", audit_key="k")
    monkeypatch.setenv("RECTIFLOW_RATE_LIMIT_LOGIN", "")
    assert Settings(instance_dir=tmp_path, secret_key="k", audit_key="k").rate_limit_login == "", "empty: no limit"


REDIS = "redis://127.0.0.1:6379"


def _redis_or_skip() -> None:
    redis = pytest.importorskip("redis", reason="the redis client is not installed")
    try:
        redis.Redis.from_url(REDIS, socket_connect_timeout=0.5).ping()
    except redis.exceptions.RedisError as exc:
        pytest.skip(f"no Redis answers at {REDIS} ({exc.__class__.__name__}); the limits' shared storage is untested")


def test_with_redis_several_processes_share_the_counts(ctx, district, tmp_path):
    """Two applications over the same database and the same Redis, as two processes behind one proxy."""
    _redis_or_skip()
    apps = []
    for n in range(2):
        settings = Settings(instance_dir=Path(tmp_path, f"process{n}"), database_url=ctx.settings.database_url,
                            secret_key="test", audit_key=ctx.settings.audit_key, rate_limit_storage=REDIS,
                            rate_limit_login="2 per minute")
        apps.append(create_app(settings, ctx.clock))
    address = {"REMOTE_ADDR": f"198.51.100.{uuid.uuid4().int % 250 + 1}"}  # counts of its own in a shared Redis
    first, second = (app.test_client() for app in apps)
    try:
        assert _token(first, "office1", env=address).status_code == 200
        assert _token(second, "leading1", env=address).status_code == 200
        _refused(_token(first, "designer1", env=address))
        _refused(_token(second, "designer1", env=address))
    finally:
        for app in apps:
            app.extensions["rectiflow"].db.engine.dispose()


def test_a_storage_that_cannot_be_used_is_a_settings_error(ctx, tmp_path):
    settings = Settings(instance_dir=tmp_path, database_url=ctx.settings.database_url, secret_key="test",
                        audit_key=ctx.settings.audit_key, rate_limit_storage="carrier-pigeon://loft")
    with pytest.raises(SettingsError, match="RECTIFLOW_RATE_LIMIT_STORAGE"):
        create_app(settings)
