"""Who may see and do what, and what bad input gets back."""
from __future__ import annotations

import io

import pytest
from support.api import liaison, publish_round
from support.district import PASSWORD


def test_liaison_cannot_see_read_or_complete_another_units_task_or_case(api, district):
    d = district
    publish_round(api, d)
    mine, other = liaison(api, d, 2), liaison(api, d, 3)
    my_task = mine.tasks(bpmn_id="self_check")[0]
    their_task = other.tasks(bpmn_id="self_check")[0]
    assert my_task["unit_id"] == d.units[2] and their_task["unit_id"] == d.units[3]
    assert their_task["id"] not in [t["id"] for t in mine.tasks()]
    assert mine.get(f"/tasks/{their_task['id']}").status_code == 404
    r = mine.post(f"/tasks/{their_task['id']}/complete", json={"data": {"items": []}})
    assert r.status_code == 404
    assert r.headers["Content-Type"] == "application/problem+json"

    cases = mine.get("/cases").get_json()
    assert [c["unit_id"] for c in cases["items"]] == [d.units[2]]
    # the published list is everyone's; the problems found in other units are not
    round_body = mine.get(f"/rounds/{cases['items'][0]['round_id']}").get_json()
    assert round_body["common_problems"] and round_body["problems"] == []
    their_case = api.as_("office1").get("/cases", query_string={"unit_id": d.units[3]}).get_json()["items"][0]
    assert mine.get(f"/cases/{their_case['id']}").status_code == 404
    r = mine.post(f"/cases/{their_case['id']}/evidence", data={"file": (io.BytesIO(b"%PDF-1.4"), "a.pdf")},
                  content_type="multipart/form-data")
    assert r.status_code == 404
    # the same unit's head sees the task but may not do the liaison's work
    head = api.as_(f"{d.codes[d.units[2]].lower()}_head")
    assert head.get(f"/tasks/{my_task['id']}").status_code == 200
    assert head.post(f"/tasks/{my_task['id']}/complete", json={"data": {}}).status_code == 403


def test_leader_sees_only_the_portfolio(api, district):
    d = district
    publish_round(api, d)
    leader = api.as_("leader0")
    units = {c["unit_id"] for c in leader.get("/cases", query_string={"limit": 500}).get_json()["items"]}
    assert units == {u for i, u in enumerate(d.units) if i % 2 == 0}


def test_task_data_that_misses_the_form_is_422_naming_the_field(api, district):
    d = district
    round_id = publish_round(api, d, n_common=2)
    mine = liaison(api, d, 2)
    task = mine.tasks(bpmn_id="self_check")[0]
    form = mine.get(f"/tasks/{task['id']}").get_json()["form"]
    assert form["properties"]["items"]["type"] == "array"
    r = mine.post(f"/tasks/{task['id']}/complete", json={"data": {"items": [{"common_problem_id": "x"}]}})
    assert r.status_code == 422
    assert any(e["field"].startswith("items.0") for e in r.get_json()["errors"])
    common = api.as_("office1").get(f"/rounds/{round_id}").get_json()["common_problems"]
    only_one = [{"common_problem_id": common[0]["id"], "applicable": False, "reason": "无", "problems_found": 0,
                 "findings": "无"}]
    r = mine.post(f"/tasks/{task['id']}/complete", json={"data": {"items": only_one}})
    assert r.status_code == 422 and "missing" in r.get_json()["errors"][0]["message"]
    # nothing moved: the task is still open and the case still in self-check
    assert [t["id"] for t in mine.tasks(bpmn_id="self_check")] == [task["id"]]
    both = only_one + [{"common_problem_id": common[1]["id"], "applicable": True, "problems_found": 2,
                        "findings": "发现两处"}]
    mine.complete(task["id"], {"items": both})
    assert mine.post(f"/tasks/{task['id']}/complete", json={"data": {"items": both}}).status_code == 409


@pytest.mark.parametrize("body,content_type,status", [
    ("{not json", "application/json", 400),
    ("[1, 2]", "application/json", 422),
    ('{"name": 5}', "application/json", 422),
    ("name=x", "application/x-www-form-urlencoded", 400),
])
def test_bad_bodies_get_4xx_problem_json(api, district, body, content_type, status):
    r = api.as_("office1").post("/rounds", data=body, content_type=content_type)
    assert r.status_code == status
    problem = r.get_json()
    assert problem["status"] == status and problem["detail"]


def test_unknown_ids_and_wrong_roles(api, district):
    office, mine = api.as_("office1"), liaison(api, district, 2)
    assert office.get("/rounds/999").status_code == 404
    assert office.get("/tasks/not-a-task").status_code == 404
    assert office.get("/cases/999").status_code == 404
    r = mine.post("/rounds", json={"name": "x"})
    assert r.status_code == 403 and "office" in r.get_json()["detail"]
    r = office.post("/rounds", json={"name": "x", "inspected_unit_ids": [424242]})
    assert r.status_code == 422 and r.get_json()["errors"][0]["field"] == "inspected_unit_ids"
    assert office.get("/cases", query_string={"limit": "many"}).status_code == 400
    assert mine.get("/users").status_code == 403


def test_auth(client, district):
    assert client.get("/api/v1/tasks").status_code == 401
    assert client.get("/api/v1/tasks", headers={"Authorization": "Bearer nope"}).status_code == 401
    assert client.post("/api/v1/auth/token", json={"username": "office1", "password": "wrong"}).status_code == 401
    assert client.post("/api/v1/auth/token", json={"username": "ghost", "password": "x"}).status_code == 401
    r = client.post("/api/v1/auth/token", json={"username": "office1", "password": PASSWORD})
    body = r.get_json()
    assert body["user"]["roles"] == ["office"] and body["user"]["unit_id"] == district.office
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {body['token']}"}).get_json()
    assert me["username"] == "office1"
    assert client.get("/api/v1/health").get_json() == {"status": "ok", "database": "ok"}
    assert client.get("/api/v1/openapi.json").get_json()["openapi"].startswith("3.")


def test_repeated_failed_logins_lock_the_account(client, district):
    for _ in range(5):
        client.post("/api/v1/auth/token", json={"username": "designer1", "password": "wrong"})
    r = client.post("/api/v1/auth/token", json={"username": "designer1", "password": PASSWORD})
    assert r.status_code == 401 and "locked" in r.get_json()["detail"]


def test_evidence_checks_type_size_and_content(api, district, app):
    d = district
    publish_round(api, d)
    mine = liaison(api, d, 2)
    case_id = mine.get("/cases").get_json()["items"][0]["id"]

    def upload(content, name):
        return mine.post(f"/cases/{case_id}/evidence", data={"file": (io.BytesIO(content), name)},
                         content_type="multipart/form-data")

    # evidence belongs to rectification: before the self-check is done there is nothing to prove
    early = upload(b"%PDF-1.7 body", "整改报告.pdf")
    assert early.status_code == 422 and early.get_json()["code"] == "evidence_not_open"
    round_id = mine.get("/cases").get_json()["items"][0]["round_id"]
    common = mine.get(f"/rounds/{round_id}").get_json()["common_problems"]
    mine.complete(mine.tasks(step="self_check")[0]["id"], {"items": [
        {"common_problem_id": c["id"], "applicable": False, "reason": "无", "problems_found": 0, "findings": "不涉及"}
        for c in common]})

    ok = upload(b"%PDF-1.7 body", "整改报告.pdf")
    assert ok.status_code == 201
    import hashlib
    assert ok.get_json()["sha256"] == hashlib.sha256(b"%PDF-1.7 body").hexdigest()
    assert ok.get_json()["size"] == len(b"%PDF-1.7 body")
    assert upload(b"MZ\x90\x00", "tool.exe").status_code == 422
    assert upload(b"MZ\x90\x00 not a pdf", "fake.pdf").status_code == 422
    assert upload(b"", "empty.txt").status_code == 422
    big = b"%PDF-" + b"0" * (app.extensions["rectiflow"].settings.max_upload_mb * 1024 * 1024 + 10)
    assert upload(big, "big.pdf").status_code == 413


def test_the_openapi_document_describes_every_api_route(app):
    """Outside clients read the document: no route of /api/v1 is missing from it, nor a method."""
    import re

    from service.openapi import document

    shape = re.compile(r"\{\w+\}")
    described = {shape.sub("{}", path): {m.upper() for m in ops} for path, ops in document()["paths"].items()}
    missing = sorted(f"{method} {path}" for rule in app.url_map.iter_rules() if rule.endpoint.startswith("api.")
                     for path in [re.sub(r"<[^>]+>", "{}", rule.rule.removeprefix("/api/v1"))]
                     for method in rule.methods - {"HEAD", "OPTIONS"} if method not in described.get(path, set()))
    assert missing == []
