"""A unit's case found by its index in the district, and a case closed with measures of its own deadlines."""
from __future__ import annotations

from .api import liaison


def case_of(api, d, round_id, index):
    return [c for c in api.as_("office1").get("/cases", query_string={"round_id": round_id}).get_json()["items"]
            if c["unit_id"] == d.units[index]][0]


def close_with_measures(api, d, round_id, index, measures):
    """Self-check, rectify with `measures` (description, deadline), file with evidence, and close."""
    unit, code = liaison(api, d, index), d.codes[d.units[index]].lower()
    office = api.as_("office1")
    cp = office.get(f"/rounds/{round_id}").get_json()["common_problems"][0]["id"]
    unit.complete(unit.tasks(bpmn_id="self_check")[0]["id"], {"items": [
        {"common_problem_id": cp, "applicable": True, "problems_found": 1, "findings": "合同未审"}]})
    unit.complete(unit.tasks(bpmn_id="rectify")[0]["id"], {"items": [{
        "common_problem_id": cp, "status": "ongoing",
        "measures": [{"description": m, "deadline": when} for m, when in measures], "institutions": []}]})
    head = api.as_(f"{code}_head")
    case = case_of(api, d, round_id, index)
    head.attach_evidence(case["id"])
    head.complete(head.tasks(bpmn_id="attest_and_file")[0]["id"], {"attest": True, "comment": "属实"})
    office.complete(office.tasks(bpmn_id="review_filing", unit_id=d.units[index])[0]["id"], {"accepted": True})
    return case
