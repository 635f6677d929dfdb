"""The clue library, the pools and the audit findings in Chromium, at desktop and phone size: the
discipline commission reads a clue in the library and on its hand-over task, the office keeps the
inspector and expert pools, the auditor registers an audit finding and links it to a problem."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from support.browser import DESKTOP, PHONE, assert_translated
from support.rounds import as_user, complete, open_task_id, publish_round, start_round

from service import clues

SECRET = "群众反映某社区干部在工程验收中收受礼金"


def _fits(page, size):
    assert page.evaluate("document.documentElement.scrollWidth") <= size["width"], "nothing wider than the screen"


@pytest.fixture
def walked_round(live_app):
    ctx, d = live_app.extensions["rectiflow"], live_app.district
    round_id, _ = publish_round(ctx, d)
    # a second round, still open for findings, where an inspector registers a clue
    open_round = start_round(ctx, d, "区委第二轮巡察")
    as_user(ctx, "inspector0", lambda s, p: clues.register(ctx, s, p, open_round, d.units[1], "工程验收问题线索",
                                                           SECRET))
    return round_id


@pytest.mark.parametrize("size, tag", [(DESKTOP, "desktop"), (PHONE, "phone")])
def test_clue_library_pools_and_audit_findings(live_app, live_server, new_context, guard, sign_in, shoot,
                                               walked_round, size, tag):
    ctx = live_app.extensions["rectiflow"]
    page = guard.watch(new_context(viewport=size).new_page())

    # the office: the hand-over task shows the clue but never its content
    task_id = open_task_id(ctx, "office1", "approve_handover")
    sign_in(page, "office1", f"/tasks/{task_id}")
    expect(page.locator(".clue-panel")).to_contain_text("工程验收问题线索")
    expect(page.locator(".clue-panel")).to_contain_text("线索内容仅纪委监委可见")
    assert SECRET not in page.inner_text("body")
    _fits(page, size)
    shoot(page, f"clue-handover-office-{tag}", full_page=True)
    complete(ctx, "office1", "approve_handover", {"approved": True})

    # the discipline commission: the library, the clue, the hand-over task with its content
    sign_in(page, "discipline1")
    page.get_by_role("link", name="问题线索库").click()
    expect(page.get_by_role("heading", name="问题线索库")).to_be_visible()
    page.get_by_label("状态").select_option(label="已移交")
    page.get_by_role("button", name="筛选").click()
    expect(page.locator(".clue-table")).to_contain_text("工程验收问题线索")
    page.locator(".clue-details summary").first.click()
    expect(page.locator(".clue-details .clue-content").first).to_have_text(SECRET)
    assert_translated(page)
    _fits(page, size)
    shoot(page, f"clue-library-{tag}", full_page=True)
    page.get_by_role("link", name="工程验收问题线索").click()
    expect(page.locator(".clue-panel .clue-content")).to_have_text(SECRET)
    _fits(page, size)
    shoot(page, f"clue-detail-{tag}", full_page=True)
    page.goto(f"{live_server}/tasks/{open_task_id(ctx, 'discipline1', 'receive_clue')}")
    expect(page.locator(".clue-panel .clue-content")).to_have_text(SECRET)
    _fits(page, size)
    shoot(page, f"clue-receive-task-{tag}", full_page=True)

    # the office: the inspector pool (a conflict declared) and the expert pool (an expert assigned)
    sign_in(page, "office1")
    page.get_by_role("link", name="人才库", exact=True).click()
    page.get_by_role("link", name=re.compile("编辑回避单位.*巡察员1")).click()
    page.get_by_label("单位4").check()
    page.get_by_label("专长").fill("工程审计、财务")
    page.get_by_role("button", name="保存").click()
    expect(page.locator(".flash")).to_contain_text("已保存巡察员1的人才库信息")
    expect(page.locator("tr", has_text="巡察员1")).to_contain_text("单位4")
    assert_translated(page)
    _fits(page, size)
    shoot(page, f"inspector-pool-{tag}", full_page=True)
    page.get_by_role("link", name="协审人才库").click()
    page.get_by_label("姓名").fill("陈会计师")
    page.get_by_label("所在单位").fill("区审计局协审组")
    page.get_by_label("专长").fill("财务审计，工程结算")
    page.get_by_role("button", name="加入人才库").click()
    expect(page.locator(".flash")).to_contain_text("已加入协审人才库：陈会计师")
    row = page.locator("tr", has_text="陈会计师")
    row.get_by_label("为陈会计师选择巡察轮次").select_option(label="区委第一轮巡察")
    row.get_by_role("button", name=re.compile("分配")).click()
    expect(page.locator(".flash")).to_contain_text("专家已分配到该巡察轮次")
    expect(page.locator("tr", has_text="陈会计师")).to_contain_text("区委第一轮巡察")
    assert_translated(page)
    _fits(page, size)
    shoot(page, f"expert-pool-{tag}", full_page=True)

    # the auditor: register an audit finding and link it to the problem it corroborates
    sign_in(page, "shenji1")
    page.get_by_role("link", name="审计发现").click()
    page.get_by_role("button", name="登记审计发现").click()
    expect(page.locator("#form-errors")).to_be_focused()
    page.locator("#round_id").select_option(label="区委第一轮巡察")
    page.get_by_label("被审计单位").select_option(label="单位0")
    page.get_by_label("审计发现事项").fill("工程结算未经审核即支付尾款")
    page.get_by_label("审计报告文号").fill("审计报告〔2026〕3号")
    page.get_by_role("button", name="登记审计发现").click()
    expect(page.locator(".flash")).to_contain_text("审计发现已登记")
    finding = page.locator(".finding", has_text="工程结算未经审核即支付尾款")
    finding.get_by_label("印证的问题").select_option(label="工程建设：工程项目未按规定公开招标")
    finding.get_by_role("button", name=re.compile("关联")).click()
    expect(page.locator(".flash")).to_contain_text("审计发现已关联到问题")
    expect(page.locator(".finding", has_text="工程结算未经审核即支付尾款")).to_contain_text("已关联问题")
    assert_translated(page)
    _fits(page, size)
    shoot(page, f"audit-findings-{tag}", full_page=True)
