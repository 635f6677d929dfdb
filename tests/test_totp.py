"""Two-step verification: an authenticator app (TOTP) enrolled and confirmed, logins that need its
code, codes refused when wrong or used before, counted towards the lockout like wrong passwords,
on the audit log, and a policy that keeps the accounts of the roles that need a factor out of
everything else until they have one. Codes are computed as an app computes them (pyotp)."""
from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from support.api import UserApi
from support.concurrency import at_once
from support.district import PASSWORD
from support.fixtures import AUDIT_KEY
from support.pages import Pages, csrf_token
from support.totp import clock_at_step_start, code, give_factor, wrong
from test_audit_log import entries

from config import Settings, SettingsError
from service.cli import main


@pytest.fixture
def clock():
    return clock_at_step_start()


def _token(client, username: str, password: str = PASSWORD, totp: str | None = None):
    body = {"username": username, "password": password} | ({"totp": totp} if totp is not None else {})
    r = client.post("/api/v1/auth/token", json=body)
    return r.status_code, r.get_json()


def _code_of(status_body) -> tuple[int, str | None]:
    status, body = status_body
    return status, body.get("code")


# ---------------------------------------------------------------- enrolling and logging in
def test_enrol_confirm_then_log_in_with_a_fresh_code_only(client, ctx, api, district):
    office = api.as_("office1")
    r = office.post("/me/totp")
    assert r.status_code == 200
    enrolment = r.get_json()
    uri = urlsplit(enrolment["otpauth_uri"])
    query = parse_qs(uri.query)
    assert (uri.scheme, uri.netloc, uri.path) == ("otpauth", "totp", "/rectiflow:office1")
    assert query["secret"] == [enrolment["secret"]] and query["issuer"] == ["rectiflow"]
    secret = enrolment["secret"]
    assert office.get("/me").get_json()["totp"] == {"state": "pending", "required": False}
    assert _token(client, "office1")[0] == 200, "an enrolment not yet confirmed asks for no code"

    r = office.post("/me/totp/confirm", json={"code": wrong(code(ctx, secret)), "password": PASSWORD})
    assert r.status_code == 422 and r.get_json()["code"] == "totp_invalid"
    r = office.post("/me/totp/confirm", json={"code": code(ctx, secret), "password": PASSWORD})
    assert r.status_code == 204
    assert office.get("/me").get_json()["totp"]["state"] == "on"
    assert office.post("/me/totp").get_json()["code"] == "totp_already_enabled", "an active secret is not replaced"

    assert _code_of(_token(client, "office1")) == (401, "totp_required")
    assert _code_of(_token(client, "office1", totp=code(ctx, secret))) == (401, "totp_replayed"), \
        "the code that confirmed the enrolment is used"
    nxt = code(ctx, secret, 1)  # the app's next code: within the window, and a later step
    status, body = _token(client, "office1", totp=f"{nxt[:3]} {nxt[3:]}")  # as the app shows it
    assert status == 200 and body["user"]["username"] == "office1"
    assert _code_of(_token(client, "office1", totp=nxt)) == (401, "totp_replayed")
    assert _code_of(_token(client, "office1", totp=code(ctx, secret, -1))) == (401, "totp_replayed"), \
        "a code of an earlier step than the last one used"
    assert _code_of(_token(client, "office1", totp=code(ctx, secret, 2))) == (401, "totp_invalid"), \
        "a code beyond the window"
    ctx.clock.advance(timedelta(seconds=60))
    assert _token(client, "office1", totp=code(ctx, secret))[0] == 200, "a minute later, the app's code works"


def test_a_wrong_code_does_not_tell_whether_the_password_was_right(client, ctx, district):
    secret = give_factor(ctx, "office1")
    bad = wrong(code(ctx, secret))
    right_password = _token(client, "office1", totp=bad)
    wrong_password = _token(client, "office1", "not-the-password", totp=bad)
    no_account = _token(client, "nobody", "not-the-password", totp=bad)
    no_factor = _token(client, "leading1", "not-the-password", totp=bad)
    assert right_password == wrong_password == no_account == no_factor
    assert _code_of(right_password) == (401, "totp_invalid")
    # a good code with a wrong password is refused, and the step stays unused
    assert _code_of(_token(client, "office1", "not-the-password", totp=code(ctx, secret)))[0] == 401
    assert _token(client, "office1", totp=code(ctx, secret))[0] == 200
    assert _token(client, "leading1", totp="123456")[0] == 200, "an account without a factor ignores a code"


def test_wrong_missing_and_replayed_codes_count_towards_the_lockout(client, ctx, district):
    allowed = ctx.settings.login_attempts
    assert allowed == 5
    secret = give_factor(ctx, "office1")
    assert _token(client, "office1", totp=code(ctx, secret))[0] == 200
    used = code(ctx, secret)
    answers = [_token(client, "office1"), _token(client, "office1", totp=used),
               _token(client, "office1", totp=wrong(code(ctx, secret, 1))),
               _token(client, "office1", "not-the-password", totp=code(ctx, secret, 1)),
               _token(client, "office1", totp=wrong(code(ctx, secret, 1)))]
    assert [_code_of(a) for a in answers] == [(401, "totp_required"), (401, "totp_replayed"), (401, "totp_invalid"),
                                              (401, "totp_invalid"), (401, "account_locked")]
    assert _code_of(_token(client, "office1", totp=code(ctx, secret, 1))) == (401, "account_locked"), \
        "the right password and code wait for the lockout to end"
    ctx.clock.advance(timedelta(minutes=ctx.settings.lockout_minutes))
    assert _token(client, "office1", totp=code(ctx, secret))[0] == 200, "until the lockout ends"


def test_two_logins_with_one_code_at_once_let_one_in(app, ctx, district):
    secret = give_factor(ctx, "office1")
    one = code(ctx, secret)

    def log_in():
        with app.test_client() as c:
            return _code_of(_token(c, "office1", totp=one))

    assert sorted(at_once(2, log_in), key=str) == [(200, None), (401, "totp_replayed")]


# ---------------------------------------------------------------- turning it off
def test_turning_it_off_needs_a_current_code(client, ctx, api, district):
    secret = give_factor(ctx, "office1")
    office = api.as_("office1")
    r = office.client.delete("/api/v1/me/totp", headers=office.headers, json={"code": wrong(code(ctx, secret))})
    assert r.status_code == 403 and r.get_json()["code"] == "totp_invalid"
    r = office.client.delete("/api/v1/me/totp", headers=office.headers, json={"code": code(ctx, secret)})
    assert r.status_code == 204
    assert office.get("/me").get_json()["totp"]["state"] == "off"
    assert _token(client, "office1")[0] == 200, "the password alone logs in again"
    r = office.client.delete("/api/v1/me/totp", headers=office.headers, json={"code": code(ctx, secret)})
    assert r.status_code == 409 and r.get_json()["code"] == "totp_not_enabled"


# ---------------------------------------------------------------- the policy
def test_under_the_policy_the_roles_that_need_a_factor_enrol_before_anything_else(client, ctx, api, district):
    ctx.settings.totp_required = True
    status, body = _token(client, "office1")
    assert status == 200, "the password still logs in"
    office = UserApi(client, {"Authorization": f"Bearer {body['token']}"})
    for r in (office.get("/cases"), office.get("/me"), office.post("/auth/password", json={
            "current_password": PASSWORD, "new_password": "a-new-password-1"})):
        assert r.status_code == 403 and r.get_json()["code"] == "totp_enrolment_required", r.get_json()
    assert api.as_("leading1").get("/cases").status_code == 200, "a role that needs no factor goes on"
    assert api.as_("admin").get("/units").get_json()["code"] == "totp_enrolment_required"

    secret = office.post("/me/totp").get_json()["secret"]
    assert office.post("/me/totp/confirm", json={"code": code(ctx, secret), "password": PASSWORD}).status_code == 204
    assert office.get("/cases").status_code == 200
    assert office.get("/me").get_json()["totp"] == {"state": "on", "required": True}
    r = office.client.delete("/api/v1/me/totp", headers=office.headers, json={"code": code(ctx, secret, 1)})
    assert r.status_code == 403 and r.get_json()["code"] == "totp_required_by_policy"


def test_under_the_policy_pages_lead_to_the_enrolment_page(client, ctx, district):
    ctx.settings.totp_required = True
    pages = Pages(client)
    r = pages.login("office1")
    assert r.status_code == 302
    r = pages.get("/inbox")
    assert r.status_code == 302 and r.headers["Location"].endswith("/account/two-step")
    r = pages.get("/inbox", headers={"HX-Request": "true"})
    assert r.status_code == 403 and "两步验证" in r.get_data(as_text=True)
    html = pages.text("/account/two-step")
    assert "您的角色必须使用两步验证" in html
    assert pages.post("/account/two-step/start", token_from="/account/two-step").status_code == 302
    secret = _secret_on(pages.text("/account/two-step"))
    r = pages.post("/account/two-step/confirm", {"code": code(ctx, secret), "password": PASSWORD}, token_from="/account/two-step")
    assert r.status_code == 302
    assert pages.get("/inbox").status_code == 200
    html = pages.text("/account/two-step")
    assert "不能关闭" in html and "/account/two-step/disable" not in html


def test_the_policy_setting_reads_on_and_off(monkeypatch, tmp_path):
    assert Settings(instance_dir=tmp_path, secret_key="k").totp_required is False
    monkeypatch.setenv("RECTIFLOW_TOTP_REQUIRED", "on")
    assert Settings(instance_dir=tmp_path, secret_key="k").totp_required is True
    monkeypatch.setenv("RECTIFLOW_TOTP_REQUIRED", "sometimes")
    with pytest.raises(SettingsError, match="RECTIFLOW_TOTP_REQUIRED"):
        Settings(instance_dir=tmp_path, secret_key="k")


# ---------------------------------------------------------------- pages
def _secret_on(html: str) -> str:
    match = re.search(r'data-secret="([A-Z2-7]+)"', html)
    assert match, "the page shows the secret"
    return match.group(1)


def test_enrol_on_the_account_page_and_log_in_in_two_steps(client, ctx, district):
    pages = Pages(client)
    pages.login("office1")
    assert 'href="/account/"' in pages.text("/inbox"), "我的账号 is linked from the top bar"
    html = pages.text("/account/")
    assert 'href="/account/two-step"' in html and "两步验证" in html, "linked from 我的账号"
    assert "两步验证未开启" in pages.text("/account/two-step")
    pages.post("/account/two-step/start", token_from="/account/two-step")
    html = pages.text("/account/two-step")
    secret = _secret_on(html)
    assert '<svg role="img"' in html and "<title>用验证器应用扫描的二维码</title>" in html, "the QR code, inline"
    assert " ".join(secret[i:i + 4] for i in range(0, len(secret), 4)) in html, "the key, grouped for typing"
    r = pages.post("/account/two-step/confirm", {"code": wrong(code(ctx, secret)), "password": PASSWORD},
                   token_from="/account/two-step")
    assert r.status_code == 422 and "验证码错误或已过期" in r.get_data(as_text=True)
    r = pages.post("/account/two-step/confirm", {"code": code(ctx, secret), "password": PASSWORD},
                   token_from="/account/two-step", follow_redirects=True)
    assert "两步验证已开启" in r.get_data(as_text=True)
    pages.post("/logout")

    r = pages.login("office1")
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and 'autocomplete="one-time-code"' in html and 'inputmode="numeric"' in html
    assert 'name="password"' not in html, "the second step asks for the code alone"
    token = csrf_token(html)

    def second_step(value):
        return client.post("/login", data={"step": "code", "code": value, "csrf_token": token, "next": "/inbox"})

    r = second_step(wrong(code(ctx, secret, 1)))
    assert r.status_code == 401 and "验证码错误" in r.get_data(as_text=True)
    r = second_step(code(ctx, secret))
    assert r.status_code == 401 and "已使用过" in r.get_data(as_text=True), "the confirming code is used"
    r = second_step(code(ctx, secret, 1))
    assert r.status_code == 302 and r.headers["Location"] == "/inbox"
    assert pages.get("/inbox").status_code == 200

    ctx.clock.advance(timedelta(seconds=60))
    r = pages.post("/account/two-step/disable", {"code": code(ctx, secret)}, token_from="/account/two-step",
                   follow_redirects=True)
    assert "两步验证未开启" in r.get_data(as_text=True)


def test_the_second_step_ends_after_five_minutes_or_with_a_password_change(client, ctx, api, district):
    secret = give_factor(ctx, "office1")
    pages = Pages(client)

    def first_then_second_step(between):
        r = pages.login("office1")
        assert r.status_code == 200
        token = csrf_token(r.get_data(as_text=True))
        between()
        return client.post("/login", data={"step": "code", "code": code(ctx, secret), "csrf_token": token})

    r = first_then_second_step(lambda: ctx.clock.advance(timedelta(minutes=6)))
    assert r.status_code == 401 and "登录已超时" in r.get_data(as_text=True)
    r = first_then_second_step(lambda: api.as_("office1").post("/auth/password", json={
        "current_password": PASSWORD, "new_password": "a-new-password-1"}))
    assert r.status_code == 401 and 'name="password"' in r.get_data(as_text=True), "back to the password"


# ---------------------------------------------------------------- the audit log
def test_enrolling_turning_off_and_refused_codes_are_on_the_audit_log(client, ctx, api, district):
    office = api.as_("office1")
    secret = office.post("/me/totp").get_json()["secret"]
    office.post("/me/totp/confirm", json={"code": code(ctx, secret), "password": PASSWORD})
    _token(client, "office1", totp=code(ctx, secret))  # four refusals: a fifth would lock the account
    pages = Pages(client)
    token = csrf_token(pages.login("office1").get_data(as_text=True))
    client.post("/login", data={"step": "code", "code": wrong(code(ctx, secret, 1)), "csrf_token": token})
    office.client.delete("/api/v1/me/totp", headers=office.headers, json={"code": wrong(code(ctx, secret, 1))})
    office.client.delete("/api/v1/me/totp", headers=office.headers, json={"code": code(ctx, secret, 1)})

    log = [(e.action, e.actor, e.target, e.outcome, (e.detail or {}).get("code")) for e in entries(ctx)]
    assert log == [
        ("totp_enrolment_started", "office1", "user:office1", "ok", None),
        ("totp_enabled", "office1", "user:office1", "ok", None),
        ("token_refused", None, "user:office1", "refused", "totp_replayed"),
        ("login_failed", None, "user:office1", "refused", "totp_required"),
        ("login_failed", None, "user:office1", "refused", "totp_invalid"),
        ("totp_disable_refused", "office1", "user:office1", "refused", "totp_invalid"),
        ("totp_disabled", "office1", "user:office1", "ok", None),
    ]
    assert secret not in str([e.detail for e in entries(ctx)]), "the secret is not on the log"


def test_an_operator_turns_off_the_factor_of_a_lost_phone(monkeypatch, tmp_path, capsys, client, ctx, district):
    give_factor(ctx, "office1")
    monkeypatch.setenv("RECTIFLOW_DATABASE_URL", ctx.settings.database_url)
    monkeypatch.setenv("RECTIFLOW_AUDIT_KEY", AUDIT_KEY)
    monkeypatch.setenv("RECTIFLOW_INSTANCE_DIR", str(tmp_path / "cli-instance"))
    assert main(["totp-reset", "office1"]) == 0
    assert _token(client, "office1")[0] == 200, "the password alone logs in, to enrol again"
    assert main(["totp-reset", "office1"]) == 1 and "no two-step verification" in capsys.readouterr().err
    assert [(e.action, e.actor, e.target, e.detail) for e in entries(ctx, action="totp_reset")] == [
        ("totp_reset", None, "user:office1", {"via": "cli"})]


def test_turning_it_on_needs_the_accounts_password_too(api, ctx, district):
    """Someone at a session left open cannot tie the account to an app of their own."""
    office = api.as_("office1")
    secret = office.post("/me/totp").get_json()["secret"]
    r = office.post("/me/totp/confirm", json={"code": code(ctx, secret), "password": "not-the-password"})
    assert (r.status_code, r.get_json()["code"]) == (403, "wrong_password")
    r = office.post("/me/totp/confirm", json={"code": code(ctx, secret)})
    assert (r.status_code, r.get_json()["code"]) == (422, "invalid_body")
    assert office.get("/me").get_json()["totp"]["state"] == "pending", "still not on"
