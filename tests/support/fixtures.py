"""The fixtures: a database of its own for every test (a SQLite file, or a new PostgreSQL database
when RECTIFLOW_DATABASE_URL points at one), the app, and a small district to work in.

Each test's database is a copy of a template that each test process builds once: the schema with
the default models deployed (what create_app makes of an empty database), the schema alone for the
engine tests, or the demo district. A file copy, or CREATE DATABASE ... TEMPLATE run in the
background while the previous test runs, costs a fraction of building the schema and deploying the
models again. The Flask application, too, is made once per process; each test gives it a service
context of its own.

tests/conftest.py registers this module as a plugin in the processes that run tests."""
from __future__ import annotations

import copy
import os
import shutil
import sqlite3
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from sqlalchemy import create_engine, text, update
from sqlalchemy.engine import make_url

from config import Settings
from service import auth, create_app
from service.auth import hash_password
from service.context import Context, make_context
from service.db import create_schema
from service.demo import seed_demo
from service.limits import limiter_of
from service.models import User
from support.api import Api
from support.district import PASSWORD, District, build_district
from workflows.clock import Clock

AUDIT_KEY = "test-audit-key"  # the audit log's key in every test's settings

# Real argon2id hashes, with parameters light enough that a login costs milliseconds, not 0.2 s.
LIGHT_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


@pytest.fixture(scope="session")
def password_hash() -> str:
    """A real argon2 hash with light parameters: logins verify it the same way, just faster."""
    cheap = LIGHT_HASHER.hash(PASSWORD)
    assert cheap.startswith("$argon2id$") and hash_password(PASSWORD).startswith("$argon2id$")
    return cheap


@pytest.fixture
def light_hashing(monkeypatch) -> None:
    """New passwords hashed with LIGHT_HASHER too: for tests that change passwords many times, each
    change then costs milliseconds instead of some 0.15 s per hash it makes or checks."""
    monkeypatch.setattr(auth, "_hasher", LIGHT_HASHER)


def _postgres_url():
    base = os.environ.get("RECTIFLOW_DATABASE_URL", "")
    return make_url(base) if base.startswith("postgresql") else None


def _settings(folder: Path, url: str) -> Settings:
    return Settings(instance_dir=folder / "instance", database_url=url, secret_key="test", audit_key=AUDIT_KEY)


class _Postgres:
    """The PostgreSQL server RECTIFLOW_DATABASE_URL points at, where the tests' databases are made.
    Creating and dropping a database is the server's work: a background thread does it for the
    copies, so a test neither waits for its copy to be made nor for it to be dropped."""

    def __init__(self, url):
        self.url = url
        self.admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
        self.background = ThreadPoolExecutor(max_workers=1, thread_name_prefix="test-databases")

    def create(self, template: str | None = None) -> str:
        name = f"rectiflow_t_{uuid.uuid4().hex[:12]}"
        with self.admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")))
            # A commit returns without waiting for its WAL to reach the disk: only a server crash
            # could tell the difference, and the suite makes thousands of small commits.
            conn.execute(text(f'ALTER DATABASE "{name}" SET synchronous_commit = off'))
        return name

    def drop(self, name: str) -> None:
        with self.admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    def url_of(self, name: str) -> str:
        return self.url.set(database=name).render_as_string(hide_password=False)

    def close(self) -> None:
        self.background.shutdown(wait=True)  # the last drops
        self.admin.dispose()


class Template:
    """A database kept for copying: a SQLite file, or a PostgreSQL database that CREATE DATABASE ...
    TEMPLATE copies. On PostgreSQL the copy for the next test is made while this one runs."""

    def __init__(self, location: str, server: _Postgres | None):
        self.location, self.server = location, server
        self._next: Future | None = None

    @contextmanager
    def copy(self, folder: Path):
        """A database of its own for one test, or to build another template on; dropped afterwards."""
        if self.server is None:
            path = folder / "test.db"
            shutil.copyfile(self.location, path)
            yield f"sqlite:///{path}"
            return
        server = self.server
        made = self._next or server.background.submit(server.create, self.location)
        self._next = server.background.submit(server.create, self.location)
        name = made.result()
        try:
            yield server.url_of(name)
        finally:
            server.background.submit(server.drop, name)

    def close(self) -> None:
        if self._next is not None:  # the copy made for a test that did not come
            self.server.drop(self._next.result())


@contextmanager
def _template(folder: Path, build, server: _Postgres | None, source: Template | None = None):
    """A Template made by `build(url)` on a new database, or on a copy of `source`. `build` must close
    every connection it opened."""
    if server is None:
        path = folder / "template.db"
        if source is not None:
            shutil.copyfile(source.location, path)
        build(f"sqlite:///{path}")
        with closing(sqlite3.connect(path)) as conn:  # every page in the main file: a copy of it is whole
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        yield Template(str(path), None)
        return
    name = server.create(source.location if source is not None else None)
    template = Template(name, server)
    try:
        build(server.url_of(name))
        yield template
    finally:
        template.close()
        server.drop(name)


@pytest.fixture(scope="session")
def postgres():
    """The PostgreSQL server when RECTIFLOW_DATABASE_URL points at one; None when the tests use SQLite files."""
    url = _postgres_url()
    if url is None:
        yield None
        return
    server = _Postgres(url)
    yield server
    server.close()


def _build_app_database(folder: Path):
    def build(url):
        application = create_app(_settings(folder, url))
        application.extensions["rectiflow"].db.engine.dispose()
    return build


@pytest.fixture(scope="session")
def app_template(tmp_path_factory, postgres):
    """What create_app makes of an empty database: the schema and the four default models deployed.
    Built once per test process; create_app on a copy finds the models already there by their hash."""
    folder = tmp_path_factory.mktemp("app-template")
    with _template(folder, _build_app_database(folder), postgres) as template:
        yield template


@pytest.fixture(scope="session")
def sqlite_app_template(tmp_path_factory, postgres, app_template):
    """The app template as a SQLite file, also when the suite runs on PostgreSQL (for the live server)."""
    if postgres is None:
        yield app_template
        return
    folder = tmp_path_factory.mktemp("sqlite-app-template")
    with _template(folder, _build_app_database(folder), None) as template:
        yield template


@pytest.fixture(scope="session")
def schema_template(tmp_path_factory, postgres):
    """The schema alone, without the default models: for the engine tests."""
    folder = tmp_path_factory.mktemp("schema-template")

    def build(url):
        context = make_context(_settings(folder, url))
        create_schema(context.db.engine)
        context.db.engine.dispose()

    with _template(folder, build, postgres) as template:
        yield template


@dataclass
class DemoSeed:
    template: Template  # where seed_demo has run on what create_app made of an empty database
    message: str        # what seed_demo said


@pytest.fixture(scope="session")
def demo_seed(tmp_path_factory, postgres, app_template) -> DemoSeed:
    """The demo district seeded once per test process by seed_demo, as `rectiflow seed-demo` does."""
    folder = tmp_path_factory.mktemp("demo-template")
    said = []

    def build(url):
        application = create_app(_settings(folder, url))
        said.append(seed_demo(application.extensions["rectiflow"]))
        application.extensions["rectiflow"].db.engine.dispose()

    with _template(folder, build, postgres, source=app_template) as template:
        yield DemoSeed(template, said[0])


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory, postgres, demo_seed):
    """The demo district with every user's password hashed again with light argon2 parameters: the
    same demo password and the same verification, but a login costs milliseconds instead of 0.2 s.
    test_demo logs in with the hashes seed_demo wrote."""
    folder = tmp_path_factory.mktemp("demo-light-template")

    def build(url):
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(update(User).values(password_hash=LIGHT_HASHER.hash(_settings(folder, url).demo_password)))
        engine.dispose()

    with _template(folder, build, postgres, source=demo_seed.template) as template:
        yield template


@pytest.fixture(scope="session")
def busy_template(tmp_path_factory, postgres, app_template, password_hash):
    """The small district with records of every kind the API names by id (support.fuzzing.populate),
    on what create_app made of an empty database: for the fuzz tests."""
    from support.fuzzing import populate

    folder = tmp_path_factory.mktemp("busy-template")

    def build(url):
        context = make_context(_settings(folder, url))
        populate(context, build_district(context, password_hash))
        context.db.engine.dispose()

    with _template(folder, build, postgres, source=app_template) as template:
        yield template


@dataclass
class DistrictSeed:
    template: Template  # the app template with the small district built into it
    district: District  # its ids, the same in every copy


def _district_seed(tmp_path_factory, name: str, server: _Postgres | None, source: Template, password_hash: str):
    folder = tmp_path_factory.mktemp(name)
    built: list[District] = []

    def build(url):
        context = make_context(_settings(folder, url))
        built.append(build_district(context, password_hash))
        context.db.engine.dispose()

    with _template(folder, build, server, source=source) as template:
        yield DistrictSeed(template, built[0])


@pytest.fixture(scope="session")
def district_seed(tmp_path_factory, postgres, app_template, password_hash):
    """The small district (support.district) built once per test process, for every test that asks
    for `district`: its database is a copy of this one."""
    yield from _district_seed(tmp_path_factory, "district-template", postgres, app_template, password_hash)


@pytest.fixture(scope="session")
def sqlite_district_seed(tmp_path_factory, postgres, sqlite_app_template, district_seed, password_hash):
    """The district template as a SQLite file, also when the suite runs on PostgreSQL (for the live server)."""
    if postgres is None:
        yield district_seed
        return
    yield from _district_seed(tmp_path_factory, "sqlite-district-template", None, sqlite_app_template, password_hash)


@pytest.fixture
def database_url(request, tmp_path, app_template):
    """A copy of the app template: the schema and the default models, nothing else; for a test that
    asks for `district`, a copy of the district template instead (see `district`)."""
    template = request.getfixturevalue("district_seed").template if "district" in request.fixturenames \
        else app_template
    with template.copy(tmp_path) as url:
        yield url


@pytest.fixture
def demo_database_url(tmp_path, demo_template):
    """A copy of the demo district (light password hashes)."""
    with demo_template.copy(tmp_path) as url:
        yield url


@pytest.fixture
def busy_database_url(tmp_path, busy_template):
    """A copy of the busy district (busy_template)."""
    with busy_template.copy(tmp_path) as url:
        yield url


@pytest.fixture
def seeded_demo_database_url(tmp_path, demo_seed):
    """A copy of the demo district exactly as seed_demo left it, its own password hashes included."""
    with demo_seed.template.copy(tmp_path) as url:
        yield url


@pytest.fixture
def sqlite_database_url(tmp_path, sqlite_app_template):
    """A SQLite copy of the app template whatever the suite runs on (the live server's threads share
    it): an install with nothing in it but the default models."""
    folder = tmp_path / "live"  # beside, not in place of, a test's own database
    folder.mkdir()
    with sqlite_app_template.copy(folder) as url:
        yield url


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture(scope="session")
def application(tmp_path_factory, app_template):
    """One Flask application per test process, made by create_app on a copy of the app template.
    The service reaches its context (settings, database, engine, clock) only through
    app.extensions["rectiflow"], so each test gives it a context of its own; the routes, error
    handlers and compiled page templates, which create_app would otherwise build again for every
    test at some 50 ms, are shared."""
    folder = tmp_path_factory.mktemp("application")
    with app_template.copy(folder) as url:
        shared = create_app(_settings(folder, url))
        _share_compiled_sql(shared.extensions["rectiflow"].db.engine)
        shared.extensions["rectiflow"].db.engine.dispose()
        yield shared


_shared_sql: dict[str, tuple] = {}


def _share_compiled_sql(engine) -> None:
    """Let a test's new engine use the SQL this process has compiled already. Compiled statements
    are cached per engine, under a key holding the engine's dialect; a new engine for every test
    would compile each statement again in every test (an eighth of the suite's time), where the
    service, with one engine, compiles each once. Engines of one kind share the first one's
    dialect, initialised by its first connection, and its cache."""
    dialect, cache = _shared_sql.setdefault(engine.dialect.name, (engine.dialect, engine._compiled_cache))
    engine.dialect, engine._compiled_cache = dialect, cache


def _test_context(folder: Path, url: str, clock: Clock) -> Context:
    """A test's service context over `url`, its engine sharing the process's compiled SQL."""
    context = make_context(_settings(folder, url), clock)
    _share_compiled_sql(context.db.engine)
    return context


@pytest.fixture
def app_over(application, tmp_path, clock):
    """`with app_over(url) as app:` the application over the database at `url`, with a new context
    (an engine with an empty model cache, this test's clock) as create_app would make on that
    database, whose schema and default models are in place already. The config changes a test
    makes are undone afterwards. The rate limits are the real ones, and their counts start again
    at zero for each test."""

    @contextmanager
    def over(url: str):
        config = dict(application.config)
        context = _test_context(tmp_path, url, clock)
        application.extensions["rectiflow"] = context
        limiter_of(application).reset()
        try:
            yield application
        finally:
            context.db.engine.dispose()
            application.config.clear()
            application.config.update(config)

    return over


@pytest.fixture
def app(app_over, database_url):
    """The application over this test's own database."""
    with app_over(database_url) as application:
        yield application


@pytest.fixture
def ctx(app):
    return app.extensions["rectiflow"]


@pytest.fixture
def engine_ctx(tmp_path, schema_template, clock):
    """The service context without the Flask app or the default models: engine tests only."""
    with schema_template.copy(tmp_path) as url:
        context = _test_context(tmp_path, url, clock)
        yield context
        context.db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def district(ctx, district_seed) -> District:
    """The small district of support.district: already in this test's database, which `database_url`
    copied from the district template."""
    return copy.deepcopy(district_seed.district)


@pytest.fixture
def api(client) -> Api:
    return Api(client)
