"""An operator holds, lets go on and ends a process instance from the operators' page, and a designer
makes an earlier model version current from the versions page, in Chromium on a desktop and a phone."""
from __future__ import annotations

from datetime import timedelta

from playwright.sync_api import expect
from sqlalchemy import select
from support.axe import violations
from support.browser import PHONE, assert_translated
from support.rounds import publish_round

from service.models import Case
from workflows.tables import HumanTask, ProcessInstance


def test_an_operator_suspends_resumes_and_cancels_an_instance(live_app, live_server, new_context, guard, sign_in,
                                                              shoot, clock):
    ctx = live_app.extensions["rectiflow"]
    d = live_app.district
    round_id, _ = publish_round(ctx, d)
    with ctx.db.read() as s:
        cases = s.scalars(select(Case).where(Case.round_id == round_id).order_by(Case.id)).all()
        held, late = cases[0], cases[1]
    # one case's unit task is long past due: the instance waits longer than expected
    def overdue(s):
        task = s.scalar(select(HumanTask).where(HumanTask.instance_id == late.process_instance_id,
                                                HumanTask.state == "open").limit(1))
        task.due_at = clock.now() - timedelta(days=3)
    ctx.db.transaction(overdue)

    for viewport, suffix in ((None, "desktop"), (PHONE, "phone")):
        page = guard.watch((new_context(viewport=viewport) if viewport else new_context()).new_page())
        sign_in(page, "office1")
        page.get_by_role("navigation").get_by_role("link", name="流程运行", exact=True).click()
        expect(page.get_by_role("heading", name="流程运行情况")).to_be_visible()
        page.get_by_role("link", name="等待过久").click()
        row = page.locator("tbody tr").filter(has_text=f"#{late.process_instance_id}")
        expect(row).to_contain_text("任务应于")
        assert_translated(page)
        row.get_by_text(f"处理 #{late.process_instance_id}").click()  # the forms unfolded, for axe too
        assert violations(page) == []
        shoot(page, f"operators-overdue-{suffix}", full_page=True)
        row.get_by_text(f"处理 #{late.process_instance_id}").click()

    # suspend without a reason: the browser asks for one; with one, the instance is held
    page.get_by_role("link", name="运行中").click()
    row = page.locator("tbody tr").filter(has_text=f"流程实例 #{held.process_instance_id}")
    row.get_by_text(f"处理 #{held.process_instance_id}").click()
    reason = row.get_by_label("挂起原因")
    row.get_by_role("button", name="挂起").click()
    assert reason.evaluate("el => el.validity.valueMissing")
    reason.fill("单位合并，暂停整改")
    row.get_by_role("button", name="挂起").click()
    expect(page.locator(".flash")).to_contain_text(f"流程实例 #{held.process_instance_id} 已挂起")
    with ctx.db.read() as s:
        assert s.get_one(ProcessInstance, held.process_instance_id).status == "suspended"

    page.get_by_role("link", name="已挂起").click()
    row = page.locator("tbody tr").filter(has_text=f"流程实例 #{held.process_instance_id}")
    expect(row).to_contain_text("已挂起")
    row.get_by_text(f"处理 #{held.process_instance_id}").click()
    shoot(page, "operators-suspended-phone", full_page=True)

    # the unit's liaison sees its task marked as waiting for the process
    unit_page = guard.watch(new_context(viewport=PHONE).new_page())
    sign_in(unit_page, f"{d.codes[held.unit_id].lower()}_liaison")
    expect(unit_page.locator(".badge-suspended")).to_have_text("流程已挂起")
    assert violations(unit_page) == []
    shoot(unit_page, "inbox-suspended-phone", full_page=True)
    unit_page.context.close()
    row.get_by_role("button", name="恢复运行").click()
    expect(page.locator(".flash")).to_contain_text("已恢复运行")

    page.get_by_role("link", name="运行中").click()
    row = page.locator("tbody tr").filter(has_text=f"流程实例 #{held.process_instance_id}")
    row.get_by_text(f"处理 #{held.process_instance_id}").click()
    row.get_by_label("终止原因").fill("单位已撤销")
    row.get_by_role("button", name="终止流程").click()
    expect(page.locator(".flash")).to_contain_text("已终止")
    with ctx.db.read() as s:
        assert s.get_one(ProcessInstance, held.process_instance_id).status == "cancelled"

    # the case shows it; the history on the instance's page names who and why
    page.goto(f"{live_server}/cases/{held.id}")
    expect(page.get_by_role("status").filter(has_text="流程已被终止")).to_contain_text("单位已撤销")
    expect(page.get_by_role("button", name="催办")).to_have_count(0)  # nothing of it goes on
    shoot(page, "case-cancelled-phone", full_page=True)
    page.goto(f"{live_server}/instances/{held.process_instance_id}")
    expect(page.locator(".rf-history")).to_contain_text("单位合并，暂停整改")
    expect(page.locator(".rf-history")).to_contain_text("单位已撤销")
    assert_translated(page)
    expect(page.locator(".rf-legend")).to_contain_text("进行中 (0)")
    shoot(page, "instance-cancelled-phone", full_page=True)

    desktop = guard.watch(new_context().new_page())
    sign_in(desktop, "office1")
    desktop.goto(f"{live_server}/instances/?status=cancelled")
    shoot(desktop, "operators-cancelled-desktop", full_page=True)


def test_a_designer_makes_an_earlier_version_current_after_confirming(live_app, live_server, new_context, guard,
                                                                     sign_in, shoot):
    ctx = live_app.extensions["rectiflow"]
    from support.diagrams import poisoned_model

    d = live_app.district
    version, _ = ctx.db.transaction(lambda s: ctx.engine.deploy(s, poisoned_model(d.units[3]), deployed_by="designer1"))
    newest, earlier = version.version, version.version - 1
    for viewport, suffix in ((None, "desktop"), (PHONE, "phone")):
        page = guard.watch((new_context(viewport=viewport) if viewport else new_context()).new_page())
        sign_in(page, "designer1")
        page.goto(f"{live_server}/designer/models/unit_rectification/versions")
        expect(page.get_by_role("heading", level=1)).to_contain_text("的版本")
        assert_translated(page)
        assert violations(page) == []
        shoot(page, f"designer-versions-{suffix}", full_page=True)

    page.get_by_role("row").filter(has_text=f"第 {earlier} 版").get_by_role("link", name="设为当前版本…").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"将第 {earlier} 版设为当前版本？")
    assert violations(page) == []
    shoot(page, "designer-version-confirm-phone", full_page=True)
    page.get_by_role("button", name="确定设为当前版本").click()
    expect(page.locator(".flash")).to_contain_text(f"第 {earlier} 版已设为当前版本")
    expect(page.get_by_role("row").filter(has_text=f"第 {earlier} 版")).to_contain_text("当前版本")
    # the current version is retired only with another chosen in its place
    page.get_by_role("row").filter(has_text=f"第 {earlier} 版").get_by_role("link", name="停用…").click()
    page.get_by_label("这是当前版本").select_option(str(newest))
    page.get_by_role("button", name="确定停用").click()
    expect(page.locator(".flash")).to_contain_text(f"第 {earlier} 版已停用")
    expect(page.get_by_role("row").filter(has_text=f"第 {earlier} 版")).to_contain_text("已停用")
    with ctx.db.read() as s:
        current = ctx.engine.registry.current_id(s, "unit_rectification")
    assert current == version.id

    # the office reads the page and has no buttons
    office = guard.watch(new_context().new_page())
    sign_in(office, "office1")
    office.goto(f"{live_server}/designer/models/unit_rectification/versions")
    expect(office.get_by_role("heading", level=1)).to_contain_text("的版本")
    expect(office.get_by_role("link", name="设为当前版本…")).to_have_count(0)
