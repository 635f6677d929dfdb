"""Logins under attack: parallel guesses check no more passwords than the lockout allows, and
neither the answer nor its time tells whether a username exists."""
from __future__ import annotations

import statistics
import time

import pytest
from support.concurrency import at_once
from support.district import PASSWORD, build_district

from service.auth import hash_password


@pytest.fixture
def real_district(ctx):
    """The district with real argon2 parameters: a password check costs what it costs in service."""
    return build_district(ctx, hash_password(PASSWORD))


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


def test_a_lockout_says_nothing_about_whether_the_username_exists(client, ctx, real_district):
    allowed = ctx.settings.login_attempts
    answers = {}
    for name in ("office1", "no_such_user"):
        answers[name] = [_login(client, name, "wrong") for _ in range(allowed + 1)]
    known, unknown = answers["office1"], answers["no_such_user"]
    assert known == unknown, "an unknown username is answered exactly as a known one"
    assert [body["code"] for _, body in known] == ["unauthorized"] * (allowed - 1) + ["account_locked"] * 2

    def took(name, password):
        started = time.perf_counter()
        _login(client, name, password)
        return time.perf_counter() - started

    # a locked account is answered after a password check too, as long as any other answer
    wrong = statistics.median(took("leading1", "wrong") for _ in range(3))
    locked_known = statistics.median(took("office1", "wrong") for _ in range(3))
    locked_unknown = statistics.median(took("no_such_user", "wrong") for _ in range(3))
    assert locked_known > wrong / 2 and locked_unknown > wrong / 2, (wrong, locked_known, locked_unknown)
