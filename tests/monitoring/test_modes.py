"""Batch mode equals server mode: the same predictions read from Parquet files in a lake and
from what the server stored (trustops.monitoring.ingest) give the same windows; and the
server's background entry point runs due monitors on the stored predictions."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from trustops.cli.demo_monitoring import DAY, START, degrading_log
from trustops.governance import Registry
from trustops.monitoring.config import build_config
from trustops.monitoring.evaluate import evaluate
from trustops.monitoring.ingest import Ingestion
from trustops.monitoring.runner import run_due_monitors
from trustops.monitoring.store import create_monitor, get_monitor, series
from trustops.profiling import profile

DOCUMENT = {
    "monitor": "daily",
    "model": "credit/scorer@1",
    "window": {"kind": "time", "size": "1d", "lateness": "2h"},
    "columns": {"time": "timestamp", "prediction": "prediction", "label": "label",
                "sensitive": ["race"], "features": ["income", "debt_ratio"]},
    "reference": "reference.tprof",
    "policy": "eeoc-four-fifths",
    "checks": [{"metric": "performance.accuracy", "op": ">=", "threshold": 0.8},
               {"metric": "drift.share_drifted", "op": "<=", "threshold": 0.5}],
    "cooldown": "30d",
    "fairness": {"bootstrap": 100, "seed": 4},
}  # fmt: skip


def store(registry: Registry, log: pa.Table) -> None:
    ingestion = Ingestion(registry)
    predictions = log.drop_columns(["label"])
    for i, batch in enumerate(predictions.to_batches(max_chunksize=1000)):
        ingestion.log_predictions("credit/scorer@1", pa.Table.from_batches([batch]),
                                  key=f"batch-{i}", sensitive=["race"])  # fmt: skip
    labelled = log.filter(pc.is_valid(log.column("label"))).select(["prediction_id", "label"])
    ingestion.log_labels("credit/scorer@1", labelled.to_pylist(), key="labels")


def test_batch_mode_equals_server_mode(registry: Registry, tmp_path: Path) -> None:
    registry.create_system("credit")
    registry.register_model(b"weights", system="credit", name="scorer", code_commit=None)
    log = degrading_log(seed=5, days=4, per_day=1500)
    store(registry, log)
    lake = tmp_path / "lake"
    lake.mkdir()
    for i, batch in enumerate(log.to_batches(max_chunksize=1700)):
        pq.write_table(pa.Table.from_batches([batch]), lake / f"{i:03d}.parquet")
    reference = profile(log.select(["income", "debt_ratio"]))
    config = build_config(DOCUMENT)
    now = START + 4 * DAY + timedelta(hours=2)
    stored = Ingestion(registry).predictions("credit/scorer@1")
    server = evaluate(stored, config, now=now, reference=reference)
    batch = evaluate(str(lake / "*.parquet"), config, now=now, reference=reference)
    assert len(batch.windows) == 4
    assert [w.to_dict() for w in server.windows] == [w.to_dict() for w in batch.windows]
    assert server.state == batch.state


def test_the_server_runs_due_monitors_on_stored_predictions(
    registry: Registry, tmp_path: Path
) -> None:
    registry.create_system("credit")
    registry.register_model(b"weights", system="credit", name="scorer", code_commit=None)
    log = degrading_log(seed=6, days=3, per_day=800)
    from trustops.profiling import save_profile

    save_profile(profile(log.select(["income", "debt_ratio"])), tmp_path / "reference.tprof")
    create_monitor(
        registry, build_config({**DOCUMENT, "reference": str(tmp_path / "reference.tprof")})
    )
    store(registry, log)
    runs = run_due_monitors(registry, START + 2 * DAY + timedelta(hours=2))
    assert [len(r.evaluation.windows) for r in runs] == [2]
    runs = run_due_monitors(registry, START + 3 * DAY + timedelta(hours=2))
    assert [len(r.evaluation.windows) for r in runs] == [1]
    assert run_due_monitors(registry, START + 3 * DAY + timedelta(hours=3)) == []
    rows = series(registry, "daily", key="fairness:selection_rate.ratio[race]")
    assert [r["row_count"] for r in rows] == [800, 800, 800]
    assert get_monitor(registry, "daily").state.last_window == rows[-1]["window_index"]
