"""Drift between two profiles, column by column, and drift between two raw samples.

:func:`compare_profiles` is the default, profile-based mode. A current profile
made with ``reference=`` has its numeric columns binned on the reference's
edges (fine bins at the reference's quantiles, plus out-of-range bins), so:

- ``psi``, ``kl``, ``jensenshannon`` (natural log as Evidently, or ``js_base=2``
  for a distance in [0, 1] as NannyML) and
  ``hellinger`` use about :data:`COARSE_BINS` bins of equal reference mass,
  made by joining adjacent fine bins (the reference's deciles by default); the
  out-of-range bins stay separate, so mass outside the reference's range
  counts. Empty bins get Evidently's zero fill (:func:`.statistics.fill_zeroes`);
- ``chi2`` is the two-sample χ² test of homogeneity on the same bins
  (:func:`chi_square_homogeneity`), out-of-range mass joined to the outer bins;
- ``ks`` is bounded from both sides: the fine histograms give the exact CDF
  gap at every edge (a lower bound of D) and an upper bound
  (:func:`.statistics.ks_from_histograms`); the KLL sketches give D within
  ``ε_ref + ε_cur``. The reported statistic is the best lower bound and the
  p-value is computed from it, so the profile-based KS never reports more
  drift than the exact test would: it is conservative by at most the
  ``bounds`` it states;
- ``wasserstein`` is W₁ between the sketches' quantile functions (1,000-point
  midpoint rule), divided by the reference's standard deviation (Evidently's
  normed Wasserstein).

``method="auto"`` picks a test at every sample size: ``ks`` for numeric
columns, ``chi2`` for categorical columns with more than two values and ``z``
for two (p < 0.05). The profile-based KS is conservative, so at scale it
flags real shifts without the false alarms of a sketch-only KS. For an effect
size instead of a test, ask for ``psi`` (0.1 "moderate", 0.25 "significant")
or ``wasserstein``.

:func:`compare_samples` is the exact mode: the same choices on raw values,
with the SciPy statistics (``ks_2samp``, ``wasserstein_distance``) and PSI on
the reference's exact deciles.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from trustops.core.anomalies.out_of_range import OutOfRangeReport, out_of_range_rates
from trustops.core.drift import statistics as st
from trustops.core.drift.report import METHODS, TESTS, ColumnDrift, DriftReport
from trustops.core.profiles import (
    CategoricalProfile,
    ColumnProfile,
    DatasetProfile,
    NumericProfile,
    TypeChangedError,
)
from trustops.core.profiles.categorical import sketch_key
from trustops.errors import MissingColumnError, UsageError

__all__ = [
    "COARSE_BINS",
    "DEFAULT_THRESHOLDS",
    "auto_method",
    "chi_square_homogeneity",
    "choose_method",
    "compare_profiles",
    "compare_samples",
    "ks_pvalue_fast",
    "out_of_range",
    "threshold_for",
]

COARSE_BINS = 10
WASSERSTEIN_GRID = 1000
DEFAULT_THRESHOLDS = {
    "ks": 0.05,
    "chi2": 0.05,
    "z": 0.05,
    "psi": 0.1,
    "kl": 0.1,
    "jensenshannon": 0.1,
    "wasserstein": 0.1,
    "hellinger": 0.1,
}
NUMERIC_ONLY = ("ks", "wasserstein")
CATEGORICAL_ONLY = ("z",)


def auto_method(kind: str, n_reference: int, n_distinct: int | None) -> str:
    """The statistic ``method="auto"`` picks (see the module docstring).

    ``n_reference`` is in the signature for rules that depend on sample size
    (Evidently's do; see the compatibility mode); the default's tests need none.
    """
    del n_reference
    if kind in ("numeric", "datetime"):
        return "ks"
    return "z" if n_distinct is not None and n_distinct <= 2 else "chi2"


def threshold_for(method: str, column: str, threshold: float | Mapping[str, float] | None) -> float:
    """The threshold of ``column``: per column, one for all, or the method's default."""
    if isinstance(threshold, Mapping):
        value = threshold.get(column)
        return DEFAULT_THRESHOLDS[method] if value is None else float(value)
    return DEFAULT_THRESHOLDS[method] if threshold is None else float(threshold)


def _verdict(method: str, statistic: float, p_value: float | None, threshold: float) -> bool:
    if method in TESTS:
        assert p_value is not None
        return p_value <= threshold if method == "ks" else p_value < threshold
    return statistic >= threshold


def _check_method(method: str) -> None:
    if method not in METHODS:
        raise UsageError(
            f"unknown drift method {method!r}", hint=f"use one of: {', '.join(METHODS)}"
        )


def coarse_groups(ref_bins: np.ndarray, target: int = COARSE_BINS) -> np.ndarray:
    """Group ids joining adjacent fine bins into about ``target`` bins of equal reference mass.

    A fine bin goes to group ``⌊target · (mass before its middle) / total⌋``;
    empty reference bins join their neighbour on the left (leading ones, the right),
    so no coarse bin is empty in the reference.

    Example:
        >>> coarse_groups(np.array([1, 1, 1, 1, 1, 1]), 3).tolist()
        [0, 0, 1, 1, 2, 2]
    """
    total = ref_bins.sum()
    if total == 0:
        return np.zeros(len(ref_bins), dtype=np.int64)
    middle = np.cumsum(ref_bins) - ref_bins / 2.0
    groups = np.minimum((middle * target / total).astype(np.int64), target - 1)
    groups[ref_bins == 0] = -1
    groups = np.maximum.accumulate(groups)  # empty bins join the bin on their left,
    groups[groups < 0] = groups[groups >= 0][0]  # before the first: the first non-empty one
    _, dense = np.unique(groups, return_inverse=True)
    return dense.astype(np.int64)


def _coarse(hist_counts: np.ndarray, groups: np.ndarray, outer: bool) -> np.ndarray:
    """Fine counts (below, bins…, above) into coarse bins; out-of-range separate or joined."""
    inner = np.bincount(groups, weights=hist_counts[1:-1], minlength=int(groups.max()) + 1)
    if outer:
        return np.concatenate([[hist_counts[0]], inner, [hist_counts[-1]]])
    inner[0] += hist_counts[0]
    inner[-1] += hist_counts[-1]
    return inner


def _count_statistic(
    method: str, r: np.ndarray, c: np.ndarray, js_base: float | None = None
) -> tuple[float, float | None]:
    if method == "psi":
        return st.population_stability_index(r, c), None
    if method == "kl":
        return st.kl_divergence(r, c), None
    if method == "jensenshannon":
        return st.jensen_shannon_distance(r, c, base=js_base), None
    if method == "hellinger":
        return st.hellinger_distance(r, c), None
    if method == "chi2":
        return chi_square_homogeneity(r, c)
    raise AssertionError(method)


def chi_square_homogeneity(ref_counts: np.ndarray, cur_counts: np.ndarray) -> tuple[float, float]:
    """Pearson's χ² test that two samples share one distribution (a 2 × k table).

    ``χ² = Σ_{s,i} (n_{s,i} − E_{s,i})² / E_{s,i}`` with
    ``E_{s,i} = n_s · (r_i + c_i) / (n_ref + n_cur)``, ``k − 1`` degrees of
    freedom (``scipy.stats.chi2_contingency(..., correction=False)``; bins empty
    on both sides are dropped). Both samples are random, so this is the
    two-sample test; treating the reference's shares as known (Evidently's
    goodness-of-fit ``chisquare``) overstates χ² by about ``1 + n_cur/n_ref``
    and flags drift in unchanged data. The Evidently compatibility mode keeps
    Evidently's test.

    Example:
        >>> s, p = chi_square_homogeneity(np.array([50.0, 50.0]), np.array([50.0, 50.0]))
        >>> s, p
        (0.0, 1.0)
    """
    from scipy.stats import chi2_contingency

    keep = (ref_counts + cur_counts) > 0
    if keep.sum() < 2:
        return 0.0, 1.0
    table = np.vstack([ref_counts[keep], cur_counts[keep]])
    res = chi2_contingency(table, correction=False)
    return float(res.statistic), float(res.pvalue)


#: Above this effective sample size the KS p-value uses Stephens' approximation.
KS_EXACT_BELOW = 10_000


def ks_pvalue_fast(d: float, n_ref: int, n_cur: int) -> float:
    """Two-sided KS p-value: SciPy's ``kstwo`` law up to ``n_e = 10,000``, then Stephens'.

    ``n_e = n_ref·n_cur/(n_ref + n_cur)``. SciPy's finite-n law (what
    ``ks_2samp(method="asymp")`` uses, :func:`.statistics.ks_pvalue`) takes up to
    a second per call at ``n_e`` in the hundreds of thousands; beyond 10,000
    the Kolmogorov limit with Stephens' (1970) correction,
    ``P(K > (√n_e + 0.12 + 0.11/√n_e)·D)``, is within 0.1% of it around
    p = 0.05 (a few percent far in the tail, where no verdict depends on it).

    Example:
        >>> round(ks_pvalue_fast(0.003, 1_000_000, 1_000_000), 4)
        0.0002
    """
    en = n_ref * n_cur / (n_ref + n_cur)
    if en <= KS_EXACT_BELOW:
        return st.ks_pvalue(d, n_ref, n_cur)
    from scipy.stats import kstwobign

    root = math.sqrt(en)
    return float(kstwobign.sf((root + 0.12 + 0.11 / root) * d))


def _sketch_points(a: NumericProfile, b: NumericProfile) -> np.ndarray:
    items: list[float] = []
    for p in (a, b):
        if p.sketch is not None and not p.sketch.is_empty():
            items.extend(item for item, _ in p.sketch)
    return np.unique(np.asarray(items, dtype=np.float64))


def _numeric(
    base: dict[str, Any], ref: NumericProfile, cur: NumericProfile, js_base: float | None
) -> ColumnDrift:
    name, method, threshold = base["column"], base["method"], base["threshold"]
    if method == "wasserstein":
        if ref.sketch is None or cur.sketch is None:
            raise UsageError(
                f"column {name!r}: wasserstein needs the quantile sketches of both profiles",
                hint="profile the current data with sketches (the default)",
            )
        u = st.quantile_midpoints(WASSERSTEIN_GRID)
        w = st.wasserstein_from_quantiles(ref.quantiles(u), cur.quantiles(u))
        value = st.normalized_wasserstein(w, ref.std or 0.0)
        return ColumnDrift(
            **base,
            statistic=value,
            p_value=None,
            drift_detected=value >= threshold,
            note="from the quantile sketches",
        )
    rh, ch = ref.histogram, cur.histogram
    if rh is None or ch is None or not np.array_equal(rh.edges, ch.edges):
        raise UsageError(
            f"column {name!r}: the current profile is not binned on the reference's edges",
            hint="profile the current data with reference=<the reference profile>",
        )
    if method == "ks":
        bounds = st.ks_from_histograms(rh.counts, ch.counts)
        lower, upper = bounds.lower, bounds.upper
        if ref.sketch is not None and cur.sketch is not None:
            points = _sketch_points(ref, cur)
            d_sketch = st.ks_statistic_from_cdfs(points, ref.cdf(points), cur.cdf(points))
            eps = (ref.rank_error or 0.0) + (cur.rank_error or 0.0)
            lower = max(lower, d_sketch - eps)
            upper = min(upper, d_sketch + eps)
            if eps == 0.0:  # both sketches hold every value: D is exact
                lower = upper = d_sketch
        p = ks_pvalue_fast(lower, ref.count, cur.count)
        return ColumnDrift(
            **base,
            statistic=lower,
            p_value=p,
            drift_detected=_verdict("ks", lower, p, threshold),
            bounds=(lower, max(upper, lower)),
            note=None if lower == upper else "D's lower bound (conservative)",
        )
    groups = coarse_groups(rh.in_range)
    r = _coarse(rh.counts, groups, outer=method != "chi2")
    c = _coarse(ch.counts, groups, outer=method != "chi2")
    statistic, p_value = _count_statistic(method, r, c, js_base)
    return ColumnDrift(
        **base,
        statistic=statistic,
        p_value=p_value,
        drift_detected=_verdict(method, statistic, p_value, threshold),
    )


def _category_vectors(
    ref: CategoricalProfile, cur: CategoricalProfile
) -> tuple[list[Any], np.ndarray, np.ndarray, bool]:
    if ref.counts is not None and cur.counts is not None:
        keys = list(dict.fromkeys([*ref.counts, *cur.counts]))
        keys.sort(key=sketch_key)
        r = np.array([ref.counts.get(k, 0) for k in keys], dtype=np.float64)
        c = np.array([cur.counts.get(k, 0) for k in keys], dtype=np.float64)
        return keys, r, c, True
    rt, ct = dict(ref.top()), dict(cur.top())
    rs = {sketch_key(k): v for k, v in rt.items()}
    cs = {sketch_key(k): v for k, v in ct.items()}
    keys = sorted(set(rs) | set(cs))
    r = np.array([rs.get(k, 0) for k in keys] + [0.0], dtype=np.float64)
    c = np.array([cs.get(k, 0) for k in keys] + [0.0], dtype=np.float64)
    r[-1] = max(ref.count - r[:-1].sum(), 0.0)  # the rest: every less frequent value
    c[-1] = max(cur.count - c[:-1].sum(), 0.0)
    return [*keys, "(other)"], r, c, False


def _categorical(
    base: dict[str, Any], ref: CategoricalProfile, cur: CategoricalProfile, js_base: float | None
) -> ColumnDrift:
    keys, r, c, exact = _category_vectors(ref, cur)
    note = None if exact else "from frequent-items sketches (approximate counts)"
    return _category_drift({**base, "note": note}, keys, r, c, js_base)


def _category_drift(
    base: dict[str, Any],
    keys: Sequence[Any],
    r: np.ndarray,
    c: np.ndarray,
    js_base: float | None = None,
) -> ColumnDrift:
    """The verdict of one categorical column from its aligned category counts."""
    name, method, threshold = base["column"], base["method"], base["threshold"]
    if method == "z":
        if len(keys) > 2:
            raise UsageError(
                f"column {name!r} has {len(keys)} categories; the z-test needs two",
                hint="use method='chi2', 'psi' or 'jensenshannon'",
            )
        # Evidently's indicator: "not the first category in sorted order".
        first = min(range(len(keys)), key=lambda i: sketch_key(keys[i]))
        z, p = st.two_proportion_z_test(
            float(r.sum() - r[first]), float(r.sum()), float(c.sum() - c[first]), float(c.sum())
        )
        return ColumnDrift(
            **base, statistic=z, p_value=p, drift_detected=_verdict("z", z, p, threshold)
        )
    statistic, p_value = _count_statistic(method, r, c, js_base)
    return ColumnDrift(
        **base,
        statistic=statistic,
        p_value=p_value,
        drift_detected=_verdict(method, statistic, p_value, threshold),
    )


def _not_compared(name: str, kind: str, method: str, note: str, role: str) -> ColumnDrift:
    return ColumnDrift(name, kind, method, None, None, None, None, role=role, note=note)


def _distinct(ref: ColumnProfile, cur: ColumnProfile) -> int | None:
    if isinstance(ref, CategoricalProfile) and isinstance(cur, CategoricalProfile):
        if ref.counts is not None and cur.counts is not None:
            return len(set(ref.counts) | set(cur.counts))
        return max(ref.distinct, cur.distinct)
    return None


def _column(
    name: str,
    reference: DatasetProfile,
    current: DatasetProfile,
    method: str,
    threshold: float | Mapping[str, float] | None,
    role: str,
    explicit: bool,
    js_base: float | None = None,
) -> ColumnDrift:
    rk, ck = reference.kinds[name], current.kinds[name]
    ref, cur = reference.columns[name], current.columns[name]
    if rk != ck and "null" not in (rk, ck):
        raise TypeChangedError(
            name,
            f"{rk} ({reference.types[name]})",
            f"{ck} ({current.types[name]})",
            where="in the reference",
        )
    kind = rk if rk != "null" else ck
    if kind in ("null", "other"):
        why = (
            "no values to compare"
            if kind == "null"
            else f"values of type {reference.types[name]} are not compared"
        )
        return _not_compared(name, kind, method, why, role)
    if ref.count == 0 or cur.count == 0:
        side = "reference" if ref.count == 0 else "current data"
        return _not_compared(name, kind, method, f"every value is missing in the {side}", role)
    chosen, fallback = choose_method(method, kind, ref.count, _distinct(ref, cur), name, explicit)
    base: dict[str, Any] = {
        "column": name,
        "kind": kind,
        "method": chosen,
        "threshold": threshold_for(chosen, name, threshold),
        "reference_count": ref.count,
        "current_count": cur.count,
    }
    if isinstance(ref, NumericProfile) and isinstance(cur, NumericProfile):
        result = _numeric(base, ref, cur, js_base)
    elif isinstance(ref, CategoricalProfile) and isinstance(cur, CategoricalProfile):
        result = _categorical(base, ref, cur, js_base)
    else:
        raise AssertionError((name, type(ref), type(cur)))
    if fallback:
        result = replace(result, note=fallback)
    return replace(result, role=role)


def choose_method(
    method: str,
    kind: str,
    n_reference: int,
    n_distinct: int | None,
    column: str,
    explicit: bool,
) -> tuple[str, str | None]:
    """The method for one column, and a note when a requested one did not apply.

    A method that does not fit the column's kind (``ks`` or ``wasserstein``
    on categories, ``z`` on numbers) is an error for a column the caller
    named; over a whole table it falls back to the ``auto`` choice, with a note.
    """
    if method == "auto":
        return auto_method(kind, n_reference, n_distinct), None
    numeric = kind in ("numeric", "datetime")
    if (numeric and method in CATEGORICAL_ONLY) or (not numeric and method in NUMERIC_ONLY):
        if explicit:
            raise UsageError(
                f"method {method!r} does not apply to the {kind} column {column!r}",
                hint="use method='auto', or leave the column out",
            )
        chosen = auto_method(kind, n_reference, n_distinct)
        return chosen, f"{method} does not apply to {kind} columns; used {chosen}"
    return method, None


def _roles(names: Sequence[str], prediction: str | None, target: str | None) -> dict[str, str]:
    roles = {n: "feature" for n in names}
    for role, col in (("prediction", prediction), ("target", target)):
        if col is not None:
            if col not in roles:
                raise MissingColumnError(col, available=list(names), role=role)
            roles[col] = role
    return roles


def _selected(
    reference: DatasetProfile, current: DatasetProfile, columns: Sequence[str] | None
) -> list[str]:
    if columns is not None:
        for c in columns:
            if c not in reference.kinds:
                raise MissingColumnError(c, available=list(reference.kinds), role="reference")
            if c not in current.kinds:
                raise MissingColumnError(c, available=list(current.kinds), role="current")
        return list(columns)
    missing = [c for c in reference.kinds if c not in current.kinds]
    if missing:
        raise MissingColumnError(missing[0], available=list(current.kinds), role="current")
    # Datetime columns move with the calendar; compare them only when named.
    return [c for c, k in reference.kinds.items() if k != "datetime"]


def compare_profiles(
    reference: DatasetProfile,
    current: DatasetProfile,
    *,
    method: str = "auto",
    threshold: float | Mapping[str, float] | None = None,
    columns: Sequence[str] | None = None,
    prediction: str | None = None,
    target: str | None = None,
    drift_share: float = 0.5,
    js_base: float | None = None,
) -> DriftReport:
    """Drift of every column of ``current`` against ``reference`` (see the module docstring).

    Example:
        >>> import pyarrow as pa
        >>> from trustops.core.profiles import DatasetProfile, ProfilePlan
        >>> t = pa.table({"x": [float(i % 100) for i in range(5000)]})
        >>> plan = DatasetProfile.zero(ProfilePlan(), t.schema).update(t).fitted_plan()
        >>> ref = DatasetProfile.zero(plan, t.schema).update(t)
        >>> t2 = pa.table({"x": [float(i % 100) + 30 for i in range(5000)]})
        >>> cur = DatasetProfile.zero(plan, t2.schema).update(t2)
        >>> r = compare_profiles(ref, cur)
        >>> r.columns[0].method, r.columns[0].drift_detected
        ('ks', True)
    """
    _check_method(method)
    if not 0.0 < drift_share <= 1.0:
        raise UsageError(f"drift_share must be in (0, 1], got {drift_share}")
    names = _selected(reference, current, columns)
    for role_col in (prediction, target):
        if role_col is not None and role_col not in names and role_col in reference.kinds:
            names.append(role_col)
    roles = _roles(names, prediction, target)
    results = tuple(
        _column(n, reference, current, method, threshold, roles[n], columns is not None, js_base)
        for n in names
    )
    return DriftReport(
        results,
        mode="profile",
        method=method,
        drift_share=drift_share,
        reference_rows=reference.rows,
        current_rows=current.rows,
        details={"out_of_range": out_of_range(reference, current, names).to_dict()},
    )


def out_of_range(
    reference: DatasetProfile, current: DatasetProfile, columns: Sequence[str]
) -> OutOfRangeReport:
    """Share of each numeric column's current values outside the reference's range.

    The counts are the current histogram's out-of-range bins on the
    reference's edges (:func:`trustops.core.anomalies.out_of_range_rates`,
    flagged above 1%).
    """
    counts = {}
    for name in columns:
        col = current.columns.get(name)
        if isinstance(col, NumericProfile) and col.histogram is not None:
            counts[name] = (col.histogram.below, col.histogram.above, col.count)
    return out_of_range_rates(counts)


def compare_samples(
    name: str,
    kind: str,
    ref: np.ndarray,
    cur: np.ndarray,
    *,
    method: str = "auto",
    threshold: float | Mapping[str, float] | None = None,
    role: str = "feature",
    explicit: bool = True,
    js_base: float | None = None,
) -> ColumnDrift:
    """Exact-mode drift of one column from raw values (missing values already removed).

    Numeric: ``ks`` is ``scipy.stats.ks_2samp``; ``wasserstein`` is
    ``scipy.stats.wasserstein_distance`` over the reference's ``np.std``;
    count statistics use bins at the reference's exact deciles
    (``np.quantile``), out-of-range values in their own bins. Categorical:
    the same statistics on exact category counts.

    Example:
        >>> r = compare_samples("x", "numeric", np.arange(100.0), np.arange(100.0) + 50)
        >>> r.method, round(r.statistic, 2), r.drift_detected
        ('ks', 0.5, True)
    """
    _check_method(method)
    numeric = kind in ("numeric", "datetime")
    if len(ref) == 0 or len(cur) == 0:
        side = "reference" if len(ref) == 0 else "current data"
        return _not_compared(name, kind, method, f"every value is missing in the {side}", role)
    distinct = None if numeric else len(set(ref.tolist()) | set(cur.tolist()))
    chosen, fallback = choose_method(method, kind, len(ref), distinct, name, explicit)
    limit = threshold_for(chosen, name, threshold)
    base: dict[str, Any] = {
        "column": name,
        "kind": kind,
        "method": chosen,
        "threshold": limit,
        "role": role,
        "reference_count": len(ref),
        "current_count": len(cur),
        "note": fallback,
    }
    if numeric:
        r = np.asarray(ref, dtype=np.float64)
        c = np.asarray(cur, dtype=np.float64)
        if chosen == "ks":
            res = st.ks_exact(r, c)
            return ColumnDrift(
                **base,
                statistic=res.statistic,
                p_value=res.p_value,
                drift_detected=_verdict("ks", res.statistic, res.p_value, limit),
            )
        if chosen == "wasserstein":
            value = st.normalized_wasserstein(st.wasserstein_exact(r, c), float(np.std(r)))
            return ColumnDrift(**base, statistic=value, p_value=None, drift_detected=value >= limit)
        edges = np.unique(np.quantile(r, np.linspace(0, 1, COARSE_BINS + 1)))
        edges = np.append(edges[:-1], np.nextafter(edges[-1], np.inf))
        rc = np.bincount(np.searchsorted(edges, r, side="right"), minlength=len(edges) + 1)
        cc = np.bincount(np.searchsorted(edges, c, side="right"), minlength=len(edges) + 1)
        if chosen == "chi2":
            rc = _coarse(rc, np.arange(len(edges) - 1), outer=False)
            cc = _coarse(cc, np.arange(len(edges) - 1), outer=False)
        statistic, p_value = _count_statistic(chosen, rc.astype(float), cc.astype(float), js_base)
        return ColumnDrift(
            **base,
            statistic=statistic,
            p_value=p_value,
            drift_detected=_verdict(chosen, statistic, p_value, limit),
        )
    keys, rv, cv = st.aligned_category_counts(ref, cur)
    return _category_drift(base, keys, rv, cv, js_base)
