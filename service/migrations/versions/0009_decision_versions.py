"""DMN decisions, versioned like process models: `wf_decision_version`.

A database that create_all made with it before it was stamped holds it already; it is kept."""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from service.schema import has_table

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if has_table(op.get_bind(), "wf_decision_version"):
        return
    op.create_table(
        "wf_decision_version",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("name", sa.String(length=400), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("dmn_xml", sa.LargeBinary(), nullable=False),
        sa.Column("deployed_by", sa.String(length=200), nullable=True),
        sa.Column("deployed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("current_rank", sa.Integer(), nullable=False),
        sa.UniqueConstraint("key", "version"),
        sa.UniqueConstraint("key", "sha256"),
    )
    op.create_index("ix_wf_decision_version_key", "wf_decision_version", ["key"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_wf_decision_version_key", table_name="wf_decision_version")
    op.drop_table("wf_decision_version")
