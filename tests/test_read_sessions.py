"""Read sessions (`Database.read`) on PostgreSQL: their transaction is read-only, so a write in one is
refused instead of vanishing at its end; and they end with a COMMIT, which leaves the statements
psycopg prepared on the connection in place (a ROLLBACK makes it deallocate them all, and then the
server plans every statement of the next requests again)."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import InternalError

from workflows.tables import ProcessInstance


@pytest.fixture
def ctx(engine_ctx, postgres):
    if postgres is None:
        pytest.skip("read-only transactions and prepared statements are PostgreSQL's")
    return engine_ctx


def test_a_write_in_a_read_session_is_refused_and_nothing_is_stored(ctx):
    with pytest.raises(InternalError, match="read-only transaction"), ctx.db.read() as s:
        s.add(ProcessInstance(model_version_id=1, model_key="simple", state="{}"))
        s.flush()
    with ctx.db.read() as s:
        assert s.scalar(select(func.count()).select_from(ProcessInstance)) == 0


def test_what_a_read_session_prepared_stays_prepared_for_the_next(ctx):
    ctx.db.engine.dispose()  # one connection from here on: each session below has the same one
    with ctx.db.read() as s:
        for _ in range(6):  # psycopg prepares a statement on its sixth run
            s.scalar(select(func.count()).select_from(ProcessInstance))
    with ctx.db.read() as s:
        prepared = s.scalars(text("SELECT statement FROM pg_prepared_statements")).all()
    assert any("wf_instance" in statement for statement in prepared), prepared
