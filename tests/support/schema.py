"""Databases as earlier releases left them, for the schema upgrade tests."""
from __future__ import annotations

from sqlalchemy import text


def made_before_migrations(conn) -> None:
    """Forget the migrations' stamp: the database is then one made by a release before them, whose
    start created what was missing (tests then drop what that release did not have yet)."""
    conn.execute(text("DROP TABLE alembic_version"))
