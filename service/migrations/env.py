"""Alembic's environment: runs the revisions on the connection service.schema hands over, or, from
the alembic command line (`alembic -c ...`), on the database the settings name."""
from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from service.schema import METADATA
from workflows.tables import UTCDateTime


def _render_item(kind: str, obj, _autogen_context):
    """A new revision spells the models' UTC datetime as the plain type it is in the database, so
    revisions import nothing of the service's code but what they mean to."""
    if kind == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _run(connection: Connection) -> None:
    # batch mode: SQLite cannot ALTER most things in place, so a revision's `batch_alter_table`
    # copies the table there (and alters it directly on PostgreSQL)
    context.configure(connection=connection, target_metadata=list(METADATA), render_as_batch=True,
                      compare_type=True, render_item=_render_item)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("the revisions look at the database they upgrade: run them online (`rectiflow db upgrade`)")

_given = context.config.attributes.get("connection")
if _given is not None:
    _run(_given)
else:
    from config import Settings
    from service.db import make_engine

    _engine = make_engine(context.config.get_main_option("sqlalchemy.url") or Settings().database_url)
    with _engine.begin() as _connection:
        _run(_connection)
    _engine.dispose()
