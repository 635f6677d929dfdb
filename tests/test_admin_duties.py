"""Separation of administration duties (三员分立): the system, security and audit administrators are
three accounts; each is refused outside its duty and none reads case content or clues; a change of
roles takes two administrators of different duties, and nobody grants themself a role."""
from __future__ import annotations

import pytest
from sqlalchemy import select
from support.api import publish_round
from support.district import user_id as uid
from support.pages import Pages

from service.models import AuditEntry, RoleChange, User


def roles_of(ctx, username: str) -> list[str]:
    with ctx.db.read() as s:
        return s.scalar(select(User.roles).where(User.username == username))


def _code(r, status: int) -> str:
    assert r.status_code == status, (r.status_code, r.get_json())
    return r.get_json()["code"]


@pytest.mark.parametrize("who", ["admin", "security1", "auditor1"])
def test_each_administrator_is_refused_outside_its_duty_and_reads_no_case_content(api, district, who):
    d = district
    publish_round(api, d)
    me = api.as_(who)
    for path in ("/cases", "/clues", "/tasks", "/lists/rectifications?round_id=1", "/lists/problems?round_id=1"):
        r = me.get(path)
        body = r.get_json()
        # refused outright, or an empty list: nothing of a case or a clue
        assert r.status_code == 403 or (r.status_code, body["total"]) == (200, 0), (who, path, body)
    assert _code(me.get("/cases/1"), 404) == "not_found"
    if who != "auditor1":
        assert _code(me.get("/audit-log"), 403) == "audit_admin_required"
    if who != "admin":
        assert _code(me.post("/units", json={"code": "Z1", "name": "新单位", "kind": "company"}), 403) == "role_required"
    if who != "security1":
        assert _code(me.post(f"/users/{uid_of(api, 'office1')}/unlock"), 403) == "role_required"
    if who == "auditor1":
        r = me.post(f"/users/{uid_of(api, 'office1')}/role-changes", json={"roles": ["inspector"], "reason": "调岗"})
        assert _code(r, 403) == "role_required"
        assert _code(me.get("/role-changes"), 403) == "role_required"


def uid_of(api, username: str) -> int:
    return uid(api.client.application.extensions["rectiflow"], username)


def test_a_change_of_roles_takes_effect_only_when_the_other_duty_approves_it(api, ctx, district):
    office1 = uid(ctx, "office1")
    proposal = api.as_("admin").post(f"/users/{office1}/role-changes",
                                     json={"roles": ["office", "inspector"], "reason": "兼任巡察组成员"})
    assert proposal.status_code == 201, proposal.get_json()
    change = proposal.get_json()
    assert (change["state"], change["roles_before"], change["roles_after"]) == (
        "pending", ["office"], ["inspector", "office"])
    assert roles_of(ctx, "office1") == ["office"], "nothing changes before the approval"

    # the proposer does not approve it, nor another system administrator's duty
    assert _code(api.as_("admin").post(f"/role-changes/{change['id']}/approve"), 403) == "own_proposal"
    # a second proposal for the same account waits for the first
    r = api.as_("security1").post(f"/users/{office1}/role-changes", json={"roles": ["leading_group"], "reason": "x"})
    assert _code(r, 409) == "role_change_pending"
    # a rejection needs an opinion
    assert _code(api.as_("security1").post(f"/role-changes/{change['id']}/reject", json={}), 422) == "opinion_required"

    approved = api.as_("security1").post(f"/role-changes/{change['id']}/approve", json={"comment": "同意"})
    assert approved.status_code == 200, approved.get_json()
    assert approved.get_json()["state"] == "approved" and approved.get_json()["decided_by"] == "security1"
    assert sorted(roles_of(ctx, "office1")) == ["inspector", "office"]
    assert api.as_("office1").get("/me").get_json()["roles"] == ["inspector", "office"], "in force at once"
    assert _code(api.as_("security1").post(f"/role-changes/{change['id']}/reject", json={"comment": "晚了"}),
                 409) == "role_change_decided"

    # the reverse: the security administrator proposes, the system administrator decides
    back = api.as_("security1").post(f"/users/{office1}/role-changes", json={"roles": ["office"], "reason": "卸任"})
    assert back.status_code == 201
    assert _code(api.as_("security1").post(f"/role-changes/{back.get_json()['id']}/approve"), 403) == "own_proposal"
    rejected = api.as_("admin").post(f"/role-changes/{back.get_json()['id']}/reject", json={"comment": "仍需兼任"})
    assert rejected.get_json()["state"] == "rejected"
    assert sorted(roles_of(ctx, "office1")) == ["inspector", "office"]

    listed = api.as_("admin").get("/role-changes").get_json()
    assert [c["state"] for c in listed["items"]] == ["rejected", "approved"]
    with ctx.db.read() as s:
        actions = s.scalars(select(AuditEntry.action).where(AuditEntry.action.like("role_change%"))
                             .order_by(AuditEntry.id)).all()
    assert actions == ["role_change_proposed", "role_change_approved", "role_change_proposed", "role_change_rejected"]


def test_nobody_grants_themself_a_role_or_decides_on_their_own_roles(api, ctx, district, password_hash):
    me = uid(ctx, "security1")
    r = api.as_("security1").post(f"/users/{me}/role-changes", json={"roles": ["security_admin"], "reason": "自己"})
    assert _code(r, 403) == "self_grant_refused"
    # a second system administrator proposes for the first; the first may not approve their own grant
    ctx.db.transaction(lambda s: s.add(User(username="admin2", name="管理员二", password_hash=password_hash,
                                            roles=["admin"])))
    r = api.as_("admin2").post(f"/users/{uid(ctx, 'security1')}/role-changes",
                               json={"roles": ["admin"], "reason": "调整"})
    assert r.status_code == 201
    assert _code(api.as_("security1").post(f"/role-changes/{r.get_json()['id']}/approve"), 403) == "self_grant_refused"
    # nor may the other system administrator approve it: the approval needs the security duty
    assert _code(api.as_("admin").post(f"/role-changes/{r.get_json()['id']}/approve"), 403) == "second_duty_required"
    assert roles_of(ctx, "security1") == ["security_admin"]


@pytest.mark.parametrize("roles", [["admin", "audit_admin"], ["security_admin", "office"], ["audit_admin", "inspector"]])
def test_an_administrator_role_is_held_alone(api, ctx, district, roles):
    r = api.as_("admin").post(f"/users/{uid(ctx, 'office1')}/role-changes", json={"roles": roles, "reason": "调整"})
    body = r.get_json()
    assert _code(r, 422) == "roles_exclusive" and body["errors"][0]["field"] == "roles"


def test_unknown_or_unchanged_roles_and_a_missing_reason_are_refused_naming_them(api, ctx, district):
    admin, office1 = api.as_("admin"), uid(ctx, "office1")
    assert _code(admin.post(f"/users/{office1}/role-changes", json={"roles": ["king"], "reason": "x"}),
                 422) == "unknown_role"
    assert _code(admin.post(f"/users/{office1}/role-changes", json={"roles": ["office"], "reason": "x"}),
                 422) == "roles_unchanged"
    assert _code(admin.post(f"/users/{office1}/role-changes", json={"roles": ["inspector"], "reason": "  "}),
                 422) == "reason_required"
    assert _code(admin.post("/users/999999/role-changes", json={"roles": ["inspector"], "reason": "x"}),
                 404) == "not_found"
    with ctx.db.read() as s:
        assert s.scalars(select(AuditEntry.action).where(AuditEntry.action.like("role_change%"))).all() == []


def test_the_security_administrator_lifts_a_lockout(client, api, ctx, district):
    for _ in range(ctx.settings.login_attempts):
        client.post("/api/v1/auth/token", json={"username": "office1", "password": "nope"})
    locked = client.post("/api/v1/auth/token", json={"username": "office1", "password": "test-password"})
    assert _code(locked, 401) == "account_locked"
    assert api.as_("security1").post(f"/users/{uid(ctx, 'office1')}/unlock").status_code == 204
    again = client.post("/api/v1/auth/token", json={"username": "office1", "password": "test-password"})
    assert again.status_code == 200, again.get_json()


# ---------------------------------------------------------------- the pages
def pages_as(app, username):
    client = app.test_client()
    pages = Pages(client)
    assert pages.login(username).status_code == 302
    return pages


def test_the_administrators_change_roles_on_their_pages_two_people_each_time(app, ctx, district):
    office1 = uid(ctx, "office1")
    admin, security = pages_as(app, "admin"), pages_as(app, "security1")

    listing = admin.text("/admin/users?q=office")
    assert "账号与角色" in listing and "巡察办" in listing and f"/admin/users/{office1}/roles" in listing
    assert f"/admin/users/{uid(ctx, 'admin')}/roles" not in admin.text("/admin/users?q=admin"), "not one's own"

    # refused on the form with the reason beside the roles, nothing proposed
    r = admin.post(f"/admin/users/{office1}/roles", [("roles", "office"), ("roles", "audit_admin"),
                                                     ("reason", "调整")], token_from="/admin/users")
    assert r.status_code == 422 and "管理员角色须单独持有" in r.get_data(as_text=True)
    r = admin.post(f"/admin/users/{office1}/roles", [("roles", "office"), ("roles", "inspector"),
                                                     ("reason", "兼任巡察组成员")], token_from="/admin/users")
    assert r.status_code == 302 and r.headers["Location"].endswith("/admin/role-changes")

    mine = admin.text("/admin/role-changes")
    assert "待审批" in mine and "兼任巡察组成员" in mine and "角色变更须由提出人以外的管理员审批" in mine
    assert "/approve" not in mine, "the proposer gets no approve button"
    theirs = security.text("/admin/role-changes")
    assert theirs.count('/approve"') == 1 and "增加：巡察组成员" in theirs
    change = ctx.db.transaction(lambda s: s.scalar(select(RoleChange.id)))
    r = security.post(f"/admin/role-changes/{change}/approve", {"comment": "同意"}, token_from="/admin/role-changes",
                      follow_redirects=True)
    assert "已同意，变更即时生效" in r.get_data(as_text=True)
    assert sorted(roles_of(ctx, "office1")) == ["inspector", "office"]


def test_the_security_administrator_lifts_a_lockout_on_the_account_page(app, client, ctx, district):
    for _ in range(ctx.settings.login_attempts):
        client.post("/api/v1/auth/token", json={"username": "office1", "password": "nope"})
    security = pages_as(app, "security1")
    listing = security.text("/admin/users?q=office1")
    assert "已锁定" in listing and f"/admin/users/{uid(ctx, 'office1')}/unlock" in listing
    assert f"/admin/users/{uid(ctx, 'office1')}/unlock" not in pages_as(app, "admin").text("/admin/users?q=office1")
    r = security.post(f"/admin/users/{uid(ctx, 'office1')}/unlock", {"q": "office1"}, token_from="/admin/users",
                      follow_redirects=True)
    assert "已解除锁定" in r.get_data(as_text=True) and "已锁定" not in r.get_data(as_text=True)


@pytest.mark.parametrize("who", ["office1", "auditor1", "u002_liaison"])
def test_the_role_pages_are_for_the_two_administrators_only(app, district, who):
    pages = pages_as(app, who)
    assert "账号与角色" not in pages.text("/inbox")
    for path in ("/admin/users", "/admin/role-changes", "/admin/users/1/roles"):
        assert pages.get(path).status_code == 403, path
