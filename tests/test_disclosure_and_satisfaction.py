"""整改公开 and what residents think of it: the office chooses and approves what a round's public page
shows (never a clue, an evidence file or personal data), residents rate it once per device, and the
dashboard's satisfaction and petition figures are what was given and entered."""
from __future__ import annotations

import re

from sqlalchemy import select
from support.api import publish_round
from support.followups import close_with_measures
from support.pages import Pages

from service.models import AuditEntry, Clue, Evidence, ResidentReport, User

CLUE_CONTENT = "某科长收受工程老板礼金两万元"
CLUE_SUMMARY = "涉嫌收受礼金"


def _editor_lines(html: str) -> list[tuple[int, int, int]]:
    """(index, common problem id, unit id) of each line of the disclosure editor."""
    cps = dict(re.findall(r'name="cp_(\d+)" value="(\d+)"', html))
    units = dict(re.findall(r'name="unit_(\d+)" value="(\d+)"', html))
    return [(int(i), int(cps[i]), int(units[i])) for i in sorted(cps, key=int)]


def _form(lines, shown: dict[int, str], action: str, introduction: str = "") -> list[tuple[str, str]]:
    data = [("lines", str(len(lines))), ("action", action), ("introduction", introduction)]
    for index, cp, unit in lines:
        data += [(f"cp_{index}", str(cp)), (f"unit_{index}", str(unit)), (f"measures_{index}", shown.get(unit, "内部措施"))]
        if unit in shown:
            data.append(("shown", str(index)))
    return data


def _setup(api, ctx, d):
    round_id = publish_round(api, d)
    today = ctx.now().astimezone(ctx.zone).date().isoformat()
    close_with_measures(api, d, round_id, 2, [("修订合同管理办法，建立法律审核台账", today)])
    close_with_measures(api, d, round_id, 3, [("开展合同专项清理", today)])
    registrar = ctx.db.transaction(lambda s: s.scalar(select(User.id).where(User.username == "inspector0")))

    def clue(s):
        s.add(Clue(round_id=round_id, unit_id=d.units[2], summary=CLUE_SUMMARY, content=CLUE_CONTENT,
                   registered_by=registrar, registered_at=ctx.now()))
    ctx.db.transaction(clue)
    return round_id


def test_the_office_approves_what_is_disclosed_and_nothing_secret_ever_is(api, client, ctx, district):
    d = district
    round_id = _setup(api, ctx, d)
    pages = Pages(client)
    pages.login("office1")
    editor = f"/rounds/{round_id}/disclosure"
    assert f'href="{editor}"' in pages.text("/rounds"), "the round list links the disclosure"
    html = pages.text(editor)
    lines = _editor_lines(html)
    assert {unit for _, _, unit in lines} >= {d.units[2], d.units[3]}
    assert "修订合同管理办法，建立法律审核台账" in html, "the unit's measures are the starting text"
    with ctx.db.read() as s:
        evidence_names = [name for (name,) in s.execute(select(Evidence.filename))]
    assert evidence_names

    # what holds a clue, an evidence file's name or personal data is refused, and nothing becomes public
    for leaking in (f"已处理：{CLUE_CONTENT}", f"详见{evidence_names[0]}", "联系人 13800138000"):
        r = pages.post(editor, _form(lines, {d.units[2]: leaking}, "publish"), token_from=editor)
        assert r.status_code == 422, leaking
        assert "disclosure_sensitive" not in r.get_data(as_text=True)  # worded, not coded
    assert "Not public" in pages.text(editor) or "未公开" in pages.text(editor)

    r = pages.post(editor, _form(lines, {d.units[2]: "修订合同管理办法，建立法律审核台账", d.units[3]: "开展合同专项清理"},
                                 "publish", "本轮巡察发现的共性问题整改情况"), token_from=editor)
    assert r.status_code == 302, r.get_data(as_text=True)[:2000]
    with ctx.db.read() as s:
        assert "disclosure_published" in [e.action for e in s.scalars(select(AuditEntry))]
    public_url = re.search(r'href="(/public/disclosures/\d+)"', pages.text(editor)).group(1)

    visitor = app_client(client)
    page = visitor.get(public_url).get_data(as_text=True)
    assert "修订合同管理办法，建立法律审核台账" in page and "开展合同专项清理" in page and "单位2" in page
    assert "内部措施" not in page, "a line not chosen is not shown"
    with ctx.db.read() as s:
        secrets = [c for row in s.execute(select(Clue.summary, Clue.content)) for c in row]
        secrets += [n for (n,) in s.execute(select(Evidence.filename))]
        secrets += [n.rsplit(".", 1)[0] for (n,) in s.execute(select(Evidence.filename))]
        secrets += [v for r in s.scalars(select(ResidentReport)) for v in (r.contact, r.description) if v]
    assert secrets and [x for x in secrets if x in page] == []
    assert visitor.get(public_url.replace("/public/disclosures/", "/public/disclosures/9")).status_code == 404

    # withdrawn: no longer public
    r = pages.post(editor, _form(lines, {d.units[2]: "修订合同管理办法，建立法律审核台账"}, "withdraw"), token_from=editor)
    assert r.status_code == 302
    assert visitor.get(public_url).status_code == 404


def app_client(client):
    """Another browser (no session, its own cookies)."""
    return client.application.test_client()


def test_satisfaction_and_petitions_on_the_dashboard_match_hand_counts(api, client, ctx, district):
    d = district
    round_id = _setup(api, ctx, d)
    pages = Pages(client)
    pages.login("office1")
    editor = f"/rounds/{round_id}/disclosure"
    lines = _editor_lines(pages.text(editor))
    pages.post(editor, _form(lines, {d.units[2]: "措施甲", d.units[3]: "措施乙"}, "publish"), token_from=editor)
    public_url = re.search(r'href="/public/disclosures/(\d+)"', pages.text(editor))
    disclosure_id = int(public_url.group(1))
    items = {unit: int(item) for item, unit in re.findall(
        r'id="item-(\d+)">\s*<p><strong>(单位\d)</strong>', app_client(client).get(
            f"/public/disclosures/{disclosure_id}").get_data(as_text=True))}
    assert set(items) == {"单位2", "单位3"}

    given = {"单位2": [5, 4, 2], "单位3": [3]}
    for unit, scores in given.items():
        for score in scores:
            device = app_client(client)  # each its own browser
            device.get("/public/")
            token = Pages(device).token("/public/")
            r = device.post(f"/public/disclosures/{disclosure_id}/rate",
                            data={"item_id": items[unit], "score": score, "csrf_token": token})
            assert r.status_code == 302
            again = device.post(f"/public/disclosures/{disclosure_id}/rate",
                                data={"item_id": items[unit], "score": 1, "csrf_token": token}, follow_redirects=True)
            assert "已评价" in again.get_data(as_text=True) or "already" in again.get_data(as_text=True), \
                "one rating per device and item"
    # and one resident rates the handling of their own report, counted against the unit it was forwarded to
    office = api.as_("office1")
    code = client.post("/api/v1/public/reports", json={"category": "便民服务", "description": "办事大厅开门晚"},
                       environ_base={"REMOTE_ADDR": "198.51.100.77"}).get_json()["tracking_code"]
    report_id = office.get("/resident-reports").get_json()["items"][0]["id"]
    office.post(f"/resident-reports/{report_id}/forward", json={"unit_id": d.units[3], "deadline": "2099-01-01"})
    unit = api.as_(f"{d.codes[d.units[3]].lower()}_liaison")
    unit.complete(unit.tasks(step="handle_resident_report")[0]["id"], {"reply": "已调整开门时间"})
    office.post(f"/resident-reports/{report_id}/reply", json={"reply": "已整改"})
    assert client.post("/api/v1/public/ratings", json={"tracking_code": code, "score": 1}).status_code == 201

    # petition counts, entered on the office's page and through the API
    r = pages.post("/petitions", {"unit_id": d.units[2], "period": "2026-01", "count": "12"}, token_from="/petitions")
    assert r.status_code == 302
    for unit, period, count in ((d.units[2], "2026-02", 9), (d.units[3], "2026-01", 4), (d.units[2], "2026-01", 10)):
        assert office.post("/petitions", json={"unit_id": unit, "period": period, "count": count}).status_code == 201
    bad = office.post("/petitions", json={"unit_id": d.units[2], "period": "2026-13", "count": 1})
    assert bad.status_code == 422 and bad.get_json()["code"] == "invalid_period"

    data = pages.get("/dashboard/data.json", query_string={"round_id": round_id}).get_json()
    by_unit = {row["unit"]: (row["average"], row["ratings"]) for row in data["satisfaction"]["units"]}
    # the report's rating has no round (it came without a QR code of one): it counts for its unit only
    all_rounds = pages.get("/dashboard/data.json", query_string={"round_id": ""}).get_json()
    assert {row["unit"]: (row["average"], row["ratings"]) for row in all_rounds["satisfaction"]["units"]} == {
        "单位2": (round((5 + 4 + 2) / 3, 2), 3), "单位3": (round((3 + 1) / 2, 2), 2)}
    assert by_unit == {"单位2": (round((5 + 4 + 2) / 3, 2), 3), "单位3": (3.0, 1)}
    assert data["satisfaction"]["rounds"] == [{"round_id": round_id, "round": "轮次", "average": round(14 / 4, 2),
                                               "ratings": 4}]
    assert data["petitions"]["periods"] == ["2026-01", "2026-02"]
    assert data["petitions"]["totals"] == [10 + 4, 9], "the later entry for a month replaces the earlier"
    assert {row["unit"]: row["counts"] for row in data["petitions"]["units"]} == {"单位2": [10, 9], "单位3": [4, None]}
    html = pages.text(f"/dashboard/?round_id={round_id}")
    assert 'id="rf-chart-satisfaction"' in html and 'id="rf-chart-petitions"' in html
    assert '<td data-value="3.67">3.67</td>' in html and '<td data-value="14">14</td>' in html
    # a leader sees only the units of their portfolio
    leader = Pages(app_client(client))
    leader.login("leader0")
    mine = leader.get("/dashboard/data.json", query_string={"round_id": round_id}).get_json()
    assert {row["unit"] for row in mine["satisfaction"]["units"]} == {"单位2"}  # unit 2 is leader0's, unit 3 leader1's
    assert code
