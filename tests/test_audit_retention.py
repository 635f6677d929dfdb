"""The audit log's retention (GB/T 22239: kept at least 180 days): `rectiflow audit prune` removes the
entries past RECTIFLOW_AUDIT_RETENTION_DAYS from the start of the chain, never a younger one, and
the chain still verifies from the cut; rows deleted by hand, the head row moved to hide it, do not."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert, inspect, select, text
from support.audit import entries, sql
from support.fixtures import AUDIT_KEY
from support.pages import Pages
from support.schema import made_before_migrations

from config import Settings, SettingsError
from service import audit
from service.cli import main
from service.db import create_schema
from service.models import AuditEntry, AuditHead


@pytest.fixture
def cli(monkeypatch, ctx, tmp_path, capsys):
    """`rectiflow audit …` against the test's database; its exit code and what it printed."""
    monkeypatch.setenv("RECTIFLOW_DATABASE_URL", ctx.settings.database_url)
    monkeypatch.setenv("RECTIFLOW_AUDIT_KEY", AUDIT_KEY)
    monkeypatch.setenv("RECTIFLOW_INSTANCE_DIR", str(tmp_path / "cli-instance"))

    def run(command: str) -> tuple[int, str]:
        capsys.readouterr()
        code = main(["audit", command])
        return code, capsys.readouterr().out

    return run


@pytest.fixture
def aged(ctx, clock) -> list[str]:
    """Logins 200, 181, 179 and 190 days ago, in that order, and one now: the targets, oldest first."""
    def login(name: str, days_ago: int) -> str:
        clock.move_to(datetime.now(UTC) - timedelta(days=days_ago))
        ctx.db.transaction(lambda s: audit.record(s, "login", name, f"user:{name}"))
        return f"user:{name}"

    made = [login("office1", 200), login("office2", 181), login("leading1", 179), login("inspector0", 190),
            login("inspector1", 0)]
    clock.move_to(datetime.now(UTC))
    return made


def test_a_retention_under_180_days_is_refused_naming_the_variable(monkeypatch, tmp_path):
    assert Settings(instance_dir=tmp_path, secret_key="k").audit_retention_days == 180
    monkeypatch.setenv("RECTIFLOW_AUDIT_RETENTION_DAYS", "179")
    with pytest.raises(SettingsError, match="RECTIFLOW_AUDIT_RETENTION_DAYS must be at least 180"):
        Settings(instance_dir=tmp_path, secret_key="k")
    monkeypatch.setenv("RECTIFLOW_AUDIT_RETENTION_DAYS", "365")
    assert Settings(instance_dir=tmp_path, secret_key="k").audit_retention_days == 365


def test_prune_removes_only_what_is_past_the_retention_and_the_chain_verifies_from_the_cut(ctx, aged, cli):
    second = entries(ctx)[1]
    code, out = cli("prune")
    assert code == 0 and "2 audit log entries older than 180 days removed (up to entry 2)" in out, out
    # the 190-day-old login came after a younger one: the chain is cut before the first younger entry
    assert [(e.id, e.target) for e in entries(ctx)] == [
        (3, aged[2]), (4, aged[3]), (5, aged[4]), (6, "audit-log")]
    sealed = entries(ctx)[-1]
    assert (sealed.action, sealed.actor, sealed.detail["base_id"], sealed.detail["count"]) == ("audit_pruned", None, 2, 2)
    assert sealed.detail["retention_days"] == 180 and sealed.detail["base_hash"] == second.hash
    assert cli("verify") == (0, "audit log OK: 4 entries verified after entry 2, where it was pruned\n")
    assert cli("prune") == (0, "nothing to prune: no entry is older than 180 days\n")

    # a later prune carries the cut on, the earlier prune's own entry with it
    ctx.db.transaction(lambda s: audit.prune(s, AUDIT_KEY, datetime.now(UTC) + timedelta(days=1), 180))
    assert [e.action for e in entries(ctx)] == ["audit_pruned"] and entries(ctx)[0].detail["base_id"] == 6
    assert cli("verify") == (0, "audit log OK: 1 entries verified after entry 6, where it was pruned\n")


def test_a_broken_chain_is_not_pruned(ctx, aged, cli):
    sql(ctx, "UPDATE audit_log SET actor = 'someone' WHERE id = 1")
    code, out = cli("prune")
    assert code == 1 and out.startswith("audit log broken at entry 1:") and "nothing was pruned" in out, out
    assert len(entries(ctx)) == 5


def test_rows_deleted_by_hand_with_the_head_moved_are_found(ctx, aged, cli):
    assert cli("prune")[0] == 0
    # someone with the database but not the key removes more, and moves the base past them
    third = entries(ctx)[1]
    sql(ctx, "DELETE FROM audit_log WHERE id <= :id", id=third.id)
    sql(ctx, "UPDATE audit_head SET base_id = :id, base_hash = :hash", id=third.id, hash=third.hash)
    code, out = cli("verify")
    assert code == 1 and out.startswith(f"audit log broken at entry {third.id + 1}:"), out
    assert "no sealed audit_pruned entry names that cut" in out

    # nor can an unsealed row claim to be the prune that made the cut
    last = entries(ctx)[-1]
    with ctx.db.engine.begin() as conn:
        conn.execute(insert(AuditEntry.__table__).values(
            id=last.id + 1, at=last.at, actor=None, address=None, action="audit_pruned", target="audit-log",
            outcome="ok", detail={"base_id": third.id, "base_hash": third.hash, "count": 1},
            prev_hash=last.hash, hash=last.hash))
    sql(ctx, "UPDATE audit_head SET last_id = :id, last_hash = :hash", id=last.id + 1, hash=last.hash)
    code, out = cli("verify")
    assert code == 1 and out.startswith(f"audit log broken at entry {last.id + 1}:") and "altered" in out, out


def test_rows_deleted_from_the_start_without_a_prune_are_found(ctx, aged, cli):
    first = entries(ctx)[0]
    sql(ctx, "DELETE FROM audit_log WHERE id = 1")
    assert cli("verify")[1].startswith("audit log broken at entry 2:")  # the gap
    sql(ctx, "UPDATE audit_head SET base_id = 1, base_hash = :hash", hash=first.hash)
    code, out = cli("verify")
    assert code == 1 and out.startswith("audit log broken at entry 2:") and "no sealed" in out, out


def test_an_earlier_releases_audit_head_gains_the_base_and_still_verifies(ctx, aged, cli):
    with ctx.db.engine.begin() as conn:
        made_before_migrations(conn)
        for column in ("base_id", "base_hash"):
            conn.execute(text(f"ALTER TABLE audit_head DROP COLUMN {column}"))
    create_schema(ctx.db.engine)
    assert {"base_id", "base_hash"} <= {c["name"] for c in inspect(ctx.db.engine).get_columns("audit_head")}
    with ctx.db.read() as s:
        assert s.execute(select(AuditHead.base_id, AuditHead.base_hash)).one() == (0, "")
    assert cli("verify") == (0, "audit log OK: 5 entries verified\n")


def test_the_page_shows_a_prune_in_words_and_verifies_from_its_base(client, ctx, district, aged, cli):
    assert cli("prune")[0] == 0
    pages = Pages(client)
    assert pages.login("auditor1").status_code == 302
    html = pages.text("/audit/?action=audit_pruned")
    assert "清理过期审计记录" in html and "清理至第几条：</span>2" in html and "保存期限（天）：</span>180" in html
    r = pages.post("/audit/verify", token_from="/audit/", follow_redirects=True)
    assert "审计日志完整：已校验 5 条记录。 日志链从第 2 条之后开始" in r.get_data(as_text=True)
