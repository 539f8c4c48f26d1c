"""Properties of the drift statistics on random counts and samples (Hypothesis, 'ci' profile)."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import assume, given
from hypothesis import strategies as st

from trustops.core.drift import (
    chi_square_test,
    evidently_drift,
    hellinger_distance,
    jensen_shannon_distance,
    kl_divergence,
    ks_from_histograms,
    ks_pvalue,
    population_stability_index,
    wasserstein_exact,
)

TOL = 1e-12


def _ks_statistic(r: np.ndarray, c: np.ndarray) -> float:
    """sup |F_r − F_c| from the ECDFs at every observed value (as scipy's ks_2samp)."""
    x = np.concatenate([r, c])
    fr = np.searchsorted(np.sort(r), x, side="right") / len(r)
    fc = np.searchsorted(np.sort(c), x, side="right") / len(c)
    return float(np.max(np.abs(fr - fc)))


@st.composite
def count_pairs(draw: st.DrawFn) -> tuple[list[int], list[int]]:
    k = draw(st.integers(1, 12))
    counts = st.lists(st.integers(0, 60), min_size=k, max_size=k).filter(lambda c: sum(c) > 0)
    return draw(counts), draw(counts)


SAMPLES = st.lists(
    st.one_of(st.integers(-5, 5).map(float), st.floats(-100, 100, allow_subnormal=False)),
    min_size=1,
    max_size=60,
)


@given(count_pairs())
def test_psi_is_non_negative_and_symmetric(pair: tuple[list[int], list[int]]) -> None:
    ref, cur = pair
    psi = population_stability_index(ref, cur)
    assert psi >= 0.0
    assert math.isclose(psi, population_stability_index(cur, ref), rel_tol=1e-9, abs_tol=TOL)


@given(count_pairs(), st.sampled_from([None, 2.0]))
def test_jensen_shannon_is_a_bounded_symmetric_distance(
    pair: tuple[list[int], list[int]], base: float | None
) -> None:
    ref, cur = pair
    js = jensen_shannon_distance(ref, cur, base=base)
    top = 1.0 if base == 2.0 else math.sqrt(math.log(2))
    assert 0.0 <= js <= top + TOL
    assert js == jensen_shannon_distance(cur, ref, base=base)
    assert jensen_shannon_distance(ref, ref, base=base) == 0.0


@given(count_pairs())
def test_hellinger_is_in_unit_interval_and_zero_on_equal_shapes(
    pair: tuple[list[int], list[int]],
) -> None:
    ref, cur = pair
    h = hellinger_distance(ref, cur)
    assert 0.0 <= h <= 1.0
    assert h == hellinger_distance(cur, ref)
    assert hellinger_distance(ref, [3 * x for x in ref]) == 0.0


@given(count_pairs())
def test_kl_is_non_negative(pair: tuple[list[int], list[int]]) -> None:
    ref, cur = pair
    assert kl_divergence(ref, cur) >= -TOL


@given(count_pairs())
def test_chi_square_p_value_is_a_probability(pair: tuple[list[int], list[int]]) -> None:
    ref, cur = pair
    statistic, p = chi_square_test(ref, cur)
    assert statistic >= 0.0
    assert 0.0 <= p <= 1.0


@given(count_pairs(), st.integers(1, 5))
def test_shape_statistics_ignore_sample_size(
    pair: tuple[list[int], list[int]], factor: int
) -> None:
    ref, cur = pair
    bigger = [factor * x for x in cur]
    assert math.isclose(
        jensen_shannon_distance(ref, cur), jensen_shannon_distance(ref, bigger), abs_tol=1e-9
    )
    assert math.isclose(hellinger_distance(ref, cur), hellinger_distance(ref, bigger), abs_tol=1e-9)


@given(SAMPLES, SAMPLES, st.integers(1, 20))
def test_histogram_ks_bounds_contain_the_exact_statistic(
    ref: list[float], cur: list[float], n_bins: int
) -> None:
    r, c = np.array(ref), np.array(cur)
    edges = np.histogram_bin_edges(np.concatenate([r, c]), bins=n_bins)
    bounds = ks_from_histograms(np.histogram(r, edges)[0], np.histogram(c, edges)[0])
    d = _ks_statistic(r, c)
    assert bounds.lower - 1e-9 <= d <= bounds.upper + 1e-9
    assert 0.0 <= bounds.lower <= bounds.upper <= 1.0


@given(SAMPLES, SAMPLES, st.integers(1, 3))
def test_ks_pvalue_is_a_probability(ref: list[float], cur: list[float], repeat: int) -> None:
    r, c = np.array(ref * repeat), np.array(cur)
    p = ks_pvalue(_ks_statistic(r, c), len(r), len(c))
    assert 0.0 <= p <= 1.0


@given(SAMPLES, SAMPLES, st.floats(-50, 50, allow_subnormal=False))
def test_wasserstein_shift(ref: list[float], cur: list[float], shift: float) -> None:
    r = np.array(ref)
    assert math.isclose(wasserstein_exact(r, r + shift), abs(shift), rel_tol=1e-9, abs_tol=1e-9)
    assert math.isclose(
        wasserstein_exact(r, np.array(cur)), wasserstein_exact(np.array(cur), r), rel_tol=1e-12
    )


@given(st.lists(st.sampled_from("abcd"), min_size=1, max_size=40), st.permutations(range(40)))
def test_evidently_compat_ignores_row_order(values: list[str], order: list[int]) -> None:
    cur = ["a", "b", "b", "c"]
    shuffled = [values[i] for i in order if i < len(values)]
    assume(len(shuffled) == len(values))
    for method in ("psi", "jensenshannon", "hellinger", "chisquare"):
        a = evidently_drift(np.array(values), np.array(cur), kind="categorical", method=method)
        b = evidently_drift(np.array(shuffled), np.array(cur), kind="categorical", method=method)
        assert math.isclose(a.score, b.score, rel_tol=1e-9, abs_tol=1e-9) or (
            math.isnan(a.score) and math.isnan(b.score)
        )
