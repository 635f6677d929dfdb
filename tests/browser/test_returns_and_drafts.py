"""A returned filing worked in Chromium: the liaison sees the 退回 badge in the inbox and the reason
at the top of the task, saves a draft and finds it again after a reload, replaces a wrongly
uploaded file, and the case is filed again; filed files can no longer be removed."""
from __future__ import annotations

from playwright.sync_api import expect
from support.browser import DESKTOP, PHONE, assert_translated
from support.returns import OPINION, PDF, png
from support.rounds import as_user, case_of, complete, publish_round

from service import evidence


def _returned_case(ctx, d, unit):
    """A case self-checked, rectified, filed with one file, and returned by the office with OPINION."""
    round_id, commons = publish_round(ctx, d)
    liaison, head = f"{d.codes[unit].lower()}_liaison", f"{d.codes[unit].lower()}_head"
    complete(ctx, liaison, "self_check", {"items": [
        {"common_problem_id": c, "applicable": True, "problems_found": 1, "findings": "合同未经审核"}
        for c in commons]}, unit)
    complete(ctx, liaison, "rectify", {"items": [
        {"common_problem_id": c, "status": "ongoing", "institutions": [],
         "measures": [{"description": "建立合同审核台账", "deadline": "2027-01-31"}]} for c in commons]}, unit)
    case = case_of(ctx, round_id, unit)
    as_user(ctx, liaison, lambda s, p: evidence.upload(ctx, s, p, case.id, "首次备案材料.pdf", PDF, None))
    complete(ctx, head, "attest_and_file", {"attest": True}, unit)
    complete(ctx, "office1", "review_filing", {"accepted": False, "comment": OPINION}, unit)
    return round_id, case.id, liaison, head


def test_liaison_works_a_returned_filing_with_a_draft_and_a_replaced_file(live_app, live_server, new_context, guard,
                                                                          sign_in, shoot):
    ctx = live_app.extensions["rectiflow"]
    d = live_app.district
    unit = d.units[2]
    round_id, case_id, liaison, head = _returned_case(ctx, d, unit)
    base = live_server

    context = new_context(viewport=DESKTOP)
    page = guard.watch(context.new_page())
    sign_in(page, liaison)

    # the inbox marks the returned task and names its round
    row = page.locator("tbody tr", has_text="整改落实")
    expect(row.locator(".badge-returned")).to_have_text("退回")
    expect(row).to_contain_text("区委第一轮巡察")
    instance_id = case_of(ctx, round_id, unit).process_instance_id
    expect(row.get_by_role("link", name="流程图")).to_have_attribute("href", f"/instances/{instance_id}")
    assert_translated(page)
    shoot(page, "returns-inbox-desktop")
    phone = new_context(viewport=PHONE, is_mobile=True, has_touch=True, storage_state=context.storage_state())
    phone_page = guard.watch(phone.new_page())
    phone_page.goto(f"{base}/inbox")
    expect(phone_page.locator(".badge-returned")).to_be_visible()
    assert phone_page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], "no sideways scrolling"
    shoot(phone_page, "returns-inbox-phone", full_page=True)

    # the reason stands at the top of the task, above the form
    page.get_by_role("link", name="整改落实").click()
    reason = page.locator(".returned-reason")
    expect(reason).to_contain_text(OPINION)
    expect(reason).to_contain_text("巡察办")
    form = page.locator("form.task-form")
    assert reason.bounding_box()["y"] < form.bounding_box()["y"]
    assert reason.bounding_box()["y"] < page.locator(".case-file").bounding_box()["y"]
    assert reason.bounding_box()["y"] < DESKTOP["height"], "seen without scrolling"
    task_url = page.url
    shoot(page, "returns-task-desktop")

    # save a draft: nothing is checked, and the form comes back as typed after a reload
    first = page.locator("#f-items-list > li").first
    first.locator("#f-items-0-measures-0-description").fill("补充合同审核台账并逐份复核")
    first.get_by_label("已完成").check()
    page.get_by_role("button", name="暂存").click()
    expect(page.locator(".flash-success")).to_contain_text("已暂存")
    page.reload()
    expect(page.locator("#f-items-0-measures-0-description")).to_have_value("补充合同审核台账并逐份复核")
    expect(page.locator("#f-items-0-status").get_by_label("已完成")).to_be_checked()
    expect(page.locator(".draft-notice")).to_contain_text("暂存的草稿")
    assert_translated(page)
    shoot(page, "returns-draft-desktop", full_page=True)

    # upload a wrong file, see it previewed, replace it; the filed file cannot be touched
    page.locator("#evidence-file").set_input_files(files=[{"name": "错传的照片.png", "mimeType": "image/png",
                                                           "buffer": png()}])
    page.get_by_label("对应整改事项").select_option(label="工程项目建设监管不严")
    page.get_by_role("button", name="上传", exact=True).click()
    wrong = page.locator("#evidence-list li", has_text="错传的照片.png")
    expect(wrong).to_contain_text("工程项目建设监管不严")
    expect(wrong).to_be_visible()
    page.reload()  # the new file is listed by the server with its actions
    wrong = page.locator("#evidence-list li", has_text="错传的照片.png")
    wrong.locator(".evidence-preview summary").click()
    image = wrong.locator(".evidence-preview img")
    expect(image).to_be_visible()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image.element_handle())
    filed = page.locator("#evidence-list li", has_text="首次备案材料.pdf")
    expect(filed.get_by_role("button", name="删除")).to_have_count(0)
    # a PDF is shown in a frame whose response is its own sandbox (the browser's PDF viewer is not
    # opened here: it is an extension, a request the guard counts as leaving the service)
    preview = filed.locator(".evidence-preview iframe").get_attribute("src")
    pdf = page.request.get(f"{base}{preview}")
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.headers["content-security-policy"].startswith("sandbox")
    assert pdf.headers["content-disposition"].startswith("inline")
    shoot(page, "returns-evidence-desktop", full_page=True)
    wrong.locator(".evidence-replace summary").click()
    wrong.get_by_label("用新文件替换“错传的照片.png”").set_input_files(
        files=[{"name": "整改台账.pdf", "mimeType": "application/pdf", "buffer": PDF}])
    wrong.get_by_role("button", name="替换", exact=True).click()
    expect(page.locator(".flash-success")).to_contain_text("已替换为：整改台账.pdf")
    expect(page.locator("#evidence-list li", has_text="错传的照片.png")).to_have_count(0)
    expect(page.locator("#evidence-list li", has_text="整改台账.pdf")).to_contain_text("工程项目建设监管不严")
    assert page.url == task_url
    # the draft is still filled in after the replacement
    expect(page.locator("#f-items-0-measures-0-description")).to_have_value("补充合同审核台账并逐份复核")

    # on a phone: the reason first, nothing sideways
    phone_page.goto(task_url)
    expect(phone_page.locator(".returned-reason")).to_be_in_viewport()
    assert phone_page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], "no sideways scrolling"
    shoot(phone_page, "returns-task-phone")
    shoot(phone_page, "returns-task-phone-full", full_page=True)

    # submit; the head files again; the files are locked from then on
    for i in range(page.locator("#f-items-list > li").count()):
        page.locator(f"#f-items-{i}-status").get_by_label("已完成").check()
        page.locator(f"#f-items-{i}-measures-0-description").fill("补充合同审核台账并逐份复核")
    page.get_by_role("button", name="提交并办结").click()
    page.wait_for_url(f"{base}/inbox")
    expect(page.locator(".flash-success")).to_contain_text("已办结：整改落实")
    page.goto(f"{base}/done")
    expect(page.locator("tbody")).to_contain_text("区委第一轮巡察")
    expect(page.locator("tbody")).to_contain_text("整改情况")
    shoot(page, "returns-done-desktop")

    sign_in(page, head)
    page.get_by_role("link", name="承诺并备案").click()
    expect(page.locator(".returned-reason")).to_contain_text(OPINION)  # the head sees why, too
    page.get_by_label("本人承诺所报整改情况及佐证材料真实、准确、完整").check()
    page.get_by_role("button", name="提交并办结").click()
    page.wait_for_url(f"{base}/inbox")
    assert case_of(ctx, round_id, unit).status == "filed"
    sign_in(page, liaison, f"/cases/{case_id}")
    expect(page.locator("#evidence-list li", has_text="整改台账.pdf")).to_be_visible()
    expect(page.locator("#evidence-list").get_by_role("button", name="删除")).to_have_count(0)
    expect(page.locator(".evidence-replace")).to_have_count(0)
    page.get_by_role("link", name="流程图").click()
    expect(page.locator("#rf-instance-canvas svg").first).to_be_visible()
    history = page.locator(".rf-history")
    expect(history).to_contain_text("审核通过（销号）")
    expect(history).to_contain_text(OPINION)
    expect(history).not_to_contain_text("common_problem_id")
    expect(history).not_to_contain_text("business_key")
    shoot(page, "returns-instance-desktop", full_page=True)
