"""An index on a user task's assignee: the inbox reads the tasks a diagram assigns to a user by it,
apart from the tasks of the user's lanes, instead of filtering every open task.

A database that create_all made with it before it was stamped holds it already; it is kept."""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

INDEX = "ix_wf_human_task_assignee"


def upgrade() -> None:
    if INDEX not in {i["name"] for i in sa.inspect(op.get_bind()).get_indexes("wf_human_task")}:
        op.create_index(INDEX, "wf_human_task", ["assignee"], unique=False)


def downgrade() -> None:
    op.drop_index(INDEX, table_name="wf_human_task")
