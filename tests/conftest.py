"""Fixtures: a database of its own for every test (a SQLite file, or a new PostgreSQL database when
RECTIFLOW_DATABASE_URL points at one), the app, and a small district to work in.

A test's database is a copy of a template that each test process builds once: the schema with the
default models deployed (what create_app makes of an empty database), the schema alone for the
engine tests, or the demo district. Copying a SQLite file or `CREATE DATABASE ... TEMPLATE` costs a
fraction of building the schema and deploying the models again for every test."""
from __future__ import annotations

import os
import shutil
import sqlite3
import uuid
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from sqlalchemy import create_engine, text, update
from sqlalchemy.engine import make_url

from config import Settings
from service import create_app
from service.auth import hash_password
from service.context import make_context
from service.db import create_schema
from service.demo import seed_demo
from service.models import User
from support.api import Api
from support.district import PASSWORD, District, build_district
from workflows.clock import Clock

# Real argon2id hashes, with parameters light enough that a login costs milliseconds, not 0.2 s.
LIGHT_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


@pytest.fixture(scope="session")
def password_hash() -> str:
    """A real argon2 hash with light parameters: logins verify it the same way, just faster."""
    cheap = LIGHT_HASHER.hash(PASSWORD)
    assert cheap.startswith("$argon2id$") and hash_password(PASSWORD).startswith("$argon2id$")
    return cheap


def _postgres_url():
    base = os.environ.get("RECTIFLOW_DATABASE_URL", "")
    return make_url(base) if base.startswith("postgresql") else None


def _settings(folder: Path, url: str) -> Settings:
    return Settings(instance_dir=folder / "instance", database_url=url, secret_key="test")


@contextmanager
def _scratch_database(folder: Path, template: str | None = None, sqlite: bool = False):
    """A database of its own for one test (or one template), dropped afterwards: a SQLite file in
    `folder`, or a new PostgreSQL database; a copy of `template` (what a template fixture yields:
    a file path, or a database name) when one is given. `sqlite` asks for a file whatever the suite runs on."""
    url = None if sqlite else _postgres_url()
    if url is None:
        path = folder / "test.db"
        if template:
            shutil.copyfile(template, path)
        yield f"sqlite:///{path}"
        return
    name = f"rectiflow_t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")))
        # A commit returns without waiting for its WAL to reach the disk: only a server crash could
        # tell the difference, and the suite makes thousands of small commits.
        conn.execute(text(f'ALTER DATABASE "{name}" SET synchronous_commit = off'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def _template(folder: Path, build, source: str | None = None, sqlite: bool = False):
    """A database made by `build(url)` (on a copy of `source` if given) and kept for copying; yields
    what _scratch_database takes as its template. `build` must close every connection it opened."""
    with _scratch_database(folder, template=source, sqlite=sqlite) as url:
        build(url)
        if url.startswith("sqlite"):
            path = make_url(url).database
            with closing(sqlite3.connect(path)) as conn:  # every page in the main file: a copy of it is whole
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            yield path
        else:
            yield make_url(url).database


def _build_app_database(folder: Path):
    def build(url):
        application = create_app(_settings(folder, url))
        application.extensions["rectiflow"].db.engine.dispose()
    return build


@pytest.fixture(scope="session")
def app_template(tmp_path_factory):
    """What create_app makes of an empty database: the schema and the four default models deployed.
    Built once per test process; create_app on a copy finds the models already there by their hash."""
    folder = tmp_path_factory.mktemp("app-template")
    with _template(folder, _build_app_database(folder)) as template:
        yield template


@pytest.fixture(scope="session")
def sqlite_app_template(tmp_path_factory, app_template):
    """The app template as a SQLite file, also when the suite runs on PostgreSQL (for the live server)."""
    if _postgres_url() is None:
        yield app_template
        return
    folder = tmp_path_factory.mktemp("sqlite-app-template")
    with _template(folder, _build_app_database(folder), sqlite=True) as template:
        yield template


@pytest.fixture(scope="session")
def schema_template(tmp_path_factory):
    """The schema alone, without the default models: for the engine tests."""
    folder = tmp_path_factory.mktemp("schema-template")

    def build(url):
        context = make_context(_settings(folder, url))
        create_schema(context.db.engine)
        context.db.engine.dispose()

    with _template(folder, build) as template:
        yield template


@dataclass
class DemoSeed:
    template: str  # a database (file or name) where seed_demo has run on what create_app made
    message: str   # what seed_demo said


@pytest.fixture(scope="session")
def demo_seed(tmp_path_factory, app_template) -> DemoSeed:
    """The demo district seeded once per test process by seed_demo, as `rectiflow seed-demo` does."""
    folder = tmp_path_factory.mktemp("demo-template")
    said = []

    def build(url):
        application = create_app(_settings(folder, url))
        said.append(seed_demo(application.extensions["rectiflow"]))
        application.extensions["rectiflow"].db.engine.dispose()

    with _template(folder, build, source=app_template) as template:
        yield DemoSeed(template, said[0])


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory, demo_seed):
    """The demo district with every user's password hashed again with light argon2 parameters: the
    same demo password and the same verification, but a login costs milliseconds instead of 0.2 s.
    test_demo logs in with the hashes seed_demo wrote."""
    folder = tmp_path_factory.mktemp("demo-light-template")

    def build(url):
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(update(User).values(password_hash=LIGHT_HASHER.hash(_settings(folder, url).demo_password)))
        engine.dispose()

    with _template(folder, build, source=demo_seed.template) as template:
        yield template


@pytest.fixture
def database_url(tmp_path, app_template):
    """A copy of the app template: the schema and the default models, nothing else."""
    with _scratch_database(tmp_path, template=app_template) as url:
        yield url


@pytest.fixture
def demo_database_url(tmp_path, demo_template):
    """A copy of the demo district (light password hashes)."""
    with _scratch_database(tmp_path, template=demo_template) as url:
        yield url


@pytest.fixture
def seeded_demo_database_url(tmp_path, demo_seed):
    """A copy of the demo district exactly as seed_demo left it, its own password hashes included."""
    with _scratch_database(tmp_path, template=demo_seed.template) as url:
        yield url


@pytest.fixture
def sqlite_database_url(tmp_path, sqlite_app_template):
    """A SQLite copy of the app template whatever the suite runs on: the live server's threads share it."""
    folder = tmp_path / "live"  # beside, not in place of, a test's own database
    folder.mkdir()
    with _scratch_database(folder, template=sqlite_app_template, sqlite=True) as url:
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
    with _scratch_database(folder, template=app_template) as url:
        shared = create_app(_settings(folder, url))
        shared.extensions["rectiflow"].db.engine.dispose()
        yield shared


@pytest.fixture
def app(application, tmp_path, database_url, clock):
    """The application over this test's own database: a new context (an engine with an empty model
    cache, this test's clock), as create_app would make on the copied database, whose schema and
    default models are in place already. Config changes a test makes are undone afterwards."""
    config = dict(application.config)
    context = make_context(_settings(tmp_path, database_url), clock)
    application.extensions["rectiflow"] = context
    yield application
    context.db.engine.dispose()
    application.config.clear()
    application.config.update(config)


@pytest.fixture
def ctx(app):
    return app.extensions["rectiflow"]


@pytest.fixture
def engine_ctx(tmp_path, schema_template, clock):
    """The service context without the Flask app or the default models: engine tests only."""
    with _scratch_database(tmp_path, template=schema_template) as url:
        context = make_context(_settings(tmp_path, url), clock)
        yield context
        context.db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def district(ctx, password_hash) -> District:
    return build_district(ctx, password_hash)


@pytest.fixture
def api(client) -> Api:
    return Api(client)
