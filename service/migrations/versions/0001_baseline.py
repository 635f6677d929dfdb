"""The schema before migrations: the tables the release before publication jobs (commit 96a0fe7)
made with create_all, frozen here as they were.

A database made before migrations has no alembic_version; it is upgraded from here, and this revision
creates what of this schema it lacks (tables whole, columns, indexes) and keeps every row: a database
of that release gains nothing, one of an older release what the start of that release would have
added. An empty database gets it all.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from service.schema import create_missing

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

def snapshot() -> sa.MetaData:
    """The tables of then, built when asked for (loading the revisions, as every start does, stays cheap)."""
    metadata = sa.MetaData()

    def _table(name: str, *elements) -> None:
        sa.Table(name, metadata, *elements)

    def _index(name: str, table: str, columns: list[str], unique: bool = False) -> None:
        sa.Index(name, *(metadata.tables[table].c[c] for c in columns), unique=unique)

    _table("audit_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last_id", sa.Integer(), nullable=False),
        sa.Column("last_hash", sa.String(length=64), nullable=False),
        sa.Column("base_id", sa.Integer(), server_default="0", nullable=False),
        sa.Column("base_hash", sa.String(length=64), server_default="", nullable=False),
        sa.PrimaryKeyConstraint("id")
    )
    _table("audit_log",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=80), nullable=True),
        sa.Column("address", sa.String(length=64), nullable=True),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("target", sa.String(length=200), nullable=True),
        sa.Column("outcome", sa.String(length=10), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id")
    )
    _index("ix_audit_log_action", "audit_log", ["action"], unique=False)
    _index("ix_audit_log_actor", "audit_log", ["actor"], unique=False)
    _index("ix_audit_log_at", "audit_log", ["at"], unique=False)
    _table("evidence_blob",
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("sha256")
    )
    _table("expert",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("organisation", sa.String(length=200), nullable=False),
        sa.Column("specialties", sa.JSON(), nullable=False),
        sa.Column("contact", sa.String(length=200), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id")
    )
    _table("login_throttle",
        sa.Column("name_sha256", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), server_default="0", nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("name_sha256")
    )
    _table("unit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("industry", sa.String(length=100), nullable=True),
        sa.Column("department_id", sa.Integer(), nullable=True),
        sa.Column("leader_id", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["department_id"], ["unit.id"], ),
        sa.ForeignKeyConstraint(["leader_id"], ["app_user.id"], use_alter=True),
        sa.ForeignKeyConstraint(["parent_id"], ["unit.id"], ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code")
    )
    _table("app_user",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=80), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("roles", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("session_epoch", sa.Integer(), server_default="0", nullable=False),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("must_change_password", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"], ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("username")
    )
    _index("ix_app_user_unit_id", "app_user", ["unit_id"], unique=False)
    _table("api_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_sha256", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["app_user.id"], ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_sha256")
    )
    _index("ix_api_token_user_id", "api_token", ["user_id"], unique=False)
    _table("inspection_round",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("process_instance_id", sa.Integer(), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["created_by"], ["app_user.id"], ),
        sa.PrimaryKeyConstraint("id")
    )
    _table("inspector_declaration",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("specialties", sa.JSON(), nullable=False),
        sa.Column("home_unit_id", sa.Integer(), nullable=True),
        sa.Column("conflict_unit_ids", sa.JSON(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("changed_by", sa.Integer(), nullable=True),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["changed_by"], ["app_user.id"], ),
        sa.ForeignKeyConstraint(["home_unit_id"], ["unit.id"], ),
        sa.ForeignKeyConstraint(["user_id"], ["app_user.id"], ),
        sa.PrimaryKeyConstraint("id")
    )
    _index("ix_inspector_declaration_user_id", "inspector_declaration", ["user_id"], unique=False)
    _table("inspector_profile",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("specialties", sa.JSON(), nullable=False),
        sa.Column("home_unit_id", sa.Integer(), nullable=True),
        sa.Column("conflict_unit_ids", sa.JSON(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["home_unit_id"], ["unit.id"], ),
        sa.ForeignKeyConstraint(["user_id"], ["app_user.id"], ),
        sa.PrimaryKeyConstraint("user_id")
    )
    _table("password_history",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("hash", sa.String(length=200), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["app_user.id"], ),
        sa.PrimaryKeyConstraint("id")
    )
    _index("ix_password_history_user_id", "password_history", ["user_id"], unique=False)
    _table("role_change",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("roles_before", sa.JSON(), nullable=False),
        sa.Column("roles_after", sa.JSON(), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("proposed_by", sa.Integer(), nullable=False),
        sa.Column("proposer_duty", sa.String(length=20), nullable=False),
        sa.Column("proposed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("comment", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(["decided_by"], ["app_user.id"], ),
        sa.ForeignKeyConstraint(["proposed_by"], ["app_user.id"], ),
        sa.ForeignKeyConstraint(["user_id"], ["app_user.id"], ),
        sa.PrimaryKeyConstraint("id")
    )
    _index("ix_role_change_state", "role_change", ["state"], unique=False)
    _index("ix_role_change_user_id", "role_change", ["user_id"], unique=False)
    _table("task_draft",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("saved_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["app_user.id"], ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("task_id", "user_id")
    )
    _index("ix_task_draft_task_id", "task_draft", ["task_id"], unique=False)
    _table("totp_factor",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("secret", sa.String(length=64), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("last_step", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("enabled_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["app_user.id"], ),
        sa.PrimaryKeyConstraint("user_id")
    )
    _table("clue",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("summary", sa.String(length=300), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("registered_by", sa.Integer(), nullable=False),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("handed_over_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("disposition", sa.String(length=30), nullable=True),
        sa.Column("people_count", sa.Integer(), nullable=False),
        sa.Column("disposed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("process_instance_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["registered_by"], ["app_user.id"], ),
        sa.ForeignKeyConstraint(["round_id"], ["inspection_round.id"], ),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"], ),
        sa.PrimaryKeyConstraint("id")
    )
    _index("ix_clue_round_id", "clue", ["round_id"], unique=False)
    _table("common_problem",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("category", sa.String(length=100), nullable=False),
        sa.Column("responsible_department_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("targets", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(["responsible_department_id"], ["unit.id"], ),
        sa.ForeignKeyConstraint(["round_id"], ["inspection_round.id"], ),
        sa.PrimaryKeyConstraint("id")
    )
    _index("ix_common_problem_round_id", "common_problem", ["round_id"], unique=False)
    _table("recommendation_letter",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("common_problem_ids", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("process_instance_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["department_id"], ["unit.id"], ),
        sa.ForeignKeyConstraint(["round_id"], ["inspection_round.id"], ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("round_id", "department_id")
    )
    _index("ix_recommendation_letter_round_id", "recommendation_letter", ["round_id"], unique=False)
    _table("rectification_case",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("warning", sa.String(length=10), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("process_instance_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("filed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("previous_instance_ids", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["round_id"], ["inspection_round.id"], ),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"], ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("round_id", "unit_id")
    )
    _index("ix_rectification_case_process_instance_id", "rectification_case", ["process_instance_id"], unique=False)
    _index("ix_rectification_case_round_id", "rectification_case", ["round_id"], unique=False)
    _index("ix_rectification_case_status", "rectification_case", ["status"], unique=False)
    _index("ix_rectification_case_unit_id", "rectification_case", ["unit_id"], unique=False)
    _table("round_expert",
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("expert_id", sa.Integer(), nullable=False),
        sa.Column("assigned_by", sa.Integer(), nullable=True),
        sa.Column("assigned_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["assigned_by"], ["app_user.id"], ),
        sa.ForeignKeyConstraint(["expert_id"], ["expert.id"], ),
        sa.ForeignKeyConstraint(["round_id"], ["inspection_round.id"], ),
        sa.PrimaryKeyConstraint("round_id", "expert_id")
    )
    _table("round_inspector",
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["round_id"], ["inspection_round.id"], ),
        sa.ForeignKeyConstraint(["user_id"], ["app_user.id"], ),
        sa.PrimaryKeyConstraint("round_id", "user_id")
    )
    _table("round_unit",
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["round_id"], ["inspection_round.id"], ),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"], ),
        sa.PrimaryKeyConstraint("round_id", "unit_id")
    )
    _table("case_comment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["author_id"], ["app_user.id"], ),
        sa.ForeignKeyConstraint(["case_id"], ["rectification_case.id"], ),
        sa.ForeignKeyConstraint(["department_id"], ["unit.id"], ),
        sa.PrimaryKeyConstraint("id")
    )
    _index("ix_case_comment_case_id", "case_comment", ["case_id"], unique=False)
    _table("case_common_problem",
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("common_problem_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["rectification_case.id"], ),
        sa.ForeignKeyConstraint(["common_problem_id"], ["common_problem.id"], ),
        sa.PrimaryKeyConstraint("case_id", "common_problem_id")
    )
    _index("ix_case_common_problem_common_problem_id", "case_common_problem", ["common_problem_id"], unique=False)
    _table("common_problem_co_department",
        sa.Column("common_problem_id", sa.Integer(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["common_problem_id"], ["common_problem.id"], ),
        sa.ForeignKeyConstraint(["department_id"], ["unit.id"], ),
        sa.PrimaryKeyConstraint("common_problem_id", "department_id")
    )
    _index("ix_common_problem_co_department_department_id", "common_problem_co_department", ["department_id"], unique=False)
    _table("extension_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("days", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("requested_by", sa.Integer(), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_before", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_after", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("opinion", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["rectification_case.id"], ),
        sa.ForeignKeyConstraint(["decided_by"], ["app_user.id"], ),
        sa.ForeignKeyConstraint(["requested_by"], ["app_user.id"], ),
        sa.PrimaryKeyConstraint("id")
    )
    _index("ix_extension_request_case_id", "extension_request", ["case_id"], unique=False)
    _index("ix_extension_request_state", "extension_request", ["state"], unique=False)
    _table("filing",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("filed_by", sa.Integer(), nullable=False),
        sa.Column("filed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attest_comment", sa.Text(), nullable=True),
        sa.Column("pass_number", sa.Integer(), server_default="1", nullable=False),
        sa.Column("result", sa.String(length=20), nullable=True),
        sa.Column("reviewed_by", sa.Integer(), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("review_comment", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["rectification_case.id"], ),
        sa.ForeignKeyConstraint(["filed_by"], ["app_user.id"], ),
        sa.ForeignKeyConstraint(["reviewed_by"], ["app_user.id"], ),
        sa.PrimaryKeyConstraint("id")
    )
    _index("ix_filing_case_id", "filing", ["case_id"], unique=False)
    _table("leader_notification",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("leader_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("unit_ids", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("instruction", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["rectification_case.id"], ),
        sa.ForeignKeyConstraint(["leader_id"], ["app_user.id"], ),
        sa.ForeignKeyConstraint(["round_id"], ["inspection_round.id"], ),
        sa.PrimaryKeyConstraint("id")
    )
    _index("ix_leader_notification_leader_id", "leader_notification", ["leader_id"], unique=False)
    _index("ix_leader_notification_round_id", "leader_notification", ["round_id"], unique=False)
    _table("problem",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("category", sa.String(length=100), nullable=False),
        sa.Column("source", sa.String(length=30), nullable=False),
        sa.Column("common_problem_id", sa.Integer(), nullable=True),
        sa.Column("recorded_by", sa.Integer(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["common_problem_id"], ["common_problem.id"], ),
        sa.ForeignKeyConstraint(["recorded_by"], ["app_user.id"], ),
        sa.ForeignKeyConstraint(["round_id"], ["inspection_round.id"], ),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"], ),
        sa.PrimaryKeyConstraint("id")
    )
    _index("ix_problem_common_problem_id", "problem", ["common_problem_id"], unique=False)
    _index("ix_problem_round_id", "problem", ["round_id"], unique=False)
    _index("ix_problem_unit_id", "problem", ["unit_id"], unique=False)
    _table("rectification_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("common_problem_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["rectification_case.id"], ),
        sa.ForeignKeyConstraint(["common_problem_id"], ["common_problem.id"], ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("case_id", "common_problem_id")
    )
    _index("ix_rectification_item_case_id", "rectification_item", ["case_id"], unique=False)
    _table("self_check_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("common_problem_id", sa.Integer(), nullable=False),
        sa.Column("applicable", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("problems_found", sa.Integer(), nullable=False),
        sa.Column("findings", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["rectification_case.id"], ),
        sa.ForeignKeyConstraint(["common_problem_id"], ["common_problem.id"], ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("case_id", "common_problem_id")
    )
    _index("ix_self_check_item_case_id", "self_check_item", ["case_id"], unique=False)
    _table("supervision_action",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("target_unit_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("outcome", sa.String(length=20), nullable=True),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("data", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(["actor_id"], ["app_user.id"], ),
        sa.ForeignKeyConstraint(["case_id"], ["rectification_case.id"], ),
        sa.ForeignKeyConstraint(["round_id"], ["inspection_round.id"], ),
        sa.ForeignKeyConstraint(["target_unit_id"], ["unit.id"], ),
        sa.PrimaryKeyConstraint("id")
    )
    _index("ix_supervision_action_case_id", "supervision_action", ["case_id"], unique=False)
    _index("ix_supervision_action_round_id", "supervision_action", ["round_id"], unique=False)
    _table("audit_finding",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=True),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("audit_ref", sa.String(length=100), nullable=True),
        sa.Column("problem_id", sa.Integer(), nullable=True),
        sa.Column("expert_id", sa.Integer(), nullable=True),
        sa.Column("recorded_by", sa.Integer(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["expert_id"], ["expert.id"], ),
        sa.ForeignKeyConstraint(["problem_id"], ["problem.id"], ),
        sa.ForeignKeyConstraint(["recorded_by"], ["app_user.id"], ),
        sa.ForeignKeyConstraint(["round_id"], ["inspection_round.id"], ),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"], ),
        sa.PrimaryKeyConstraint("id")
    )
    _index("ix_audit_finding_problem_id", "audit_finding", ["problem_id"], unique=False)
    _index("ix_audit_finding_round_id", "audit_finding", ["round_id"], unique=False)
    _table("document",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("number", sa.String(length=60), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("letter_id", sa.Integer(), nullable=True),
        sa.Column("filing_id", sa.Integer(), nullable=True),
        sa.Column("action_id", sa.Integer(), nullable=True),
        sa.Column("issued_on", sa.Date(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["action_id"], ["supervision_action.id"], ),
        sa.ForeignKeyConstraint(["case_id"], ["rectification_case.id"], ),
        sa.ForeignKeyConstraint(["created_by"], ["app_user.id"], ),
        sa.ForeignKeyConstraint(["filing_id"], ["filing.id"], ),
        sa.ForeignKeyConstraint(["letter_id"], ["recommendation_letter.id"], ),
        sa.ForeignKeyConstraint(["round_id"], ["inspection_round.id"], ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("kind", "year", "seq")
    )
    _index("ix_document_action_id", "document", ["action_id"], unique=False)
    _index("ix_document_case_id", "document", ["case_id"], unique=False)
    _index("ix_document_letter_id", "document", ["letter_id"], unique=False)
    _index("ix_document_round_id", "document", ["round_id"], unique=False)
    _table("institution",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("pass_number", sa.Integer(), server_default="1", nullable=False),
        sa.ForeignKeyConstraint(["item_id"], ["rectification_item.id"], ),
        sa.PrimaryKeyConstraint("id")
    )
    _index("ix_institution_item_id", "institution", ["item_id"], unique=False)
    _table("measure",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("deadline", sa.Date(), nullable=True),
        sa.Column("pass_number", sa.Integer(), server_default="1", nullable=False),
        sa.Column("followup_instance_id", sa.Integer(), nullable=True),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("done_comment", sa.Text(), nullable=True),
        sa.Column("overdue_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["item_id"], ["rectification_item.id"], ),
        sa.PrimaryKeyConstraint("id")
    )
    _index("ix_measure_item_id", "measure", ["item_id"], unique=False)
    _table("notice",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=True),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("task_id", sa.String(length=36), nullable=True),
        sa.Column("notification_id", sa.Integer(), nullable=True),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("subject", sa.String(length=400), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["rectification_case.id"], ),
        sa.ForeignKeyConstraint(["notification_id"], ["leader_notification.id"], ),
        sa.ForeignKeyConstraint(["round_id"], ["inspection_round.id"], ),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"], ),
        sa.ForeignKeyConstraint(["user_id"], ["app_user.id"], ),
        sa.PrimaryKeyConstraint("id")
    )
    _index("ix_notice_task_id", "notice", ["task_id"], unique=False)
    _index("ix_notice_user_id", "notice", ["user_id"], unique=False)
    _table("evidence",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=True),
        sa.Column("common_problem_id", sa.Integer(), nullable=True),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("uploaded_by", sa.Integer(), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("effective_date", sa.Date(), nullable=True),
        sa.Column("measure_id", sa.Integer(), nullable=True),
        sa.Column("review", sa.String(length=20), nullable=True),
        sa.Column("review_comment", sa.Text(), nullable=True),
        sa.Column("reviewed_by", sa.Integer(), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["rectification_case.id"], ),
        sa.ForeignKeyConstraint(["item_id"], ["rectification_item.id"], ),
        sa.ForeignKeyConstraint(["measure_id"], ["measure.id"], ),
        sa.ForeignKeyConstraint(["reviewed_by"], ["app_user.id"], ),
        sa.ForeignKeyConstraint(["sha256"], ["evidence_blob.sha256"], ),
        sa.ForeignKeyConstraint(["uploaded_by"], ["app_user.id"], ),
        sa.PrimaryKeyConstraint("id")
    )
    _index("ix_evidence_case_id", "evidence", ["case_id"], unique=False)
    _index("ix_evidence_measure_id", "evidence", ["measure_id"], unique=False)
    _table("evidence_review",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("evidence_id", sa.Integer(), nullable=False),
        sa.Column("result", sa.String(length=20), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("reviewed_by", sa.Integer(), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["evidence_id"], ["evidence.id"], ),
        sa.ForeignKeyConstraint(["reviewed_by"], ["app_user.id"], ),
        sa.PrimaryKeyConstraint("id")
    )
    _index("ix_evidence_review_evidence_id", "evidence_review", ["evidence_id"], unique=False)
    _table("wf_model_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("name", sa.String(length=400), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("bpmn_xml", sa.LargeBinary(), nullable=False),
        sa.Column("process_ids", sa.JSON(), nullable=False),
        sa.Column("task_meta", sa.JSON(), nullable=False),
        sa.Column("deployed_by", sa.String(length=200), nullable=True),
        sa.Column("deployed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key", "sha256"),
        sa.UniqueConstraint("key", "version")
    )
    _index("ix_wf_model_version_key", "wf_model_version", ["key"], unique=False)
    _table("wf_instance",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("model_version_id", sa.Integer(), nullable=False),
        sa.Column("model_key", sa.String(length=200), nullable=False),
        sa.Column("business_key", sa.String(length=200), nullable=True),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("error_code", sa.String(length=40), nullable=True),
        sa.Column("error_element", sa.String(length=200), nullable=True),
        sa.Column("failures", sa.Integer(), server_default="0", nullable=False),
        sa.Column("retry_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column("lock_version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["model_version_id"], ["wf_model_version.id"], ),
        sa.PrimaryKeyConstraint("id")
    )
    _index("ix_wf_instance_business_key", "wf_instance", ["business_key"], unique=False)
    _index("ix_wf_instance_model_key", "wf_instance", ["model_key"], unique=False)
    _index("ix_wf_instance_model_version_id", "wf_instance", ["model_version_id"], unique=False)
    _index("ix_wf_instance_status", "wf_instance", ["status"], unique=False)
    _index("ix_wf_instance_unit_id", "wf_instance", ["unit_id"], unique=False)
    _table("wf_history",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("instance_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=True),
        sa.Column("event", sa.String(length=50), nullable=False),
        sa.Column("bpmn_id", sa.String(length=200), nullable=True),
        sa.Column("name", sa.String(length=400), nullable=True),
        sa.Column("task_id", sa.String(length=36), nullable=True),
        sa.Column("data", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(["instance_id"], ["wf_instance.id"], ),
        sa.PrimaryKeyConstraint("id")
    )
    _index("ix_wf_history_actor", "wf_history", ["actor", "event", "at"], unique=False)
    _index("ix_wf_history_at", "wf_history", ["at"], unique=False)
    _index("ix_wf_history_instance_id", "wf_history", ["instance_id"], unique=False)
    _table("wf_human_task",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("instance_id", sa.Integer(), nullable=False),
        sa.Column("model_key", sa.String(length=200), nullable=False),
        sa.Column("bpmn_id", sa.String(length=200), nullable=False),
        sa.Column("step", sa.String(length=100), nullable=True),
        sa.Column("name", sa.String(length=400), nullable=False),
        sa.Column("lane", sa.String(length=200), nullable=True),
        sa.Column("role", sa.String(length=50), nullable=True),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("business_key", sa.String(length=200), nullable=True),
        sa.Column("form_key", sa.String(length=200), nullable=True),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("completed_by", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(["instance_id"], ["wf_instance.id"], ),
        sa.PrimaryKeyConstraint("id")
    )
    _index("ix_wf_human_task_bpmn_id", "wf_human_task", ["bpmn_id"], unique=False)
    _index("ix_wf_human_task_instance_id", "wf_human_task", ["instance_id"], unique=False)
    _index("ix_wf_human_task_model_key", "wf_human_task", ["model_key"], unique=False)
    _index("ix_wf_task_facets", "wf_human_task", ["state", "role", "unit_id", "model_key", "bpmn_id", "due_at"], unique=False)
    _index("ix_wf_task_inbox", "wf_human_task", ["state", "role", "unit_id", "due_at"], unique=False)
    _table("wf_message_subscription",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("instance_id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("correlation_key", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(["instance_id"], ["wf_instance.id"], ),
        sa.PrimaryKeyConstraint("id")
    )
    _index("ix_wf_message_subscription_correlation_key", "wf_message_subscription", ["correlation_key"], unique=False)
    _index("ix_wf_message_subscription_instance_id", "wf_message_subscription", ["instance_id"], unique=False)
    _index("ix_wf_message_subscription_name", "wf_message_subscription", ["name"], unique=False)
    _table("wf_timer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("instance_id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.String(length=36), nullable=False),
        sa.Column("bpmn_id", sa.String(length=200), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["instance_id"], ["wf_instance.id"], ),
        sa.PrimaryKeyConstraint("id")
    )
    _index("ix_wf_timer_due_at", "wf_timer", ["due_at"], unique=False)
    _index("ix_wf_timer_instance_id", "wf_timer", ["instance_id"], unique=False)
    _table("wf_task_candidate",
        sa.Column("task_id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["task_id"], ["wf_human_task.id"], ),
        sa.PrimaryKeyConstraint("task_id", "user_id")
    )
    _index("ix_wf_task_candidate_user_id", "wf_task_candidate", ["user_id"], unique=False)
    return metadata


def upgrade() -> None:
    create_missing(op.get_bind(), snapshot())


def downgrade() -> None:
    # units and accounts name each other: PostgreSQL drops the constraints with the tables
    cascade = " CASCADE" if op.get_bind().dialect.name == "postgresql" else ""
    for table in reversed(snapshot().sorted_tables):
        op.execute(f'DROP TABLE IF EXISTS "{table.name}"{cascade}')
