#!/usr/bin/env python
"""Drift benchmark: trustops against Evidently, NannyML and whylogs; streaming; Spark.

Three parts.

1. **The drift job** on the same data for every tool: a reference and a current
   pandas DataFrame of ``--rows`` rows (default 1,000,000) × 25 columns (20
   numeric: normal, lognormal, uniform and integer; 5 categorical strings with
   3–50 categories; 1% missing values in two columns), from a fixed seed. The
   current frame comes from the same generator with seven columns shifted
   (strong, moderate and subtle shifts; see ``SHIFTS``). The frames are written
   once to Parquet; every contender then runs in its **own subprocess**, which
   imports its library, loads both frames with ``pandas.read_parquet``, warms up
   on the first 10,000 rows (first-call costs and lazy imports stay out), and
   only then starts the timer. Contenders:

   - trustops: ``detect_drift(ref, cur)`` (profiles the reference: a first pass
     for moments, sketches and counts, exact passes that place the histogram
     edges, a histogram pass; then the current in one pass on the reference's
     edges; compares all 25 columns).
   - Evidently: ``Report([DataDriftPreset()], include_tests=True).run(
     reference_data=..., current_data=...)`` with the new (0.7) API on
     ``Dataset.from_pandas`` with an explicit ``DataDefinition`` (the 20
     numeric and 5 categorical columns), then ``snapshot.dict()`` for the
     drifted-columns count and each column's verdict.
   - NannyML: ``UnivariateDriftCalculator(column_names=all 25,
     continuous_methods=["jensen_shannon", "kolmogorov_smirnov"],
     categorical_methods=["jensen_shannon", "chi2"], chunk_number=1)``,
     ``fit(ref)``, ``calculate(cur)`` and the result as a DataFrame. With one
     chunk NannyML's default thresholds (mean ± 3 std of the reference chunks'
     values) collapse to the reference's own value and every column alerts, so
     this run passes constant thresholds (JS distance > 0.1, KS D > 0.1; chi2
     always alerts at p < 0.05). ``nannyml10`` is NannyML's usual set-up: 10
     chunks per side and its default thresholds (a column is flagged when any
     current chunk alerts); it is reported for information.
   - whylogs: ``why.log(ref).profile().view()``, the same for ``cur``, and
     ``calculate_drift_scores(target_view=cur, reference_view=ref,
     with_thresholds=True)``. ``whylogs.viz``'s ``__init__`` imports IPython and
     the notebook visualiser (the ``viz`` extra, not installed); the drift
     module needs neither, so the child imports it without running that
     ``__init__``.

   Time is wall clock (``perf_counter``) and process CPU time of the job; the
   median of ``--repeat`` runs for trustops, ``--peer-repeat`` (default 1) for
   the peers. Memory: the child's RSS after loading both frames is the
   *baseline*; before each run ``gc.collect()`` and glibc ``malloc_trim(0)``
   return freed pages to the OS, the kernel's high-water mark is reset (``echo 5
   > /proc/self/clear_refs``) and ``VmHWM`` is read afterwards. The table shows
   the absolute peak RSS of the process during the job and the job's own peak
   memory = peak − baseline. (Without ``clear_refs`` a thread samples
   ``/proc/self/statm`` every millisecond.) ``ru_maxrss`` of the whole child
   (loading and warm-up included) is printed as a cross-check.

2. **Streaming**: a ``--stream-rows`` (default 50,000,000) row Parquet file
   (float64 normal and lognormal, int64 and int32 integers, two string columns
   with 5 and 40 categories; 0.5% nulls in two columns), written in chunks of
   1M rows so the generator stays small, is profiled with ``profile(path)``
   (two streaming passes) in a child process. Target: peak RSS < 1.5 GB.

3. **Spark** local mode (``local[2]``): ``profile(spark.read.parquet(path))``
   on ``--spark-rows`` rows (default 10,000,000; same generator) beside the
   in-process ``profile(path)``, both as a reference profile (edges fitted)
   and with ``reference=``. Checks: (a) every exact part of the two reference
   profiles is equal (rows, counts, nulls, NaN/inf, min, max, category counts,
   histogram totals; mean and m2 to 1e-9 relative); (b) the in-process
   histogram counts on the Spark profile's edges equal the Spark profile's;
   (c) with a shared reference ``R``, ``profile(spark_df, reference=R) ==
   profile(path, reference=R)``; (d) ``profile(spark_df) == profile(path)``
   (``DatasetProfile.__eq__``: edges and histograms bin by bin included).
   One more Spark reference profile with 1M-row Arrow batches instead of
   Spark's default 10,000 is timed for information.

   The streaming section also reads the file without profiling it, through
   trustops's reader and through two alternatives, to show how much of the
   peak is the reader's.

Data files go to ``--workdir`` (default: a new temporary directory), are
reused when present (names carry rows, seed and generator version) and are
deleted at the end unless ``--keep``.

Usage:
    python bench/drift_bench.py [--quick] [--only trustops,evidently,nannyml,nannyml10,whylogs]
        [--skip-streaming] [--skip-spark] [--rows N] [--stream-rows N] [--spark-rows N]
        [--repeat K] [--peer-repeat K] [--workdir DIR] [--keep] [--seed S]
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

import machine
from machine import cpu_model, git_state, load

MB = 1024 * 1024
GEN_VERSION = 1  # bump when the generators change (data files are reused by name)

CONTENDERS = ("trustops", "evidently", "nannyml", "nannyml10", "whylogs")
LABELS = {
    "trustops": "trustops detect_drift",
    "evidently": "Evidently Report([DataDriftPreset()])",
    "nannyml": "NannyML UnivariateDriftCalculator, 1 chunk",
    "nannyml10": "NannyML UnivariateDriftCalculator, 10 chunks (info)",
    "whylogs": "whylogs log x2 + calculate_drift_scores",
}
# The issue's targets: speed-up over trustops, and the peer numbers measured there.
TARGETS = {"evidently": 50.0, "nannyml": 7.0, "nannyml10": 7.0, "whylogs": 20.0}
ISSUE_NUMBERS = {
    "evidently": "96 s, 1.9 GB",
    "nannyml": "13.6 s, 1.5 GB",
    "nannyml10": "13.6 s, 1.5 GB",
    "whylogs": "39 s",
}
STREAM_PEAK_TARGET = 1.5e9  # bytes: "peak RSS under 1.5 GB"

TELEMETRY_OFF = {
    "DO_NOT_TRACK": "1",
    "EVIDENTLY_DISABLE_TELEMETRY": "1",
    "NML_DISABLE_USAGE_LOGGING": "1",
    "WHYLOGS_NO_ANALYTICS": "True",
}

WARMUP_ROWS = 10_000
DEFAULT_BATCH_ROWS = 1 << 20  # trustops.engines.sources.DEFAULT_BATCH_SIZE


# --- memory (as in fairness_bench.py) -----------------------------------------

_PAGE = os.sysconf("SC_PAGE_SIZE")


def _status_bytes(field_name: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field_name + ":"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"{field_name} not in /proc/self/status")


def _rss_statm() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * _PAGE


def _libc_trim() -> Callable[[], None]:
    """glibc's ``malloc_trim(0)``: give freed heap pages back to the OS (no-op elsewhere)."""
    try:
        import ctypes

        trim = ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return lambda: None
    return lambda: trim(0)


malloc_trim = _libc_trim()


def _reset_hwm() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def settle() -> int:
    """Collect garbage, return freed memory to the OS, and return the RSS (bytes).

    Arrow's own allocator (mimalloc or jemalloc) keeps freed pages too (e.g.
    those ``pandas.read_parquet`` used); a later Arrow allocation would reuse
    them without raising RSS, so they are released as well.
    """
    gc.collect()
    malloc_trim()
    pa = sys.modules.get("pyarrow")
    if pa is not None:
        pa.default_memory_pool().release_unused()
    return _rss_statm()


class PeakRSS:
    """Absolute peak RSS (bytes) while the block runs, via ``VmHWM`` or a sampler thread."""

    def __enter__(self) -> PeakRSS:
        self.start = settle()
        self.use_hwm = _reset_hwm()
        self._peak = self.start
        if not self.use_hwm:
            self._stop = threading.Event()
            self._thread = threading.Thread(target=self._sample, daemon=True)
            self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.is_set():
            self._peak = max(self._peak, _rss_statm())
            time.sleep(0.001)

    def __exit__(self, *exc: object) -> None:
        if self.use_hwm:
            self.peak = _status_bytes("VmHWM")
        else:
            self._stop.set()
            self._thread.join()
            self.peak = max(self._peak, _rss_statm())


def hwm_method() -> str:
    if _reset_hwm():
        return "VmHWM reset via /proc/self/clear_refs"
    return "sampling /proc/self/statm every 1 ms"


def ru_maxrss_bytes() -> int:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux


def descendants_rss() -> int:
    """RSS of this process's live descendants (e.g. a JVM a library started), bytes."""
    total = 0
    todo = [os.getpid()]
    while todo:
        pid = todo.pop()
        try:
            with open(f"/proc/{pid}/task/{pid}/children") as f:
                kids = [int(k) for k in f.read().split()]
        except OSError:
            continue
        for k in kids:
            try:
                with open(f"/proc/{k}/statm") as f:
                    total += int(f.read().split()[1]) * _PAGE
            except OSError:
                pass
            todo.append(k)
    return total


# --- data -----------------------------------------------------------------------

NUMERIC = [f"num_{i:02d}" for i in range(20)]
CATEGORICAL = [f"cat_{i:02d}" for i in range(5)]
CAT_SIZES = (3, 5, 12, 25, 50)

# column -> (what changes in the current frame, expected strength)
SHIFTS = {
    "num_00": ("normal: mean + 0.5 sd", "strong"),
    "num_03": ("normal: mean + 0.02 sd", "subtle"),
    "num_07": ("lognormal: sigma 0.5 -> 0.65", "moderate"),
    "num_12": ("uniform [0, 1) -> [0.1, 1.1)", "moderate"),
    "num_16": ("poisson: lambda 4 -> 4.4", "moderate"),
    "cat_02": ("12 categories: first four probabilities reversed", "moderate"),
    "cat_04": ("50 categories: 10% of rows redrawn uniformly", "subtle"),
}


def _zipf(k: int, s: float = 0.8) -> np.ndarray:
    p = 1.0 / np.arange(1, k + 1) ** s
    return p / p.sum()


def _categories(rng: np.random.Generator, n: int, name: str, k: int, p: np.ndarray) -> np.ndarray:
    levels = np.array([f"{name}_v{j:02d}" for j in range(k)], dtype=object)
    return levels[rng.choice(k, size=n, p=p)]


def make_frame(n: int, seed: int, current: bool) -> Any:
    """One frame of the drift job (``current=True``: the shifted columns of ``SHIFTS``)."""
    import pandas as pd

    rng = np.random.default_rng([seed, 1 if current else 0])
    cols: dict[str, np.ndarray] = {}
    for i in range(6):  # normal
        mu, sd = 10.0 * i, 1.0 + i
        if current and i == 0:
            mu += 0.5 * sd
        if current and i == 3:
            mu += 0.02 * sd
        cols[f"num_{i:02d}"] = rng.normal(mu, sd, n)
    for i in range(6, 11):  # lognormal
        sigma = 0.5 if i != 7 or not current else 0.65
        cols[f"num_{i:02d}"] = rng.lognormal(0.2 * (i - 6), sigma, n)
    for i in range(11, 15):  # uniform
        lo = 0.1 if current and i == 12 else 0.0
        cols[f"num_{i:02d}"] = rng.uniform(lo, lo + 1.0 + (i - 11), n)
    cols["num_15"] = rng.integers(0, 1000, n)
    cols["num_16"] = rng.poisson(4.4 if current else 4.0, n)
    cols["num_17"] = rng.integers(18, 90, n)
    cols["num_18"] = rng.binomial(20, 0.3, n)
    cols["num_19"] = rng.geometric(0.1, n)
    for name, k in zip(CATEGORICAL, CAT_SIZES, strict=True):
        p = _zipf(k)
        if current and name == "cat_02":
            p = p.copy()
            p[:4] = p[:4][::-1]
        values = _categories(rng, n, name, k, p)
        if current and name == "cat_04":
            redraw = rng.random(n) < 0.10
            values[redraw] = _categories(rng, int(redraw.sum()), name, k, np.full(k, 1.0 / k))
        cols[name] = values
    # 1% missing in one numeric and one categorical column
    cols["num_01"][rng.random(n) < 0.01] = np.nan
    cols["cat_01"][rng.random(n) < 0.01] = None
    return pd.DataFrame(cols)


STREAM_COLS = ("x_normal", "x_lognormal", "n_int64", "n_int32", "s_small", "s_large")


def stream_chunk(rng: np.random.Generator, n: int) -> Any:
    import pyarrow as pa

    x = rng.normal(3.0, 2.0, n)
    x_mask = rng.random(n) < 0.005
    s_small = _categories(rng, n, "s", 5, _zipf(5))
    s_mask = rng.random(n) < 0.005
    return pa.table(
        {
            "x_normal": pa.array(x, mask=x_mask),
            "x_lognormal": rng.lognormal(0.0, 0.75, n),
            "n_int64": rng.integers(-1_000_000, 1_000_000, n),
            "n_int32": rng.poisson(30, n).astype(np.int32),
            "s_small": pa.array(s_small, type=pa.string(), mask=s_mask),
            "s_large": pa.array(_categories(rng, n, "l", 40, _zipf(40)), type=pa.string()),
        }
    )


def write_stream(path: Path, rows: int, seed: int, chunk: int = 1_000_000) -> float:
    """Write ``rows`` rows to ``path`` chunk by chunk (atomically); return seconds taken."""
    import pyarrow.parquet as pq

    t0 = time.perf_counter()
    tmp = path.with_name(path.name + ".partial")
    writer = None
    try:
        for i, start in enumerate(range(0, rows, chunk)):
            rng = np.random.default_rng([seed, 100, i])
            table = stream_chunk(rng, min(chunk, rows - start))
            if writer is None:
                writer = pq.ParquetWriter(tmp, table.schema, compression="snappy")
            writer.write_table(table, row_group_size=chunk)
    finally:
        if writer is not None:
            writer.close()
    tmp.replace(path)
    return time.perf_counter() - t0


# --- children: one contender per process ----------------------------------------------


def _load_frames(ref_path: str, cur_path: str) -> tuple[Any, Any]:
    import pandas as pd

    return pd.read_parquet(ref_path), pd.read_parquet(cur_path)


def job_trustops(ref: Any, cur: Any) -> dict[str, Any]:
    from trustops import detect_drift

    report = detect_drift(ref, cur)
    return {
        "flags": {c.column: bool(c.drift_detected) for c in report.columns},
        "scores": {c.column: f"{c.method} {c.statistic:.4g}" for c in report.columns},
        "dataset": f"{len(report.drifted_columns)} drifted, share {report.share_drifted:.2f}, "
        f"dataset_drift={report.dataset_drift}",
    }


def job_evidently(ref: Any, cur: Any) -> dict[str, Any]:
    from evidently import DataDefinition, Dataset, Report
    from evidently.presets import DataDriftPreset

    definition = DataDefinition(
        numerical_columns=[c for c in ref.columns if c.startswith("num_")],
        categorical_columns=[c for c in ref.columns if c.startswith("cat_")],
    )
    snapshot = Report([DataDriftPreset()], include_tests=True).run(
        reference_data=Dataset.from_pandas(ref, data_definition=definition),
        current_data=Dataset.from_pandas(cur, data_definition=definition),
    )
    out = snapshot.dict()
    flags: dict[str, bool] = {}
    scores: dict[str, str] = {}
    dataset = ""
    for m in out["metrics"]:
        cfg = m.get("config", {})
        if cfg.get("type", "").endswith("ValueDrift"):
            scores[cfg["column"]] = f"{cfg.get('method')} {m['value']:.4g}"
        elif cfg.get("type", "").endswith("DriftedColumnsCount"):
            v = m["value"]
            dataset = f"{int(v['count'])} drifted, share {v['share']:.2f}"
    prefix = "Value Drift for column "
    for t in out["tests"]:
        if t["name"].startswith(prefix):
            flags[t["name"][len(prefix) :]] = str(t["status"]).endswith("FAIL")
    return {"flags": flags, "scores": scores, "dataset": dataset}


def _nannyml(ref: Any, cur: Any, chunks: int) -> dict[str, Any]:
    import nannyml as nml
    from nannyml.thresholds import ConstantThreshold

    thresholds = None
    if chunks == 1:
        thresholds = {
            "jensen_shannon": ConstantThreshold(upper=0.1),
            "kolmogorov_smirnov": ConstantThreshold(upper=0.1),
        }
    calc = nml.UnivariateDriftCalculator(
        column_names=list(ref.columns),
        continuous_methods=["jensen_shannon", "kolmogorov_smirnov"],
        categorical_methods=["jensen_shannon", "chi2"],
        chunk_number=chunks,
        thresholds=thresholds,
    )
    calc.fit(ref)
    df = calc.calculate(cur).filter(period="analysis").to_df()
    flags: dict[str, bool] = {}
    scores: dict[str, str] = {}
    for col in ref.columns:
        parts = []
        alert = False
        for method in ("jensen_shannon", "kolmogorov_smirnov", "chi2"):
            if (col, method, "alert") not in df.columns:
                continue
            hits = int(df[(col, method, "alert")].astype(bool).sum())
            alert = alert or hits > 0
            short = {"jensen_shannon": "JS", "kolmogorov_smirnov": "KS", "chi2": "chi2"}[method]
            value = float(df[(col, method, "value")].mean())
            parts.append(f"{short} {value:.3g}" + (f" ({hits}/{len(df)} alert)" if hits else ""))
        flags[col] = alert
        scores[col] = ", ".join(parts)
    return {
        "flags": flags,
        "scores": scores,
        "dataset": f"{sum(flags.values())} columns with an alert; {len(df)} analysis chunk(s)",
    }


def job_nannyml(ref: Any, cur: Any) -> dict[str, Any]:
    return _nannyml(ref, cur, 1)


def job_nannyml10(ref: Any, cur: Any) -> dict[str, Any]:
    return _nannyml(ref, cur, 10)


def _whylogs_drift() -> Callable[..., Any]:
    """``calculate_drift_scores`` without running ``whylogs.viz/__init__`` (it needs IPython)."""
    import types

    import whylogs

    if "whylogs.viz" not in sys.modules:
        try:
            import IPython  # noqa: F401
        except ImportError:
            stub = types.ModuleType("whylogs.viz")
            stub.__path__ = [os.path.join(os.path.dirname(whylogs.__file__), "viz")]
            sys.modules["whylogs.viz"] = stub
    from whylogs.viz.drift.column_drift_algorithms import calculate_drift_scores

    return calculate_drift_scores


def job_whylogs(ref: Any, cur: Any) -> dict[str, Any]:
    import whylogs as why

    calculate_drift_scores = _whylogs_drift()
    ref_view = why.log(ref).profile().view()
    cur_view = why.log(cur).profile().view()
    scores = calculate_drift_scores(
        target_view=cur_view, reference_view=ref_view, with_thresholds=True
    )
    flags: dict[str, bool] = {}
    text: dict[str, str] = {}
    possible = 0
    for col, s in scores.items():
        if s is None:
            continue
        flags[col] = s["drift_category"] == "DRIFT"
        possible += s["drift_category"] == "POSSIBLE_DRIFT"
        text[col] = f"{s['algorithm']} p={s['pvalue']:.3g} {s['drift_category']}"
    return {
        "flags": flags,
        "scores": text,
        "dataset": f"{sum(flags.values())} DRIFT, {possible} POSSIBLE_DRIFT",
    }


JOBS: dict[str, Callable[[Any, Any], dict[str, Any]]] = {
    "trustops": job_trustops,
    "evidently": job_evidently,
    "nannyml": job_nannyml,
    "nannyml10": job_nannyml10,
    "whylogs": job_whylogs,
}

IMPORTS = {
    "trustops": "import trustops, trustops.drift",
    "evidently": "import evidently, evidently.presets",
    "nannyml": "import nannyml, nannyml.thresholds",
    "nannyml10": "import nannyml, nannyml.thresholds",
    "whylogs": "import whylogs",
}


def trustops_phases(ref: Any, cur: Any, repeat: int) -> dict[str, Any]:
    """Where trustops's time goes: timers around each step, then a serial cProfile."""
    import cProfile
    import io
    import pstats

    import pyarrow as pa

    from trustops.core.drift.profiles import compare_profiles
    from trustops.engines.sources import open_source
    from trustops.profiling import profile

    def timed(fn: Callable[[], Any]) -> tuple[float, float, Any]:
        walls, cpus, out = [], [], None
        for _ in range(repeat):
            settle()
            w, c = time.perf_counter(), time.process_time()
            out = fn()
            walls.append(time.perf_counter() - w)
            cpus.append(time.process_time() - c)
        return statistics.median(walls), statistics.median(cpus), out

    phases: dict[str, tuple[float, float]] = {}
    w, c, ref_src = timed(lambda: open_source(ref))
    w2, c2, cur_src = timed(lambda: open_source(cur))
    phases["pandas -> Arrow (both frames)"] = (w + w2, c + c2)
    ref_t = pa.Table.from_batches(list(ref_src.batches()), schema=ref_src.schema)
    cur_t = pa.Table.from_batches(list(cur_src.batches()), schema=cur_src.schema)
    w, c, ref_p = timed(lambda: profile(ref_t))
    phases["profile(reference): all passes (fits the edges)"] = (w, c)
    num = [n for n in ref_t.column_names if n.startswith("num_")]
    cat = [n for n in ref_t.column_names if n.startswith("cat_")]
    w, c, _ = timed(lambda: profile(ref_t, columns=num))
    phases["  reference, 20 numeric columns only"] = (w, c)
    w, c, _ = timed(lambda: profile(ref_t, columns=cat))
    phases["  reference, 5 categorical columns only"] = (w, c)
    w, c, cur_p = timed(lambda: profile(cur_t, reference=ref_p))
    phases["profile(current, reference=): one pass"] = (w, c)
    w, c, _ = timed(lambda: profile(cur_t, reference=ref_p, columns=num))
    phases["  current, 20 numeric columns only"] = (w, c)
    w, c, _ = timed(lambda: profile(cur_t, reference=ref_p, columns=cat))
    phases["  current, 5 categorical columns only"] = (w, c)
    w, c, _ = timed(lambda: compare_profiles(ref_p, cur_p))
    phases["compare_profiles (25 columns)"] = (w, c)

    # The KLL sketch updates by themselves (the same calls the kernel makes), serially and
    # on two threads: does the binding release the GIL so the column threads overlap?
    from concurrent.futures import ThreadPoolExecutor

    from datasketches import kll_doubles_sketch

    arrays = [
        np.array(t.column(n).combine_chunks().drop_null().to_numpy(zero_copy_only=False), "f8")
        for t in (ref_t, cur_t)
        for n in num
    ]

    def sketch(x: np.ndarray) -> Any:
        s = kll_doubles_sketch(ref_p.plan.sketch_k)
        s.update(x)
        return s

    w, c, _ = timed(lambda: [sketch(x) for x in arrays])
    phases[f"KLL sketch updates alone ({len(arrays)} columns x rows), serial"] = (w, c)
    with ThreadPoolExecutor(2) as pool:
        w, c, _ = timed(lambda: list(pool.map(sketch, arrays)))
    phases["KLL sketch updates alone, on 2 threads"] = (w, c)

    # cProfile sees only the main thread: run the columns serially for it.
    import trustops.core.profiles.dataset as dataset_mod

    saved = dataset_mod._PARALLEL_ROWS
    dataset_mod._PARALLEL_ROWS = 1 << 62
    try:
        settle()
        prof = cProfile.Profile()
        t0 = time.perf_counter()
        prof.enable()
        job_trustops(ref, cur)
        prof.disable()
        serial = time.perf_counter() - t0
    finally:
        dataset_mod._PARALLEL_ROWS = saved
    buf = io.StringIO()
    stats = pstats.Stats(prof, stream=buf)
    stats.strip_dirs()  # no paths of this machine in the output (BENCHMARKS.md quotes it)
    stats.sort_stats("tottime").print_stats(18)
    lines = buf.getvalue().splitlines()
    start = next((i for i, ln in enumerate(lines) if ln.lstrip().startswith("ncalls")), 0)
    return {
        "phases": phases,
        "cprofile_wall": serial,
        "cprofile": "\n".join(ln.rstrip() for ln in lines[start:] if ln.strip()),
    }


def child_drift(args: argparse.Namespace) -> dict[str, Any]:
    name = args.child
    t0 = time.perf_counter()
    exec(IMPORTS[name], {})
    if name == "whylogs":
        _whylogs_drift()
    import_s = time.perf_counter() - t0
    start_rss = settle()
    ref, cur = _load_frames(args.ref, args.cur)
    job = JOBS[name]
    t0 = time.perf_counter()
    job(ref.iloc[:WARMUP_ROWS].copy(), cur.iloc[:WARMUP_ROWS].copy())
    warmup_s = time.perf_counter() - t0
    baseline = settle()
    walls, cpus, peaks = [], [], []
    result: dict[str, Any] = {}
    for _ in range(args.repeat):
        with PeakRSS() as m:
            w, c = time.perf_counter(), time.process_time()
            result = job(ref, cur)
            walls.append(time.perf_counter() - w)
            cpus.append(time.process_time() - c)
        peaks.append(m.peak)
    out = {
        "name": name,
        "import_s": import_s,
        "warmup_s": warmup_s,
        "walls": walls,
        "cpus": cpus,
        "peak": max(peaks),
        "baseline": baseline,
        "start_rss": start_rss,
        "ru_maxrss": ru_maxrss_bytes(),
        "descendants_rss": descendants_rss(),
        **result,
    }
    if name == "trustops" and not args.no_phases:
        out.update(trustops_phases(ref, cur, args.repeat))
    return out


def child_stream(args: argparse.Namespace) -> dict[str, Any]:
    t0 = time.perf_counter()
    from trustops.profiling import profile

    import_s = time.perf_counter() - t0
    import pyarrow as pa

    if args.variant != "profile":
        return child_read(args.path, args.variant)
    profile(pa.table({"x": [1.0, 2.0], "s": ["a", "b"]}))  # warm-up: lazy imports
    baseline = settle()
    rows_read = [0]

    def progress(n: int) -> None:
        rows_read[0] += n

    with PeakRSS() as m:
        w, c = time.perf_counter(), time.process_time()
        p = profile(args.path, progress=progress)
        wall, cpu = time.perf_counter() - w, time.process_time() - c
    cols = {}
    for name, col in p.columns.items():
        cols[name] = {"kind": p.kinds[name], "count": col.count, "nulls": col.nulls}
    return {
        "import_s": import_s,
        "wall": wall,
        "cpu": cpu,
        "peak": m.peak,
        "baseline": baseline,
        "ru_maxrss": ru_maxrss_bytes(),
        "rows": p.rows,
        "rows_read": rows_read[0],
        "columns": cols,
        "arrow_pool": pa.default_memory_pool().backend_name,
        "arrow_max": pa.default_memory_pool().max_memory(),
    }


READ_VARIANTS = {
    "trustops": "trustops's reader: open_source(path).batches() (ParquetFile, pre_buffer=False)",
    "no-prebuffer": "the same to_batches with ParquetFragmentScanOptions(pre_buffer=False)",
    "iter-batches": "pyarrow.parquet.ParquetFile(path, pre_buffer=False).iter_batches()",
}


def child_read(path: str, variant: str) -> dict[str, Any]:
    """Read every batch of ``path`` and drop it: the reader's own memory, without profiling."""
    import pyarrow as pa
    import pyarrow.dataset as ds
    import pyarrow.parquet as pq

    from trustops.engines.sources import DEFAULT_BATCH_SIZE, open_source

    def batches() -> Any:
        if variant == "trustops":
            return open_source(path).batches()
        if variant == "no-prebuffer":
            return ds.dataset(path, format="parquet").to_batches(
                batch_size=DEFAULT_BATCH_SIZE,
                batch_readahead=2,
                fragment_readahead=1,
                fragment_scan_options=ds.ParquetFragmentScanOptions(pre_buffer=False),
            )
        return pq.ParquetFile(path, pre_buffer=False).iter_batches(batch_size=DEFAULT_BATCH_SIZE)

    baseline = settle()
    rows = 0
    with PeakRSS() as m:
        w = time.perf_counter()
        for b in batches():
            rows += b.num_rows
        wall = time.perf_counter() - w
    return {
        "variant": variant,
        "rows": rows,
        "wall": wall,
        "peak": m.peak,
        "baseline": baseline,
        "arrow_max": pa.default_memory_pool().max_memory(),
    }


def _spark_session(scratch: Path) -> Any:
    from pyspark.sql import SparkSession

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    derby = f"-Dderby.system.home={scratch / 'derby'}"
    session = (
        SparkSession.builder.master("local[2]")
        .appName("trustops-drift-bench")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.default.parallelism", "4")
        .config("spark.driver.memory", "2g")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.warehouse.dir", str(scratch / "warehouse"))
        .config("spark.local.dir", str(scratch / "local"))
        .config("spark.driver.extraJavaOptions", derby)
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    return session


def _exact_parts_diff(a: Any, b: Any) -> list[str]:
    """Differences between the exact parts of two profiles (histograms excluded)."""
    from trustops.core.profiles import NumericProfile

    diffs = []
    if a.rows != b.rows:
        diffs.append(f"rows {a.rows} != {b.rows}")
    if a.kinds != b.kinds:
        diffs.append(f"kinds {a.kinds} != {b.kinds}")
    for name, x in a.columns.items():
        y = b.columns[name]
        if isinstance(x, NumericProfile):
            for f in ("count", "nulls", "nans", "pos_inf", "neg_inf", "minimum", "maximum"):
                if getattr(x, f) != getattr(y, f):
                    diffs.append(f"{name}.{f}: {getattr(x, f)} != {getattr(y, f)}")
            for f in ("mean", "m2"):
                u, v = getattr(x, f), getattr(y, f)
                if not math.isclose(u, v, rel_tol=1e-9, abs_tol=1e-12):
                    diffs.append(f"{name}.{f}: {u!r} vs {v!r}")
            hx = x.histogram.counts.sum() if x.histogram is not None else None
            hy = y.histogram.counts.sum() if y.histogram is not None else None
            if hx != hy:
                diffs.append(f"{name}: histogram totals {hx} != {hy}")
        else:
            for f in ("count", "nulls"):
                if getattr(x, f) != getattr(y, f):
                    diffs.append(f"{name}.{f}: {getattr(x, f)} != {getattr(y, f)}")
            if getattr(x, "counts", None) != getattr(y, "counts", None):
                diffs.append(f"{name}: category counts differ")
    return diffs


def _max_mean_rel(a: Any, b: Any) -> float:
    from trustops.core.profiles import NumericProfile

    worst = 0.0
    for name, x in a.columns.items():
        y = b.columns[name]
        if isinstance(x, NumericProfile) and x.count:
            worst = max(worst, abs(x.mean - y.mean) / max(1.0, abs(x.mean)))
    return worst


def child_spark(args: argparse.Namespace) -> dict[str, Any]:
    import logging

    from trustops.core.profiles import NumericProfile
    from trustops.profiling import profile

    logging.getLogger("py4j").setLevel(logging.ERROR)
    scratch = Path(args.scratch)
    t0 = time.perf_counter()
    spark = _spark_session(scratch)
    session_s = time.perf_counter() - t0
    try:
        sdf = spark.read.parquet(args.path)
        partitions = sdf.rdd.getNumPartitions()
        t0 = time.perf_counter()
        profile(spark.createDataFrame([(1.0, "a"), (2.0, "b")], "x double, s string"))
        warmup_s = time.perf_counter() - t0

        def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
            settle()
            w = time.perf_counter()
            out = fn()
            return time.perf_counter() - w, out

        t_spark_ref, spark_ref = timed(lambda: profile(sdf))
        t_local_ref, local_ref = timed(lambda: profile(args.path))
        t_spark_cur, spark_cur = timed(lambda: profile(sdf, reference=local_ref))
        t_local_cur, local_cur = timed(lambda: profile(args.path, reference=local_ref))
        # (b) in-process counts on the Spark reference's edges
        local_on_spark_edges = profile(args.path, reference=spark_ref)
        hist_b = []
        for name, col in spark_ref.columns.items():
            if isinstance(col, NumericProfile) and col.histogram is not None:
                other = local_on_spark_edges.columns[name]
                hist_b.append((name, col.histogram == other.histogram))
        # Spark hands mapInArrow batches of spark.sql.execution.arrow.maxRecordsPerBatch
        # rows (10,000 by default); one more reference profile with 1M-row batches (info).
        conf_key = "spark.sql.execution.arrow.maxRecordsPerBatch"
        default_batch = spark.conf.get(conf_key)
        spark.conf.set(conf_key, str(1 << 20))
        t_spark_big, spark_big = timed(lambda: profile(sdf))
        spark.conf.set(conf_key, default_batch)
        same_edges = all(
            np.array_equal(spark_ref.plan.edges[n], local_ref.plan.edges[n])
            for n in local_ref.plan.edges
        )
        return {
            "rows": spark_ref.rows,
            "partitions": partitions,
            "session_s": session_s,
            "warmup_s": warmup_s,
            "spark_ref_s": t_spark_ref,
            "default_batch": default_batch,
            "spark_big_s": t_spark_big,
            "big_diffs": _exact_parts_diff(spark_big, local_ref),
            "local_ref_s": t_local_ref,
            "spark_cur_s": t_spark_cur,
            "local_cur_s": t_local_cur,
            "exact_parts_diffs": _exact_parts_diff(spark_ref, local_ref),
            "max_mean_rel": _max_mean_rel(spark_ref, local_ref),
            "hist_on_spark_edges": hist_b,
            "same_edges": same_edges,
            "with_reference_equal": spark_cur == local_cur,
            "reference_equal": spark_ref == local_ref,
            "with_reference_diffs": _exact_parts_diff(spark_cur, local_cur),
            "with_reference_hist_equal": all(
                spark_cur.columns[n].histogram == local_cur.columns[n].histogram
                for n in local_ref.plan.edges
            ),
        }
    finally:
        spark.stop()


def child_main(args: argparse.Namespace) -> int:
    if args.child == "stream":
        out = child_stream(args)
    elif args.child == "spark":
        out = child_spark(args)
    else:
        out = child_drift(args)
    Path(args.out).write_text(json.dumps(out, default=str))
    return 0


# --- parent ---------------------------------------------------------------------------


def run_child(argv: list[str], out: Path, timeout: float | None = None) -> dict[str, Any]:
    env = dict(os.environ, **TELEMETRY_OFF)
    env.setdefault("PYTHONWARNINGS", "ignore")
    cmd = [sys.executable, os.path.abspath(__file__), *argv, "--out", str(out)]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)
    elapsed = time.perf_counter() - t0
    if proc.returncode != 0 or not out.exists():
        tail = "\n".join((proc.stderr or "").strip().splitlines()[-25:])
        return {"error": f"exit code {proc.returncode}\n{tail}", "process_s": elapsed}
    result = json.loads(out.read_text())
    result["process_s"] = elapsed
    out.unlink()
    return result


def versions() -> dict[str, str]:
    return machine.versions(
        (
            "trustops",
            "numpy",
            "pandas",
            "pyarrow",
            "scipy",
            "datasketches",
            "evidently",
            "nannyml",
            "whylogs",
            "pyspark",
        )
    )


def java_version() -> str:
    try:
        p = subprocess.run(["java", "-version"], capture_output=True, text=True, timeout=30)
        return (p.stderr or p.stdout).splitlines()[0].strip()
    except (OSError, IndexError, subprocess.SubprocessError):
        return "not found"


def fmt_mb(b: float) -> str:
    return f"{b / MB:,.0f} MB"


def fmt_s(s: float) -> str:
    return f"{s:,.2f}" if s < 100 else f"{s:,.1f}"


def _parse_only(text: str | None) -> list[str]:
    if not text:
        return list(CONTENDERS)
    names = [t.strip() for t in text.split(",") if t.strip()]
    bad = [n for n in names if n not in CONTENDERS]
    if bad:
        raise SystemExit(f"--only: unknown contender(s) {bad}; choose from {list(CONTENDERS)}")
    return names


def ensure_drift_data(workdir: Path, rows: int, seed: int) -> tuple[Path, Path, str]:
    ref = workdir / f"drift-ref-{rows}r-s{seed}-v{GEN_VERSION}.parquet"
    cur = workdir / f"drift-cur-{rows}r-s{seed}-v{GEN_VERSION}.parquet"
    if ref.exists() and cur.exists():
        return ref, cur, "reused"
    t0 = time.perf_counter()
    for path, current in ((ref, False), (cur, True)):
        df = make_frame(rows, seed, current)
        tmp = path.with_name(path.name + ".partial")
        df.to_parquet(tmp, index=False)
        tmp.replace(path)
        del df
    return ref, cur, f"generated in {time.perf_counter() - t0:.1f} s"


def ensure_stream_data(workdir: Path, rows: int, seed: int) -> tuple[Path, str]:
    path = workdir / f"stream-{rows}r-s{seed}-v{GEN_VERSION}.parquet"
    if path.exists():
        return path, "reused"
    took = write_stream(path, rows, seed)
    return path, f"generated in {took:.1f} s"


def section_drift(args: argparse.Namespace, workdir: Path, created: list[Path]) -> None:
    names = _parse_only(args.only)
    ref_path, cur_path, how = ensure_drift_data(workdir, args.rows, args.seed)
    created += [ref_path, cur_path]
    import pyarrow.parquet as pq

    size = ref_path.stat().st_size + cur_path.stat().st_size
    meta = pq.read_metadata(ref_path)
    print(f"## 1. Drift job: {args.rows:,} rows x {meta.num_columns} columns per frame\n")
    print(
        f"data: reference + current Parquet {fmt_mb(size)} on disk ({how}); 20 numeric "
        f"(6 normal, 5 lognormal, 4 uniform float64; 5 int64), 5 string columns "
        f"({', '.join(map(str, CAT_SIZES))} categories); 1% missing in num_01 and cat_01"
    )
    print("shifted in the current frame:")
    for col, (what, strength) in SHIFTS.items():
        print(f"- {col}: {what} ({strength})")
    print()
    results: dict[str, dict[str, Any]] = {}
    for name in names:
        repeat = args.repeat if name == "trustops" else args.peer_repeat
        print(f"running {name} (repeat {repeat}) ... load {load()}", flush=True)
        argv = [
            "--child",
            name,
            "--ref",
            str(ref_path),
            "--cur",
            str(cur_path),
            "--repeat",
            str(repeat),
        ]
        if args.no_phases:
            argv.append("--no-phases")
        results[name] = run_child(argv, workdir / f"result-{name}.json")
        r = results[name]
        if "error" in r:
            print(f"  FAILED: {r['error']}")
        else:
            print(
                f"  {statistics.median(r['walls']):.2f} s (runs "
                f"{', '.join(f'{w:.2f}' for w in r['walls'])}), peak {fmt_mb(r['peak'])}"
            )
    print()
    ok = {k: v for k, v in results.items() if "error" not in v}
    base = ok.get("trustops")
    base_t = statistics.median(base["walls"]) if base else None
    base_c = statistics.median(base["cpus"]) if base else None
    print("### Results\n")
    print(
        "time: wall clock of the job (median of the runs); CPU = process CPU time (all threads); "
        "peak RSS = the child's absolute peak during the job; job peak = peak RSS - baseline "
        "(RSS after importing and loading both frames); ratio = contender time / trustops time\n"
    )
    print(
        "| contender | runs | time (s) | CPU (s) | baseline RSS | peak RSS | job peak "
        "(peak - baseline) | ratio vs trustops (wall) | ratio (CPU) | target | met? "
        "| issue's numbers |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|")
    for name in names:
        r = results[name]
        if "error" in r:
            print(f"| {LABELS[name]} | - | failed | | | | | | | | | |")
            continue
        t = statistics.median(r["walls"])
        c = statistics.median(r["cpus"])
        ratio = t / base_t if base_t else float("nan")
        ratio_c = c / base_c if base_c else float("nan")
        target = TARGETS.get(name)
        goal = f">= {target:.0f}x" if target else "-"
        met = "-" if not target or not base_t else ("MET" if ratio >= target else "MISSED")
        print(
            f"| {LABELS[name]} | {len(r['walls'])} | {fmt_s(t)} | {fmt_s(c)} | "
            f"{fmt_mb(r['baseline'])} | {fmt_mb(r['peak'])} | {fmt_mb(r['peak'] - r['baseline'])} "
            f"| {ratio:.1f}x | {ratio_c:.1f}x | {goal} | {met} | {ISSUE_NUMBERS.get(name, '-')} |"
        )
    print()
    for name in names:
        r = results[name]
        if "error" in r:
            continue
        extra = ""
        if r.get("descendants_rss"):
            extra = f"; live child processes at the end: {fmt_mb(r['descendants_rss'])} RSS"
        print(
            f"- {name}: runs [{', '.join(f'{w:.2f}' for w in r['walls'])}] s; import "
            f"{r['import_s']:.1f} s, warm-up on {WARMUP_ROWS:,} rows {r['warmup_s']:.1f} s (not "
            f"timed); ru_maxrss of the whole child {fmt_mb(r['ru_maxrss'])}{extra}; "
            f"{r.get('dataset', '')}"
        )
    agreement(names, ok)
    if base and "phases" in base:
        print(f"\n### Where trustops's time goes (median of {args.repeat}, same child)\n")
        print(
            "each phase is timed on its own (the profile phases on Arrow tables, after the "
            "pandas conversion), so shares need not add up to 100%; CPU time counts both "
            "column threads\n"
        )
        print("| phase | wall (s) | CPU (s) | share of the job (wall) |")
        print("|---|---:|---:|---:|")
        for phase, (w, c) in base["phases"].items():
            print(f"| {phase} | {w:.3f} | {c:.3f} | {w / base_t:.0%} |")
        print(
            f"\ncProfile of one detect_drift run with the column threads off "
            f"({base['cprofile_wall']:.2f} s under the profiler), top functions by own time:\n"
        )
        print("```")
        print(base["cprofile"])
        print("```")


def agreement(names: list[str], ok: dict[str, dict[str, Any]]) -> None:
    print("\n### Agreement: which columns each contender flags\n")
    cols = NUMERIC + CATEGORICAL
    shown = [n for n in names if n in ok]
    print("| column | shifted? | " + " | ".join(shown) + " |")
    print("|---|---|" + "---|" * len(shown))
    for col in cols:
        truth = f"{SHIFTS[col][1]}: {SHIFTS[col][0]}" if col in SHIFTS else "no"
        cells = []
        for n in shown:
            flag = ok[n]["flags"].get(col)
            mark = "DRIFT" if flag else ("." if flag is not None else "n/a")
            cells.append(mark)
        print(f"| {col} | {truth} | " + " | ".join(cells) + " |")
    print("\n| contender | flagged | shifted columns caught | unshifted columns flagged |")
    print("|---|---:|---:|---:|")
    for n in shown:
        flags = ok[n]["flags"]
        caught = sum(bool(flags.get(c)) for c in SHIFTS)
        false = sum(bool(flags.get(c)) for c in cols if c not in SHIFTS)
        print(f"| {n} | {sum(map(bool, flags.values()))} | {caught}/{len(SHIFTS)} | {false} |")
    print("\nscores per column (statistic each tool reports):\n")
    for col in cols:
        parts = [f"{n}: {ok[n]['scores'].get(col, '-')}" for n in shown]
        print(f"- {col}: " + "; ".join(parts))


def section_stream(args: argparse.Namespace, workdir: Path, created: list[Path]) -> None:
    path, how = ensure_stream_data(workdir, args.stream_rows, args.seed)
    created.append(path)
    import pyarrow.parquet as pq

    meta = pq.read_metadata(path)
    print(f"\n## 2. Streaming: profile(path) on {meta.num_rows:,} rows of Parquet\n")
    print(
        f"file: {fmt_mb(path.stat().st_size)} on disk, {meta.num_row_groups} row groups, columns "
        f"{', '.join(STREAM_COLS)} ({how}); load {load()}"
    )
    r = run_child(["--child", "stream", "--path", str(path)], workdir / "result-stream.json")
    if "error" in r:
        print(f"FAILED: {r['error']}")
        return
    ok = r["peak"] < STREAM_PEAK_TARGET
    print(
        "\n| rows | time (s) | CPU (s) | rows/s | baseline RSS | peak RSS | peak - baseline "
        "| target | met? |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---|---|")
    print(
        f"| {r['rows']:,} | {fmt_s(r['wall'])} | {fmt_s(r['cpu'])} | "
        f"{r['rows'] / r['wall'] / 1e6:.2f} M | {fmt_mb(r['baseline'])} | {fmt_mb(r['peak'])} | "
        f"{fmt_mb(r['peak'] - r['baseline'])} | peak RSS < {STREAM_PEAK_TARGET / 1e9:.1f} GB "
        f"({fmt_mb(STREAM_PEAK_TARGET)}) | {'MET' if ok else 'MISSED'} |"
    )
    print(
        f"\nrows read (progress callback, all passes): {r['rows_read']:,} = "
        f"{r['rows_read'] / r['rows']:.1f}x the file's rows (the first pass reads every column, "
        "the edge-fitting and histogram passes only the numeric ones); peak allocation of "
        f"Arrow's pool ({r['arrow_pool']}): {fmt_mb(r['arrow_max'])}; ru_maxrss of the child "
        f"{fmt_mb(r['ru_maxrss'])}; columns: "
        + ", ".join(
            f"{n} {c['kind']} {c['count']:,} values + {c['nulls']:,} nulls"
            for n, c in r["columns"].items()
        )
    )
    print(
        "\nthe reader alone (every batch read and dropped, no profiling; one child each; "
        f"{DEFAULT_BATCH_ROWS:,}-row batches):\n"
    )
    print("| reader | time (s) | peak RSS | peak - baseline | Arrow pool peak allocation |")
    print("|---|---:|---:|---:|---:|")
    for variant, label in READ_VARIANTS.items():
        q = run_child(
            ["--child", "stream", "--path", str(path), "--variant", variant],
            workdir / f"result-read-{variant}.json",
        )
        if "error" in q:
            print(f"| {label} | failed | | | |")
            continue
        print(
            f"| {label} | {fmt_s(q['wall'])} | {fmt_mb(q['peak'])} | "
            f"{fmt_mb(q['peak'] - q['baseline'])} | {fmt_mb(q['arrow_max'])} |"
        )


def section_spark(args: argparse.Namespace, workdir: Path, created: list[Path]) -> None:
    path, how = ensure_stream_data(workdir, args.spark_rows, args.seed + 1)
    created.append(path)
    scratch = workdir / "spark-scratch"
    scratch.mkdir(exist_ok=True)
    created.append(scratch)
    print(f"\n## 3. Spark local[2]: profile(spark_df) vs in-process profile(path), {how}\n")
    print(f"java: {java_version()}; load {load()}")
    r = run_child(
        ["--child", "spark", "--path", str(path), "--scratch", str(scratch)],
        workdir / "result-spark.json",
    )
    if "error" in r:
        print(f"FAILED: {r['error']}")
        return
    print(
        f"\nrows {r['rows']:,}, {r['partitions']} Spark partitions; SparkSession start "
        f"{r['session_s']:.1f} s and a warm-up profile of 2 rows {r['warmup_s']:.1f} s "
        "(not timed)\n"
    )
    print("| step | Spark local[2] (s) | in-process (s) | Spark / in-process |")
    print("|---|---:|---:|---:|")
    print(
        f"| reference profile (fits the edges) | {fmt_s(r['spark_ref_s'])} | "
        f"{fmt_s(r['local_ref_s'])} "
        f"| {r['spark_ref_s'] / r['local_ref_s']:.2f}x |"
    )
    print(
        f"| profile with reference= (one pass) | {fmt_s(r['spark_cur_s'])} | "
        f"{fmt_s(r['local_cur_s'])} | {r['spark_cur_s'] / r['local_cur_s']:.2f}x |"
    )
    big = "equal" if not r["big_diffs"] else "DIFFER: " + "; ".join(r["big_diffs"][:5])
    print(
        f"| reference profile, maxRecordsPerBatch {1 << 20:,} instead of "
        f"{int(r['default_batch']):,} (info) | {fmt_s(r['spark_big_s'])} | "
        f"{fmt_s(r['local_ref_s'])} | {r['spark_big_s'] / r['local_ref_s']:.2f}x |"
    )
    print(
        f"\nSpark's default Arrow batch is {int(r['default_batch']):,} rows "
        "(spark.sql.execution.arrow.maxRecordsPerBatch); the in-process reader uses "
        f"{1 << 20:,}-row batches. The 1M-row Spark run's exact parts vs in-process: {big}."
    )
    diffs = r["exact_parts_diffs"]
    hist_ok = all(ok for _, ok in r["hist_on_spark_edges"])
    print("\nequality:")
    print(
        f"- (a) reference profiles, exact parts (rows, counts, nulls, NaN/inf, min, max, category "
        f"counts, histogram totals; mean and m2 to 1e-9): "
        f"{'EQUAL' if not diffs else 'DIFFER: ' + '; '.join(diffs[:10])}; max relative mean "
        f"difference {r['max_mean_rel']:.2g}; same histogram edges: {r['same_edges']}"
    )
    print(
        f"- (b) in-process histogram counts on the Spark reference's edges equal Spark's: "
        f"{'EQUAL' if hist_ok else 'DIFFER'} "
        f"({sum(ok for _, ok in r['hist_on_spark_edges'])}/{len(r['hist_on_spark_edges'])} columns)"
    )
    print(
        f"- (c) profile(spark_df, reference=R) == profile(path, reference=R): "
        f"{'EQUAL' if r['with_reference_equal'] else 'DIFFER'} (histograms bin by bin: "
        f"{r['with_reference_hist_equal']}"
        + (f"; {'; '.join(r['with_reference_diffs'][:10])}" if r["with_reference_diffs"] else "")
        + ")"
    )
    print(
        "- (d) profile(spark_df) == profile(path) (whole reference profiles, edges and "
        f"histograms included): {'EQUAL' if r['reference_equal'] else 'DIFFER'}"
    )
    verdict = not diffs and hist_ok and r["with_reference_equal"] and r["reference_equal"]
    met = "MET" if verdict else "MISSED"
    print(f"\nSpark target (completes, equals the in-process profile): {met}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="100k rows everywhere (smoke run)")
    ap.add_argument("--only", help=f"comma-separated contenders out of {','.join(CONTENDERS)}")
    ap.add_argument("--skip-drift", action="store_true", help="skip part 1 (the drift job)")
    ap.add_argument("--skip-streaming", action="store_true", help="skip part 2")
    ap.add_argument("--skip-spark", action="store_true", help="skip part 3")
    ap.add_argument("--rows", type=int, help="rows per drift frame (default 1,000,000)")
    ap.add_argument("--stream-rows", type=int, help="streaming rows (default 50,000,000)")
    ap.add_argument("--spark-rows", type=int, help="Spark rows (default 10,000,000)")
    ap.add_argument("--repeat", type=int, default=3, help="trustops runs (median reported)")
    ap.add_argument("--peer-repeat", type=int, default=1, help="runs of each peer")
    ap.add_argument("--no-phases", action="store_true", help="skip trustops's phase timing")
    ap.add_argument("--workdir", help="where data files go (default: a new temp dir)")
    ap.add_argument("--keep", action="store_true", help="keep the data files")
    ap.add_argument("--seed", type=int, default=20240601, help="data seed")
    # internal: child processes
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--ref", help=argparse.SUPPRESS)
    ap.add_argument("--cur", help=argparse.SUPPRESS)
    ap.add_argument("--path", help=argparse.SUPPRESS)
    ap.add_argument("--scratch", help=argparse.SUPPRESS)
    ap.add_argument("--variant", default="profile", help=argparse.SUPPRESS)
    ap.add_argument("--out", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        return child_main(args)

    quick = 100_000 if args.quick else None
    args.rows = args.rows or quick or 1_000_000
    args.stream_rows = args.stream_rows or quick or 50_000_000
    args.spark_rows = args.spark_rows or quick or 10_000_000
    if min(args.rows, args.stream_rows, args.spark_rows, args.repeat, args.peer_repeat) < 1:
        ap.error("row counts and repeats must be positive")
    _parse_only(args.only)

    own_dir = args.workdir is None
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="trustops-drift-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    created: list[Path] = []

    print("# trustops drift benchmark\n")
    print(
        f"rows={args.rows:,}  stream_rows={args.stream_rows:,}  spark_rows={args.spark_rows:,}  "
        f"repeat={args.repeat}  peer_repeat={args.peer_repeat}  seed={args.seed}  "
        f"only={args.only or 'all'}"
    )
    print(
        f"machine: {platform.system()} {platform.release()}, {cpu_model()}, "
        f"os.cpu_count()={os.cpu_count()}, "
        f"RAM {os.sysconf('SC_PHYS_PAGES') * _PAGE / 1024**3:.1f} GiB"
    )
    print(f"source: trustops at git {git_state()}")
    print("versions: " + ", ".join(f"{k} {v}" for k, v in versions().items()))
    print(f"load average at start (1/5/15 min): {load()}")
    print(f"memory: {hwm_method()}, after gc.collect() and glibc malloc_trim(0)")
    print(f"workdir: {'--workdir' if args.workdir else 'a temporary directory'}\n")
    try:
        if not args.skip_drift:
            section_drift(args, workdir, created)
        if not args.skip_streaming:
            section_stream(args, workdir, created)
        if not args.skip_spark:
            section_spark(args, workdir, created)
    finally:
        if not args.keep:
            if own_dir:
                shutil.rmtree(workdir, ignore_errors=True)
            else:
                for p in created:
                    if p.is_dir():
                        shutil.rmtree(p, ignore_errors=True)
                    else:
                        p.unlink(missing_ok=True)
    print(f"\nload average at end (1/5/15 min): {load()}")
    print(f"source at end: trustops at git {git_state()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
