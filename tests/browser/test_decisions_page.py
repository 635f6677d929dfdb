"""The designer edits a DMN decision table in the browser (dmn-js, served by the service) and deploys
it: a refusal is listed in Chinese by the cell it names, a fixed table becomes the next version."""
from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import select
from support.axe import violations
from support.browser import DESKTOP, PHONE

from workflows.tables import DecisionVersion

CASE_ROUTE = (Path(__file__).parents[1] / "fixtures" / "case_route.dmn").read_bytes()


def versions(ctx) -> list[int]:
    with ctx.db.read() as s:
        return list(s.scalars(select(DecisionVersion.version).where(DecisionVersion.key == "case_route")
                              .order_by(DecisionVersion.version)))


def edit_cell(page, old: str, new: str) -> None:
    cell = page.locator("#rf-dmn-canvas td [contenteditable]", has_text=old).first
    cell.click()
    page.keyboard.press("Control+A")
    page.keyboard.type(new)
    page.locator("#rf-current").click()  # leave the cell


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_a_designer_edits_a_decision_table_and_deploys_it(live_app, live_server, new_context, guard, sign_in, shoot,
                                                          viewport):
    ctx = live_app.extensions["rectiflow"]
    if not versions(ctx):
        ctx.db.transaction(lambda s: ctx.engine.deploy_decision(s, CASE_ROUTE, deployed_by="designer1"))
    page = guard.watch(new_context(viewport=viewport).new_page())
    sign_in(page, "designer1", "/designer/")
    page.get_by_role("link", name="决策表（DMN）").click()
    expect(page.locator("#rf-current")).to_have_text("case_route · 第 1 版")
    expect(page.locator("#rf-dmn-canvas")).to_contain_text("重大问题一律上报")
    expect(page.locator("#rf-dmn-canvas th.annotation")).to_have_text("注释")  # dmn-js's own labels too
    suffix = "" if viewport == DESKTOP else "-phone"
    shoot(page, "designer-decisions" + suffix)
    assert violations(page) == []

    edit_cell(page, '"fast"', "open('x')")
    page.get_by_role("button", name="部署为新版本").click()
    expect(page.locator("#rf-status")).to_have_text("部署被拒绝：1 个问题。")
    expect(page.locator("#rf-problems-list")).to_contain_text("Out_fast")
    expect(page.locator("#rf-problems-list")).to_contain_text("表达式 open('x') 被拒绝")
    shoot(page, "designer-decisions-refused" + suffix)
    assert versions(ctx) == [1]

    edit_cell(page, "open('x')", '"quick"')
    page.get_by_role("button", name="部署为新版本").click()
    expect(page.locator("#rf-current")).to_have_text("case_route · 第 2 版")
    assert versions(ctx) == [1, 2]
    with ctx.db.read() as s:
        assert b'"quick"' in s.scalar(select(DecisionVersion.dmn_xml).where(DecisionVersion.version == 2))
