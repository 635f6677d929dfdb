"""Logins under attack: parallel guesses check no more passwords than the lockout allows, neither
the answer nor its time tells whether a username exists, and a spray of usernames is forgotten."""
from __future__ import annotations

from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from support.concurrency import at_once
from support.district import PASSWORD, build_district

from service import auth
from service.auth import hash_password
from service.models import LoginThrottle
from service.timers import run_due_timers


@pytest.fixture
def real_district(ctx):
    """The district with real argon2 parameters: a password check costs what it costs in service."""
    return build_district(ctx, hash_password(PASSWORD))


@pytest.fixture(autouse=True)
def lockout_alone(ctx):
    """These tests make more guesses a minute than the login rate limit lets through (tests/test_rate_limits.py
    has its tests): here the lockout is on its own."""
    ctx.settings.rate_limit_login = ""


def _login(client, username, password):
    r = client.post("/api/v1/auth/token", json={"username": username, "password": password})
    return r.status_code, r.get_json()


def test_parallel_wrong_passwords_check_no_more_guesses_than_allowed(app, ctx, real_district):
    allowed = ctx.settings.login_attempts

    def guess():
        with app.test_client() as c:
            return _login(c, "office1", "wrong")

    answers = at_once(24, guess)
    assert {status for status, _ in answers} == {401}
    codes = [body["code"] for _, body in answers]
    # a guess that was checked and failed says "wrong password"; the one that reached the limit says
    # "locked"; every guess past the limit is refused unchecked, as "locked" too
    assert codes.count("unauthorized") <= allowed - 1, codes
    assert codes.count("account_locked") >= len(answers) - (allowed - 1)
    with app.test_client() as c:
        status, body = _login(c, "office1", PASSWORD)
    assert (status, body["code"]) == (401, "account_locked"), "the right password waits for the lockout to end"


def test_a_lockout_says_nothing_about_whether_the_username_exists(client, ctx, real_district, monkeypatch):
    allowed = ctx.settings.login_attempts
    answers = {}
    for name in ("office1", "no_such_user"):
        answers[name] = [_login(client, name, "wrong") for _ in range(allowed + 1)]
    known, unknown = answers["office1"], answers["no_such_user"]
    assert known == unknown, "an unknown username is answered exactly as a known one"
    assert [body["code"] for _, body in known] == ["unauthorized"] * (allowed - 1) + ["account_locked"] * 2

    # a locked account, known or not, is answered after a full-strength password check, as any other
    # answer is: the time of an answer tells nothing either
    strength = hash_password("x").split("$")[3]  # the service's argon2 cost: m=…,t=…,p=…
    for name in ("leading1", "office1", "no_such_user"):  # wrong password; locked; locked and unknown
        with password_checks(monkeypatch) as checked:
            _login(client, name, "wrong")
        assert checked == [strength], (name, checked)


@contextmanager
def password_checks(monkeypatch):
    """The cost parameters of each password check the service makes meanwhile (the real argon2
    hasher does each check)."""
    checked: list[str] = []
    real = auth._hasher

    class Counted:
        def verify(self, hashed, password):
            checked.append(hashed.split("$")[3])
            return real.verify(hashed, password)

        def __getattr__(self, name):
            return getattr(real, name)

    with monkeypatch.context() as patch:
        patch.setattr(auth, "_hasher", Counted())
        yield checked


def test_the_sweep_forgets_names_not_tried_for_the_lockout_window(ctx, client, clock, district):
    """A username spray leaves a row per name tried; the periodic sweep deletes those nobody has tried
    for the lockout window (and that are not locked), so the table does not grow without end."""
    window = timedelta(minutes=ctx.settings.lockout_minutes)

    def names_kept() -> int:
        with ctx.db.read() as s:
            return s.scalar(select(func.count()).select_from(LoginThrottle))

    for n in range(3):  # a name no account has costs a full-strength password check: a few stand for many
        assert _login(client, f"sprayed{n}", "guess")[0] == 401
    assert _login(client, "office1", PASSWORD)[0] == 200
    clock.advance(window / 2)
    for _ in range(ctx.settings.login_attempts):
        _login(client, "leading1", "wrong")
    assert _login(client, "designer1", "wrong")[0] == 401
    run_due_timers(ctx)
    assert names_kept() == 6, "nothing is forgotten within the window"
    clock.advance(window / 2 + timedelta(seconds=1))
    run_due_timers(ctx)
    assert names_kept() == 2, "only the locked name and the one tried within the window are kept"
    assert _login(client, "leading1", PASSWORD)[1]["code"] == "account_locked", "a lockout lasts its time"
    clock.advance(window)
    run_due_timers(ctx)
    assert names_kept() == 0
    assert _login(client, "leading1", PASSWORD)[0] == 200
