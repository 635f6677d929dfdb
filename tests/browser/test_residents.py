"""The people's side in Chromium, on a phone (390×844): a resident reports with a photo and gets a
code; the office links the report to a problem of a round and replies; the resident reads the reply
by the code and rates it. A forwarded report arrives in the unit's inbox. The disclosure page, the
QR codes, the petition counts and the dashboard's new charts at phone and desktop widths."""
from __future__ import annotations

import io
import re

from PIL import Image
from playwright.sync_api import expect
from support.axe import violations
from support.browser import DESKTOP, PHONE, assert_translated
from support.rounds import as_user, complete, publish_round, start_round

from service import disclosure, petitions


def photo() -> bytes:
    img = Image.new("RGB", (320, 240), (60, 120, 200))
    exif = Image.Exif()
    exif.get_ifd(0x8825).update({1: "N", 2: (22.0, 45.0, 36.0), 3: "E", 4: (113.0, 56.0, 24.0)})
    out = io.BytesIO()
    img.save(out, "JPEG", exif=exif)
    return out.getvalue()


def phone_page(new_context, guard):
    return guard.watch(new_context(viewport=PHONE, is_mobile=True, has_touch=True).new_page())


def fits(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], "no sideways scrolling"


def report(page, live_server, unit_code: str, description: str) -> str:
    """The resident's walk: the QR code's page, the form with a photo, the code."""
    page.goto(f"{live_server}/public/report?unit={unit_code}")
    expect(page.get_by_text("反映对象：单位2")).to_be_visible()
    page.get_by_label("问题类别").select_option("道路交通")
    page.get_by_label("地点（街道、楼栋、场所）").fill("幸福路与和平路交叉口")
    page.get_by_label("反映的问题").fill(description)
    page.get_by_label("照片（选填）").set_input_files(
        files=[{"name": "IMG_0001.jpg", "mimeType": "image/jpeg", "buffer": photo()}])
    page.get_by_label("联系方式（选填）").fill("13800138000")
    fits(page)
    page.get_by_role("button", name="提交反映").click()
    expect(page.get_by_role("heading", name="反映已提交")).to_be_visible()
    code = page.locator("#tracking-code").inner_text().strip()
    assert re.fullmatch(r"[2-9A-Z]{4}(-[2-9A-Z]{4}){3}", code)
    fits(page)
    return code


def test_a_resident_reports_with_a_photo_and_reads_the_offices_reply_by_code(live_app, live_server, new_context,
                                                                            guard, sign_in, shoot):
    ctx = live_app.extensions["rectiflow"]
    d = live_app.district
    round_id = start_round(ctx, d, "区委第二轮巡察")
    resident = phone_page(new_context, guard)
    resident.goto(f"{live_server}/public/report?unit={d.codes[d.units[2]]}")
    shoot(resident, "resident-report-phone", full_page=True)
    assert violations(resident) == []
    code = report(resident, live_server, d.codes[d.units[2]], "路口红绿灯坏了三天，早晚高峰拥堵")
    shoot(resident, "resident-received-phone", full_page=True)
    assert_translated(resident)

    office = phone_page(new_context, guard)
    sign_in(office, "office1")
    office.get_by_role("link", name="1 条群众反映等待巡察办处理。").click()
    expect(office).to_have_url(re.compile(r"/resident-reports"))
    office.wait_for_load_state()
    fits(office)
    shoot(office, "resident-reports-office-phone", full_page=True)
    office.get_by_role("link", name=re.compile("路口红绿灯坏了三天")).click()
    thumb = office.get_by_role("img", name="反映附带的第 1 张照片")
    expect(thumb).to_be_visible()
    assert office.evaluate("img => img.naturalWidth", thumb.element_handle()) == 320
    expect(office.get_by_text("13800138000")).to_be_visible()  # the office may call back
    fits(office)
    shoot(office, "resident-report-office-phone", full_page=True)
    assert violations(office) == []

    link = office.locator("form", has=office.get_by_role("button", name="纳入本轮巡察问题"))
    link.get_by_label("轮次", exact=True).select_option(str(round_id))
    link.get_by_role("button", name="纳入本轮巡察问题").click()
    expect(office.locator(".flash-success")).to_contain_text("已作为群众反映纳入本轮巡察问题")
    expect(office.locator("#report-status")).to_have_text("已纳入巡察问题")
    office.goto(f"{live_server}/rounds/{round_id}/findings")
    expect(office.locator(".problem-list li", has_text="路口红绿灯坏了三天")).to_contain_text("群众反映")
    office.go_back()
    office.get_by_label("答复群众").fill("已督促交警部门修复信号灯。")
    office.get_by_role("button", name="答复并办结").click()
    expect(office.locator("#report-status")).to_have_text("已答复")
    assert_translated(office)

    resident.get_by_role("link", name="查询办理进度").first.click()
    resident.get_by_label("查询码").fill(code.lower())
    resident.get_by_role("button", name="查询").click()
    expect(resident.locator("#report-status-value")).to_have_text("已答复")
    expect(resident.locator("#office-reply")).to_have_text("已督促交警部门修复信号灯。")
    expect(resident.locator(".rf-steps li")).to_have_count(3)
    expect(resident.locator("body")).not_to_contain_text("13800138000")
    fits(resident)
    assert violations(resident) == []
    shoot(resident, "resident-track-phone", full_page=True)
    resident.get_by_label("5 星").check()
    resident.get_by_label("意见（选填）").fill("很快就修好了")
    resident.get_by_role("button", name="提交评价").click()
    expect(resident.get_by_text("感谢您的评价。")).to_be_visible()
    expect(resident.get_by_role("button", name="提交评价")).to_have_count(0)

    desk = guard.watch(new_context(viewport=DESKTOP).new_page())
    desk.goto(f"{live_server}/public/track")
    desk.get_by_label("查询码").fill(code)
    desk.get_by_role("button", name="查询").click()
    shoot(desk, "resident-track-desktop", full_page=True)
    desk.goto(f"{live_server}/public/report")
    shoot(desk, "resident-report-desktop", full_page=True)
    sign_in(desk, "office1", "/resident-reports")
    shoot(desk, "resident-reports-office-desktop", full_page=True)
    desk.get_by_role("link", name=re.compile("路口红绿灯坏了三天")).click()
    shoot(desk, "resident-report-office-desktop", full_page=True)


def test_a_forwarded_report_arrives_in_the_units_inbox(live_app, live_server, new_context, guard, sign_in, shoot):
    d = live_app.district
    resident = phone_page(new_context, guard)
    code = report(resident, live_server, d.codes[d.units[2]], "社区服务中心开门晚，无人回应群众意见")

    office = phone_page(new_context, guard)
    sign_in(office, "office1", "/resident-reports")
    office.get_by_role("link", name=re.compile("社区服务中心开门晚")).click()
    forward = office.locator("form", has=office.get_by_role("button", name="交办", exact=True))
    forward.get_by_label("单位").select_option(label="单位2")
    forward.get_by_label("办理时限").fill("2099-12-31")
    forward.get_by_role("button", name="交办", exact=True).click()
    expect(office.locator(".flash-success")).to_contain_text("单位可在待办中看到")
    expect(office.locator("#report-status")).to_have_text("已交办")

    liaison = phone_page(new_context, guard)
    sign_in(liaison, f"{d.codes[d.units[2]].lower()}_liaison")
    task = liaison.get_by_role("link", name="办理群众反映")
    expect(task).to_be_visible()
    fits(liaison)
    shoot(liaison, "resident-forwarded-inbox-phone", full_page=True)
    task.click()
    expect(liaison.locator("#resident-report-title")).to_be_visible()
    expect(liaison.locator("body")).to_contain_text("社区服务中心开门晚")
    expect(liaison.locator("body")).not_to_contain_text("13800138000")  # the contact stays with the office
    expect(liaison.get_by_role("img", name="反映附带的第 1 张照片")).to_be_visible()
    liaison.get_by_label("办理情况").fill("已调整开放时间为早八点，并设意见箱")
    fits(liaison)
    shoot(liaison, "resident-forwarded-task-phone", full_page=True)
    liaison.get_by_role("button", name=re.compile("提交")).first.click()
    expect(liaison.locator(".flash-success, .flash")).not_to_have_count(0)

    office.reload()
    expect(office.locator("#report-status")).to_have_text("单位已办理")
    expect(office.locator("#unit-reply")).to_have_text("已调整开放时间为早八点，并设意见箱")
    resident.goto(f"{live_server}/public/track")
    resident.get_by_label("查询码").fill(code)
    resident.get_by_role("button", name="查询").click()
    expect(resident.locator("#report-status-value")).to_have_text("单位已办理")
    expect(resident.locator("body")).not_to_contain_text("已调整开放时间")  # the office answers the resident


def test_the_disclosure_qr_codes_petitions_and_dashboard_at_both_widths(live_app, live_server, new_context, guard,
                                                                        sign_in, shoot):
    ctx = live_app.extensions["rectiflow"]
    d = live_app.district
    round_id, commons = publish_round(ctx, d)
    unit = d.units[2]
    liaison = f"{d.codes[unit].lower()}_liaison"
    complete(ctx, liaison, "self_check", {"items": [
        {"common_problem_id": cid, "applicable": True, "problems_found": 1, "findings": "发现问题"} for cid in commons]},
        unit_id=unit)
    today = ctx.now().astimezone(ctx.zone).date().isoformat()
    complete(ctx, liaison, "rectify", {"items": [
        {"common_problem_id": cid, "status": "done" if i == 0 else "ongoing", "institutions": [],
         "measures": [{"description": f"整改措施{i + 1}：建立台账并逐项销号", "deadline": today}]}
        for i, cid in enumerate(commons)]}, unit_id=unit)
    as_user(ctx, "office1", lambda s, p: petitions.enter(ctx, s, p, unit, "2026-09", 12))
    as_user(ctx, "office1", lambda s, p: petitions.enter(ctx, s, p, unit, "2026-10", 7))

    for size, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
        page = guard.watch(new_context(viewport=viewport).new_page())
        sign_in(page, "office1", "/rounds")
        page.get_by_role("link", name="整改公开").first.click()
        if size == "phone":
            page.locator("input[name=shown]").first.check()
            page.locator("input[name=shown]").nth(1).check()
            page.get_by_role("button", name="审核通过并公开").click()
            expect(page.locator(".flash-success")).to_contain_text("已审核通过并公开")
        shoot(page, f"disclosure-edit-{size}", full_page=True)
        if size == "phone":
            fits(page)
        assert violations(page) == []
        page.get_by_role("link", name="查看公开页面").click()
        expect(page.locator("body")).to_contain_text("整改措施1：建立台账并逐项销号")
        shoot(page, f"disclosure-public-{size}", full_page=True)
        if size == "phone":
            fits(page)
            page.get_by_text("评价这项整改").first.click()
            page.get_by_label("4 星").first.check()
            page.get_by_role("button", name="提交评价").first.click()
            expect(page.locator(".flash-success")).to_contain_text("感谢您的评价")
        assert violations(page) == []
        page.goto(f"{live_server}/public/")
        shoot(page, f"resident-home-{size}", full_page=True)

        sign_in(page, "office1", "/resident-reports")
        page.get_by_role("link", name="打印二维码").click()
        page.get_by_label("按单位").select_option(label="单位2")
        page.get_by_role("button", name="显示该单位的二维码").click()
        expect(page.locator(".rf-qr svg")).to_have_count(2)
        expect(page.locator(".rf-qr").first).to_contain_text(f"/public/report?unit={d.codes[unit]}")
        shoot(page, f"resident-qr-{size}", full_page=True)
        if size == "phone":
            fits(page)
        assert violations(page) == []

        page.goto(f"{live_server}/resident-reports")
        page.get_by_role("link", name="信访量").click()
        shoot(page, f"petitions-{size}", full_page=True)
        if size == "phone":
            page.get_by_label("单位").select_option(label="单位3")
            page.get_by_label("月份").fill("2026-10")
            page.get_by_label("信访件数").fill("3")
            page.get_by_role("button", name="保存").click()
            expect(page.locator(".flash-success")).to_contain_text("信访量已保存")
            fits(page)
        assert violations(page) == []

        page.goto(f"{live_server}/dashboard/?round_id={round_id}")
        expect(page.locator("#rf-dashboard")).to_have_attribute("data-ready", "true")
        sat = page.locator("#rf-data-satisfaction")
        sat.locator("summary").click()
        expect(sat.locator("tbody tr")).to_have_count(1)
        expect(sat.locator("tbody")).to_contain_text("4.0")
        pet = page.locator("#rf-data-petitions")
        pet.locator("summary").click()
        expect(pet.locator("tbody tr").first).to_contain_text("12")
        expect(pet.locator("tbody tr").first).to_contain_text("10")  # 7 + 3 in 2026-10
        page.locator("#rf-h-satisfaction").scroll_into_view_if_needed()
        shoot(page, f"dashboard-residents-{size}", full_page=True)
        assert violations(page) == []
        assert_translated(page)
    assert round_id and disclosure
