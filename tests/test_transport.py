"""Over TLS, directly or behind trusted reverse proxies: the session cookie (which holds the CSRF
token too) is Secure and answers carry Strict-Transport-Security; over plain http nothing changes.
Forwarded headers count only from as many proxies as RECTIFLOW_TRUSTED_PROXIES trusts."""
from __future__ import annotations

from support.district import PASSWORD
from support.pages import Pages

HSTS = "max-age=31536000"


def _login(client, base_url="http://localhost", headers=None):
    """Log in through the form as a browser does; over https it sends the Referer Flask-WTF checks."""
    token = Pages(client).token("/login")
    headers = {"Referer": f"{base_url}/login", **(headers or {})}
    return client.post("/login", data={"username": "office1", "password": PASSWORD, "csrf_token": token},
                       base_url=base_url, headers=headers)


def _session_cookie(r) -> str:
    cookies = [c for c in r.headers.getlist("Set-Cookie") if c.startswith("session=")]
    assert cookies, r.headers
    return cookies[-1]


def test_over_plain_http_cookies_are_not_secure_and_there_is_no_hsts(client, district):
    r = _login(client)
    assert r.status_code == 302
    assert "Secure" not in _session_cookie(r) and "HttpOnly" in _session_cookie(r)
    assert "Strict-Transport-Security" not in r.headers
    assert "Strict-Transport-Security" not in client.get("/api/v1/health").headers


def test_over_https_the_session_cookie_is_secure_and_answers_carry_hsts(app, district):
    client = app.test_client()
    r = _login(client, base_url="https://localhost")
    assert r.status_code == 302 and "Secure" in _session_cookie(r)
    assert r.headers["Strict-Transport-Security"] == HSTS
    page = client.get("/inbox", base_url="https://localhost")
    assert page.status_code == 200 and page.headers["Strict-Transport-Security"] == HSTS
    api = client.get("/api/v1/health", base_url="https://localhost")
    assert api.is_json and api.headers["Strict-Transport-Security"] == HSTS


def test_behind_a_trusted_proxy_its_forwarded_scheme_and_address_count(app, ctx, client, district):
    # what nginx sends on for a browser that came over https
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.7", "Referer": "https://localhost/login"}
    r = _login(client, headers=forwarded)
    assert "Secure" not in _session_cookie(r), "no proxy is trusted: anyone could send the header"
    assert "Strict-Transport-Security" not in r.headers

    ctx.settings.trusted_proxies = 1
    r = _login(app.test_client(), headers=forwarded)
    assert r.status_code == 302 and "Secure" in _session_cookie(r)
    assert r.headers["Strict-Transport-Security"] == HSTS
    r = client.get("/api/v1/health", headers=forwarded)
    assert r.is_json and r.headers["Strict-Transport-Security"] == HSTS
    assert "Strict-Transport-Security" not in client.get("/api/v1/health",
                                                         headers={"X-Forwarded-Proto": "http"}).headers


def test_rate_limits_count_the_forwarded_address_only_from_trusted_proxies(ctx, client, district):
    ctx.settings.rate_limit_api = "2 per minute"

    def health(client_address):
        return client.get("/api/v1/health", headers={"X-Forwarded-For": client_address}).status_code

    assert [health("203.0.113.1"), health("203.0.113.2"), health("203.0.113.3")] == [200, 200, 429], \
        "no proxy is trusted: a made-up X-Forwarded-For does not escape the limit"
    ctx.settings.trusted_proxies = 1
    assert [health("203.0.113.1"), health("203.0.113.1"), health("203.0.113.1")] == [200, 200, 429]
    assert health("203.0.113.2") == 200, "behind the proxy each client has a count of its own"
    # two proxies trusted: the client is the address the outer proxy saw (the inner one adds the
    # outer's address), not any the client put in the header itself
    ctx.settings.trusted_proxies = 2
    assert health("198.51.100.9, 203.0.113.1, 10.0.0.2") == 429, "the client cannot pick its own address"


def test_secure_cookies_can_be_required_always(ctx, client, district):
    ctx.settings.secure_cookies = True
    r = _login(client)
    assert r.status_code == 302 and "Secure" in _session_cookie(r)
    assert "Strict-Transport-Security" not in r.headers, "a browser ignores HSTS over http"
