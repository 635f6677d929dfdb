"""Organisation workbooks as a district fills in the import template: sheets 单位 and 用户."""
from __future__ import annotations

import io

from openpyxl import Workbook

from service.org_import import UNIT_COLUMNS, USER_COLUMNS

NEW_PASSWORD = "Own-password-2026"


def workbook(units: list[list], users: list[list], *, sheets: tuple[str, str] = ("单位", "用户")) -> bytes:
    book = Workbook()
    first = book.active
    first.title = sheets[0]
    first.append([title for _, title, _ in UNIT_COLUMNS])
    for row in units:
        first.append(row)
    second = book.create_sheet(sheets[1])
    second.append([title for _, title, _ in USER_COLUMNS])
    for row in users:
        second.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def district_rows(bad: bool = True) -> tuple[list[list], list[list]]:
    """10 units (two departments, a leader in charge of the streets) and 20 accounts; with `bad`, the
    account on row 7 of 用户 names a unit code that no row has (GZ99)."""
    units = [["BM01", "区财政局", "区直部门", "", "财政", "", "", "是"],
             ["BM02", "区住建局", "区直部门", "", "住建", "", "", "是"]]
    for i in range(1, 9):
        kind = "街道" if i <= 4 else "社区"
        parent = "" if i <= 4 else f"JD0{i - 4}"
        units.append([f"JD0{i}" if i <= 4 else f"SQ0{i}", f"{'街道' if i <= 4 else '社区'}{i}", kind, parent,
                      "基层治理", "fenguan1", "BM01", "是"])
    users = [["fenguan1", "王分管", "", "分管区领导", "是"]]
    for code in ("BM01", "BM02", "JD01", "JD02", "JD03", "JD04", "SQ05", "SQ06", "SQ07"):
        users.append([f"{code.lower()}_lly", f"{code}联络员", code, "单位联络员", "是"])
        users.append([f"{code.lower()}_fzr", f"{code}负责人", code, "单位主要负责人", "是"])
    users.append(["sq08_lly", "SQ08联络员", "SQ08", "单位联络员", "是"])
    assert len(units) == 10 and len(users) == 20
    if bad:
        users[5][2] = "GZ99"  # the sixth account: row 7 of the sheet (row 1 holds the headers)
    return units, users
