"""The demo district: shaped like the report, one round closed out through the real workflows."""
from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from service.demo import seed_demo


@pytest.fixture
def database_url(seeded_demo_database_url):
    return seeded_demo_database_url


def test_seed_demo_builds_the_district_and_a_closed_round(demo_seed, ctx, client):
    """seed_demo ran once on what create_app makes of an empty database (the demo_seed fixture, which
    the other demo tests copy too); here: what it said, and a copy of what it wrote."""
    assert "round 1 closed out" in demo_seed.message
    assert "already" in seed_demo(ctx), "seeding twice does not duplicate the district"

    def login(username):
        r = client.post("/api/v1/auth/token", json={"username": username, "password": ctx.settings.demo_password})
        assert r.status_code == 200, username
        return {"Authorization": f"Bearer {r.get_json()['token']}"}

    admin = login("admin")
    units = client.get("/api/v1/units", headers=admin, query_string={"limit": 500}).get_json()["items"]
    kinds = [u["kind"] for u in units]
    assert (kinds.count("department"), kinds.count("street"), kinds.count("company")) == (12, 6, 22)

    office = login("office1")
    stats = client.get("/api/v1/stats", headers=office, query_string={"round_id": 1}).get_json()
    assert stats["common_problems"] == 8 and stats["units_total"] == 40 and stats["units_closed"] == 40
    assert stats["recommendation_letters"] == 8 and stats["problems_found"] > 0 and stats["measures"] > 0
    round_body = client.get("/api/v1/rounds/1", headers=office).get_json()
    assert "工程项目建设监管不严" in [c["title"] for c in round_body["common_problems"]]
    assert client.get("/api/v1/rounds/2", headers=office).get_json()["status"] == "discovering"

    # every unit's liaison and head can log in and sees only their own case
    liaison = login("c04_liaison")
    cases = client.get("/api/v1/cases", headers=liaison).get_json()
    assert cases["total"] == 1
    # the rectification ledger downloads as a workbook with Chinese headers and a frozen header row
    r = client.get("/api/v1/lists/rectifications", headers=office, query_string={"round_id": 1, "format": "xlsx"})
    sheet = load_workbook(io.BytesIO(r.data)).active
    assert sheet.title == "整改清单" and sheet["A1"].value == "案件编号" and sheet.freeze_panes == "A2"
    json_rows = client.get("/api/v1/lists/rectifications", headers=office, query_string={"round_id": 1}).get_json()
    assert sheet.max_row == json_rows["total"] + 1
    assert [c.value for c in sheet[2]][:3] == [json_rows["items"][0][k] for k in ("case_id", "unit", "common_problem")]
    mine = client.get("/api/v1/lists/rectifications", headers=liaison, query_string={"round_id": 1}).get_json()
    assert {row["case_id"] for row in mine["items"]} == {cases["items"][0]["id"]}
