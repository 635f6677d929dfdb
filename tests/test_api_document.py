"""The API keeps to its OpenAPI document (service/openapi.py) where fuzzing it (test_api_fuzz) found
that it did not: each finding pinned down on its own."""
from __future__ import annotations


def test_a_method_the_path_does_not_take_is_answered_with_the_methods_it_does(client):
    r = client.open("/api/v1/units", method="TRACE")
    assert r.status_code == 405 and r.mimetype == "application/problem+json"
    assert set(r.headers["Allow"].replace(" ", "").split(",")) >= {"GET", "POST"}
