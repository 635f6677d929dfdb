"""One's own account: API tokens listed and revoked by their owner alone, their last use noted
without a write per request, other page sessions ended, and no password used again within the
account's last five."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select
from support.api import UserApi
from support.district import PASSWORD, user_id
from support.pages import Pages

from service.account import prune_expired_tokens
from service.auth import PASSWORD_HISTORY, TOKEN_USE_PRECISION, new_token
from service.models import ApiToken, AuditEntry, PasswordHistory


def _mint(ctx, username: str, hours_ago: float = 0) -> str:
    """A token for the account as a login issues it, `hours_ago` hours before now."""
    uid = user_id(ctx, username)
    issued = ctx.now() - timedelta(hours=hours_ago)
    return ctx.db.transaction(lambda s: new_token(s, uid, issued, ctx.settings.token_hours))


def _as(client, token: str) -> UserApi:
    return UserApi(client, {"Authorization": f"Bearer {token}"})


def _tokens(user: UserApi) -> list[dict]:
    r = user.get("/me/tokens")
    assert r.status_code == 200, r.get_json()
    return r.get_json()["items"]


def _audit(ctx, action: str) -> list[AuditEntry]:
    with ctx.db.read() as s:
        return list(s.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)))


def test_people_list_their_own_working_tokens_with_the_current_one_marked(client, ctx, district):
    secrets = [_mint(ctx, "office1", hours_ago=1), _mint(ctx, "office1")]
    _mint(ctx, "office1", hours_ago=ctx.settings.token_hours + 1)  # expired an hour ago
    _mint(ctx, "leading1")
    office = _as(client, secrets[1])

    r = office.get("/me/tokens")
    items = r.get_json()["items"]
    assert len(items) == 2, "the account's two working tokens: not the expired one, not another person's"
    assert [t["current"] for t in items] == [True, False], "newest first, the caller's own marked"
    assert set(items[0]) == {"id", "created_at", "expires_at", "last_used_at", "current"}
    assert items[0]["created_at"] > items[1]["created_at"] and items[0]["expires_at"] > items[0]["created_at"]
    assert not any(secret in r.get_data(as_text=True) for secret in secrets), "a token's secret is never shown again"
    assert [t["current"] for t in _tokens(_as(client, secrets[0]))] == [False, True]


def test_a_revoked_token_stops_working_and_the_others_go_on(client, ctx, district):
    mine = [_mint(ctx, "office1") for _ in range(3)]
    theirs = _as(client, _mint(ctx, "leading1"))
    office = _as(client, mine[0])
    ids = [t["id"] for t in _tokens(office)]  # newest first: mine[2], mine[1], mine[0]
    their_id = _tokens(theirs)[0]["id"]

    assert office.client.delete(f"/api/v1/me/tokens/{ids[1]}", headers=office.headers).status_code == 204
    r = _as(client, mine[1]).get("/me")
    assert r.status_code == 401 and r.get_json()["code"] == "unauthorized"
    assert _as(client, mine[2]).get("/me").status_code == 200 and office.get("/me").status_code == 200
    assert [t["id"] for t in _tokens(office)] == [ids[0], ids[2]]

    for token_id in (their_id, ids[1], 2_147_483_648):  # another person's, revoked already, no such
        r = office.client.delete(f"/api/v1/me/tokens/{token_id}", headers=office.headers)
        assert r.status_code == 404 and r.get_json()["code"] == "not_found", token_id
    assert theirs.get("/me").status_code == 200, "another person's token is not touched"
    assert [(e.actor, e.detail) for e in _audit(ctx, "token_revoked")] == [
        ("office1", {"token_id": ids[1], "via": "api"})]


def test_a_tokens_last_use_is_noted_but_not_written_on_every_request(client, ctx, clock, district):
    watcher, used = _as(client, _mint(ctx, "office1")), _as(client, _mint(ctx, "office1"))

    def last_use() -> str | None:
        return next(t for t in _tokens(watcher) if not t["current"])["last_used_at"]

    assert last_use() is None, "not used yet"
    assert used.get("/me").status_code == 200
    first = last_use()
    assert first is not None
    clock.advance(TOKEN_USE_PRECISION - timedelta(seconds=30))
    assert used.get("/me").status_code == 200
    assert last_use() == first, "a use within the precision is not written again"
    clock.advance(timedelta(seconds=60))
    assert used.get("/me").status_code == 200
    assert last_use() > first, "a use after it is"


def test_a_new_password_may_not_be_any_of_the_last_five(client, ctx, api, district, light_hashing):
    # more password changes a minute than the rate limit lets through (tests/test_rate_limits.py
    # has its tests): here the history is on its own
    ctx.settings.rate_limit_credential = ""
    office = api.as_("office1")  # a password change keeps the token it came with
    # the district's password is older than the password policy: the history starts one change later
    passwords = [PASSWORD] + [f"password-number-{i}" for i in range(0, PASSWORD_HISTORY + 1)]

    def change(current: str, new: str):
        return office.post("/auth/password", json={"current_password": current, "new_password": new})

    for current, new in zip(passwords, passwords[1:], strict=False):
        assert change(current, new).status_code == 204
    current = passwords[-1]
    for reused in passwords[2:]:  # the current one and the four before it
        r = change(current, reused)
        body = r.get_json()
        assert r.status_code == 422 and body["code"] == "password_reused", reused
        assert body["errors"] == [{"field": "new_password", "code": "password_reused",
                                   "message": f"not one of the last {PASSWORD_HISTORY} passwords"}]
    assert office.get("/me").status_code == 200, "a refused change ends nothing"

    pages = Pages(client)
    assert pages.login("office1", current).status_code == 302, "refused changes count as no failed login"
    r = pages.post("/account/password", {"current_password": current, "new_password": passwords[3],
                                         "confirm_password": passwords[3]}, token_from="/account/password")
    assert r.status_code == 422 and "新密码不能与最近 5 次使用过的密码相同" in r.get_data(as_text=True)

    assert change(current, passwords[1]).status_code == 204, "the sixth-oldest may be used again"
    assert Pages(client).login("office1", passwords[1]).status_code == 302
    with ctx.db.read() as s:
        kept = list(s.scalars(select(PasswordHistory.hash).where(PasswordHistory.user_id == user_id(ctx, "office1"))))
    assert len(kept) == PASSWORD_HISTORY and all(h.startswith("$argon2id$") for h in kept)
    assert not any(p in h for h in kept for p in passwords), "hashes only, never a password"


def test_the_account_page_shows_who_one_is_and_revokes_a_token(app, client, ctx, district):
    token = _mint(ctx, "u002_liaison")
    other_token = _mint(ctx, "u003_liaison")
    pages = Pages(client)
    pages.login("u002_liaison")
    assert 'href="/account/"' in pages.text("/inbox"), "the top bar links the account page"
    html = pages.text("/account/")
    for shown in ("我的账号", "联络员2", "u002_liaison", "单位2", "单位联络员", "API 令牌", "尚未使用", "修改密码",
                  'href="/account/password"', "退出其他所有登录"):
        assert shown in html, shown
    token_id = _tokens(_as(client, token))[0]["id"]
    assert f'action="/account/tokens/{token_id}/revoke"' in html and "data-confirm=" in html

    r = pages.post(f"/account/tokens/{token_id}/revoke", token_from="/account/", follow_redirects=True)
    assert r.status_code == 200 and "API 令牌已撤销" in r.get_data(as_text=True)
    assert _as(client, token).get("/me").status_code == 401
    assert _audit(ctx, "token_revoked")[-1].detail == {"token_id": token_id, "via": "page"}
    assert "您没有仍有效的 API 令牌" in pages.text("/account/")

    other_id = _tokens(_as(client, other_token))[0]["id"]
    r = pages.post(f"/account/tokens/{other_id}/revoke", token_from="/account/", follow_redirects=True)
    assert "该 API 令牌已经失效" in r.get_data(as_text=True), "another person's token: as if it were gone"
    assert _as(client, other_token).get("/me").status_code == 200


def test_ending_other_sessions_logs_out_every_other_browser_but_not_this_one(app, client, ctx, district):
    token = _mint(ctx, "leader0")
    elsewhere = Pages(app.test_client())
    elsewhere.login("leader0")
    pages = Pages(client)
    pages.login("leader0")

    r = pages.post("/account/sessions/end", token_from="/account/", follow_redirects=True)
    assert r.status_code == 200 and "您的其他登录已退出" in r.get_data(as_text=True)
    assert pages.get("/inbox").status_code == 200, "this session goes on"
    r = elsewhere.get("/inbox")
    assert r.status_code == 302 and "/login" in r.headers["Location"], "the other browser is logged out"
    assert _as(client, token).get("/me").status_code == 200, "API tokens are revoked one by one, not here"
    assert [(e.actor, e.target) for e in _audit(ctx, "sessions_ended")] == [("leader0", "user:leader0")]


def test_the_sweep_deletes_expired_tokens_and_keeps_the_others(client, ctx, district):
    live = _mint(ctx, "office1")
    for username in ("office1", "leading1"):
        _mint(ctx, username, hours_ago=ctx.settings.token_hours + 1)
    with ctx.db.read() as s:
        assert s.scalar(select(func.count()).select_from(ApiToken)) == 3
    assert prune_expired_tokens(ctx) == 2
    assert prune_expired_tokens(ctx) == 0, "nothing left to delete"
    assert _as(client, live).get("/me").status_code == 200
