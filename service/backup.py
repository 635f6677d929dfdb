"""Backup and restore of a whole installation: every table, evidence files included (they are rows).

An archive is a zip file: `manifest.json` (format, release schema, when, from which kind of
database, and per table its row count and the SHA-256 of its data) and `tables/<name>.jsonl`, one
JSON object per row. Values are written through the columns' own types, so an archive made on
SQLite restores on PostgreSQL and the reverse. A restore first reads the whole archive and checks
every table against the manifest; only then, in one transaction, does it replace the database's
rows with the archive's, so a damaged archive changes nothing and a failed restore leaves the
database as it was.
"""
from __future__ import annotations

import base64
import hashlib
import io
import json
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import Connection, Engine, Integer, Table, func, select, text
from sqlalchemy.sql.ddl import sort_tables_and_constraints

from workflows.tables import EngineBase

from .db import create_schema
from .models import Base

FORMAT = "rectiflow-backup"
VERSION = 1
BATCH = 500


class BackupError(Exception):
    """The archive cannot be restored (damaged, of another release, or the database is not empty)."""


@dataclass
class Summary:
    tables: int
    rows: int


def _tables() -> list[Table]:
    """Every table, parents before children."""
    return [t for t, _ in sort_tables_and_constraints(_all()) if t is not None]


def _all() -> list[Table]:
    return [*EngineBase.metadata.tables.values(), *Base.metadata.tables.values()]


def _cyclic_columns() -> dict[str, set[str]]:
    """Foreign-key columns that close a cycle (a unit names its leader, the leader names a unit):
    no order of tables satisfies them, so they are cleared before rows go and set after rows come."""
    cycles: dict[str, set[str]] = {}
    for table, constraints in sort_tables_and_constraints(_all()):
        if table is None:
            for constraint in constraints:
                cycles.setdefault(constraint.table.name, set()).update(c.name for c in constraint.columns)
    return cycles


def _encode(value):
    if isinstance(value, datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    if isinstance(value, (bytes, memoryview)):
        return {"$bytes": base64.b64encode(bytes(value)).decode("ascii")}
    return value


def _decode(value):
    if isinstance(value, dict) and len(value) == 1:
        (tag, raw), = value.items()
        if tag == "$datetime":
            return datetime.fromisoformat(raw)
        if tag == "$date":
            return date.fromisoformat(raw)
        if tag == "$bytes":
            return base64.b64decode(raw)
    return value


def _rows(conn: Connection, table: Table) -> Iterator[bytes]:
    order = list(table.primary_key.columns) or list(table.columns)
    result = conn.execution_options(stream_results=True).execute(select(table).order_by(*order))
    for row in result.mappings():
        line = {name: _encode(value) for name, value in row.items()}
        yield (json.dumps(line, ensure_ascii=False, separators=(",", ":"), sort_keys=True) + "\n").encode()


def backup(engine: Engine, path: Path, now: datetime) -> Summary:
    """Write every table to `path` from one consistent snapshot of the database."""
    manifest: dict = {"format": FORMAT, "version": VERSION, "created_at": now.isoformat(),
                      "database": engine.dialect.name, "tables": {}}
    total = 0
    partial = path.with_name(path.name + ".partial")
    options = {"isolation_level": "REPEATABLE READ"} if engine.dialect.name == "postgresql" else {}
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as archive, \
            engine.connect().execution_options(**options) as conn, conn.begin():
        for table in _tables():
            digest, count = hashlib.sha256(), 0
            with archive.open(f"tables/{table.name}.jsonl", "w") as out:
                for line in _rows(conn, table):
                    digest.update(line)
                    out.write(line)
                    count += 1
            manifest["tables"][table.name] = {"rows": count, "sha256": digest.hexdigest()}
            total += count
        archive.writestr("manifest.json", json.dumps(manifest, ensure_ascii=False, indent=1))
    partial.replace(path)  # a backup that stopped half-way never looks like a finished one
    return Summary(len(manifest["tables"]), total)


def _checked(archive: zipfile.ZipFile) -> dict:
    """The manifest, once every table file is found to match it."""
    try:
        manifest = json.loads(archive.read("manifest.json"))
    except (KeyError, ValueError) as exc:
        raise BackupError("the archive has no readable manifest.json") from exc
    if manifest.get("format") != FORMAT or manifest.get("version") != VERSION:
        raise BackupError(f"not a {FORMAT} archive of version {VERSION}")
    known = {t.name: t for t in _tables()}
    unknown = sorted(set(manifest["tables"]) - set(known))
    if unknown:
        raise BackupError(f"the archive holds tables this release does not know: {', '.join(unknown)}")
    for name, expected in manifest["tables"].items():
        digest, count = hashlib.sha256(), 0
        try:
            with archive.open(f"tables/{name}.jsonl") as lines:
                for line in lines:
                    digest.update(line)
                    count += 1
        except KeyError as exc:
            raise BackupError(f"table {name} is missing from the archive") from exc
        if digest.hexdigest() != expected["sha256"] or count != expected["rows"]:
            raise BackupError(f"table {name} does not match the manifest: the archive is damaged or altered")
    return manifest


def _is_empty(conn: Connection) -> bool:
    from .models import Round, User

    return not any(conn.scalar(select(func.count()).select_from(t)) for t in (User.__table__, Round.__table__))


def restore(engine: Engine, path: Path, replace: bool = False) -> Summary:
    """Replace every row of the database with the archive's, all or nothing."""
    try:
        archive = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as exc:
        raise BackupError(f"{path} is not a readable zip archive: {exc}") from exc
    with archive:
        manifest = _checked(archive)
        create_schema(engine)
        total = 0
        with engine.begin() as conn:
            if not replace and not _is_empty(conn):
                raise BackupError("the database holds users or rounds; restore with --replace to overwrite them")
            cyclic = _cyclic_columns()
            tables = {t.name: t for t in _tables()}
            for name, columns in cyclic.items():
                conn.execute(tables[name].update().values({c: None for c in columns}))
            for table in reversed(_tables()):
                conn.execute(table.delete())
            later: list[tuple[Table, dict, dict]] = []  # (table, primary key, cyclic values) set after all rows
            for table in _tables():
                if table.name not in manifest["tables"]:
                    continue  # a table newer than the archive stays empty
                columns = {c.name for c in table.columns}
                batch: list[dict] = []
                with archive.open(f"tables/{table.name}.jsonl") as lines:
                    for line in io.TextIOWrapper(lines, encoding="utf-8"):
                        row = json.loads(line)
                        if not row.keys() <= columns:
                            raise BackupError(f"table {table.name} has columns this release does not know: "
                                              f"{', '.join(sorted(row.keys() - columns))}")
                        values = {k: _decode(v) for k, v in row.items()}
                        held = {c: values[c] for c in cyclic.get(table.name, ()) if values.get(c) is not None}
                        if held:
                            values.update(dict.fromkeys(held))
                            later.append((table, {c.name: values[c.name] for c in table.primary_key.columns}, held))
                        batch.append(values)
                        if len(batch) >= BATCH:
                            conn.execute(table.insert(), batch)
                            batch = []
                if batch:
                    conn.execute(table.insert(), batch)
                total += manifest["tables"][table.name]["rows"]
            for table, key, held in later:
                conn.execute(table.update().where(*(table.c[k] == v for k, v in key.items())).values(held))
            if engine.dialect.name == "postgresql":
                _reset_sequences(conn)
    return Summary(len(manifest["tables"]), total)


def _reset_sequences(conn: Connection) -> None:
    """New rows after a restore get ids after the restored ones."""
    for table in _tables():
        for column in table.primary_key.columns:
            if isinstance(column.type, Integer) and column.autoincrement in (True, "auto"):
                conn.execute(text(
                    f"SELECT setval(pg_get_serial_sequence('{table.name}', '{column.name}'), "
                    f"COALESCE((SELECT MAX({column.name}) FROM {table.name}), 0) + 1, false)"))
