"""Uncertainty: Wilson score intervals and the count-table bootstrap.

**Wilson interval** (Wilson 1927) for a proportion x/n at confidence 1 − α,
with z = Φ⁻¹(1 − α/2) and p̂ = x/n::

    centre = (p̂ + z²/2n) / (1 + z²/n)
    half   = z·√(p̂(1 − p̂)/n + z²/4n²) / (1 + z²/n)

It uses row counts (with sample weights, prefer the bootstrap).

**Bootstrap over count tables.** Resampling N rows with replacement and
counting them gives a table whose cells follow Multinomial(N, n_cell/N): so we
draw the tables directly, never touching the rows. B resamples of a table of
C cells cost O(B·C), whatever N is. With sample weights, each resampled cell
keeps its mean weight per row (exact when weights are constant per cell).
Percentile intervals: the α/2 and 1 − α/2 quantiles of the resampled values,
ignoring resamples where the value is undefined.

Example:
    >>> lo, hi = wilson_interval(8, 10, 0.95)
    >>> round(float(lo), 4), round(float(hi), 4)
    (0.4902, 0.9433)
"""

from __future__ import annotations

from collections.abc import Sequence
from statistics import NormalDist

import numpy as np

from trustops.core.fairness.counts import HistogramPlan, ScoreHistogram
from trustops.core.fairness.metrics import score_metric_values

__all__ = [
    "SCORE_BOOTSTRAP_BUDGET",
    "bootstrap_score_metrics",
    "bootstrap_tables",
    "percentile_interval",
    "wilson_interval",
]

SCORE_BOOTSTRAP_BUDGET = 50_000_000
"""Most histogram cells × resamples the score bootstrap draws (about 5 s of work)."""


def wilson_interval(
    successes: np.ndarray | float, trials: np.ndarray | float, confidence: float
) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval; NaN where ``trials`` is 0."""
    x = np.asarray(successes, dtype=np.float64)
    n = np.asarray(trials, dtype=np.float64)
    z = NormalDist().inv_cdf(1 - (1 - confidence) / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = x / n
        denom = 1 + z * z / n
        centre = (p + z * z / (2 * n)) / denom
        half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    empty = n <= 0
    lo = np.where(empty, np.nan, np.clip(centre - half, 0.0, 1.0))
    hi = np.where(empty, np.nan, np.clip(centre + half, 0.0, 1.0))
    return lo, hi


def bootstrap_tables(
    rows: np.ndarray, weights: np.ndarray, n_resamples: int, seed: int | None
) -> tuple[np.ndarray, np.ndarray]:
    """Draw ``n_resamples`` resampled count tables (rows, weights) of ``rows.shape``.

    Example:
        >>> import numpy as np
        >>> r, w = bootstrap_tables(np.array([3, 7]), np.array([3., 7.]), 5, seed=0)
        >>> r.shape, r.sum(axis=1).tolist()
        ((5, 2), [10, 10, 10, 10, 10])
    """
    flat = rows.reshape(-1).astype(np.int64)
    total = int(flat.sum())
    rng = np.random.default_rng(seed)
    if total == 0:
        res = np.zeros((n_resamples, flat.size), dtype=np.int64)
    else:
        res = rng.multinomial(total, flat / total, size=n_resamples)
    mean_w = np.divide(weights.reshape(-1), flat, out=np.zeros(flat.size), where=flat > 0)
    res_rows = res.reshape(n_resamples, *rows.shape)
    res_weights = (res * mean_w).reshape(n_resamples, *rows.shape)
    return res_rows, res_weights


def bootstrap_score_metrics(
    hist: ScoreHistogram,
    groupings: Sequence[tuple[np.ndarray, int]],
    n_resamples: int,
    seed: int | None,
) -> list[dict[str, np.ndarray]] | None:
    """Score metrics (AUC, Brier, ECE, mean score) on resampled score histograms.

    The histogram is a count table too — one cell per (group, distinct score,
    true label) — so it is resampled the same way, one Multinomial draw per
    resample of the finest cells. Each resample is then pooled for every
    grouping ``(mapping from flat group to breakdown group, number of
    breakdown groups)``, so a breakdown's groups and the overall value come
    from the same resample. Returns one dict per grouping of arrays shaped
    ``(n_resamples, n_groups)``, or ``None`` when cells × resamples exceeds
    :data:`SCORE_BOOTSTRAP_BUDGET` (round the scores to bring it under).

    Example:
        >>> import numpy as np
        >>> from trustops.core.fairness.counts import count_scores
        >>> h = count_scores([np.array([0, 0, 1, 1])], [("a", "b")], np.array([0, 1, 0, 1]),
        ...                  np.array([0.1, 0.8, 0.3, 0.6]))
        >>> out = bootstrap_score_metrics(h, [(np.array([0, 1]), 2), (np.array([0, 0]), 1)],
        ...                               5, seed=0)
        >>> out[0]["roc_auc"].shape, out[1]["roc_auc"].shape
        ((5, 2), (5, 1))
    """
    cells = hist.rows.reshape(-1)
    if cells.size * n_resamples > SCORE_BOOTSTRAP_BUDGET:
        return None
    total = int(cells.sum())
    mean_w = np.divide(hist.weight.reshape(-1), cells, out=np.zeros(cells.size), where=cells > 0)
    plans = [(HistogramPlan.of(mapping[hist.group], hist.value), n) for mapping, n in groupings]
    # A stream of its own, so adding score metrics never changes the count-table intervals.
    rng = np.random.default_rng(None if seed is None else [seed, 1])
    out: list[dict[str, np.ndarray]] = [{} for _ in groupings]
    for b in range(n_resamples):
        rows = rng.multinomial(total, cells / total) if total else cells
        weights = (rows * mean_w).reshape(-1, 2)
        for (plan, n_groups), result in zip(plans, out, strict=True):
            sample = plan.apply(weights, rows.reshape(-1, 2))
            for name, values in score_metric_values(sample, n_groups).items():
                result.setdefault(name, np.empty((n_resamples, n_groups)))[b] = values
    return out


def percentile_interval(samples: np.ndarray, confidence: float) -> tuple[np.ndarray, np.ndarray]:
    """Percentile interval over axis 0, ignoring NaN; NaN where all are NaN."""
    alpha = 1 - confidence
    samples = np.asarray(samples, dtype=np.float64)
    defined = ~np.isnan(samples)
    out_lo = np.full(samples.shape[1:], np.nan)
    out_hi = np.full(samples.shape[1:], np.nan)
    any_defined = defined.any(axis=0)
    if np.any(any_defined):
        sub = samples[:, any_defined]
        lo, hi = np.nanquantile(sub, [alpha / 2, 1 - alpha / 2], axis=0)
        out_lo[any_defined] = lo
        out_hi[any_defined] = hi
    return out_lo, out_hi
