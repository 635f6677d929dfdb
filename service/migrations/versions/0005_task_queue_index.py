"""The office's queue of open tasks in the inbox's order, read off an index (`ix_wf_task_queue`)
instead of sorting every open task of a district-wide role."""
from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_wf_task_queue", "wf_human_task", ["state", "role", "due_at", "created_at", "id"],
                    unique=False, if_not_exists=True)


def downgrade() -> None:
    op.drop_index("ix_wf_task_queue", table_name="wf_human_task")
