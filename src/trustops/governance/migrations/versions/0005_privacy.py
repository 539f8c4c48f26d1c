"""Privacy: data-usage records, subject index, erasure requests, privacy budgets, keys.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from trustops.governance.migrations.triggers import append_only

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    _upgrade_protection()
    _upgrade_subjects()


def downgrade() -> None:
    _downgrade_subjects()
    _downgrade_protection()


# -- protection -------------------------------------------------------------------


def _upgrade_protection() -> None:
    op.create_table(
        "encryption_keys",
        sa.Column("key_id", sa.String(length=32), nullable=False),
        sa.Column("algorithm", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.String(length=32), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("retired_at", sa.String(length=32), nullable=True),
        sa.PrimaryKeyConstraint("key_id", name=op.f("pk_encryption_keys")),
    )
    op.create_table(
        "key_rotations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("from_key", sa.String(length=32), nullable=True),
        sa.Column("to_key", sa.String(length=32), nullable=False),
        sa.Column("rewritten", sa.Integer(), nullable=True),
        sa.Column("started_at", sa.String(length=32), nullable=False),
        sa.Column("started_by", sa.String(length=200), nullable=False),
        sa.Column("finished_at", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["to_key"],
            ["encryption_keys.key_id"],
            name=op.f("fk_key_rotations_to_key_encryption_keys"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_key_rotations")),
    )
    op.create_table(
        "privacy_budgets",
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column("epsilon_total", sa.Float(), nullable=False),
        sa.Column("delta_total", sa.Float(), nullable=False),
        sa.Column("epsilon_spent", sa.Float(), nullable=False),
        sa.Column("delta_spent", sa.Float(), nullable=False),
        sa.Column("updated_at", sa.String(length=32), nullable=False),
        sa.Column("updated_by", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["dataset_id"], ["datasets.id"], name=op.f("fk_privacy_budgets_dataset_id_datasets")
        ),
        sa.PrimaryKeyConstraint("dataset_id", name=op.f("pk_privacy_budgets")),
    )
    op.create_table(
        "dp_releases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dataset_version_id", sa.Integer(), nullable=False),
        sa.Column("statistic", sa.String(length=30), nullable=False),
        sa.Column("mechanism", sa.String(length=20), nullable=False),
        sa.Column("epsilon", sa.Float(), nullable=False),
        sa.Column("delta", sa.Float(), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("created_at", sa.String(length=32), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["dataset_version_id"],
            ["dataset_versions.id"],
            name=op.f("fk_dp_releases_dataset_version_id_dataset_versions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dp_releases")),
    )
    op.create_index(
        op.f("ix_dp_releases_dataset_version_id"), "dp_releases", ["dataset_version_id"]
    )
    append_only("dp_releases")  # a release, once made, is public: never changed


def _downgrade_protection() -> None:
    op.drop_table("dp_releases")
    op.drop_table("privacy_budgets")
    op.drop_table("key_rotations")
    op.drop_table("encryption_keys")


# -- subjects -------------------------------------------------------------------


def _upgrade_subjects() -> None:
    op.create_table(
        "data_uses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dataset_version_id", sa.Integer(), nullable=False),
        sa.Column("use", sa.String(length=30), nullable=False),
        sa.Column("purpose", sa.Text(), nullable=True),
        sa.Column("lawful_basis", sa.String(length=100), nullable=True),
        sa.Column("used_by", sa.String(length=300), nullable=True),
        sa.Column("outcome", sa.String(length=10), nullable=False),
        sa.Column("audit_seq", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.String(length=32), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["dataset_version_id"],
            ["dataset_versions.id"],
            name=op.f("fk_data_uses_dataset_version_id_dataset_versions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_data_uses")),
    )
    op.create_index(op.f("ix_data_uses_dataset_version_id"), "data_uses", ["dataset_version_id"])
    op.create_table(
        "subject_indexes",
        sa.Column("dataset_version_id", sa.Integer(), nullable=False),
        sa.Column("column", sa.String(length=200), nullable=False),
        sa.Column("key_id", sa.String(length=32), nullable=False),
        sa.Column("subjects", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["dataset_version_id"],
            ["dataset_versions.id"],
            name=op.f("fk_subject_indexes_dataset_version_id_dataset_versions"),
        ),
        sa.PrimaryKeyConstraint("dataset_version_id", name=op.f("pk_subject_indexes")),
    )
    op.create_table(
        "subject_hashes",
        sa.Column("subject_hash", sa.String(length=64), nullable=False),
        sa.Column("dataset_version_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["dataset_version_id"],
            ["dataset_versions.id"],
            name=op.f("fk_subject_hashes_dataset_version_id_dataset_versions"),
        ),
        sa.PrimaryKeyConstraint(
            "subject_hash", "dataset_version_id", name=op.f("pk_subject_hashes")
        ),
    )
    op.create_table(
        "erasure_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=200), nullable=True),
        sa.Column("subjects", sa.Integer(), nullable=False),
        sa.Column("found", sa.Integer(), nullable=False),
        sa.Column("key_id", sa.String(length=32), nullable=False),
        sa.Column("audit_seq", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.String(length=32), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_erasure_requests")),
    )
    op.create_table(
        "erasure_impacts",
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("subject_type", sa.String(length=20), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("matched", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=30), nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["erasure_requests.id"],
            name=op.f("fk_erasure_impacts_request_id_erasure_requests"),
        ),
        sa.PrimaryKeyConstraint(
            "request_id", "subject_type", "subject_id", name=op.f("pk_erasure_impacts")
        ),
    )
    op.create_table(
        "review_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("prediction_id", sa.String(length=200), nullable=False),
        sa.Column("model_version_id", sa.Integer(), nullable=False),
        sa.Column("statement", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("reviewer", sa.String(length=200), nullable=True),
        sa.Column("outcome", sa.String(length=20), nullable=True),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("created_at", sa.String(length=32), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("decided_at", sa.String(length=32), nullable=True),
        sa.Column("decided_by", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["model_version_id"],
            ["model_versions.id"],
            name=op.f("fk_review_requests_model_version_id_model_versions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_requests")),
    )
    op.create_index(
        op.f("ix_review_requests_model_version_id_prediction_id"),
        "review_requests",
        ["model_version_id", "prediction_id"],
    )


def _downgrade_subjects() -> None:
    for table in (
        "review_requests",
        "erasure_impacts",
        "erasure_requests",
        "subject_hashes",
        "subject_indexes",
        "data_uses",
    ):
        op.drop_table(table)
