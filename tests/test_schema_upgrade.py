"""A database written by an earlier release starts under this one with its data and the new columns."""
from __future__ import annotations

from sqlalchemy import inspect, select, text

from service.db import create_schema
from workflows.tables import ProcessInstance

ADDED = ("error_code", "error_element", "failures", "retry_at")


def test_an_earlier_releases_database_gains_the_new_columns_and_keeps_its_rows(ctx, api, district):
    office = api.as_("office1")
    round_id = office.post("/rounds", json={"name": "旧库轮次", "inspected_unit_ids": district.units[:1],
                                            "inspector_ids": district.inspectors[:1]}).get_json()["id"]
    with ctx.db.engine.begin() as conn:
        conn.execute(text("DROP INDEX IF EXISTS ix_wf_instance_status"))
        for column in ADDED:
            conn.execute(text(f"ALTER TABLE wf_instance DROP COLUMN {column}"))
    assert not set(ADDED) & {c["name"] for c in inspect(ctx.db.engine).get_columns("wf_instance")}

    create_schema(ctx.db.engine)

    schema = inspect(ctx.db.engine)
    assert set(ADDED) <= {c["name"] for c in schema.get_columns("wf_instance")}
    assert "ix_wf_instance_status" in {i["name"] for i in schema.get_indexes("wf_instance")}
    with ctx.db.read() as s:
        instance = s.scalar(select(ProcessInstance))
        assert instance.status == "running" and instance.failures == 0 and instance.retry_at is None
    assert office.get(f"/rounds/{round_id}").get_json()["name"] == "旧库轮次"


def test_a_database_without_follow_ups_and_extensions_gains_them(ctx, api, district):
    """Measures' follow-up columns and the extension requests' table arrive with an upgrade."""
    followup = ("followup_instance_id", "done_at", "done_comment", "overdue_at")
    with ctx.db.engine.begin() as conn:
        conn.execute(text("DROP TABLE extension_request"))
        for column in followup:
            conn.execute(text(f"ALTER TABLE measure DROP COLUMN {column}"))

    create_schema(ctx.db.engine)

    schema = inspect(ctx.db.engine)
    assert set(followup) <= {c["name"] for c in schema.get_columns("measure")}
    assert "extension_request" in schema.get_table_names()
    assert "measure_id" in {c["name"] for c in schema.get_columns("evidence")}
