"""Drift statistics: pure functions over count vectors and over raw samples.

Two families, one module:

- **Count-vector statistics** take two aligned 1-D vectors of bin or category
  counts (reference first, then current; ints or floats, same length). They
  are what a profile can answer: a profile keeps counts, never rows.
  ``p = ref_counts / Σ ref_counts`` and ``q = cur_counts / Σ cur_counts``.
- **Exact statistics** take two 1-D float samples (NaN already removed by the
  caller) and equal SciPy to the last bit.

=============================  ===========================================  ===========
statistic                      formula                                      reference
=============================  ===========================================  ===========
population_stability_index     Σ (p̃ − q̃) · ln(p̃ / q̃), p̃ = zero-filled p     Yurdakul 2018
jensen_shannon_distance        √(½ KL(p‖m) + ½ KL(q‖m)), m = (p + q)/2       Lin 1991
hellinger_distance             √(1 − Σ √(p q)) = ‖√p − √q‖₂ / √2             Hellinger 1909
kl_divergence                  Σ p̃ ln(p̃ / q̃) (SciPy renormalises p̃, q̃)      Kullback 1951
chi_square_test                Σ (c − e)² / e, e = r · (n_cur / n_ref)      Pearson 1900
two_proportion_z_test          (p₁ − p₂) / √(P(1 − P)(1/n₁ + 1/n₂))          —
ks_pvalue                      P(D_{m,n} ≥ d) ≈ kstwo.sf(d, round(mn/(m+n)))  Smirnov 1948
ks_from_histograms             max |F_r − F_c| at bin edges, with bounds    —
wasserstein_from_quantiles     mean_k |Q_r(u_k) − Q_c(u_k)|, midpoint u_k    —
normalized_wasserstein         W₁ / max(σ_ref, 0.001)                       Evidently
=============================  ===========================================  ===========

Example:
    >>> ref, cur = [50, 30, 20], [30, 30, 40]
    >>> round(population_stability_index(ref, cur), 6)
    0.240795
    >>> round(jensen_shannon_distance(ref, cur, base=2), 6)
    0.206731
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple

import numpy as np
from numpy.typing import ArrayLike

from trustops.errors import EmptyDataError, InputError, UsageError

__all__ = [
    "EVIDENTLY_FILL_FLOOR",
    "Epsilon",
    "KSBounds",
    "SignificanceResult",
    "aligned_category_counts",
    "chi_square_test",
    "fill_zeroes",
    "hellinger_distance",
    "jensen_shannon_distance",
    "kl_divergence",
    "ks_exact",
    "ks_from_histograms",
    "ks_pvalue",
    "ks_statistic_from_cdfs",
    "normalized_wasserstein",
    "population_stability_index",
    "proportions",
    "quantile_midpoints",
    "two_proportion_z_test",
    "wasserstein_exact",
    "wasserstein_from_quantiles",
]

Epsilon = float | Literal["evidently"]
"""``"evidently"`` (Evidently's zero-fill rule) or a float floor in (0, 1)."""

EVIDENTLY_FILL_FLOOR = 1e-4
"""Evidently's fill value for empty bins when no proportion is at or below it."""

_MIN_STD = 0.001  # Evidently's floor for the reference std in the normed Wasserstein


class SignificanceResult(NamedTuple):
    """A test statistic and its p-value (unpacks as ``statistic, p_value``)."""

    statistic: float
    p_value: float


@dataclass(frozen=True, slots=True)
class KSBounds:
    """A KS statistic known only up to binning: ``lower ≤ D ≤ upper``.

    ``statistic`` is the estimate reported (the value at the bin edges, which
    is also ``lower``).
    """

    statistic: float
    lower: float
    upper: float

    def to_dict(self) -> dict[str, float]:
        return {"statistic": self.statistic, "lower": self.lower, "upper": self.upper}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> KSBounds:
        return cls(float(data["statistic"]), float(data["lower"]), float(data["upper"]))


# -- validation ---------------------------------------------------------------


def _counts(counts: ArrayLike, name: str) -> np.ndarray:
    c = np.asarray(counts, dtype=np.float64)
    if c.ndim != 1 or c.size == 0:
        raise InputError(f"{name} must be a non-empty 1-D vector of counts (got shape {c.shape})")
    if not np.isfinite(c).all():
        raise InputError(f"{name} holds NaN or infinite counts")
    if (c < 0).any():
        raise InputError(f"{name} holds negative counts")
    if c.sum() <= 0:
        raise EmptyDataError(f"{name} sum to zero: there is no distribution to compare")
    return c


def _count_pair(ref_counts: ArrayLike, cur_counts: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    r = _counts(ref_counts, "reference counts")
    c = _counts(cur_counts, "current counts")
    if r.shape != c.shape:
        raise InputError(
            f"reference and current counts are not aligned ({r.size} vs {c.size} bins)",
            hint="count both samples over the same bins or categories",
        )
    return r, c


def _sample(values: ArrayLike, name: str) -> np.ndarray:
    x = np.asarray(values, dtype=np.float64)
    if x.ndim != 1 or x.size == 0:
        raise EmptyDataError(f"{name} must be a non-empty 1-D sample (got shape {x.shape})")
    if not np.isfinite(x).all():
        raise InputError(f"{name} holds NaN or infinite values", hint="remove them first")
    return x


def _fill(p: np.ndarray, epsilon: Epsilon) -> np.ndarray:
    if isinstance(epsilon, str):
        if epsilon != "evidently":
            raise UsageError(f"unknown epsilon rule {epsilon!r} (use 'evidently' or a float)")
        return fill_zeroes(p)
    eps = float(epsilon)
    if not 0.0 < eps < 1.0:
        raise UsageError(f"epsilon must be in (0, 1) (got {epsilon!r})")
    return np.maximum(p, eps)


# -- count vectors ------------------------------------------------------------


def proportions(counts: ArrayLike) -> np.ndarray:
    """``counts / Σ counts`` as float64; raises on negative counts or a zero total.

    Example:
        >>> proportions([1, 3]).tolist()
        [0.25, 0.75]
    """
    c = _counts(counts, "counts")
    return c / c.sum()


def fill_zeroes(p: ArrayLike) -> np.ndarray:
    """Evidently's zero fill: every 0 becomes ``m / 10⁶`` if ``m ≤ 10⁻⁴``, else ``10⁻⁴``.

    ``m`` is the smallest non-zero entry of ``p``. The vector is **not**
    renormalised, so it may sum to slightly more than 1 (Evidently 0.7
    ``stattests/utils.py::get_binned_data``, ``feel_zeroes=True``).

    Example:
        >>> fill_zeroes([0.0, 0.5, 0.5]).tolist()
        [0.0001, 0.5, 0.5]
        >>> bool(fill_zeroes([0.0, 0.00002, 0.99998])[0] == 0.00002 / 1e6)
        True
    """
    v = np.array(p, dtype=np.float64)
    if v.ndim != 1:
        raise InputError(f"proportions must be a 1-D vector (got shape {v.shape})")
    nonzero = v[v != 0]
    if nonzero.size == 0:
        raise EmptyDataError("every proportion is zero: there is nothing to fill from")
    smallest = float(nonzero.min())
    v[v == 0] = smallest / 10**6 if smallest <= EVIDENTLY_FILL_FLOOR else EVIDENTLY_FILL_FLOOR
    return v


def population_stability_index(
    ref_counts: ArrayLike, cur_counts: ArrayLike, *, epsilon: Epsilon = "evidently"
) -> float:
    """PSI = Σ (p̃ − q̃) · ln(p̃ / q̃), natural log, on zero-filled proportions.

    ``epsilon="evidently"`` fills zeros with :func:`fill_zeroes` (Evidently's
    rule); a float floors every proportion at that value (``max(p, ε)``, as
    tools with a fixed floor do, e.g. a 1 % floor with ``0.01``). Neither
    renormalises. Common reading: < 0.1 stable, 0.1–0.25 moderate shift,
    > 0.25 major shift (Yurdakul 2018); Evidently flags drift at ≥ 0.1.

    Example:
        >>> round(population_stability_index([50, 50], [40, 60]), 6)
        0.040547
        >>> round(population_stability_index([10, 0], [5, 5], epsilon=0.01), 6)
        2.263465
    """
    r, c = _count_pair(ref_counts, cur_counts)
    p = _fill(r / r.sum(), epsilon)
    q = _fill(c / c.sum(), epsilon)
    return float(np.sum((p - q) * np.log(p / q)))


def jensen_shannon_distance(
    ref_counts: ArrayLike, cur_counts: ArrayLike, *, base: float | None = None
) -> float:
    """JS distance ``√(½ KL(p‖m) + ½ KL(q‖m))``, ``m = (p + q)/2`` (Lin 1991).

    Exactly ``scipy.spatial.distance.jensenshannon(p, q, base)``: a
    distance (the square root of the divergence). ``base=None`` is the natural
    log (maximum √ln 2 ≈ 0.8326, Evidently's choice); ``base=2`` bounds it by
    1 (NannyML's choice). No zero fill is needed: 0 · ln 0 = 0.

    Example:
        >>> jensen_shannon_distance([1, 0], [0, 1], base=2)
        1.0
    """
    from scipy.spatial.distance import jensenshannon

    r, c = _count_pair(ref_counts, cur_counts)
    if base is not None and not (base > 0 and base != 1):
        raise UsageError(f"log base must be positive and not 1 (got {base!r})")
    return float(jensenshannon(r / r.sum(), c / c.sum(), base=base))


def hellinger_distance(ref_counts: ArrayLike, cur_counts: ArrayLike) -> float:
    """Hellinger distance ``H = √(1 − Σ √(p q))``, in [0, 1] (Hellinger 1909).

    Evidently writes it as ``√(1 − clip(BC, 0, 1))`` with the Bhattacharyya
    coefficient ``BC = Σ √(p q)``; NannyML as ``‖√p − √q‖₂ / √2``. For
    proportions (Σp = Σq = 1) they are equal, since ``Σ(√p − √q)² = 2 − 2BC``.
    This function computes the second form: it has no cancellation, so
    identical distributions give exactly 0 (the first form can leave
    ``√(1 − BC) ≈ 1e-8`` from rounding in BC).

    Example:
        >>> hellinger_distance([1, 0], [0, 1])
        1.0
        >>> hellinger_distance([2, 2], [1, 1])
        0.0
    """
    r, c = _count_pair(ref_counts, cur_counts)
    diff = np.sqrt(r / r.sum()) - np.sqrt(c / c.sum())
    return min(float(np.sqrt(np.sum(diff**2)) / np.sqrt(2)), 1.0)


def kl_divergence(
    ref_counts: ArrayLike,
    cur_counts: ArrayLike,
    *,
    epsilon: Epsilon = "evidently",
    base: float | None = None,
) -> float:
    """KL(p̃ ‖ q̃) = Σ p̃ ln(p̃ / q̃) on zero-filled proportions (Kullback & Leibler 1951).

    Exactly ``scipy.stats.entropy(p̃, q̃, base=base)`` (as Evidently's
    ``kl_div``); SciPy renormalises the filled vectors before summing.
    Zero handling is the same ``epsilon`` as in
    :func:`population_stability_index`. Not symmetric.

    Example:
        >>> round(kl_divergence([50, 50], [40, 60]), 6)
        0.020411
    """
    from scipy.stats import entropy

    r, c = _count_pair(ref_counts, cur_counts)
    return float(entropy(_fill(r / r.sum(), epsilon), _fill(c / c.sum(), epsilon), base=base))


def chi_square_test(ref_counts: ArrayLike, cur_counts: ArrayLike) -> SignificanceResult:
    """Pearson's goodness-of-fit test of the current counts against the reference shape.

    ``χ² = Σ (c_i − e_i)² / e_i`` with ``e_i = r_i · (n_cur / n_ref)``, with
    ``k − 1`` degrees of freedom; the same call as Evidently's ``chisquare``
    (``scipy.stats.chisquare(f_obs=c, f_exp=e)``). Edge cases, where SciPy
    alone gives NaN or warns:

    - a bin empty on both sides carries no information and is left out
      (it would give 0/0);
    - a bin with ``e_i = 0`` but ``c_i > 0`` gives ``(inf, 0.0)``: the current
      sample has mass where the reference has none, which has probability 0
      under the null hypothesis (SciPy's value too, without its warning);
    - a single remaining bin gives ``(0.0, 1.0)``: both samples sit in one
      category, so nothing differs (SciPy gives NaN for 0 degrees of freedom).

    Example:
        >>> res = chi_square_test([50, 30, 20], [45, 35, 20])
        >>> round(res.statistic, 4), round(res.p_value, 4)
        (1.3333, 0.5134)
        >>> chi_square_test([10, 0], [5, 5])
        SignificanceResult(statistic=inf, p_value=0.0)
    """
    from scipy.stats import chisquare

    r, c = _count_pair(ref_counts, cur_counts)
    expected = r * (c.sum() / r.sum())
    if (c[expected == 0] > 0).any():
        return SignificanceResult(math.inf, 0.0)
    keep = expected > 0
    if keep.sum() < 2:
        return SignificanceResult(0.0, 1.0)
    res = chisquare(c[keep], expected[keep])
    return SignificanceResult(float(res.statistic), float(res.pvalue))


def two_proportion_z_test(
    ref_successes: float, ref_n: float, cur_successes: float, cur_n: float
) -> SignificanceResult:
    """Pooled two-proportion z-test, two-sided.

    ``z = (p_ref − p_cur) / √(P(1 − P)(1/n_ref + 1/n_cur))`` with
    ``P = (s_ref + s_cur) / (n_ref + n_cur)``; ``p = 2 · Φ(−|z|)`` (computed
    with the survival function, accurate far in the tail; Evidently's
    ``2 · (1 − Φ(|z|))`` rounds to 0 beyond |z| ≈ 8.3). When P is 0 or 1 the
    two samples agree perfectly: ``(0.0, 1.0)``.

    Example:
        >>> res = two_proportion_z_test(30, 100, 45, 100)
        >>> round(res.statistic, 4), round(res.p_value, 4)
        (-2.1909, 0.0285)
    """
    from scipy.stats import norm

    n1, n2 = float(ref_n), float(cur_n)
    s1, s2 = float(ref_successes), float(cur_successes)
    if not (n1 > 0 and n2 > 0 and math.isfinite(n1) and math.isfinite(n2)):
        raise EmptyDataError(f"sample sizes must be positive and finite (got {ref_n}, {cur_n})")
    if not (0 <= s1 <= n1 and 0 <= s2 <= n2):
        raise InputError("successes must lie between 0 and the sample size")
    pooled = (s1 + s2) / (n1 + n2)
    if pooled <= 0.0 or pooled >= 1.0:
        return SignificanceResult(0.0, 1.0)
    z = (s1 / n1 - s2 / n2) / math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    return SignificanceResult(z, float(2 * norm.sf(abs(z))))


def ks_pvalue(d: float, n_ref: int, n_cur: int) -> float:
    """Two-sided p-value of a two-sample KS statistic ``D``, Smirnov's asymptotic law.

    ``p = kstwo.sf(D, round(m·n / (m + n)))``: SciPy's
    ``ks_2samp(method="asymp")`` for a two-sided test, the same rounding and
    order of operations, so it equals that call bit for bit given its D (the
    exact path rounds D to a multiple of 1/lcm(m, n), which can move the last
    bits).
    SciPy's default ``method="auto"`` instead uses the exact null distribution
    when both samples have ≤ 10,000 values; use :func:`ks_exact` for that.
    One deviation: with one value on each side ``round(0.5)`` is 0 and SciPy
    returns NaN; this returns 1.0, the exact p-value (D is 1 with certainty).

    Example:
        >>> round(ks_pvalue(0.05, 2_000, 3_000), 6)
        0.004784
    """
    from scipy.stats import kstwo

    if not 0.0 <= float(d) <= 1.0:
        raise InputError(f"a KS statistic lies in [0, 1] (got {d!r})")
    if n_ref < 1 or n_cur < 1:
        raise EmptyDataError(f"sample sizes must be positive (got {n_ref}, {n_cur})")
    m, n = sorted([float(n_ref), float(n_cur)], reverse=True)
    en = np.round(m * n / (m + n))
    if en < 1:
        return 1.0
    return float(np.clip(kstwo.sf(float(d), en), 0.0, 1.0))


def ks_statistic_from_cdfs(points: ArrayLike, ref_cdf: ArrayLike, cur_cdf: ArrayLike) -> float:
    """``max_i |F_r(x_i) − F_c(x_i)|`` over sorted evaluation points ``x_i``.

    A lower bound of the true KS statistic (the supremum over all x); equal
    to it when the points include every observed value (e.g. the exact
    ECDFs), approximate when they are sketch quantiles.

    Example:
        >>> ks_statistic_from_cdfs([1, 2, 3], [0.2, 0.6, 1.0], [0.1, 0.3, 1.0])
        0.3
    """
    x = np.asarray(points, dtype=np.float64)
    fr = np.asarray(ref_cdf, dtype=np.float64)
    fc = np.asarray(cur_cdf, dtype=np.float64)
    if x.ndim != 1 or x.size == 0 or fr.shape != x.shape or fc.shape != x.shape:
        raise InputError("points and both CDFs must be non-empty 1-D vectors of one length")
    if (np.diff(x) < 0).any():
        raise InputError("evaluation points must be sorted")
    if not ((fr >= 0) & (fr <= 1) & (fc >= 0) & (fc <= 1)).all():
        raise InputError("CDF values must lie in [0, 1]")
    return float(np.max(np.abs(fr - fc)))


def ks_from_histograms(ref_counts: ArrayLike, cur_counts: ArrayLike) -> KSBounds:
    """The KS statistic from two histograms over the same bins, with its bounds.

    At each bin edge both empirical CDFs are known exactly (cumulative sums),
    so ``D_edges = max_i |F_r(e_i) − F_c(e_i)|`` is a lower bound of the true
    D. Inside bin i each CDF rises by its bin mass ``p_i`` (``q_i``) in an
    unknown way, so with ``δ = F_r − F_c`` at the bin's left edge the gap
    stays in ``[δ − q_i, δ + p_i]``. Hence

    ``D_edges ≤ D ≤ max_i max(δ_i + p_i, q_i − δ_i) ≤ D_edges + max_i max(p_i, q_i)``.

    The upper bound is attained when all of the reference mass of a bin sits
    at its left end and the current mass at its right end; finer bins
    tighten it.

    Example:
        >>> b = ks_from_histograms([30, 50, 20], [20, 40, 40])
        >>> round(b.statistic, 6), round(b.lower, 6), round(b.upper, 6)
        (0.2, 0.2, 0.6)
    """
    r, c = _count_pair(ref_counts, cur_counts)
    p, q = r / r.sum(), c / c.sum()
    gap = np.cumsum(p) - np.cumsum(q)
    left = np.concatenate(([0.0], gap[:-1]))
    lower = min(float(np.max(np.abs(gap))), 1.0)
    upper = float(np.max(np.maximum(left + p, q - left)))
    upper = min(max(upper, lower), 1.0)
    return KSBounds(statistic=lower, lower=lower, upper=upper)


def quantile_midpoints(n_points: int) -> np.ndarray:
    """The probability grid ``u_k = (k + ½) / K``, k = 0 … K − 1, of the midpoint rule.

    Example:
        >>> quantile_midpoints(4).tolist()
        [0.125, 0.375, 0.625, 0.875]
    """
    if n_points < 1:
        raise UsageError(f"need at least one grid point (got {n_points})")
    return (np.arange(n_points) + 0.5) / n_points


def wasserstein_from_quantiles(ref_q: ArrayLike, cur_q: ArrayLike) -> float:
    """W₁ ≈ (1/K) Σ_k |Q_r(u_k) − Q_c(u_k)| from quantiles on the grid :func:`quantile_midpoints`.

    In one dimension ``W₁ = ∫₀¹ |Q_r(u) − Q_c(u)| du`` (Vallender 1974);
    this is its midpoint rule. The quantile functions are monotone, so the
    integrand has total variation at most ``range_r + range_c`` and the
    rule's error is at most ``(range_r + range_c) / (2K)``; it is exact for
    empirical samples whose sizes both divide K when the quantiles are the
    lower inverse of the ECDF (``np.quantile(x, u, method="inverted_cdf")``).

    Example:
        >>> u = quantile_midpoints(4)
        >>> wasserstein_from_quantiles(u, u + 0.5)
        0.5
    """
    r = np.asarray(ref_q, dtype=np.float64)
    c = np.asarray(cur_q, dtype=np.float64)
    if r.ndim != 1 or r.size == 0 or r.shape != c.shape:
        raise InputError("quantile vectors must be non-empty, 1-D and on the same grid")
    if not (np.isfinite(r).all() and np.isfinite(c).all()):
        raise InputError("quantiles must be finite")
    return float(np.mean(np.abs(r - c)))


def normalized_wasserstein(distance: float, reference_std: float) -> float:
    """``W₁ / max(σ_ref, 0.001)``: Evidently's normed Wasserstein (σ with ddof = 0).

    The floor keeps a constant reference from dividing by zero. Evidently
    flags drift at ≥ 0.1, i.e. a shift of a tenth of a reference standard
    deviation.

    Example:
        >>> normalized_wasserstein(0.5, 2.0)
        0.25
        >>> normalized_wasserstein(0.5, 0.0)
        500.0
    """
    if not (distance >= 0 and reference_std >= 0):
        raise InputError("distance and standard deviation must be non-negative")
    return float(distance) / max(float(reference_std), _MIN_STD)


# -- raw samples (exact mode) -------------------------------------------------


def ks_exact(ref: ArrayLike, cur: ArrayLike, *, method: str = "auto") -> SignificanceResult:
    """Two-sample KS test on raw samples: ``scipy.stats.ks_2samp(ref, cur, method=method)``.

    ``D = sup_x |F_r(x) − F_c(x)|``; two-sided p-value, exact when both
    samples have ≤ 10,000 values under ``method="auto"``, else asymptotic
    (:func:`ks_pvalue`).

    Example:
        >>> ks_exact([1.0, 2.0, 3.0], [1.0, 2.0, 3.0])
        SignificanceResult(statistic=0.0, p_value=1.0)
    """
    from scipy.stats import ks_2samp

    res = ks_2samp(_sample(ref, "reference"), _sample(cur, "current"), method=method)
    return SignificanceResult(float(res.statistic), float(res.pvalue))


def wasserstein_exact(ref: ArrayLike, cur: ArrayLike) -> float:
    """First Wasserstein distance of two samples: ``scipy.stats.wasserstein_distance``.

    ``W₁ = ∫ |F_r(x) − F_c(x)| dx``, in the units of the data.

    Example:
        >>> wasserstein_exact([0.0, 1.0], [1.0, 2.0])
        1.0
    """
    from scipy.stats import wasserstein_distance

    return float(wasserstein_distance(_sample(ref, "reference"), _sample(cur, "current")))


def aligned_category_counts(
    ref: ArrayLike, cur: ArrayLike
) -> tuple[list[Any], np.ndarray, np.ndarray]:
    """Count two categorical samples over the union of their values.

    Returns ``(categories, ref_counts, cur_counts)``; categories appear in
    order of first appearance, the reference's first. Values compare as
    Python objects (``1 == 1.0``); remove missing values first. The counts
    feed any count-vector statistic above.

    Example:
        >>> cats, r, c = aligned_category_counts(["a", "b", "a"], ["c", "a"])
        >>> cats, r.tolist(), c.tolist()
        (['a', 'b', 'c'], [2.0, 1.0, 0.0], [1.0, 0.0, 1.0])
    """
    rc = Counter(np.asarray(ref, dtype=object).ravel().tolist())
    cc = Counter(np.asarray(cur, dtype=object).ravel().tolist())
    categories = list(dict.fromkeys([*rc, *cc]))
    r = np.array([rc.get(k, 0) for k in categories], dtype=np.float64)
    c = np.array([cc.get(k, 0) for k in categories], dtype=np.float64)
    return categories, r, c
