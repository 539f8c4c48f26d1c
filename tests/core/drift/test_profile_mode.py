"""Drift from profiles: verdicts, bounds, and agreement with the exact statistics."""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pytest
from scipy import stats

from trustops.core.drift.profiles import (
    auto_method,
    chi_square_homogeneity,
    coarse_groups,
    compare_profiles,
    compare_samples,
)
from trustops.core.drift.report import ColumnDrift, DriftReport
from trustops.core.profiles import DatasetProfile, ProfilePlan
from trustops.errors import InputError, MissingColumnError, UsageError


def reference_profile(table: pa.Table, **plan: object) -> DatasetProfile:
    first = DatasetProfile.zero(ProfilePlan(**plan), table.schema).update(table)  # type: ignore[arg-type]
    fitted = first.fitted_plan()
    return DatasetProfile.zero(fitted, table.schema).update(table)


def current_profile(table: pa.Table, ref: DatasetProfile) -> DatasetProfile:
    return DatasetProfile.zero(ref.plan, table.schema).update(table)


@pytest.fixture(scope="module")
def shifted_million() -> tuple[DatasetProfile, DatasetProfile, set[str], dict[str, bool]]:
    """1M rows, 16 numeric columns; 3 shifted slightly (0.02 sd), 13 unchanged.

    Also the exact test's verdicts. With this seed exact KS flags only the
    shifted columns (at α = 0.05 about one unchanged column in twenty is
    flagged by chance; seeds 3, 4, 6, 7 show it).
    """
    rng = np.random.default_rng(1)
    n = 1_000_000
    shifted = {"x0", "x1", "x2"}
    ref_cols, cur_cols = {}, {}
    for i in range(16):
        name = f"x{i}"
        ref_cols[name] = rng.normal(size=n)
        cur_cols[name] = rng.normal(size=n) + (0.02 if name in shifted else 0.0)
    exact = {
        name: stats.ks_2samp(ref_cols[name], cur_cols[name], method="asymp").pvalue <= 0.05
        for name in ref_cols
    }
    ref = reference_profile(pa.table(ref_cols))
    cur = current_profile(pa.table(cur_cols), ref)
    return ref, cur, shifted, exact


def test_sketch_ks_flags_exactly_the_shifted_columns(shifted_million) -> None:  # type: ignore[no-untyped-def]
    ref, cur, shifted, exact = shifted_million
    report = compare_profiles(ref, cur, method="ks")
    assert set(report.drifted_columns) == shifted
    assert {c.column: c.drift_detected for c in report.columns} == exact
    for c in report.columns:
        assert c.bounds is not None and c.bounds[0] <= c.bounds[1]
        # The p-value comes from the lower bound: conservative.
        assert c.statistic == c.bounds[0]


def test_default_mode_flags_exactly_the_shifted_columns(shifted_million) -> None:  # type: ignore[no-untyped-def]
    ref, cur, shifted, exact = shifted_million
    report = compare_profiles(ref, cur)  # method="auto": KS on numeric columns
    assert {c.method for c in report.columns} == {"ks"}
    assert set(report.drifted_columns) == shifted
    assert {c.column: c.drift_detected for c in report.columns} == exact
    # PSI measures effect size: a 0.02 sd shift is far below its 0.1 threshold.
    assert compare_profiles(ref, cur, method="psi").drifted_columns == []


@pytest.mark.parametrize("shift", [0.0, 0.05, 0.3])
@pytest.mark.parametrize("n", [300, 5000, 60_000])
def test_profile_ks_brackets_exact_ks(n: int, shift: float) -> None:
    rng = np.random.default_rng(n + int(shift * 100))
    r, c = rng.normal(size=n), rng.normal(shift, 1.0, size=n + 17)
    ref = reference_profile(pa.table({"x": r}))
    cur = current_profile(pa.table({"x": c}), ref)
    got = compare_profiles(ref, cur, method="ks").columns[0]
    exact = stats.ks_2samp(r, c).statistic
    assert got.bounds is not None
    assert got.bounds[0] - 1e-12 <= exact <= got.bounds[1] + 1e-12
    assert got.statistic <= exact + 1e-12
    if n <= 200:  # both sketches hold every value: exact
        assert got.statistic == pytest.approx(exact, abs=1e-12)


def test_small_samples_are_exact_ks() -> None:
    rng = np.random.default_rng(5)
    r, c = rng.normal(size=150), rng.normal(0.4, 1.0, size=120)
    ref = reference_profile(pa.table({"x": r}))
    cur = current_profile(pa.table({"x": c}), ref)
    got = compare_profiles(ref, cur, method="ks").columns[0]
    exact = stats.ks_2samp(r, c)
    assert got.statistic == pytest.approx(exact.statistic, abs=1e-12)
    assert got.bounds == (got.statistic, got.statistic)


def test_out_of_range_mass_counts_for_psi() -> None:
    r = np.linspace(0, 1, 10_000)
    ref = reference_profile(pa.table({"x": r}))
    cur = current_profile(pa.table({"x": r + 2.0}), ref)
    col = cur.columns["x"]
    assert col.histogram is not None and col.histogram.above == 10_000
    result = compare_profiles(ref, cur, method="psi").column("x")
    assert result.method == "psi" and result.drift_detected and result.statistic > 1


def test_categorical_chi2_matches_scipy_contingency() -> None:
    rng = np.random.default_rng(3)
    r = rng.choice(["a", "b", "c"], 800, p=[0.5, 0.3, 0.2])
    c = rng.choice(["a", "b", "c", "d"], 700, p=[0.4, 0.3, 0.2, 0.1])
    ref = reference_profile(pa.table({"g": r}))
    cur = current_profile(pa.table({"g": c}), ref)
    got = compare_profiles(ref, cur).column("g")
    assert got.method == "chi2"  # small reference, more than two categories
    keys = ["a", "b", "c", "d"]
    table = [[int((r == k).sum()) for k in keys], [int((c == k).sum()) for k in keys]]
    expected = stats.chi2_contingency(table, correction=False)
    assert got.statistic == pytest.approx(expected.statistic, rel=1e-12)
    assert got.p_value == pytest.approx(expected.pvalue, rel=1e-9)


def test_binary_categorical_uses_z_for_small_samples() -> None:
    ref = reference_profile(pa.table({"b": [True] * 300 + [False] * 200}))
    cur = current_profile(pa.table({"b": [True] * 150 + [False] * 350}), ref)
    got = compare_profiles(ref, cur).column("b")
    assert got.method == "z" and got.drift_detected
    # Evidently's indicator: share of values other than the first sorted key (false).
    p1, p2 = 300 / 500, 150 / 500
    pooled = 450 / 1000
    z = (p1 - p2) / np.sqrt(pooled * (1 - pooled) * (2 / 500))
    assert got.statistic == pytest.approx(z, rel=1e-12)


@pytest.mark.parametrize(
    ("kind", "n", "distinct", "method"),
    [
        ("numeric", 1000, None, "ks"),
        ("numeric", 1_000_000, None, "ks"),
        ("categorical", 500, 2, "z"),
        ("categorical", 500, 3, "chi2"),
        ("boolean", 10_000, 2, "z"),
        ("categorical", 10_000, 7, "chi2"),
    ],
)
def test_auto_method_table(kind: str, n: int, distinct: int | None, method: str) -> None:
    assert auto_method(kind, n, distinct) == method


def test_every_method_runs_on_mixed_profiles_and_is_json_safe() -> None:
    rng = np.random.default_rng(11)
    n = 3000
    ref_t = pa.table({"x": rng.normal(size=n), "g": rng.choice(["a", "b", "c"], n)})
    cur_t = pa.table({"x": rng.normal(0.5, 1, size=n), "g": rng.choice(["a", "b", "c"], n)})
    ref = reference_profile(ref_t)
    cur = current_profile(cur_t, ref)
    for method in ("psi", "ks", "chi2", "jensenshannon", "wasserstein", "hellinger", "kl"):
        report = compare_profiles(ref, cur, method=method)
        text = json.dumps(report.to_dict(), allow_nan=False, default=str)
        assert (
            DriftReport.from_dict(json.loads(text)).to_dict()["columns"]
            == json.loads(text)["columns"]
        )
        assert report.column("x").drift_detected is True


def test_wasserstein_from_sketches_is_close_to_scipy() -> None:
    rng = np.random.default_rng(2)
    r, c = rng.normal(size=50_000), rng.normal(0.3, 1.2, size=40_000)
    ref = reference_profile(pa.table({"x": r}), sketch_k=1000)
    cur = current_profile(pa.table({"x": c}), ref)
    got = compare_profiles(ref, cur, method="wasserstein").column("x")
    exact = stats.wasserstein_distance(r, c) / np.std(r)
    assert got.statistic == pytest.approx(exact, rel=0.05)


def test_columns_thresholds_and_roles() -> None:
    rng = np.random.default_rng(4)
    n = 2000
    t = pa.table(
        {"x": rng.normal(size=n), "pred": rng.integers(0, 2, n), "y": rng.integers(0, 2, n)}
    )
    t2 = pa.table(
        {"x": rng.normal(size=n), "pred": np.ones(n, dtype=np.int64), "y": rng.integers(0, 2, n)}
    )
    ref = reference_profile(t)
    cur = current_profile(t2, ref)
    report = compare_profiles(ref, cur, prediction="pred", target="y", threshold={"x": 0.5})
    assert report.prediction_drift is not None and report.prediction_drift.drift_detected
    assert report.target_drift is not None and not report.target_drift.drift_detected
    assert [c.column for c in report.features] == ["x"]
    assert report.column("x").threshold == 0.5
    only = compare_profiles(ref, cur, columns=["x"])
    assert [c.column for c in only.columns] == ["x"]
    with pytest.raises(MissingColumnError, match="'nope'"):
        compare_profiles(ref, cur, columns=["nope"])
    with pytest.raises(UsageError, match="unknown drift method"):
        compare_profiles(ref, cur, method="magic")
    with pytest.raises(UsageError, match="does not apply"):
        compare_profiles(ref, cur, method="z", columns=["x"])
    # Over a whole table, an inapplicable method falls back to auto, with a note.
    fallback = compare_profiles(ref, cur, method="z").column("x")
    assert fallback.method == "ks" and "does not apply" in (fallback.note or "")


def test_type_change_and_all_null_columns_are_explicit() -> None:
    ref = reference_profile(pa.table({"x": [1.0, 2.0, 3.0], "y": [1.0, 2.0, 3.0]}))
    other = pa.table({"x": ["a", "b", "c"], "y": [1.0, 2.0, 3.0]})
    with pytest.raises(InputError, match="'x' changed type"):
        current_profile(other, ref)
    nulls = pa.table({"x": pa.array([None, None], pa.float64()), "y": [1.0, 2.0]})
    cur = current_profile(nulls, ref)
    result = compare_profiles(ref, cur).column("x")
    assert result.drift_detected is None and "missing" in (result.note or "")


def test_current_must_be_binned_on_the_reference() -> None:
    t = pa.table({"x": np.arange(100.0)})
    ref = reference_profile(t)
    stranger = reference_profile(pa.table({"x": np.arange(100.0) * 2}))
    with pytest.raises(UsageError, match="reference's edges"):
        compare_profiles(ref, stranger, method="psi")


def test_coarse_groups_equal_reference_mass() -> None:
    groups = coarse_groups(np.full(100, 7))
    assert np.bincount(groups).tolist() == [10] * 10
    assert coarse_groups(np.array([0, 0, 5, 0, 5])).tolist() == [0, 0, 0, 0, 1]
    assert coarse_groups(np.array([3, 0, 0, 3]), 2).tolist() == [0, 0, 0, 1]


def test_chi_square_homogeneity_edge_cases() -> None:
    assert chi_square_homogeneity(np.array([5.0, 0.0]), np.array([7.0, 0.0])) == (0.0, 1.0)
    s, p = chi_square_homogeneity(np.array([10.0, 0.0]), np.array([0.0, 10.0]))
    assert s == pytest.approx(20.0) and p < 1e-4


@pytest.mark.parametrize("method", ["ks", "wasserstein", "psi", "chi2"])
def test_compare_samples_exact_matches_scipy(method: str) -> None:
    rng = np.random.default_rng(9)
    r, c = rng.normal(size=4000), rng.normal(0.1, 1, size=3000)
    got = compare_samples("x", "numeric", r, c, method=method)
    if method == "ks":
        exact = stats.ks_2samp(r, c)
        assert (got.statistic, got.p_value) == (exact.statistic, exact.pvalue)
    elif method == "wasserstein":
        assert got.statistic == stats.wasserstein_distance(r, c) / np.std(r)
    else:
        # Bins at the reference's exact deciles, out-of-range values in their own bins
        # (chi-square: joined to the outer bins); the two-sample test is scipy's contingency.
        edges = np.unique(np.quantile(r, np.linspace(0, 1, 11)))
        edges = np.append(edges[:-1], np.nextafter(edges[-1], np.inf))
        rc = np.bincount(np.searchsorted(edges, r, side="right"), minlength=len(edges) + 1)
        cc = np.bincount(np.searchsorted(edges, c, side="right"), minlength=len(edges) + 1)
        if method == "psi":
            p, q = rc / rc.sum(), cc / cc.sum()
            p, q = np.where(p == 0, 1e-4, p), np.where(q == 0, 1e-4, q)
            assert got.statistic == pytest.approx(float(np.sum((p - q) * np.log(p / q))), rel=1e-12)
        else:
            rc[1] += rc[0]
            rc[-2] += rc[-1]
            cc[1] += cc[0]
            cc[-2] += cc[-1]
            table = np.vstack([rc[1:-1], cc[1:-1]])
            table = table[:, table.sum(axis=0) > 0]
            expected = stats.chi2_contingency(table, correction=False)
            assert got.statistic == pytest.approx(expected.statistic, rel=1e-12)
            assert got.p_value == pytest.approx(expected.pvalue, rel=1e-9)


def test_column_drift_dict_round_trip() -> None:
    c = ColumnDrift("x", "numeric", "ks", 0.1, 0.01, 0.05, True, bounds=(0.1, 0.12))
    assert ColumnDrift.from_dict(c.to_dict()) == c
    inf = ColumnDrift("g", "categorical", "chi2", float("inf"), 0.0, 0.05, True)
    assert inf.to_dict()["statistic"] == "inf"


def test_jensen_shannon_log_base_is_a_parameter() -> None:
    from scipy.spatial.distance import jensenshannon

    ref = reference_profile(pa.table({"g": ["a"] * 600 + ["b"] * 400}))
    cur = current_profile(pa.table({"g": ["a"] * 300 + ["b"] * 700}), ref)
    natural = compare_profiles(ref, cur, method="jensenshannon").column("g").statistic
    base2 = compare_profiles(ref, cur, method="jensenshannon", js_base=2).column("g").statistic
    assert natural == pytest.approx(jensenshannon([0.6, 0.4], [0.3, 0.7]), rel=1e-12)
    assert base2 == pytest.approx(jensenshannon([0.6, 0.4], [0.3, 0.7], base=2), rel=1e-12)
    exact = compare_samples(
        "g",
        "categorical",
        np.array(["a", "b"] * 50),
        np.array(["a"] * 80 + ["b"] * 20),
        method="jensenshannon",
        js_base=2,
    )
    assert exact.statistic == pytest.approx(jensenshannon([0.5, 0.5], [0.8, 0.2], base=2))
