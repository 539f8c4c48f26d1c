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

from statistics import NormalDist

import numpy as np

__all__ = ["bootstrap_tables", "percentile_interval", "wilson_interval"]


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
