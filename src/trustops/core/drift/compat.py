"""Compatibility modes: drift on raw samples exactly as Evidently 0.7.23 or NannyML 0.13.1.

Each peer computes "the same" statistic differently (binning, log base, zero
fill, what KS returns, whether Wasserstein is normed). These functions
re-implement each peer's univariate path step by step, so a trustops number
can be checked against the tool a team already trusts. They equal the peers'
own output to floating-point rounding (tests compare to 1e-9, and most values
agree bit for bit because the operations run in the same order).

Evidently (``evidently/legacy/calculations/stattests``; the 0.7 API reuses it):

- ±inf becomes NaN and NaN is dropped on both sides (``data_drift.py``);
- ``method="auto"`` picks the test with ``_get_default_stattest`` from
  ``n_ref`` and the number of distinct values in both samples
  (:func:`evidently_default_method`);
- PSI, KL and JS bin with ``get_binned_data``: Sturges' rule on the combined
  sample when the reference has more than 20 distinct values (numeric), else
  one bin per distinct value; PSI and KL zero-fill, JS does not;
- drift: ``p ≤ threshold`` for ``ks``, ``p < threshold`` for ``chisquare``
  and ``z``, ``value ≥ threshold`` for the distances.

NannyML (``nannyml/drift/univariate/methods.py``): each method is fitted on
the reference and evaluated on one chunk (here: ``cur``). NaN is dropped,
±inf is not (trustops refuses it: NannyML's binning fails on it).
NannyML's alert threshold is the reference-chunk mean ± 3σ of the method
value, which depends on how the reference is chunked; it is not
reproduced here (``threshold=None`` gives ``drift_detected=None``; pass
the threshold you derived to get NannyML's rule ``value > threshold``).
Chi² alerts on its p-value (< 0.05) regardless of thresholds, as in NannyML.

Example:
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> ref, cur = rng.normal(0, 1, 500), rng.normal(0.3, 1, 400)
    >>> res = evidently_drift(ref, cur, kind="numeric")
    >>> res.method, res.drift_detected
    ('ks', True)
    >>> nannyml_drift(ref, cur, kind="numeric", method="jensen_shannon").p_value is None
    True
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike

from trustops.core.drift import statistics as st
from trustops.errors import EmptyDataError, InputError, UsageError

__all__ = [
    "EVIDENTLY_METHODS",
    "NANNYML_METHODS",
    "CompatResult",
    "Kind",
    "evidently_default_method",
    "evidently_drift",
    "nannyml_drift",
]

Kind = Literal["numeric", "categorical"]

# name -> (kinds Evidently's registry allows, default threshold, drift rule)
EVIDENTLY_METHODS: dict[str, tuple[tuple[str, ...], float, str]] = {
    "chisquare": (("categorical",), 0.05, "p < threshold"),
    "hellinger": (("numeric", "categorical"), 0.1, "value >= threshold"),
    "jensenshannon": (("numeric", "categorical"), 0.1, "value >= threshold"),
    "kl_div": (("numeric", "categorical"), 0.1, "value >= threshold"),
    "ks": (("numeric",), 0.05, "p <= threshold"),
    "psi": (("numeric", "categorical"), 0.1, "value >= threshold"),
    "wasserstein": (("numeric",), 0.1, "value >= threshold"),
    "z": (("categorical",), 0.05, "p < threshold"),
}

# name -> kinds NannyML registers it for
NANNYML_METHODS: dict[str, tuple[str, ...]] = {
    "chi2": ("categorical",),
    "hellinger": ("numeric", "categorical"),
    "jensen_shannon": ("numeric", "categorical"),
    "kolmogorov_smirnov": ("numeric",),
    "l_infinity": ("categorical",),
    "wasserstein": ("numeric",),
}

_NANNYML_EXACT_BELOW = 10_000  # NannyML's 'auto': exact KS/Wasserstein below this n_ref
_NANNYML_CHI2_ALPHA = 0.05


@dataclass(frozen=True, slots=True)
class CompatResult:
    """One drift test as a peer computes it.

    Attributes:
        method: the peer's name for the test (``"psi"``, ``"kolmogorov_smirnov"`` …).
        statistic: the test statistic or distance (D for KS, χ² for chi-square,
            z for the z-test).
        p_value: the p-value for tests that have one, else ``None``.
        threshold: the threshold applied, or ``None`` when none is known.
        drift_detected: the peer's verdict, or ``None`` without a threshold.
        score: the number the peer reports as the drift value: Evidently's
            ``drift_score`` (the p-value for ks, chisquare and z), NannyML's
            method value (always the statistic).
    """

    method: str
    statistic: float
    p_value: float | None
    threshold: float | None
    drift_detected: bool | None
    score: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CompatResult:
        return cls(**{k: data[k] for k in cls.__dataclass_fields__})


# -- shared cleaning ----------------------------------------------------------


def _is_missing(x: Any) -> bool:
    """pandas' ``isna`` for one object: None, NaN, NaT and ``pd.NA``."""
    if x is None:
        return True
    if isinstance(x, float | np.floating):
        return bool(np.isnan(x))
    try:
        return bool(x != x)
    except (TypeError, ValueError):  # pd.NA: its truth value is ambiguous
        return True


def _numeric(values: ArrayLike, side: str, *, drop_inf: bool) -> np.ndarray:
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise InputError(f"{side} must be a 1-D array (got shape {arr.shape})")
    if arr.dtype.kind not in "biuf":
        raise InputError(
            f"{side} should contain numerical values only (dtype {arr.dtype})",
            hint="use kind='categorical' for other values",
        )
    x = arr.astype(np.float64)
    x = x[np.isfinite(x)] if drop_inf else x[~np.isnan(x)]
    if x.size == 0:
        raise EmptyDataError(f"{side} has no values left after removing missing values")
    return x


def _categorical(values: ArrayLike, side: str, *, drop_inf: bool) -> list[Any]:
    arr = np.asarray(values, dtype=object)
    if arr.ndim != 1:
        raise InputError(f"{side} must be a 1-D array (got shape {arr.shape})")
    out = [
        x
        for x in arr.tolist()
        if not _is_missing(x)
        and not (drop_inf and isinstance(x, float | np.floating) and math.isinf(x))
    ]
    if not out:
        raise EmptyDataError(f"{side} has no values left after removing missing values")
    return out


def _check_kind(kind: str) -> None:
    if kind not in ("numeric", "categorical"):
        raise UsageError(f"kind must be 'numeric' or 'categorical' (got {kind!r})")


# -- Evidently ----------------------------------------------------------------


def _unique(values: list[Any]) -> list[Any]:
    """Distinct values in order of first appearance (pandas' ``unique``)."""
    return list(dict.fromkeys(values))


def _evidently_keys(ref: list[Any], cur: list[Any]) -> list[Any]:
    # Built like Evidently's set union so categories are summed in the same order.
    return list(set(_unique(ref)) | set(_unique(cur)))


def _keyed_counts(keys: list[Any], values: list[Any]) -> np.ndarray:
    counts = Counter(values)
    return np.array([counts.get(k, 0) for k in keys], dtype=np.float64)


def _evidently_bins(ref: list[Any], cur: list[Any], numeric: bool) -> tuple[np.ndarray, np.ndarray]:
    """``get_binned_data`` as counts: Sturges on both samples, or one bin per value."""
    if numeric and len(set(ref)) > 20:
        r, c = np.asarray(ref, dtype=np.float64), np.asarray(cur, dtype=np.float64)
        edges = np.histogram_bin_edges(np.concatenate([r, c]), bins="sturges")
        return (
            np.histogram(r, edges)[0].astype(np.float64),
            np.histogram(c, edges)[0].astype(np.float64),
        )
    keys = _evidently_keys(ref, cur)
    return _keyed_counts(keys, ref), _keyed_counts(keys, cur)


def _evidently_hellinger(ref: list[Any], cur: list[Any], numeric: bool) -> float:
    keys = _evidently_keys(ref, cur)
    total = 0.0
    if not numeric:
        rc, cc = Counter(ref), Counter(cur)
        for key in keys:
            total += math.sqrt(float(rc[key] / len(ref)) * float(cc[key] / len(cur)))
    else:
        edges = np.histogram_bin_edges(keys, bins="sturges")
        h1 = np.histogram(np.asarray(ref, dtype=np.float64), bins=edges, density=True)[0]
        h2 = np.histogram(np.asarray(cur, dtype=np.float64), bins=edges, density=True)[0]
        width = (max(edges) - min(edges)) / (len(edges) - 1)
        for a, b in zip(h1, h2, strict=True):
            total += math.sqrt(float(a) * float(b)) * width
    return math.sqrt(1 - float(np.clip(total, 0, 1)))


def _evidently_chisquare(ref: list[Any], cur: list[Any]) -> st.SignificanceResult:
    from scipy.stats import chisquare

    keys = _evidently_keys(ref, cur)
    k_norm = len(cur) / len(ref)
    rc, cc = Counter(ref), Counter(cur)
    f_exp = [rc.get(k, 0) * k_norm for k in keys]
    f_obs = [cc.get(k, 0) for k in keys]
    with np.errstate(divide="ignore", invalid="ignore"):
        res = chisquare(f_obs, f_exp)
    return st.SignificanceResult(float(res.statistic), float(res.pvalue))


def _evidently_z(ref: list[Any], cur: list[Any]) -> st.SignificanceResult:
    from scipy.stats import norm

    ref_unique, cur_unique = _unique(ref), _unique(cur)
    if len(ref_unique) == 1 and len(cur_unique) == 1 and ref_unique[0] == cur_unique[0]:
        return st.SignificanceResult(0.0, 1.0)
    try:
        first = sorted(_evidently_keys(ref, cur))[0]
    except TypeError as exc:
        raise InputError("the z-test sorts the values, which here have mixed types") from exc
    n1, n2 = len(ref), len(cur)
    p1 = float(sum(0 if x == first else 1 for x in ref)) / n1
    p2 = float(sum(0 if x == first else 1 for x in cur)) / n2
    pooled = float(p1 * n1 + p2 * n2) / (n1 + n2)
    z = (p1 - p2) / np.sqrt(pooled * (1 - pooled) * (1.0 / n1 + 1.0 / n2))
    return st.SignificanceResult(float(z), float(2 * (1 - norm.cdf(np.abs(z)))))


def _clean_evidently(ref: ArrayLike, cur: ArrayLike, kind: str) -> tuple[list[Any], list[Any]]:
    _check_kind(kind)
    if kind == "numeric":
        r = _numeric(ref, "reference", drop_inf=True).tolist()
        c = _numeric(cur, "current", drop_inf=True).tolist()
        return r, c
    return _categorical(ref, "reference", drop_inf=True), _categorical(
        cur, "current", drop_inf=True
    )


def _default_method(ref: list[Any], cur: list[Any], kind: str) -> str:
    n_unique = len(set(ref) | set(cur))
    if len(ref) <= 1000:
        if kind == "numeric" and n_unique > 5:
            return "ks"
        return "chisquare" if n_unique > 2 else "z"
    if kind == "numeric" and n_unique > 5:
        return "wasserstein"
    return "jensenshannon"


def evidently_default_method(ref: ArrayLike, cur: ArrayLike, *, kind: Kind) -> str:
    """The test Evidently 0.7.23 picks for a column (``registry.py::_get_default_stattest``).

    After dropping NaN and ±inf, with ``n_ref`` reference values and ``u``
    distinct values in both samples together:

    ==============  ==============================  =====================
    kind            n_ref ≤ 1000                    n_ref > 1000
    ==============  ==============================  =====================
    numeric, u > 5  ``ks``                          ``wasserstein``
    numeric, u ≤ 5  ``chisquare`` (u > 2) else z    ``jensenshannon``
    categorical     ``chisquare`` (u > 2) else z    ``jensenshannon``
    ==============  ==============================  =====================

    Example:
        >>> evidently_default_method(["a", "b", "a"], ["b", "b"], kind="categorical")
        'z'
    """
    r, c = _clean_evidently(ref, cur, kind)
    return _default_method(r, c, kind)


def evidently_drift(
    ref: ArrayLike,
    cur: ArrayLike,
    *,
    kind: Kind,
    method: str = "auto",
    threshold: float | None = None,
) -> CompatResult:
    """Column drift exactly as Evidently 0.7.23 computes it (pandas engine).

    ``method="auto"`` uses :func:`evidently_default_method`; otherwise one of
    :data:`EVIDENTLY_METHODS`. As in Evidently's registry, ``ks`` and
    ``wasserstein`` take numeric columns only and ``chisquare`` and ``z``
    categorical only, although the automatic choice applies the last two to
    numeric columns with few values. ``threshold=None`` takes the test's
    default (0.05 for p-values, 0.1 for distances).

    ========================  ==========================================================
    method                    Evidently computes
    ========================  ==========================================================
    ``psi``, ``kl_div``       :func:`~.statistics.population_stability_index`,
                              :func:`~.statistics.kl_divergence` on ``get_binned_data``
                              counts, zero-filled
    ``jensenshannon``         ``jensenshannon(p, q)``, natural log, no fill
    ``wasserstein``           ``wasserstein_distance / max(std(ref), 0.001)``
    ``hellinger``             categorical: ``√(1 − clip(Σ√(pq)))``; numeric: density
                              histograms on Sturges bins of the *distinct* values
    ``ks``                    ``ks_2samp(ref, cur)``, drift when ``p ≤ threshold``
    ``chisquare``             ``chisquare(cur counts, ref counts · n_cur/n_ref)``
    ``z``                     pooled z-test on "≠ the smallest value", ``2(1 − Φ(|z|))``
    ========================  ==========================================================

    Example:
        >>> res = evidently_drift(["a"] * 60 + ["b"] * 40, ["a"] * 40 + ["b"] * 60,
        ...                       kind="categorical", method="psi")
        >>> round(res.statistic, 6), res.threshold, res.drift_detected
        (0.162186, 0.1, True)
    """
    r, c = _clean_evidently(ref, cur, kind)
    numeric = kind == "numeric"
    name = _default_method(r, c, kind) if method == "auto" else method
    if name not in EVIDENTLY_METHODS:
        raise UsageError(
            f"unknown Evidently method {method!r} (known: auto, {', '.join(EVIDENTLY_METHODS)})"
        )
    kinds, default_threshold, _ = EVIDENTLY_METHODS[name]
    if method != "auto" and kind not in kinds:
        raise UsageError(f"Evidently does not allow {name!r} for {kind} columns")
    thr = default_threshold if threshold is None else float(threshold)

    p_value: float | None = None
    if name in ("psi", "kl_div", "jensenshannon"):
        rc, cc = _evidently_bins(r, c, numeric)
        binned: dict[str, Callable[..., float]] = {
            "psi": st.population_stability_index,
            "kl_div": st.kl_divergence,
            "jensenshannon": st.jensen_shannon_distance,
        }
        statistic = binned[name](rc, cc)
    elif name == "wasserstein":
        ra = np.asarray(r, dtype=np.float64)
        statistic = st.normalized_wasserstein(st.wasserstein_exact(ra, c), float(np.std(ra)))
    elif name == "hellinger":
        statistic = _evidently_hellinger(r, c, numeric)
    else:
        test = {"ks": st.ks_exact, "chisquare": _evidently_chisquare, "z": _evidently_z}[name]
        statistic, p_value = test(r, c)

    if p_value is None:
        score, drift = statistic, statistic >= thr
    else:
        score, drift = p_value, (p_value <= thr if name == "ks" else p_value < thr)
    return CompatResult(name, statistic, p_value, thr, bool(drift), score)


# -- NannyML ------------------------------------------------------------------


def _nannyml_shares(
    ref_shares: np.ndarray, cur_shares: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Append NannyML's leftover bin when current mass falls outside the reference bins."""
    leftover = 1 - np.sum(cur_shares)
    if leftover > 0:
        return np.append(ref_shares, 0), np.append(cur_shares, leftover)
    return ref_shares, cur_shares


def _nannyml_binned(
    ref: np.ndarray | list[Any], cur: np.ndarray | list[Any], numeric: bool
) -> tuple[np.ndarray, np.ndarray]:
    if numeric:
        r, c = np.asarray(ref), np.asarray(cur)
        edges = np.histogram_bin_edges(r.astype("float64"), bins="doane")
        return _nannyml_shares(
            np.histogram(r, bins=edges)[0] / len(r), np.histogram(c, edges)[0] / len(c)
        )
    try:
        cats, ref_counts = np.unique(np.asarray(ref, dtype=object), return_counts=True)
    except TypeError as exc:
        raise InputError("NannyML sorts the reference categories; these have mixed types") from exc
    counts = Counter(cur)
    cur_counts = np.array([counts.get(k, 0) for k in cats])
    return _nannyml_shares(ref_counts / len(ref), cur_counts / len(cur))


def _nannyml_ks_estimated(r: np.ndarray, c: np.ndarray, n_bins: int) -> float:
    edges_in = np.linspace(np.min(r), np.max(r), n_bins + 1)
    ref_hist, edges = np.histogram(r, edges_in)
    ref_cdf = np.cumsum(ref_hist / len(r))
    below = len(c[c < edges[0]]) / len(c)
    cur_cdf = below + np.cumsum(np.histogram(c, edges)[0] / len(c))
    return float(np.max(abs(ref_cdf - cur_cdf)))


def _ecdf(vec: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x, counts = np.unique(np.sort(vec), return_counts=True)
    return x, np.cumsum(counts) / len(vec)


def _nannyml_wasserstein_estimated(r: np.ndarray, c: np.ndarray, n_bins: int) -> float:
    ref_hist, edges = np.histogram(r, bins=n_bins)
    ref_cdf = np.cumsum(ref_hist / len(r))
    width, lo, hi = edges[1] - edges[0], edges[0], edges[-1]
    smaller, bigger = c[c < lo], c[c > hi]
    term_smaller, amount_smaller = 0.0, 0.0
    if len(smaller) > 0:
        amount_smaller = (len(smaller) + 1) / len(c)
        x, y = _ecdf(np.concatenate((smaller, [lo])))
        term_smaller = np.sum(y[:-1] * np.diff(x)) * amount_smaller
    term_bigger = 0.0
    if len(bigger) > 0:
        amount_bigger = (len(bigger) + 1) / len(c)
        x, y = _ecdf(np.concatenate(([hi], bigger)))
        term_bigger = np.sum((1 - y)[:-1] * np.diff(x)) * amount_bigger
    cur_cdf = np.cumsum(np.histogram(c, bins=edges)[0] / len(c)) + amount_smaller
    term_within = np.sum(np.abs(ref_cdf - cur_cdf) * width)
    return float(term_within + term_smaller + term_bigger)


def _nannyml_categorical(values: ArrayLike, side: str) -> np.ndarray | list[Any]:
    arr = np.asarray(values)
    if arr.dtype.kind in "biuf":  # keep numbers numeric, as pandas' infer_objects does
        x = arr.astype(np.float64) if arr.dtype.kind == "f" else arr
        x = x[~np.isnan(x)] if arr.dtype.kind == "f" else x
        if x.size == 0:
            raise EmptyDataError(f"{side} has no values left after removing missing values")
        return list(x.tolist())
    return _categorical(arr, side, drop_inf=False)


def nannyml_drift(
    ref: ArrayLike,
    cur: ArrayLike,
    *,
    kind: Kind,
    method: str,
    calculation_method: Literal["auto", "exact", "estimated"] = "auto",
    n_bins: int = 10_000,
    threshold: float | None = None,
) -> CompatResult:
    """Univariate drift of one chunk exactly as NannyML 0.13.1 computes it.

    ``cur`` is one chunk; ``ref`` the reference the method is fitted on.
    ``calculation_method`` and ``n_bins`` are NannyML's ``computation_params``
    for ``kolmogorov_smirnov`` and ``wasserstein`` (``"auto"``: exact below
    10,000 reference values, else the ``n_bins`` histogram approximation).

    ======================  ===================================================
    method                  NannyML computes
    ======================  ===================================================
    ``jensen_shannon``      ``jensenshannon(p, q, base=2)`` on Doane bins of the
                            reference (numeric) or its categories, plus a
                            leftover bin for current mass outside them
    ``hellinger``           ``‖√p − √q‖₂ / √2`` on the same bins
    ``kolmogorov_smirnov``  the D statistic (no p-value), exact or binned
    ``wasserstein``         raw W₁ (not normed), exact or binned
    ``chi2``                ``chi2_contingency`` on the (category × sample)
                            counts (Yates-corrected with two categories); alert
                            when p < 0.05, whatever ``threshold`` says
    ``l_infinity``          ``max |p_i − q_i|`` over categories
    ======================  ===================================================

    With ``threshold`` (e.g. the upper threshold NannyML derived from its
    reference chunks) ``drift_detected`` is ``value > threshold``; without
    it, ``None``.

    Example:
        >>> res = nannyml_drift(["a", "a", "b", "b"], ["a", "b", "b", "c"],
        ...                     kind="categorical", method="jensen_shannon")
        >>> round(res.statistic, 6), res.drift_detected
        (0.394511, None)
    """
    _check_kind(kind)
    if method not in NANNYML_METHODS:
        raise UsageError(f"unknown NannyML method {method!r} (known: {', '.join(NANNYML_METHODS)})")
    if kind not in NANNYML_METHODS[method]:
        raise UsageError(f"NannyML does not define {method!r} for {kind} columns")
    if calculation_method not in ("auto", "exact", "estimated"):
        raise UsageError(
            f"calculation_method must be auto, exact or estimated ({calculation_method!r})"
        )
    if n_bins < 1:
        raise UsageError(f"n_bins must be positive (got {n_bins})")

    if kind == "numeric":
        r: Any = _numeric(ref, "reference", drop_inf=False)
        c: Any = _numeric(cur, "current", drop_inf=False)
        if not (np.isfinite(r).all() and np.isfinite(c).all()):
            raise InputError("NannyML cannot bin infinite values; remove ±inf first")
    else:
        r, c = _nannyml_categorical(ref, "reference"), _nannyml_categorical(cur, "current")

    p_value: float | None = None
    if method in ("jensen_shannon", "hellinger"):
        p, q = _nannyml_binned(r, c, kind == "numeric")
        if method == "jensen_shannon":
            from scipy.spatial.distance import jensenshannon

            statistic = float(jensenshannon(p, q, base=2))
        else:
            statistic = float(np.sqrt(np.sum((np.sqrt(p) - np.sqrt(q)) ** 2)) / np.sqrt(2))
    elif method in ("kolmogorov_smirnov", "wasserstein"):
        exact = calculation_method == "exact" or (
            calculation_method == "auto" and len(r) < _NANNYML_EXACT_BELOW
        )
        if method == "kolmogorov_smirnov":
            statistic = (
                st.ks_exact(r, c).statistic if exact else _nannyml_ks_estimated(r, c, n_bins)
            )
        else:
            statistic = (
                st.wasserstein_exact(r, c)
                if exact
                else _nannyml_wasserstein_estimated(r, c, n_bins)
            )
    elif method == "chi2":
        from scipy.stats import chi2_contingency

        _, rc, cc = st.aligned_category_counts(
            np.asarray(r, dtype=object), np.asarray(c, dtype=object)
        )
        res = chi2_contingency(np.column_stack([rc, cc]))
        statistic, p_value = float(res.statistic), float(res.pvalue)
    else:  # l_infinity
        _, rc, cc = st.aligned_category_counts(
            np.asarray(r, dtype=object), np.asarray(c, dtype=object)
        )
        statistic = float(np.max(np.abs(rc / rc.sum() - cc / cc.sum())))

    if method == "chi2":
        if threshold is not None:
            raise UsageError("NannyML's chi2 alerts on p < 0.05 and ignores custom thresholds")
        assert p_value is not None
        return CompatResult(
            method, statistic, p_value, _NANNYML_CHI2_ALPHA, p_value < 0.05, statistic
        )
    drift = None if threshold is None else bool(statistic > threshold)
    thr = None if threshold is None else float(threshold)
    return CompatResult(method, statistic, p_value, thr, drift, statistic)
