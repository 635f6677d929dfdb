"""The Content-Security-Policy: on every HTML response of the service (pages, error pages, login),
not on the API's JSON, not on downloads; served BPMN keeps its sandbox. The browser tests prove the
pages work under it (tests/browser/conftest.py fails a test on any violation)."""
from __future__ import annotations

import base64
import hashlib

import bpmn_snippets as B
from support.pages import Pages
from support.rounds import publish_round

from service import DMN_WATERMARK_STYLES, PAGE_CSP


def directives(header: str) -> dict[str, list[str]]:
    parsed = {}
    for part in header.split(";"):
        name, *values = part.split()
        assert name not in parsed, f"{name} twice"
        parsed[name] = values
    return parsed


def test_the_policy_is_strict():
    policy = directives(PAGE_CSP)
    assert policy["default-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["base-uri"] == ["'self'"]
    assert policy["form-action"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert "script-src" not in policy and "script-src-elem" not in policy and "script-src-attr" not in policy
    assert "'unsafe-eval'" not in PAGE_CSP and "'unsafe-inline'" not in PAGE_CSP
    assert "*" not in PAGE_CSP and "http:" not in PAGE_CSP and "https:" not in PAGE_CSP
    assert policy["img-src"] == ["'self'", "data:"]
    assert policy["style-src"] == ["'self'"]
    # exactly the two style attributes bpmn-js-properties-panel writes in markup, and those of the
    # bpmn.io watermark that dmn-js writes in markup
    allowed = {base64.b64encode(hashlib.sha256(s.encode()).digest()).decode()
               for s in ("height: 100%", "flex: none; height: auto", *DMN_WATERMARK_STYLES)}
    assert policy["style-src-attr"][0] == "'unsafe-hashes'"
    assert {v.removeprefix("'sha256-").removesuffix("'") for v in policy["style-src-attr"][1:]} == allowed


def test_login_pages_and_error_pages_carry_the_policy(client, district):
    web = Pages(client)
    login = client.get("/login")
    assert login.status_code == 200 and login.mimetype == "text/html"
    assert login.headers["Content-Security-Policy"] == PAGE_CSP
    refused = client.post("/login", data={"username": "office1", "password": "wrong", "csrf_token": "x"})
    assert refused.mimetype == "text/html" and refused.headers["Content-Security-Policy"] == PAGE_CSP
    web.login("office1")
    for path in ("/inbox", "/done", "/rounds", "/designer/", "/instances/", "/dashboard/"):
        r = client.get(path)
        assert r.status_code == 200 and r.mimetype == "text/html", path
        assert r.headers["Content-Security-Policy"] == PAGE_CSP, path
        assert r.headers["X-Frame-Options"] == "DENY" and r.headers["X-Content-Type-Options"] == "nosniff"
    for path, status in (("/cases/999999", 404), ("/no-such-page", 404), ("/tasks/not-a-task", 404)):
        r = client.get(path)
        assert r.status_code == status and r.mimetype == "text/html", path
        assert r.headers["Content-Security-Policy"] == PAGE_CSP, path


def test_html_fragments_for_htmx_carry_it_too(client, ctx, district):
    publish_round(ctx, district)
    web = Pages(client)
    web.login("office1")
    r = client.get("/inbox", headers={"HX-Request": "true"})
    assert r.status_code == 200 and r.mimetype == "text/html"
    assert r.headers["Content-Security-Policy"] == PAGE_CSP


def test_api_json_and_downloads_do_not(client, ctx, district, api):
    round_id, _ = publish_round(ctx, district)
    office = api.as_("office1")
    for r in (office.get("/tasks"), office.get("/stats"), office.get("/cases/999999"),
              client.get("/api/v1/tasks"), client.post("/api/v1/auth/token", json={"username": "x", "password": "y"})):
        assert r.mimetype in ("application/json", "application/problem+json"), r.mimetype
        assert "Content-Security-Policy" not in r.headers
    workbook = office.get("/lists/problems", query_string={"round_id": round_id, "format": "xlsx"})
    assert workbook.status_code == 200 and "Content-Security-Policy" not in workbook.headers

    web = Pages(client)
    web.login("office1")
    download = client.get(f"/dashboard/lists/problems.xlsx?round_id={round_id}")
    assert download.status_code == 200 and "Content-Security-Policy" not in download.headers
    data = client.get(f"/dashboard/data.json?round_id={round_id}")
    assert data.status_code == 200 and "Content-Security-Policy" not in data.headers


def test_served_bpmn_keeps_its_sandbox(client, district, api):
    designer = api.as_("designer1")
    assert designer.post("/process-models", data=B.one_task(), content_type="application/xml").status_code == 201
    xml = designer.get("/process-models/simple/versions/1/bpmn")
    assert xml.headers["Content-Security-Policy"] == "sandbox"
    web = Pages(client)
    web.login("designer1")
    page_xml = client.get("/designer/models/simple/versions/1/bpmn")
    assert page_xml.status_code == 200 and page_xml.headers["Content-Security-Policy"] == "sandbox"
