"""审计日志, the audit administrator's page: the log filtered and paged in words, exported as Excel
or CSV (from the page and from the API, each export itself on the log), and its chain verified by a
button that names the first bad entry. Nobody else opens any of it."""
from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime
from urllib.parse import quote
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from sqlalchemy import text
from support.audit import entries
from support.district import PASSWORD
from support.pages import Pages

from service import audit, audit_log

SHANGHAI = ZoneInfo("Asia/Shanghai")


def write(ctx, *rows: tuple) -> None:
    """Entries appended as the service appends them: (action, actor, target, outcome, detail)."""
    def work(s):
        for action, actor, target, outcome, detail in rows:
            audit.record(s, action, actor, target, outcome=outcome, detail=detail, address="10.0.0.7")
    ctx.db.transaction(work)


def rows_of(html: str) -> list[str]:
    """The table's rows as the text they show."""
    return [" ".join(re.sub(r"<[^>]+>", "", re.sub(r"</t[dh]>|</li>", " ", row)).split())
            for row in re.findall(r'<tr class="audit-row[^"]*">(.*?)</tr>', html, re.S)]


@pytest.fixture
def auditor(client, district) -> Pages:
    pages = Pages(client)
    assert pages.login("auditor1").status_code == 302
    return pages


@pytest.fixture
def history(client, ctx, district, clock) -> None:
    """Two refused logins, two good ones, a refused password change; and two logins around
    midnight in Shanghai on 2 March 2026 (both on 1 March in UTC)."""
    for username, password in (("office1", "wrong-password"), ("nobody-here", "x")):
        assert client.post("/api/v1/auth/token", json={"username": username, "password": password}).status_code == 401
    for username in ("office1", "leading1"):
        assert client.post("/api/v1/auth/token", json={"username": username, "password": PASSWORD}).status_code == 200
    write(ctx, ("password_change_refused", "leading1", "user:leading1", "refused", {"code": "wrong_password"}))
    clock.move_to(datetime(2026, 3, 1, 23, 30, tzinfo=SHANGHAI))
    write(ctx, ("login", "inspector0", "user:inspector0", "ok", {}))
    clock.move_to(datetime(2026, 3, 2, 0, 30, tzinfo=SHANGHAI))
    write(ctx, ("login", "inspector1", "user:inspector1", "ok", {}))
    clock.move_to(datetime.now(UTC))


def test_the_audit_administrator_reads_the_log_in_words_newest_first(ctx, history, auditor):
    html = auditor.text("/audit/")
    assert "<h1>审计日志</h1>" in html and "校验完整性" in html and 'href="/audit/"' in html  # in the navigation
    rows = rows_of(html)
    assert len(rows) == len(entries(ctx)) == 8
    newest = rows[0]  # the auditor's own login
    assert "登录" in newest and "auditor1" in newest and "127.0.0.1" in newest and "成功" in newest
    refused = [r for r in rows if "拒绝签发接口令牌" in r]
    assert len(refused) == 2 and all("拒绝" in r and "用户名或密码错误" in r for r in refused)
    assert any("账号 nobody-here" in r for r in refused)
    changed = [r for r in rows if "修改密码被拒绝" in r][0]
    assert "原因：" in changed and "当前密码不正确" in changed and "wrong_password" not in changed
    assert "{" not in "".join(rows)  # no raw JSON
    assert "签发接口令牌" in html and 'value="token_issued"' in html  # the action filter, in words


def test_the_filters_narrow_the_log_by_action_actor_outcome_and_local_days(ctx, history, auditor):
    def shown(**query) -> list[str]:
        return rows_of(auditor.text("/audit/?" + "&".join(f"{k}={v}" for k, v in query.items())))

    assert len(shown(action="token_refused")) == 2
    assert [("leading1" in r, "修改密码被拒绝" in r) for r in shown(actor="leading1")] == [(True, True), (True, False)]
    refused = shown(outcome="refused")
    assert len(refused) == 3 and not any("成功" in r for r in refused)
    # days are the configured zone's: 00:30 on 2 March in Shanghai is 1 March in UTC
    (second,) = shown(**{"from": "2026-03-02", "to": "2026-03-02"})
    assert "inspector1" in second and "2026-03-02 00:30:00" in second
    (first,) = shown(to="2026-03-01")
    assert "inspector0" in first and "2026-03-01 23:30:00" in first
    assert len(shown(action="login", **{"from": "2026-03-01"})) == 3  # the two, and the auditor's own

    r = auditor.get("/audit/?from=2026-03-05&to=2026-03-01")
    html = r.get_data(as_text=True)
    assert r.status_code == 422 and 'role="alert"' in html and "截止日期早于起始日期" in html
    assert 'id="filter-to" name="to" type="date" value="2026-03-01" aria-invalid="true"' in html
    assert rows_of(html) == []
    r = auditor.get("/audit/?from=yesterday")
    assert r.status_code == 422 and "请输入有效日期" in r.get_data(as_text=True)


def test_the_log_is_paged_and_the_pages_keep_the_filters(auditor, ctx, district):
    write(ctx, *[("login", "office1", "user:office1", "ok", {}) for _ in range(55)])
    html = auditor.text("/audit/?action=login")
    assert len(rows_of(html)) == 50 and "共 56 条" in html
    following = re.search(r'<a class="btn secondary" rel="next" href="([^"]+)"', html).group(1).replace("&amp;", "&")
    assert "action=login" in following and "page=2" in following
    rest = rows_of(auditor.text(following))
    assert len(rest) == 6 and "第 1 条" in rest[-1]  # the oldest last


@pytest.mark.parametrize("who", ["office1", "admin", "security1"])
def test_nobody_but_the_audit_administrator_opens_reads_exports_or_verifies_it(client, district, who):
    pages = Pages(client)
    assert pages.login(who).status_code == 302
    assert "/audit/" not in pages.text("/inbox")
    for path in ("/audit/", "/audit/?from=nonsense", "/audit/export.xlsx", "/audit/export.csv"):
        assert pages.get(path).status_code == 403, path
    assert pages.post("/audit/verify").status_code == 403


# ---------------------------------------------------------------- exports
def test_the_page_exports_the_filtered_entries_as_a_workbook_and_records_it(ctx, history, auditor):
    html = auditor.text("/audit/?outcome=refused&actor=leading1")
    link = re.search(r'href="(/audit/export\.xlsx[^"]*)"', html).group(1).replace("&amp;", "&")
    assert "outcome=refused" in link and "actor=leading1" in link
    assert 'href="/audit/export.csv?' in html
    r = auditor.get(link)
    day = ctx.clock.now().astimezone(ctx.zone).date().isoformat()
    assert r.status_code == 200 and r.headers["Content-Disposition"] == (
        f"attachment; filename=\"audit-log-{day}.xlsx\"; filename*=UTF-8''{quote(f'审计日志-{day}.xlsx')}")
    sheet = load_workbook(io.BytesIO(r.data)).active
    assert sheet.title == "审计日志"
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[0] == ["编号", "时间", "操作人", "地址", "操作", "对象", "结果", "详情", "哈希值"]
    (row,) = values[1:]
    assert row[2:7] == ["leading1", "10.0.0.7", "修改密码被拒绝", "账号 leading1", "拒绝"]
    assert row[7] == "原因：当前密码不正确" and len(row[8]) == 64

    (record,) = entries(ctx, action="audit_exported")
    assert (record.actor, record.target, record.address) == ("auditor1", "audit-log", "127.0.0.1")
    assert record.detail == {"actor": "leading1", "outcome": "refused", "format": "xlsx", "rows": 1}
    newest = rows_of(auditor.text("/audit/"))[0]
    assert "导出审计日志" in newest and "格式：xlsx" in newest and "条数：1" in newest


def test_the_api_exports_csv_with_the_same_filters_and_records_it(api, ctx, history):
    write(ctx, ("login", "=HYPERLINK(\"http://x\")", "user:x", "ok", {}))
    reader = api.as_("auditor1")
    r = reader.get("/audit-log", query_string={"format": "csv", "action": "login", "from": "2026-03-02"})
    assert r.status_code == 200 and r.mimetype == "text/csv"
    assert r.data.startswith("\ufeff".encode())  # Excel reads the Chinese with the byte-order mark
    table = list(csv.reader(io.StringIO(r.data.decode("utf-8-sig"))))
    assert table[0][:5] == ["编号", "时间", "操作人", "地址", "操作"]
    assert [(row[2], row[4]) for row in table[1:]] == [
        ("'=HYPERLINK(\"http://x\")", "登录"), ("inspector1", "登录")]  # a formula stays text
    (record,) = entries(ctx, action="audit_exported")
    assert record.detail == {"action": "login", "from": "2026-03-02", "format": "csv", "rows": 2}

    book = reader.get("/audit-log", query_string={"format": "xlsx", "outcome": "refused"})
    assert len(list(load_workbook(io.BytesIO(book.data)).active.iter_rows())) == 1 + 3
    assert api.as_("office1").get("/audit-log", query_string={"format": "csv"}).status_code == 403
    assert len(entries(ctx, action="audit_exported")) == 2


def test_the_api_lists_with_outcome_and_day_filters_and_names_bad_ones(api, ctx, history):
    reader = api.as_("auditor1")
    body = reader.get("/audit-log", query_string={"outcome": "refused", "to": "2030-01-01"}).get_json()
    assert body["total"] == 3 and {e["outcome"] for e in body["items"]} == {"refused"}
    body = reader.get("/audit-log", query_string={"from": "2026-03-02", "to": "2026-03-02"}).get_json()
    assert [e["actor"] for e in body["items"]] == ["inspector1"]
    assert body["items"][0]["at"].startswith("2026-03-02T00:30:00")
    r = reader.get("/audit-log", query_string={"from": "2 March", "outcome": "maybe", "format": "json"})
    assert r.status_code == 400 and r.get_json()["code"] == "invalid_query"
    assert {(e["field"], e["code"]) for e in r.get_json()["errors"]} == {("from", "not_a_date"), ("outcome", "enum")}
    assert reader.get("/audit-log", query_string={"format": "pdf"}).get_json()["code"] == "invalid_query"


def test_an_export_larger_than_the_limit_is_refused_and_the_page_says_so(monkeypatch, api, ctx, history, auditor):
    monkeypatch.setattr(audit_log, "EXPORT_LIMIT", 3)
    r = api.as_("auditor1").get("/audit-log", query_string={"format": "csv"})
    assert (r.status_code, r.get_json()["code"]) == (422, "export_too_large")
    html = auditor.text("/audit/")
    assert "一次最多导出 3 条记录" in html and "/audit/export.xlsx" not in html
    assert "/audit/export.xlsx" in auditor.text("/audit/?outcome=refused")
    assert entries(ctx, action="audit_exported") == []


# ---------------------------------------------------------------- the verify button
def verified(auditor) -> str:
    r = auditor.post("/audit/verify", token_from="/audit/", follow_redirects=True)
    assert r.status_code == 200
    return re.search(r'<p class="flash flash-\w+">(.*?)</p>', r.get_data(as_text=True)).group(1)


def test_the_button_verifies_the_chain_and_names_an_entry_changed_in_the_database(ctx, history, auditor):
    count = len(entries(ctx))
    assert verified(auditor) == f"审计日志完整：已校验 {count} 条记录。"
    (record,) = entries(ctx, action="audit_verified")
    assert (record.actor, record.detail) == ("auditor1", {"whole": True, "count": count})

    with ctx.db.engine.begin() as conn:
        conn.execute(text("UPDATE audit_log SET actor = 'office2' WHERE id = 3"))
    assert verified(auditor) == ("审计日志在第 3 条处断裂：第 3 条被改动，或不是用本审计密钥写入的。"
                                 "此前 2 条校验无误。")
    last = entries(ctx, action="audit_verified")[-1]
    assert last.detail == {"whole": False, "count": 2, "bad_id": 3, "why": "altered"}
    newest = rows_of(auditor.text("/audit/?action=audit_verified"))[0]
    assert "第 3 条处断裂" in newest and "第 3 条被改动" in newest


def test_every_action_the_service_records_has_a_word():
    """The page shows actions in words: a new kind of entry needs its label in i18n.LABELS."""
    from pathlib import Path

    from service.web.i18n import LABELS

    source = "\n".join(p.read_text() for p in (Path(__file__).parents[1] / "service").rglob("*.py"))
    recorded = set(re.findall(r'audit\.(?:record|event|refusals)\(\s*[\w.]+,\s*"(\w+)"', source))
    recorded |= set(re.findall(r'"(\w+)" if approve else "(\w+)"', source)[0]) | {audit.PRUNED}
    assert {"login", "audit_exported", "role_change_rejected", "audit_pruned"} <= recorded
    assert sorted(recorded - set(LABELS["audit_action"])) == []


def test_a_completed_task_reads_by_its_name_in_the_diagram_not_its_code(api, ctx, district, auditor):
    office = api.as_("office1")
    office.post("/rounds", json={"name": "轮次", "inspected_unit_ids": district.units[:1],
                                 "inspector_ids": district.inspectors[:1]})
    inspector = api.as_("inspector0")
    inspector.complete(inspector.tasks(bpmn_id="record_findings")[0]["id"], {})
    row = [r for r in rows_of(auditor.text("/audit/?action=task_completed"))][0]
    assert "环节：" in row and "record_findings" not in row, row
