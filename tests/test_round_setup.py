"""The office sets a round up and corrects its list: conflicts of interest shown before a round is
saved and refused on saving; problems and common problems corrected or removed until the leading
group approves the list; each evidence file accepted, or rejected with an opinion."""
from __future__ import annotations

import io

import pytest
from support.api import liaison, publish_round, round_awaiting_approval

# Roles that may not set a round up or change its list (the office does; inspectors their own problems).
NOT_OFFICE = ("leading1", "leader0", "u002_liaison", "u002_head", "u000_liaison", "admin", "security1", "auditor1",
              "designer1", "discipline1")


def _field(body, field):
    return {(e["field"], e["code"]) for e in body.get("errors", []) if e.get("field") == field}


@pytest.fixture
def declared(api, district):
    """inspector0 comes from the first unit and has declared a conflict with the second."""
    d = district
    r = api.as_("office1").put(f"/pools/inspectors/{d.inspectors[0]}", json={
        "home_unit_id": d.units[2], "conflict_unit_ids": [d.units[3]], "specialties": ["工程建设"]})
    assert r.status_code == 200, r.get_json()
    return d


def test_conflicts_are_shown_before_saving_and_refused_on_saving(api, declared):
    d = declared
    office = api.as_("office1")
    picked = {"inspected_unit_ids": d.units[2:5], "inspector_ids": d.inspectors}
    r = office.post("/rounds/conflicts", json=picked)
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["conflicts"] == [
        {"inspector_id": d.inspectors[0], "unit_id": d.units[2], "reason": "home"},
        {"inspector_id": d.inspectors[0], "unit_id": d.units[3], "reason": "declared"}]
    # saving the same picks is refused, naming the field
    saved = office.post("/rounds", json={"name": "区委第五轮巡察", **picked})
    assert saved.status_code == 422 and saved.get_json()["code"] == "conflict_of_interest"
    assert _field(saved.get_json(), "inspector_ids") == {("inspector_ids", "conflict_of_interest")}
    # without the conflicting units there is none, and the round is saved
    fixed = {"inspected_unit_ids": d.units[4:6], "inspector_ids": d.inspectors}
    assert office.post("/rounds/conflicts", json=fixed).get_json() == {"conflicts": []}
    assert office.post("/rounds", json={"name": "区委第五轮巡察", **fixed}).status_code == 201


def test_the_conflict_check_is_the_office_s_and_names_bad_fields(api, district):
    d = district
    for username in (*NOT_OFFICE, "inspector0"):
        r = api.as_(username).post("/rounds/conflicts", json={"inspected_unit_ids": d.units[:1]})
        assert r.status_code == 403, username
    office = api.as_("office1")
    r = office.post("/rounds/conflicts", json={"inspected_unit_ids": [999999]})
    assert r.status_code == 422 and _field(r.get_json(), "inspected_unit_ids") == {("inspected_unit_ids", "unknown_unit")}
    r = office.post("/rounds/conflicts", json={"inspector_ids": [d.leaders[0]]})
    assert r.status_code == 422 and _field(r.get_json(), "inspector_ids") == {("inspector_ids", "not_an_inspector")}
    r = office.post("/rounds/conflicts", json={"inspector_ids": "all"})
    assert r.status_code == 422 and r.get_json()["errors"][0]["field"] == "inspector_ids"


def _round_with_problems(api, d):
    office = api.as_("office1")
    round_id = office.post("/rounds", json={"name": "轮次", "inspected_unit_ids": d.units[:3],
                                            "inspector_ids": d.inspectors}).get_json()["id"]
    ids = []
    for i, who in enumerate(("inspector0", "inspector1", "office1")):
        r = api.as_(who).post(f"/rounds/{round_id}/problems", json={
            "unit_id": d.units[i], "description": f"问题{i}：合同未经法律审核", "category": "合同管理"})
        assert r.status_code == 201, r.get_json()
        ids.append(r.get_json()["id"])
    return round_id, ids


def test_problems_are_corrected_by_the_office_and_their_own_inspector(api, district):
    d = district
    round_id, (mine, theirs, office_s) = _round_with_problems(api, d)
    inspector, office = api.as_("inspector0"), api.as_("office1")
    r = inspector.patch(f"/rounds/{round_id}/problems/{mine}", json={"description": "工程项目未公开招标",
                                                                       "category": "工程建设", "source": "audit"})
    assert r.status_code == 200, r.get_json()
    assert (r.get_json()["description"], r.get_json()["category"], r.get_json()["source"]) == (
        "工程项目未公开招标", "工程建设", "audit")
    # another inspector's problem is not theirs to correct
    r = inspector.patch(f"/rounds/{round_id}/problems/{theirs}", json={"category": "其他"})
    assert r.status_code == 403 and r.get_json()["code"] == "problem_not_yours"
    assert inspector.delete(f"/rounds/{round_id}/problems/{theirs}").status_code == 403
    # the office corrects any
    r = office.patch(f"/rounds/{round_id}/problems/{theirs}", json={"unit_id": d.units[4]})
    assert r.status_code == 200 and r.get_json()["unit_id"] == d.units[4]
    for username in NOT_OFFICE:
        assert api.as_(username).patch(f"/rounds/{round_id}/problems/{office_s}",
                                       json={"category": "x"}).status_code in (403,), username
        assert api.as_(username).delete(f"/rounds/{round_id}/problems/{office_s}").status_code == 403, username
    # bad input names the field
    r = office.patch(f"/rounds/{round_id}/problems/{mine}", json={"unit_id": 999999})
    assert r.status_code == 422 and _field(r.get_json(), "unit_id") == {("unit_id", "unknown_unit")}
    r = office.patch(f"/rounds/{round_id}/problems/{mine}", json={"source": "rumour"})
    assert r.status_code == 422 and r.get_json()["errors"][0]["field"] == "source"
    r = office.patch(f"/rounds/{round_id}/problems/{mine}", json={"description": ""})
    assert r.status_code == 422 and r.get_json()["errors"][0]["field"] == "description"
    assert office.patch(f"/rounds/{round_id}/problems/{mine}", json={}).status_code == 422
    assert office.patch(f"/rounds/{round_id}/problems/999999", json={"category": "x"}).status_code == 404
    # removed: gone from the round
    assert inspector.delete(f"/rounds/{round_id}/problems/{mine}").status_code == 204
    problems = office.get(f"/rounds/{round_id}").get_json()["problems"]
    assert [p["id"] for p in problems] == [theirs, office_s]
    assert inspector.delete(f"/rounds/{round_id}/problems/{mine}").status_code == 404


def test_common_problems_are_corrected_and_removed_by_the_office(api, district):
    d = district
    round_id, problems = _round_with_problems(api, d)
    office = api.as_("office1")
    cp = office.post(f"/rounds/{round_id}/common-problems", json={
        "title": "合同管理不规范", "category": "合同管理", "responsible_department_id": d.departments[0],
        "problem_ids": problems[:2]}).get_json()["id"]
    r = office.patch(f"/rounds/{round_id}/common-problems/{cp}", json={
        "title": "政府合同管理不规范", "responsible_department_id": d.departments[1], "problem_ids": problems[1:]})
    assert r.status_code == 200, r.get_json()
    assert (r.get_json()["title"], r.get_json()["responsible_department_id"]) == ("政府合同管理不规范", d.departments[1])
    body = office.get(f"/rounds/{round_id}").get_json()
    assert body["common_problems"][0]["problem_ids"] == problems[1:]
    for username in (*NOT_OFFICE, "inspector0"):
        assert api.as_(username).patch(f"/rounds/{round_id}/common-problems/{cp}",
                                       json={"title": "x"}).status_code == 403, username
        assert api.as_(username).delete(f"/rounds/{round_id}/common-problems/{cp}").status_code == 403, username
    r = office.patch(f"/rounds/{round_id}/common-problems/{cp}", json={"responsible_department_id": d.units[3]})
    assert r.status_code == 422 and _field(r.get_json(), "responsible_department_id") == {
        ("responsible_department_id", "not_a_department")}
    other, other_problems = _round_with_problems(api, d)
    r = office.patch(f"/rounds/{round_id}/common-problems/{cp}", json={"problem_ids": other_problems[:1]})
    assert r.status_code == 422 and _field(r.get_json(), "problem_ids") == {("problem_ids", "not_in_round")}
    r = office.patch(f"/rounds/{round_id}/common-problems/{cp}", json={"title": ""})
    assert r.status_code == 422 and r.get_json()["errors"][0]["field"] == "title"
    assert office.patch(f"/rounds/{other}/common-problems/{cp}", json={"title": "x"}).status_code == 404
    # removed: off the list, its problems ungrouped again
    assert office.delete(f"/rounds/{round_id}/common-problems/{cp}").status_code == 204
    body = office.get(f"/rounds/{round_id}").get_json()
    assert body["common_problems"] == [] and all(p["common_problem_id"] is None for p in body["problems"])


def test_nothing_changes_once_the_list_is_approved(api, district):
    d = district
    round_id = round_awaiting_approval(api, d)
    office = api.as_("office1")
    body = office.get(f"/rounds/{round_id}").get_json()
    pid, cp = body["problems"][0]["id"], body["common_problems"][0]["id"]
    # awaiting approval: still correctable
    assert office.patch(f"/rounds/{round_id}/common-problems/{cp}", json={"category": "合同管理"}).status_code == 200
    leading = api.as_("leading1")
    leading.complete(leading.tasks(bpmn_id="approve_list")[0]["id"], {"approved": True})
    for who in ("office1", "inspector0"):
        for r in (api.as_(who).patch(f"/rounds/{round_id}/problems/{pid}", json={"category": "x"}),
                  api.as_(who).delete(f"/rounds/{round_id}/problems/{pid}")):
            assert r.status_code == 409 and r.get_json()["code"] == "list_approved", who
    for r in (office.patch(f"/rounds/{round_id}/common-problems/{cp}", json={"title": "x"}),
              office.delete(f"/rounds/{round_id}/common-problems/{cp}")):
        assert r.status_code == 409 and r.get_json()["code"] == "list_approved"
    after = office.get(f"/rounds/{round_id}").get_json()
    assert after["problems"][0]["category"] == body["problems"][0]["category"]
    assert [c["id"] for c in after["common_problems"]] == [cp]


def _uploaded(api, d):
    round_id = publish_round(api, d)
    office = api.as_("office1")
    case = [c for c in office.get("/cases", query_string={"round_id": round_id}).get_json()["items"]
            if c["unit_id"] == d.units[2]][0]
    unit = liaison(api, d, 2)
    cp = office.get(f"/rounds/{round_id}").get_json()["common_problems"][0]["id"]
    unit.complete(unit.tasks(bpmn_id="self_check")[0]["id"], {"items": [
        {"common_problem_id": cp, "applicable": True, "problems_found": 1, "findings": "合同未审"}]})
    r = unit.post(f"/cases/{case['id']}/evidence", data={"file": (io.BytesIO(b"%PDF-1.4 report"), "整改报告.pdf")},
                  content_type="multipart/form-data")
    assert r.status_code == 201, r.get_json()
    return case, r.get_json()


def test_a_rejected_evidence_file_needs_an_opinion(api, district):
    case, uploaded = _uploaded(api, district)
    office = api.as_("office1")
    for body in ({"result": "rejected"}, {"result": "rejected", "comment": "   "}):
        r = office.post(f"/evidence/{uploaded['id']}/review", json=body)
        assert r.status_code == 422 and r.get_json()["code"] == "opinion_required"
        assert _field(r.get_json(), "comment") == {("comment", "opinion_required")}
    assert office.get(f"/cases/{case['id']}/evidence").get_json()["items"][0]["reviews"] == []
    r = office.post(f"/evidence/{uploaded['id']}/review", json={"result": "rejected", "comment": "盖章不清晰"})
    assert r.status_code == 200 and r.get_json()["review_comment"] == "盖章不清晰"
    assert office.post(f"/evidence/{uploaded['id']}/review", json={"result": "accepted"}).status_code == 200
    for username in NOT_OFFICE:
        assert api.as_(username).post(f"/evidence/{uploaded['id']}/review",
                                      json={"result": "accepted"}).status_code == 403, username


def test_a_removed_problem_leaves_its_audit_finding_unlinked(api, district):
    d = district
    round_id, problems = _round_with_problems(api, d)
    office = api.as_("office1")
    r = office.post("/audit-findings", json={"round_id": round_id, "unit_id": d.units[0], "title": "专项资金挪用",
                                             "problem_id": problems[0]})
    assert r.status_code == 201, r.get_json()
    assert office.delete(f"/rounds/{round_id}/problems/{problems[0]}").status_code == 204
    finding = [f for f in office.get("/audit-findings").get_json()["items"] if f["id"] == r.get_json()["id"]][0]
    assert (finding["title"], finding["problem_id"]) == ("专项资金挪用", None)
