"""Downloads carry Chinese file names (RFC 5987 `filename*=UTF-8''…`, with an ASCII `filename=` for
clients that know only that): the dashboard's lists, the API's lists and ledger, the audit log."""
from __future__ import annotations

import io
import re
from urllib.parse import unquote

from openpyxl import load_workbook
from support.api import publish_round
from support.audit import entries
from support.pages import session_login

from service import downloads, lists


def names(response) -> tuple[str, str]:
    """(the ASCII name, the UTF-8 name) of an attachment."""
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment; ")
    plain = re.search(r'filename="([^"]*)"', disposition).group(1)
    full = re.search(r"filename\*=UTF-8''(\S+)", disposition).group(1)
    assert plain.isascii() and re.fullmatch(r"[A-Za-z0-9._-]+", plain), plain
    return plain, unquote(full)


def test_the_dashboard_list_is_named_in_chinese_and_narrowed_as_the_page(ctx, api, district, client):
    round_id = publish_round(api, district)
    session_login(client, ctx, "office1")
    r = client.get("/dashboard/lists/responsibilities.xlsx", query_string={"round_id": round_id})
    round_title = api.as_("office1").get(f"/rounds/{round_id}").get_json()["name"]
    assert names(r) == (f"responsibilities-round-{round_id}.xlsx", f"责任清单-{round_title}.xlsx")
    every = load_workbook(io.BytesIO(r.data)).active.max_row - 1
    assert every > 1

    unit_name = load_workbook(io.BytesIO(r.data)).active["B3"].value  # 单位1: the department is 单位0
    page = client.get("/dashboard/", query_string={"round_id": round_id, "list": "responsibilities", "q": unit_name})
    html = page.get_data(as_text=True)
    shown = len(re.findall(r"<tr><td>", html))
    link = re.search(r'id="rf-xlsx" href="([^"]+)"', html).group(1).replace("&amp;", "&")
    narrowed = client.get(link)
    assert names(narrowed)[1] == f"责任清单-{round_title}-含“{unit_name}”.xlsx"
    sheet = load_workbook(io.BytesIO(narrowed.data)).active
    assert 0 < sheet.max_row - 1 == shown < every
    assert {sheet.cell(row=i, column=2).value for i in range(2, sheet.max_row + 1)} == {unit_name}
    recorded = entries(ctx, action="list_exported")[-1]
    assert recorded.detail == {"lists": ["responsibilities"], "round_id": round_id, "searched": unit_name}

    everything = client.get("/dashboard/lists/problems.xlsx", query_string={"round_id": ""})
    assert names(everything) == ("problems.xlsx", "问题清单-全部轮次.xlsx")


def test_the_api_lists_and_ledger_are_named_in_chinese(api, district):
    round_id = publish_round(api, district)
    office = api.as_("office1")
    round_title = office.get(f"/rounds/{round_id}").get_json()["name"]
    one = office.get("/lists/problems", query_string={"round_id": round_id, "format": "xlsx"})
    assert names(one) == ("problems.xlsx", f"问题清单-{round_title}.xlsx")
    ledger = office.get("/lists")
    assert names(ledger) == ("ledger.xlsx", f"{lists.LEDGER_TITLE}-全部轮次.xlsx")


def test_uploaded_evidence_and_the_import_template_download_under_their_names_with_an_ascii_one(api, district):
    from support.returns import PDF, self_check, unit_case

    uc = unit_case(api, district)
    self_check(api, uc)  # evidence comes with the rectification
    liaison = api.as_(uc.liaison)
    up = liaison.post(f"/cases/{uc.case_id}/evidence", data={"file": (io.BytesIO(PDF), "整改报告.pdf")},
                      content_type="multipart/form-data")
    assert up.status_code == 201, up.get_json()
    evidence_id = up.get_json()["id"]
    assert names(liaison.get(f"/evidence/{evidence_id}/content")) == (f"evidence-{evidence_id}.pdf", "整改报告.pdf")
    template = api.as_("admin").get("/org/import-template")
    assert names(template)[0] == "org-import.xlsx" and names(template)[1].endswith(".xlsx")


def test_a_name_never_breaks_the_header():
    header = downloads.disposition('清单/"甲"\r\n.xlsx', "list.xlsx")
    assert "\r" not in header and "\n" not in header and '"甲"' not in header
    assert header.startswith('attachment; filename="list.xlsx"; filename*=UTF-8\'\'')
