"""Numeric profiles: exact counts and moments, histograms on fixed edges, KLL rank error."""

from __future__ import annotations

import math
from dataclasses import replace
from functools import reduce

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from trustops.core.profiles import Histogram, NumericProfile, fit_edges
from trustops.core.profiles.numeric import bin_index
from trustops.errors import InputError

EDGES = np.array([-100.0, -1.0, 0.0, 0.5, 1.0, 100.0])
VALUES = st.one_of(
    st.floats(-1e6, 1e6, allow_subnormal=False),
    st.integers(-5, 5).map(float),
    st.sampled_from([math.nan, math.inf, -math.inf]),
)


def exact_rank_interval(sorted_values: np.ndarray, v: float) -> tuple[float, float]:
    """``(P(X < v), P(X ≤ v))`` of the data: every q in between has ``v`` as its quantile."""
    n = len(sorted_values)
    lo = np.searchsorted(sorted_values, v, side="left") / n
    hi = np.searchsorted(sorted_values, v, side="right") / n
    return float(lo), float(hi)


def assert_quantiles_within_rank_error(p: NumericProfile, data: np.ndarray) -> None:
    """Each sketch quantile's exact rank is within ``rank_error`` of the rank asked for."""
    finite = np.sort(data[np.isfinite(data)])
    eps = p.rank_error
    assert eps is not None
    qs = np.linspace(0.0, 1.0, 41)
    for q, v in zip(qs, p.quantiles(qs), strict=True):
        lo, hi = exact_rank_interval(finite, v)
        assert lo - eps - 1e-12 <= q <= hi + eps + 1e-12, (q, v, lo, hi, eps)


# --- one batch --------------------------------------------------------------


def test_counts_and_moments_of_one_batch() -> None:
    x = np.array([1.0, 2.0, math.nan, math.inf, -math.inf, math.inf, 4.0, -3.0])
    p = NumericProfile.of(x, nulls=2, edges=EDGES)
    finite = x[np.isfinite(x)]
    assert (p.count, p.nulls, p.nans, p.pos_inf, p.neg_inf) == (4, 2, 1, 2, 1)
    assert p.total == len(x) + 2
    assert (p.minimum, p.maximum) == (-3.0, 4.0)
    assert p.mean == pytest.approx(finite.mean())
    assert p.m2 == pytest.approx(((finite - finite.mean()) ** 2).sum())
    assert p.variance == pytest.approx(finite.var(ddof=1))
    assert p.std == pytest.approx(finite.std())
    assert p.histogram is not None and p.histogram.counts.sum() == p.count


def test_no_finite_values() -> None:
    p = NumericProfile.of(np.array([math.nan, math.inf]), nulls=3)
    assert (p.count, p.minimum, p.maximum, p.mean, p.m2) == (0, None, None, 0.0, 0.0)
    assert p.variance is None and p.std is None
    assert np.isnan(p.quantiles(np.array([0.5]))).all()
    assert p.rank_error == 0.0


def test_without_sketch() -> None:
    p = NumericProfile.of(np.arange(10.0), sketch_k=None)
    assert p.sketch is None and p.rank_error is None
    assert np.isnan(p.quantiles(np.array([0.5]))).all()
    assert p.merge(NumericProfile.of(np.arange(3.0), sketch_k=None)).count == 13


# --- histogram bins ----------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "bin_"),
    [
        (-1e9, 0),  # below the first edge
        (-100.0, 1),  # the first edge opens the first bin
        (-1.0000001, 1),
        (-1.0, 2),  # a bin is [e_i, e_{i+1})
        (0.25, 3),
        (0.5, 4),
        (99.999, 5),
        (100.0, 6),  # the last edge is above the range
        (1e300, 6),
    ],
)
def test_histogram_bins(value: float, bin_: int) -> None:
    h = Histogram.of(np.array([value]), EDGES)
    assert h.counts.tolist() == [int(i == bin_) for i in range(len(EDGES) + 1)]
    assert h.below == int(bin_ == 0) and h.above == int(bin_ == len(EDGES))
    assert h.in_range.sum() == int(0 < bin_ < len(EDGES))


def test_histograms_on_other_edges_do_not_merge() -> None:
    with pytest.raises(InputError, match="different bin edges"):
        Histogram.empty(EDGES).merge(Histogram.empty(EDGES[:-1]))
    with pytest.raises(InputError, match="different plans"):
        NumericProfile.of(np.ones(2), edges=EDGES).merge(NumericProfile.of(np.ones(2)))


@pytest.mark.parametrize(
    "edges",
    [
        np.linspace(-3, 3, 101),
        np.unique(np.r_[np.linspace(-3, 3, 20), np.linspace(0, 1e-9, 30)]),  # crowded cell
        np.array([-1e308, 0.0, 1e308]),  # range wider than the largest float
        np.array([0.0, np.nextafter(0.0, 1.0)]),
        np.array([-1.0, 1.0, np.inf]),
    ],
)
def test_fast_bin_index_equals_binary_search(edges: np.ndarray) -> None:
    rng = np.random.default_rng(3)
    values = np.r_[rng.normal(size=60_000), edges[np.isfinite(edges)], -1e300, 1e300]
    assert np.array_equal(bin_index(values, edges), np.searchsorted(edges, values, "right"))


def test_fit_edges() -> None:
    p = NumericProfile.of(np.r_[np.zeros(50), np.arange(50.0)])
    assert p.sketch is not None
    edges = fit_edges(p.sketch, 10)
    assert np.all(np.diff(edges) > 0)
    assert edges[0] == 0.0 and edges[-2] == 49.0 and edges[-1] == np.nextafter(49.0, np.inf)
    h = Histogram.of(np.r_[np.zeros(50), np.arange(50.0)], edges)
    assert h.below == h.above == 0 and h.counts[1] >= 51  # the repeated zero has its own bin
    assert len(fit_edges(NumericProfile.zero().sketch, 10)) == 0  # type: ignore[arg-type]


# --- monoid ------------------------------------------------------------------


@st.composite
def partitioned(draw: st.DrawFn) -> tuple[np.ndarray, list[np.ndarray]]:
    values = np.array(draw(st.lists(VALUES, max_size=60)), dtype=np.float64)
    cuts = sorted(draw(st.lists(st.integers(0, len(values)), max_size=4)))
    parts = np.split(values, cuts)
    order = draw(st.permutations(range(len(parts))))
    return values, [parts[i] for i in order]


@given(partitioned())
def test_merging_partitions_in_any_order_equals_the_whole(
    case: tuple[np.ndarray, list[np.ndarray]],
) -> None:
    values, parts = case
    whole = NumericProfile.of(values, nulls=len(parts), edges=EDGES)
    merged = reduce(
        NumericProfile.merge,
        [NumericProfile.of(p, nulls=1, edges=EDGES) for p in parts],
        NumericProfile.zero(EDGES),
    )
    assert merged == whole
    assert merged.rank_error is not None and merged.sketch is not None
    assert merged.sketch.n == whole.count


@given(partitioned())
def test_zero_identity_commutative_associative(case: tuple[np.ndarray, list[np.ndarray]]) -> None:
    _, parts = case
    a, b, c = (NumericProfile.of(p, edges=EDGES) for p in [*parts, np.array([]), np.array([])][:3])
    zero = NumericProfile.zero(EDGES)
    assert zero.merge(a) == a == a.merge(zero)
    assert a.merge(b) == b.merge(a)
    assert a.merge(b).merge(c) == a.merge(b.merge(c))


def test_merged_sketch_quantiles_within_rank_error() -> None:
    rng = np.random.default_rng(11)
    data = np.r_[rng.lognormal(size=30_000), np.full(3000, 2.0), [math.nan, math.inf]]
    rng.shuffle(data)
    parts = np.array_split(data, 7)
    merged = reduce(NumericProfile.merge, [NumericProfile.of(p) for p in parts])
    whole = NumericProfile.of(data)
    assert merged == whole
    assert merged.rank_error is not None and 0 < merged.rank_error < 0.02
    assert_quantiles_within_rank_error(merged, data)
    assert_quantiles_within_rank_error(whole, data)
    # The CDF is the same bound read the other way.
    points = np.quantile(data[np.isfinite(data)], [0.1, 0.5, 0.9])
    exact = np.array([np.mean(data[np.isfinite(data)] <= x) for x in points])
    assert np.all(np.abs(merged.cdf(points) - exact) <= merged.rank_error)


@pytest.mark.parametrize(
    "values",
    [
        np.array([999999.9, -1e6, 0.1, 0.001, 1e6, -1e6]),  # the mean cancels to nearly 0
        1.7e9 + np.random.default_rng(4).random(1000) * 1e-3,  # instants a millisecond apart
    ],
)
def test_moments_are_compared_to_the_rounding_of_the_data(values: np.ndarray) -> None:
    whole = NumericProfile.of(values)
    merged = reduce(NumericProfile.merge, [NumericProfile.of(p) for p in np.array_split(values, 6)])
    assert merged == whole
    # ... and a wrong moment is still told apart.
    assert replace(merged, mean=merged.mean + 1e-9 * abs(values).max()) != whole
    assert replace(merged, m2=merged.m2 * 1.5 + 1e-9) != whole
