"""The office's instruments on the demo district: four lists, their ledger, figures, scopes, clues, pools."""
from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from service import jobs
from service.models import Unit, User


@pytest.fixture
def database_url(demo_database_url):
    return demo_database_url


@pytest.fixture
def demo(ctx, client):
    with ctx.db.read() as s:
        units = {u.code: u for u in s.scalars(select(Unit))}
        users = {u.username: u for u in s.scalars(select(User))}
    tokens = {}

    def as_(username):
        if username not in tokens:
            r = client.post("/api/v1/auth/token", json={"username": username, "password": ctx.settings.demo_password})
            tokens[username] = {"Authorization": f"Bearer {r.get_json()['token']}"}
        return tokens[username]

    return units, users, as_


def _post(client, headers, path, expect=201, **kw):
    r = client.post("/api/v1" + path, headers=headers, **kw)
    assert r.status_code == expect, r.get_json()
    return r.get_json()


def _task(client, headers, bpmn_id, unit_id=None):
    items = client.get("/api/v1/tasks", headers=headers, query_string={"bpmn_id": bpmn_id, "limit": 500}).get_json()["items"]
    items = [t for t in items if unit_id is None or t["unit_id"] == unit_id]
    assert len(items) == 1, items
    return items[0]["id"]


def _complete(client, headers, bpmn_id, data, unit_id=None, expect=200):
    return _post(client, headers, f"/tasks/{_task(client, headers, bpmn_id, unit_id)}/complete", expect=expect,
                 json={"data": data})


def test_lists_figures_and_ledger_match_hand_counts(client, demo):
    units, users, as_ = demo
    office, inspector, leading = as_("office1"), as_("inspector1"), as_("leading1")
    a, b = units["C04"], units["S02"]  # 上村社区股份合作公司, 公明街道
    round_id = _post(client, office, "/rounds", json={
        "name": "区委第三轮巡察", "inspected_unit_ids": [a.id, b.id],
        "inspector_ids": [users["inspector1"].id]})["id"]
    problems = [
        (a, "工程项目未公开招标", "工程建设", "inspection"),
        (a, "道路工程变更未经审批", "工程建设", "resident_report"),
        (b, "合同未经法律顾问审核", "合同管理", "audit"),
        (b, "便民服务中心开放时间不准时", "便民服务", "resident_report"),
    ]
    pids = [_post(client, inspector, f"/rounds/{round_id}/problems", json={
        "unit_id": u.id, "description": d, "category": c, "source": src})["id"] for u, d, c, src in problems]
    # both units closed out the demo's first round: three of the four findings repeat what they closed (问题反弹)
    recurs = [client.get(f"/api/v1/problems/{pid}", headers=office).get_json()["recurring_of"] for pid in pids]
    assert [r is not None for r in recurs] == [False, True, True, True]
    _complete(client, inspector, "record_findings", {})
    cp1 = _post(client, office, f"/rounds/{round_id}/common-problems", json={
        "title": "工程项目建设监管不严", "category": "工程建设", "responsible_department_id": units["D05"].id,
        "problem_ids": pids[:2]})["id"]
    cp2 = _post(client, office, f"/rounds/{round_id}/common-problems", json={
        "title": "政府合同管理不规范", "category": "合同管理", "responsible_department_id": units["D03"].id,
        "problem_ids": [pids[2]]})["id"]
    _complete(client, office, "distill_list", {})
    _complete(client, leading, "approve_list", {"approved": True})
    jobs.run_pending(client.application.extensions["rectiflow"])

    # unit a: self-checks (2 + 1 problems found), 3 measures, 1 institution, 2 evidence files, filed and accepted
    la, ha = as_("c04_liaison"), as_("c04_head")
    _complete(client, la, "self_check", {"items": [
        {"common_problem_id": cp1, "applicable": True, "problems_found": 2, "findings": "两处工程未招标"},
        {"common_problem_id": cp2, "applicable": True, "problems_found": 1, "findings": "一份合同未审核"}]})
    case_a = client.get("/api/v1/cases", headers=la, query_string={"round_id": round_id}).get_json()["items"][0]
    for name in ("报告.pdf", "照片.png"):
        content = b"%PDF-1.4 x" if name.endswith("pdf") else b"\x89PNG\r\n\x1a\n..."
        _post(client, la, f"/cases/{case_a['id']}/evidence", data={"file": (io.BytesIO(content), name),
                                                                    "effective_date": "2026-11-20"},
              content_type="multipart/form-data")
    _complete(client, la, "rectify", {"items": [
        {"common_problem_id": cp1, "status": "done", "institutions": [{"title": "《工程项目监管办法》"}],
         "measures": [{"description": "补办招标手续", "deadline": "2026-12-31"},
                      {"description": "约谈施工单位", "deadline": "2027-01-15"}]},
        {"common_problem_id": cp2, "status": "ongoing", "institutions": [],
         "measures": [{"description": "合同逐份法律审核", "deadline": "2027-02-28"}]}]})
    _complete(client, ha, "attest_and_file", {"attest": True})
    _complete(client, office, "review_filing", {"accepted": True, "comment": "同意销号"}, unit_id=a.id)

    # unit b: files with nothing applicable and is returned
    lb, hb = as_("s02_liaison"), as_("s02_head")
    _complete(client, lb, "self_check", {"items": [
        {"common_problem_id": cp1, "applicable": False, "reason": "无工程项目", "problems_found": 0, "findings": "不涉及"},
        {"common_problem_id": cp2, "applicable": False, "reason": "无", "problems_found": 0, "findings": "不涉及"}]})
    _complete(client, lb, "rectify", {"items": []})
    case_b = client.get("/api/v1/cases", headers=lb, query_string={"round_id": round_id}).get_json()["items"][0]
    _post(client, lb, f"/cases/{case_b['id']}/evidence", data={"file": (io.BytesIO(b"%PDF-1.4 b"), "说明.pdf")},
          content_type="multipart/form-data")
    _complete(client, hb, "attest_and_file", {"attest": True})
    _complete(client, office, "review_filing", {"accepted": False, "comment": "自查不深入"}, unit_id=b.id)

    def rows(name, headers=office, **params):
        r = client.get(f"/api/v1/lists/{name}", headers=headers, query_string={"round_id": round_id, **params})
        assert r.status_code == 200, r.get_json()
        return r.get_json()["items"]

    # problem list: every problem with its source, unit and common problem
    assert [(r["unit"], r["description"], r["source"], r["common_problem"]) for r in rows("problems")] == [
        (a.name, "工程项目未公开招标", "inspection", "工程项目建设监管不严"),
        (a.name, "道路工程变更未经审批", "resident_report", "工程项目建设监管不严"),
        (b.name, "合同未经法律顾问审核", "audit", "政府合同管理不规范"),
        (b.name, "便民服务中心开放时间不准时", "resident_report", ""),
    ]
    assert len(rows("problems", department_id=units["D03"].id)) == 1
    # responsibility list: 40 units x 2 common problems, with who answers for each
    resp = rows("responsibilities")
    assert len(resp) == 80
    leader = next(u for u in users.values() if u.id == a.leader_id)
    assert [r for r in resp if r["unit"] == a.name] == [
        {"case_id": case_a["id"], "unit": a.name, "common_problem": t, "head": users["c04_head"].name,
         "liaison": users["c04_liaison"].name, "leader": leader.name, "department": d, "co_departments": ""}
        for t, d in (("工程项目建设监管不严", units["D05"].name), ("政府合同管理不规范", units["D03"].name))]
    assert len(rows("responsibilities", industry="集体经济")) == 22 * 2
    assert len(rows("responsibilities", status="closed")) == 2
    # rectification list: the measures, institutions, status, evidence count and dates
    rect = rows("rectifications")
    assert [(r["unit"], r["common_problem"], r["measures"], r["deadlines"], r["institutions"], r["status"],
             r["case_status"], r["evidence"]) for r in rect] == [
        (a.name, "工程项目建设监管不严", "补办招标手续；约谈施工单位", "2026-12-31；2027-01-15", "《工程项目监管办法》",
         "done", "closed", 2),
        (a.name, "政府合同管理不规范", "合同逐份法律审核", "2027-02-28", "", "ongoing", "closed", 2),
    ]
    assert rect[0]["filed_at"] and rect[0]["closed_at"]
    assert [r["common_problem"] for r in rows("rectifications", status="ongoing")] == ["政府合同管理不规范"]
    # supervision list: the two recommendation letters so far
    assert sorted((r["kind"], r["target"]) for r in rows("supervision")) == sorted([
        ("recommendation_letter", units["D03"].name), ("recommendation_letter", units["D05"].name)])

    stats = client.get("/api/v1/stats", headers=office, query_string={"round_id": round_id}).get_json()
    assert stats == {
        "round_id": round_id, "common_problems": 2, "problems_found": 3, "measures": 3, "institutions": 1,
        "recommendation_letters": 2, "cases_filed": 0, "people_filed": 0, "units_total": 40, "units_filed": 2,
        "units_closed": 1, "units_overdue": 0, "completion_rate": 0.025, "average_days_to_file": 0.0,
        "recurrence_rate": 0.75}

    # the ledger: one sheet per list, each cell what the JSON rows say, codes shown by their Chinese labels
    r = client.get("/api/v1/lists", headers=office, query_string={"round_id": round_id})
    book = load_workbook(io.BytesIO(r.data))
    assert book.sheetnames == ["问题清单", "责任清单", "整改清单", "督查清单"]
    for sheet, name in zip(book.worksheets, ("problems", "responsibilities", "rectifications", "supervision"), strict=True):
        body = client.get(f"/api/v1/lists/{name}", headers=office, query_string={"round_id": round_id}).get_json()
        assert [c.value for c in sheet[1]] == [col["header"] for col in body["columns"]]
        assert sheet.freeze_panes == "A2"
        assert sheet.column_dimensions["A"].width > 0
        for row_cells, row in zip(sheet.iter_rows(min_row=2), body["items"], strict=True):
            assert [c.value if c.value is not None else "" for c in row_cells] == \
                   [col.get("labels", {}).get(row[col["key"]], row[col["key"]]) if row[col["key"]] is not None
                    else "系统" for col in body["columns"]]
    assert book["问题清单"]["F2"].value == "巡察发现" and book["督查清单"]["C2"].value == "巡察建议书"

    # scope: the unit sees its own rows only, in every list and in the ledger
    assert {r["unit"] for r in rows("responsibilities", headers=la)} == {a.name}
    assert {r["unit"] for r in rows("problems", headers=lb)} == {b.name}
    assert rows("rectifications", headers=lb) == []
    own = load_workbook(io.BytesIO(client.get("/api/v1/lists", headers=la, query_string={"round_id": round_id}).data))
    assert {row[1].value for row in own["责任清单"].iter_rows(min_row=2)} == {a.name}
    # a leader sees the units of their portfolio
    leader_rows = rows("responsibilities", headers=as_(leader.username))
    with_leader = {u.name for u in units.values() if u.leader_id == leader.id}
    assert {r["unit"] for r in leader_rows} == with_leader and a.name in with_leader


def test_clue_content_is_for_the_discipline_role_and_its_inspector_only(client, demo):
    units, users, as_ = demo
    office, inspector, discipline = as_("office1"), as_("inspector4"), as_("discipline1")
    round_id = 2  # the demo's round in discovery; inspector4 belongs to it
    secret = "某社区书记涉嫌收受工程款回扣，线索来源可靠"
    clue = _post(client, inspector, f"/rounds/{round_id}/clues", json={
        "unit_id": units["C12"].id, "summary": "工程款问题线索", "content": secret})
    assert clue["content"] == secret
    # the office approves the hand-over without ever seeing the content
    office_view = client.get("/api/v1/clues", headers=office).get_json()["items"]
    mine = next(c for c in office_view if c["id"] == clue["id"])
    assert mine["summary"] == "工程款问题线索" and all("content" not in c for c in office_view)
    before = client.get("/api/v1/stats", headers=office, query_string={"round_id": round_id}).get_json()
    task_id = next(t["id"] for t in client.get("/api/v1/tasks", headers=office, query_string={
        "bpmn_id": "approve_handover"}).get_json()["items"] if t["process_instance_id"] == clue["process_instance_id"])
    for path in ("/clues", f"/clues/{clue['id']}", "/tasks", f"/tasks/{task_id}", "/lists/problems",
                 "/lists/supervision"):
        body = client.get("/api/v1" + path, headers=office).get_data(as_text=True)
        assert secret not in body, path
    _post(client, office, f"/tasks/{task_id}/complete", expect=200, json={"data": {"approved": True}})
    # others see nothing at all
    for username in ("c12_liaison", "leader_li", "leading1"):
        assert client.get("/api/v1/clues", headers=as_(username)).status_code == 403
    assert client.get(f"/api/v1/clues/{clue['id']}", headers=as_("inspector5")).status_code == 404
    # the discipline inspection receives, reads and disposes it; figures count cases and people
    assert client.get(f"/api/v1/clues/{clue['id']}", headers=discipline).get_json()["content"] == secret
    _complete(client, discipline, "receive_clue", {"received": True})
    _complete(client, discipline, "dispose_clue", {"disposition": "case_filed", "people_count": 2})
    done = client.get(f"/api/v1/clues/{clue['id']}", headers=office).get_json()
    assert done["status"] == "disposed" and done["disposition"] == "case_filed"
    assert done["handed_over_at"] and done["received_at"] and "content" not in done
    stats = client.get("/api/v1/stats", headers=office, query_string={"round_id": round_id}).get_json()
    assert (stats["cases_filed"], stats["people_filed"]) == (before["cases_filed"] + 1, before["people_filed"] + 2)


def test_conflicted_inspector_is_refused_with_a_clear_error(client, demo):
    units, users, as_ = demo
    office = as_("office1")
    inspector = users["inspector2"]
    r = client.put(f"/api/v1/pools/inspectors/{inspector.id}", headers=office, json={
        "specialties": ["审计"], "home_unit_id": units["D07"].id, "conflict_unit_ids": [units["S03"].id]})
    assert r.status_code == 200, r.get_json()
    r = client.post("/api/v1/rounds", headers=office, json={
        "name": "冲突测试", "inspected_unit_ids": [units["S03"].id, units["D01"].id], "inspector_ids": [inspector.id]})
    assert r.status_code == 422
    message = r.get_json()["errors"][0]["message"]
    assert inspector.username in message and units["S03"].name in message
    r = client.post("/api/v1/rounds", headers=office, json={
        "name": "回避后", "inspected_unit_ids": [units["D01"].id], "inspector_ids": [inspector.id]})
    assert r.status_code == 201
    pool = client.get("/api/v1/pools/inspectors", headers=office).get_json()["items"]
    assert next(i for i in pool if i["user_id"] == inspector.id)["conflict_unit_ids"] == [units["S03"].id]
    # co-audit experts and audit findings linked to a problem (巡审结合)
    expert = _post(client, office, "/pools/experts", json={"name": "审计专家甲", "organisation": "区审计局",
                                                            "specialties": ["工程审计"]})
    problem_id = client.get("/api/v1/rounds/2", headers=office).get_json()["problems"][0]
    finding = _post(client, office, "/audit-findings", json={
        "round_id": 2, "unit_id": problem_id["unit_id"], "title": "工程结算审计发现多付款", "expert_id": expert["id"],
        "problem_id": problem_id["id"]})
    assert finding["problem_id"] == problem_id["id"]
    other_unit = next(u for u in units.values() if u.id != problem_id["unit_id"])
    r = client.post("/api/v1/audit-findings", headers=office, json={
        "unit_id": other_unit.id, "title": "x", "problem_id": problem_id["id"]})
    assert r.status_code == 422


def test_leaders_acknowledge_and_the_office_sees_it(client, demo):
    units, users, as_ = demo
    leader = as_("leader_li")
    pending = client.get("/api/v1/notifications", headers=leader, query_string={"pending": "true"}).get_json()
    assert pending["total"] == 1 and pending["items"][0]["kind"] == "list"
    note_id = pending["items"][0]["id"]
    assert client.post(f"/api/v1/notifications/{note_id}/acknowledge", headers=as_("leader_zhang")).status_code == 404
    assert client.post(f"/api/v1/notifications/{note_id}/acknowledge", headers=leader).status_code == 200
    assert client.post(f"/api/v1/notifications/{note_id}/acknowledge", headers=leader).status_code == 409
    seen = client.get("/api/v1/notifications", headers=as_("office1"), query_string={"round_id": 1}).get_json()
    acked = [n for n in seen["items"] if n["id"] == note_id]
    assert acked[0]["acknowledged_at"] and seen["total"] == 6


def test_evidence_review_and_follow_up_recheck_keep_history(client, demo):
    units, users, as_ = demo
    office, liaison = as_("office1"), as_("c04_liaison")
    case = client.get("/api/v1/cases", headers=liaison, query_string={"round_id": 1}).get_json()["items"][0]
    assert case["status"] == "closed"
    evidence = _post(client, liaison, f"/cases/{case['id']}/evidence", expect=422,
                     data={"file": (io.BytesIO(b"%PDF-1.4"), "late.pdf")}, content_type="multipart/form-data")
    assert "closed" in evidence["detail"]
    recheck = _post(client, office, f"/cases/{case['id']}/recheck", expect=200, json={"comment": "回头看抽查"})
    assert recheck["status"] == "rectifying" and recheck["process_instance_id"] != case["process_instance_id"]
    assert client.get("/api/v1/tasks", headers=liaison, query_string={"bpmn_id": "self_check"}).get_json()["total"] == 0
    rectify = _task(client, liaison, "rectify")
    assert rectify
    uploaded = _post(client, liaison, f"/cases/{case['id']}/evidence",
                     data={"file": (io.BytesIO(b"%PDF-1.4 recheck"), "回头看.pdf")}, content_type="multipart/form-data")
    reviewed = _post(client, office, f"/evidence/{uploaded['id']}/review", expect=200,
                     json={"result": "rejected", "comment": "材料不清晰"})
    assert reviewed["review"] == "rejected"
    assert client.post(f"/api/v1/evidence/{uploaded['id']}/review", headers=liaison,
                       json={"result": "accepted"}).status_code == 403
    content = client.get(f"/api/v1/evidence/{uploaded['id']}/content", headers=liaison)
    assert content.data == b"%PDF-1.4 recheck" and content.headers["X-Evidence-SHA256"] == uploaded["sha256"]
    assert client.get(f"/api/v1/evidence/{uploaded['id']}/content", headers=as_("c05_liaison")).status_code == 404
    kinds = [r["kind"] for r in client.get("/api/v1/lists/supervision", headers=office,
                                           query_string={"round_id": 1, "unit_id": units["C04"].id}).get_json()["items"]]
    assert kinds == ["recheck"]
    # the first pass's records are still there
    rect = client.get("/api/v1/lists/rectifications", headers=office,
                      query_string={"round_id": 1, "unit_id": units["C04"].id}).get_json()["items"]
    assert rect and all(r["case_status"] == "rectifying" for r in rect)


def test_the_demo_auditor_has_findings_of_the_closed_round(client, demo):
    units, users, as_ = demo
    auditor = as_("shenji1")
    found = client.get("/api/v1/audit-findings", headers=auditor, query_string={"round_id": 1}).get_json()
    assert found["total"] == 2 and sum(f["problem_id"] is not None for f in found["items"]) == 1
    experts = client.get("/api/v1/rounds/1/experts", headers=as_("office1")).get_json()["items"]
    assert [e["name"] for e in experts] == ["陈会计师"]
    assert client.get("/api/v1/clues", headers=auditor).status_code == 403
