"""Model versions a designer makes current again or retires: which version was made current last
(a rank), and when one was retired. A database that create_all made with these columns already holds them."""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from service.schema import has_column

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    if not has_column(bind, "wf_model_version", "current_rank"):
        op.add_column("wf_model_version", sa.Column("current_rank", sa.Integer(), nullable=True))
    if not has_column(bind, "wf_model_version", "retired_at"):
        op.add_column("wf_model_version", sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("wf_model_version") as batch_op:
        batch_op.drop_column("retired_at")
        batch_op.drop_column("current_rank")
