"""The office finds a failed process instance from its inbox, reads where and why it failed,
and tries it again, in Chromium on a desktop and on a phone."""
from __future__ import annotations

from datetime import timedelta

from playwright.sync_api import expect
from sqlalchemy import select
from support.browser import PHONE, assert_translated
from support.diagrams import poisoned_model
from support.rounds import publish_round

from service.models import Case
from service.timers import run_due_timers


def test_office_sees_a_failed_instance_and_retries_it(live_app, live_server, new_context, guard, sign_in, shoot, clock):
    ctx = live_app.extensions["rectiflow"]
    d = live_app.district
    poisoned_unit = d.units[3]
    ctx.db.transaction(lambda s: ctx.engine.deploy(s, poisoned_model(poisoned_unit), deployed_by="designer1"))
    round_id, _ = publish_round(ctx, d)
    with ctx.db.read() as s:
        due = s.scalar(select(Case.due_at).where(Case.round_id == round_id).limit(1))
    clock.move_to(due - timedelta(days=20) + timedelta(minutes=1))
    assert run_due_timers(ctx) == len(d.units) - 1

    for viewport, suffix in ((None, "desktop"), (PHONE, "phone")):
        page = guard.watch((new_context(viewport=viewport) if viewport else new_context()).new_page())
        sign_in(page, "office1")
        banner = page.get_by_role("link", name="有 1 个流程实例运行出错，需要处理。")
        expect(banner).to_be_visible()
        banner.click()
        expect(page.get_by_role("heading", name="流程运行情况")).to_be_visible()
        row = page.locator("tbody tr")
        expect(row).to_have_count(1)
        expect(row).to_contain_text("绿色提醒")
        expect(row).to_contain_text("本环节的脚本或表达式执行出错")
        expect(row.get_by_text("division by zero")).to_be_hidden()  # the engine's words, folded away
        row.get_by_text("技术信息").click()
        expect(row.get_by_text("division by zero")).to_be_visible()
        assert_translated(page)
        shoot(page, f"instances-failed-{suffix}", full_page=True)
        row.get_by_role("link").click()
        alert = page.get_by_role("alert")
        expect(alert).to_contain_text("出错环节")
        expect(alert).to_contain_text("绿色提醒")
        expect(alert).to_contain_text("warn_green")
        expect(alert).to_contain_text("本环节的脚本或表达式执行出错")
        expect(page.locator("#rf-instance")).to_have_attribute("data-ready", "true")
        expect(page.locator(".djs-element.rf-error")).to_have_count(1)  # the failed step, marked on the diagram
        # drawn by the read-only viewer bundle, without the modeler's tools and properties panel
        assert page.evaluate("[!!window.RectiflowViewer, !!window.RectiflowModeler]") == [True, False]
        assert_translated(page)
        shoot(page, f"instance-failed-{suffix}", full_page=True)

    page.get_by_role("button", name="立即重试").click()
    expect(page.locator(".flash")).to_contain_text("重试仍然出错：本环节的脚本或表达式执行出错")
    expect(page.get_by_role("alert")).to_contain_text("已连续出错 1 次")
    # the history names the failures and the retry by hand
    expect(page.locator(".rf-history")).to_contain_text("运行出错")
    expect(page.locator(".rf-history")).to_contain_text("原因本环节的脚本或表达式执行出错")
    expect(page.locator(".rf-history")).to_contain_text("手动重试")
