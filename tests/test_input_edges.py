"""Input at the edges of what the service can hold: each is refused with a coded 4xx that names
what was wrong, never a 500, and nothing of a refused request stays behind."""
from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select
from support.api import liaison, publish_round
from support.diagrams import round_with_timer
from support.pages import Pages

from service.models import Round, SelfCheckItem


# ------------------------------------------------------------------ JSON nested without end
@pytest.mark.parametrize("depth", [100, 1_000, 100_000])
def test_json_nested_too_deep_is_a_coded_400_on_every_json_endpoint(client, api, district, depth):
    deep_list = "[" * depth + "]" * depth
    r = client.post("/api/v1/auth/token", data=deep_list, content_type="application/json")
    assert r.status_code == 400 and r.get_json()["code"] == "json_too_deep", r.get_json()
    deep_data = '{"data": ' + '{"a": ' * depth + "1" + "}" * depth + "}"
    office = api.as_("office1")
    for path in ("/tasks/any/complete", "/rounds"):
        r = office.post(path, data=deep_data, content_type="application/json")
        assert r.status_code == 400 and r.get_json()["code"] == "json_too_deep", (path, r.get_json())
    with client.application.extensions["rectiflow"].db.read() as s:
        assert s.scalar(select(func.count()).select_from(Round)) == 0


def test_ordinarily_nested_json_still_works(api, district):
    r = api.as_("office1").post("/rounds", json={"name": "轮次", "inspected_unit_ids": district.units[:1],
                                                  "inspector_ids": district.inspectors[:1]})
    assert r.status_code == 201, r.get_json()


# ------------------------------------------------------------------ NUL in query and path parameters
@pytest.mark.parametrize("path", ["/tasks?bpmn_id=a%00b", "/units?kind=%00", "/users?role=x%00",
                                  "/lists/problems?industry=%00", "/lists/problems?status=%00",
                                  "/cases?status=%00", "/process-instances?status=%00",
                                  "/tasks?process_model=%00&step=%00", "/audit-findings?pending=%00"])
def test_a_nul_in_a_query_parameter_is_a_coded_400(api, district, path):
    r = api.as_("office1").get(path)
    assert r.status_code == 400, (r.status_code, r.get_json())
    body = r.get_json()
    assert body["code"] == "unstorable_input" and body["errors"][0]["code"] == "unstorable_text"


@pytest.mark.parametrize("path", ["/tasks/a%00b", "/process-models/a%00b/versions", "/lists/a%00b",
                                  "/process-models/a%00b/versions/1/bpmn"])
def test_a_nul_in_a_path_parameter_is_a_coded_404(api, district, path):
    r = api.as_("designer1").get(path)
    assert r.status_code == 404 and r.get_json()["code"] == "not_found", (r.status_code, r.get_json())


def test_a_nul_in_a_page_address_is_a_chinese_4xx_page(client, district):
    pages = Pages(client)
    pages.login("office1")
    r = pages.get("/inbox?process=%00")
    assert r.status_code == 400 and "无法保存" in r.get_data(as_text=True)
    r = pages.get("/tasks/a%00b")
    assert r.status_code == 404


# ------------------------------------------------------------------ evidence file names
def _self_checked(api, d, problems_found=1):
    publish_round(api, d)
    mine = liaison(api, d, 2)
    case = mine.get("/cases").get_json()["items"][0]
    common = mine.get(f"/rounds/{case['round_id']}").get_json()["common_problems"]
    return mine, case, common


def test_a_long_evidence_file_name_keeps_its_extension(api, district):
    mine, case, common = _self_checked(api, district)
    mine.complete(mine.tasks(step="self_check")[0]["id"], {"items": [
        {"common_problem_id": c["id"], "applicable": False, "reason": "本单位不涉及", "problems_found": 0, "findings": "不涉及"}
        for c in common]})
    name = "关于" + "整改落实情况" * 60 + "的报告.pdf"
    assert len(name) > 200
    r = mine.post(f"/cases/{case['id']}/evidence", data={"file": (io.BytesIO(b"%PDF-1.7 body"), name)},
                  content_type="multipart/form-data")
    assert r.status_code == 201, r.get_json()
    stored = r.get_json()["filename"]
    assert stored.endswith(".pdf") and len(stored) <= 200 and stored.startswith("关于整改落实情况")



@pytest.mark.parametrize("item_id", ["2147483648", "9223372036854775808"])
def test_an_evidence_item_id_past_what_the_databases_hold_names_no_item(api, district, item_id):
    """The id went to the database as it came, which PostgreSQL (past 2^31) and SQLite (past 2^63)
    refused with a 500."""
    mine, case, common = _self_checked(api, district)
    mine.complete(mine.tasks(step="self_check")[0]["id"], {"items": [
        {"common_problem_id": c["id"], "applicable": False, "reason": "本单位不涉及", "problems_found": 0, "findings": "不涉及"}
        for c in common]})
    r = mine.post(f"/cases/{case['id']}/evidence", content_type="multipart/form-data",
                  data={"file": (io.BytesIO(b"%PDF-1.7 body"), "报告.pdf"), "item_id": item_id})
    assert r.status_code == 422 and r.get_json()["code"] == "unknown_item", r.get_json()
    assert mine.get(f"/cases/{case['id']}/evidence").get_json()["total"] == 0

# ------------------------------------------------------------------ counts
@pytest.mark.parametrize("count", [2_147_483_647, 100_001])
def test_a_count_past_any_sensible_number_is_refused_naming_the_field(api, district, ctx, count):
    mine, case, common = _self_checked(api, district)
    task = mine.tasks(step="self_check")[0]["id"]
    body = mine.complete(task, {"items": [
        {"common_problem_id": c["id"], "applicable": True, "problems_found": count, "findings": "很多"}
        for c in common]}, expect=422)
    assert any(e["field"].endswith("problems_found") and e["code"] == "maximum" for e in body["errors"]), body
    with ctx.db.read() as s:
        assert s.scalar(select(func.count()).select_from(SelfCheckItem)) == 0
    mine.complete(task, {"items": [
        {"common_problem_id": c["id"], "applicable": True, "problems_found": 10_000, "findings": "很多"}
        for c in common]})


# ------------------------------------------------------------------ timer values
@pytest.mark.parametrize("kind, value", [
    ("timeDuration", '"P99999Y"'), ("timeDuration", '"P9999999D"'), ("timeDate", '"P99999Y"'),
    ("timeDate", '"PT1H"'), ("timeDate", '"not a date"'), ("timeCycle", '"R3/P99999Y"'),
])
def test_a_timer_value_no_clock_can_reach_is_refused_at_deploy_naming_the_timer(api, district, kind, value):
    r = api.as_("designer1").post("/process-models", data=round_with_timer(kind, value),
                                  content_type="application/xml")
    assert r.status_code == 422, r.get_json()
    errors = r.get_json()["errors"]
    assert [(e["element_id"], e["code"]) for e in errors] == [("remind", "timer_refused")]


@pytest.mark.parametrize("kind, value", [
    # ten million years: counted month by month, it would hold the request for minutes
    ("timeDuration", '"P" + str(round_id * 9999999) + "Y"'), ("timeDate", '"not a date" + str(round_id)'),
    ("timeDate", '"P" + str(round_id) + "D"'), ("timeDuration", "round_id"), ("timeDate", "None"),
])
def test_a_computed_timer_value_that_is_no_time_fails_the_request_with_a_coded_422(api, district, ctx, kind, value):
    r = api.as_("designer1").post("/process-models", data=round_with_timer(kind, value),
                                  content_type="application/xml")
    assert r.status_code == 201, r.get_json()  # only known when the round runs
    d = district
    r = api.as_("office1").post("/rounds", json={"name": "新轮次", "inspected_unit_ids": d.units[:1],
                                                  "inspector_ids": d.inspectors[:1]})
    assert r.status_code == 422, r.get_json()
    body = r.get_json()
    assert body["code"] == "timer_invalid" and body["errors"][0]["element_id"] == "remind", body
    with ctx.db.read() as s:
        assert s.scalar(select(func.count()).select_from(Round)) == 0, "nothing of the failed request stays"
