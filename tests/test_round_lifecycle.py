"""One inspection round, discovery to close-out, through the HTTP API, with 40 units."""
from __future__ import annotations

from support.api import run_jobs
from support.district import build_district


def _round_task(api, username, bpmn_id):
    tasks = api.as_(username).tasks(bpmn_id=bpmn_id)
    assert len(tasks) == 1, tasks
    return tasks[0]


def test_full_round_with_40_units(ctx, api, password_hash):
    d = build_district(ctx, password_hash, n_units=40, n_departments=3)
    office, leading = api.as_("office1"), api.as_("leading1")
    inspector = api.as_("inspector0")

    r = office.post("/rounds", json={"name": "第一轮巡察", "inspected_unit_ids": d.units[:8],
                                     "inspector_ids": d.inspectors[:1]})
    assert r.status_code == 201, r.get_json()
    round_id = r.get_json()["id"]

    # discover: the round's inspector records problems while record_findings is open
    problem_ids = []
    for i, unit in enumerate(d.units[:8]):
        r = inspector.post(f"/rounds/{round_id}/problems", json={
            "unit_id": unit, "description": f"问题{i}：工程项目未按规定招标", "category": "工程建设",
            "source": ["inspection", "resident_report", "audit"][i % 3]})
        assert r.status_code == 201, r.get_json()
        problem_ids.append(r.get_json()["id"])
    # an inspector not in this round is neither shown the round nor allowed to record
    assert api.as_("inspector1").post(f"/rounds/{round_id}/problems", json={
        "unit_id": d.units[0], "description": "x", "category": "y"}).status_code == 404
    inspector.complete(_round_task(api, "inspector0", "record_findings")["id"], {})

    # list: three common problems, each governed by a department
    titles = ["工程项目建设监管不严", "便民服务项目管理不到位", "政府合同管理不规范"]
    for i, title in enumerate(titles):
        r = office.post(f"/rounds/{round_id}/common-problems", json={
            "title": title, "description": "说明", "category": "类别",
            "responsible_department_id": d.departments[i], "problem_ids": problem_ids[i * 2:i * 2 + 2]})
        assert r.status_code == 201, r.get_json()
    office.complete(_round_task(api, "office1", "distill_list")["id"], {})

    # approve, which publishes: 40 cases, 40 self-check tasks, letters and leader notifications
    leading.complete(_round_task(api, "leading1", "approve_list")["id"], {"approved": True})
    run_jobs(api)  # the publication opens the cases in the background
    cases = office.get("/cases", query_string={"round_id": round_id, "limit": 500}).get_json()
    assert cases["total"] == 40
    assert {c["unit_id"] for c in cases["items"]} == set(d.units)
    assert all(c["status"] == "self_check" for c in cases["items"])
    assert office.tasks(bpmn_id="self_check") == []  # the office does not do units' work

    round_body = office.get(f"/rounds/{round_id}").get_json()
    common_ids = [c["id"] for c in round_body["common_problems"]]
    assert round_body["status"] == "published" and len(common_ids) == 3

    case_by_unit = {c["unit_id"]: c for c in cases["items"]}
    totals = {"problems_found": 0}
    for n, unit in enumerate(d.units):
        code = d.codes[unit].lower()
        liaison, head = api.as_(f"{code}_liaison"), api.as_(f"{code}_head")
        mine = liaison.tasks(bpmn_id="self_check")
        assert [t["unit_id"] for t in mine] == [unit], "each liaison sees exactly their own unit's task"
        assert liaison.get("/cases").get_json()["total"] == 1

        items = [{"common_problem_id": cid, "applicable": (n + j) % 2 == 0, "problems_found": (n + j) % 3,
                  "findings": "自查发现问题若干", **({} if (n + j) % 2 == 0 else {"reason": "本单位无此类业务"})}
                 for j, cid in enumerate(common_ids)]
        totals["problems_found"] += sum(i["problems_found"] for i in items)
        liaison.complete(mine[0]["id"], {"items": items})

        rectify = liaison.tasks(bpmn_id="rectify")
        assert len(rectify) == 1
        r = liaison.post(f"/cases/{case_by_unit[unit]['id']}/evidence",
                         data={"file": (__import__("io").BytesIO(b"%PDF-1.4 evidence " + code.encode()), "佐证.pdf")},
                         content_type="multipart/form-data")
        assert r.status_code == 201, r.get_json()
        assert len(r.get_json()["sha256"]) == 64
        rect_items = [{"common_problem_id": cid, "status": "done",
                       "measures": [{"description": f"措施{k}", "deadline": "2027-01-31"} for k in range(1 + j)],
                       "institutions": [{"title": "《合同管理制度》"}] if j == 0 else []}
                      for j, cid in enumerate(common_ids)]
        liaison.complete(rectify[0]["id"], {"items": rect_items})
        assert liaison.tasks(bpmn_id="attest_and_file") == []  # the head attests, not the liaison
        head.complete(head.tasks(bpmn_id="attest_and_file")[0]["id"], {"attest": True})

    # supervise: return one filing, accept the rest
    reviews = office.tasks(bpmn_id="review_filing")
    assert len(reviews) == 40
    returned_unit = reviews[0]["unit_id"]
    for t in reviews:
        office.complete(t["id"], {"accepted": t["unit_id"] != returned_unit, "comment": "审核意见"})
    returned = office.get("/cases", query_string={"status": "returned"}).get_json()["items"]
    assert [c["unit_id"] for c in returned] == [returned_unit]

    code = d.codes[returned_unit].lower()
    liaison, head = api.as_(f"{code}_liaison"), api.as_(f"{code}_head")
    assert liaison.tasks(bpmn_id="self_check") == [], "a returned unit reworks, it does not self-check again"
    liaison.complete(liaison.tasks(bpmn_id="rectify")[0]["id"], {"items": [
        {"common_problem_id": common_ids[0], "status": "done", "measures": [{"description": "补充措施",
                                                                              "deadline": "2027-02-28"}],
         "institutions": []}]})
    head.complete(head.tasks(bpmn_id="attest_and_file")[0]["id"], {"attest": True})
    office.complete(_round_task(api, "office1", "review_filing")["id"], {"accepted": True})

    cases = office.get("/cases", query_string={"round_id": round_id, "limit": 500}).get_json()["items"]
    assert all(c["status"] == "closed" for c in cases)
    # every case closed: the round moves on to its summary
    summary = _round_task(api, "office1", "round_summary")
    office.complete(summary["id"], {"summary": "全部销号"})
    assert office.get(f"/rounds/{round_id}").get_json()["status"] == "closed"

    stats = office.get("/stats", query_string={"round_id": round_id}).get_json()
    # 40 units x (1 + 2 + 3) measures; the rework replaced the returned unit's first item
    # (1 measure, 1 institution) with 1 measure and no institution
    assert stats == {
        "round_id": round_id,
        "common_problems": 3,
        "problems_found": totals["problems_found"],
        "measures": 240,
        "institutions": 39,
        "recommendation_letters": 3,
        "cases_filed": 0,
        "people_filed": 0,
        "units_total": 40,
        "units_filed": 40,
        "units_closed": 40,
        "units_overdue": 0,
        "completion_rate": 1.0,
        "average_days_to_file": 0.0,  # everything happened within the test's minute
        "recurrence_rate": 0.0,  # the district's first round: nothing was closed before to recur
    }
