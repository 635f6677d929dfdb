"""The API keeps to its OpenAPI document (service/openapi.py) where fuzzing it (test_api_fuzz) found
that it did not: each finding pinned down on its own."""
from __future__ import annotations

import bpmn_snippets as B
import pytest
from support.district import PASSWORD

from service.openapi import document


def test_a_method_the_path_does_not_take_is_answered_with_the_methods_it_does(client):
    r = client.open("/api/v1/units", method="TRACE")
    assert r.status_code == 405 and r.mimetype == "application/problem+json"
    assert set(r.headers["Allow"].replace(" ", "").split(",")) >= {"GET", "POST"}


def _fits_document(method: str, path: str, body: dict) -> bool:
    """Whether `body` fits the request body the document describes for the operation."""
    from jsonschema import Draft202012Validator

    doc = document()
    content = doc["paths"][path][method]["requestBody"]["content"]
    schema = next(iter(content.values()))["schema"]
    return Draft202012Validator({**schema, "components": doc["components"]}).is_valid(body)


@pytest.mark.parametrize("method, path, body", [
    ("post", "/rounds", {"name": "轮次", "inspector_ids": [2**31]}),
    ("post", "/audit-findings", {"unit_id": -(2**31), "title": "发现"}),
    ("put", "/pools/inspectors/{id}", {"conflict_unit_ids": [10**12]}),
    ("post", "/tasks/{id}/complete", {"data": {"items": [{"problems_found": 2**40}]}}),
])
def test_integers_past_what_the_databases_hold_are_outside_the_document(api, district, method, path, body):
    """The service refuses them (422 invalid_body, out_of_range); the document said any integer."""
    office = api.as_("office1")
    r = getattr(office, method)(path.replace("{id}", str(district.inspectors[0])), json=body)
    assert r.status_code == 422 and r.get_json()["errors"][0]["code"] == "out_of_range"
    assert not _fits_document(method, path, body)


def test_a_new_password_shorter_than_the_service_takes_is_outside_the_document(api, district):
    body = {"current_password": PASSWORD, "new_password": "short"}
    r = api.as_("office1").post("/auth/password", json=body)
    assert r.status_code == 422 and r.get_json()["code"] == "password_too_short"
    assert not _fits_document("post", "/auth/password", body)
    assert _fits_document("post", "/auth/password", {**body, "new_password": "long enough now"})


def test_deploying_a_diagram_again_answers_a_documented_status(api, district):
    designer = api.as_("designer1")
    first = designer.post("/process-models", data=B.one_task(), content_type="application/xml")
    again = designer.post("/process-models", data=B.one_task(), content_type="application/xml")
    assert (first.status_code, again.status_code) == (201, 200) and again.get_json()["created"] is False
    assert {"200", "201"} <= set(document()["paths"]["/process-models"]["post"]["responses"])


@pytest.mark.parametrize("path, query", [("/units", {"kind": "district"}), ("/notifications", {"pending": "yes"})])
def test_a_filter_value_the_document_does_not_list_is_refused_not_ignored(api, district, path, query):
    """A misspelt filter used to answer as if it matched nothing (or had not been given)."""
    r = api.as_("office1").get(path, query_string=query)
    assert r.status_code == 400 and r.get_json()["code"] == "invalid_query", r.get_json()
    name, value = next(iter(query.items()))
    listed = next(p["schema"]["enum"] for p in document()["paths"][path]["get"]["parameters"] if p["name"] == name)
    assert value not in listed
