"""Batch mode equals server mode: the same predictions, logged to the server or kept as Parquet
in a lake, give the same monitor windows (issue 8)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import yaml
from typer.testing import CliRunner

from tests.server.conftest import LiveServer
from trustops.cli import app
from trustops.cli.demo_monitoring import degrading_log
from trustops.client import Client
from trustops.monitoring.config import build_config
from trustops.monitoring.records import utc_text
from trustops.monitoring.runner import run_due_monitors
from trustops.monitoring.store import create_monitor

NOW = datetime(2026, 11, 6, tzinfo=UTC)
CONFIG: dict[str, Any] = {
    "monitor": "daily",
    "model": "credit/scorer@1",
    "window": {"kind": "time", "size": "1d"},
    "columns": {
        "time": "timestamp",
        "prediction": "prediction",
        "label": "label",
        "sensitive": ["race"],
        "id": "prediction_id",
    },
    "checks": [
        {"metric": "fairness.selection_rate.ratio", "op": ">=", "threshold": 0.8},
        {"metric": "performance.accuracy", "op": ">=", "threshold": 0.6},
    ],
    "fairness": {"bootstrap": 50, "seed": 7, "min_group_size": 5},
}


def as_records(log: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The log as prediction records and, where ground truth exists, label records."""
    records, labels = [], []
    for row in log.to_pylist():
        records.append(
            {
                "prediction_id": row["prediction_id"],
                "timestamp": utc_text(row["timestamp"]),
                "prediction": row["prediction"],
                "score": row["score"],
                "features": {"income": row["income"], "debt_ratio": row["debt_ratio"]},
                "sensitive": {"race": row["race"]},
            }
        )
        if row["label"] is not None:
            labels.append({"prediction_id": row["prediction_id"], "label": row["label"]})
    return records, labels


def windows(evaluation_windows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return json.loads(json.dumps(evaluation_windows, sort_keys=True))


def test_the_same_log_gives_the_same_windows(server: LiveServer, tmp_path: Path) -> None:
    log = degrading_log(days=5, per_day=400, seed=3)
    # Batch mode: Parquet files in a lake, `trustops monitor run --config ... --data GLOB`.
    lake = tmp_path / "logs"
    lake.mkdir()
    half = log.num_rows // 2
    pq.write_table(log.slice(0, half), lake / "part-0.parquet")
    pq.write_table(log.slice(half), lake / "part-1.parquet")
    config = tmp_path / "monitor.yaml"
    config.write_text(yaml.safe_dump(CONFIG))
    result = CliRunner().invoke(
        app,
        ["monitor", "run", "--config", str(config), "--data", str(lake / "*.parquet"),
         "--now", NOW.isoformat(), "--json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    batch = windows(json.loads(result.output)[0]["windows"])
    assert len(batch) == 5

    # Server mode: the same records logged through the API by the client, labels later.
    registry = server.registry()
    registry.create_system("credit")
    registry.register_model(b"weights", system="credit", name="scorer")
    token = server.user("feeder", "data_scientist", ["credit"])
    records, labels = as_records(log)
    with Client(server.url, token=token) as client:
        for start in range(0, len(records), 500):
            client.log_predictions("credit", "scorer@1", records[start : start + 500])
        client.log_labels("credit", "scorer@1", labels)
    create_monitor(registry, build_config(CONFIG))
    [run] = run_due_monitors(registry, NOW)
    served = windows([w.to_dict() for w in run.evaluation.windows])
    assert served == batch
