"""Database engine, sessions and the one place that owns a transaction."""
from __future__ import annotations

import random
import time
import zlib
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from typing import TypeVar, cast

from sqlalchemy import CursorResult, create_engine, event, false, func, inspect, select, text, update
from sqlalchemy.engine import Engine as SAEngine
from sqlalchemy.exc import DisconnectionError, OperationalError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from workflows.clock import Clock

T = TypeVar("T")


class Conflict(Exception):
    """Someone else changed the same record first, and retrying did not help."""


def make_engine(url: str) -> SAEngine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")  # durable at checkpoints; the WAL default
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        return engine
    engine = create_engine(url, pool_size=10, max_overflow=20)
    _ping_after_idle(engine, IDLE_PING_SECONDS)
    return engine


# A pooled connection idle longer than this is tested before use (the server restarted, a firewall
# dropped it). Testing every checkout, as `pool_pre_ping` does, costs a round trip per session, and a
# request opens two or three of them.
IDLE_PING_SECONDS = 10.0
# For an UPDATE or DELETE by the ORM whose rows the session holds no object of (or none it reads
# again): the session's objects are not searched for the rows it changed, which costs more than
# the statement does.
UNSYNCED = {"synchronize_session": False}


def _ping_after_idle(engine: SAEngine, seconds: float) -> None:
    @event.listens_for(engine, "checkin")
    def _idle_since(_dbapi_conn, record) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping(dbapi_conn, record, _proxy) -> None:
        since = record.info.get("idle_since")
        if since is None or time.monotonic() - since < seconds:
            return
        try:
            cursor = dbapi_conn.cursor()
            cursor.execute("SELECT 1")
            cursor.close()
            dbapi_conn.commit()  # not a rollback: psycopg would deallocate what it prepared (Database.read)
        except Exception as exc:  # the pool drops this connection and checks out another
            raise DisconnectionError(str(exc)) from exc


def create_schema(engine: SAEngine) -> None:
    """Bring the database's schema to this release's, keeping its data: an empty database is made
    whole, an older one upgraded by the migrations (service.schema)."""
    from . import schema  # alembic is imported only where a schema is prepared

    schema.upgrade(engine)


def lock_row(s: Session, entity, ident: int) -> None:
    """Take one row for the rest of this transaction, so that whoever else takes it (or, on SQLite,
    writes anything) waits until this transaction ends, and what this one reads afterwards is
    current. Call it before reading the state a change depends on.

    PostgreSQL: SELECT … FOR UPDATE. SQLite has no row locks: a transaction holds the one write lock
    from its first write, and its reads before that may already be out of date; so the row is
    written (to the value it has), which takes that lock first."""
    key = inspect(entity).primary_key[0]
    if s.get_bind().dialect.name == "sqlite":
        s.execute(update(entity).where(key == ident).values({key.name: key}))
    else:
        s.execute(select(key).where(key == ident).with_for_update())


def claim_row(s: Session, entity, ident: int) -> bool:
    """Take one row for the rest of this transaction unless another transaction holds it: False
    then (or when there is no such row), at once, without waiting. For work that several processes
    offer to do (a background job's runners): whoever holds the row does it, the others pass.

    PostgreSQL: SELECT … FOR UPDATE SKIP LOCKED. SQLite has one writer at a time and no row
    locks: the row is taken as `lock_row` takes it, waiting for the write lock, after which the
    caller reads the row's current state to decide whether the work is still its own."""
    key = inspect(entity).primary_key[0]
    if s.get_bind().dialect.name == "sqlite":
        written = s.execute(update(entity).where(key == ident).values({key.name: key})
                            .execution_options(synchronize_session=False))
        return cast(CursorResult, written).rowcount == 1
    return s.scalar(select(key).where(key == ident).with_for_update(skip_locked=True)) is not None


def _hold_what_sessions_load(factory: sessionmaker) -> None:
    """Keep every object a session has loaded or added until the session closes.

    SQLAlchemy's identity map holds its objects weakly: a Case read by one step of a request and
    dropped was read again by the next (three times per task completion). Held, `Session.get`
    answers from memory. What a request loads is alive for the request anyway; a session only
    lives for one request or one unit of work."""
    @event.listens_for(factory, "pending_to_persistent")
    @event.listens_for(factory, "deleted_to_persistent")
    @event.listens_for(factory, "detached_to_persistent")
    @event.listens_for(factory, "loaded_as_persistent")
    def hold(session, instance) -> None:
        session.info.setdefault("held", {})[id(instance)] = instance

    @event.listens_for(factory, "persistent_to_detached")
    @event.listens_for(factory, "persistent_to_deleted")
    @event.listens_for(factory, "persistent_to_transient")
    def release(session, instance) -> None:
        session.info.get("held", {}).pop(id(instance), None)


def lock_sequence(s: Session, entity, name: str) -> None:
    """Take the lock of a named sequence (a kind of document's numbers in a year) for the rest of
    this transaction, so two transactions that number the same sequence do it one after the other
    and the second reads the first's number.

    PostgreSQL: a transaction-level advisory lock on the name's hash. SQLite: the database's one
    write lock, taken by a write to `entity`'s table that changes no row."""
    if s.get_bind().dialect.name == "sqlite":
        key = inspect(entity).primary_key[0]
        s.execute(update(entity).where(false()).values({key.name: key}))
    else:
        s.execute(select(func.pg_advisory_xact_lock(zlib.crc32(name.encode()))))


class Database:
    def __init__(self, url: str, audit_key: str = "", clock: Clock | None = None) -> None:
        self.engine = make_engine(url)
        # every session carries the audit log's key, for service.audit to seal what it appends, and
        # the service's clock, for the time of each entry (the wall clock when there is none)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False,
                                     info={"audit_key": audit_key, "clock": clock})
        _hold_what_sessions_load(self.sessions)

    @contextmanager
    def read(self):
        """A session for reading only: nothing done in it is stored.

        On PostgreSQL its transaction is READ ONLY, so the server refuses any write in it, and is
        ended by a COMMIT, not a ROLLBACK: psycopg forgets every statement it has prepared on a
        connection whenever that connection rolls back, and most requests begin with a read (the
        token's check), so nothing stayed prepared and PostgreSQL planned every statement of every
        request again (more than half of its work for a task's completion)."""
        session = self.sessions()
        read_only = self.engine.dialect.name == "postgresql"
        try:
            if read_only:
                session.connection(execution_options={"postgresql_readonly": True})
            yield session
            if read_only:
                session.commit()
        finally:
            session.close()  # loaded objects stay readable, detached

    def refresh_statistics(self, tables: Iterable[str]) -> None:
        """Bring PostgreSQL's planner statistics of these tables up to date, after work that filled
        them in bulk (a publication's fan-out).

        Autovacuum refreshes them only a while later: until then a table filled in one go is planned
        as it was, empty or a fraction of its size, and the first minutes of work after a publication
        to thousands of units ran on such plans (a completion's lookup of the instance's next tasks
        went through every open task, 0.8 ms for 2,000 units, growing with them). SQLite plans
        without statistics unless asked to gather them, so there is nothing to refresh."""
        if self.engine.dialect.name != "postgresql":
            return
        names = ", ".join(self.engine.dialect.identifier_preparer.quote(name) for name in tables)
        with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text(f"ANALYZE {names}"))

    def transaction(self, work: Callable[[Session], T], retries: int = 10) -> T:
        """Run `work` in one transaction: all of it commits or none of it does.

        Optimistic version conflicts on a workflow instance (another request completed a task
        of the same instance first) are retried with fresh state, so two users working on one
        instance lose nothing; a retry that finds its task already done raises as usual.
        """
        for attempt in range(retries):
            session = self.sessions()
            try:
                result = work(session)
                session.commit()
                return result
            except StaleDataError:
                session.rollback()
                time.sleep(random.uniform(0, 0.02) * (attempt + 1))
            except OperationalError as exc:
                session.rollback()
                if "locked" not in str(exc).lower() and "deadlock" not in str(exc).lower():
                    raise
                time.sleep(random.uniform(0, 0.05) * (attempt + 1))
            except BaseException:
                session.rollback()
                raise
            finally:
                session.close()
        raise Conflict("the record was changed by someone else at the same time; try again")
