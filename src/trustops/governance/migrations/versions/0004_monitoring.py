"""Monitoring: predictions, labels, window results, alerts and retraining triggers.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from trustops.governance.migrations.triggers import append_only

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    _upgrade_predictions()
    _upgrade_monitors()


def downgrade() -> None:
    _downgrade_monitors()
    _downgrade_predictions()


# -- predictions -------------------------------------------------------------------


_ROW_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _upgrade_predictions() -> None:
    op.create_table(
        "ingest_requests",
        sa.Column("id", _ROW_ID, nullable=False),
        sa.Column("principal", sa.String(length=200), nullable=False),
        sa.Column("idempotency_key", sa.String(length=200), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("model_version_id", sa.Integer(), nullable=False),
        sa.Column("record_count", sa.Integer(), nullable=False),
        sa.Column("response", sa.Text(), nullable=False),
        sa.Column("created_at", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["model_version_id"],
            ["model_versions.id"],
            name=op.f("fk_ingest_requests_model_version_id_model_versions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ingest_requests")),
        sa.UniqueConstraint(
            "principal",
            "idempotency_key",
            name=op.f("uq_ingest_requests_principal_idempotency_key"),
        ),
    )
    op.create_table(
        "prediction_batches",
        sa.Column("id", _ROW_ID, nullable=False),
        sa.Column("request_id", _ROW_ID, nullable=False),
        sa.Column("model_version_id", sa.Integer(), nullable=False),
        sa.Column("row_count", sa.Integer(), nullable=False),
        sa.Column("first_time", sa.String(length=32), nullable=False),
        sa.Column("last_time", sa.String(length=32), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["model_version_id"],
            ["model_versions.id"],
            name=op.f("fk_prediction_batches_model_version_id_model_versions"),
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["ingest_requests.id"],
            name=op.f("fk_prediction_batches_request_id_ingest_requests"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_prediction_batches")),
        sa.UniqueConstraint("request_id", name=op.f("uq_prediction_batches_request_id")),
    )
    op.create_index(
        op.f("ix_prediction_batches_model_version_id_first_time"),
        "prediction_batches",
        ["model_version_id", "first_time"],
        unique=False,
    )
    op.create_table(
        "predictions",
        sa.Column("id", _ROW_ID, nullable=False),
        sa.Column("model_version_id", sa.Integer(), nullable=False),
        sa.Column("prediction_id", sa.String(length=200), nullable=False),
        sa.Column("batch_id", _ROW_ID, nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("time", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["model_version_id"],
            ["model_versions.id"],
            name=op.f("fk_predictions_model_version_id_model_versions"),
        ),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["prediction_batches.id"],
            name=op.f("fk_predictions_batch_id_prediction_batches"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_predictions")),
        sa.UniqueConstraint(
            "model_version_id",
            "prediction_id",
            name=op.f("uq_predictions_model_version_id_prediction_id"),
        ),
    )
    op.create_index(
        op.f("ix_predictions_model_version_id_time"),
        "predictions",
        ["model_version_id", "time"],
        unique=False,
    )
    op.create_table(
        "labels",
        sa.Column("prediction_row", _ROW_ID, nullable=False),
        sa.Column("request_id", _ROW_ID, nullable=False),
        sa.Column("label", sa.Text(), nullable=False),
        sa.Column("time", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["prediction_row"],
            ["predictions.id"],
            name=op.f("fk_labels_prediction_row_predictions"),
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["ingest_requests.id"],
            name=op.f("fk_labels_request_id_ingest_requests"),
        ),
        sa.PrimaryKeyConstraint("prediction_row", name=op.f("pk_labels")),
    )


def _downgrade_predictions() -> None:
    op.drop_table("labels")
    op.drop_index(op.f("ix_predictions_model_version_id_time"), table_name="predictions")
    op.drop_table("predictions")
    op.drop_index(
        op.f("ix_prediction_batches_model_version_id_first_time"), table_name="prediction_batches"
    )
    op.drop_table("prediction_batches")
    op.drop_table("ingest_requests")


# -- monitors -------------------------------------------------------------------


_MONITORING_APPEND_ONLY = (
    "monitor_windows",
    "monitor_series",
    "alert_records",
    "alert_deliveries",
    "trigger_runs",
    "retraining_lineage",
)


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}")
    )


def _upgrade_monitors() -> None:
    time = sa.String(length=32)
    op.create_table(
        "monitors",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("model_version_id", sa.Integer(), nullable=False),
        sa.Column("config", sa.Text(), nullable=False),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("next_due", time, nullable=True),
        sa.Column("created_at", time, nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("updated_at", time, nullable=False),
        _fk("monitors", "model_version_id", "model_versions"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_monitors")),
        sa.UniqueConstraint("name", name=op.f("uq_monitors_name")),
    )
    op.create_table(
        "monitor_windows",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("monitor_id", sa.Integer(), nullable=False),
        sa.Column("window_index", sa.BigInteger(), nullable=False),
        sa.Column("start", time, nullable=True),
        sa.Column("end", time, nullable=True),
        sa.Column("row_count", sa.BigInteger(), nullable=False),
        sa.Column("late_count", sa.BigInteger(), nullable=False),
        sa.Column("evidence_id", sa.Integer(), nullable=False),
        sa.Column("created_at", time, nullable=False),
        _fk("monitor_windows", "monitor_id", "monitors"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_monitor_windows")),
        sa.UniqueConstraint(
            "monitor_id", "window_index", name=op.f("uq_monitor_windows_monitor_id_window_index")
        ),
    )
    op.create_table(
        "monitor_series",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("monitor_id", sa.Integer(), nullable=False),
        sa.Column("window_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=300), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("low", sa.Float(), nullable=True),
        sa.Column("high", sa.Float(), nullable=True),
        sa.Column("op", sa.String(length=2), nullable=False),
        sa.Column("threshold", sa.Float(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
        _fk("monitor_series", "monitor_id", "monitors"),
        _fk("monitor_series", "window_id", "monitor_windows"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_monitor_series")),
    )
    op.create_index(
        op.f("ix_monitor_series_monitor_id_key"), "monitor_series", ["monitor_id", "key"]
    )
    op.create_table(
        "alert_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("monitor_id", sa.Integer(), nullable=False),
        sa.Column("window_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=300), nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.String(length=20), nullable=True),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("created_at", time, nullable=False),
        _fk("alert_records", "monitor_id", "monitors"),
        _fk("alert_records", "window_id", "monitor_windows"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_records")),
    )
    op.create_index(op.f("ix_alert_records_monitor_id"), "alert_records", ["monitor_id"])
    op.create_table(
        "alert_deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=200), nullable=False),
        sa.Column("channel_type", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", time, nullable=False),
        _fk("alert_deliveries", "alert_id", "alert_records"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_deliveries")),
    )
    op.create_table(
        "trigger_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=False),
        sa.Column("trigger", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("evidence_id", sa.Integer(), nullable=False),
        sa.Column("created_at", time, nullable=False),
        _fk("trigger_runs", "alert_id", "alert_records"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trigger_runs")),
    )
    op.create_table(
        "retraining_lineage",
        sa.Column("model_version_id", sa.Integer(), nullable=False),
        sa.Column("evidence_id", sa.Integer(), nullable=False),
        sa.Column("created_at", time, nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        _fk("retraining_lineage", "model_version_id", "model_versions"),
        sa.PrimaryKeyConstraint("model_version_id", name=op.f("pk_retraining_lineage")),
    )
    append_only(*_MONITORING_APPEND_ONLY)  # 0001's trigger function is reused


def _downgrade_monitors() -> None:
    op.drop_table("retraining_lineage")
    op.drop_table("trigger_runs")
    op.drop_table("alert_deliveries")
    op.drop_index(op.f("ix_alert_records_monitor_id"), table_name="alert_records")
    op.drop_table("alert_records")
    op.drop_index(op.f("ix_monitor_series_monitor_id_key"), table_name="monitor_series")
    op.drop_table("monitor_series")
    op.drop_table("monitor_windows")
    op.drop_table("monitors")
