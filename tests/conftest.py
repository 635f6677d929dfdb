"""Fixtures: a fresh database per test (SQLite file, or a new PostgreSQL database when
RECTIFLOW_DATABASE_URL points at one), the app, and a small district to work in."""
from __future__ import annotations

import os
import shutil
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from config import Settings
from service import create_app
from service.context import make_context
from service.db import create_schema
from service.demo import seed_demo
from service.auth import hash_password
from service.models import Unit, User
from workflows.clock import Clock

PASSWORD = "test-password"


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


@dataclass
class District:
    """A small district built straight into the database (fast), for API tests."""

    office: int = 0
    departments: list[int] = field(default_factory=list)
    units: list[int] = field(default_factory=list)  # every rectifying unit, departments included
    leaders: list[int] = field(default_factory=list)
    inspectors: list[int] = field(default_factory=list)
    codes: dict[int, str] = field(default_factory=dict)


def build_district(ctx, password_hash: str, n_units: int = 6, n_departments: int = 2) -> District:
    d = District()

    def work(s):
        office = Unit(code="X01", name="区委巡察办", kind="office")
        lg = Unit(code="L01", name="领导小组", kind="leading_group")
        disc = Unit(code="J01", name="纪委监委", kind="discipline")
        s.add_all([office, lg, disc])
        s.flush()
        d.office = office.id
        leaders = [User(username=f"leader{i}", name=f"分管领导{i}", password_hash=password_hash, roles=["leader"])
                   for i in range(2)]
        s.add_all(leaders)
        s.flush()
        d.leaders = [u.id for u in leaders]
        for i in range(n_units):
            kind = "department" if i < n_departments else ("street" if i % 2 else "company")
            unit = Unit(code=f"U{i:03d}", name=f"单位{i}", kind=kind, industry="行业" + str(i % 3),
                        leader_id=d.leaders[i % 2])
            s.add(unit)
            s.flush()
            d.units.append(unit.id)
            d.codes[unit.id] = unit.code
            if kind == "department":
                d.departments.append(unit.id)
            liaison_roles = ["unit_liaison"] + (["department"] if kind == "department" else [])
            s.add(User(username=f"{unit.code.lower()}_liaison", name=f"联络员{i}", password_hash=password_hash,
                       roles=liaison_roles, unit_id=unit.id))
            s.add(User(username=f"{unit.code.lower()}_head", name=f"负责人{i}", password_hash=password_hash,
                       roles=["unit_head"], unit_id=unit.id))
        s.add_all([
            User(username="admin", name="管理员", password_hash=password_hash, roles=["admin"], unit_id=office.id),
            User(username="office1", name="巡察办", password_hash=password_hash, roles=["office"], unit_id=office.id),
            User(username="leading1", name="领导小组", password_hash=password_hash, roles=["leading_group"],
                 unit_id=lg.id),
            User(username="designer1", name="设计", password_hash=password_hash, roles=["designer"],
                 unit_id=office.id),
            User(username="discipline1", name="纪委", password_hash=password_hash, roles=["discipline"],
                 unit_id=disc.id),
        ])
        for i in range(2):
            u = User(username=f"inspector{i}", name=f"巡察员{i}", password_hash=password_hash,
                     roles=["inspector"], unit_id=office.id)
            s.add(u)
            s.flush()
            d.inspectors.append(u.id)

    ctx.db.transaction(work)
    return d


@pytest.fixture
def district(ctx, password_hash) -> District:
    return build_district(ctx, password_hash)


class Api:
    """A logged-in HTTP client: `api.as_("office1").get(...)`."""

    def __init__(self, client):
        self.client = client
        self.tokens: dict[str, str] = {}

    def token(self, username: str) -> str:
        if username not in self.tokens:
            r = self.client.post("/api/v1/auth/token", json={"username": username, "password": PASSWORD})
            assert r.status_code == 200, r.get_json()
            self.tokens[username] = r.get_json()["token"]
        return self.tokens[username]

    def as_(self, username: str) -> "UserApi":
        return UserApi(self.client, {"Authorization": f"Bearer {self.token(username)}"})


class UserApi:
    def __init__(self, client, headers):
        self.client, self.headers = client, headers

    def get(self, path, **kw):
        return self.client.get("/api/v1" + path, headers=self.headers, **kw)

    def post(self, path, **kw):
        return self.client.post("/api/v1" + path, headers=self.headers, **kw)

    def tasks(self, **params) -> list[dict]:
        r = self.get("/tasks", query_string={"limit": 500, **params})
        assert r.status_code == 200, r.get_json()
        return r.get_json()["items"]

    def complete(self, task_id, data, expect=200):
        r = self.post(f"/tasks/{task_id}/complete", json={"data": data})
        assert r.status_code == expect, r.get_json()
        return r.get_json()


@pytest.fixture
def api(client) -> Api:
    return Api(client)


def user_id(ctx, username: str) -> int:
    with ctx.db.read() as s:
        return s.scalar(select(User.id).where(User.username == username))
