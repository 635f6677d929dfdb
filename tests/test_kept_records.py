"""Nothing a person recorded disappears when someone records again: every evidence review, every
version of an inspector's declarations, and the measures and filing of a case's first pass after a
follow-up re-check (回头看) are kept beside what came after them."""
from __future__ import annotations

import io

from support.api import liaison, publish_round
from support.district import user_id


def _case(api, d, round_id, index):
    office = api.as_("office1")
    return [c for c in office.get("/cases", query_string={"round_id": round_id}).get_json()["items"]
            if c["unit_id"] == d.units[index]][0]


def _file_case(api, d, round_id, index, measures, institutions=()):
    """Self-check (first pass only), rectify with `measures`, attest and file."""
    unit, code = liaison(api, d, index), d.codes[d.units[index]].lower()
    cp = api.as_("office1").get(f"/rounds/{round_id}").get_json()["common_problems"][0]["id"]
    checks = unit.tasks(bpmn_id="self_check")
    if checks:
        unit.complete(checks[0]["id"], {"items": [
            {"common_problem_id": cp, "applicable": True, "problems_found": 1, "findings": "合同未审"}]})
    unit.complete(unit.tasks(bpmn_id="rectify")[0]["id"], {"items": [{
        "common_problem_id": cp, "status": "done", "measures": [{"description": m, "deadline": "2027-01-31"}
                                                                for m in measures],
        "institutions": [{"title": t} for t in institutions]}]})
    head = api.as_(f"{code}_head")
    head.complete(head.tasks(bpmn_id="attest_and_file")[0]["id"], {"attest": True, "comment": "属实"})


def test_a_second_evidence_review_is_added_and_the_first_kept(ctx, api, district):
    d = district
    round_id = publish_round(api, d)
    case = _case(api, d, round_id, 2)
    unit = liaison(api, d, 2)
    cp = api.as_("office1").get(f"/rounds/{round_id}").get_json()["common_problems"][0]["id"]
    unit.complete(unit.tasks(bpmn_id="self_check")[0]["id"], {"items": [
        {"common_problem_id": cp, "applicable": True, "problems_found": 1, "findings": "合同未审"}]})
    uploaded = unit.post(f"/cases/{case['id']}/evidence", data={"file": (io.BytesIO(b"%PDF-1.4 report"), "报告.pdf")},
                         content_type="multipart/form-data").get_json()
    office = api.as_("office1")
    first = office.post(f"/evidence/{uploaded['id']}/review", json={"result": "rejected", "comment": "材料不清晰"})
    second = office.post(f"/evidence/{uploaded['id']}/review", json={"result": "accepted", "comment": "补正后清晰"})
    assert first.status_code == second.status_code == 200
    listed = office.get(f"/cases/{case['id']}/evidence").get_json()["items"][0]
    # the latest review is the current one, in the fields clients read already
    assert (listed["review"], listed["review_comment"]) == ("accepted", "补正后清晰")
    # and every review is on record: who, when, verdict, comment
    office_id = user_id(ctx, "office1")
    assert [(r["result"], r["comment"], r["reviewed_by"]) for r in listed["reviews"]] == [
        ("rejected", "材料不清晰", office_id), ("accepted", "补正后清晰", office_id)]
    assert all(r["reviewed_at"] for r in listed["reviews"])
    assert listed["reviews"][0]["reviewed_at"] <= listed["reviews"][1]["reviewed_at"] == listed["reviewed_at"]
    assert second.get_json()["reviews"] == listed["reviews"]


def test_a_cleared_conflict_of_interest_stays_on_record_and_still_bars_the_inspector(ctx, api, district):
    d = district
    office = api.as_("office1")
    inspector, unit = d.inspectors[0], d.units[3]
    declared = office.put(f"/pools/inspectors/{inspector}", json={"conflict_unit_ids": [unit], "note": "配偶任职"})
    assert declared.status_code == 200, declared.get_json()
    cleared = office.put(f"/pools/inspectors/{inspector}", json={"conflict_unit_ids": [], "note": None})
    assert cleared.status_code == 200 and cleared.get_json()["conflict_unit_ids"] == []
    # the conflict once declared still keeps the inspector from inspecting that unit
    r = office.post("/rounds", json={"name": "轮次", "inspected_unit_ids": [unit], "inspector_ids": [inspector]})
    assert r.status_code == 422 and r.get_json()["code"] == "conflict_of_interest", r.get_json()
    entry = [i for i in office.get("/pools/inspectors").get_json()["items"] if i["user_id"] == inspector][0]
    assert entry["conflict_unit_ids"] == [], "the current declaration is as last set"
    office_id = user_id(ctx, "office1")
    assert [(h["changed_by"], h["conflict_unit_ids"], h["conflicts_added"], h["conflicts_removed"], h["note"])
            for h in entry["history"]] == [(office_id, [unit], [unit], [], "配偶任职"), (office_id, [], [], [unit], None)]
    assert all(h["changed_at"] for h in entry["history"])
    assert office.post("/rounds", json={"name": "轮次", "inspected_unit_ids": [d.units[4]],
                                        "inspector_ids": [inspector]}).status_code == 201

