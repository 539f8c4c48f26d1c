"""Group-specific threshold optimisation in the pure core: exact constraints, optimal objective."""

from __future__ import annotations

import numpy as np
import pytest

from trustops.core.mitigation.thresholds import (
    CONSTRAINTS,
    OBJECTIVES,
    ThresholdSolution,
    draw_decisions,
    optimize_thresholds,
    selection_probability,
)
from trustops.errors import EmptyDataError, InputError, LabelError, UsageError

LEVELS = ("a", "b", "c")


def _data(seed: int = 0, n: int = 600, discrete: bool = False) -> tuple[np.ndarray, ...]:
    """Three groups whose scores are shifted differently: an unconstrained rule is unfair."""
    rng = np.random.default_rng(seed)
    groups = rng.choice(3, size=n, p=[0.5, 0.3, 0.2])
    labels = (rng.random(n) < np.array([0.6, 0.4, 0.3])[groups]).astype(np.int64)
    scores = rng.normal(labels * 1.2 - np.array([0.0, 0.4, 0.8])[groups], 1.0)
    if discrete:
        scores = np.round(scores, 1)  # many ties
    return scores, labels, groups


def _rates(sol: ThresholdSolution, scores: np.ndarray, labels: np.ndarray, groups: np.ndarray):
    prob = selection_probability(sol, scores, groups)
    sr, tpr, fpr = [], [], []
    for g in range(len(sol.thresholds)):
        m = groups == g
        sr.append(prob[m].mean())
        tpr.append(prob[m & (labels == 1)].mean())
        fpr.append(prob[m & (labels == 0)].mean())
    acc = float((prob * labels + (1 - prob) * (1 - labels)).mean())
    return np.array(sr), np.array(tpr), np.array(fpr), acc


@pytest.mark.parametrize("discrete", [False, True])
@pytest.mark.parametrize("objective", OBJECTIVES)
@pytest.mark.parametrize("constraint", CONSTRAINTS)
def test_the_constraint_holds_exactly_in_expectation_on_the_fitting_data(
    constraint: str, objective: str, discrete: bool
) -> None:
    scores, labels, groups = _data(discrete=discrete)
    sol = optimize_thresholds(
        scores, labels, groups, LEVELS, constraint=constraint, objective=objective
    )
    sr, tpr, fpr, acc = _rates(sol, scores, labels, groups)
    if constraint == "demographic_parity":
        assert np.ptp(sr) < 1e-9
    elif constraint == "equal_opportunity":
        assert np.ptp(tpr) < 1e-9
    elif constraint == "equalized_odds":
        assert np.ptp(tpr) < 1e-9 and np.ptp(fpr) < 1e-9
    else:
        assert sr.min() >= 0.8 * sr.max() - 1e-9
    # the rates the solution reports are the ones its rules give
    assert [t.selection_rate for t in sol.thresholds] == pytest.approx(sr, abs=1e-12)
    if objective == "accuracy":
        assert sol.objective_value == pytest.approx(acc, abs=1e-12)
    assert sol.groups == LEVELS


def _best_on_grid(scores, labels, groups, constraint: str) -> float:
    """Brute force: the best accuracy of every common rate on a fine grid (equality constraints)."""
    best = -1.0
    n = len(labels)
    for c in np.linspace(0, 1, 2001):
        total = 0.0
        for g in range(3):
            m = groups == g
            s, y = scores[m], labels[m]
            order = np.argsort(-s)
            s, y = s[order], y[order]
            # every deterministic rule (top-k distinct scores) of this group
            cut = np.r_[0, np.flatnonzero(np.r_[s[1:] != s[:-1], True]) + 1]
            tp = np.r_[0, np.cumsum(y)][cut]
            fp = np.r_[0, np.cumsum(1 - y)][cut]
            x = (tp + fp) / len(y) if constraint == "demographic_parity" else tp / y.sum()
            o = (tp + (len(y) - y.sum() - fp)) / n
            # best mixture of two rules with rate c
            val = -np.inf
            for i in range(len(x)):
                for j in range(i, len(x)):
                    if x[i] <= c <= x[j] and x[j] > x[i]:
                        p = (c - x[i]) / (x[j] - x[i])
                        val = max(val, (1 - p) * o[i] + p * o[j])
                    elif x[i] == c == x[j]:
                        val = max(val, o[i], o[j])
            total += val
        best = max(best, total)
    return best


@pytest.mark.parametrize("constraint", ["demographic_parity", "equal_opportunity"])
def test_the_solution_is_at_least_as_good_as_any_grid_point(constraint: str) -> None:
    scores, labels, groups = _data(seed=3, n=90, discrete=True)
    sol = optimize_thresholds(scores, labels, groups, LEVELS, constraint=constraint)
    assert sol.objective_value >= _best_on_grid(scores, labels, groups, constraint) - 1e-12


def test_equalized_odds_beats_a_grid_over_the_common_false_positive_rate() -> None:
    scores, labels, groups = _data(seed=5, n=400)
    sol = optimize_thresholds(scores, labels, groups, LEVELS, constraint="equalized_odds")
    # the best common point under every group's ROC hull, searched on a grid of FPR
    hulls = []
    for g in range(3):
        m = groups == g
        s, y = scores[m], labels[m]
        t = np.r_[np.inf, np.sort(s)[::-1], -np.inf]
        fpr = np.array([((s >= u) & (y == 0)).sum() / (y == 0).sum() for u in t])
        tpr = np.array([((s >= u) & (y == 1)).sum() / y.sum() for u in t])
        hulls.append((fpr, tpr))
    grid = np.linspace(0, 1, 4001)
    lowest = np.full(len(grid), np.inf)
    for fpr, tpr in hulls:
        # the plain ROC curve lies under its hull: a lower bound on what mixtures reach
        lowest = np.minimum(lowest, np.interp(grid, fpr, tpr))
    n, pos = len(labels), labels.sum()
    grid_best = float(np.max((pos * lowest + (n - pos) * (1 - grid)) / n))
    assert sol.objective_value >= grid_best - 1e-9


def test_impact_ratio_zero_is_the_best_threshold_per_group_and_one_is_parity() -> None:
    scores, labels, groups = _data(seed=2)
    free = optimize_thresholds(
        scores, labels, groups, LEVELS, constraint="impact_ratio", min_impact_ratio=0.0
    )
    for g, rule in enumerate(free.thresholds):
        m = groups == g
        s, y = scores[m], labels[m]
        best = max(((s > t) == y).sum() for t in np.r_[np.inf, s, -np.inf])
        got = ((s > rule.high) == y).sum()
        assert rule.p_between == 0.0 and got == best
    one = optimize_thresholds(
        scores, labels, groups, LEVELS, constraint="impact_ratio", min_impact_ratio=1.0
    )
    parity = optimize_thresholds(scores, labels, groups, LEVELS, constraint="demographic_parity")
    assert one.objective_value == pytest.approx(parity.objective_value, abs=1e-12)


def test_a_looser_impact_ratio_never_costs_accuracy() -> None:
    scores, labels, groups = _data(seed=4)
    values = [
        optimize_thresholds(
            scores, labels, groups, LEVELS, constraint="impact_ratio", min_impact_ratio=r
        ).objective_value
        for r in (1.0, 0.9, 0.8, 0.6, 0.0)
    ]
    assert values == sorted(values)


def test_integer_weights_equal_repeated_rows() -> None:
    scores, labels, groups = _data(seed=6, n=200)
    w = np.random.default_rng(1).integers(0, 4, size=len(scores))
    rep = np.repeat(np.arange(len(scores)), w)
    for constraint in CONSTRAINTS:
        a = optimize_thresholds(
            scores, labels, groups, LEVELS, constraint=constraint, sample_weight=w
        )
        b = optimize_thresholds(
            scores[rep], labels[rep], groups[rep], LEVELS, constraint=constraint
        )
        assert a.objective_value == pytest.approx(b.objective_value, abs=1e-12)


def test_decisions_are_reproducible_with_a_seed_and_follow_the_probabilities() -> None:
    prob = np.full(100_000, 0.3)
    a = draw_decisions(prob, np.random.default_rng(7))
    b = draw_decisions(prob, np.random.default_rng(7))
    assert np.array_equal(a, b)
    assert abs(a.mean() - 0.3) < 0.01
    assert draw_decisions(np.array([0.0, 1.0]), np.random.default_rng(0)).tolist() == [0, 1]


def test_the_solution_round_trips_through_a_dict() -> None:
    scores, labels, groups = _data()
    sol = optimize_thresholds(scores, labels, groups, LEVELS, constraint="equalized_odds")
    assert ThresholdSolution.from_dict(sol.to_dict()) == sol


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"constraint": "parity"}, UsageError, "constraint must be one of"),
        ({"objective": "f1"}, UsageError, "objective must be one of"),
        ({"min_impact_ratio": 1.5}, UsageError, "min_impact_ratio"),
    ],
)
def test_bad_arguments(kwargs: dict, error: type, match: str) -> None:
    scores, labels, groups = _data(n=50)
    with pytest.raises(error, match=match):
        optimize_thresholds(scores, labels, groups, LEVELS, **kwargs)


def test_bad_data_is_named() -> None:
    scores, labels, groups = _data(n=60)
    with pytest.raises(LabelError, match="every label is 0"):
        optimize_thresholds(scores, np.zeros_like(labels), groups, LEVELS)
    with pytest.raises(LabelError, match="0 or 1"):
        optimize_thresholds(scores, labels + 1, groups, LEVELS)
    with pytest.raises(InputError, match="finite"):
        optimize_thresholds(np.r_[np.nan, scores[1:]], labels, groups, LEVELS)
    no_pos = labels.copy()
    no_pos[groups == 2] = 0
    with pytest.raises(LabelError, match="race group 'c' has no positive labels"):
        optimize_thresholds(
            scores, no_pos, groups, LEVELS, constraint="equal_opportunity", attribute="race"
        )
    # demographic parity needs no positives in a group
    optimize_thresholds(scores, no_pos, groups, LEVELS, constraint="demographic_parity")
    with pytest.raises(EmptyDataError, match="'d' has no rows"):
        optimize_thresholds(scores, labels, groups, (*LEVELS, "d"))
