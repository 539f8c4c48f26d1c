"""Proxy detection, pure: how much a feature says about a protected attribute, and when it matters.

A *proxy* is an input feature that carries information about a protected
attribute (race, sex, age, ...): a model that leans on it can discriminate
without ever seeing the attribute. Strength is measured two ways, and a
feature is flagged only when it is both a strong proxy and important to the
model.

**Mutual information** (plug-in estimator, in nats). The feature ``X`` is
discretised — numeric features into at most ``n_bins`` equal-frequency bins
(edges at the sample quantiles ``k/n_bins``, ties merged, so a numeric column
with few distinct values keeps one bin per value); categorical features keep
one category per value — and from the contingency table ``n_xa`` of ``N``
rows::

    I(X; A) = Σ_xa (n_xa / N) · ln(N · n_xa / (n_x · n_a))       (nats, ≥ 0)

which equals scikit-learn's ``mutual_info_score`` on the same codes. The plug-in
estimate is biased upwards by about ``(B_x − 1)(B_a − 1) / (2N)`` (Miller–Madow;
``B`` the number of distinct codes), which matters for small samples and many
bins, so the **normalised** value subtracts that bias before dividing by the
attribute's entropy ``H(A) = −Σ_a (n_a/N) ln(n_a/N)``::

    normalised_mi = clip((I(X; A) − (B_x − 1)(B_a − 1) / (2N)) / H(A), 0, 1)

— the share of the uncertainty about the attribute that the feature removes
(Theil's uncertainty coefficient, bias-corrected): 0 for independence, 1 when
the feature determines the attribute.

**AUC** of a small classifier predicting the attribute from the feature alone,
cross-validated (computed at the edge, :mod:`trustops.proxies`).

**The combination rule** (:func:`judge`): a feature is a *strong* proxy of an
attribute when ``auc ≥ auc_threshold`` or ``normalised_mi ≥ mi_threshold``; it
is *important* when its share of the model's total importance (for example
mean |SHAP|) is ``≥ importance_share``; it is **flagged** when it is both.
Without importances nothing is flagged: strength alone is reported.

Example:
    >>> x = np.array([0, 0, 1, 1, 2, 2]); a = np.array([0, 0, 1, 1, 1, 1])
    >>> round(mutual_information(x, a), 6), round(entropy(a), 6)
    (0.636514, 0.636514)
    >>> judge(auc=0.9, normalised_mi=0.2, share=0.3,
    ...       auc_threshold=0.7, mi_threshold=0.01, importance_share=0.05)[0]
    True
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from trustops.errors import UsageError

__all__ = [
    "ProxyRecord",
    "ProxyReport",
    "entropy",
    "equal_frequency_codes",
    "importance_shares",
    "judge",
    "mutual_information",
    "normalised_mutual_information",
    "sort_records",
]


def equal_frequency_codes(values: np.ndarray, n_bins: int) -> np.ndarray:
    """Codes ``0..B−1`` of ``values`` in at most ``n_bins`` equal-frequency bins.

    Edges are the sample quantiles at ``k / n_bins`` (``k = 1..n_bins−1``, NumPy's
    linear interpolation); bins are ``(e_{k−1}, e_k]``, so a value equal to an
    edge goes to the bin below it, except that a value where several quantiles
    coincide (a point mass holding a bin's worth of rows or more) gets a bin of
    its own; empty bins are dropped, so there are at most ``n_bins``. With at
    most ``n_bins`` distinct values each value is its own bin.

    Example:
        >>> equal_frequency_codes(np.array([5.0, 1.0, 2.0, 8.0, 3.0, 9.0]), 3).tolist()
        [1, 0, 0, 2, 1, 2]
        >>> equal_frequency_codes(np.array([0, 0, 1, 0, 1]), 10).tolist()
        [0, 0, 1, 0, 1]
        >>> equal_frequency_codes(np.array([0, 0, 0, 0, 0, 1, 2, 3]), 2).tolist()
        [0, 0, 0, 0, 0, 1, 1, 1]
    """
    if n_bins < 2:
        raise UsageError(f"n_bins must be at least 2, got {n_bins}")
    x = np.asarray(values, dtype=np.float64)
    distinct = np.unique(x)
    if len(distinct) <= n_bins:
        return np.searchsorted(distinct, x).astype(np.int64)
    quantiles = np.quantile(x, np.arange(1, n_bins) / n_bins)
    edges, repeats = np.unique(quantiles, return_counts=True)
    # bins (e_k−1, e_k]; an edge where quantiles coincide is a point mass: a bin of its own
    raw = 2 * np.searchsorted(edges, x, side="left") + np.isin(x, edges[repeats > 1])
    return np.unique(raw, return_inverse=True)[1].astype(np.int64)


def _counts(codes: np.ndarray) -> np.ndarray:
    counts = np.bincount(np.asarray(codes, dtype=np.int64))
    return counts[counts > 0]


def entropy(codes: np.ndarray) -> float:
    """Shannon entropy of discrete codes, in nats: ``−Σ p ln p``.

    Example:
        >>> round(entropy(np.array([0, 1, 0, 1])), 6) == round(math.log(2), 6)
        True
    """
    n = _counts(codes)
    p = n / n.sum()
    return float(-(p * np.log(p)).sum())


def _contingency(x: np.ndarray, a: np.ndarray) -> np.ndarray:
    x = np.unique(np.asarray(x, dtype=np.int64), return_inverse=True)[1]
    a = np.unique(np.asarray(a, dtype=np.int64), return_inverse=True)[1]
    ka = int(a.max()) + 1 if len(a) else 1
    kx = int(x.max()) + 1 if len(x) else 1
    return np.bincount(x * ka + a, minlength=kx * ka).reshape(kx, ka)


def mutual_information(x: np.ndarray, a: np.ndarray) -> float:
    """Plug-in mutual information of two code arrays, in nats (see the module docstring).

    Example:
        >>> mutual_information(np.array([0, 1, 0, 1]), np.array([0, 0, 1, 1]))
        0.0
    """
    table = _contingency(x, a).astype(np.float64)
    n = table.sum()
    nx = table.sum(axis=1, keepdims=True)
    na = table.sum(axis=0, keepdims=True)
    nz = table > 0
    expected = (nx @ na)[nz]
    mi = float((table[nz] / n * (np.log(table[nz]) + math.log(n) - np.log(expected))).sum())
    return max(mi, 0.0)


def normalised_mutual_information(x: np.ndarray, a: np.ndarray) -> float:
    """Bias-corrected uncertainty coefficient ``(I − (B_x−1)(B_a−1)/2N) / H(A)``, in [0, 1].

    0 when the attribute ``a`` is constant (there is nothing to predict).

    Example:
        >>> x = np.array([0, 0, 1, 1])  # determines a; the bias correction is 1/(2·4)
        >>> round(normalised_mutual_information(x, x), 4) == round(1 - 0.125 / math.log(2), 4)
        True
    """
    h = entropy(a)
    if h <= 0:
        return 0.0
    table = _contingency(x, a)
    bias = (table.shape[0] - 1) * (table.shape[1] - 1) / (2 * table.sum())
    return float(min(max((mutual_information(x, a) - bias) / h, 0.0), 1.0))


def importance_shares(importance: Mapping[str, float]) -> dict[str, float]:
    """Each feature's share of the total importance: ``importance / Σ importance``.

    Importances must be finite and non-negative (mean |SHAP|, a tree's
    impurity decrease, ...), with a positive total.

    Example:
        >>> importance_shares({"income": 3.0, "zip": 1.0})
        {'income': 0.75, 'zip': 0.25}
    """
    values: dict[str, float] = {}
    for name, value in importance.items():
        try:
            v = float(value)
        except (TypeError, ValueError):
            raise UsageError(f"importance of {name!r} is not a number: {value!r}") from None
        if not math.isfinite(v) or v < 0:
            raise UsageError(
                f"importance of {name!r} must be finite and non-negative, got {v}",
                hint="pass magnitudes such as mean |SHAP|, not signed coefficients",
            )
        values[str(name)] = v
    total = sum(values.values())
    if total <= 0:
        raise UsageError("importances sum to 0: nothing to share out")
    return {name: v / total for name, v in values.items()}


def _cmp(value: float, threshold: float) -> str:
    return "≥" if value >= threshold else "<"


def judge(
    *,
    auc: float,
    normalised_mi: float,
    share: float | None,
    auc_threshold: float,
    mi_threshold: float,
    importance_share: float,
) -> tuple[bool, bool, str]:
    """The combination rule: ``(strong, flagged, reason)`` for one feature and attribute.

    Example:
        >>> judge(auc=0.56, normalised_mi=0.023, share=0.01,
        ...       auc_threshold=0.7, mi_threshold=0.01, importance_share=0.05)
        (True, False, 'strong proxy (AUC 0.560 < 0.70, normalised MI 0.0230 ≥ 0.0100) but not important (share 0.010 < 0.050)')
    """  # noqa: E501
    strong = auc >= auc_threshold or normalised_mi >= mi_threshold
    numbers = (
        f"AUC {auc:.3f} {_cmp(auc, auc_threshold)} {auc_threshold:.2f}, normalised MI "
        f"{normalised_mi:.4f} {_cmp(normalised_mi, mi_threshold)} {mi_threshold:.4f}"
    )
    what = "strong proxy" if strong else "weak proxy"
    if share is None:
        return strong, False, f"{what} ({numbers}); no model importance given: not flagged"
    important = share >= importance_share
    imp = f"share {share:.3f} {_cmp(share, importance_share)} {importance_share:.3f}"
    if strong and important:
        return True, True, f"strong proxy ({numbers}) and important ({imp})"
    if strong:
        return True, False, f"strong proxy ({numbers}) but not important ({imp})"
    return False, False, f"weak proxy ({numbers}); importance {imp}"


@dataclass(frozen=True, slots=True)
class ProxyRecord:
    """How strongly one feature stands in for one protected attribute.

    ``kind`` is ``numeric`` (binned for MI, the classifier sees raw values) or
    ``categorical`` (missing values are their own category); ``bins`` is the
    number of codes MI was computed on; ``auc_by_level`` holds each level's
    one-vs-rest AUC (``auc`` is their macro average for a multi-valued
    attribute); ``importance_share`` is ``None`` when no importance was given.
    """

    column: str
    attribute: str
    kind: str
    bins: int
    mutual_information: float
    normalised_mi: float
    auc: float
    auc_std: float
    auc_by_level: Mapping[str, float]
    importance_share: float | None
    strong: bool
    flagged: bool
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "column": self.column,
            "attribute": self.attribute,
            "kind": self.kind,
            "bins": self.bins,
            "mutual_information": self.mutual_information,
            "normalised_mi": self.normalised_mi,
            "auc": self.auc,
            "auc_std": self.auc_std,
            "auc_by_level": dict(self.auc_by_level),
            "importance_share": self.importance_share,
            "strong": self.strong,
            "flagged": self.flagged,
            "reason": self.reason,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ProxyRecord:
        return cls(**{k: d[k] for k in cls.__slots__})

    def sort_key(self) -> tuple[Any, ...]:
        """Flagged first, then the strongest (AUC, then normalised MI), then by name."""
        return (not self.flagged, -self.auc, -self.normalised_mi, self.column, self.attribute)


@dataclass(frozen=True, slots=True)
class ProxyReport:
    """Proxy evidence: one :class:`ProxyRecord` per feature and protected attribute.

    ``records`` are in :meth:`ProxyRecord.sort_key` order; ``flagged`` lists the
    flagged features (each once, in that order).
    """

    records: tuple[ProxyRecord, ...]
    attributes: tuple[str, ...]
    n_rows: int
    importance_given: bool
    thresholds: Mapping[str, float]
    method: Mapping[str, Any] = field(default_factory=dict)

    @property
    def flagged(self) -> list[str]:
        out: list[str] = []
        for r in self.records:
            if r.flagged and r.column not in out:
                out.append(r.column)
        return out

    @property
    def note(self) -> str | None:
        if self.importance_given:
            return None
        return "no model importance given: proxy strength only, no feature is flagged"

    def record(self, column: str, attribute: str) -> ProxyRecord:
        """The record of ``column`` as a proxy of ``attribute`` (KeyError if absent)."""
        for r in self.records:
            if r.column == column and r.attribute == attribute:
                return r
        raise KeyError((column, attribute))

    def to_dict(self) -> dict[str, Any]:
        """Evidence JSON, ``kind: "proxies"`` (docs/proxies.md lists the keys)."""
        return {
            "kind": "proxies",
            "n_rows": self.n_rows,
            "attributes": list(self.attributes),
            "importance_given": self.importance_given,
            "thresholds": dict(self.thresholds),
            "method": dict(self.method),
            "note": self.note,
            "features": [r.to_dict() for r in self.records],
            "flagged": self.flagged,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ProxyReport:
        return cls(
            records=tuple(ProxyRecord.from_dict(r) for r in d["features"]),
            attributes=tuple(d["attributes"]),
            n_rows=int(d["n_rows"]),
            importance_given=bool(d["importance_given"]),
            thresholds=dict(d["thresholds"]),
            method=dict(d.get("method") or {}),
        )


def sort_records(records: Sequence[ProxyRecord]) -> tuple[ProxyRecord, ...]:
    """``records`` in report order (:meth:`ProxyRecord.sort_key`)."""
    return tuple(sorted(records, key=ProxyRecord.sort_key))
