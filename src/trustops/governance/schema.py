"""The governance store's tables (SQLAlchemy Core), one place for the whole schema.

Every table below is written only by :mod:`trustops.governance.registry`, in
the same transaction as the audit entry that records the change. Times are
ISO-8601 UTC strings (``2026-11-27T18:55:16.123456Z``) so that the value in a
row and the one in its audit entry are the same characters; JSON columns hold
canonical JSON (sorted keys, no spaces) so a stored value re-hashes to the
same digest on every database.

Migrations live in ``migrations/`` (Alembic); a test checks that the newest
migration creates exactly these tables.
"""

from __future__ import annotations

import sqlalchemy as sa

__all__ = ["APPEND_ONLY", "metadata"]

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
    }
)

_TIME = sa.String(32)
_HASH = sa.String(64)  # sha256 hex

meta = sa.Table(
    "meta",
    metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

systems = sa.Table(
    "systems",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(200), nullable=False, unique=True),
    sa.Column("owner", sa.String(200), nullable=True),
    sa.Column("purpose", sa.Text, nullable=True),
    sa.Column("use_case", sa.String(100), nullable=True),
    sa.Column("risk", sa.String(20), nullable=True),
    sa.Column("jurisdictions", sa.Text, nullable=False),  # JSON list
    sa.Column("single_production", sa.Boolean, nullable=False),
    sa.Column("created_at", _TIME, nullable=False),
    sa.Column("created_by", sa.String(200), nullable=False),
)

datasets = sa.Table(
    "datasets",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("system_id", sa.ForeignKey("systems.id"), nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("created_at", _TIME, nullable=False),
    sa.UniqueConstraint("system_id", "name"),
)

dataset_versions = sa.Table(
    "dataset_versions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("dataset_id", sa.ForeignKey("datasets.id"), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("content_hash", _HASH, nullable=False),
    sa.Column("hash_method", sa.String(20), nullable=False),  # "file" | "arrow"
    sa.Column("schema", sa.Text, nullable=False),  # JSON: [{"name", "type"}]
    sa.Column("row_count", sa.BigInteger, nullable=False),
    sa.Column("profile_hash", _HASH, nullable=True),  # the stored profile, in the artifact store
    sa.Column("source", sa.Text, nullable=True),
    sa.Column("permitted_purposes", sa.Text, nullable=False),  # JSON list
    sa.Column("lawful_basis", sa.String(100), nullable=True),
    sa.Column("personal_data", sa.Boolean, nullable=False),
    sa.Column("retention_days", sa.Integer, nullable=True),
    sa.Column("created_at", _TIME, nullable=False),
    sa.Column("created_by", sa.String(200), nullable=False),
    sa.UniqueConstraint("dataset_id", "version"),
    sa.UniqueConstraint("dataset_id", "content_hash"),
)

dataset_parents = sa.Table(
    "dataset_parents",
    metadata,
    sa.Column("child_id", sa.ForeignKey("dataset_versions.id"), primary_key=True),
    sa.Column("parent_id", sa.ForeignKey("dataset_versions.id"), primary_key=True),
)

models = sa.Table(
    "models",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("system_id", sa.ForeignKey("systems.id"), nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("created_at", _TIME, nullable=False),
    sa.UniqueConstraint("system_id", "name"),
)

model_versions = sa.Table(
    "model_versions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("model_id", sa.ForeignKey("models.id"), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("artifact_hash", _HASH, nullable=False),
    sa.Column("artifact_size", sa.BigInteger, nullable=False),
    sa.Column("framework", sa.String(100), nullable=True),
    sa.Column("parameters", sa.Text, nullable=False),  # JSON object
    sa.Column("metrics", sa.Text, nullable=False),  # JSON object
    sa.Column("code_commit", sa.String(64), nullable=True),
    sa.Column("parent_id", sa.ForeignKey("model_versions.id"), nullable=True),
    sa.Column("stage", sa.String(20), nullable=False),
    sa.Column("created_at", _TIME, nullable=False),
    sa.Column("created_by", sa.String(200), nullable=False),
    sa.UniqueConstraint("model_id", "version"),
)

model_datasets = sa.Table(
    "model_datasets",
    metadata,
    sa.Column("model_version_id", sa.ForeignKey("model_versions.id"), primary_key=True),
    sa.Column("dataset_version_id", sa.ForeignKey("dataset_versions.id"), primary_key=True),
    sa.Column("role", sa.String(20), primary_key=True),  # "training" | "evaluation"
)

stage_transitions = sa.Table(
    "stage_transitions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("model_version_id", sa.ForeignKey("model_versions.id"), nullable=False),
    sa.Column("source", sa.String(20), nullable=False),
    sa.Column("target", sa.String(20), nullable=False),
    sa.Column("action", sa.String(20), nullable=False),
    sa.Column("reason", sa.Text, nullable=True),
    sa.Column("audit_seq", sa.BigInteger, nullable=False),
    sa.Column("created_at", _TIME, nullable=False),
    sa.Column("created_by", sa.String(200), nullable=False),
)

evidence = sa.Table(
    "evidence",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("kind", sa.String(50), nullable=False),
    sa.Column("subject_type", sa.String(20), nullable=False),  # model_version | dataset_version
    sa.Column("subject_id", sa.Integer, nullable=False),
    sa.Column("content", sa.Text, nullable=False),  # canonical JSON
    sa.Column("content_hash", _HASH, nullable=False),
    sa.Column("created_at", _TIME, nullable=False),
    sa.Column("created_by", sa.String(200), nullable=False),
    sa.Index(None, "subject_type", "subject_id"),
)

audit_entries = sa.Table(
    "audit_entries",
    metadata,
    sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("leaf", sa.LargeBinary, nullable=False),  # canonical JSON of the whole entry
    sa.Column("leaf_hash", sa.LargeBinary(32), nullable=False),
    sa.Column("time", _TIME, nullable=False),
    sa.Column("actor", sa.String(200), nullable=False),
    sa.Column("action", sa.String(50), nullable=False),
    sa.Column("subject", sa.String(300), nullable=False),
)

audit_head = sa.Table(
    "audit_head",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("frontier", sa.LargeBinary, nullable=False),
)

audit_checkpoints = sa.Table(
    "audit_checkpoints",
    metadata,
    sa.Column("size", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("note", sa.Text, nullable=False),
    sa.Column("created_at", _TIME, nullable=False),
)

policies = sa.Table(
    "policies",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("version", sa.String(50), nullable=False),
    sa.Column("hash", _HASH, nullable=False, unique=True),  # sha256 of the canonical JSON
    sa.Column("content", sa.Text, nullable=False),  # canonical JSON of the policy document
    sa.Column("created_at", _TIME, nullable=False),
    sa.Column("created_by", sa.String(200), nullable=False),
)

# -- identity and approvals (migration 0003) --------------------------------

users = sa.Table(
    "users",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(200), nullable=False, unique=True),
    sa.Column("admin", sa.Boolean, nullable=False),
    sa.Column("created_at", _TIME, nullable=False),
    sa.Column("created_by", sa.String(200), nullable=False),
)

api_tokens = sa.Table(
    "api_tokens",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),  # public id, e.g. tok_5f0c...
    sa.Column("user_id", sa.ForeignKey("users.id"), nullable=False),
    sa.Column("hash", _HASH, nullable=False, unique=True),  # sha256 of the secret, never it
    sa.Column("label", sa.String(200), nullable=True),
    sa.Column("expires_at", _TIME, nullable=True),
    sa.Column("revoked_at", _TIME, nullable=True),
    sa.Column("revoked_by", sa.String(200), nullable=True),
    sa.Column("created_at", _TIME, nullable=False),
    sa.Column("created_by", sa.String(200), nullable=False),
)

memberships = sa.Table(
    "memberships",
    metadata,
    sa.Column("user_id", sa.ForeignKey("users.id"), primary_key=True),
    sa.Column("system_id", sa.ForeignKey("systems.id"), primary_key=True),
    sa.Column("role", sa.String(30), nullable=False),
    sa.Column("created_at", _TIME, nullable=False),
    sa.Column("created_by", sa.String(200), nullable=False),
)

sessions = sa.Table(
    "sessions",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("user_id", sa.ForeignKey("users.id"), nullable=False),
    sa.Column("hash", _HASH, nullable=False, unique=True),  # sha256 of the secret, never it
    sa.Column("credential", sa.String(32), nullable=True),  # the token that opened it
    sa.Column("created_at", _TIME, nullable=False),
    sa.Column("expires_at", _TIME, nullable=False),
    sa.Column("ended_at", _TIME, nullable=True),
)

approval_gates = sa.Table(  # the newest row of a system is its gate; policy_hash None: removed
    "approval_gates",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("system_id", sa.ForeignKey("systems.id"), nullable=False),
    sa.Column("policy_hash", _HASH, nullable=True),  # a row of policies
    sa.Column("created_at", _TIME, nullable=False),
    sa.Column("created_by", sa.String(200), nullable=False),
)

approval_requests = sa.Table(
    "approval_requests",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("model_version_id", sa.ForeignKey("model_versions.id"), nullable=False),
    sa.Column("artifact_hash", _HASH, nullable=False),
    sa.Column("evidence_digest", _HASH, nullable=False),
    sa.Column("policy_hash", _HASH, nullable=True),  # the gate's policy when requested
    sa.Column("requirements", sa.Text, nullable=False),  # JSON: {role: count}
    sa.Column("submitter", sa.String(200), nullable=False),
    sa.Column("comment", sa.Text, nullable=True),
    sa.Column("state", sa.String(20), nullable=False),
    sa.Column("created_at", _TIME, nullable=False),
    sa.Column("updated_at", _TIME, nullable=False),
    sa.Index(None, "model_version_id"),
)

approval_votes = sa.Table(
    "approval_votes",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("request_id", sa.ForeignKey("approval_requests.id"), nullable=False),
    sa.Column("voter", sa.String(200), nullable=False),
    sa.Column("role", sa.String(30), nullable=False),
    sa.Column("approve", sa.Boolean, nullable=False),
    sa.Column("comment", sa.Text, nullable=False),
    sa.Column("artifact_hash", _HASH, nullable=False),
    sa.Column("evidence_digest", _HASH, nullable=False),
    sa.Column("created_at", _TIME, nullable=False),
    sa.UniqueConstraint("request_id", "voter"),  # one vote per person and request
)

approval_overrides = sa.Table(
    "approval_overrides",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("model_version_id", sa.ForeignKey("model_versions.id"), nullable=False),
    sa.Column("artifact_hash", _HASH, nullable=False),
    sa.Column("evidence_digest", _HASH, nullable=False),
    sa.Column("policy_hash", _HASH, nullable=True),
    sa.Column("decision_id", sa.Integer, nullable=True),  # the overridden decision (evidence)
    sa.Column("justification", sa.Text, nullable=False),
    sa.Column("created_at", _TIME, nullable=False),
    sa.Column("created_by", sa.String(200), nullable=False),
)

# Identity and approval tables no statement may change or delete (0003's triggers): a gate's
# history, every vote and every override stay as written; requests change state, tokens and
# sessions end, so those are audited rather than frozen.
APPROVALS_APPEND_ONLY = ("approval_gates", "approval_votes", "approval_overrides")


# -- monitoring: predictions and labels (migration 0004, _upgrade_predictions) -

# A batch's records are stored once, as one Arrow IPC blob (a row per prediction of
# JSON costs 13 ms per 1,000 to serialise, the blob 1.5 ms); ``predictions`` indexes
# each record's id and time for uniqueness, labels and window look-ups.
_ROW_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")  # SQLite: a rowid alias

ingest_requests = sa.Table(  # one per accepted batch: its idempotency key and stored response
    "ingest_requests",
    metadata,
    sa.Column("id", _ROW_ID, primary_key=True),
    sa.Column("principal", sa.String(200), nullable=False),  # the key's owner
    sa.Column("idempotency_key", sa.String(200), nullable=False),
    sa.Column("request_hash", _HASH, nullable=False),  # sha256 of route, media type, body
    sa.Column("kind", sa.String(20), nullable=False),  # "predictions" | "labels"
    sa.Column("model_version_id", sa.ForeignKey("model_versions.id"), nullable=False),
    sa.Column("record_count", sa.Integer, nullable=False),
    sa.Column("response", sa.Text, nullable=False),  # canonical JSON, returned on a replay
    sa.Column("created_at", _TIME, nullable=False),
    sa.UniqueConstraint("principal", "idempotency_key"),
)

prediction_batches = sa.Table(  # one per accepted batch of predictions
    "prediction_batches",
    metadata,
    sa.Column("id", _ROW_ID, primary_key=True),
    sa.Column("request_id", sa.ForeignKey("ingest_requests.id"), nullable=False, unique=True),
    sa.Column("model_version_id", sa.ForeignKey("model_versions.id"), nullable=False),
    sa.Column("row_count", sa.Integer, nullable=False),
    sa.Column("first_time", _TIME, nullable=False),  # the batch's earliest and latest
    sa.Column("last_time", _TIME, nullable=False),  # prediction times, to find a window's
    sa.Column("data", sa.LargeBinary, nullable=False),  # Arrow IPC stream of the records
    sa.Index(None, "model_version_id", "first_time"),
)

predictions = sa.Table(  # one per prediction: its id, unique per model version, and time
    "predictions",
    metadata,
    sa.Column("id", _ROW_ID, primary_key=True),
    sa.Column("model_version_id", sa.ForeignKey("model_versions.id"), nullable=False),
    sa.Column("prediction_id", sa.String(200), nullable=False),
    sa.Column("batch_id", sa.ForeignKey("prediction_batches.id"), nullable=False),
    sa.Column("position", sa.Integer, nullable=False),  # the row in the batch's data
    sa.Column("time", _TIME, nullable=False),  # when the model predicted (UTC)
    sa.UniqueConstraint("model_version_id", "prediction_id"),
    sa.Index(None, "model_version_id", "time"),
)

labels = sa.Table(  # ground truth, arriving later, joined to its prediction by prediction id
    "labels",
    metadata,
    sa.Column("prediction_row", sa.ForeignKey("predictions.id"), primary_key=True),
    sa.Column("request_id", sa.ForeignKey("ingest_requests.id"), nullable=False),
    sa.Column("label", sa.Text, nullable=False),  # JSON scalar
    sa.Column("time", _TIME, nullable=False),  # when the outcome was observed (UTC)
)

# -- monitoring: monitors, windows, alerts, triggers (0004, _upgrade_monitors) -

monitors = sa.Table(  # one per monitor: its configuration and what it remembers between runs
    "monitors",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(200), nullable=False, unique=True),
    sa.Column("model_version_id", sa.ForeignKey("model_versions.id"), nullable=False),
    sa.Column("config", sa.Text, nullable=False),  # canonical JSON of the configuration
    sa.Column("state", sa.Text, nullable=False),  # JSON: last window, breach runs, alert states
    sa.Column("enabled", sa.Boolean, nullable=False),
    sa.Column("next_due", _TIME, nullable=True),  # when the next time window closes
    sa.Column("created_at", _TIME, nullable=False),
    sa.Column("created_by", sa.String(200), nullable=False),
    sa.Column("updated_at", _TIME, nullable=False),
)

monitor_windows = sa.Table(  # one per evaluated window; its results are evidence
    "monitor_windows",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("monitor_id", sa.ForeignKey("monitors.id"), nullable=False),
    sa.Column("window_index", sa.BigInteger, nullable=False),
    sa.Column("start", _TIME, nullable=True),  # time windows: [start, end)
    sa.Column("end", _TIME, nullable=True),
    sa.Column("row_count", sa.BigInteger, nullable=False),
    sa.Column("late_count", sa.BigInteger, nullable=False),
    sa.Column("evidence_id", sa.Integer, nullable=False),  # no FK: TRUNCATE must name evidence
    sa.Column("created_at", _TIME, nullable=False),
    sa.UniqueConstraint("monitor_id", "window_index"),
)

monitor_series = sa.Table(  # the time series: one value per window and check
    "monitor_series",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("monitor_id", sa.ForeignKey("monitors.id"), nullable=False),
    sa.Column("window_id", sa.ForeignKey("monitor_windows.id"), nullable=False),
    sa.Column("key", sa.String(300), nullable=False),  # e.g. fairness:selection_rate.ratio[race]
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("value", sa.Float, nullable=True),
    sa.Column("low", sa.Float, nullable=True),
    sa.Column("high", sa.Float, nullable=True),
    sa.Column("op", sa.String(2), nullable=False),
    sa.Column("threshold", sa.Float, nullable=False),
    sa.Column("status", sa.String(20), nullable=False),  # ok | breach | supported | no_data
    sa.Column("action", sa.String(20), nullable=False),  # send | suppress | resolve | none
    sa.Column("n", sa.BigInteger, nullable=False),
    sa.Index(None, "monitor_id", "key"),
)

alert_records = sa.Table(  # every alert decision that sends, suppresses or resolves
    "alert_records",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("monitor_id", sa.ForeignKey("monitors.id"), nullable=False),
    sa.Column("window_id", sa.ForeignKey("monitor_windows.id"), nullable=False),
    sa.Column("key", sa.String(300), nullable=False),
    sa.Column("action", sa.String(20), nullable=False),
    sa.Column("reason", sa.String(20), nullable=True),  # interval | persistence
    sa.Column("payload", sa.Text, nullable=False),  # canonical JSON, as sent
    sa.Column("created_at", _TIME, nullable=False),
    sa.Index(None, "monitor_id"),
)

alert_deliveries = sa.Table(  # each channel's outcome for an alert, after its retries
    "alert_deliveries",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("alert_id", sa.ForeignKey("alert_records.id"), nullable=False),
    sa.Column("channel", sa.String(200), nullable=False),
    sa.Column("channel_type", sa.String(20), nullable=False),
    sa.Column("status", sa.String(10), nullable=False),  # sent | failed
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("error", sa.Text, nullable=True),
    sa.Column("created_at", _TIME, nullable=False),
)

trigger_runs = sa.Table(  # each retraining trigger fired by an alert, and its outcome
    "trigger_runs",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("alert_id", sa.ForeignKey("alert_records.id"), nullable=False),
    sa.Column("trigger", sa.String(200), nullable=False),
    sa.Column("kind", sa.String(20), nullable=False),  # command | webhook
    sa.Column("status", sa.String(10), nullable=False),  # succeeded | failed
    sa.Column("detail", sa.Text, nullable=True),  # exit code or HTTP status, output's tail
    sa.Column("evidence_id", sa.Integer, nullable=False),  # the breach (evidence.id)
    sa.Column("created_at", _TIME, nullable=False),
)

retraining_lineage = sa.Table(  # a model version registered from a triggered retraining
    "retraining_lineage",
    metadata,
    sa.Column("model_version_id", sa.ForeignKey("model_versions.id"), primary_key=True),
    sa.Column("evidence_id", sa.Integer, nullable=False),  # the breach (evidence.id)
    sa.Column("created_at", _TIME, nullable=False),
    sa.Column("created_by", sa.String(200), nullable=False),
)

# Monitoring tables no statement may change or delete once written (0004's triggers).
MONITORING_APPEND_ONLY = (
    "monitor_windows",
    "monitor_series",
    "alert_records",
    "alert_deliveries",
    "trigger_runs",
    "retraining_lineage",
)

# -- privacy: encryption keys, DP budgets (migration 0005, _upgrade_protection) -

encryption_keys = sa.Table(  # key identifiers only: the key material never enters the store
    "encryption_keys",
    metadata,
    sa.Column("key_id", sa.String(32), primary_key=True),  # HMAC-SHA256(key, label)[:16] hex
    sa.Column("algorithm", sa.String(20), nullable=False),  # "AES-256-GCM"
    sa.Column("created_at", _TIME, nullable=False),
    sa.Column("created_by", sa.String(200), nullable=False),
    sa.Column("retired_at", _TIME, nullable=True),  # set when a rotation away from it finished
)

key_rotations = sa.Table(
    "key_rotations",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("from_key", sa.String(32), nullable=True),  # None: plaintext artifacts encrypted
    sa.Column("to_key", sa.ForeignKey("encryption_keys.key_id"), nullable=False),
    sa.Column("rewritten", sa.Integer, nullable=True),  # artifacts re-encrypted, when finished
    sa.Column("started_at", _TIME, nullable=False),
    sa.Column("started_by", sa.String(200), nullable=False),
    sa.Column("finished_at", _TIME, nullable=True),  # None: interrupted or running; resumable
)

privacy_budgets = sa.Table(  # one ledger per dataset (all versions hold the same people)
    "privacy_budgets",
    metadata,
    sa.Column("dataset_id", sa.ForeignKey("datasets.id"), primary_key=True),
    sa.Column("epsilon_total", sa.Float, nullable=False),
    sa.Column("delta_total", sa.Float, nullable=False),
    sa.Column("epsilon_spent", sa.Float, nullable=False),
    sa.Column("delta_spent", sa.Float, nullable=False),
    sa.Column("updated_at", _TIME, nullable=False),
    sa.Column("updated_by", sa.String(200), nullable=False),
)

dp_releases = sa.Table(  # every differentially private release, with what it cost
    "dp_releases",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("dataset_version_id", sa.ForeignKey("dataset_versions.id"), nullable=False),
    sa.Column("statistic", sa.String(30), nullable=False),
    sa.Column("mechanism", sa.String(20), nullable=False),
    sa.Column("epsilon", sa.Float, nullable=False),
    sa.Column("delta", sa.Float, nullable=False),
    sa.Column("content", sa.Text, nullable=False),  # canonical JSON of the release
    sa.Column("created_at", _TIME, nullable=False),
    sa.Column("created_by", sa.String(200), nullable=False),
    sa.Index(None, "dataset_version_id"),
)

PROTECTION_APPEND_ONLY = ("dp_releases",)  # a release, once published, is never rewritten

# -- privacy: usage, subject index, erasure, Art. 22 (0005, _upgrade_subjects) -

data_uses = sa.Table(  # each read of a registered dataset version (its audit entry: data.used)
    "data_uses",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("dataset_version_id", sa.ForeignKey("dataset_versions.id"), nullable=False),
    sa.Column("use", sa.String(30), nullable=False),  # training | evaluation | assessment | ...
    sa.Column("purpose", sa.Text, nullable=True),  # None only for data with no declared purposes
    sa.Column("lawful_basis", sa.String(100), nullable=True),  # the dataset's, at the time
    sa.Column("used_by", sa.String(300), nullable=True),  # e.g. model:SYSTEM/NAME@V
    sa.Column("outcome", sa.String(10), nullable=False),  # "allowed" | "warned"
    sa.Column("audit_seq", sa.BigInteger, nullable=False),
    sa.Column("created_at", _TIME, nullable=False),
    sa.Column("created_by", sa.String(200), nullable=False),
    sa.Index(None, "dataset_version_id"),
)

subject_indexes = sa.Table(  # which column identifies people in a dataset version, and the key
    "subject_indexes",
    metadata,
    sa.Column("dataset_version_id", sa.ForeignKey("dataset_versions.id"), primary_key=True),
    sa.Column("column", sa.String(200), nullable=False),
    sa.Column("key_id", sa.String(32), nullable=False),  # HMAC-SHA256(key, label)[:16] hex
    sa.Column("subjects", sa.Integer, nullable=False),  # distinct ids indexed
    sa.Column("created_at", _TIME, nullable=False),
)

subject_hashes = sa.Table(  # HMAC-SHA256(key, subject id): never the id itself
    "subject_hashes",
    metadata,
    # the key leads with the hash: an erasure looks subjects up by hash in every version
    sa.Column("subject_hash", _HASH, primary_key=True),
    sa.Column("dataset_version_id", sa.ForeignKey("dataset_versions.id"), primary_key=True),
)

erasure_requests = sa.Table(
    "erasure_requests",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("reference", sa.String(200), nullable=True),  # the controller's case number
    sa.Column("subjects", sa.Integer, nullable=False),  # distinct ids in the request
    sa.Column("found", sa.Integer, nullable=False),  # of which held in some dataset version
    sa.Column("key_id", sa.String(32), nullable=False),
    sa.Column("audit_seq", sa.BigInteger, nullable=False),
    sa.Column("created_at", _TIME, nullable=False),
    sa.Column("created_by", sa.String(200), nullable=False),
)

erasure_impacts = sa.Table(  # what a request touches: "retraining required" on model versions
    "erasure_impacts",
    metadata,
    sa.Column("request_id", sa.ForeignKey("erasure_requests.id"), primary_key=True),
    sa.Column("subject_type", sa.String(20), primary_key=True),  # dataset_version | model_version
    sa.Column("subject_id", sa.Integer, primary_key=True),
    sa.Column("matched", sa.Integer, nullable=True),  # subjects found in a dataset version
    sa.Column("action", sa.String(30), nullable=False),  # erase_from_source | retraining_required
)

review_requests = sa.Table(  # GDPR Art. 22(3): human review of an automated decision
    "review_requests",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("prediction_id", sa.String(200), nullable=False),
    sa.Column("model_version_id", sa.ForeignKey("model_versions.id"), nullable=False),
    sa.Column("statement", sa.Text, nullable=True),  # the subject's view; never in the audit log
    sa.Column("status", sa.String(20), nullable=False),  # open | assigned | decided
    sa.Column("reviewer", sa.String(200), nullable=True),
    sa.Column("outcome", sa.String(20), nullable=True),  # upheld | overturned | amended
    sa.Column("answer", sa.Text, nullable=True),  # canonical JSON: rationale and evidence used
    sa.Column("created_at", _TIME, nullable=False),
    sa.Column("created_by", sa.String(200), nullable=False),
    sa.Column("decided_at", _TIME, nullable=True),
    sa.Column("decided_by", sa.String(200), nullable=True),
    sa.Index(None, "model_version_id", "prediction_id"),
)

# Rows no statement may change or delete once written (triggers refuse it).
APPEND_ONLY = (
    "audit_entries",
    "audit_checkpoints",
    "evidence",
    "stage_transitions",
    "policies",
    *APPROVALS_APPEND_ONLY,
    *MONITORING_APPEND_ONLY,
    *PROTECTION_APPEND_ONLY,
)
