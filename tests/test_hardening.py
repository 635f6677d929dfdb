"""Hostile or careless input, and two requests at once: each gets a clear 4xx, never a 500 or a leak."""
from __future__ import annotations

import bpmn_snippets as B
import pytest
from sqlalchemy import select
from support.concurrency import at_once

from service.models import Case


@pytest.fixture
def database_url(demo_database_url):
    return demo_database_url


@pytest.fixture
def as_(client, ctx):
    tokens = {}

    def login(username):
        if username not in tokens:
            r = client.post("/api/v1/auth/token", json={"username": username, "password": ctx.settings.demo_password})
            assert r.status_code == 200, r.get_json()
            tokens[username] = {"Authorization": f"Bearer {r.get_json()['token']}"}
        return tokens[username]

    return login


def test_deployed_xml_is_never_rendered_by_a_browser(client, as_):
    body = B.one_task().replace(b"<bpmn:startEvent id=\"start\"/>", b"<bpmn:startEvent id=\"start\"/>"
                                b"<!-- <script>alert(1)</script> -->")
    r = client.post("/api/v1/process-models", headers=as_("designer1"), data=body, content_type="application/xml")
    assert r.status_code == 201
    xml = client.get("/api/v1/process-models/simple/versions/1/bpmn", headers=as_("designer1"))
    assert xml.headers["Content-Security-Policy"] == "sandbox"
    assert xml.headers["Content-Disposition"].startswith("attachment")
    assert xml.headers["X-Content-Type-Options"] == "nosniff"


def test_numbers_and_text_the_database_cannot_hold_are_4xx(client, as_):
    office = as_("office1")
    assert client.get("/api/v1/cases/9223372036854775808", headers=office).status_code == 404
    assert client.get("/api/v1/cases/2147483648", headers=office).status_code == 404
    assert client.get("/api/v1/cases", headers=office, query_string={"round_id": 2**63}).status_code == 400
    r = client.post("/api/v1/rounds/2/problems", headers=office,
                    json={"unit_id": 2**63, "description": "x", "category": "y"})
    assert r.status_code == 422 and r.get_json()["errors"][0]["field"] == "unit_id"
    r = client.post("/api/v1/rounds", headers=office, json={"name": "a\u0000b"})
    assert r.status_code == 422 and "NUL" in r.get_json()["errors"][0]["message"]
    r = client.post("/api/v1/rounds", headers=office, data='{"name": "\\ud800"}', content_type="application/json")
    assert r.status_code == 422
    r = client.post("/api/v1/rounds/2/common-problems", headers=office, json={
        "title": "长" * 400, "category": "x", "responsible_department_id": 4})
    assert r.status_code == 422


def test_designer_and_admin_lanes_go_to_the_office(ctx):
    from service.context import role_for_lane

    assert role_for_lane("流程设计") == "office" and role_for_lane("admin") == "office"
    assert role_for_lane("单位联络员") == "unit_liaison" and role_for_lane("Lane 1") == "office"


def test_a_due_date_that_is_not_a_time_fails_cleanly(client, as_):
    xml = B.one_task(pid="due_soon").replace(b'<bpmn:userTask id="task" name=',
                                             b'<bpmn:userTask id="task" camunda:dueDate="${\'soon\'}" name=')
    assert client.post("/api/v1/process-models", headers=as_("designer1"), data=xml,
                       content_type="application/xml").status_code == 201
    from workflows.engine import WorkflowFailure

    ctx = client.application.extensions["rectiflow"]
    with pytest.raises(WorkflowFailure, match="due date"):
        ctx.db.transaction(lambda s: ctx.engine.start(s, "due_soon", {}))


def test_clue_hand_overs_are_hidden_from_the_leading_group(client, as_):
    leading = as_("leading1")
    tasks = client.get("/api/v1/tasks", headers=as_("office1"), query_string={"bpmn_id": "approve_handover"})
    task = tasks.get_json()["items"][0]
    assert client.get(f"/api/v1/tasks/{task['id']}", headers=leading).status_code == 404


def test_unit_users_do_not_see_findings_before_the_list_is_published(client, as_):
    rows = client.get("/api/v1/lists/problems", headers=as_("d06_liaison"), query_string={"round_id": 2})
    assert rows.status_code == 200 and rows.get_json()["items"] == []
    assert client.get("/api/v1/lists/problems", headers=as_("office1"),
                      query_string={"round_id": 2}).get_json()["total"] > 0


def test_parallel_wrong_passwords_all_count_towards_the_lockout(app, ctx):
    def attempt():
        with app.test_client() as c:
            return c.post("/api/v1/auth/token", json={"username": "c02_head", "password": "wrong"}).status_code

    assert set(at_once(6, attempt)) == {401}
    r = app.test_client().post("/api/v1/auth/token",
                               json={"username": "c02_head", "password": ctx.settings.demo_password})
    assert r.get_json()["code"] == "account_locked", "six parallel failures reached the limit of five"


def test_two_rechecks_at_once_reopen_a_case_once(app, ctx, as_):
    office = as_("office1")
    with ctx.db.read() as s:
        case = s.scalar(select(Case).where(Case.round_id == 1, Case.status == "closed").order_by(Case.id))

    def recheck():
        with app.test_client() as c:
            return c.post(f"/api/v1/cases/{case.id}/recheck", headers=office, json={"comment": "回头看"}).status_code

    assert sorted(at_once(2, recheck)) == [200, 422]
    with ctx.db.read() as s:
        reopened = s.get(Case, case.id)
        assert reopened.previous_instance_ids == [case.process_instance_id]
