"""Group-specific thresholds on a score that meet a fairness constraint (post-processing).

The method of Hardt, Price & Srebro (2016), "Equality of Opportunity in
Supervised Learning", as Fairlearn's ``ThresholdOptimizer`` implements it, but
solved exactly instead of on a grid.

**Per-group curves.** Group ``g`` has scores ``s``, labels ``y`` and weights
``w``. Sorting its distinct scores ``u₁ > u₂ > … > u_K`` gives ``K + 1``
deterministic rules "select when ``s > t_k``" with ``t₀ = +∞``,
``t_k = (u_k + u_{k+1})/2`` and ``t_K = −∞``: rule ``k`` selects the rows whose
score is among the ``k`` highest values. Each has a true-positive weight
``TP_k``, a false-positive weight ``FP_k`` and so a point ``(x_k, o_k)`` where
``x`` is the constrained rate and ``o`` the group's share of the objective:

- ``x = TPR = TP/P_g`` (equal opportunity), ``x = SR = (TP + FP)/n_g``
  (demographic parity, impact ratio), ``(FPR, TPR)`` (equalized odds);
- accuracy: ``o = (TP + TN)/n``; balanced accuracy: ``o = ½(TP/P + TN/N)``,
  with ``n``, ``P``, ``N`` the weights of all, positive and negative rows over
  every group, so ``Σ_g o_g`` is the overall objective.

**Randomisation.** Choosing rule ``a`` with probability ``1 − p`` and rule
``b`` (``t_b < t_a``) with probability ``p`` reaches every point on the segment
between them, so a group can reach any point of the *convex hull* of its
points. Its best objective at rate ``x`` is the upper concave envelope
``f_g(x)``, reached by mixing two neighbouring hull vertices. The mixed rule is
one :class:`GroupThreshold`: select when ``s > high``, with probability ``p``
when ``low < s ≤ high``, never when ``s ≤ low``.

**Constraints** (each solved exactly: the optimum of a concave piecewise-linear
function lies at a breakpoint):

- *demographic parity* / *equal opportunity*: one common rate ``c`` for every
  group; maximise ``F(c) = Σ_g f_g(c)``; ``F`` is concave, so its maximum is at a
  hull vertex of some group.
- *impact ratio* ``r``: ``r·M ≤ SR_g ≤ M`` for every group, for some ``M``
  (then each rate is at least ``r`` times the highest). For a given ``M`` each
  group takes ``clip(x*_g, r·M, M)`` where ``x*_g`` maximises ``f_g``; the total
  is concave in ``M`` with breakpoints at the vertices ``b`` and at ``b/r``.
  ``r = 1`` is demographic parity, ``r = 0`` no constraint.
- *equalized odds*: one common ``(FPR, TPR) = (x, y)``. With ``U_g`` the upper
  hull of group ``g``'s ROC points, the reachable common points are those under
  ``min_g U_g`` (and above the diagonal); the objective is increasing in ``y``,
  so ``y = min_g U_g(x)`` and ``x`` maximises a concave function, found among
  the vertices and the crossings of the ``U_g`` next to the best vertex. A group
  above ``y`` is brought down to it by ignoring the score with probability
  ``q = (U_g(x) − y)/(U_g(x) − x)`` and then selecting with probability ``x``
  (a point on the diagonal), as in Hardt et al. and Fairlearn.

The constraint holds exactly *in expectation* on the data the thresholds were
fitted on; on other data it holds up to sampling error. A decision is drawn
from :func:`selection_probability` with a generator the caller seeds
(:func:`draw_decisions`).

References: M. Hardt, E. Price, N. Srebro, *Equality of Opportunity in
Supervised Learning*, NeurIPS 2016; Fairlearn, ``fairlearn.postprocessing.
ThresholdOptimizer`` (Bird et al., 2020).

Example:
    >>> import numpy as np
    >>> scores = np.array([0.9, 0.8, 0.3, 0.2, 0.7, 0.4, 0.35, 0.1])
    >>> labels = np.array([1, 1, 0, 0, 1, 0, 1, 0])
    >>> groups = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    >>> sol = optimize_thresholds(scores, labels, groups, ("a", "b"),
    ...                           constraint="demographic_parity")
    >>> [round(t.selection_rate, 3) for t in sol.thresholds]
    [0.5, 0.5]
    >>> round(sol.objective_value, 3)
    0.875
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from trustops.errors import EmptyDataError, InputError, LabelError, UsageError

__all__ = [
    "CONSTRAINTS",
    "OBJECTIVES",
    "GroupThreshold",
    "ThresholdSolution",
    "draw_decisions",
    "optimize_thresholds",
    "selection_probability",
]

CONSTRAINTS = ("demographic_parity", "equal_opportunity", "equalized_odds", "impact_ratio")
OBJECTIVES = ("accuracy", "balanced_accuracy")


@dataclass(frozen=True, slots=True)
class GroupThreshold:
    """One group's randomised rule and the rates it gives on the fitting data.

    ``P(select | s) = (1 − p_constant)·(1{s > high} + p_between·1{low < s ≤ high})
    + p_constant·constant``.
    """

    group: Any
    high: float
    low: float
    p_between: float
    p_constant: float
    constant: float
    selection_rate: float
    true_positive_rate: float
    false_positive_rate: float

    def to_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__slots__}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GroupThreshold:
        return cls(**data)


@dataclass(frozen=True, slots=True)
class ThresholdSolution:
    """The rules for every group (index = group code) and the objective they reach."""

    constraint: str
    objective: str
    min_impact_ratio: float
    thresholds: tuple[GroupThreshold, ...]
    objective_value: float

    @property
    def groups(self) -> tuple[Any, ...]:
        return tuple(t.group for t in self.thresholds)

    def to_dict(self) -> dict[str, Any]:
        return {
            "constraint": self.constraint,
            "objective": self.objective,
            "min_impact_ratio": self.min_impact_ratio,
            "thresholds": [t.to_dict() for t in self.thresholds],
            "objective_value": self.objective_value,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ThresholdSolution:
        return cls(
            constraint=data["constraint"],
            objective=data["objective"],
            min_impact_ratio=float(data["min_impact_ratio"]),
            thresholds=tuple(GroupThreshold.from_dict(t) for t in data["thresholds"]),
            objective_value=float(data["objective_value"]),
        )


@dataclass(frozen=True, slots=True)
class _Curve:
    """A group's upper hull: vertex rates ``x``, objective shares ``o``, rule thresholds ``t``."""

    x: np.ndarray
    o: np.ndarray
    t: np.ndarray

    def value(self, c: np.ndarray | float) -> np.ndarray:
        return np.asarray(np.interp(c, self.x, self.o))

    def mix(self, c: float) -> tuple[float, float, float]:
        """``(high, low, p)``: the two neighbouring vertex rules whose mixture has rate ``c``."""
        if len(self.x) == 1:
            return float(self.t[0]), float(self.t[0]), 0.0
        j = int(np.clip(np.searchsorted(self.x, c, side="right") - 1, 0, len(self.x) - 2))
        p = float(np.clip((c - self.x[j]) / (self.x[j + 1] - self.x[j]), 0.0, 1.0))
        if p == 0.0:
            return float(self.t[j]), float(self.t[j]), 0.0
        if p == 1.0:
            return float(self.t[j + 1]), float(self.t[j + 1]), 0.0
        return float(self.t[j]), float(self.t[j + 1]), p


def _upper_hull(x: np.ndarray, o: np.ndarray, t: np.ndarray) -> _Curve:
    """Upper concave envelope of points whose ``x`` does not decrease with the index."""
    # Among points with the same x keep the best (the first on ties: the stricter rule).
    order = np.lexsort((np.arange(len(x)), -o, x))
    first = np.ones(len(order), dtype=bool)
    first[1:] = x[order][1:] != x[order][:-1]
    keep = order[first]
    xs, os_, ts = x[keep], o[keep], t[keep]
    hull: list[int] = []
    for i in range(len(xs)):
        while len(hull) >= 2:
            a, b = hull[-2], hull[-1]
            # b is under (or on) the chord from a to i: drop it
            if (os_[b] - os_[a]) * (xs[i] - xs[a]) <= (os_[i] - os_[a]) * (xs[b] - xs[a]):
                hull.pop()
            else:
                break
        hull.append(i)
    idx = np.asarray(hull)
    return _Curve(xs[idx], os_[idx], ts[idx])


@dataclass(frozen=True, slots=True)
class _GroupRates:
    """Cumulative weights of the rules ``k = 0..K`` of one group, and their thresholds."""

    tp: np.ndarray
    fp: np.ndarray
    t: np.ndarray
    positives: float
    negatives: float


def _group_rates(scores: np.ndarray, labels: np.ndarray, weights: np.ndarray) -> _GroupRates:
    order = np.argsort(-scores, kind="stable")
    s, y, w = scores[order], labels[order], weights[order]
    last = np.ones(len(s), dtype=bool)  # the last row of each run of equal scores
    last[:-1] = s[1:] != s[:-1]
    tp = np.concatenate(([0.0], np.cumsum(w * y)[last]))
    fp = np.concatenate(([0.0], np.cumsum(w * (1 - y))[last]))
    u = s[last]
    # halve first: the midpoint of two huge scores must not overflow
    t = np.concatenate(([np.inf], u[:-1] / 2 + u[1:] / 2, [-np.inf]))
    return _GroupRates(tp, fp, t, float(tp[-1]), float(fp[-1]))


def _validate(
    scores: np.ndarray,
    labels: np.ndarray,
    groups: np.ndarray,
    levels: Sequence[Any],
    weights: np.ndarray,
    constraint: str,
    objective: str,
    min_impact_ratio: float,
) -> None:
    if constraint not in CONSTRAINTS:
        raise UsageError(f"constraint must be one of {', '.join(CONSTRAINTS)}, got {constraint!r}")
    if objective not in OBJECTIVES:
        raise UsageError(f"objective must be one of {', '.join(OBJECTIVES)}, got {objective!r}")
    if not 0.0 <= min_impact_ratio <= 1.0:
        raise UsageError(f"min_impact_ratio must be in [0, 1], got {min_impact_ratio!r}")
    n = len(scores)
    if n == 0:
        raise EmptyDataError("no rows to fit thresholds on")
    if len(labels) != n or len(groups) != n or len(weights) != n:
        raise InputError("scores, labels, groups and sample weights must have the same length")
    if not np.isfinite(scores).all():
        raise InputError("scores must be finite numbers (no NaN or infinity)")
    if not np.isin(labels, (0, 1)).all():
        raise LabelError("y", "labels must be 0 or 1")
    if not (np.isfinite(weights).all() and (weights >= 0).all()):
        raise InputError("sample weights must be finite and non-negative")
    if groups.min() < 0 or groups.max() >= len(levels):
        raise InputError(f"group codes must lie in 0..{len(levels) - 1}")


def optimize_thresholds(
    scores: np.ndarray,
    labels: np.ndarray,
    groups: np.ndarray,
    levels: Sequence[Any],
    *,
    constraint: str = "demographic_parity",
    objective: str = "accuracy",
    min_impact_ratio: float = 0.8,
    sample_weight: np.ndarray | None = None,
    attribute: str = "sensitive_features",
) -> ThresholdSolution:
    """Per-group randomised thresholds maximising ``objective`` under ``constraint``.

    ``groups`` holds integer codes into ``levels`` (the group values);
    ``attribute`` names the sensitive feature(s) in error messages. The formulas
    are in the module docstring.
    """
    scores = np.asarray(scores, dtype=np.float64)
    labels = np.asarray(labels)
    groups = np.asarray(groups, dtype=np.int64)
    weights = (
        np.ones(len(scores)) if sample_weight is None else np.asarray(sample_weight, np.float64)
    )
    _validate(scores, labels, groups, levels, weights, constraint, objective, min_impact_ratio)
    labels = labels.astype(np.float64)
    total = float(weights.sum())
    pos = float((weights * labels).sum())
    neg = total - pos
    if pos == 0 or neg == 0:
        only = "1" if neg == 0 else "0"
        raise LabelError("y", f"every label is {only}; thresholds need both classes")
    if objective == "accuracy":
        w_tp, w_tn = 1 / total, 1 / total
    else:
        w_tp, w_tn = 0.5 / pos, 0.5 / neg

    rates: list[_GroupRates] = []
    for code, level in enumerate(levels):
        mask = groups == code
        r = _group_rates(scores[mask], labels[mask], weights[mask])
        if r.positives + r.negatives == 0:
            raise EmptyDataError(f"{attribute} group {level!r} has no rows (or zero weight)")
        if constraint in ("equal_opportunity", "equalized_odds") and r.positives == 0:
            raise LabelError(
                "y", f"{attribute} group {level!r} has no positive labels; {constraint} needs some"
            )
        if constraint == "equalized_odds" and r.negatives == 0:
            raise LabelError(
                "y",
                f"{attribute} group {level!r} has no negative labels; equalized_odds needs some",
            )
        rates.append(r)

    def share(r: _GroupRates) -> np.ndarray:
        return w_tp * r.tp + w_tn * (r.negatives - r.fp)

    rules: list[tuple[float, float, float, float, float]]  # high, low, p, q, constant
    if constraint == "equalized_odds":
        rules = _equalized_odds(rates, w_tp * pos, w_tn * neg)
    else:
        if constraint == "equal_opportunity":
            curves = [_upper_hull(r.tp / r.positives, share(r), r.t) for r in rates]
        else:
            curves = [
                _upper_hull((r.tp + r.fp) / (r.positives + r.negatives), share(r), r.t)
                for r in rates
            ]
        ratio = 1.0 if constraint == "demographic_parity" else min_impact_ratio
        if constraint == "equal_opportunity":
            ratio = 1.0
        targets = _common_rates(curves, ratio)
        rules = [(*cv.mix(c), 0.0, 0.0) for cv, c in zip(curves, targets, strict=True)]

    thresholds = []
    value = 0.0
    for code, (level, r, rule) in enumerate(zip(levels, rates, rules, strict=True)):
        mask = groups == code
        g = GroupThreshold(level, *rule, 0.0, 0.0, 0.0)
        prob = _probability(g, scores[mask])
        w, y = weights[mask], labels[mask]
        tp = float((w * y * prob).sum())
        fp = float((w * (1 - y) * prob).sum())
        value += w_tp * tp + w_tn * (r.negatives - fp)
        thresholds.append(
            GroupThreshold(
                level,
                *rule,
                selection_rate=(tp + fp) / (r.positives + r.negatives),
                true_positive_rate=tp / r.positives if r.positives else float("nan"),
                false_positive_rate=fp / r.negatives if r.negatives else float("nan"),
            )
        )
    return ThresholdSolution(constraint, objective, min_impact_ratio, tuple(thresholds), value)


def _common_rates(curves: list[_Curve], ratio: float) -> list[float]:
    """The rate each group takes: ``clip(x*_g, ratio·M, M)`` for the best ``M``.

    With ``ratio = 1`` every group takes ``M``: one common rate.
    """
    vertices = np.unique(np.concatenate([cv.x for cv in curves]))
    candidates = vertices
    if 0.0 < ratio < 1.0:
        scaled = vertices / ratio
        candidates = np.unique(np.concatenate((vertices, scaled[scaled <= 1.0])))
    elif ratio == 0.0:
        candidates = np.array([1.0])
    best_x = [float(cv.x[int(np.argmax(cv.o))]) for cv in curves]
    total = np.zeros(len(candidates))
    for cv, xb in zip(curves, best_x, strict=True):
        total += cv.value(np.clip(xb, ratio * candidates, candidates))
    # ties go to the lowest rate: the first maximum
    m = float(candidates[int(np.argmax(total))])
    return [float(np.clip(xb, ratio * m, m)) for xb in best_x]


def _equalized_odds(
    rates: list[_GroupRates], a_tpr: float, a_fpr: float
) -> list[tuple[float, float, float, float, float]]:
    """Rules reaching a common ``(FPR, TPR)`` maximising ``a_tpr·TPR − a_fpr·FPR``."""
    curves = [_upper_hull(r.fp / r.negatives, r.tp / r.positives, r.t) for r in rates]

    def gain(x: np.ndarray) -> np.ndarray:
        lowest = np.min([cv.value(x) for cv in curves], axis=0)
        return a_tpr * lowest - a_fpr * x

    vertices = np.unique(np.concatenate([cv.x for cv in curves]))
    i = int(np.argmax(gain(vertices)))
    # The function is concave: its maximum lies between the neighbours of the best vertex,
    # where every curve is linear; the only other breakpoints there are crossings.
    candidates = [vertices[i]]
    for lo, hi in ((i - 1, i), (i, i + 1)):
        if lo < 0 or hi >= len(vertices):
            continue
        x0, x1 = vertices[lo], vertices[hi]
        y0 = np.array([cv.value(x0) for cv in curves], dtype=np.float64)
        y1 = np.array([cv.value(x1) for cv in curves], dtype=np.float64)
        slope = (y1 - y0) / (x1 - x0)
        for g in range(len(curves)):
            for h in range(g + 1, len(curves)):
                if slope[g] != slope[h]:
                    x = x0 + (y0[h] - y0[g]) / (slope[g] - slope[h])
                    if x0 < x < x1:
                        candidates.append(x)
    cand = np.asarray(candidates)
    gains = gain(cand)
    x_best = float(cand[int(np.argmax(gains))])
    y_best = float(np.min([cv.value(x_best) for cv in curves]))
    rules = []
    for cv in curves:
        u = float(cv.value(x_best))
        q = (u - y_best) / (u - x_best) if u > x_best else 0.0
        rules.append((*cv.mix(x_best), float(np.clip(q, 0.0, 1.0)), x_best))
    return rules


def _probability(rule: GroupThreshold, scores: np.ndarray) -> np.ndarray:
    by_score = (scores > rule.high) + rule.p_between * ((scores > rule.low) & (scores <= rule.high))
    return (1 - rule.p_constant) * by_score + rule.p_constant * rule.constant


def selection_probability(
    solution: ThresholdSolution, scores: np.ndarray, groups: np.ndarray
) -> np.ndarray:
    """``P(select)`` for each row, from its score and its group code (into ``solution.groups``)."""
    scores = np.asarray(scores, dtype=np.float64)
    groups = np.asarray(groups, dtype=np.int64)
    out = np.zeros(len(scores))
    for code, rule in enumerate(solution.thresholds):
        mask = groups == code
        out[mask] = _probability(rule, scores[mask])
    return out


def draw_decisions(probabilities: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """0/1 decisions: 1 with each row's probability, drawn from ``rng`` (the caller seeds it)."""
    return (rng.random(len(probabilities)) < probabilities).astype(np.int64)
