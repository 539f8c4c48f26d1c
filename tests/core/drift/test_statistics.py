"""Drift statistics equal SciPy (to 1e-12) and handle the edge cases on purpose."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import numpy as np
import pytest
from scipy.spatial.distance import jensenshannon
from scipy.stats import chisquare, entropy, ks_2samp, wasserstein_distance

from trustops.core.drift import (
    KSBounds,
    SignificanceResult,
    aligned_category_counts,
    chi_square_test,
    fill_zeroes,
    hellinger_distance,
    jensen_shannon_distance,
    kl_divergence,
    ks_exact,
    ks_from_histograms,
    ks_pvalue,
    ks_statistic_from_cdfs,
    normalized_wasserstein,
    population_stability_index,
    proportions,
    quantile_midpoints,
    two_proportion_z_test,
    wasserstein_exact,
    wasserstein_from_quantiles,
)
from trustops.errors import EmptyDataError, InputError, UsageError

TOL = 1e-12


def _count_pairs() -> list[tuple[str, np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(20240611)
    pairs = []
    for k in (2, 5, 30, 200):
        p = rng.dirichlet(np.ones(k))
        q = rng.dirichlet(np.ones(k) * 0.5)
        pairs.append((f"dirichlet-{k}", rng.multinomial(5_000, p), rng.multinomial(800, q)))
    same = rng.multinomial(1_000, np.full(8, 1 / 8))
    pairs.append(("float-counts", same * 0.37, rng.multinomial(1_000, np.full(8, 1 / 8)) * 2.5))
    pairs.append(("sparse", np.array([0, 40, 0, 60, 1]), np.array([3, 30, 0, 66, 0])))
    pairs.append(("tiny-mass", np.array([1, 99_999]), np.array([50, 50])))
    return pairs


COUNT_PAIRS = _count_pairs()
PAIR_IDS = [p[0] for p in COUNT_PAIRS]
PAIR_ARGS = [(p[1], p[2]) for p in COUNT_PAIRS]


def _samples() -> list[tuple[str, np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(7)
    return [
        ("normal-small", rng.normal(0, 1, 60), rng.normal(0.4, 1, 45)),
        ("normal-mid", rng.normal(0, 1, 900), rng.normal(0.1, 1.2, 1_100)),
        ("lognormal", rng.lognormal(0, 1, 3_000), rng.lognormal(0.1, 1, 2_500)),
        ("ties", rng.integers(0, 12, 800).astype(float), rng.integers(1, 12, 700).astype(float)),
        ("uniform-large", rng.uniform(0, 1, 12_000), rng.uniform(0.01, 1, 11_000)),
        ("identical", np.arange(50.0), np.arange(50.0)),
    ]


SAMPLES = _samples()
SAMPLE_IDS = [s[0] for s in SAMPLES]
SAMPLE_ARGS = [(s[1], s[2]) for s in SAMPLES]


def _p(c: np.ndarray) -> np.ndarray:
    c = np.asarray(c, dtype=float)
    return c / c.sum()


# -- SciPy agreement ------------------------------------------------------------


@pytest.mark.parametrize(("ref", "cur"), PAIR_ARGS, ids=PAIR_IDS)
@pytest.mark.parametrize("base", [None, 2.0])
def test_jensen_shannon_is_scipy(ref: np.ndarray, cur: np.ndarray, base: float | None) -> None:
    expected = jensenshannon(_p(ref), _p(cur), base=base)
    assert jensen_shannon_distance(ref, cur, base=base) == pytest.approx(expected, abs=TOL)


@pytest.mark.parametrize(("ref", "cur"), PAIR_ARGS, ids=PAIR_IDS)
def test_kl_is_scipy_entropy_on_filled_proportions(ref: np.ndarray, cur: np.ndarray) -> None:
    expected = entropy(fill_zeroes(_p(ref)), fill_zeroes(_p(cur)))
    assert kl_divergence(ref, cur) == pytest.approx(expected, abs=TOL)
    assert kl_divergence(ref, cur, base=2) == pytest.approx(expected / math.log(2), abs=TOL)


@pytest.mark.parametrize(("ref", "cur"), PAIR_ARGS, ids=PAIR_IDS)
def test_psi_formula(ref: np.ndarray, cur: np.ndarray) -> None:
    p, q = fill_zeroes(_p(ref)), fill_zeroes(_p(cur))
    expected = sum((a - b) * math.log(a / b) for a, b in zip(p, q, strict=True))
    assert population_stability_index(ref, cur) == pytest.approx(expected, abs=TOL)


@pytest.mark.parametrize(("ref", "cur"), PAIR_ARGS, ids=PAIR_IDS)
def test_hellinger_both_forms(ref: np.ndarray, cur: np.ndarray) -> None:
    p, q = _p(ref), _p(cur)
    bhattacharyya = math.sqrt(1 - min(max(float(np.sum(np.sqrt(p * q))), 0.0), 1.0))
    euclid = float(np.sqrt(np.sum((np.sqrt(p) - np.sqrt(q)) ** 2)) / np.sqrt(2))
    assert hellinger_distance(ref, cur) == pytest.approx(euclid, abs=TOL)
    assert hellinger_distance(ref, cur) == pytest.approx(bhattacharyya, abs=1e-9)


@pytest.mark.parametrize(("ref", "cur"), PAIR_ARGS, ids=PAIR_IDS)
def test_chi_square_is_scipy_where_scipy_is_defined(ref: np.ndarray, cur: np.ndarray) -> None:
    r, c = np.asarray(ref, float), np.asarray(cur, float)
    expected = r * (c.sum() / r.sum())
    res = chi_square_test(ref, cur)
    if (c[expected == 0] > 0).any():
        assert res == (math.inf, 0.0)
        return
    keep = expected > 0
    want = chisquare(c[keep], expected[keep])
    assert res.statistic == pytest.approx(want.statistic, rel=TOL, abs=TOL)
    assert res.p_value == pytest.approx(want.pvalue, abs=TOL)


@pytest.mark.parametrize(("ref", "cur"), SAMPLE_ARGS, ids=SAMPLE_IDS)
def test_ks_exact_is_scipy(ref: np.ndarray, cur: np.ndarray) -> None:
    want = ks_2samp(ref, cur)
    assert ks_exact(ref, cur) == (want.statistic, want.pvalue)
    asymp = ks_2samp(ref, cur, method="asymp")
    assert ks_exact(ref, cur, method="asymp") == (asymp.statistic, asymp.pvalue)


@pytest.mark.parametrize(("ref", "cur"), SAMPLE_ARGS, ids=SAMPLE_IDS)
def test_ks_pvalue_is_scipy_asymptotic(ref: np.ndarray, cur: np.ndarray) -> None:
    want = ks_2samp(ref, cur, method="asymp")
    assert ks_pvalue(float(want.statistic), len(ref), len(cur)) == want.pvalue
    assert ks_pvalue(float(want.statistic), len(cur), len(ref)) == want.pvalue


def test_ks_pvalue_near_exact_for_large_samples() -> None:
    rng = np.random.default_rng(3)
    ref, cur = rng.normal(0, 1, 4_000), rng.normal(0.05, 1, 3_000)
    exact = ks_2samp(ref, cur, method="exact")
    assert ks_pvalue(float(exact.statistic), 4_000, 3_000) == pytest.approx(exact.pvalue, abs=2e-3)


@pytest.mark.parametrize(("ref", "cur"), SAMPLE_ARGS, ids=SAMPLE_IDS)
def test_wasserstein_exact_is_scipy(ref: np.ndarray, cur: np.ndarray) -> None:
    assert wasserstein_exact(ref, cur) == wasserstein_distance(ref, cur)


@pytest.mark.parametrize(("ref", "cur"), SAMPLE_ARGS, ids=SAMPLE_IDS)
def test_histogram_ks_brackets_the_exact_statistic(ref: np.ndarray, cur: np.ndarray) -> None:
    d = ks_2samp(ref, cur).statistic
    both = np.concatenate([ref, cur])
    for n_bins in (3, 10, 50):
        edges = np.histogram_bin_edges(both, bins=n_bins)
        b = ks_from_histograms(np.histogram(ref, edges)[0], np.histogram(cur, edges)[0])
        assert b.lower - TOL <= d <= b.upper + TOL
        assert b.statistic == b.lower
        mass = max(
            np.histogram(ref, edges)[0].max() / len(ref),
            np.histogram(cur, edges)[0].max() / len(cur),
        )
        assert b.upper <= b.lower + mass + TOL


@pytest.mark.parametrize(("ref", "cur"), SAMPLE_ARGS, ids=SAMPLE_IDS)
def test_histogram_ks_is_exact_on_one_bin_per_value(ref: np.ndarray, cur: np.ndarray) -> None:
    values = np.unique(np.concatenate([ref, cur]))
    edges = np.append(values, values[-1] + 1)  # bins [v_i, v_i+1): cumulative = ECDF at v_i
    b = ks_from_histograms(np.histogram(ref, edges)[0], np.histogram(cur, edges)[0])
    assert b.lower == pytest.approx(ks_2samp(ref, cur).statistic, abs=TOL)


@pytest.mark.parametrize(("ref", "cur"), SAMPLE_ARGS, ids=SAMPLE_IDS)
def test_ks_from_exact_cdfs_is_scipy(ref: np.ndarray, cur: np.ndarray) -> None:
    x = np.sort(np.concatenate([ref, cur]))
    fr = np.searchsorted(np.sort(ref), x, side="right") / len(ref)
    fc = np.searchsorted(np.sort(cur), x, side="right") / len(cur)
    assert ks_statistic_from_cdfs(x, fr, fc) == pytest.approx(ks_2samp(ref, cur).statistic, abs=TOL)


@pytest.mark.parametrize(("n_ref", "n_cur", "k"), [(50, 40, 200), (7, 3, 21), (100, 100, 100)])
def test_wasserstein_midpoint_rule_is_exact_when_sizes_divide_the_grid(
    n_ref: int, n_cur: int, k: int
) -> None:
    rng = np.random.default_rng(n_ref + n_cur)
    ref, cur = rng.gamma(2.0, 1.0, n_ref), rng.normal(1, 2, n_cur)
    u = quantile_midpoints(k)
    approx = wasserstein_from_quantiles(
        np.quantile(ref, u, method="inverted_cdf"), np.quantile(cur, u, method="inverted_cdf")
    )
    assert approx == pytest.approx(wasserstein_distance(ref, cur), abs=1e-12)


@pytest.mark.parametrize(("ref", "cur"), SAMPLE_ARGS, ids=SAMPLE_IDS)
@pytest.mark.parametrize("k", [10, 100, 1_000])
def test_wasserstein_midpoint_rule_error_bound(ref: np.ndarray, cur: np.ndarray, k: int) -> None:
    u = quantile_midpoints(k)
    approx = wasserstein_from_quantiles(
        np.quantile(ref, u, method="inverted_cdf"), np.quantile(cur, u, method="inverted_cdf")
    )
    bound = (np.ptp(ref) + np.ptp(cur)) / (2 * k)
    assert abs(approx - wasserstein_distance(ref, cur)) <= bound + TOL


def test_normalized_wasserstein_is_evidently_rule() -> None:
    rng = np.random.default_rng(1)
    ref, cur = rng.normal(0, 3, 500), rng.normal(1, 3, 400)
    w = wasserstein_distance(ref, cur)
    assert normalized_wasserstein(w, float(np.std(ref))) == w / np.std(ref)
    assert normalized_wasserstein(w, 0.0) == w / 0.001
    assert normalized_wasserstein(w, 0.0005) == w / 0.001


@pytest.mark.parametrize(
    ("s1", "n1", "s2", "n2"), [(30, 100, 45, 100), (1, 1_000, 9, 1_200), (500, 500, 499, 500)]
)
def test_z_test_matches_the_pooled_formula(s1: int, n1: int, s2: int, n2: int) -> None:
    from scipy.stats import norm

    p1, p2 = s1 / n1, s2 / n2
    pooled = (s1 + s2) / (n1 + n2)
    z = (p1 - p2) / math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    res = two_proportion_z_test(s1, n1, s2, n2)
    assert res.statistic == pytest.approx(z, rel=TOL)
    assert res.p_value == pytest.approx(2 * (1 - norm.cdf(abs(z))), abs=1e-15)


# -- edge cases ---------------------------------------------------------------


def test_identical_counts_give_no_drift() -> None:
    c = [5, 0, 12, 3]
    assert population_stability_index(c, c) == 0.0
    assert jensen_shannon_distance(c, c) == 0.0
    assert hellinger_distance(c, c) == 0.0
    assert kl_divergence(c, c) == pytest.approx(0.0, abs=TOL)
    assert chi_square_test(c, c) == (0.0, 1.0)
    assert ks_from_histograms(c, c) == KSBounds(0.0, 0.0, pytest.approx(12 / 20))


def test_single_category() -> None:
    assert jensen_shannon_distance([7], [3]) == 0.0
    assert hellinger_distance([7], [3]) == 0.0
    assert population_stability_index([7], [3]) == 0.0
    assert chi_square_test([7], [3]) == SignificanceResult(0.0, 1.0)
    assert chi_square_test([7, 0], [3, 0]) == (0.0, 1.0)


def test_chi_square_zero_expected_and_empty_bins() -> None:
    assert chi_square_test([10, 0], [5, 5]) == (math.inf, 0.0)
    want = chisquare([3, 7], [5, 5])
    assert chi_square_test([5, 0, 5], [3, 0, 7]) == pytest.approx((want.statistic, want.pvalue))


def test_disjoint_supports() -> None:
    assert jensen_shannon_distance([1, 0], [0, 1], base=2) == 1.0
    assert jensen_shannon_distance([1, 0], [0, 1]) == pytest.approx(math.sqrt(math.log(2)))
    assert hellinger_distance([3, 0], [0, 9]) == 1.0
    assert ks_from_histograms([3, 0], [0, 9]) == KSBounds(1.0, 1.0, 1.0)


def test_z_test_degenerate_pool() -> None:
    assert two_proportion_z_test(0, 10, 0, 20) == (0.0, 1.0)
    assert two_proportion_z_test(10, 10, 20, 20) == (0.0, 1.0)


def test_ks_pvalue_with_one_value_each() -> None:
    assert ks_pvalue(1.0, 1, 1) == 1.0  # SciPy's asymptotic path gives NaN here
    assert ks_pvalue(1.0, 1, 1) == ks_2samp([0.0], [1.0]).pvalue


def test_fill_zeroes_rule() -> None:
    assert fill_zeroes([0.0, 0.5, 0.5]).tolist() == [1e-4, 0.5, 0.5]
    assert fill_zeroes([0.0, 1e-4, 1 - 1e-4]).tolist()[0] == 1e-4 / 1e6
    assert fill_zeroes([0.0, 2e-4, 1 - 2e-4]).tolist()[0] == 1e-4
    filled = fill_zeroes([0.0, 0.0, 1.0])
    assert filled.sum() > 1.0  # not renormalised, as in Evidently


def test_float_epsilon_floors_proportions() -> None:
    p, q = np.maximum([1.0, 0.0], 0.01), np.maximum([0.5, 0.5], 0.01)
    want = float(np.sum((p - q) * np.log(p / q)))
    assert population_stability_index([4, 0], [1, 1], epsilon=0.01) == pytest.approx(want, abs=TOL)


def test_aligned_category_counts_keeps_first_appearance() -> None:
    cats, r, c = aligned_category_counts(np.array(["b", "a", "b"]), np.array(["c", "b"]))
    assert cats == ["b", "a", "c"]
    assert r.tolist() == [2, 1, 0] and c.tolist() == [1, 0, 1]
    cats, _, _ = aligned_category_counts([1, 2], [1.0, 3])
    assert cats == [1, 2, 3]  # 1 == 1.0: one category


def test_proportions_and_bounds_serialise() -> None:
    assert proportions([2, 2, 4]).tolist() == [0.25, 0.25, 0.5]
    b = KSBounds(0.1, 0.1, 0.3)
    assert KSBounds.from_dict(json.loads(json.dumps(b.to_dict()))) == b


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda: population_stability_index([1, 2], [1, 2, 3]), InputError),
        (lambda: jensen_shannon_distance([1, -1], [1, 1]), InputError),
        (lambda: hellinger_distance([0, 0], [1, 1]), EmptyDataError),
        (lambda: kl_divergence([], []), InputError),
        (lambda: chi_square_test([1, np.nan], [1, 1]), InputError),
        (lambda: chi_square_test([[1, 2]], [[1, 2]]), InputError),
        (lambda: population_stability_index([1, 2], [1, 2], epsilon="deepchecks"), UsageError),
        (lambda: population_stability_index([1, 2], [1, 2], epsilon=0.0), UsageError),
        (lambda: jensen_shannon_distance([1, 2], [1, 2], base=1), UsageError),
        (lambda: two_proportion_z_test(5, 4, 1, 2), InputError),
        (lambda: two_proportion_z_test(0, 0, 1, 2), EmptyDataError),
        (lambda: ks_pvalue(1.5, 10, 10), InputError),
        (lambda: ks_pvalue(0.5, 0, 10), EmptyDataError),
        (lambda: ks_statistic_from_cdfs([2, 1], [0.5, 1], [0.5, 1]), InputError),
        (lambda: ks_statistic_from_cdfs([1, 2], [0.5, 1.2], [0.5, 1]), InputError),
        (lambda: wasserstein_from_quantiles([1, 2], [1]), InputError),
        (lambda: quantile_midpoints(0), UsageError),
        (lambda: normalized_wasserstein(-1.0, 1.0), InputError),
        (lambda: ks_exact([], [1.0]), EmptyDataError),
        (lambda: ks_exact([np.nan, 1.0], [1.0]), InputError),
        (lambda: wasserstein_exact([1.0], [np.inf]), InputError),
        (lambda: fill_zeroes([0.0, 0.0]), EmptyDataError),
    ],
)
def test_bad_input_raises_a_clear_error(call: object, error: type[Exception]) -> None:
    with pytest.raises(error):
        call()  # type: ignore[operator]


def test_importing_drift_does_not_import_scipy() -> None:
    code = (
        "import sys, trustops.core.drift; print(__import__('json').dumps('scipy' in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert json.loads(out.stdout.strip().splitlines()[-1]) is False
