"""Regression intervals: a Poisson bootstrap drawn from the rows when counting."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import mean_absolute_error

import trustops
from trustops.core.fairness import build_report
from trustops.errors import UsageError


def _data(n: int, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    g = np.where(rng.random(n) < 0.6, "a", "b")
    y = rng.normal(0, 1, n)
    return {"y": y, "p": y + rng.normal(0, 0.5 + 0.3 * (g == "b"), n), "g": g}


def test_intervals_match_a_row_bootstrap() -> None:
    data = _data(2000, 0)
    r = trustops.assess_fairness(
        data, y_true="y", y_pred="p", sensitive="g", task="regression", bootstrap=400, seed=1
    )
    lo, hi = r.by_group[0].intervals["mean_absolute_error"]["bootstrap"]
    rng = np.random.default_rng(2)
    mask = data["g"] == "a"
    maes = []
    for _ in range(400):
        idx = rng.integers(0, 2000, 2000)
        sub = idx[mask[idx]]
        maes.append(mean_absolute_error(data["y"][sub], data["p"][sub]))
    row_lo, row_hi = np.quantile(maes, [0.025, 0.975])
    assert hi - lo == pytest.approx(row_hi - row_lo, rel=0.25)
    assert lo < r.by_group[0].metrics["mean_absolute_error"] < hi
    d_lo, d_hi = r.breakdowns[0].disparity_intervals["r2_score"]["difference"]
    assert d_lo <= r.difference("r2_score") <= d_hi
    again = trustops.assess_fairness(
        data, y_true="y", y_pred="p", sensitive="g", task="regression", bootstrap=400, seed=1
    )
    assert again.to_dict()["intervals"] == r.to_dict()["intervals"]


def test_partitions_with_resamples_merge_and_mismatches_are_refused() -> None:
    data = _data(600, 3)
    kw = {"y_true": "y", "y_pred": "p", "sensitive": "g", "task": "regression", "seed": 4}
    half = {k: v[:300] for k, v in data.items()}
    rest = {k: v[300:] for k, v in data.items()}
    merged = trustops.count_groups(half, bootstrap=50, **kw).merge(
        trustops.count_groups(rest, bootstrap=50, **kw)
    )
    whole = trustops.count_groups(data, **kw)
    assert merged.regression is not None and whole.regression is not None
    np.testing.assert_allclose(merged.regression.values, whole.regression.values, rtol=1e-10)
    report = build_report(merged, bootstrap=50)
    assert report.by_group[0].intervals["mean_error"]["bootstrap"][0] is not None
    with pytest.raises(UsageError, match="different bootstrap resamples"):
        trustops.count_groups(half, bootstrap=50, **kw).merge(trustops.count_groups(rest, **kw))
    with pytest.raises(UsageError, match="drawn when counting"):
        build_report(whole, bootstrap=10)
