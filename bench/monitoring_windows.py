"""Benchmark of monitor-window evaluation (issue 8): 1M predictions through one evaluation.

The part ``window_eval`` of ``bench/monitoring_bench.py`` (also runnable alone). A
monitor with every kind of check — the policy's impact ratio (count-table
bootstrap, 200 resamples), a true-positive-rate difference on the labelled
half, accuracy with its Wilson interval, drift of two features against a
reference profile — evaluates 1,000,000 predictions: once as one daily
window, once as 24 hourly windows. The log is generated first (not timed) and
read from memory (Arrow), as both batch and server mode hand it over.

Usage::

    python bench/monitoring_windows.py [--quick]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROWS = 1_000_000


def _config(size: str) -> Any:
    from trustops.monitoring.config import build_config

    return build_config({
        "monitor": "bench", "model": "scorer@1", "window": {"kind": "time", "size": size},
        "columns": {"time": "timestamp", "prediction": "prediction", "label": "label",
                    "sensitive": ["race"], "features": ["income", "debt_ratio"]},
        "reference": "reference.tprof", "policy": "eeoc-four-fifths",
        "checks": [
            {"metric": "fairness.true_positive_rate.difference", "op": "<=", "threshold": 0.1},
            {"metric": "performance.accuracy", "op": ">=", "threshold": 0.8},
            {"metric": "drift.share_drifted", "op": "<=", "threshold": 0.5},
        ],
        "fairness": {"bootstrap": 200, "seed": 0},
    })  # fmt: skip


def window_eval(args: argparse.Namespace, workdir: Path | None = None) -> dict[str, Any]:
    """Time :func:`trustops.monitoring.evaluate.evaluate` on ``ROWS`` predictions."""
    from trustops.cli.demo_monitoring import DAY, START, degrading_log
    from trustops.monitoring.evaluate import evaluate
    from trustops.profiling import profile

    rows = 100_000 if getattr(args, "quick", False) else ROWS
    print(f"## Monitor-window evaluation, {rows:,} predictions (Arrow in memory)\n", flush=True)
    log = degrading_log(days=1, per_day=rows, seed=0)
    reference = profile(log.select(["income", "debt_ratio"]).slice(0, 200_000))
    out: dict[str, Any] = {}
    for label, size, windows in (("one daily window", "1d", 1), ("24 hourly windows", "1h", 24)):
        config = _config(size)
        evaluate(log.slice(0, 10_000), config, now=START + DAY, reference=reference)  # warm up
        times = []
        for _ in range(3):
            start = time.perf_counter()
            result = evaluate(log, config, now=START + DAY, reference=reference)
            times.append(time.perf_counter() - start)
        assert len(result.windows) == windows
        best, median = min(times), statistics.median(times)
        print(f"{label}: median {median:.2f} s, best {best:.2f} s "
              f"({rows / median:,.0f} predictions/s)", flush=True)  # fmt: skip
        out[label] = median
    print()
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="100,000 predictions (smoke run)")
    import machine

    print("# trustops monitor-window benchmark\n")
    print(machine.machine_line())
    print(f"source: {machine.source_state()}")
    found = machine.versions(("trustops", "numpy", "pyarrow", "scipy"))
    print("versions: " + ", ".join(f"{k} {v}" for k, v in found.items()))
    print(f"load average at start (1/5/15 min): {machine.load()}\n", flush=True)
    window_eval(ap.parse_args(argv))
    return 0


if __name__ == "__main__":
    sys.exit(main())
