"""Batch mode over a Spark DataFrame: the monitor's columns come over as Arrow, same windows."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.engines.conftest import spark  # noqa: F401  (the session fixture)
from trustops.cli.demo_monitoring import DAY, START, degrading_log
from trustops.monitoring.config import build_config
from trustops.monitoring.evaluate import evaluate


def test_a_spark_dataframe_gives_the_windows_of_its_arrow_table(
    spark: Any,  # noqa: F811
    tmp_path: Path,
) -> None:
    import pyarrow.parquet as pq

    log = degrading_log(seed=3, days=3, per_day=600).drop_columns(["label"])
    pq.write_table(log, tmp_path / "log.parquet")
    frame = spark.read.parquet(str(tmp_path / "log.parquet"))
    config = build_config({
        "monitor": "m", "model": "scorer@1", "window": {"kind": "time", "size": "1d"},
        "columns": {"time": "timestamp", "prediction": "prediction", "sensitive": ["race"]},
        "policy": "eeoc-four-fifths", "fairness": {"bootstrap": 50, "seed": 1},
    })  # fmt: skip
    on_spark = evaluate(frame, config, now=START + 3 * DAY)
    in_memory = evaluate(log, config, now=START + 3 * DAY)
    assert len(on_spark.windows) == 3
    assert [w.to_dict() for w in on_spark.windows] == [w.to_dict() for w in in_memory.windows]
    first = evaluate(frame, config, now=START + 2 * DAY)  # then the rest, filtered in Spark
    later = evaluate(frame, config, now=START + 3 * DAY, state=first.state)
    assert [w.to_dict() for w in (*first.windows, *later.windows)] == [
        w.to_dict() for w in in_memory.windows
    ]
