#!/usr/bin/env python
"""Fairness benchmark: trustops against Fairlearn, AIF360 and a hand-written NumPy floor.

One process, one synthetic pandas DataFrame (``--rows`` rows, default 10M):
string-valued ``race`` (5 unequal groups) and ``sex`` (2 values), int64
``y_true`` and ``y_pred``, from a fixed seed. Each step is timed with
``time.perf_counter`` (wall) and ``time.process_time`` (CPU; less disturbed by
other processes on a shared machine). Peak memory is the increase of the
process's peak resident set size (RSS) over the RSS at the step's start:
before each step ``gc.collect()`` and glibc's ``malloc_trim(0)`` return freed
memory to the OS (else a step could reuse pages freed by an earlier one and
look smaller), then the kernel's high-water mark ``VmHWM`` is reset by writing
``5`` to ``/proc/self/clear_refs`` and read back from ``/proc/self/status``
afterwards, so no short-lived peak is missed. (Where ``clear_refs`` is not
writable a background thread samples ``/proc/self/statm`` every millisecond
instead; the output says which was used.) As a cross-check, trustops and the
floor are also run once under ``tracemalloc``, which sees every Python and
NumPy buffer allocation.

Steps
    1. trustops ``assess_fairness(..., sensitive=["race", "sex"], intersectional=True)``
       (string encoding included) and reading the difference and ratio of
       selection_rate, true_positive_rate, false_positive_rate, accuracy, precision.
    2. The same with ``bootstrap=1000``.
    3. The floor: ``pd.factorize`` of both string columns, one ``np.bincount``
       over (group, y_true, y_pred) cells, the five rates and their
       differences and ratios.
    4. AIF360: ``BinaryLabelDataset`` + ``ClassificationMetric`` disparate
       impact, statistical parity difference, equal opportunity difference,
       average odds difference and accuracy. AIF360 needs numeric protected
       attributes: the string → int mapping is done *outside* the timed part.
       Predictions are attached to a shallow ``copy()`` of the dataset (the
       cheapest correct route; AIF360's tutorials use ``copy(deepcopy=True)``).
    5. Fairlearn ``MetricFrame`` with the five metrics by (race, sex), then
       ``.difference()`` and ``.ratio()``. Run once (it takes minutes at 10M rows).

Imports and first-call costs are kept out of the steps (import times are
printed; every tool is warmed up on 10,000 rows first). Steps other than
Fairlearn run ``--repeat`` times and report the median.

trustops's numbers are checked against Fairlearn's, the floor's and AIF360's
inside the run (maximum absolute difference printed).

Usage:
    python bench/fairness_bench.py [--rows N] [--repeat K] [--skip-peers] [--seed S]
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import statistics
import sys
import threading
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

import machine
from machine import cpu_model, git_state, load

METRICS = ("selection_rate", "true_positive_rate", "false_positive_rate", "accuracy", "precision")
RACE_LEVELS = ("A", "B", "C", "D", "E")
RACE_P = (0.50, 0.20, 0.15, 0.10, 0.05)
SEX_LEVELS = ("female", "male")
PRIVILEGED = {"race": "A", "sex": "male"}

TARGETS = {
    "fairlearn_speedup": 100.0,  # Fairlearn time / trustops time  >= 100
    "aif360_speedup": 20.0,  # AIF360 time / trustops time      >= 20
    "floor_factor": 3.0,  # trustops time / floor time      <= 3
    "bootstrap_factor": 2.0,  # bootstrap=1000 / point estimate <= 2
    "memory_factor": 1.5,  # trustops peak RSS increase / input column bytes < 1.5
}

MB = 1024 * 1024


# --- memory -----------------------------------------------------------------


def _status_kb(field_name: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field_name + ":"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"{field_name} not in /proc/self/status")


_PAGE = os.sysconf("SC_PAGE_SIZE")


def _rss_statm() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * _PAGE


def _libc_trim() -> Callable[[], None]:
    """glibc's malloc_trim(0): hand freed heap pages back to the OS (no-op elsewhere).

    Without it, memory freed by earlier steps (or by data generation) stays
    resident in malloc's heap and a later step can reuse it without raising
    RSS, so its peak increase would be under-counted.
    """
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
        trim = libc.malloc_trim
    except (OSError, AttributeError):
        return lambda: None

    def call() -> None:
        trim(0)

    return call


malloc_trim = _libc_trim()


def _reset_hwm() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


class PeakRSS:
    """Peak RSS increase over the RSS at entry (bytes), via VmHWM or a sampler thread."""

    method = (
        "VmHWM reset via /proc/self/clear_refs"
        if _reset_hwm()
        else ("sampling /proc/self/statm every 1 ms in a background thread")
    )

    def __enter__(self) -> PeakRSS:
        gc.collect()
        malloc_trim()
        self.start = _rss_statm()
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
            self.peak = _status_kb("VmHWM")
        else:
            self._stop.set()
            self._thread.join()
            self.peak = max(self._peak, _rss_statm())
        self.increase = max(self.peak - self.start, 0)


def tracemalloc_peak(fn: Callable[[], Any]) -> int:
    """Peak bytes traced by tracemalloc (Python objects and NumPy buffers) while running fn."""
    gc.collect()
    tracemalloc.start()
    try:
        fn()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak


# --- data -------------------------------------------------------------------


def make_data(n: int, seed: int) -> pd.DataFrame:
    """Synthetic predictions with group-dependent base rates and error rates."""
    rng = np.random.default_rng(seed)
    race_idx = rng.choice(len(RACE_LEVELS), size=n, p=RACE_P)
    sex_idx = (rng.random(n) < 0.52).astype(np.intp)  # 52% male
    base = np.array([0.30, 0.25, 0.35, 0.20, 0.40])[race_idx] + np.where(sex_idx == 1, 0.05, -0.05)
    y_true = (rng.random(n) < base).astype(np.int64)
    del base
    tpr = np.array([0.80, 0.70, 0.75, 0.65, 0.72])[race_idx]
    fpr = np.array([0.10, 0.15, 0.12, 0.20, 0.08])[race_idx]
    u = rng.random(n)
    y_pred = np.where(y_true == 1, u < tpr, u < fpr).astype(np.int64)
    del tpr, fpr, u
    race = np.array(RACE_LEVELS, dtype=object)[race_idx]
    sex = np.array(SEX_LEVELS, dtype=object)[sex_idx]
    del race_idx, sex_idx
    df = pd.DataFrame({"race": race, "sex": sex, "y_true": y_true, "y_pred": y_pred})
    assert df["race"].dtype == object and df["sex"].dtype == object
    return df


# --- the steps ----------------------------------------------------------------


def run_trustops(df: pd.DataFrame, bootstrap: int = 0, seed: int = 0) -> dict[str, Any]:
    import trustops

    report = trustops.assess_fairness(
        df,
        y_true="y_true",
        y_pred="y_pred",
        sensitive=["race", "sex"],
        intersectional=True,
        bootstrap=bootstrap,
        seed=seed,
    )
    return {
        "difference": {m: report.difference(m) for m in METRICS},
        "ratio": {m: report.ratio(m) for m in METRICS},
        "report": report,
    }


def run_floor(df: pd.DataFrame) -> dict[str, Any]:
    """The practical floor: factorize, one bincount, five rates, max/min."""
    r_codes, r_uniq = pd.factorize(df["race"])
    s_codes, s_uniq = pd.factorize(df["sex"])
    n_groups = len(r_uniq) * len(s_uniq)
    cell = r_codes * len(s_uniq)
    cell += s_codes
    cell *= 4
    cell += df["y_true"].to_numpy() * 2
    cell += df["y_pred"].to_numpy()
    c = np.bincount(cell, minlength=n_groups * 4).reshape(n_groups, 2, 2).astype(np.float64)
    tn, fp, fn, tp = c[:, 0, 0], c[:, 0, 1], c[:, 1, 0], c[:, 1, 1]
    n = tn + fp + fn + tp
    values = {
        "selection_rate": (tp + fp) / n,
        "true_positive_rate": tp / (tp + fn),
        "false_positive_rate": fp / (fp + tn),
        "accuracy": (tp + tn) / n,
        "precision": tp / (tp + fp),
    }
    labels = [(r, s) for r in r_uniq for s in s_uniq]
    return {
        "difference": {m: float(v.max() - v.min()) for m, v in values.items()},
        "ratio": {m: float(v.min() / v.max()) for m, v in values.items()},
        "by_group": {
            lab: {m: float(values[m][i]) for m in METRICS} for i, lab in enumerate(labels)
        },
    }


def run_fairlearn(df: pd.DataFrame) -> dict[str, Any]:
    from fairlearn.metrics import (
        MetricFrame,
        false_positive_rate,
        selection_rate,
        true_positive_rate,
    )
    from sklearn.metrics import accuracy_score, precision_score

    mf = MetricFrame(
        metrics={
            "selection_rate": selection_rate,
            "true_positive_rate": true_positive_rate,
            "false_positive_rate": false_positive_rate,
            "accuracy": accuracy_score,
            "precision": precision_score,
        },
        y_true=df["y_true"],
        y_pred=df["y_pred"],
        sensitive_features=df[["race", "sex"]],
    )
    diff, ratio = mf.difference(), mf.ratio()
    return {
        "difference": {m: float(diff[m]) for m in METRICS},
        "ratio": {m: float(ratio[m]) for m in METRICS},
        "by_group": {
            tuple(ix): {m: float(row[m]) for m in METRICS} for ix, row in mf.by_group.iterrows()
        },
    }


def aif360_frame(df: pd.DataFrame) -> pd.DataFrame:
    """Numeric copy for AIF360 (race A..E -> 0..4, sex female/male -> 0/1). Not timed."""
    race = pd.Categorical(df["race"], categories=list(RACE_LEVELS)).codes.astype(np.int64)
    sex = pd.Categorical(df["sex"], categories=list(SEX_LEVELS)).codes.astype(np.int64)
    return pd.DataFrame({"race": race, "sex": sex, "y_true": df["y_true"].to_numpy()})


def run_aif360(num: pd.DataFrame, y_pred: np.ndarray) -> dict[str, Any]:
    from aif360.datasets import BinaryLabelDataset
    from aif360.metrics import ClassificationMetric

    priv_race, priv_sex = RACE_LEVELS.index(PRIVILEGED["race"]), SEX_LEVELS.index(PRIVILEGED["sex"])
    privileged = [{"race": priv_race, "sex": priv_sex}]
    unprivileged = [
        {"race": r, "sex": s}
        for r in range(len(RACE_LEVELS))
        for s in range(len(SEX_LEVELS))
        if (r, s) != (priv_race, priv_sex)
    ]
    t0 = time.perf_counter()
    truth = BinaryLabelDataset(
        df=num,
        label_names=["y_true"],
        protected_attribute_names=["race", "sex"],
        favorable_label=1,
        unfavorable_label=0,
    )
    pred = truth.copy()  # shallow copy: the cheapest correct way to attach predictions
    pred.labels = y_pred.reshape(-1, 1).astype(np.float64)
    metric = ClassificationMetric(
        truth, pred, unprivileged_groups=unprivileged, privileged_groups=privileged
    )
    t1 = time.perf_counter()
    out = {
        "disparate_impact": float(metric.disparate_impact()),
        "statistical_parity_difference": float(metric.statistical_parity_difference()),
        "equal_opportunity_difference": float(metric.equal_opportunity_difference()),
        "average_odds_difference": float(metric.average_odds_difference()),
        "accuracy": float(metric.accuracy()),
    }
    t2 = time.perf_counter()
    return {"values": out, "construct_s": t1 - t0, "metrics_s": t2 - t1}


# --- harness ------------------------------------------------------------------


@dataclass
class Step:
    name: str
    times: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    peaks: list[int] = field(default_factory=list)
    result: Any = None
    note: str = ""

    @property
    def time(self) -> float:
        return statistics.median(self.times)

    @property
    def peak(self) -> int:
        return max(self.peaks)


def measure(step: Step, fn: Callable[[], Any], repeat: int) -> Step:
    for _ in range(repeat):
        with PeakRSS() as mem:
            c0, t0 = time.process_time(), time.perf_counter()
            result = fn()
            elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
        step.times.append(elapsed)
        step.cpu.append(cpu)
        step.peaks.append(mem.increase)
        step.result = result
        del result
        gc.collect()
    return step


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, float]:
    """Median (wall, CPU) seconds, each run after gc.collect() and malloc_trim() like the steps."""
    wall, cpu = [], []
    for _ in range(repeat):
        gc.collect()
        malloc_trim()
        c0, t0 = time.process_time(), time.perf_counter()
        fn()
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return statistics.median(wall), statistics.median(cpu)


def max_abs(a: dict[Any, float | None], b: dict[Any, float | None]) -> float:
    return max(abs((a[k] if a[k] is not None else np.nan) - b[k]) for k in a)


def trustops_by_group(report: Any) -> dict[tuple[Any, ...], dict[str, float | None]]:
    return {
        (g.group["race"], g.group["sex"]): {m: g.metrics[m] for m in METRICS}
        for g in report.by_group
    }


def by_group_diff(ours: dict[Any, dict[str, Any]], theirs: dict[Any, dict[str, Any]]) -> float:
    assert set(ours) == set(theirs), (sorted(ours), sorted(theirs))
    return max(max_abs(ours[k], theirs[k]) for k in ours)


def versions() -> dict[str, str]:
    return machine.versions(
        (
            "trustops",
            "numpy",
            "pandas",
            "pyarrow",
            "scipy",
            "scikit-learn",
            "fairlearn",
            "aif360",
        )
    )


def fmt_mb(b: float) -> str:
    return f"{b / MB:,.0f} MB"


def verdict(ok: bool) -> str:
    return "MET" if ok else "MISSED"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=10_000_000, help="rows (default 10,000,000)")
    ap.add_argument(
        "--repeat",
        type=int,
        default=3,
        help="runs of each step except Fairlearn (run once); median reported",
    )
    ap.add_argument("--skip-peers", action="store_true", help="skip Fairlearn and AIF360")
    ap.add_argument("--seed", type=int, default=20240601, help="data seed")
    args = ap.parse_args(argv)
    if args.repeat < 1 or args.rows < 1:
        ap.error("--rows and --repeat must be positive")

    print("# trustops fairness benchmark\n")
    v = versions()
    print(
        f"rows={args.rows:,}  repeat={args.repeat}  seed={args.seed}  skip_peers={args.skip_peers}"
    )
    print(
        f"machine: {platform.system()} {platform.release()}, {cpu_model()}, "
        f"os.cpu_count()={os.cpu_count()}, "
        f"RAM {os.sysconf('SC_PHYS_PAGES') * _PAGE / 1024**3:.1f} GiB"
    )
    print(f"source: trustops at git {git_state()}")
    print("versions: " + ", ".join(f"{k} {val}" for k, val in v.items()))
    print(f"load average at start (1/5/15 min): {load()}")
    print(f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '(unset)')}")
    print(
        f"memory: peak RSS increase per step, {PeakRSS.method}, "
        "after gc.collect() and glibc malloc_trim(0)\n"
    )

    # Imports are timed separately and kept out of the steps.
    import_times = {}
    t0 = time.perf_counter()
    import trustops.assess
    import trustops.core.fairness

    import_times["trustops"] = time.perf_counter() - t0
    if not args.skip_peers:
        t0 = time.perf_counter()
        import fairlearn.metrics  # noqa: F401
        import sklearn.metrics  # noqa: F401

        import_times["fairlearn+sklearn"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        import aif360.datasets
        import aif360.metrics  # noqa: F401

        import_times["aif360"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    df = make_data(args.rows, args.seed)
    gen_s = time.perf_counter() - t0
    shallow = int(df.memory_usage(index=False, deep=False).sum())
    print(
        f"data: {len(df):,} rows generated in {gen_s:.1f} s; dtypes {dict(df.dtypes.astype(str))}"
    )
    print(
        f"input columns: {fmt_mb(shallow)} (race, sex: object arrays of 8-byte pointers to "
        f"{len(RACE_LEVELS) + len(SEX_LEVELS)} shared str objects; y_true, y_pred: int64)"
    )
    print("group sizes (race x sex):", df.groupby(["race", "sex"]).size().to_dict(), "\n")

    # Warm-up on a small slice: first-call costs (lazy imports, e.g. scipy.stats) stay out.
    small = df.iloc[:10_000].copy()
    run_trustops(small)
    run_trustops(small, bootstrap=10)
    run_floor(small)
    if not args.skip_peers:
        run_aif360(aif360_frame(small), small["y_pred"].to_numpy())
        run_fairlearn(small)
    del small
    gc.collect()

    k = args.repeat
    steps: dict[str, Step] = {}
    steps["ours"] = measure(
        Step("trustops assess_fairness (point estimates)"), lambda: run_trustops(df), k
    )
    steps["boot"] = measure(
        Step("trustops assess_fairness, bootstrap=1000"),
        lambda: run_trustops(df, bootstrap=1000, seed=0),
        k,
    )
    steps["floor"] = measure(
        Step("NumPy floor (factorize + one bincount)"), lambda: run_floor(df), k
    )
    if not args.skip_peers:
        num = aif360_frame(df)  # string -> int mapping, outside the timed part
        y_pred = df["y_pred"].to_numpy()
        steps["aif360"] = measure(
            Step("AIF360 BinaryLabelDataset + ClassificationMetric"),
            lambda: run_aif360(num, y_pred),
            k,
        )
        a = steps["aif360"].result
        steps[
            "aif360"
        ].note = f"construction {a['construct_s']:.2f} s, metrics {a['metrics_s']:.2f} s (last run)"
        del num, y_pred
        gc.collect()
        steps["fairlearn"] = measure(
            Step("Fairlearn MetricFrame + difference() + ratio()"), lambda: run_fairlearn(df), 1
        )

    ours = steps["ours"]
    base_t = ours.time
    print("## Results\n")
    print(
        f"time: median of {k} runs (Fairlearn: 1 run); 'x trustops' = step time / trustops "
        "point-estimate time; peak = peak RSS increase during the step (max over runs)\n"
    )
    print(
        "| step | time (s) | CPU (s) | runs | x trustops | peak RSS increase | peak / input cols |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    for s in steps.values():
        print(
            f"| {s.name} | {s.time:.3f} | {statistics.median(s.cpu):.3f} | {len(s.times)} | "
            f"{s.time / base_t:.2f}x | {fmt_mb(s.peak)} | {s.peak / shallow:.2f}x |"
        )
    print(f"\ninput columns (race, sex, y_true, y_pred; shallow bytes): {fmt_mb(shallow)}")
    for s in steps.values():
        runs = ", ".join(f"{t:.3f}" for t in s.times)
        extra = f"; {s.note}" if s.note else ""
        print(f"- {s.name}: runs [{runs}] s{extra}")
    print(
        "- import times (not in the steps): "
        + ", ".join(f"{name} {t:.2f} s" for name, t in import_times.items())
    )

    # tracemalloc cross-check (untimed): Python + NumPy allocations only.
    tm_ours = tracemalloc_peak(lambda: run_trustops(df))
    tm_floor = tracemalloc_peak(lambda: run_floor(df))
    print(
        f"- tracemalloc peak (cross-check, untimed): trustops {fmt_mb(tm_ours)} "
        f"({tm_ours / shallow:.2f}x input), floor {fmt_mb(tm_floor)} "
        f"({tm_floor / shallow:.2f}x input)"
    )

    # --- correctness -------------------------------------------------------
    print("\n## Agreement (max absolute difference)\n")
    o = ours.result
    fl = steps["floor"].result
    ours_groups = trustops_by_group(o["report"])
    checks: list[tuple[str, float]] = [
        ("trustops vs floor: by-group metrics", by_group_diff(ours_groups, fl["by_group"])),
        ("trustops vs floor: differences", max_abs(o["difference"], fl["difference"])),
        ("trustops vs floor: ratios", max_abs(o["ratio"], fl["ratio"])),
    ]
    if not args.skip_peers:
        fr = steps["fairlearn"].result
        checks += [
            (
                "trustops vs Fairlearn: by-group metrics (10 groups x 5)",
                by_group_diff(ours_groups, fr["by_group"]),
            ),
            ("trustops vs Fairlearn: difference() x 5", max_abs(o["difference"], fr["difference"])),
            ("trustops vs Fairlearn: ratio() x 5", max_abs(o["ratio"], fr["ratio"])),
        ]
        import trustops

        priv = trustops.assess_fairness(
            df,
            y_true="y_true",
            y_pred="y_pred",
            sensitive=["race", "sex"],
            intersectional=True,
            privileged=PRIVILEGED,
        )
        agg = priv.aggregates
        ours_aif = {
            "disparate_impact": agg["disparate_impact"],
            "statistical_parity_difference": agg["statistical_parity_difference"],
            "equal_opportunity_difference": agg["aif360_equal_opportunity_difference"],
            "average_odds_difference": agg["average_odds_difference"],
            "accuracy": priv.overall["accuracy"],
        }
        checks.append(
            (
                "trustops (privileged=race A & male) vs AIF360: 5 metrics",
                max_abs(ours_aif, steps["aif360"].result["values"]),
            )
        )
    worst = 0.0
    for name, d in checks:
        print(f"- {name}: {d:.3g}")
        worst = max(worst, d)
    print(f"\nall agree to {worst:.3g}" + (" (OK)" if worst < 1e-9 else " (MISMATCH!)"))

    # --- targets -----------------------------------------------------------
    print("\n## Targets\n")
    print(
        "verdicts use wall-clock medians; the CPU-time column is the same ratio on process CPU "
        "time, which other processes on the machine disturb less\n"
    )
    print("| target | measured (wall) | measured (CPU) | goal | verdict |")
    print("|---|---:|---:|---:|---|")
    cpu = {key: statistics.median(s.cpu) for key, s in steps.items()}

    def ratio(num: str, den: str) -> tuple[float, float]:
        return steps[num].time / steps[den].time, cpu[num] / cpu[den]

    rows: list[tuple[str, tuple[float, float], str, bool]] = []
    if not args.skip_peers:
        f = ratio("fairlearn", "ours")
        a = ratio("aif360", "ours")
        rows += [
            (
                "faster than Fairlearn (Fairlearn / trustops)",
                f,
                f">= {TARGETS['fairlearn_speedup']:.0f}x",
                f[0] >= TARGETS["fairlearn_speedup"],
            ),
            (
                "faster than AIF360 (AIF360 / trustops)",
                a,
                f">= {TARGETS['aif360_speedup']:.0f}x",
                a[0] >= TARGETS["aif360_speedup"],
            ),
        ]
    fl = ratio("ours", "floor")
    bo = ratio("boot", "ours")
    m_f = ours.peak / shallow
    rows += [
        (
            "close to the floor (trustops / floor)",
            fl,
            f"<= {TARGETS['floor_factor']:.0f}x",
            fl[0] <= TARGETS["floor_factor"],
        ),
        (
            "bootstrap=1000 / point estimate",
            bo,
            f"<= {TARGETS['bootstrap_factor']:.0f}x",
            bo[0] <= TARGETS["bootstrap_factor"],
        ),
    ]
    for name, (wall_r, cpu_r), goal, ok in rows:
        print(f"| {name} | {wall_r:.2f}x | {cpu_r:.2f}x | {goal} | {verdict(ok)} |")
    print(
        f"| trustops peak RSS increase / input column bytes | {m_f:.2f}x | "
        f"(tracemalloc: {tm_ours / shallow:.2f}x) | < {TARGETS['memory_factor']}x | "
        f"{verdict(m_f < TARGETS['memory_factor'])} |"
    )

    # --- where trustops's time goes ------------------------------------------
    from trustops.assess import count_groups
    from trustops.core.fairness import build_report
    from trustops.engines.columns import encode_groups, to_numpy

    counts = count_groups(df, y_true="y_true", y_pred="y_pred", sensitive=["race", "sex"])
    phases = {
        "count_groups (validate + encode + count)": timed(
            lambda: count_groups(df, y_true="y_true", y_pred="y_pred", sensitive=["race", "sex"]), k
        ),
        "  encode_groups(race)": timed(lambda: encode_groups(df["race"], "race"), k),
        "  encode_groups(sex)": timed(lambda: encode_groups(df["sex"], "sex"), k),
        "  to_numpy(y_true) + to_numpy(y_pred)": timed(
            lambda: (to_numpy(df["y_true"], "y_true"), to_numpy(df["y_pred"], "y_pred")), k
        ),
        "build_report(intersectional=True)": timed(
            lambda: build_report(counts, intersectional=True), k
        ),
        "build_report(intersectional=True, bootstrap=1000)": timed(
            lambda: build_report(counts, intersectional=True, bootstrap=1000, seed=0), k
        ),
        "floor: pd.factorize(race) + pd.factorize(sex)": timed(
            lambda: (pd.factorize(df["race"]), pd.factorize(df["sex"])), k
        ),
    }
    print(f"\n## trustops phases (median of {k}; same gc/malloc_trim before each run)\n")
    print("| phase | wall (s) | CPU (s) | share of trustops step (CPU) |")
    print("|---|---:|---:|---:|")
    for name, (w, c) in phases.items():
        print(f"| {name} | {w:.3f} | {c:.3f} | {c / cpu['ours']:.0%} |")
    print(f"\nload average at end (1/5/15 min): {load()}")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
