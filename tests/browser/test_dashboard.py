"""The office dashboard in Chromium: figures equal to the service's counts, four ECharts charts
drawn from the package's own echarts, the red units listed, the lists with their Excel download,
a leader's narrower view, and the English page."""
from __future__ import annotations

import io
import re
from datetime import timedelta

from openpyxl import load_workbook
from playwright.sync_api import expect
from sqlalchemy import select
from support.browser import assert_translated
from support.rounds import attach_evidence, complete, principal, publish_round

from service import stats
from service.models import Case
from service.timers import run_due_timers
from service.web.dashboard import FIGURES

OUR_KEYS = re.compile(r"\b(?:designer|instance|dashboard)\.[a-z_]+(?:\.[a-z_]+)*\b")


def _work_a_round(ctx, d, clock) -> tuple[int, int]:
    """Round 1 part done (one unit closed, one filed, one rectifying, the rest not started), then
    past its deadline so the late units are red; round 2 published afterwards, for the trend."""
    round_id, commons = publish_round(ctx, d)
    items = [{"common_problem_id": cid, "applicable": True, "problems_found": 2 + i, "findings": "发现问题"}
             for i, cid in enumerate(commons)]
    measures = [{"common_problem_id": cid, "status": "done", "institutions": [{"title": "《合同管理办法》"}],
                 "measures": [{"description": "重新招标", "deadline": "2027-01-31"}]} for cid in commons]
    for n, unit in enumerate(d.units[:3]):
        code = d.codes[unit].lower()
        complete(ctx, f"{code}_liaison", "self_check", {"items": items}, unit_id=unit)
        if n < 2:
            complete(ctx, f"{code}_liaison", "rectify", {"items": measures}, unit_id=unit)
            attach_evidence(ctx, f"{code}_head", unit_id=unit)
            complete(ctx, f"{code}_head", "attest_and_file", {"attest": True}, unit_id=unit)
    complete(ctx, "office1", "review_filing", {"accepted": True, "comment": "同意销号"}, unit_id=d.units[0])
    with ctx.db.read() as s:
        due = s.scalar(select(Case.due_at).where(Case.round_id == round_id).limit(1))
    clock.move_to(due + timedelta(minutes=5))
    run_due_timers(ctx)
    second, _ = publish_round(ctx, d, "区委第二轮巡察")
    return round_id, second


def test_office_dashboard_charts_lists_and_download(live_app, live_server, new_context, guard, sign_in, shoot, clock):
    ctx = live_app.extensions["rectiflow"]
    d = live_app.district
    base = live_server
    first, second = _work_a_round(ctx, d, clock)
    with ctx.db.read() as s:
        expected = stats.figures(ctx, s, principal(ctx, "office1"), first)
    late = len(d.units) - 2  # neither filed nor closed when the deadline passed

    page = guard.watch(new_context().new_page())
    sign_in(page, "office1")
    page.get_by_role("link", name="督查看板").click()
    expect(page.locator("#rf-dashboard")).to_have_attribute("data-ready", "true")
    expect(page.locator("#rf-round")).to_have_value(str(second))  # opens on the latest published round
    page.locator("#rf-round").select_option(str(first))  # the filter submits itself
    expect(page).to_have_url(re.compile(rf"round_id={first}"))
    expect(page.locator("#rf-dashboard")).to_have_attribute("data-ready", "true")

    shown = page.eval_on_selector_all("[data-figure]", "els => Object.fromEntries(els.map(e => "
                                                       "[e.dataset.figure, e.dataset.value]))")
    assert shown == {k: str(expected[k]) for k in FIGURES if expected.get(k) is not None}
    expect(page.locator('[data-figure="completion_rate"]')).to_have_text("16.7%")
    assert expected["units_closed"] == 1 and expected["units_overdue"] == late
    charts = page.evaluate("Object.keys(window.rfDashboard.charts).sort()")
    assert charts == ["rf-chart-industry", "rf-chart-progress", "rf-chart-recurrence", "rf-chart-trend",
                      "rf-chart-warnings"]
    for chart in charts:
        expect(page.locator(f"#{chart} canvas").first).to_be_visible()
    assert page.evaluate("window.rfDashboard.data.trend.map(r => r.round)") == ["区委第一轮巡察", "区委第二轮巡察"]
    expect(page.locator('[data-warning="red"]')).to_have_text(str(late))
    red_units = page.locator(".rf-red-units li")
    expect(page.locator(".rf-yellow-units")).to_have_count(0)
    expect(red_units).to_have_count(late)
    expect(red_units.first).to_contain_text("单位")

    # the rectification list, narrowed on screen, downloaded as narrowed, under a Chinese name
    page.get_by_role("link", name="整改清单").click()
    expect(page.locator(".rf-tabs a[aria-current=page]")).to_have_text("整改清单")
    expect(page.locator("#rf-dashboard")).to_have_attribute("data-ready", "true")  # the script is listening
    rows = page.locator("#rf-list-table tbody tr")
    expect(rows).to_have_count(4)  # the two units that rectified × two common problems
    page.locator("#rf-list-filter").fill("单位0")
    expect(page.locator("#rf-list-table tbody tr:visible")).to_have_count(2)
    with page.expect_download() as download:
        page.get_by_role("link", name="下载 Excel").click()
    assert download.value.suggested_filename == "整改清单-区委第一轮巡察-含“单位0”.xlsx"
    sheet = load_workbook(io.BytesIO(open(download.value.path(), "rb").read())).active
    assert sheet.title == "整改清单" and sheet["A1"].value == "案件编号" and sheet.max_row == 2 + 1
    assert {sheet.cell(row=r, column=2).value for r in (2, 3)} == {"单位0"}
    # the search works without the script too, and the download keeps it
    page.get_by_role("button", name="查找").click()
    expect(page).to_have_url(re.compile(r"q=%E5%8D%95%E4%BD%8D0"))
    expect(rows).to_have_count(2)
    page.locator("#rf-list-filter").fill("")
    page.locator("#rf-list-filter").blur()
    with page.expect_download() as download:
        page.get_by_role("link", name="下载 Excel").click()
    assert load_workbook(io.BytesIO(open(download.value.path(), "rb").read())).active.max_row == 2 + 1

    assert_translated(page)
    assert OUR_KEYS.findall(page.inner_text("body")) == []
    shoot(page, "dashboard", full_page=True)
    page.evaluate("window.scrollTo(0, 0)")
    shoot(page, "dashboard-1366x768")

    # a red unit's row opens its instance
    red_units.first.get_by_role("link").click()
    expect(page.locator("#rf-instance")).to_have_attribute("data-ready", "true")

    # English
    page.goto(f"{base}/dashboard/?round_id={first}")
    page.locator(".lang-switch button").click()
    expect(page.get_by_role("heading", name="Supervision dashboard")).to_be_visible()
    expect(page.locator("#rf-dashboard")).to_have_attribute("data-ready", "true")
    assert_translated(page)
    assert OUR_KEYS.findall(page.inner_text("body")) == []
    shoot(page, "dashboard-en")
    page.locator(".lang-switch button").click()

    # a leader in charge sees the units of the portfolio only
    sign_in(page, "leader0")
    page.goto(f"{base}/dashboard/?round_id={first}")
    expect(page.locator("#rf-dashboard")).to_have_attribute("data-ready", "true")
    portfolio = len(d.units[0::2])
    expect(page.locator('[data-figure="units_total"]')).to_have_text(str(portfolio))
    assert len(page.evaluate("window.rfDashboard.data.progress.units")) == portfolio
