"""WCAG 2.1 AA where people noticed it missing: the focus goes where the next thing to read is (a
refused form's errors, the file just uploaded), each dashboard chart has its figures as a table,
and axe-core finds nothing on the instance view and the dashboard."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect
from support.axe import violations
from support.browser import PHONE
from support.rounds import case_of, complete, publish_round

EVIDENCE = b"%PDF-1.4\n% rectiflow accessibility test\n" + b"0" * 2_000


def _one_unit_rectifying(ctx, d):
    """A published round whose unit 2 has self-checked (rectifying, with one problem found) and unit 0
    has self-checked too; the others still self-check."""
    round_id, commons = publish_round(ctx, d)
    items = [{"common_problem_id": cid, "applicable": True, "problems_found": 1 + i, "findings": "发现问题"}
             for i, cid in enumerate(commons)]
    for unit in (d.units[0], d.units[2]):
        complete(ctx, f"{d.codes[unit].lower()}_liaison", "self_check", {"items": items}, unit_id=unit)
    return round_id


def test_a_refused_form_and_an_upload_take_the_focus(live_app, live_server, new_context, guard, sign_in, shoot):
    ctx = live_app.extensions["rectiflow"]
    d = live_app.district
    publish_round(ctx, d)
    unit = d.units[2]
    liaison = f"{d.codes[unit].lower()}_liaison"
    page = guard.watch(new_context().new_page())
    sign_in(page, liaison)

    page.get_by_role("link", name="对照自查").click()
    page.get_by_role("button", name="提交并办结").click()  # nothing filled in
    summary = page.locator("#form-errors")
    expect(summary).to_contain_text("需要修改")
    expect(summary).to_be_focused()  # a screen reader reads what to fix first
    page.keyboard.press("Tab")  # the first error's link: the focus ring on a red summary
    shoot(page, "focus-error-summary")

    rows = page.locator("#f-items-list > li")
    for n in range(2):
        rows.nth(n).get_by_label("否").check()
        rows.nth(n).get_by_label("不适用理由").fill("本单位无此事项")
    for n in range(2):
        rows.nth(n).get_by_label("自查发现问题数").fill("0")
    page.get_by_role("button", name="提交并办结").click()
    page.wait_for_url(f"{live_server}/inbox")

    page.get_by_role("link", name="整改落实").click()
    page.locator("#evidence-file").set_input_files(files=[{"name": "整改台账.pdf", "mimeType": "application/pdf",
                                                           "buffer": EVIDENCE}])
    page.get_by_role("button", name="上传", exact=True).click()
    row = page.locator("#evidence-list li", has_text="整改台账.pdf")
    expect(row).to_be_focused()  # the new file's row: its name, preview and remove come next
    page.keyboard.press("Tab")
    expect(row.get_by_role("link", name="整改台账.pdf")).to_be_focused()
    shoot(page, "focus-uploaded-file")


def test_each_chart_has_its_figures_as_a_table(live_app, live_server, new_context, guard, sign_in, shoot):
    ctx = live_app.extensions["rectiflow"]
    round_id = _one_unit_rectifying(ctx, live_app.district)
    page = guard.watch(new_context().new_page())
    sign_in(page, "office1", f"/dashboard/?round_id={round_id}")
    expect(page.locator("#rf-dashboard")).to_have_attribute("data-ready", "true")
    data = page.evaluate("window.rfDashboard.data")

    toggles = page.get_by_text("以表格查看")
    expect(toggles).to_have_count(4)
    for n in range(4):
        toggles.nth(n).click()

    def cells(name: str) -> list[list[str]]:
        return page.eval_on_selector_all(
            f"#rf-data-{name} tbody tr",
            "rows => rows.map(r => Array.from(r.children).map(c => c.dataset.value ?? c.textContent.trim()))")

    progress = data["progress"]
    assert cells("progress") == [[unit, *(str(progress["series"][st][i]) for st in progress["statuses"])]
                                 for i, unit in enumerate(progress["units"])]
    assert {"self_check", "rectifying"} <= set(progress["statuses"])
    warnings = {row[0]: row[1] for row in cells("warnings")}
    for level, word in (("red", "红色预警"), ("none", "无预警")):
        assert warnings.get(word) == str(data["warnings"]["counts"][level]), (level, warnings)
        expect(page.locator(f'[data-warning="{level}"]')).to_have_text(warnings[word])
    assert [[name, int(units), float(rate)] for name, units, rate in cells("industry")] == \
        [[r["industry"], r["units"], r["rate"]] for r in data["industries"]]
    assert cells("trend") == [[r["round"], *(str(r[k]) for k in ("common_problems", "problems_found", "measures",
                                                                 "institutions"))] for r in data["trend"]]
    assert data["trend"][0]["problems_found"] == 2 * (1 + 2)  # two units found 1 + 2 problems each
    # and ECharts describes each chart to a screen reader (the progress bars in our words)
    expect(page.locator("#rf-chart-progress")).to_have_attribute(
        "aria-label", f"各单位进度，共 {len(progress['units'])} 个单位：各单位按状态的案件数见图下的表格。")
    for chart in ("progress", "warnings", "industry", "trend"):
        label = page.locator(f"#rf-chart-{chart}").get_attribute("aria-label") or ""
        assert ("图表" in label or chart == "progress") and "NaN" not in label, (chart, label)
    shoot(page, "dashboard-tables", full_page=True)

    phone = guard.watch(new_context(viewport=PHONE, is_mobile=True, has_touch=True,
                                    storage_state=page.context.storage_state()).new_page())
    phone.goto(f"{live_server}/dashboard/?round_id={round_id}")
    phone.get_by_text("以表格查看").first.click()
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], "no sideways scrolling"
    shoot(phone, "dashboard-tables-phone", full_page=True)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_axe_finds_no_wcag_violation_on_the_instance_view_and_the_dashboard(live_app, live_server, new_context,
                                                                          guard, sign_in, lang):
    ctx = live_app.extensions["rectiflow"]
    d = live_app.district
    round_id = _one_unit_rectifying(ctx, d)
    instance_id = case_of(ctx, round_id, d.units[2]).process_instance_id
    page = guard.watch(new_context().new_page())
    sign_in(page, "office1")
    if lang == "en":
        page.locator(".lang-switch button").click()
        expect(page.locator("html")).to_have_attribute("lang", "en")

    page.goto(f"{live_server}/instances/{instance_id}")
    expect(page.locator("#rf-instance")).to_have_attribute("data-ready", "true")
    assert violations(page) == []
    if lang == "en":  # the unit's name and the people's are Chinese, and marked so
        expect(page.locator(".rf-facts [lang=zh-CN]").first).to_contain_text("单位2")
        expect(page.locator(".rf-history [lang=zh-CN]").first).to_be_visible()

    page.goto(f"{live_server}/dashboard/?round_id={round_id}&list=rectifications")
    expect(page.locator("#rf-dashboard")).to_have_attribute("data-ready", "true")
    assert violations(page) == []
    for toggle in page.get_by_text("View as table" if lang == "en" else "以表格查看").all():
        toggle.click()
    assert violations(page) == []  # the opened tables too
