"""Group metrics as pure functions of count tables.

Every function here takes count arrays whose last axes are the confusion
matrix ``(true, predicted)`` and any number of leading axes (groups, bootstrap
resamples), and returns one value per leading cell. An undefined value (a zero
denominator) is NaN here and becomes ``None`` with a reason in the report;
it is never silently 0.

Binary confusion cells: TN = C[0,0], FP = C[0,1], FN = C[1,0], TP = C[1,1],
W = TN + FP + FN + TP (sums of sample weights; row counts when unweighted).

=====================  ===========================  =============================
metric                 formula                      undefined when
=====================  ===========================  =============================
count                  number of rows               never
base_rate              (TP + FN) / W                W = 0
selection_rate         (TP + FP) / W                W = 0
true_positive_rate     TP / (TP + FN)               no actual positives
false_positive_rate    FP / (FP + TN)               no actual negatives
true_negative_rate     TN / (TN + FP)               no actual negatives
false_negative_rate    FN / (FN + TP)               no actual positives
precision              TP / (TP + FP)               no predicted positives
negative_predictive_   TN / (TN + FN)               no predicted negatives
value
false_discovery_rate   FP / (FP + TP)               no predicted positives
false_omission_rate    FN / (FN + TN)               no predicted negatives
accuracy               (TP + TN) / W                W = 0
balanced_accuracy      mean of TPR and TNR over     W = 0
                       the classes present in y_true (scikit-learn's rule)
f1                     2TP / (2TP + FP + FN)        TP + FP + FN = 0
=====================  ===========================  =============================

scikit-learn and Fairlearn return 0 (with a warning) where this table says
undefined; trustops returns ``None`` and names the reason.

Inequality indices (AIF360, Speicher et al. 2018, unweighted), with
``b_i = ŷ_i − y_i + 1`` and μ the mean of b:
``GE(α) = Σ[(b_i/μ)^α − 1] / (n α(α−1))``; ``theil_index = GE(1) =
Σ (b_i/μ) ln(b_i/μ) / n``. Because b ∈ {0, 1, 2} (FN, correct, FP), both
come from the confusion counts.

Example:
    >>> import numpy as np
    >>> c = np.array([[[3., 1.], [2., 4.]]])  # one group: TN=3 FP=1 FN=2 TP=4
    >>> float(binary_metric_values(c)["true_positive_rate"][0])
    0.6666666666666666
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from trustops.core.fairness.counts import (
    REG_M2_Y,
    REG_MEAN_Y,
    REG_SUM_ABS,
    REG_SUM_ERR,
    REG_SUM_PRED,
    REG_SUM_SQ,
    REG_W,
    ScoreHistogram,
)

__all__ = [
    "BINARY_METRICS",
    "ECE_BINS",
    "REGRESSION_METRICS",
    "SCORE_METRICS",
    "RateSpec",
    "binary_metric_values",
    "divide",
    "generalized_entropy_index",
    "regression_metric_values",
    "score_metric_values",
]


def divide(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """``num / den`` with NaN (never 0 or inf) where ``den`` is 0."""
    num = np.asarray(num, dtype=np.float64)
    den = np.asarray(den, dtype=np.float64)
    out = np.full(np.broadcast(num, den).shape, np.nan)
    np.divide(num, den, out=out, where=den != 0)
    return out


def _tn(c: np.ndarray) -> np.ndarray:
    return c[..., 0, 0]


def _fp(c: np.ndarray) -> np.ndarray:
    return c[..., 0, 1]


def _fn(c: np.ndarray) -> np.ndarray:
    return c[..., 1, 0]


def _tp(c: np.ndarray) -> np.ndarray:
    return c[..., 1, 1]


def _total(c: np.ndarray) -> np.ndarray:
    return c.sum(axis=(-1, -2))


@dataclass(frozen=True, slots=True)
class RateSpec:
    """A metric that is a ratio of two confusion-count sums.

    ``proportion`` marks ratios of a subset of rows to a set of rows, for
    which a Wilson interval is meaningful.
    """

    name: str
    formula: str
    numerator: Callable[[np.ndarray], np.ndarray]
    denominator: Callable[[np.ndarray], np.ndarray]
    undefined: str
    proportion: bool = True


BINARY_METRICS: dict[str, RateSpec] = {
    s.name: s
    for s in [
        RateSpec("base_rate", "(TP+FN)/W", lambda c: _tp(c) + _fn(c), _total, "empty group"),
        RateSpec("selection_rate", "(TP+FP)/W", lambda c: _tp(c) + _fp(c), _total, "empty group"),
        RateSpec(
            "true_positive_rate",
            "TP/(TP+FN)",
            _tp,
            lambda c: _tp(c) + _fn(c),
            "no actual positives (TP+FN=0)",
        ),
        RateSpec(
            "false_positive_rate",
            "FP/(FP+TN)",
            _fp,
            lambda c: _fp(c) + _tn(c),
            "no actual negatives (FP+TN=0)",
        ),
        RateSpec(
            "true_negative_rate",
            "TN/(TN+FP)",
            _tn,
            lambda c: _tn(c) + _fp(c),
            "no actual negatives (TN+FP=0)",
        ),
        RateSpec(
            "false_negative_rate",
            "FN/(FN+TP)",
            _fn,
            lambda c: _fn(c) + _tp(c),
            "no actual positives (FN+TP=0)",
        ),
        RateSpec(
            "precision",
            "TP/(TP+FP)",
            _tp,
            lambda c: _tp(c) + _fp(c),
            "no predicted positives (TP+FP=0)",
        ),
        RateSpec(
            "negative_predictive_value",
            "TN/(TN+FN)",
            _tn,
            lambda c: _tn(c) + _fn(c),
            "no predicted negatives (TN+FN=0)",
        ),
        RateSpec(
            "false_discovery_rate",
            "FP/(FP+TP)",
            _fp,
            lambda c: _fp(c) + _tp(c),
            "no predicted positives (FP+TP=0)",
        ),
        RateSpec(
            "false_omission_rate",
            "FN/(FN+TN)",
            _fn,
            lambda c: _fn(c) + _tn(c),
            "no predicted negatives (FN+TN=0)",
        ),
        RateSpec("accuracy", "(TP+TN)/W", lambda c: _tp(c) + _tn(c), _total, "empty group"),
        RateSpec(
            "f1",
            "2TP/(2TP+FP+FN)",
            lambda c: 2 * _tp(c),
            lambda c: 2 * _tp(c) + _fp(c) + _fn(c),
            "no positives, actual or predicted (2TP+FP+FN=0)",
            proportion=False,
        ),
    ]
}

BALANCED_ACCURACY_UNDEFINED = "empty group"


def binary_metric_values(c: np.ndarray) -> dict[str, np.ndarray]:
    """Every binary metric for count tables ``c`` of shape ``(..., 2, 2)``.

    Returns arrays of shape ``c.shape[:-2]`` with NaN where undefined.
    """
    c = np.asarray(c, dtype=np.float64)
    out = {name: divide(s.numerator(c), s.denominator(c)) for name, s in BINARY_METRICS.items()}
    tpr, tnr = out["true_positive_rate"], out["true_negative_rate"]
    # scikit-learn's balanced accuracy: mean recall over the classes present in y_true.
    with np.errstate(invalid="ignore"):
        out["balanced_accuracy"] = np.where(
            np.isnan(tpr), tnr, np.where(np.isnan(tnr), tpr, (tpr + tnr) / 2)
        )
    return out


def generalized_entropy_index(b_counts: np.ndarray, alpha: float = 2.0) -> np.ndarray:
    """GE(α) from counts of b = ŷ − y + 1 ∈ {0, 1, 2}, shape ``(..., 3)`` (AIF360).

    Also accepts fractional b values via :func:`_ge_from_values`. NaN where
    undefined (no rows, μ = 0, or α = 0 with some b = 0).
    """
    values = np.array([0.0, 1.0, 2.0])
    return _ge_from_values(np.asarray(b_counts, np.float64), values, alpha)


def _ge_from_values(counts: np.ndarray, values: np.ndarray, alpha: float) -> np.ndarray:
    """GE(α) of a distribution given as ``counts`` (..., m) of ``values`` (..., m)."""
    n = counts.sum(axis=-1)
    mu = divide((counts * values).sum(axis=-1), n)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = values / mu[..., None]
        if alpha == 1:
            term = np.where(values > 0, ratio * np.log(np.where(ratio > 0, ratio, 1.0)), 0.0)
            total = (counts * term).sum(axis=-1)
            return divide(total, n)
        if alpha == 0:
            has_zero = ((counts > 0) & (values <= 0)).any(axis=-1)
            term = np.log(np.where(ratio > 0, ratio, 1.0))
            total = -(counts * term).sum(axis=-1)
            return np.where(has_zero, np.nan, divide(total, n))
        term = np.power(ratio, alpha) - 1.0
        total = (counts * term).sum(axis=-1)
        return divide(total, n * alpha * (alpha - 1))


def b_counts(rows: np.ndarray) -> np.ndarray:
    """Counts of b ∈ {0, 1, 2} (FN, correct, FP) from binary row counts ``(..., 2, 2)``."""
    return np.stack([_fn(rows), _tp(rows) + _tn(rows), _fp(rows)], axis=-1).astype(np.float64)


def between_group_entropy(rows: np.ndarray, alpha: float) -> float:
    """Between-group GE(α): each b_i replaced by its group's mean b (AIF360).

    ``rows`` has shape ``(groups, 2, 2)``.
    """
    bc = b_counts(rows)
    n = bc.sum(axis=-1)
    mean_b = divide(bc[:, 1] + 2 * bc[:, 2], n)
    keep = n > 0
    return float(_ge_from_values(n[keep], np.nan_to_num(mean_b[keep]), alpha))


# --- scores ---------------------------------------------------------------

ECE_BINS = 10
"""Expected calibration error uses 10 equal-width bins on [0, 1]; a score of
exactly 1.0 falls in the last bin (as in ``np.histogram``)."""

SCORE_METRICS: dict[str, tuple[str, str]] = {
    "roc_auc": (
        "P(s⁺ > s⁻) + ½P(s⁺ = s⁻), exact, weighted (equals sklearn.metrics.roc_auc_score)",
        "only one class present in y_true",
    ),
    "brier_score": ("Σ w (s − y)² / W", "empty group"),
    "expected_calibration_error": (
        "Σ_b (W_b/W)·|ȳ_b − s̄_b| over 10 equal-width bins on [0, 1]",
        "empty group",
    ),
    "mean_score": ("Σ w s / W", "empty group"),
}


def score_metric_values(hist: ScoreHistogram, n_groups: int) -> dict[str, np.ndarray]:
    """Score metrics per flat group from a score histogram."""
    g, v = hist.group, hist.value
    wneg, wpos = hist.weight[:, 0], hist.weight[:, 1]
    w = wneg + wpos

    def per_group(x: np.ndarray) -> np.ndarray:
        return np.bincount(g, weights=x, minlength=n_groups)

    total, total_pos, total_neg = per_group(w), per_group(wpos), per_group(wneg)
    # Rank-based AUC: each positive beats the negatives below it and ties half of those equal.
    cum_neg = np.cumsum(wneg)
    group_start_cum = np.zeros(n_groups)
    if len(g):
        first = np.flatnonzero(np.r_[True, g[1:] != g[:-1]])
        group_start_cum[g[first]] = cum_neg[first] - wneg[first]
    neg_below = cum_neg - wneg - group_start_cum[g]
    auc_num = per_group(wpos * (neg_below + 0.5 * wneg))
    ece_bin = np.minimum(np.floor(v * ECE_BINS), ECE_BINS - 1).astype(np.int64)
    cell = g * ECE_BINS + ece_bin
    size = n_groups * ECE_BINS
    bin_w = np.bincount(cell, weights=w, minlength=size).reshape(n_groups, ECE_BINS)
    bin_pos = np.bincount(cell, weights=wpos, minlength=size).reshape(n_groups, ECE_BINS)
    bin_s = np.bincount(cell, weights=w * v, minlength=size).reshape(n_groups, ECE_BINS)
    gap = np.abs(np.nan_to_num(divide(bin_pos, bin_w)) - np.nan_to_num(divide(bin_s, bin_w)))
    return {
        "roc_auc": divide(auc_num, total_pos * total_neg),
        "brier_score": divide(per_group(wneg * v * v + wpos * (1 - v) ** 2), total),
        "expected_calibration_error": divide((bin_w * gap).sum(axis=1), total),
        "mean_score": divide(per_group(w * v), total),
    }


# --- regression -----------------------------------------------------------

REGRESSION_METRICS: dict[str, tuple[str, str]] = {
    "mean_prediction": ("Σ w ŷ / W", "empty group"),
    "mean_error": ("Σ w (ŷ − y) / W", "empty group"),
    "mean_absolute_error": ("Σ w |ŷ − y| / W", "empty group"),
    "root_mean_squared_error": ("√(Σ w (ŷ − y)² / W)", "empty group"),
    "r2_score": ("1 − Σ w (y − ŷ)² / Σ w (y − ȳ)²", "y_true is constant in the group"),
}


def regression_metric_values(values: np.ndarray) -> dict[str, np.ndarray]:
    """Regression metrics from :class:`RegressionSums` values ``(..., 8)``."""
    w = values[..., REG_W]
    m2 = values[..., REG_M2_Y]
    # A constant y_true leaves rounding noise in Σw(y − ȳ)² (ȳ is off by an ulp or so): below
    # that noise level the spread is zero and R² is undefined, not a huge negative number.
    noise = w * (16 * np.finfo(np.float64).eps * np.abs(values[..., REG_MEAN_Y])) ** 2
    m2 = np.where(m2 <= noise, 0.0, m2)
    return {
        "mean_prediction": divide(values[..., REG_SUM_PRED], w),
        "mean_error": divide(values[..., REG_SUM_ERR], w),
        "mean_absolute_error": divide(values[..., REG_SUM_ABS], w),
        "root_mean_squared_error": np.sqrt(divide(values[..., REG_SUM_SQ], w)),
        "r2_score": 1.0 - divide(values[..., REG_SUM_SQ], m2),
    }
