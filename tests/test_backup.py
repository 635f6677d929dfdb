"""Backup and restore: an archive of the whole installation, evidence files included, that restores
the exact earlier state, and that refuses to restore when it is damaged or would overwrite by
accident."""
from __future__ import annotations

import hashlib
import io
import zipfile

import pytest
from sqlalchemy import select
from support.api import liaison, publish_round

from service import backup
from service.cli import main
from service.db import Database
from service.models import EvidenceBlob, Round

EVIDENCE = b"%PDF-1.7 rectification report " + bytes(range(256)) * 40  # binary, not only text


def _state(engine) -> dict[str, list[bytes]]:
    """Every row of every table, as the archive would write it."""
    with engine.connect() as conn:
        return {t.name: list(backup._rows(conn, t)) for t in backup._tables()}


def _a_filed_case(api, d) -> tuple:
    publish_round(api, d)
    mine = liaison(api, d, 2)
    case = mine.get("/cases").get_json()["items"][0]
    round_id = case["round_id"]
    common = mine.get(f"/rounds/{round_id}").get_json()["common_problems"]
    mine.complete(mine.tasks(step="self_check")[0]["id"], {"items": [
        {"common_problem_id": c["id"], "applicable": True, "problems_found": 1, "findings": "发现问题"}
        for c in common]})
    r = mine.post(f"/cases/{case['id']}/evidence", data={"file": (io.BytesIO(EVIDENCE), "整改报告.pdf")},
                  content_type="multipart/form-data")
    assert r.status_code == 201, r.get_json()
    return mine, case


def test_backup_change_restore_returns_the_exact_earlier_state(ctx, api, district, tmp_path, monkeypatch):
    mine, case = _a_filed_case(api, district)
    before = _state(ctx.db.engine)
    archive = tmp_path / "rectiflow.zip"
    monkeypatch.setenv("RECTIFLOW_DATABASE_URL", ctx.settings.database_url)
    assert main(["backup", str(archive)]) == 0

    # the district works on: another file, a new round
    r = mine.post(f"/cases/{case['id']}/evidence", data={"file": (io.BytesIO(b"%PDF-1.7 later"), "补充.pdf")},
                  content_type="multipart/form-data")
    assert r.status_code == 201
    publish_round(api, district)
    assert _state(ctx.db.engine) != before

    assert main(["restore", str(archive)]) == 1, "a database in use is not overwritten without --replace"
    assert main(["restore", "--replace", str(archive)]) == 0
    assert _state(ctx.db.engine) == before
    with ctx.db.read() as s:
        blobs = s.scalars(select(EvidenceBlob)).all()
    assert [hashlib.sha256(b.content).hexdigest() == b.sha256 for b in blobs] == [True] * len(blobs)
    assert hashlib.sha256(EVIDENCE).hexdigest() in {b.sha256 for b in blobs}

    # and the restored installation goes on: new rows get new ids after the restored ones
    with ctx.db.read() as s:
        restored = s.scalars(select(Round.id)).all()
    api.tokens.clear()
    r = api.as_("office1").post("/rounds", json={"name": "恢复后的轮次", "inspected_unit_ids": district.units[:1],
                                                 "inspector_ids": district.inspectors[:1]})
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["id"] > max(restored)


def test_a_damaged_archive_changes_nothing(ctx, api, district, tmp_path):
    _a_filed_case(api, district)
    archive = tmp_path / "rectiflow.zip"
    backup.backup(ctx.db.engine, archive, ctx.now())
    before = _state(ctx.db.engine)

    altered = tmp_path / "altered.zip"
    with zipfile.ZipFile(archive) as src, zipfile.ZipFile(altered, "w") as out:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "tables/evidence.jsonl":
                assert "整改报告".encode() in data
                data = data.replace("整改报告".encode(), "伪造报告".encode())
            out.writestr(item, data)
    with pytest.raises(backup.BackupError, match="table evidence does not match"):
        backup.restore(ctx.db.engine, altered, replace=True)
    (tmp_path / "junk.zip").write_bytes(b"not a zip")
    with pytest.raises(backup.BackupError, match="not a readable zip"):
        backup.restore(ctx.db.engine, tmp_path / "junk.zip", replace=True)
    assert _state(ctx.db.engine) == before


def test_an_archive_restores_onto_a_new_database_of_either_kind(ctx, api, district, tmp_path):
    """On a new machine: the archive fills an empty SQLite database (from PostgreSQL too, in that pass)."""
    _a_filed_case(api, district)
    archive = tmp_path / "rectiflow.zip"
    backup.backup(ctx.db.engine, archive, ctx.now())
    fresh = Database(f"sqlite:///{tmp_path / 'new.db'}")
    try:
        backup.restore(fresh.engine, archive)
        assert _state(fresh.engine) == _state(ctx.db.engine)
    finally:
        fresh.engine.dispose()
