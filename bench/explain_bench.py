#!/usr/bin/env python
"""Reason codes and mitigation benchmark: trustops' adverse-action notices vs calling shap directly.

One process, two parts.

1. **Reason codes for ``--applicants`` applicants** (100,000) with a 200-tree
   LightGBM ``LGBMClassifier(n_estimators=200)`` trained (not timed) on
   ``--train`` rows of ``trustops.datasets.make_credit`` (seed 1; the six
   numeric features income, debt_ratio, credit_history_years, late_payments,
   age, zip_score; label ``approved``). The applicants are fresh rows (seed 2).

   - **trustops**: ``adverse_action_notices`` end to end, with no background
     (path-dependent TreeSHAP on the log-odds, the tree explainer trustops
     picks without one): scoring every applicant, explaining every denied
     one, choosing up to 4 principal reasons per denied applicant from a
     reason-code dictionary, and building one notice dict per applicant.
   - **shap**: ``shap.TreeExplainer(model, feature_perturbation="tree_path_dependent")``
     then ``shap_values`` of the same denied rows (a float64 NumPy matrix),
     values only: the like-for-like floor (same explainer, same rows, same output).
   - overhead = (trustops - shap) / shap; the target is < 20%. A second
     ratio adds the scoring a caller of shap must do anyway to find the
     denied rows (``predict_proba`` on every applicant).
   - where trustops' time goes: each phase alone on the same rows (input
     conversion and scoring; ``trustops.explain``, itself split into shap's
     call and the additivity check; ``principal_reasons`` for every denied
     row; building the notices). The long phase (TreeSHAP)
     run once, scoring the median of ``--repeat``, the short ones the minimum.

   Each contender runs ``--repeat`` times, interleaved (median).

2. **Mitigation comparison on ``--rows`` rows** (100,000 of ``make_credit``,
   seed 3): ``compare_methods`` with the default methods on
   ``LogisticRegression(max_iter=1000)``, sensitive ``race``, label
   ``approved``, dropping ``applicant_id``, ``sex`` and ``repaid``. Then
   each method alone (``methods=[m]``: the same split, so the time is that
   method's fit, predict and scoring plus the shared validation and split).

Usage:
    python bench/explain_bench.py [--quick] [--applicants N] [--train N] [--rows N]
        [--repeat K] [--skip-mitigation] [--seed S]
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
from rich import box
from rich.console import Console
from rich.table import Table

import machine
from machine import load, machine_line, source_state

OVERHEAD_TARGET = 0.20  # trustops' overhead over shap, end to end
TARGET_APPLICANTS = 100_000
N_TREES = 200
FEATURES = ("income", "debt_ratio", "credit_history_years", "late_payments", "age", "zip_score")
TIME = "2026-01-01T00:00:00+00:00"

console = Console(width=200, highlight=False, soft_wrap=True)


def say(text: str = "") -> None:
    console.print(text, markup=False)


def show(tab: Table) -> None:
    """Print a table without Rich's blank edge lines or trailing spaces."""
    with console.capture() as capture:
        console.print(tab)
    lines = [line.rstrip() for line in capture.get().splitlines()]
    print("\n".join(line for line in lines if line), flush=True)


def table(title: str | None, columns: list[tuple[str, str]]) -> Table:
    """A Markdown-style Rich table (pastes into BENCHMARKS.md as it is)."""
    tab = Table(title=title, box=box.MARKDOWN, title_justify="left", show_edge=True)
    for name, justify in columns:
        tab.add_column(name, justify=justify)  # type: ignore[arg-type]
    return tab


def timed(fn: Callable[[], Any]) -> tuple[float, float, Any]:
    """Wall and CPU seconds of one call (after a gc.collect), and its result."""
    gc.collect()
    t0, c0 = time.perf_counter(), time.process_time()
    out = fn()
    return time.perf_counter() - t0, time.process_time() - c0, out


# --- machine ----------------------------------------------------------------


def versions() -> dict[str, str]:
    return machine.versions(
        ("trustops", "shap", "lightgbm", "scikit-learn", "numpy", "pandas", "fairlearn")
    )


def fmt_s(seconds: float) -> str:
    return f"{seconds:.2f} s" if seconds >= 0.1 else f"{seconds * 1000:.1f} ms"


# --- part 1: reason codes ---------------------------------------------------


def class_one(values: Any) -> np.ndarray:
    """shap's values of the favourable class (a list or a 3-D array per class, or n x p)."""
    if isinstance(values, list):
        values = values[-1]
    values = np.asarray(values)
    return values[:, :, 1] if values.ndim == 3 else values


def credit_frame(n: int, seed: int) -> Any:
    import pandas as pd

    from trustops.datasets import make_credit

    return pd.DataFrame(make_credit(n, seed=seed))


def dictionary() -> Any:
    from trustops.core.explain.reasons import ReasonDictionary

    texts = {
        "income": ("R01", "Income insufficient for amount of credit requested"),
        "debt_ratio": ("R02", "Excessive obligations in relation to income"),
        "credit_history_years": ("R03", "Length of credit history"),
        "late_payments": ("R04", "Delinquent past or present credit obligations"),
        "age": ("R05", "Age of applicant"),
        "zip_score": ("R06", "Location score"),
    }
    return ReasonDictionary("bench-1", texts)


def section_reasons(args: argparse.Namespace) -> dict[str, Any]:
    import lightgbm
    import shap

    from trustops.core.explain.reasons import principal_reasons
    from trustops.engines.model_inputs import feature_matrix, positive_probability
    from trustops.explain import check_adds_up, explain
    from trustops.notices import adverse_action_notices

    say(f"## 1. Reason codes for {args.applicants:,} applicants, {N_TREES}-tree LightGBM\n")
    train = credit_frame(args.train, args.seed + 1)
    t0 = time.perf_counter()
    model = lightgbm.LGBMClassifier(n_estimators=N_TREES, random_state=0, verbose=-1, n_jobs=2)
    model.fit(train[list(FEATURES)], train["approved"])
    fit_s = time.perf_counter() - t0
    people = credit_frame(args.applicants, args.seed + 2)
    applicants = {f: people[f].to_numpy() for f in FEATURES}
    reasons = dictionary()
    leaves = int(model.booster_.dump_model()["tree_info"][0]["num_leaves"])
    say(
        f"model: LGBMClassifier(n_estimators={N_TREES}) ({leaves} leaves in the first tree), "
        f"trained on {args.train:,} rows in {fit_s:.1f} s (not timed); "
        f"applicants: {args.applicants:,} fresh rows"
    )

    def run_trustops() -> list[dict[str, Any]]:
        return adverse_action_notices(
            model,
            applicants,
            features=list(FEATURES),
            dictionary=reasons,
            background=None,
            model_sha256="0" * 64,
            time=TIME,
        )

    matrix = np.column_stack([applicants[f] for f in FEATURES]).astype(np.float64)
    probs = positive_probability(model, FEATURES, "numpy")(matrix)
    denied = np.flatnonzero(probs < 0.5)
    x_denied = np.ascontiguousarray(matrix[denied])
    say(f"denied (score < 0.5): {len(denied):,} of {args.applicants:,}\n")

    def run_shap() -> np.ndarray:
        explainer = shap.TreeExplainer(model, feature_perturbation="tree_path_dependent")
        return class_one(explainer.shap_values(x_denied, check_additivity=False))

    def run_scoring_and_shap() -> np.ndarray:
        p = model.predict_proba(people[list(FEATURES)])[:, 1]
        rows = np.ascontiguousarray(matrix[p < 0.5])
        explainer = shap.TreeExplainer(model, feature_perturbation="tree_path_dependent")
        return class_one(explainer.shap_values(rows, check_additivity=False))

    # warm-up (imports, LightGBM's thread pool), not timed
    run_shap()
    walls: dict[str, list[float]] = {"trustops": [], "shap": [], "scoring+shap": []}
    cpus: dict[str, list[float]] = {"trustops": [], "shap": [], "scoring+shap": []}
    notices: list[dict[str, Any]] = []
    raw = np.empty(0)
    for _ in range(args.repeat):
        for name, fn in (
            ("shap", run_shap),
            ("trustops", run_trustops),
            ("scoring+shap", run_scoring_and_shap),
        ):
            w, c, out = timed(fn)
            walls[name].append(w)
            cpus[name].append(c)
            if name == "trustops":
                notices = out
            elif name == "shap":
                raw = out
    med = {k: statistics.median(v) for k, v in walls.items()}
    cpu = {k: statistics.median(v) for k, v in cpus.items()}

    # agreement: trustops' attributions are shap's values
    got = [n for n in notices if n["decision"] == "denied"]
    values = np.array([[n["attributions"][f] for f in FEATURES] for n in got])
    max_diff = float(np.abs(values - raw).max()) if len(got) == len(raw) else float("nan")
    n_reasons = sum(len(n["reasons"]) for n in got)

    # phases of trustops' run, each alone on the same rows
    phases: list[tuple[str, float, str]] = []
    rows_dict = {n: x_denied[:, j] for j, n in enumerate(FEATURES)}

    def p_score() -> Any:
        m = feature_matrix(applicants, model, FEATURES, "applicants")
        return positive_probability(model, m.names, m.backend)(m.values)

    def p_explain() -> Any:
        return explain(model, rows_dict, background=None, feature_names=list(FEATURES))

    w_score = statistics.median(timed(p_score)[0] for _ in range(args.repeat))
    w_explain, _, explanation = timed(p_explain)
    data = feature_matrix(rows_dict, model, FEATURES, "data")

    def p_adds_up() -> None:
        check_adds_up(explanation.values, explanation.base_values, "log_odds", model, data)

    def p_shap_call() -> Any:
        explainer = shap.TreeExplainer(model, feature_perturbation="tree_path_dependent")
        return explainer(x_denied, check_additivity=False)

    w_call = timed(p_shap_call)[0]  # one run each: the long phases
    w_adds = min(timed(p_adds_up)[0] for _ in range(args.repeat))
    per_row = [explanation.attributions(k) for k in range(len(denied))]

    def p_attributions() -> Any:
        return [explanation.attributions(k) for k in range(len(denied))]

    def p_reasons() -> Any:
        return [
            principal_reasons(
                a,
                dictionary=reasons,
                prohibited=["race", "color", "religion", "national_origin", "sex"],
                max_reasons=4,
            )
            for a in per_row
        ]

    found = p_reasons()

    def p_to_dict() -> Any:
        return [[r.to_dict() for r in s.reasons] for s in found]

    w_attr = min(timed(p_attributions)[0] for _ in range(args.repeat))
    w_reasons = min(timed(p_reasons)[0] for _ in range(args.repeat))
    w_to_dict = min(timed(p_to_dict)[0] for _ in range(args.repeat))
    loop = med["trustops"] - w_score - w_explain
    phases = [
        ("input conversion + scoring all applicants", w_score, "feature_matrix, predict_proba"),
        ("trustops.explain on the denied rows", w_explain, "one run"),
        ("  of which shap's explainer(x) call", w_call, "TreeExplainer + __call__"),
        ("  of which the additivity check", w_adds, "predict_proba again on denied rows"),
        ("notice loop (end to end minus the above)", loop, "per applicant, in Python"),
        ("  Explanation.attributions(k) per denied row", w_attr, "dict of 6 floats"),
        ("  principal_reasons per denied row", w_reasons, "reason selection"),
        ("  Reason.to_dict per reason", w_to_dict, f"{n_reasons:,} reasons"),
    ]

    tab = table(
        None,
        [("contender", "left"), ("wall (median)", "right"), ("CPU", "right"), ("vs shap", "right")],
    )
    base = med["shap"]
    for name, label in (
        ("shap", "shap TreeExplainer.shap_values, denied rows (floor)"),
        ("scoring+shap", "predict_proba all + shap on the denied rows"),
        ("trustops", "trustops adverse_action_notices, end to end"),
    ):
        tab.add_row(label, fmt_s(med[name]), fmt_s(cpu[name]), f"{(med[name] - base) / base:+.1%}")
    show(tab)
    say(
        "\nwall times per run: "
        + "; ".join(f"{k} " + ", ".join(f"{w:.2f}" for w in v) for k, v in walls.items())
    )
    say(
        f"agreement: max |trustops attribution - shap value| = {max_diff:.3g} "
        f"over {len(got):,} x {len(FEATURES)}; {n_reasons:,} reasons given "
        f"({n_reasons / max(len(got), 1):.2f} per denied applicant)\n"
    )
    say("### Where trustops' time goes (each phase alone, same rows)\n")
    tab = table(None, [("phase", "left"), ("wall", "right"), ("share", "right"), ("note", "left")])
    for label, w, note in phases:
        tab.add_row(label, fmt_s(w), f"{w / med['trustops']:.1%}", note)
    show(tab)
    return {
        "overhead": (med["trustops"] - base) / base,
        "overhead_scored": (med["trustops"] - med["scoring+shap"]) / med["scoring+shap"],
        "trustops": med["trustops"],
        "shap": base,
        "n": args.applicants,
    }


# --- part 2: mitigation comparison ---------------------------------------------


def section_mitigation(args: argparse.Namespace) -> None:
    from sklearn.linear_model import LogisticRegression

    from trustops.mitigation.compare import DEFAULT_METHODS, compare_methods

    say(f"\n## 2. Mitigation comparison on {args.rows:,} rows (LogisticRegression)\n")
    frame = credit_frame(args.rows, args.seed + 3)

    def run(methods: tuple[str, ...]) -> Any:
        return compare_methods(
            frame,
            y="approved",
            sensitive="race",
            estimator=LogisticRegression(max_iter=1000),
            methods=methods,
            drop=["applicant_id", "sex", "repaid"],
            seed=0,
        )

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        w_all, c_all, comparison = timed(lambda: run(DEFAULT_METHODS))
        alone = {m: timed(lambda m=m: run((m,))) for m in DEFAULT_METHODS}
    say(
        f"compare_methods, default methods ({', '.join(DEFAULT_METHODS)}): "
        f"{fmt_s(w_all)} wall, {fmt_s(c_all)} CPU; train {comparison.n_train:,} / "
        f"test {comparison.n_test:,} rows\n"
    )
    tab = table(
        None,
        [
            ("method", "left"),
            ("alone (wall)", "right"),
            ("CPU", "right"),
            ("share of sum", "right"),
            ("accuracy", "right"),
            ("DP diff", "right"),
            ("impact ratio", "right"),
        ],
    )
    total = sum(w for w, _, _ in alone.values())
    for m, (w, c, _) in alone.items():
        r = comparison[m]
        tab.add_row(
            m,
            fmt_s(w),
            fmt_s(c),
            f"{w / total:.1%}",
            f"{r.accuracy:.3f}",
            f"{r.demographic_parity_difference:.3f}",
            f"{r.impact_ratio:.3f}",
        )
    tab.add_row("sum of the above", fmt_s(total), "", "", "", "", "")
    show(tab)


def main(argv: list[str] | None = None) -> int:
    warnings.filterwarnings("ignore", message=".*TreeExplainer shap values output has changed")
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="10k applicants, 20k rows (< 60 s)")
    ap.add_argument("--applicants", type=int, help="applicants to explain (100,000)")
    ap.add_argument("--train", type=int, help="rows the model is trained on (50,000)")
    ap.add_argument("--rows", type=int, help="rows of the mitigation comparison (100,000)")
    ap.add_argument("--repeat", type=int, help="runs of each contender (3; quick 1)")
    ap.add_argument("--skip-mitigation", action="store_true", help="part 1 only")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    args.applicants = args.applicants or (10_000 if args.quick else TARGET_APPLICANTS)
    args.train = args.train or (20_000 if args.quick else 50_000)
    args.rows = args.rows or (20_000 if args.quick else 100_000)
    args.repeat = args.repeat or (1 if args.quick else 3)
    if min(args.applicants, args.train, args.rows, args.repeat) < 1:
        ap.error("sizes and --repeat must be positive")

    say("# trustops reason-code and mitigation benchmark\n")
    say(
        f"applicants={args.applicants:,}  train={args.train:,}  rows={args.rows:,}  "
        f"repeat={args.repeat}  quick={args.quick}  seed={args.seed}"
    )
    say(machine_line())
    say(f"source: {source_state()}")
    say("versions: " + ", ".join(f"{k} {v}" for k, v in versions().items()))
    say(f"load average at start (1/5/15 min): {load()}\n")
    t_start = time.perf_counter()
    result = section_reasons(args)
    if not args.skip_mitigation:
        section_mitigation(args)

    say("\n## Targets\n")
    tab = table(None, [("target", "left"), ("measured", "right"), ("met?", "left")])
    measured = (
        f"{result['overhead']:+.1%} ({fmt_s(result['trustops'])} vs {fmt_s(result['shap'])}); "
        f"{result['overhead_scored']:+.1%} vs scoring + shap"
    )
    if result["n"] == TARGET_APPLICANTS:
        verdict = "MET" if result["overhead"] < OVERHEAD_TARGET else "MISSED"
    else:
        verdict = f"- (not judged: the target is at {TARGET_APPLICANTS:,} applicants)"
    tab.add_row(
        f"reason codes for {TARGET_APPLICANTS:,} applicants: overhead over shap "
        f"< {OVERHEAD_TARGET:.0%}",
        measured,
        verdict,
    )
    show(tab)
    say(f"\ntotal {time.perf_counter() - t_start:.0f} s; load average at end: {load()}")
    say(f"source at end: {source_state()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
