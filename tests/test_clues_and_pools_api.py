"""The clue library's filters, experts assigned to rounds, and the auditor's audit findings (巡审结合)
through the API: who may do what (403 for everyone else), and bad input refused naming the field."""
from __future__ import annotations

import pytest
from support.rounds import as_user, publish_round, record_problems, start_round

from service import clues

OTHERS = ("inspector0", "leading1", "leader0", "u000_liaison", "u002_head", "discipline1", "designer1", "admin",
          "security1", "auditor1")


@pytest.fixture
def published(ctx, district):
    round_id, _ = publish_round(ctx, district)
    return round_id


def _problems(api, round_id):
    return api.as_("office1").get(f"/rounds/{round_id}").get_json()["problems"]


def test_the_auditor_registers_findings_and_links_them_to_a_problem_of_the_unit(api, district, published):
    auditor = api.as_("shenji1")
    problem = _problems(api, published)[0]
    r = auditor.post("/audit-findings", json={"round_id": published, "unit_id": problem["unit_id"],
                                              "title": "工程结算多付款", "audit_ref": "审计报告1号"})
    assert r.status_code == 201, r.get_json()
    finding = r.get_json()
    assert finding["problem_id"] is None
    unlinked = auditor.get("/audit-findings", query_string={"linked": "false"}).get_json()
    assert [f["id"] for f in unlinked["items"]] == [finding["id"]]
    r = auditor.post(f"/audit-findings/{finding['id']}/link", json={"problem_id": problem["id"]})
    assert r.status_code == 200 and r.get_json()["problem_id"] == problem["id"]
    assert auditor.get("/audit-findings", query_string={"linked": "false"}).get_json()["total"] == 0
    # the office and the leading group read them; the office links too
    assert api.as_("leading1").get("/audit-findings").get_json()["total"] == 1
    assert api.as_("office1").get("/audit-findings", query_string={"round_id": published}).get_json()["total"] == 1


def test_a_finding_links_only_to_a_problem_of_its_unit_and_round(ctx, api, district, published):
    auditor = api.as_("shenji1")
    problems = _problems(api, published)
    first = problems[0]
    other_unit = next(p for p in problems if p["unit_id"] != first["unit_id"])
    finding = auditor.post("/audit-findings", json={"round_id": published, "unit_id": first["unit_id"],
                                                    "title": "发现"}).get_json()
    r = auditor.post(f"/audit-findings/{finding['id']}/link", json={"problem_id": other_unit["id"]})
    assert r.status_code == 422 and r.get_json()["errors"][0]["field"] == "problem_id"
    assert r.get_json()["errors"][0]["code"] == "other_unit"
    # a problem of the same unit in another round
    later = start_round(ctx, district, "第二轮")
    later_problems = record_problems(ctx, district, later)
    same_unit_later = next(pid for pid, unit in zip(later_problems, district.units[:3] * 2, strict=False)
                           if unit == first["unit_id"])
    r = api.as_("office1").post(f"/audit-findings/{finding['id']}/link", json={"problem_id": same_unit_later})
    assert r.status_code == 422 and r.get_json()["errors"][0]["code"] == "not_in_round"


def test_the_auditor_sees_no_problem_of_a_round_not_yet_published(ctx, api, district):
    round_id = start_round(ctx, district)
    problem_ids = record_problems(ctx, district, round_id)
    auditor = api.as_("shenji1")
    # the round is unknown to the auditor until its list is published
    r = auditor.post("/audit-findings", json={"round_id": round_id, "unit_id": district.units[0], "title": "x"})
    assert r.status_code == 422 and r.get_json()["errors"][0]["field"] == "round_id"
    finding = auditor.post("/audit-findings", json={"unit_id": district.units[0], "title": "x"}).get_json()
    r = auditor.post(f"/audit-findings/{finding['id']}/link", json={"problem_id": problem_ids[0]})
    assert r.status_code == 422 and r.get_json()["errors"][0]["code"] == "unknown_problem"


def test_audit_findings_refuse_every_other_role_and_name_bad_fields(api, district, published):
    problem = _problems(api, published)[0]
    finding = api.as_("shenji1").post("/audit-findings", json={"unit_id": problem["unit_id"], "title": "x"}).get_json()
    for username in OTHERS:
        user = api.as_(username)
        assert user.post("/audit-findings", json={"unit_id": problem["unit_id"], "title": "x"}).status_code == 403
        assert user.post(f"/audit-findings/{finding['id']}/link",
                         json={"problem_id": problem["id"]}).status_code == 403, username
        if username != "leading1":
            assert user.get("/audit-findings").status_code == 403, username
    auditor = api.as_("shenji1")
    for body, field in (({"title": "x"}, "unit_id"), ({"unit_id": problem["unit_id"], "title": ""}, "title"),
                        ({"unit_id": 999999, "title": "x"}, "unit_id")):
        r = auditor.post("/audit-findings", json=body)
        assert r.status_code == 422 and field in [e["field"] for e in r.get_json()["errors"]], r.get_json()
    r = auditor.post(f"/audit-findings/{finding['id']}/link", json={})
    assert r.status_code == 422 and r.get_json()["errors"][0]["field"] == "problem_id"
    assert auditor.get("/audit-findings", query_string={"linked": "maybe"}).status_code == 400


def test_experts_are_assigned_to_a_round_by_the_office(api, district, published):
    office = api.as_("office1")
    expert = office.post("/pools/experts", json={"name": "陈会计师", "organisation": "区审计局"}).get_json()
    r = office.post(f"/rounds/{published}/experts", json={"expert_id": expert["id"]})
    assert r.status_code == 201 and [e["id"] for e in r.get_json()["items"]] == [expert["id"]]
    again = office.post(f"/rounds/{published}/experts", json={"expert_id": expert["id"]})
    assert again.status_code == 201 and again.get_json()["total"] == 1  # assigning twice changes nothing
    assert office.get(f"/rounds/{published}/experts").get_json()["total"] == 1
    pool = office.get("/pools/experts").get_json()["items"]
    assert next(e for e in pool if e["id"] == expert["id"])["round_ids"] == [published]
    assert api.as_("admin").get(f"/rounds/{published}/experts").status_code == 200
    for username in (*OTHERS, "shenji1"):
        user = api.as_(username)
        assert user.post(f"/rounds/{published}/experts", json={"expert_id": expert["id"]}).status_code == 403
        assert user.delete(f"/rounds/{published}/experts/{expert['id']}").status_code == 403
        if username != "admin":
            assert user.get(f"/rounds/{published}/experts").status_code == 403, username
    r = office.post(f"/rounds/{published}/experts", json={"expert_id": 999999})
    assert r.status_code == 422 and r.get_json()["errors"][0]["field"] == "expert_id"
    r = office.post(f"/rounds/{published}/experts", json={"expert_id": "x"})
    assert r.status_code == 422 and r.get_json()["errors"][0]["field"] == "expert_id"
    assert office.post("/rounds/999999/experts", json={"expert_id": expert["id"]}).status_code == 404
    assert office.delete(f"/rounds/{published}/experts/{expert['id']}").status_code == 204
    assert office.get(f"/rounds/{published}/experts").get_json()["total"] == 0
    assert office.delete(f"/rounds/{published}/experts/{expert['id']}").status_code == 404


def test_the_clue_library_filters_by_unit_and_status(ctx, api, district):
    round_id = start_round(ctx, district)
    for unit, summary in ((district.units[0], "甲"), (district.units[1], "乙")):
        as_user(ctx, "inspector0", lambda s, p, unit=unit, summary=summary: clues.register(
            ctx, s, p, round_id, unit, summary, "内容" + summary))
    discipline = api.as_("discipline1")
    rows = discipline.get("/clues", query_string={"unit_id": district.units[1]}).get_json()["items"]
    assert [c["summary"] for c in rows] == ["乙"] and rows[0]["content"] == "内容乙"
    assert discipline.get("/clues", query_string={"status": "registered"}).get_json()["total"] == 2
    assert discipline.get("/clues", query_string={"status": "disposed"}).get_json()["total"] == 0
    assert discipline.get("/clues", query_string={"status": "lost"}).status_code == 400
    office_rows = api.as_("office1").get("/clues").get_json()["items"]
    assert len(office_rows) == 2 and all("content" not in c for c in office_rows)
    for username in ("shenji1", "leading1", "admin", "auditor1", "u000_liaison"):
        assert api.as_(username).get("/clues").status_code == 403, username
