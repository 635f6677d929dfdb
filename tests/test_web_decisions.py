"""The decisions page over the Flask test client: who may open and deploy, the new-decision template,
and a refused deploy worded in Chinese by code."""
from __future__ import annotations

from pathlib import Path

import pytest
from support.pages import session_login

CASE_ROUTE = (Path(__file__).parent / "fixtures" / "case_route.dmn").read_bytes()


@pytest.fixture
def web(client):
    return client


def post_xml(client, path, xml: bytes, token: str | None):
    return client.post(path, data=xml, content_type="application/xml", headers={"X-CSRFToken": token or ""})


def test_designers_deploy_the_office_reads_liaisons_are_refused(web, ctx, district):
    token = session_login(web, ctx, "designer1")
    assert "决策表（DMN）" in web.get("/designer/").get_data(as_text=True)  # linked from the designer
    assert "尚未部署任何决策" in web.get("/designer/decisions").get_data(as_text=True)
    r = post_xml(web, "/designer/decisions/deploy", CASE_ROUTE, token)
    assert r.status_code == 201 and r.get_json()["url"] == "/designer/decisions?key=case_route&version=1"
    html = web.get("/designer/decisions").get_data(as_text=True)
    assert 'id="rf-dmn-deploy"' in html and "整改分流" in html and "vendor/dmn/rectiflow-dmn.js" in html
    assert web.get("/designer/decisions/case_route/versions/1/dmn").data == CASE_ROUTE

    session_login(web, ctx, "office1")
    html = web.get("/designer/decisions?key=case_route&version=1").get_data(as_text=True)
    assert 'id="rf-dmn-deploy"' not in html and '"can_edit": false' in html

    token = session_login(web, ctx, f"{district.codes[district.units[2]].lower()}_liaison")
    assert web.get("/designer/decisions").status_code == 403
    assert post_xml(web, "/designer/decisions/deploy", CASE_ROUTE, token).status_code == 403


def test_a_refused_deploy_names_the_cell_in_chinese(web, ctx, district):
    token = session_login(web, ctx, "designer1")
    r = post_xml(web, "/designer/decisions/deploy", CASE_ROUTE.replace(b'hitPolicy="FIRST"', b'hitPolicy="ANY"'), token)
    assert r.status_code == 422 and r.mimetype == "application/problem+json"
    [error] = r.get_json()["errors"]
    assert error["element_id"] == "DecisionTable_route"
    assert error["message"] == "不支持命中策略 ANY；请使用 UNIQUE、FIRST 或 COLLECT"


def test_a_new_decision_from_the_template_deploys(web, ctx, district):
    token = session_login(web, ctx, "designer1")
    assert web.get("/designer/decisions/template.dmn?key=1bad").status_code == 400
    xml = web.get("/designer/decisions/template.dmn?key=route_rule&name=分流<>").data
    assert b'<decision id="route_rule" name="\xe5\x88\x86\xe6\xb5\x81&lt;&gt;">' in xml
    assert post_xml(web, "/designer/decisions/deploy", xml, token).get_json()["key"] == "route_rule"
