"""The designer moves a round's running cases to a fixed version, in Chromium: the model's versions
link to the migration page, the dry run names the cases that cannot move and why (in Chinese), the
migration runs after a confirmation and its progress shows, and one case is moved back."""
from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import expect
from support.axe import violations
from support.browser import PHONE, assert_translated
from support.rounds import attach_evidence, complete, publish_round

from service import jobs

V2 = (Path(__file__).parent.parent / "fixtures" / "unit_rectification_v2.bpmn").read_bytes()


def test_the_designer_migrates_a_rounds_cases_and_moves_one_back(live_app, live_server, new_context, guard,
                                                                   sign_in, shoot):
    ctx = live_app.extensions["rectiflow"]
    d = live_app.district
    _, commons = publish_round(ctx, d)
    unit = d.units[2]
    code = d.codes[unit].lower()
    complete(ctx, f"{code}_liaison", "self_check", {"items": [
        {"common_problem_id": c, "applicable": True, "problems_found": 1, "findings": "合同未审核"} for c in commons]},
        unit)
    complete(ctx, f"{code}_liaison", "rectify", {"items": [
        {"common_problem_id": c, "status": "done", "institutions": [],
         "measures": [{"description": "建立合同审核台账", "deadline": "2027-01-31"}]} for c in commons]}, unit)
    attach_evidence(ctx, f"{code}_head", unit)
    complete(ctx, f"{code}_head", "attest_and_file", {"attest": True}, unit)  # now under the office's review
    ctx.db.transaction(lambda s: ctx.engine.deploy(s, V2, deployed_by="designer1"))
    movable = len(d.units) - 1

    page = guard.watch(new_context().new_page())
    page.on("dialog", lambda dialog: dialog.accept())
    sign_in(page, "designer1", "/designer/?key=unit_rectification")
    page.get_by_role("link", name="迁移运行中的实例").click()
    expect(page.get_by_role("heading", name="迁移运行中的实例")).to_be_visible()
    expect(page.get_by_role("status").first).to_contain_text(f"{movable} 个可迁移，1 个不可迁移")
    expect(page.get_by_text("新版本已没有该实例所在或等待的环节（专项督查未通过）")).to_be_visible()
    assert_translated(page)
    assert violations(page) == []
    shoot(page, "migration-report", full_page=True)

    page.get_by_role("button", name=f"迁移 {movable} 个实例").click()
    expect(page.get_by_text("迁移已开始")).to_be_visible()
    jobs.run_pending(ctx)  # what the service's background thread does
    # the page watches the progress, and reads itself again once the migration is over
    expect(page.locator("#migration-progress")).to_contain_text(f"已处理 {movable} / {movable} 个实例")
    expect(page.get_by_role("button", name=re.compile("回退到版本 1"))).to_have_count(movable)
    shoot(page, "migration-done", full_page=True)

    page.get_by_role("button", name=re.compile("回退到版本 1")).first.click()
    expect(page.get_by_text(re.compile(r"实例 #\d+ 已回退到第 1 版"))).to_be_visible()
    expect(page.get_by_role("button", name=re.compile("回退到版本 1"))).to_have_count(movable - 1)

    phone = guard.watch(new_context(viewport=PHONE).new_page())
    sign_in(phone, "designer1", "/designer/models/unit_rectification/migration")
    expect(phone.get_by_role("heading", name="迁移运行中的实例")).to_be_visible()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390, "no sideways scrolling on a phone"
    shoot(phone, "migration-phone", full_page=True)
