"""Who a user task is for as Camunda Modeler writes it: its assignee and priority on the task row,
its candidate users and groups in `wf_task_offer`.

A database that create_all made with these before it was stamped holds them already; it is kept."""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from service.schema import has_column, has_table

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    if not has_column(bind, "wf_human_task", "assignee"):
        op.add_column("wf_human_task", sa.Column("assignee", sa.String(length=200), nullable=True))
    if not has_column(bind, "wf_human_task", "priority"):
        op.add_column("wf_human_task", sa.Column("priority", sa.Integer(), nullable=True))
    if not has_table(bind, "wf_task_offer"):
        op.create_table(
            "wf_task_offer",
            sa.Column("task_id", sa.String(length=36), sa.ForeignKey("wf_human_task.id"), primary_key=True),
            sa.Column("kind", sa.String(length=10), primary_key=True),
            sa.Column("name", sa.String(length=200), primary_key=True),
        )
        op.create_index("ix_wf_task_offer_name", "wf_task_offer", ["name"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_wf_task_offer_name", table_name="wf_task_offer")
    op.drop_table("wf_task_offer")
    with op.batch_alter_table("wf_human_task") as batch_op:
        batch_op.drop_column("priority")
        batch_op.drop_column("assignee")
