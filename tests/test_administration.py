"""The system administrator's work through the API: units and accounts created, edited and disabled,
passwords reset to a temporary one that must be changed first, the organisation imported from a
workbook (all rows or none), and `rectiflow create-admin` on a clean install. The administrator
still reads no case content and no clue."""
from __future__ import annotations

import io
import zipfile

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select
from support.api import UserApi, publish_round
from support.district import PASSWORD, user_id
from support.org_workbook import NEW_PASSWORD, district_rows, workbook

from service import cli
from service.models import AuditEntry, Unit, User

OTHER_ROLES = ("office1", "security1", "auditor1", "leading1", "designer1", "discipline1", "leader0",
               "inspector0", "u000_liaison", "u002_head")


@pytest.fixture(autouse=True)
def _light(light_hashing):
    """Temporary passwords are hashed as logins check them, with light parameters."""


def _count(ctx, model) -> int:
    with ctx.db.read() as s:
        return s.scalar(select(func.count()).select_from(model))


def _login(client, username: str, password: str):
    return client.post("/api/v1/auth/token", json={"username": username, "password": password})


def _token(client, username: str, password: str) -> UserApi:
    r = _login(client, username, password)
    assert r.status_code == 200, r.get_json()
    return UserApi(client, {"Authorization": f"Bearer {r.get_json()['token']}"})


def _import(admin: UserApi, content: bytes, dry_run: str = "true"):
    return admin.post(f"/org/import?dry_run={dry_run}", data={"file": (io.BytesIO(content), "org.xlsx")},
                      content_type="multipart/form-data")


# ---------------------------------------------------------------- who may
def test_only_the_system_administrator_administers_units_accounts_and_the_import(api, district):
    unit_id, user = district.units[3], user_id(api.client.application.extensions["rectiflow"], "u003_liaison")
    calls = [("post", "/units", {"json": {"code": "N1", "name": "新单位", "kind": "street"}}),
             ("patch", f"/units/{unit_id}", {"json": {"name": "改名"}}),
             ("post", "/users", {"json": {"username": "new1", "name": "新人"}}),
             ("patch", f"/users/{user}", {"json": {"name": "改名"}}),
             ("post", f"/users/{user}/reset-password", {}),
             ("get", "/org/import-template", {}),
             ("post", "/org/import?dry_run=false", {"content_type": "multipart/form-data"})]
    for username in OTHER_ROLES:
        caller = api.as_(username)
        for method, path, kw in calls:
            if path.startswith("/org/import?"):
                kw = {**kw, "data": {"file": (io.BytesIO(workbook([], [])), "o.xlsx")}}
            r = getattr(caller, method)(path, **kw)
            assert r.status_code == 403, (username, method, path, r.status_code)
            assert r.get_json()["code"] == "role_required"


# ---------------------------------------------------------------- units
def test_units_are_created_edited_and_disabled_never_deleted(api, district, ctx):
    admin = api.as_("admin")
    r = admin.post("/units", json={"code": "JD9", "name": "新街道", "kind": "street", "industry": "基层",
                                   "leader_id": district.leaders[0], "department_id": district.departments[0]})
    assert r.status_code == 201, r.get_json()
    unit = r.get_json()
    assert unit["active"] is True and unit["leader_id"] == district.leaders[0]
    r = admin.patch(f"/units/{unit['id']}", json={"name": "新街道（改）", "active": False, "parent_id": None})
    assert r.status_code == 200 and r.get_json()["name"] == "新街道（改）" and r.get_json()["active"] is False
    # there is no DELETE: a unit is disabled, never deleted
    assert api.client.delete(f"/api/v1/units/{unit['id']}", headers=admin.headers).status_code == 405
    with ctx.db.read() as s:
        assert s.get(Unit, unit["id"]).active is False
        assert s.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "unit_updated")) == 1


def test_bad_unit_values_are_refused_naming_the_field(api, district):
    admin = api.as_("admin")
    cases = [({"code": "A", "name": "x", "kind": "planet"}, "kind"),
             ({"code": "A", "name": "x", "kind": "street", "leader_id": district.inspectors[0]}, "leader_id"),
             ({"code": "A", "name": "x", "kind": "street", "department_id": district.units[3]}, "department_id"),
             ({"code": "A", "name": "x", "kind": "street", "parent_id": 99999}, "parent_id"),
             ({"name": "x", "kind": "street"}, "code")]
    for body, field in cases:
        r = admin.post("/units", json=body)
        assert r.status_code == 422, (body, r.get_json())
        assert field in {e.get("field") for e in r.get_json()["errors"]}, r.get_json()
    r = admin.post("/units", json={"code": "U000", "name": "重复", "kind": "street"})
    assert r.status_code == 409 and r.get_json()["code"] == "duplicate_code"
    assert r.get_json()["errors"][0]["field"] == "code"
    # a unit cannot be put below one of its own children
    child = admin.post("/units", json={"code": "C1", "name": "下级", "kind": "community",
                                       "parent_id": district.units[3]}).get_json()
    r = admin.patch(f"/units/{district.units[3]}", json={"parent_id": child["id"]})
    assert r.status_code == 422 and r.get_json()["errors"][0] == {"field": "parent_id", "code": "unit_cycle",
                                                                  "message": "unit cycle"}
    assert admin.patch("/units/99999", json={"name": "无"}).status_code == 404


# ---------------------------------------------------------------- accounts and the first login
def test_a_created_account_must_change_its_temporary_password_before_anything_else(api, client, district, ctx):
    admin = api.as_("admin")
    r = admin.post("/users", json={"username": "zhang3", "name": "张三", "unit_id": district.units[2],
                                   "roles": ["unit_liaison"]})
    assert r.status_code == 201, r.get_json()
    created = r.get_json()
    temporary = created["temporary_password"]
    assert len(temporary) >= 10
    r = _login(client, "zhang3", temporary)
    assert r.status_code == 200 and r.get_json()["must_change_password"] is True
    zhang = UserApi(client, {"Authorization": f"Bearer {r.get_json()['token']}"})
    for path in ("/me", "/tasks", "/cases", "/me/tokens"):
        refused = zhang.get(path)
        assert refused.status_code == 403 and refused.get_json()["code"] == "password_change_required", path
    weak = zhang.post("/me/password", json={"current": temporary, "new": "alllowercaseletters"})
    assert weak.status_code == 422 and weak.get_json()["errors"][0]["field"] == "new"
    assert weak.get_json()["code"] == "password_weak"
    short = zhang.post("/me/password", json={"current": temporary, "new": "Ab1!"})
    assert short.status_code == 422 and short.get_json()["code"] == "password_too_short"
    assert zhang.post("/me/password", json={"current": temporary, "new": temporary}).get_json()["code"] == \
        "password_reused"
    assert zhang.post("/me/password", json={"current": "wrong", "new": NEW_PASSWORD}).status_code == 403
    assert zhang.post("/me/password", json={"current": temporary, "new": NEW_PASSWORD}).status_code == 204
    me = zhang.get("/me")
    assert me.status_code == 200 and me.get_json()["username"] == "zhang3"
    assert _login(client, "zhang3", NEW_PASSWORD).get_json()["must_change_password"] is False
    assert _login(client, "zhang3", temporary).status_code == 401


def test_an_account_is_created_with_roles_of_the_work_only_and_edited_without_its_roles(api, district, ctx):
    admin = api.as_("admin")
    for roles in (["security_admin"], ["admin"], ["office", "audit_admin"]):
        r = admin.post("/users", json={"username": "boss", "name": "大", "roles": roles})
        assert r.status_code == 422 and r.get_json()["errors"][0]["field"] == "roles", r.get_json()
        assert r.get_json()["code"] == "admin_duty_by_change"
    for body, field in (({"username": "bad name", "name": "x"}, "username"),
                        ({"username": "ok1", "name": "x", "roles": ["king"]}, "roles"),
                        ({"username": "ok1", "name": "x", "unit_id": 99999}, "unit_id"),
                        ({"username": "ok1"}, "name")):
        r = admin.post("/users", json=body)
        assert r.status_code == 422 and field in {e["field"] for e in r.get_json()["errors"]}, (body, r.get_json())
    r = admin.post("/users", json={"username": "OFFICE1", "name": "重名"})
    assert r.status_code == 409 and r.get_json()["code"] == "duplicate_username"
    uid = user_id(ctx, "u003_liaison")
    r = admin.patch(f"/users/{uid}", json={"roles": ["office"]})
    assert r.status_code == 422 and r.get_json()["errors"][0] == {
        "field": "roles", "code": "role_change_required",
        "message": "propose a role change (POST /users/{id}/role-changes)"}
    r = admin.patch(f"/users/{uid}", json={"name": "改名联络员", "unit_id": district.units[4]})
    assert r.status_code == 200 and r.get_json()["unit_id"] == district.units[4]
    liaison = api.as_("u003_liaison")
    assert admin.patch(f"/users/{uid}", json={"active": False}).get_json()["active"] is False
    assert liaison.get("/me").status_code == 401  # disabled: its tokens end
    # the other administrator duties, and oneself, are out of reach
    assert admin.patch(f"/users/{user_id(ctx, 'security1')}", json={"active": False}).get_json()["code"] == \
        "admin_duty_protected"
    assert admin.patch(f"/users/{user_id(ctx, 'admin')}", json={"active": False}).get_json()["code"] == \
        "self_deactivation"
    assert admin.post(f"/users/{user_id(ctx, 'auditor1')}/reset-password").get_json()["code"] == \
        "admin_duty_protected"
    assert admin.post(f"/users/{user_id(ctx, 'admin')}/reset-password").get_json()["code"] == "own_password_reset"
    assert admin.patch("/users/99999", json={"name": "x"}).status_code == 404


def test_a_reset_password_ends_the_accounts_sessions_and_must_be_changed(api, client, district, ctx):
    admin = api.as_("admin")
    office = api.as_("office1")
    r = admin.post(f"/users/{user_id(ctx, 'office1')}/reset-password")
    assert r.status_code == 200, r.get_json()
    temporary = r.get_json()["temporary_password"]
    assert office.get("/me").status_code == 401
    assert _login(client, "office1", PASSWORD).status_code == 401
    fresh = _token(client, "office1", temporary)
    assert fresh.get("/cases").get_json()["code"] == "password_change_required"
    assert fresh.post("/me/password", json={"current": temporary, "new": NEW_PASSWORD}).status_code == 204
    assert fresh.get("/cases").status_code == 200
    actions = {e.action for e in _audit_entries(ctx)}
    assert {"password_reset", "password_changed"} <= actions


def _audit_entries(ctx):
    with ctx.db.read() as s:
        return list(s.scalars(select(AuditEntry)))


def test_the_administrator_still_reads_no_case_and_no_clue(api, district):
    round_id = publish_round(api, district)
    admin = api.as_("admin")
    assert admin.get("/cases").get_json()["items"] == []
    case_id = api.as_("office1").get("/cases").get_json()["items"][0]["id"]
    assert admin.get(f"/cases/{case_id}").status_code in (403, 404)
    assert admin.get("/clues").status_code == 403
    assert admin.get(f"/rounds/{round_id}/suggestions").status_code in (403, 404)


# ---------------------------------------------------------------- the import
def test_the_template_is_a_workbook_with_chinese_sheets_and_headers(api, district):
    r = api.as_("admin").get("/org/import-template")
    assert r.status_code == 200 and r.mimetype.endswith("spreadsheetml.sheet")
    assert "filename*=UTF-8''" in r.headers["Content-Disposition"]
    book = load_workbook(io.BytesIO(r.data))
    assert book.sheetnames[:2] == ["单位", "用户"]
    assert [c.value for c in book["单位"][1]][:3] == ["单位编码", "单位名称", "单位类型"]
    assert book["用户"].max_row >= 2  # an example row
    # the template itself imports (its example rows are valid)
    report = _import(api.as_("admin"), r.data).get_json()
    assert report["errors"] == [] and report["units"]["create"] == 2 and report["users"]["create"] == 2


def test_ten_units_and_twenty_accounts_import_only_once_the_bad_row_is_fixed(api, client, district, ctx):
    admin = api.as_("admin")
    units_before, users_before = _count(ctx, Unit), _count(ctx, User)
    bad = workbook(*district_rows(bad=True))
    preview = _import(admin, bad)
    assert preview.status_code == 200
    body = preview.get_json()
    assert body["errors"] == [{"sheet": "用户", "row": 7, "field": "所属单位编码", "code": "unknown_unit",
                               "message": "unknown unit"}]
    assert body["units"] == {"create": 10, "update": 0} and body["users"] == {"create": 19, "update": 0}
    refused = _import(admin, bad, dry_run="false")
    assert refused.status_code == 422 and refused.get_json()["code"] == "import_invalid"
    assert refused.get_json()["errors"][0]["row"] == 7
    assert (_count(ctx, Unit), _count(ctx, User)) == (units_before, users_before)

    good = workbook(*district_rows(bad=False))
    assert _import(admin, good).get_json()["users"] == {"create": 20, "update": 0}
    assert (_count(ctx, Unit), _count(ctx, User)) == (units_before, users_before)  # a dry run writes nothing
    done = _import(admin, good, dry_run="false")
    assert done.status_code == 200, done.get_json()
    written = done.get_json()
    assert written["units"] == {"create": 10, "update": 0} and len(written["passwords"]) == 20
    assert (_count(ctx, Unit), _count(ctx, User)) == (units_before + 10, users_before + 20)
    with ctx.db.read() as s:
        street = s.scalar(select(Unit).where(Unit.code == "SQ05"))
        assert s.get(Unit, street.parent_id).code == "JD01"
        assert s.get(Unit, street.department_id).code == "BM01"
        assert s.get(User, street.leader_id).username == "fenguan1"
    # an imported account logs in with its temporary password, and must change it
    first = next(p for p in written["passwords"] if p["username"] == "jd01_lly")
    r = _login(client, "jd01_lly", first["temporary_password"])
    assert r.status_code == 200 and r.get_json()["must_change_password"] is True
    # the same file again changes nothing; a changed name is an update
    again = _import(admin, good).get_json()
    assert again["units"] == {"create": 0, "update": 0} and again["users"] == {"create": 0, "update": 0}
    units, users = district_rows(bad=False)
    units[0][1] = "区财政局（新）"
    users[1][3] = "单位主要负责人"  # an existing account's roles change only by the two-person rule
    changed = _import(admin, workbook(units, users)).get_json()
    assert changed["units"]["update"] == 1
    assert changed["errors"] == [{"sheet": "用户", "row": 3, "field": "角色", "code": "role_change_required",
                                  "message": "role change required"}]


def test_bad_rows_are_each_named_with_their_reason(api, district):
    units = [["A1", "", "街道", "", "", "", "", "是"],            # row 2: no name
             ["A2", "二", "星球", "", "", "", "", "是"],          # row 3: unknown kind
             ["A3", "三", "街道", "", "", "inspector0", "", ""],  # row 4: not a leader
             ["A4", "四", "街道", "", "", "", "U002", "是"],      # row 5: not a department
             ["A5", "五", "街道", "A6", "", "", "", "是"],        # rows 6-7: a loop of parents
             ["A6", "六", "街道", "A5", "", "", "", "也许"],
             ["A1", "重", "街道", "", "", "", "", "是"],
             ["A8", "=1+1", "街道", "", "", "", "", "是"]]
    users = [["bad name", "坏", "", "", ""], ["ok1", "好", "", "安全管理员", ""], ["ok2", "好", "", "国王", ""]]
    errors = _import(api.as_("admin"), workbook(units, users)).get_json()["errors"]
    named = {(e["sheet"], e["row"], e["field"], e["code"]) for e in errors}
    assert named >= {("单位", 2, "单位名称", "value_required"), ("单位", 3, "单位类型", "unknown_unit_kind"),
                     ("单位", 4, "分管区领导账号", "not_a_leader"), ("单位", 5, "主管部门编码", "not_a_department"),
                     ("单位", 6, "上级单位编码", "unit_cycle"), ("单位", 7, "是否启用", "unknown_value"),
                     ("单位", 8, "单位编码", "import_duplicate_row"), ("单位", 9, "单位名称", "import_formula"),
                     ("用户", 2, "账号", "invalid_username"), ("用户", 3, "角色", "admin_duty_by_change"),
                     ("用户", 4, "角色", "unknown_role")}, errors


def test_hostile_files_are_refused_with_a_code(api, district, ctx):
    admin = api.as_("admin")
    units_before = _count(ctx, Unit)

    def code(content: bytes, status: int) -> str:
        r = _import(admin, content)
        assert r.status_code == status, r.get_json()
        return r.get_json()["code"]

    assert code(b"PK\x03\x04 not really", 422) == "import_not_xlsx"
    assert code("单位,用户\n".encode(), 422) == "import_not_xlsx"
    assert code(b"x" * (2 * 1024 * 1024 + 10), 413) == "import_too_large"
    assert code(workbook([], [], sheets=("Sheet", "用户")), 422) == "import_sheet_missing"
    # an XML part with a DTD (entity expansion) is not read
    dtd = io.BytesIO()
    with zipfile.ZipFile(dtd, "w") as z, zipfile.ZipFile(io.BytesIO(workbook([], []))) as original:
        for item in original.infolist():
            data = original.read(item)
            if item.filename == "xl/workbook.xml":
                data = b'<!DOCTYPE x [<!ENTITY a "aaaa">]>' + data
            z.writestr(item, data)
    assert code(dtd.getvalue(), 422) == "import_not_xlsx"
    # a zip that unpacks to far more than it weighs
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", b"<a/>")
        z.writestr("xl/big.xml", b"0" * (50 * 1024 * 1024))
    assert code(bomb.getvalue(), 422) == "import_not_xlsx"
    many = [[f"M{i}", f"单位{i}", "街道", "", "", "", "", "是"] for i in range(5001)]
    assert code(workbook(many, []), 422) == "import_too_many_rows"
    r = admin.post("/org/import", data={}, content_type="multipart/form-data")
    assert r.status_code == 400 and r.get_json()["code"] == "import_file_required"
    assert _count(ctx, Unit) == units_before


# ---------------------------------------------------------------- a clean install
def test_create_admin_makes_the_first_account_and_refuses_a_weak_password_or_a_taken_name(
        ctx, client, monkeypatch, capsys):
    settings = ctx.settings
    monkeypatch.setenv("RECTIFLOW_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("RECTIFLOW_INSTANCE_DIR", str(settings.instance_dir))
    monkeypatch.setenv("RECTIFLOW_AUDIT_KEY", settings.audit_key)
    monkeypatch.setenv("RECTIFLOW_SECRET_KEY", "test")
    monkeypatch.setenv("RECTIFLOW_ADMIN_PASSWORD", "weakpassword")
    assert cli.main(["create-admin", "root"]) == 1
    assert "too weak" in capsys.readouterr().err
    monkeypatch.setenv("RECTIFLOW_ADMIN_PASSWORD", "Strong-Pass-2026")
    assert cli.main(["create-admin", "root", "--name", "系统管理员"]) == 0
    assert cli.main(["create-admin", "root"]) == 1
    assert "exists already" in capsys.readouterr().err
    r = _login(client, "root", "Strong-Pass-2026")
    assert r.status_code == 200 and r.get_json()["user"]["roles"] == ["admin"]
    assert r.get_json()["must_change_password"] is False
    # the other two administrator duties are made the same way, each alone
    assert cli.main(["create-admin", "sec", "--duty", "security_admin"]) == 0
    assert _login(client, "sec", "Strong-Pass-2026").get_json()["user"]["roles"] == ["security_admin"]
    # asked for twice when the environment has none
    monkeypatch.delenv("RECTIFLOW_ADMIN_PASSWORD")
    answers = iter(["Another-Pass-1", "Another-Pass-2"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    assert cli.main(["create-admin", "root2"]) == 1
    assert "differ" in capsys.readouterr().err
