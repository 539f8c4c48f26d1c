"""Bootstrap intervals for score metrics (ROC AUC, Brier, ECE) from the score histogram."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

import trustops
from trustops.core.fairness import intervals


def _data(n: int, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    g = np.where(rng.random(n) < 0.6, "a", "b")
    y = (rng.random(n) < 0.4).astype(int)
    score = np.clip(0.35 * y + rng.normal(0.35, 0.2, n) - 0.1 * (g == "b"), 0, 1).round(3)
    return {"y": y, "p": (score > 0.5).astype(int), "s": score, "g": g}


def test_intervals_for_groups_overall_and_disparities() -> None:
    data = _data(3000, 1)
    report = trustops.assess_fairness(
        data, y_true="y", y_pred="p", score="s", sensitive="g", bootstrap=400, seed=3
    )
    for group in report.by_group:
        lo, hi = group.intervals["roc_auc"]["bootstrap"]
        assert lo < group.metrics["roc_auc"] < hi
        assert lo > 0.5 and hi < 1
        assert "bootstrap" in group.intervals["brier_score"]
    kinds = report.breakdowns[0].disparity_intervals["roc_auc"]
    lo, hi = kinds["difference"]
    assert lo <= report.difference("roc_auc") <= hi
    assert kinds["difference_to_overall"][0] is not None
    again = trustops.assess_fairness(
        data, y_true="y", y_pred="p", score="s", sensitive="g", bootstrap=400, seed=3
    )
    assert again.to_dict()["intervals"] == report.to_dict()["intervals"]


def test_spread_matches_a_row_level_bootstrap() -> None:
    """Resampling the histogram is row resampling in distribution: compare the spreads."""
    data = _data(1500, 2)
    n_boot = 400
    report = trustops.assess_fairness(
        data, y_true="y", y_pred="p", score="s", sensitive="g", bootstrap=n_boot, seed=5
    )
    lo, hi = report.by_group[0].intervals["roc_auc"]["bootstrap"]
    rng = np.random.default_rng(11)
    mask = data["g"] == "a"
    aucs = []
    for _ in range(n_boot):
        idx = rng.integers(0, len(data["y"]), len(data["y"]))
        sub = idx[mask[idx]]
        aucs.append(roc_auc_score(data["y"][sub], data["s"][sub]))
    row_lo, row_hi = np.quantile(aucs, [0.025, 0.975])
    assert hi - lo == pytest.approx(row_hi - row_lo, rel=0.25)
    assert (lo + hi) / 2 == pytest.approx((row_lo + row_hi) / 2, abs=0.01)


def test_over_budget_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(intervals, "SCORE_BOOTSTRAP_BUDGET", 10)
    from trustops.core.fairness import build

    monkeypatch.setattr(build, "SCORE_BOOTSTRAP_BUDGET", 10)  # the number the note quotes
    report = trustops.assess_fairness(
        _data(500, 3), y_true="y", y_pred="p", score="s", sensitive="g", bootstrap=50, seed=0
    )
    notes = [u for u in report.undefined if u.scope == "interval"]
    assert len(notes) == 1 and "round the scores" in notes[0].reason
    assert "bootstrap" not in report.by_group[0].intervals.get("roc_auc", {})
    assert "bootstrap" in report.by_group[0].intervals["selection_rate"]
