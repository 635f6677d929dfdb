"""Signals beside messages: a waiting task's subscription says which of the two it waits for, so a
signal broadcast finds every instance that waits for one.

A database that create_all made with this column before it was stamped holds it already; it is kept."""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from service.schema import has_column

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if has_column(op.get_bind(), "wf_message_subscription", "kind"):
        return
    op.add_column("wf_message_subscription", sa.Column("kind", sa.String(length=10), nullable=False,
                                                       server_default="message"))


def downgrade() -> None:
    with op.batch_alter_table("wf_message_subscription") as batch_op:
        batch_op.drop_column("kind")
