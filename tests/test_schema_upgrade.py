"""The schema is kept by migrations (service/schema.py, service/migrations): the newest revision is what
the models say; a database of an earlier release, made before migrations or stamped with an older
revision, comes up to this one with its data, and the service works on it."""
from __future__ import annotations

import sqlite3
import threading
from contextlib import closing, contextmanager
from datetime import UTC
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import DateTime, create_engine, func, inspect, select, text
from support.district import PASSWORD
from support.fixtures import AUDIT_KEY
from support.schema import made_before_migrations

from config import Settings
from service import audit, cli, create_app, schema
from service.db import create_schema, make_engine
from service.models import Case, CommonProblem, Round, Unit
from workflows.tables import HumanTask, ProcessInstance

# A database of the release before publication jobs and migrations (commit 96a0fe7), made by that
# release's own code: its district, a published round whose unit u002 has done its self-check and
# uploaded evidence, a second round in discovery with a clue, an expert and an audit finding
# (tests/support/fuzzing.populate of that release); dumped with sqlite3's .dump.
BEFORE_MIGRATIONS = Path(__file__).parent / "fixtures" / "before_migrations.sql"
ADDED = ("error_code", "error_element", "failures", "retry_at")


def _differences(engine) -> list:
    """What the database lacks or has beyond the models, as `alembic check` finds it."""
    with engine.connect() as conn:
        return compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), list(schema.METADATA))


@contextmanager
def _empty_database(tmp_path: Path, postgres):
    """A database with nothing in it, on the server the suite runs on."""
    if postgres is None:
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    name = postgres.create()
    try:
        yield postgres.url_of(name)
    finally:
        postgres.drop(name)


def _load_before_migrations(url: str, tmp_path: Path) -> None:
    """The fixture's database at `url`: on SQLite the dump itself; on PostgreSQL the schema of then
    (the baseline revision, a snapshot of it) with the dump's rows copied over, as a PostgreSQL
    installation of that release held them, and no migrations' stamp."""
    dumped = tmp_path / "before.db"
    with closing(sqlite3.connect(dumped)) as conn:
        conn.executescript(BEFORE_MIGRATIONS.read_text())
    if url.startswith("sqlite"):
        Path(url.removeprefix("sqlite:///")).write_bytes(dumped.read_bytes())
        return
    baseline = ScriptDirectory.from_config(schema.config()).get_revision("0001").module.snapshot()
    source, target = create_engine(f"sqlite:///{dumped}"), make_engine(url)
    with target.begin() as conn:
        command.upgrade(schema.config(conn), "0001")
        made_before_migrations(conn)
    with source.connect() as read, target.begin() as write:
        write.execute(text("SET session_replication_role = replica"))  # units and users name each other
        for table in baseline.sorted_tables:
            rows = [dict(r._mapping) for r in read.execute(select(table))]
            for row in rows:  # SQLite keeps no zone: the values are UTC, as the service wrote them
                for column in table.columns:
                    if isinstance(column.type, DateTime) and row[column.name] is not None:
                        row[column.name] = row[column.name].replace(tzinfo=UTC)
            if rows:
                write.execute(table.insert(), rows)
            key = table.autoincrement_column  # a serial column: its sequence goes on after the rows' ids
            if rows and key is not None:
                write.execute(text(f"SELECT setval(pg_get_serial_sequence('\"{table.name}\"', '{key.name}'), "
                                   f"(SELECT max({key.name}) FROM \"{table.name}\"))"))
    source.dispose()
    target.dispose()


def test_the_revisions_in_turn_make_what_the_models_say(tmp_path, postgres):
    """`alembic check`: upgraded through every revision, an empty database is exactly the models'
    schema; and every revision goes back down."""
    with _empty_database(tmp_path, postgres) as url:
        engine = make_engine(url)
        try:
            with engine.begin() as conn:
                command.upgrade(schema.config(conn), "head")
            assert _differences(engine) == []
            assert schema.current(engine) == schema.head()
            with engine.begin() as conn:
                command.downgrade(schema.config(conn), "base")
            assert set(inspect(engine).get_table_names()) == {"alembic_version"}
        finally:
            engine.dispose()


def test_a_new_database_is_made_from_the_models_and_stamped_with_the_newest_revision(ctx):
    assert schema.current(ctx.db.engine) == schema.head() != ""
    assert _differences(ctx.db.engine) == []


def test_a_database_made_before_migrations_comes_up_with_its_data_and_works(tmp_path, postgres):
    with _empty_database(tmp_path, postgres) as url:
        _load_before_migrations(url, tmp_path)
        app = create_app(Settings(instance_dir=tmp_path / "instance", database_url=url, secret_key="test",
                                  audit_key=AUDIT_KEY))
        ctx = app.extensions["rectiflow"]
        try:
            assert schema.current(ctx.db.engine) == schema.head()
            assert _differences(ctx.db.engine) == []
            with ctx.db.read() as s:
                assert s.scalar(select(func.count()).select_from(Case)) == 6
                assert s.scalar(select(func.count()).select_from(Unit)) == 9
                assert audit.verify(s, AUDIT_KEY).ok, "the audit log's chain holds over the old rows"
                unit = s.scalar(select(Unit.id).where(Unit.code == "U003"))
                round_ids = list(s.scalars(select(Round.id).order_by(Round.id)))
                commons = list(s.scalars(select(CommonProblem.id).join(Round)
                                         .where(Round.name == "区委第一轮巡察").order_by(CommonProblem.id)))

            client = app.test_client()

            def login(username: str) -> dict:
                r = client.post("/api/v1/auth/token", json={"username": username, "password": PASSWORD})
                assert r.status_code == 200, r.get_json()
                return {"Authorization": f"Bearer {r.get_json()['token']}"}

            office = login("office1")
            rounds = [client.get(f"/api/v1/rounds/{r}", headers=office).get_json() for r in round_ids]
            assert [r["name"] for r in rounds] == ["区委第一轮巡察", "区委第二轮巡察"]
            assert [c["title"] for c in rounds[0]["common_problems"]] == ["工程项目建设监管不严", "政府合同管理不规范"]

            done = login("u002_liaison")
            case = client.get("/api/v1/cases", headers=done).get_json()["items"][0]
            evidence = client.get(f"/api/v1/cases/{case['id']}/evidence", headers=done).get_json()["items"]
            assert [e["filename"] for e in evidence] == ["整改报告.pdf"]

            # an instance the old release started goes on under this one
            liaison = login("u003_liaison")
            task = client.get("/api/v1/tasks", headers=liaison, query_string={"bpmn_id": "self_check"}).get_json()
            assert len(task["items"]) == 1 and task["items"][0]["unit_id"] == unit
            r = client.post(f"/api/v1/tasks/{task['items'][0]['id']}/complete", headers=liaison, json={"data": {"items": [
                {"common_problem_id": c, "applicable": False, "reason": "无", "problems_found": 0, "findings": "不涉及"}
                for c in commons]}})
            assert r.status_code == 200, r.get_json()
            with ctx.db.read() as s:
                assert s.scalar(select(func.count()).select_from(HumanTask).where(
                    HumanTask.unit_id == unit, HumanTask.bpmn_id == "self_check", HumanTask.state == "open")) == 0
                assert s.scalar(select(func.count()).select_from(ProcessInstance)) == 11
        finally:
            ctx.db.engine.dispose()


def test_the_scaled_mode_upgrades_by_command_and_its_processes_only_check(database_url, tmp_path, monkeypatch, capsys):
    """A database at an older revision: a process started with RECTIFLOW_SCHEMA_UPGRADE=0 stops and
    names the command; `rectiflow db upgrade` brings it up; then the process starts."""
    engine = make_engine(database_url)
    with engine.begin() as conn:
        command.downgrade(schema.config(conn), "0001")  # the release before publication jobs
    assert "job" not in inspect(engine).get_table_names()
    monkeypatch.setenv("RECTIFLOW_DATABASE_URL", database_url)
    monkeypatch.setenv("RECTIFLOW_INSTANCE_DIR", str(tmp_path / "instance"))
    monkeypatch.setenv("RECTIFLOW_SCHEMA_UPGRADE", "0")
    settings = Settings(secret_key="test", audit_key=AUDIT_KEY)
    assert settings.schema_upgrade is False

    with pytest.raises(schema.SchemaBehind, match="rectiflow db upgrade"):
        create_app(settings)
    capsys.readouterr()
    assert cli.main(["db", "current"]) == 1
    assert "database at revision 0001; this release: " + schema.head() in capsys.readouterr().out

    assert cli.main(["db", "upgrade"]) == 0
    assert capsys.readouterr().out == f"database at revision {schema.head()} (was 0001)\n"
    assert cli.main(["db", "upgrade"]) == 0
    assert capsys.readouterr().out == f"database at revision {schema.head()} (already)\n"
    assert cli.main(["db", "current"]) == 0
    assert "job" in inspect(engine).get_table_names() and _differences(engine) == []
    app = create_app(settings)
    assert app.extensions["rectiflow"].settings.schema_upgrade is False
    app.extensions["rectiflow"].db.engine.dispose()
    engine.dispose()


def test_processes_starting_together_upgrade_once(tmp_path, postgres):
    """On PostgreSQL several processes (app servers, workers) may start at once: they upgrade one
    after the other, the later finding the work done."""
    if postgres is None:
        pytest.skip("one process serves a SQLite database")
    with _empty_database(tmp_path, postgres) as url:
        engines = [make_engine(url) for _ in range(3)]
        failures: list[BaseException] = []

        def start(engine) -> None:
            try:
                schema.upgrade(engine)
            except BaseException as exc:  # noqa: BLE001 - reported below
                failures.append(exc)

        threads = [threading.Thread(target=start, args=(e,)) for e in engines]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert failures == []
        with engines[0].connect() as conn:
            assert conn.scalar(text("SELECT count(*) FROM alembic_version")) == 1
        assert _differences(engines[0]) == []
        for e in engines:
            e.dispose()


def test_an_earlier_releases_database_gains_the_new_columns_and_keeps_its_rows(ctx, api, district):
    office = api.as_("office1")
    round_id = office.post("/rounds", json={"name": "旧库轮次", "inspected_unit_ids": district.units[:1],
                                            "inspector_ids": district.inspectors[:1]}).get_json()["id"]
    with ctx.db.engine.begin() as conn:
        made_before_migrations(conn)
        conn.execute(text("DROP INDEX IF EXISTS ix_wf_instance_status"))
        for column in ADDED:
            conn.execute(text(f"ALTER TABLE wf_instance DROP COLUMN {column}"))
    assert not set(ADDED) & {c["name"] for c in inspect(ctx.db.engine).get_columns("wf_instance")}

    create_schema(ctx.db.engine)

    schema_now = inspect(ctx.db.engine)
    assert set(ADDED) <= {c["name"] for c in schema_now.get_columns("wf_instance")}
    assert "ix_wf_instance_status" in {i["name"] for i in schema_now.get_indexes("wf_instance")}
    with ctx.db.read() as s:
        instance = s.scalar(select(ProcessInstance))
        assert instance.status == "running" and instance.failures == 0 and instance.retry_at is None
    assert office.get(f"/rounds/{round_id}").get_json()["name"] == "旧库轮次"
    assert schema.current(ctx.db.engine) == schema.head()


def test_a_database_without_follow_ups_and_extensions_gains_them(ctx, api, district):
    """Measures' follow-up columns and the extension requests' table arrive with an upgrade."""
    followup = ("followup_instance_id", "done_at", "done_comment", "overdue_at")
    with ctx.db.engine.begin() as conn:
        made_before_migrations(conn)
        conn.execute(text("DROP TABLE extension_request"))
        for column in followup:
            conn.execute(text(f"ALTER TABLE measure DROP COLUMN {column}"))

    create_schema(ctx.db.engine)

    schema_now = inspect(ctx.db.engine)
    assert set(followup) <= {c["name"] for c in schema_now.get_columns("measure")}
    assert "extension_request" in schema_now.get_table_names()
    assert "measure_id" in {c["name"] for c in schema_now.get_columns("evidence")}


def test_a_database_of_the_release_with_jobs_but_before_migrations_keeps_its_jobs(ctx, api, district):
    """A database made by create_all between publication jobs and migrations already has the job
    table: the revision that adds it leaves it, with its rows, as it is."""
    from support.api import publish_round, run_jobs

    publish_round(api, district)
    run_jobs(api)
    with ctx.db.engine.begin() as conn:
        made_before_migrations(conn)
        jobs = conn.execute(text("SELECT id, state, done, total FROM job")).all()
    assert jobs and jobs[0].state == "done"

    create_schema(ctx.db.engine)

    assert schema.current(ctx.db.engine) == schema.head()
    with ctx.db.engine.connect() as conn:
        assert conn.execute(text("SELECT id, state, done, total FROM job")).all() == jobs
    assert api.as_("office1").get(f"/jobs/{jobs[0].id}").status_code == 200


def test_a_database_a_newer_release_upgraded_is_left_alone_with_a_reason(database_url, tmp_path, monkeypatch, capsys):
    """Started on a database whose revision it does not know (a newer release's), a release changes
    nothing and says what to do, rather than failing somewhere in the middle."""
    engine = make_engine(database_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    monkeypatch.setenv("RECTIFLOW_DATABASE_URL", database_url)
    monkeypatch.setenv("RECTIFLOW_INSTANCE_DIR", str(tmp_path / "instance"))
    with pytest.raises(schema.SchemaAhead, match="revision 9999, which a newer release made"):
        create_app(Settings(secret_key="test", audit_key=AUDIT_KEY))
    for command_ in ("upgrade", "current"):
        assert cli.main(["db", command_]) == 2
        assert "which a newer release made" in capsys.readouterr().err
    assert schema.current(engine) == "9999"
    engine.dispose()
