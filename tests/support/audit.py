"""Reading and tampering with the audit log as the tests do: its entries, and SQL written straight
to the database (as someone with database access but without the audit key would)."""
from __future__ import annotations

from sqlalchemy import select, text

from service.models import AuditEntry


def entries(ctx, **where) -> list[AuditEntry]:
    """The entries in chain order, those whose columns equal `where`'s values."""
    with ctx.db.read() as s:
        query = select(AuditEntry).order_by(AuditEntry.id)
        for name, value in where.items():
            query = query.where(getattr(AuditEntry, name) == value)
        return list(s.scalars(query))


def sql(ctx, statement: str, **params) -> None:
    with ctx.db.engine.begin() as conn:
        conn.execute(text(statement), params)
