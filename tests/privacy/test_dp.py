"""DP mechanisms: the noise released matches the scale OpenDP states, and bad requests are refused.

OpenDP draws from the operating system's CSPRNG and takes no seed, so the
noise is checked by distribution over many draws (goodness-of-fit tests at
a generous alpha of 1e-4; a correct mechanism fails one in ten thousand runs).
"""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa
import pytest
from scipy import stats

from trustops.errors import InputError, MissingColumnError, UsageError
from trustops.privacy.dp import OTHER, compute, plan

DRAWS = 4000
ALPHA = 1e-4


def _draws(query, table: pa.Table) -> np.ndarray:  # type: ignore[no-untyped-def]
    prepared = query.prepare(table)
    return np.array([query.measurement(prepared) for _ in range(DRAWS)], dtype=float)


def _discrete_laplace_fit(noise: np.ndarray, scale: float) -> float:
    """Chi-square p-value of integer noise against the discrete Laplace(scale) of OpenDP.

    P(k) = (1 - r) / (1 + r) * r^|k| with r = exp(-1/scale); the central values
    each get a bin while their expected count is at least 5, the tails one bin each.
    """
    r = math.exp(-1 / scale)
    c = (1 - r) / (1 + r)
    top = 0
    while c * r ** (top + 1) * len(noise) >= 5:
        top += 1
    inner = np.arange(-top, top + 1)
    tail = c * r ** (top + 1) / (1 - r)  # P(k > top) = P(k < -top)
    expected = np.concatenate([[tail], c * r ** np.abs(inner), [tail]]) * len(noise)
    edges = np.concatenate([[-np.inf], np.arange(-top - 0.5, top + 1), [np.inf]])
    observed, _ = np.histogram(noise, bins=edges)
    return float(stats.chisquare(observed, expected).pvalue)


@pytest.mark.parametrize("epsilon", [0.5, 1.0, 2.0])
def test_count_noise_is_discrete_laplace_at_the_stated_scale(epsilon: float) -> None:
    query = plan("count", epsilon=epsilon)
    (scale,) = query.scales
    assert scale == pytest.approx(1 / epsilon)  # sensitivity 1
    assert query.epsilon == query.measurement.map(1) <= epsilon
    noise = _draws(query, pa.table({"x": list(range(100))})) - 100
    assert np.all(noise == np.round(noise))  # integers: the discrete Laplace
    assert _discrete_laplace_fit(noise, scale) > ALPHA


def test_sum_noise_is_laplace_at_the_stated_scale() -> None:
    query = plan("sum", column="x", bounds=(0, 10), epsilon=1.0)
    (scale,) = query.scales
    assert scale == pytest.approx(10.0, rel=1e-6)  # sensitivity max(|0|, |10|) / epsilon
    assert query.epsilon <= 1.0 and query.epsilon == query.measurement.map(1)
    values = [float(i % 12) for i in range(120)]  # 10 and 11 are clamped to 10
    exact = sum(min(v, 10.0) for v in values)
    noise = _draws(query, pa.table({"x": values})) - exact
    assert stats.kstest(noise, stats.laplace(scale=scale).cdf).pvalue > ALPHA
    assert noise.std() == pytest.approx(scale * math.sqrt(2), rel=0.1)


def test_gaussian_noise_is_normal_at_the_stated_scale() -> None:
    query = plan("sum", column="x", bounds=(-5, 5), epsilon=1.0, delta=1e-6)
    assert query.mechanism == "gaussian"
    (sigma,) = query.scales
    eps, delta = query.measurement.map(1)
    assert (query.epsilon, query.delta) == (eps, delta) and eps <= 1.0 and delta == 1e-6
    values = [float(i % 11 - 5) for i in range(110)]
    noise = _draws(query, pa.table({"x": values})) - sum(values)
    assert stats.kstest(noise, stats.norm(scale=sigma).cdf).pvalue > ALPHA


def test_contributions_scale_the_noise() -> None:
    one = plan("count", epsilon=1.0)
    three = plan("count", epsilon=1.0, contributions=3)
    assert three.scales[0] == pytest.approx(3 * one.scales[0])
    assert three.measurement.map(3) <= 1.0


def test_histogram_counts_every_declared_category_and_the_rest() -> None:
    table = pa.table({"race": ["A"] * 50 + ["B"] * 30 + ["C"] * 20 + [None] * 5})
    release = compute(table, "histogram", column="race", categories=["A", "B"], epsilon=50.0)
    assert [v.label for v in release.values] == ["A", "B", OTHER]
    assert [v.value for v in release.values] == pytest.approx([50, 30, 25], abs=2)
    assert [v.scale for v in release.values] == pytest.approx([1 / 50] * 3)


def test_selection_rates_approach_the_exact_rates_at_large_epsilon() -> None:
    rng = np.random.default_rng(0)
    groups = rng.choice(["A", "B", "C"], size=3000)
    hired = (rng.random(3000) < np.where(groups == "A", 0.6, 0.3)).astype(int)
    table = pa.table({"race": groups, "hired": hired})
    release = compute(
        table,
        "selection_rates",
        group_column="race",
        outcome_column="hired",
        categories=["A", "B", "C"],
        epsilon=20.0,
    )
    exact = {g: hired[groups == g].mean() for g in "ABC"}
    for g in "ABC":
        assert release.estimates[f"selection rate {g}"] == pytest.approx(exact[g], abs=0.01)
        ratio = exact[g] / max(exact.values())
        assert release.estimates[f"impact ratio {g}"] == pytest.approx(ratio, abs=0.03)
    assert release.epsilon <= 20.0
    assert all(v.scale == pytest.approx(1 / 20) for v in release.values)
    assert any("scale" in line and "epsilon" in line for line in release.lines())


def test_mean_composes_a_sum_and_a_count_within_epsilon() -> None:
    table = pa.table({"age": [20.0, 30.0, 40.0, None] * 250})
    release = compute(table, "mean", column="age", bounds=(0, 100), epsilon=10.0)
    assert release.epsilon <= 10.0
    assert [v.label for v in release.values] == ["sum of age", "count"]
    assert release.values[0].scale == pytest.approx(100 / 5, rel=1e-6)  # half the epsilon each
    assert release.values[1].scale == pytest.approx(1 / 5)
    assert release.estimates["mean of age"] == pytest.approx(30.0, abs=1.0)


def test_ll144_outputs_are_refused() -> None:
    with pytest.raises(UsageError, match="Local Law 144"):
        plan("selection_rates", epsilon=1.0, report="LL144")


@pytest.mark.parametrize(
    ("options", "error", "match"),
    [
        ({"statistic": "median"}, UsageError, "unknown statistic"),
        ({"statistic": "count", "epsilon": 0}, InputError, "epsilon must be a positive"),
        ({"statistic": "count", "epsilon": float("nan")}, InputError, "epsilon"),
        ({"statistic": "count", "mechanism": "gaussian"}, UsageError, "needs a delta"),
        ({"statistic": "count", "delta": 1e-6, "mechanism": "laplace"}, UsageError, "pure"),
        ({"statistic": "sum", "column": "x"}, UsageError, "declared bounds"),
        ({"statistic": "sum", "column": "x", "bounds": (5, 1)}, InputError, "lower < upper"),
        ({"statistic": "histogram", "column": "x"}, UsageError, "categories declared"),
        ({"statistic": "histogram", "column": "x", "categories": ["a", "a"]}, InputError, "repeat"),
        ({"statistic": "selection_rates", "categories": ["A"]}, UsageError, "group column"),
        ({"statistic": "count", "contributions": 0}, InputError, "contributions"),
    ],
)
def test_bad_requests_are_refused(options: dict, error: type, match: str) -> None:  # type: ignore[type-arg]
    statistic = options.pop("statistic")
    with pytest.raises(error, match=match):
        plan(statistic, **{"epsilon": 1.0, **options})


def test_missing_or_non_numeric_column_is_named() -> None:
    table = pa.table({"name": ["a", "b"]})
    with pytest.raises(MissingColumnError, match="'age'"):
        compute(table, "sum", column="age", bounds=(0, 1), epsilon=1.0)
    with pytest.raises(InputError, match="'name' is string, not numeric"):
        compute(table, "sum", column="name", bounds=(0, 1), epsilon=1.0)
