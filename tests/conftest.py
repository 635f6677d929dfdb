"""Fixtures: a fresh database per test (SQLite file, or a new PostgreSQL database when
RECTIFLOW_DATABASE_URL points at one), the app, and a small district to work in."""
from __future__ import annotations

import os
import shutil
import uuid
from contextlib import contextmanager

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from config import Settings
from service import create_app
from service.context import make_context
from service.db import create_schema
from service.demo import seed_demo
from service.auth import hash_password
from support.api import Api
from support.district import PASSWORD, District, build_district
from workflows.clock import Clock


@pytest.fixture(scope="session")
def password_hash() -> str:
    """A real argon2 hash with light parameters: logins verify it the same way, just faster."""
    from argon2 import PasswordHasher

    cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash(PASSWORD)
    assert cheap.startswith("$argon2id$") and hash_password(PASSWORD).startswith("$argon2id$")
    return cheap


def _postgres_url():
    base = os.environ.get("RECTIFLOW_DATABASE_URL", "")
    return make_url(base) if base.startswith("postgresql") else None


@contextmanager
def _scratch_database(tmp_path, template: str | None = None):
    """A database of its own for one test (or one template): a SQLite file or a new PostgreSQL database."""
    url = _postgres_url()
    if url is None:
        path = tmp_path / "test.db"
        if template:
            shutil.copyfile(template, path)
        yield f"sqlite:///{path}"
        return
    name = f"rectiflow_t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def database_url(tmp_path):
    with _scratch_database(tmp_path) as url:
        yield url


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory):
    """The demo district, seeded once per test process and copied for each test that needs it."""
    folder = tmp_path_factory.mktemp("demo-template")
    with _scratch_database(folder) as url:
        settings = Settings(instance_dir=folder / "instance", database_url=url, secret_key="test")
        application = create_app(settings)
        seed_demo(application.extensions["rectiflow"])
        application.extensions["rectiflow"].db.engine.dispose()
        yield str(folder / "test.db") if _postgres_url() is None else make_url(url).database


@pytest.fixture
def demo_database_url(tmp_path, demo_template):
    with _scratch_database(tmp_path, template=demo_template) as url:
        yield url


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def app(tmp_path, database_url, clock):
    settings = Settings(instance_dir=tmp_path / "instance", database_url=database_url, secret_key="test")
    application = create_app(settings, clock)
    yield application
    application.extensions["rectiflow"].db.engine.dispose()


@pytest.fixture
def ctx(app):
    return app.extensions["rectiflow"]


@pytest.fixture
def engine_ctx(tmp_path, database_url, clock):
    """The service context without the Flask app or the default models: engine tests only."""
    settings = Settings(instance_dir=tmp_path / "instance", database_url=database_url, secret_key="test")
    context = make_context(settings, clock)
    create_schema(context.db.engine)
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
