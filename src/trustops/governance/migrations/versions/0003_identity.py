"""Identity and access (users, API tokens, memberships, sessions) and four-eyes approvals.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from trustops.governance.migrations.triggers import append_only

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_TIME = sa.String(length=32)
_HASH = sa.String(length=64)
_WHO = sa.String(length=200)


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", _WHO, nullable=False),
        sa.Column("admin", sa.Boolean(), nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("created_by", _WHO, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("name", name=op.f("uq_users_name")),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("hash", _HASH, nullable=False),
        sa.Column("label", _WHO, nullable=True),
        sa.Column("expires_at", _TIME, nullable=True),
        sa.Column("revoked_at", _TIME, nullable=True),
        sa.Column("revoked_by", _WHO, nullable=True),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("created_by", _WHO, nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_api_tokens_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("hash", name=op.f("uq_api_tokens_hash")),
    )
    op.create_table(
        "memberships",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("system_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=30), nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("created_by", _WHO, nullable=False),
        sa.ForeignKeyConstraint(
            ["system_id"], ["systems.id"], name=op.f("fk_memberships_system_id_systems")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_memberships_user_id_users")
        ),
        sa.PrimaryKeyConstraint("user_id", "system_id", name=op.f("pk_memberships")),
    )
    op.create_table(
        "sessions",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("hash", _HASH, nullable=False),
        sa.Column("credential", sa.String(length=32), nullable=True),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("expires_at", _TIME, nullable=False),
        sa.Column("ended_at", _TIME, nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_sessions_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sessions")),
        sa.UniqueConstraint("hash", name=op.f("uq_sessions_hash")),
    )
    op.create_table(
        "approval_gates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("system_id", sa.Integer(), nullable=False),
        sa.Column("policy_hash", _HASH, nullable=True),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("created_by", _WHO, nullable=False),
        sa.ForeignKeyConstraint(
            ["system_id"], ["systems.id"], name=op.f("fk_approval_gates_system_id_systems")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_approval_gates")),
    )
    op.create_table(
        "approval_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("model_version_id", sa.Integer(), nullable=False),
        sa.Column("artifact_hash", _HASH, nullable=False),
        sa.Column("evidence_digest", _HASH, nullable=False),
        sa.Column("policy_hash", _HASH, nullable=True),
        sa.Column("requirements", sa.Text(), nullable=False),
        sa.Column("submitter", _WHO, nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("updated_at", _TIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["model_version_id"],
            ["model_versions.id"],
            name=op.f("fk_approval_requests_model_version_id_model_versions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_approval_requests")),
    )
    op.create_index(
        op.f("ix_approval_requests_model_version_id"),
        "approval_requests",
        ["model_version_id"],
        unique=False,
    )
    op.create_table(
        "approval_votes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("voter", _WHO, nullable=False),
        sa.Column("role", sa.String(length=30), nullable=False),
        sa.Column("approve", sa.Boolean(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("artifact_hash", _HASH, nullable=False),
        sa.Column("evidence_digest", _HASH, nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["approval_requests.id"],
            name=op.f("fk_approval_votes_request_id_approval_requests"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_approval_votes")),
        sa.UniqueConstraint("request_id", "voter", name=op.f("uq_approval_votes_request_id_voter")),
    )
    op.create_table(
        "approval_overrides",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("model_version_id", sa.Integer(), nullable=False),
        sa.Column("artifact_hash", _HASH, nullable=False),
        sa.Column("evidence_digest", _HASH, nullable=False),
        sa.Column("policy_hash", _HASH, nullable=True),
        sa.Column("decision_id", sa.Integer(), nullable=True),
        sa.Column("justification", sa.Text(), nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("created_by", _WHO, nullable=False),
        sa.ForeignKeyConstraint(
            ["model_version_id"],
            ["model_versions.id"],
            name=op.f("fk_approval_overrides_model_version_id_model_versions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_approval_overrides")),
    )

    append_only(*APPEND_ONLY)


APPEND_ONLY = ("approval_gates", "approval_votes", "approval_overrides")


def downgrade() -> None:
    op.drop_table("approval_overrides")
    op.drop_table("approval_votes")
    op.drop_index(op.f("ix_approval_requests_model_version_id"), table_name="approval_requests")
    op.drop_table("approval_requests")
    op.drop_table("approval_gates")
    op.drop_table("sessions")
    op.drop_table("memberships")
    op.drop_table("api_tokens")
    op.drop_table("users")
