"""A unit's rectification end to end in Chromium, and the round's own pages: what people do."""
from __future__ import annotations

import hashlib

from playwright.sync_api import expect
from support.browser import DESKTOP, PHONE, assert_translated
from support.rounds import case_of, publish_round, start_round

from service import jobs

EVIDENCE = b"%PDF-1.4\n% rectiflow browser test\n" + b"0" * 200_000


def test_liaison_self_checks_rectifies_head_files_office_closes(live_app, live_server, new_context, guard, sign_in,
                                                                 shoot):
    ctx = live_app.extensions["rectiflow"]
    d = live_app.district
    round_id, _ = publish_round(ctx, d)
    unit = d.units[2]
    liaison, head = f"{d.codes[unit].lower()}_liaison", f"{d.codes[unit].lower()}_head"
    base = live_server

    context = new_context()
    page = guard.watch(context.new_page())
    sign_in(page, liaison)

    # the inbox, on an office screen and on a phone
    expect(page.get_by_role("link", name="对照自查")).to_be_visible()
    expect(page.locator("tbody")).to_contain_text("单位2")
    assert_translated(page)
    shoot(page, "inbox-desktop")
    phone = new_context(viewport=PHONE, is_mobile=True, has_touch=True, storage_state=context.storage_state())
    phone_page = guard.watch(phone.new_page())
    phone_page.goto(f"{base}/inbox")
    expect(phone_page.get_by_role("link", name="对照自查")).to_be_visible()
    assert phone_page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], "no sideways scrolling"
    shoot(phone_page, "inbox-phone", full_page=True)

    # self-check: two rows, one per common problem; a missing count is named beside its field
    page.get_by_role("link", name="对照自查").click()
    expect(page.get_by_role("heading", name="对照自查", level=1)).to_be_visible()
    rows = page.locator("#f-items-list > li")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("工程项目建设监管不严")
    expect(rows.nth(1)).to_contain_text("政府合同管理不规范")
    rows.nth(0).get_by_label("是").check()
    rows.nth(0).get_by_label("自查发现问题数").fill("2")
    rows.nth(0).get_by_label("自查发现的具体问题").fill("两个工程项目未公开招标")
    rows.nth(1).get_by_label("否").check()
    rows.nth(1).get_by_label("不适用理由").fill("本单位无政府合同")
    shoot(page, "task-self-check", full_page=True)
    page.get_by_role("button", name="提交并办结").click()
    expect(page.locator("#f-items-1-problems_found-error")).to_have_text("此项必填")
    expect(page.locator(".error-summary")).to_contain_text("1 处需要修改")
    expect(page.locator("#f-items-0-findings")).to_have_value("两个工程项目未公开招标")  # kept as typed
    assert_translated(page)
    page.locator("#f-items-1-problems_found").fill("0")
    page.locator("#f-items-1-applicable").get_by_label("否").check()
    page.get_by_role("button", name="提交并办结").click()
    page.wait_for_url(f"{base}/inbox")
    expect(page.locator(".flash-success")).to_contain_text("已办结：对照自查")

    # rectify: upload evidence with progress, add and remove measures in place
    page.get_by_role("link", name="整改落实").click()
    expect(page.locator("#f-items-list > li")).to_have_count(1)  # only the applicable common problem
    page.locator("#evidence-file").set_input_files(files=[{"name": "整改报告.pdf", "mimeType": "application/pdf",
                                                           "buffer": EVIDENCE}])
    expect(page.locator("#evidence-file-name")).to_have_text("整改报告.pdf")
    page.get_by_role("button", name="上传", exact=True).click()
    item = page.locator("#evidence-list li", has_text="整改报告.pdf")
    expect(item).to_be_visible()
    expect(item).to_contain_text(hashlib.sha256(EVIDENCE).hexdigest())
    expect(item).to_contain_text("KB")
    expect(page.locator(".upload-percent")).to_have_text("100%")
    expect(page.locator(".upload-status")).to_contain_text("已上传")

    row = page.locator("#f-items-list > li").first
    row.get_by_label("已完成").check()
    row.locator("#f-items-0-measures-0-description").fill("重新公开招标")
    row.locator("#f-items-0-measures-0-deadline").fill("2027-01-31")
    row.get_by_role("button", name="添加整改措施").click()
    expect(row.locator("#f-items-0-measures-1-description")).to_be_focused()
    row.locator("#f-items-0-measures-1-description").fill("这条随后删除")
    row.get_by_role("button", name="添加整改措施").click()
    row.locator("#f-items-0-measures-2-description").fill("约谈项目负责人")
    row.locator("#f-items-0-measures-2-deadline").fill("2027-02-28")
    row.locator("#f-items-0-measures-1").get_by_role("button", name="删除此整改措施").click()
    expect(row.locator("#f-items-0-measures-list > li")).to_have_count(2)
    row.get_by_role("button", name="添加制度").click()
    row.locator("#f-items-0-institutions-0-title").fill("《工程项目监管办法》")
    posts = []
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST" and "/tasks/" in r.url else None)
    page.get_by_role("button", name="提交并办结").dblclick()  # the second click must not post again
    page.wait_for_url(f"{base}/inbox")
    expect(page.locator(".flash-success")).to_contain_text("已办结：整改落实")
    assert len(posts) == 1, posts
    expect(page.locator(".flash-warning")).to_have_count(0)

    # the head attests and files, with the case so far beside the form
    sign_in(page, head)
    page.get_by_role("link", name="承诺并备案").click()
    side = page.locator(".case-file")
    expect(side).to_contain_text("重新公开招标")
    expect(side).to_contain_text("约谈项目负责人")
    expect(side).not_to_contain_text("这条随后删除")
    expect(side).to_contain_text("《工程项目监管办法》")
    expect(side).to_contain_text("整改报告.pdf")
    page.get_by_role("button", name="提交并办结").click()
    expect(page.locator("#f-attest-error")).to_have_text("请勾选此项")
    page.get_by_label("本人承诺所报整改情况及佐证材料真实、准确、完整").check()
    page.get_by_role("button", name="提交并办结").click()
    page.wait_for_url(f"{base}/inbox")

    # the office finds the filing with the inbox filter (htmx), accepts it: the case closes
    sign_in(page, "office1")
    page.get_by_label("事项类型").select_option("review_filing")
    expect(page).to_have_url(f"{base}/inbox?process=&task=review_filing&unit=&sort=")
    expect(page.locator("tbody tr")).to_have_count(1)
    page.get_by_role("link", name="审核备案").click()
    page.locator("#f-accepted").get_by_label("是").check()
    page.get_by_label("审核意见").fill("材料齐全，同意销号")
    page.get_by_label("我已核对以上内容，确认提交（提交后不能撤回）").check()
    page.get_by_role("button", name="提交并办结").click()
    page.wait_for_url(f"{base}/inbox")
    case = case_of(ctx, round_id, unit)
    assert case.status == "closed"
    page.goto(f"{base}/cases/{case.id}")
    expect(page.locator(".case-file")).to_contain_text("已销号")
    expect(page.locator(".case-file")).to_contain_text("材料齐全，同意销号")

    # the report the head filed, as a numbered document with its fingerprint, downloaded as issued
    issued = page.locator(".document-list li", has_text="整改报告 光巡报〔")
    expect(issued).to_be_visible()
    with page.expect_download() as download:
        issued.get_by_role("link").click()
    content = open(download.value.path(), "rb").read()
    expect(issued).to_contain_text(hashlib.sha256(content).hexdigest())
    assert download.value.suggested_filename.startswith("整改报告-光巡报") and content.startswith(b"PK")
    shoot(page, "case-documents", full_page=True)
    phone = new_context(viewport=PHONE, is_mobile=True, has_touch=True, storage_state=context.storage_state())
    phone_page = guard.watch(phone.new_page())
    phone_page.goto(f"{base}/cases/{case.id}")
    expect(phone_page.locator(".document-list")).to_contain_text("光巡报〔")
    assert phone_page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], "no sideways scrolling"
    shoot(phone_page, "case-documents-phone", full_page=True)

    # the same pages in English
    page.get_by_role("button", name="English").click()
    expect(page.locator(".case-file")).to_contain_text("Closed out")
    page.goto(f"{base}/done")
    expect(page.get_by_role("heading", name="Done", level=1)).to_be_visible()
    expect(page.locator("tbody")).to_contain_text("Review the filing")
    assert_translated(page)


def test_inspector_records_office_distils_leading_group_approves(live_app, live_server, new_context, guard, sign_in,
                                                                 shoot):
    ctx = live_app.extensions["rectiflow"]
    d = live_app.district
    round_id = start_round(ctx, d)
    base = live_server
    page = guard.watch(new_context().new_page())

    sign_in(page, "inspector0")
    page.get_by_role("link", name="记录巡察发现").click()
    page.wait_for_url(f"{base}/rounds/{round_id}/findings")
    for unit, category, text in ((d.units[0], "工程建设", "工程项目未按规定公开招标"),
                                 (d.units[1], "工程建设", "工程变更未经审批"),
                                 (d.units[2], "合同管理", "合同未经法律审核")):
        page.get_by_label("被巡察单位").select_option(str(unit))
        page.get_by_label("问题类别").fill(category)
        page.get_by_label("问题描述").fill(text)
        page.get_by_role("button", name="保存问题").click()
        expect(page.locator("#problems")).to_contain_text(text)
    page.locator("#clue-unit").select_option(str(d.units[1]))
    page.get_by_label("线索摘要").fill("项目负责人涉嫌收受好处费")
    page.get_by_label("线索内容").fill("群众来信反映项目负责人收受施工方好处费")
    page.get_by_role("button", name="登记线索").click()
    expect(page.locator("#clues")).to_contain_text("项目负责人涉嫌收受好处费")
    expect(page.locator("#clues")).to_contain_text("群众来信")  # the registering inspector reads it
    assert_translated(page)
    shoot(page, "round-findings", full_page=True)
    page.get_by_role("button", name="完成记录").click()
    page.wait_for_url(f"{base}/inbox")

    sign_in(page, "office1")
    page.get_by_role("link", name="提炼共性问题").click()
    page.wait_for_url(f"{base}/rounds/{round_id}/distill")
    expect(page.locator("#recipients")).to_contain_text("6 个单位对照自查")
    page.get_by_label("负责部门（“解铃人”）").select_option(str(d.departments[0]))
    expect(page.locator("#recipients")).to_contain_text("（新增）")  # the preview follows the choice
    page.get_by_label("工程项目未按规定公开招标").check()
    page.get_by_label("工程变更未经审批").check()
    page.get_by_label("共性问题名称").fill("工程项目建设监管不严")
    page.locator("#cp-category").fill("工程建设")
    page.get_by_role("button", name="加入清单").click()
    expect(page.locator(".flash-success")).to_contain_text("已加入共性问题清单")
    expect(page.get_by_text("待归并的问题（1）")).to_be_visible()
    expect(page.locator("#recipients")).to_contain_text("1 个职能部门收到巡察建议书")
    assert_translated(page)
    shoot(page, "round-distill", full_page=True)
    page.get_by_role("button", name="完成提炼，提交审批").click()
    page.wait_for_url(f"{base}/inbox")

    sign_in(page, "leading1")
    page.get_by_role("link", name="审批共性问题清单").click()
    expect(page.locator("aside")).to_contain_text("工程项目建设监管不严")
    page.locator("#f-approved").get_by_label("是").check()
    page.get_by_role("button", name="提交并办结").click()
    # approving publishes the list: once more, with the confirmation ticked
    expect(page.locator("#f-confirmed-error")).to_have_text("此步提交后不能撤回，请勾选确认")
    expect(page.locator("#f-approved").get_by_label("是")).to_be_checked()  # the choice is kept
    page.get_by_label("我已核对以上内容，确认提交（提交后不能撤回）").check()
    page.get_by_role("button", name="提交并办结").click()
    # the approval leads to the publication's progress, which goes on in the background
    page.wait_for_url(f"{base}/rounds/{round_id}/publication")
    n = len(d.units)
    expect(page.get_by_role("progressbar", name=f"已开启 0 / {n} 个单位")).to_be_visible()
    assert_translated(page)
    shoot(page, "round-publication-queued", full_page=True)
    jobs.run_pending(ctx)
    # the page refreshes itself, without a reload
    expect(page.get_by_role("progressbar", name=f"已开启 {n} / {n} 个单位")).to_be_visible(timeout=10_000)
    expect(page.locator(".publication-state")).to_contain_text("每个单位均已开启整改")
    assert case_of(ctx, round_id, d.units[5]).status == "self_check", "published: every unit has its case"
    shoot(page, "round-publication-done", full_page=True)
    phone = guard.watch(new_context(viewport=PHONE).new_page())
    sign_in(phone, "office1", "/rounds")
    phone.get_by_role("link", name="发布进度").click()
    expect(phone.get_by_role("progressbar", name=f"已开启 {n} / {n} 个单位")).to_be_visible()
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], "nothing wider than the screen"
    assert_translated(phone)
    shoot(phone, "round-publication-phone", full_page=True)


def test_keyboard_reaches_the_inbox_and_focus_is_visible(live_app, live_server, new_context, guard, sign_in):
    ctx = live_app.extensions["rectiflow"]
    publish_round(ctx, live_app.district)
    base = live_server
    page = guard.watch(new_context(viewport=DESKTOP).new_page())
    page.goto(f"{base}/login")
    expect(page.get_by_label("用户名")).to_be_focused()  # the login form is ready to type into
    page.keyboard.type(f"{live_app.district.codes[live_app.district.units[2]].lower()}_liaison")
    page.keyboard.press("Tab")
    page.keyboard.type("test-password")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}/inbox")
    page.keyboard.press("Tab")  # the skip link comes first, and shows when focused
    skip = page.locator(".skip-link")
    expect(skip).to_be_focused()
    assert skip.bounding_box()["x"] >= 0
    link = page.get_by_role("link", name="对照自查")
    for _ in range(30):
        page.keyboard.press("Tab")
        if link.evaluate("el => el === document.activeElement"):
            break
    expect(link).to_be_focused()
    outline = link.evaluate("el => getComputedStyle(el).outlineStyle")
    assert outline != "none", "the focused link shows a focus ring"
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="对照自查", level=1)).to_be_visible()


def test_office_inbox_shows_urgency_and_warnings(live_app, live_server, new_context, guard, sign_in, shoot):
    """The office's inbox with every unit's filing waiting: overdue first, warnings by colour and word."""
    from datetime import timedelta

    from sqlalchemy import select
    from support.rounds import attach_evidence, complete

    from service.models import Case
    from workflows.tables import HumanTask

    ctx = live_app.extensions["rectiflow"]
    d = live_app.district
    round_id, cps = publish_round(ctx, d)
    for unit in d.units:
        code = d.codes[unit].lower()
        complete(ctx, f"{code}_liaison", "self_check", {"items": [
            {"common_problem_id": cp, "applicable": True, "problems_found": 1, "findings": "发现问题"} for cp in cps]})
        complete(ctx, f"{code}_liaison", "rectify", {"items": [
            {"common_problem_id": cp, "status": "done", "institutions": [],
             "measures": [{"description": "建立台账", "deadline": "2027-01-31"}]} for cp in cps]})
        attach_evidence(ctx, f"{code}_head")
        complete(ctx, f"{code}_head", "attest_and_file", {"attest": True})

    def urgency(s):
        levels = ["red", "yellow", "green", "none", "none", "none"]
        for i, unit in enumerate(d.units):
            task = s.scalar(select(HumanTask).where(HumanTask.unit_id == unit, HumanTask.bpmn_id == "review_filing"))
            task.due_at = ctx.now() + timedelta(days=(i * 4) - 3)
            s.scalar(select(Case).where(Case.round_id == round_id, Case.unit_id == unit)).warning = levels[i]
    ctx.db.transaction(urgency)

    page = guard.watch(new_context().new_page())
    sign_in(page, "office1")
    rows = page.locator("tbody tr")
    expect(rows).to_have_count(len(d.units))
    expect(rows.first).to_contain_text("已逾期 3 天")
    expect(rows.first).to_contain_text("红色预警")
    expect(page.locator(".count-overdue .count-n")).to_have_text("1")
    assert_translated(page)
    shoot(page, "inbox-office-desktop")
