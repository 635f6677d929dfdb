"""The database's schema, kept by Alembic revisions (service/migrations/versions), driven from here:
no alembic.ini, the database is the one the settings name.

- An empty database is made whole at once from the models (create_all) and stamped with the newest
  revision: as quick as before migrations, and the same schema (a test compares both ways with the
  models).
- A database stamped with an older revision is upgraded through the revisions after it.
- A database made before migrations (tables, no alembic_version) is upgraded from the start: the
  baseline revision creates what of the schema of its time is missing (as each release's start did
  then, so older releases' databases come in too), and the revisions after it leave alone what a
  release between the baseline and migrations had already made.

`rectiflow run` and `init-db` upgrade on start; the scaled mode runs `rectiflow db upgrade` once and
starts its processes with RECTIFLOW_SCHEMA_UPGRADE=0, so that they only check."""
from __future__ import annotations

import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, MetaData, func, inspect, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.schema import CreateColumn

from workflows.tables import EngineBase

from .models import Base

SCRIPTS = Path(__file__).parent / "migrations"
METADATA = (Base.metadata, EngineBase.metadata)
_LOCK = zlib.crc32(b"rectiflow schema upgrade")  # PostgreSQL: one upgrade at a time


class SchemaError(Exception):
    """The database's schema is not one this process can work on; the message says what to do."""


class SchemaBehind(SchemaError):
    """The database's schema is older than this release's, and this process may not upgrade it."""


class SchemaAhead(SchemaError):
    """The database was upgraded by a newer release: this one does not know its revision."""


def config(connection: Connection | None = None) -> Config:
    """Alembic's configuration for the revisions shipped in the package; env.py runs them on
    `connection` (or, from the alembic command line, on the settings' database)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(SCRIPTS))
    cfg.attributes["connection"] = connection
    return cfg


@cache
def _scripts() -> ScriptDirectory:
    """The revisions, read once per process."""
    return ScriptDirectory.from_config(config())


def head() -> str:
    """The newest revision: the schema this release's models are."""
    return _scripts().get_current_head() or ""


def current(engine: Engine) -> str | None:
    """The revision the database is stamped with; None when it has none (empty, or made before
    migrations)."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine) -> tuple[str | None, str]:
    """Bring the schema to the newest revision; (the revision before, the revision now). Processes
    starting together on PostgreSQL upgrade one after the other, the later ones finding it done."""
    target = head()
    with _locked(engine) as conn:
        before = MigrationContext.configure(conn).get_current_revision()
        if before == target:
            return before, target
        require_known(before)
        ours = {t for metadata in METADATA for t in metadata.tables}
        if before is None and not ours & set(inspect(conn).get_table_names()):
            for metadata in METADATA:
                metadata.create_all(conn)
            MigrationContext.configure(conn).stamp(_scripts(), target)
        else:
            command.upgrade(config(conn), "head")
    return before, target


def check(engine: Engine) -> None:
    """Raise SchemaBehind unless the database is at the newest revision."""
    found, wanted = current(engine), head()
    if found != wanted:
        require_known(found)
        raise SchemaBehind(f"the database's schema is at revision {found or '(none)'}, this release needs "
                           f"{wanted}: run `rectiflow db upgrade` first")


def prepare(engine: Engine, may_upgrade: bool = True) -> None:
    """What a starting process does: upgrade, or (may_upgrade False, the scaled mode) only check."""
    if may_upgrade:
        upgrade(engine)
    else:
        check(engine)


def require_known(revision: str | None) -> None:
    """Raise SchemaAhead for a revision this release does not have (a newer release's)."""
    if revision is not None and revision not in {script.revision for script in _scripts().walk_revisions()}:
        raise SchemaAhead(f"the database's schema is at revision {revision}, which a newer release made (this one "
                          f"knows up to {head()}): run that release, or restore a backup made before it")


@contextmanager
def _locked(engine: Engine) -> Iterator[Connection]:
    """One transaction for the whole upgrade; on PostgreSQL holding a lock that a second process
    starting at the same time waits for (SQLite's DDL takes the database's write lock by itself)."""
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(select(func.pg_advisory_xact_lock(_LOCK)))
        yield conn


def create_missing(conn: Connection, metadata: MetaData) -> None:
    """Create what of `metadata` the database lacks: tables whole, and on existing tables the
    columns and indexes (each column added later is nullable or has a server default), keeping
    every row. How a database made before migrations comes up to the baseline."""
    existing = inspect(conn)
    older = set(existing.get_table_names())  # the tables create_all makes now are whole
    metadata.create_all(conn)
    for table in metadata.sorted_tables:
        if table.name not in older:
            continue
        present = {c["name"] for c in existing.get_columns(table.name)}
        for column in table.columns:
            if column.name not in present:
                ddl = CreateColumn(column).compile(dialect=conn.dialect)
                name = conn.dialect.identifier_preparer.format_table(table)
                conn.execute(text(f"ALTER TABLE {name} ADD COLUMN {ddl}"))
        for index in table.indexes:
            index.create(conn, checkfirst=True)


def has_table(conn: Connection, name: str) -> bool:
    """For the revisions after the baseline that a database made before migrations may already hold."""
    return inspect(conn).has_table(name)


def write_revision(message: str) -> str:
    """For developers, after a model changed: the next revision (numbered after the newest) with what
    the models hold and the revisions do not, compared on a scratch SQLite database upgraded through
    every revision. Read it before committing: rename detection, data to carry over and anything
    PostgreSQL-specific are the author's to add."""
    import tempfile

    from .db import make_engine

    number = int(ScriptDirectory.from_config(config()).get_current_head() or "0") + 1
    with tempfile.TemporaryDirectory() as folder:
        engine = make_engine(f"sqlite:///{folder}/scratch.db")
        try:
            with engine.begin() as conn:
                command.upgrade(config(conn), "head")
            with engine.begin() as conn:
                script = command.revision(config(conn), message=message, autogenerate=True, rev_id=f"{number:04d}")
        finally:
            engine.dispose()
    assert script is not None and not isinstance(script, list)
    return script.path


def has_column(conn: Connection, table: str, column: str) -> bool:
    """As has_table, for a column a database made before migrations may already hold."""
    return column in {c["name"] for c in inspect(conn).get_columns(table)}
