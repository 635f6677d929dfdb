"""The office dashboard over the Flask test client: the same figures as GET /api/v1/stats, inside
each viewer's scope, the warning board after the deadline, and the lists as tables and workbooks."""
from __future__ import annotations

import io
import re
from datetime import datetime, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import select
from support.api import publish_round
from support.pages import session_login
from support.rounds import complete
from support.rounds import publish_round as publish_with_two_common_problems

from service.models import Case
from service.timers import run_due_timers


@pytest.fixture
def web(client):
    return client


def board(client, **params):
    r = client.get("/dashboard/data.json", query_string=params)
    assert r.status_code == 200, r.get_data(as_text=True)[:300]
    return r.get_json()


def test_dashboard_is_for_the_office_the_leading_group_and_leaders(web, ctx, district, api):
    publish_round(api, district)
    for username in ("office1", "leading1", "leader0"):
        session_login(web, ctx, username)
        assert web.get("/dashboard/").status_code == 200, username
    for username in (f"{district.codes[district.units[2]].lower()}_liaison", "designer1", "inspector0"):
        session_login(web, ctx, username)
        assert web.get("/dashboard/").status_code == 403, username
        assert web.get("/dashboard/data.json").status_code == 403, username
        assert web.get("/dashboard/lists/problems.xlsx").status_code == 403, username


def test_figures_match_the_api_for_every_viewer(web, ctx, district, api):
    round_id = publish_round(api, district, n_common=2)
    for username in ("office1", "leading1", "leader0", "leader1"):
        session_login(web, ctx, username)
        api_stats = api.as_(username).get("/stats", query_string={"round_id": round_id}).get_json()
        mine = board(web, round_id=round_id)
        assert mine["figures"] == api_stats, username
        everything = board(web, round_id="")
        assert everything["round_id"] is None
        assert everything["figures"] == api.as_(username).get("/stats").get_json(), username
        # without a round the board opens on the latest published one
        assert board(web)["round_id"] == round_id


def test_progress_and_industries_stay_in_the_leaders_portfolio(web, ctx, district, api):
    round_id = publish_round(api, district)
    session_login(web, ctx, "office1")
    office = board(web, round_id=round_id)
    assert len(office["progress"]["units"]) == len(district.units)
    assert office["progress"]["statuses"] == ["self_check"]
    assert sum(office["progress"]["series"]["self_check"]) == len(district.units)
    assert sum(row["units"] for row in office["industries"]) == len(district.units)
    assert [t["round_id"] for t in office["trend"]] == [round_id]
    assert office["trend"][0]["common_problems"] == 1

    session_login(web, ctx, "leader0")
    leader = board(web, round_id=round_id)
    portfolio = district.units[0::2]  # build_district gives leader0 every other unit
    assert len(leader["progress"]["units"]) == len(portfolio)
    assert leader["figures"]["units_total"] == len(portfolio)
    assert sum(row["units"] for row in leader["industries"]) == len(portfolio)


def test_warning_board_lists_the_red_units_after_the_deadline(web, ctx, district, api, clock):
    round_id = publish_round(api, district)
    due = datetime.fromisoformat(api.as_("office1").get("/cases").get_json()["items"][0]["due_at"])
    session_login(web, ctx, "office1")
    assert board(web, round_id=round_id)["warnings"]["counts"] == {"none": 6, "green": 0, "yellow": 0, "red": 0}
    clock.move_to(due + timedelta(minutes=5))
    api.tokens.clear()  # weeks later the tokens and the page session have ended: log in again
    session_login(web, ctx, "office1")
    run_due_timers(ctx)
    data = board(web, round_id=round_id)
    assert data["warnings"]["counts"]["red"] == len(district.units)
    assert len(data["warnings"]["red_units"]) == len(district.units)
    assert data["figures"]["units_overdue"] == len(district.units)
    html = web.get(f"/dashboard/?round_id={round_id}").get_data(as_text=True)
    first = data["warnings"]["red_units"][0]
    assert f'/instances/{first["process_instance_id"]}' in html and first["unit"] in html
    assert web.get(f'/instances/{first["process_instance_id"]}').status_code == 200


def test_page_renders_charts_and_the_chosen_list(web, ctx, district, api):
    round_id = publish_round(api, district)
    session_login(web, ctx, "office1")
    html = web.get(f"/dashboard/?round_id={round_id}&list=responsibilities").get_data(as_text=True)
    for chart in ("rf-chart-progress", "rf-chart-warnings", "rf-chart-industry", "rf-chart-trend"):
        assert f'id="{chart}"' in html
    assert "vendor/echarts/echarts.min.js" in html and "督查看板" in html
    assert "责任职能部门" in html and 'aria-current="page"' in html
    assert f"/dashboard/lists/responsibilities.xlsx?round_id={round_id}" in html


@pytest.mark.parametrize("name", ["problems", "responsibilities", "rectifications", "supervision"])
def test_lists_download_as_the_same_workbook_as_the_api(web, ctx, district, api, name):
    round_id = publish_round(api, district)
    session_login(web, ctx, "office1")
    r = web.get(f"/dashboard/lists/{name}.xlsx", query_string={"round_id": round_id})
    assert r.status_code == 200 and r.mimetype.endswith("spreadsheetml.sheet")
    assert f"{name}-round-{round_id}.xlsx" in r.headers["Content-Disposition"]
    ours = load_workbook(io.BytesIO(r.data)).active
    theirs = load_workbook(io.BytesIO(api.as_("office1").get(f"/lists/{name}", query_string={
        "round_id": round_id, "format": "xlsx"}).data)).active
    cells = lambda sheet: [[c.value for c in row] for row in sheet.iter_rows()]  # noqa: E731
    assert cells(ours) == cells(theirs)
    assert web.get("/dashboard/lists/nothing.xlsx").status_code == 404


def test_english_page_has_no_untranslated_keys(web, ctx, district, api):
    """Strict mode turns a missing key into an error; the regex catches a key shown as text."""
    round_id = publish_round(api, district)
    session_login(web, ctx, "office1")
    with web.session_transaction() as sess:
        sess["lang"] = "en"
    shown_key = re.compile(r"[>\"]\s*(dashboard|designer|instance)\.[a-z_.]+\s*[<\"]")
    for list_name in ("problems", "responsibilities", "rectifications", "supervision"):
        r = web.get(f"/dashboard/?round_id={round_id}&list={list_name}")
        html = r.get_data(as_text=True)
        assert r.status_code == 200 and "Supervision dashboard" in html and not shown_key.search(html)
    r = web.get("/designer/")
    assert r.status_code == 200 and "Process models" in r.get_data(as_text=True)
    assert not shown_key.search(r.get_data(as_text=True))


def _cells(html: str) -> set[str]:
    table = html[html.index('id="rf-list-table"'):]
    return {re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td>(.*?)</td>", table, re.S)}


@pytest.mark.parametrize("lang, words", [
    ("zh", {"problems": {"巡察发现"}, "rectifications": {"已完成", "整改中"},
            "supervision": {"绿色提醒", "黄色预警", "红色逾期", "巡察建议书", "系统"}}),
    ("en", {"problems": {"Inspection"}, "rectifications": {"Done", "Ongoing", "Rectifying"},
            "supervision": {"Green reminder", "Yellow warning", "Red warning", "Recommendation letter", "System"}}),
])
def test_the_lists_show_words_for_their_codes_in_the_pages_language(web, ctx, district, clock, lang, words):
    """The rows carry codes (`inspection`, `done`, `warning_red`, no actor for the system); the table
    shows the catalogue's words for them, English on an English page and Chinese on a Chinese one."""
    d = district
    round_id, cps = publish_with_two_common_problems(ctx, d)
    liaison = f"{d.codes[d.units[2]].lower()}_liaison"
    complete(ctx, liaison, "self_check", {"items": [
        {"common_problem_id": cps[0], "applicable": True, "problems_found": 1, "findings": "x"},
        {"common_problem_id": cps[1], "applicable": False, "reason": "无此业务", "problems_found": 0, "findings": "x"}]})
    complete(ctx, liaison, "rectify", {"items": [
        {"common_problem_id": cps[0], "status": "done", "institutions": [],
         "measures": [{"description": "重新招标", "deadline": "2027-01-31"}]},
        {"common_problem_id": cps[1], "status": "ongoing", "institutions": [], "measures": []}]})
    with ctx.db.read() as s:
        due = s.scalar(select(Case.due_at).where(Case.round_id == round_id))
    clock.move_to(due + timedelta(minutes=5))
    run_due_timers(ctx)
    session_login(web, ctx, "office1")
    with web.session_transaction() as sess:
        sess["lang"] = lang
    codes = {"inspection", "resident_report", "done", "ongoing", "not_done", "self_check", "rectifying",
             "warning_green", "warning_yellow", "warning_red", "recommendation_letter", "None"}
    for name, expected in words.items():
        cells = _cells(web.get(f"/dashboard/?round_id={round_id}&list={name}").get_data(as_text=True))
        assert expected <= cells, (name, sorted(cells))
        assert not cells & codes, (name, sorted(cells & codes))
