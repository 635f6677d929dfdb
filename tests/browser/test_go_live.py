"""Going live in Chromium, on an empty install: the system administrator, made by `rectiflow
create-admin`, logs in, imports 10 units and 20 accounts from a workbook with one bad row (the
preview names it, nothing is written), fixes it and confirms; then one of the imported people logs
in with the temporary password and must set their own before anything else. Every new page is
photographed on a desktop and a phone."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select
from support.browser import DESKTOP, PHONE, assert_translated
from support.org_workbook import NEW_PASSWORD, district_rows, workbook

from service import cli
from service.models import Unit, User

ADMIN_PASSWORD = "Go-live-Admin-2026"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def live_app(app_over, sqlite_database_url):
    """The application on an empty install: the schema and the default models, no unit, no account."""
    with app_over(sqlite_database_url) as app:
        yield app


def _counts(ctx) -> tuple[int, int]:
    with ctx.db.read() as s:
        return s.scalar(select(func.count()).select_from(Unit)), s.scalar(select(func.count()).select_from(User))


def _both_sizes(page, shoot, name: str) -> None:
    """The page on a desktop and on a phone (nothing wider than the phone), then back."""
    assert_translated(page)
    shoot(page, f"{name}-desktop", full_page=True)
    page.set_viewport_size(PHONE)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], f"{name}: nothing runs off a phone"
    shoot(page, f"{name}-phone", full_page=True)
    shoot(page, f"{name}-phone-top")
    page.set_viewport_size(DESKTOP)


def _upload(page, content: bytes) -> None:
    page.locator("#file").set_input_files(
        files=[{"name": "组织架构.xlsx", "mimeType": XLSX, "buffer": content}])
    expect(page.locator("#file-name")).to_have_text("组织架构.xlsx")
    page.get_by_role("button", name="检查工作簿").click()


def test_an_empty_install_goes_live_through_the_browser(live_app, live_server, new_context, guard, shoot,
                                                       monkeypatch, light_hashing):
    ctx = live_app.extensions["rectiflow"]
    assert _counts(ctx) == (0, 0), "an empty install"
    settings = ctx.settings
    for name, value in (("DATABASE_URL", settings.database_url), ("INSTANCE_DIR", str(settings.instance_dir)),
                        ("AUDIT_KEY", settings.audit_key), ("SECRET_KEY", "test"),
                        ("ADMIN_PASSWORD", ADMIN_PASSWORD)):
        monkeypatch.setenv(f"RECTIFLOW_{name}", value)
    assert cli.main(["create-admin", "root", "--name", "系统管理员"]) == 0

    page = guard.watch(new_context().new_page())
    page.goto(f"{live_server}/login")
    page.get_by_label("用户名").fill("root")
    page.get_by_label("密码").fill(ADMIN_PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{live_server}/inbox")

    # the import page, from the top bar; the template downloads under its Chinese name
    page.get_by_role("link", name="导入组织架构").first.click()
    expect(page.get_by_role("heading", name="导入组织架构", level=1)).to_be_visible()
    with page.expect_download() as download:
        page.get_by_role("link", name="下载导入模板").click()
    assert download.value.suggested_filename == "组织架构导入模板.xlsx"
    _both_sizes(page, shoot, "go-live-import")

    # one bad row: the preview names it, there is nothing to confirm, and nothing is written
    _upload(page, workbook(*district_rows(bad=True)))
    bad = page.locator(".import-error")
    expect(bad).to_have_count(1)
    expect(bad).to_contain_text("用户")
    expect(bad).to_contain_text("第 7 行")
    expect(bad).to_contain_text("所属单位编码")
    expect(bad).to_contain_text("未知的单位")
    expect(page.get_by_role("button", name="确认导入")).to_have_count(0)
    _both_sizes(page, shoot, "go-live-import-refused")
    assert _counts(ctx) == (0, 1), "nothing written but the administrator"

    # fixed: the preview lists what would be created, and only the confirmation writes it
    _upload(page, workbook(*district_rows(bad=False)))
    expect(page.locator(".import-counts")).to_contain_text("单位：新建 10 个，修改 0 个")
    expect(page.locator(".import-counts")).to_contain_text("账号：新建 20 个，修改 0 个")
    expect(page.locator(".import-error")).to_have_count(0)
    _both_sizes(page, shoot, "go-live-import-preview")
    assert _counts(ctx) == (0, 1)
    page.get_by_role("button", name="确认导入").click()
    expect(page.get_by_role("heading", name="组织架构已导入")).to_be_visible()
    assert _counts(ctx) == (10, 21)
    row = page.locator(".import-passwords tbody tr", has_text="jd01_lly")
    temporary = row.locator("code").inner_text()
    _both_sizes(page, shoot, "go-live-import-done")

    # the units, and their forms
    page.get_by_role("link", name="单位管理").first.click()
    expect(page.locator(".inbox-table tbody tr")).to_have_count(10)
    page.get_by_label("单位类型").select_option(label="街道")
    page.get_by_role("button", name="筛选").click()
    expect(page.locator(".inbox-table tbody tr")).to_have_count(4)
    _both_sizes(page, shoot, "go-live-units")
    page.get_by_role("link", name=re.compile("编辑.*街道1")).click()
    expect(page.get_by_label("分管区领导")).to_have_value(re.compile(r"\d+"))
    _both_sizes(page, shoot, "go-live-unit-edit")
    page.get_by_label("单位名称").fill("街道一")
    page.get_by_role("button", name="保存").click()
    expect(page.locator(".flash")).to_contain_text("单位“街道一”已保存")
    page.get_by_role("link", name="新建单位").first.click()
    _both_sizes(page, shoot, "go-live-unit-new")

    # a new account by hand: its temporary password is shown once
    page.get_by_role("link", name="账号与角色").first.click()
    page.get_by_role("link", name="新建账号").click()
    page.get_by_label("用户名").fill("zhao6")
    page.get_by_label("姓名").fill("赵六")
    page.get_by_label("单位", exact=True).select_option(label="街道一（JD01）")
    page.get_by_label("单位联络员").check()
    _both_sizes(page, shoot, "go-live-user-new")
    page.get_by_role("button", name="创建账号").click()
    expect(page.get_by_role("heading", name="账号已创建")).to_be_visible()
    expect(page.locator("#temporary-password")).to_have_text(re.compile(r"^\S{12}$"))
    _both_sizes(page, shoot, "go-live-temporary-password")
    page.get_by_role("link", name="返回账号列表").click()
    expect(page.get_by_role("button", name=re.compile("重置密码.*赵六"))).to_be_visible()
    _both_sizes(page, shoot, "go-live-users")
    page.get_by_role("link", name=re.compile("编辑.*赵六")).click()
    _both_sizes(page, shoot, "go-live-user-edit")

    # an imported person logs in with the temporary password and sets their own first
    person = guard.watch(new_context(viewport=PHONE).new_page())
    person.goto(f"{live_server}/login")
    person.get_by_label("用户名").fill("jd01_lly")
    person.get_by_label("密码").fill(temporary)
    person.get_by_role("button", name="登录").click()
    person.wait_for_url(f"{live_server}/account/password")
    expect(person.get_by_role("status").filter(has_text="临时密码")).to_be_visible()
    assert_translated(person)
    assert person.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    shoot(person, "go-live-first-login-phone", full_page=True)
    person.goto(f"{live_server}/inbox")
    person.wait_for_url(f"{live_server}/account/password")
    person.locator("#current_password").fill(temporary)
    person.locator("#new_password").fill("onlylowercase")
    person.locator("#confirm_password").fill("onlylowercase")
    person.get_by_role("button", name="修改密码").click()
    expect(person.locator("#form-errors")).to_contain_text("三类")
    person.locator("#current_password").fill(temporary)
    person.locator("#new_password").fill(NEW_PASSWORD)
    person.locator("#confirm_password").fill(NEW_PASSWORD)
    person.get_by_role("button", name="修改密码").click()
    person.wait_for_url(f"{live_server}/inbox")
    with ctx.db.read() as s:
        assert s.scalar(select(User.must_change_password).where(User.username == "jd01_lly")) is False
