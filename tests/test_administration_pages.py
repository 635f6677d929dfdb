"""The system administrator's pages through the test client: units, accounts with a one-time
temporary password, the organisation import's preview and confirmation, and the first login that
goes to the password page until a password of one's own is set."""
from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import func, select
from support.district import user_id
from support.latin import latin_words
from support.org_workbook import NEW_PASSWORD, district_rows, workbook
from support.pages import Pages, session_login

from service.models import Unit, User

ADMIN_PAGES = ("/admin/units", "/admin/units/new", "/admin/users/new", "/admin/import", "/admin/import/template")


@pytest.fixture(autouse=True)
def _light(light_hashing):
    """Temporary passwords are hashed with light parameters."""


def _admin(client, ctx) -> Pages:
    session_login(client, ctx, "admin")
    return Pages(client)


def _password_on(html: str) -> str:
    match = re.search(r'<code id="temporary-password">([^<]+)</code>', html)
    assert match, html[:3000]
    return match.group(1)


def test_the_administration_pages_are_the_system_administrators(client, ctx, district):
    for username in ("office1", "security1", "auditor1", "u000_liaison", "leader0"):
        session_login(client, ctx, username)
        for path in ADMIN_PAGES:
            assert client.get(path).status_code == 403, (username, path)
        assert client.get(f"/admin/units/{district.units[0]}/edit").status_code == 403
        assert client.get(f"/admin/users/{user_id(ctx, 'u001_head')}/edit").status_code == 403
    security = Pages(client)
    session_login(client, ctx, "security1")
    html = security.text("/admin/users")
    assert "重置密码" not in html and "新建账号" not in html
    admin = _admin(client, ctx)
    nav = admin.text("/admin/users")
    for link in ('href="/admin/units"', 'href="/admin/import"', 'href="/admin/users/new"', "重置密码"):
        assert link in nav, link


def test_a_unit_is_created_edited_and_disabled_on_its_form(client, ctx, district):
    admin = _admin(client, ctx)
    form = {"code": "", "name": "", "kind": "street", "leader_id": str(district.leaders[0])}
    r = admin.post("/admin/units/new", form, token_from="/admin/units/new")
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    assert 'id="form-errors"' in html and 'aria-invalid="true"' in html and "此项必填" in html
    form.update(code="JD88", name="新建街道", industry="基层治理", department_id=str(district.departments[0]),
                active="on")
    r = admin.post("/admin/units/new", form, token_from="/admin/units/new")
    assert r.status_code == 302, r.get_data(as_text=True)[:2000]
    listing = admin.text("/admin/units?q=JD88")
    assert "新建街道" in listing and "分管领导0" in listing and "单位0" in listing
    with ctx.db.read() as s:
        unit_id = s.scalar(select(Unit.id).where(Unit.code == "JD88"))
    r = admin.post(f"/admin/units/{unit_id}/edit", {"code": "JD88", "name": "新建街道", "kind": "street"},
                   token_from="/admin/units")
    assert r.status_code == 302
    assert "新建街道" in admin.text("/admin/units?state=inactive")
    assert "新建街道" not in admin.text("/admin/units?state=active")
    r = admin.post(f"/admin/units/{unit_id}/edit", {"code": "U000", "name": "x", "kind": "street"},
                   token_from="/admin/units")
    assert r.status_code == 422 and "已有使用该编码的单位" in r.get_data(as_text=True)


def test_a_new_account_sees_its_password_once_and_must_change_it_at_the_first_login(client, ctx, district, app):
    admin = _admin(client, ctx)
    r = admin.post("/admin/users/new", [("username", "li4"), ("name", "李四"), ("unit_id", str(district.units[1])),
                                        ("roles", "unit_liaison")], token_from="/admin/users/new")
    assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store"
    temporary = _password_on(r.get_data(as_text=True))
    assert "临时密码尚未修改" in admin.text("/admin/users?q=li4")
    refused = admin.post("/admin/users/new", [("username", "wang5"), ("name", "王五"), ("roles", "security_admin")],
                         token_from="/admin/users/new")
    assert refused.status_code == 422 and "管理员职责只能通过另一职责审批的角色变更授予" in refused.get_data(as_text=True)

    person = Pages(app.test_client())
    r = person.login("li4", temporary)
    assert r.status_code == 302 and r.headers["Location"].endswith("/account/password")
    for path in ("/inbox", "/account/", "/rounds"):
        r = person.get(path)
        assert r.status_code == 302 and r.headers["Location"].endswith("/account/password"), path
    page = person.text("/account/password")
    assert "临时密码" in page and "← " not in page
    r = person.post("/account/password", {"current_password": temporary, "new_password": "onlylowercase",
                                          "confirm_password": "onlylowercase"}, token_from="/account/password")
    assert r.status_code == 422 and "密码须至少包含小写字母、大写字母、数字、其他符号中的三类" in r.get_data(as_text=True)
    r = person.post("/account/password", {"current_password": temporary, "new_password": NEW_PASSWORD,
                                          "confirm_password": NEW_PASSWORD}, token_from="/account/password")
    assert r.status_code == 302 and r.headers["Location"].endswith("/inbox")
    assert person.get("/inbox").status_code == 200
    assert "临时密码尚未修改" not in admin.text("/admin/users?q=li4")


def test_an_account_is_edited_disabled_and_its_password_reset_on_the_pages(client, ctx, district):
    admin = _admin(client, ctx)
    uid = user_id(ctx, "u002_head")
    r = admin.post(f"/admin/users/{uid}/edit", {"name": "新负责人", "unit_id": str(district.units[3])},
                   token_from="/admin/users")
    assert r.status_code == 302
    with ctx.db.read() as s:
        user = s.get(User, uid)
        assert (user.name, user.unit_id, user.active) == ("新负责人", district.units[3], False)
    r = admin.post(f"/admin/users/{uid}/reset-password", {}, token_from="/admin/users")
    assert r.status_code == 200 and "密码已重置" in r.get_data(as_text=True)
    _password_on(r.get_data(as_text=True))
    with ctx.db.read() as s:
        assert s.get(User, uid).must_change_password is True
    r = admin.post(f"/admin/users/{user_id(ctx, 'security1')}/reset-password", {}, token_from="/admin/users")
    assert r.status_code == 302
    assert "管理员职责的账号不在此处修改" in admin.text("/admin/users")


def test_the_import_previews_names_the_bad_row_and_writes_only_once_fixed_and_confirmed(client, ctx, district):
    admin = _admin(client, ctx)
    with ctx.db.read() as s:
        before = (s.scalar(select(func.count()).select_from(Unit)), s.scalar(select(func.count()).select_from(User)))

    def upload(content: bytes):
        return admin.post("/admin/import", {"file": (io.BytesIO(content), "组织.xlsx")}, token_from="/admin/import",
                          content_type="multipart/form-data")

    html = upload(workbook(*district_rows(bad=True))).get_data(as_text=True)
    assert "第 7 行" in html and "所属单位编码" in html and "未知的单位" in html
    assert "确认导入" not in html
    assert admin.post("/admin/import/confirm", {}, token_from="/admin/import").status_code == 302
    assert "上传的文件已不再保留" in admin.text("/admin/import")
    with ctx.db.read() as s:
        assert (s.scalar(select(func.count()).select_from(Unit)),
                s.scalar(select(func.count()).select_from(User))) == before

    html = upload(workbook(*district_rows(bad=False))).get_data(as_text=True)
    assert "单位：新建 10 个，修改 0 个" in html and "账号：新建 20 个，修改 0 个" in html and "确认导入" in html
    r = admin.post("/admin/import/confirm", {}, token_from="/admin/import")
    assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store"
    done = r.get_data(as_text=True)
    assert "fenguan1" in done and done.count("<code>") == 20
    with ctx.db.read() as s:
        assert s.scalar(select(func.count()).select_from(Unit)) == before[0] + 10
    # the kept file is gone: confirming again finds nothing
    assert admin.post("/admin/import/confirm", {}, token_from="/admin/import").status_code == 302

    r = upload(b"not a workbook at all")
    assert r.status_code == 422 and "该文件不是 Excel 工作簿" in r.get_data(as_text=True)
    template = admin.get("/admin/import/template")
    assert template.status_code == 200 and template.data[:2] == b"PK"


def test_the_new_pages_read_in_chinese(client, ctx, district):
    """No English on the administration pages: every Latin-script word is data (a username, a
    code), the name of the file type (Excel, xlsx), a unit (KB) or the language switch."""
    admin = _admin(client, ctx)
    uid = user_id(ctx, "u002_head")
    allowed = {"Excel", "xlsx", "KB", "English", "API", "admin"}  # "admin": the district's administrator's username

    def english(html: str) -> set[str]:
        return {w for w in latin_words(html) - allowed if not re.search(r"\d|_", w)}

    for path in ("/admin/units", "/admin/units/new", f"/admin/units/{district.units[0]}/edit", "/admin/users",
                 "/admin/users/new", f"/admin/users/{uid}/edit", "/admin/import"):
        assert english(admin.text(path)) == set(), path
    preview = admin.post("/admin/import", {"file": (io.BytesIO(workbook(*district_rows(bad=True))), "o.xlsx")},
                         token_from="/admin/import", content_type="multipart/form-data")
    assert english(preview.get_data(as_text=True)) == set()
    reset = admin.post(f"/admin/users/{uid}/reset-password", {}, token_from="/admin/users")
    assert english(reset.get_data(as_text=True)) == set()
