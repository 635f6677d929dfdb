"""Recurrence (问题反弹): a problem names the earlier case whose closed problem it repeats, and how it
was found again (similar wording, or a follow-up re-check).

A database that create_all made with these columns before it was stamped holds them already; it is kept."""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from service.schema import has_column

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if has_column(op.get_bind(), "problem", "recurrence"):
        return
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        # SQLite alters no constraint, but takes a REFERENCES clause on a new nullable column: no rebuild
        op.execute("ALTER TABLE problem ADD COLUMN recurring_of_case_id INTEGER REFERENCES rectification_case (id)")
    else:
        op.add_column("problem", sa.Column("recurring_of_case_id", sa.Integer(), nullable=True))
        op.create_foreign_key("fk_problem_recurring_of_case_id", "problem", "rectification_case",
                              ["recurring_of_case_id"], ["id"])
    op.add_column("problem", sa.Column("recurrence", sa.String(length=20), nullable=True))
    op.create_index("ix_problem_recurring_of_case_id", "problem", ["recurring_of_case_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_problem_recurring_of_case_id", table_name="problem")
    with op.batch_alter_table("problem") as batch_op:  # the column's foreign key goes with it
        batch_op.drop_column("recurrence")
        batch_op.drop_column("recurring_of_case_id")
