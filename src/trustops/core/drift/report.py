"""Drift results as evidence: a :class:`ColumnDrift` per column, gathered in a :class:`DriftReport`.

``DriftReport.to_dict()`` is the stable JSON shape the CLI prints and the
policy engine reads::

    {"kind": "drift", "mode": "profile", "method": "auto",
     "columns": [{"column", "kind", "role", "method", "statistic", "p_value",
                  "threshold", "drift_detected", ...}],
     "share_drifted": 0.2, "drift_share": 0.5, "dataset_drift": false,
     "prediction_drift": {...} | null, "target_drift": {...} | null}

``drift_detected`` is ``None`` (and ``note`` says why) for a column that
could not be compared, e.g. one with no values in either sample.

Example:
    >>> c = ColumnDrift("age", "numeric", "psi", 0.31, None, 0.1, True)
    >>> r = DriftReport((c,), mode="profile", method="auto")
    >>> r.share_drifted, r.dataset_drift, r.drifted_columns
    (1.0, True, ['age'])
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

__all__ = ["METHODS", "ColumnDrift", "DriftReport"]

#: Method names accepted by ``detect_drift`` (``auto`` picks one per column).
METHODS = ("auto", "psi", "ks", "chi2", "z", "jensenshannon", "wasserstein", "hellinger", "kl")

#: Methods whose statistic is a p-value test (drift when p < threshold).
TESTS = ("ks", "chi2", "z")


def _finite(x: float | None) -> float | None:
    if x is None or math.isnan(x):
        return None
    if math.isinf(x):
        return x  # kept: to_dict turns it into a string
    return float(x)


def _json_number(x: float | None) -> float | str | None:
    if x is None:
        return None
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return x


@dataclass(frozen=True, slots=True)
class ColumnDrift:
    """The drift verdict of one column.

    Attributes:
        column: the column's name.
        kind: ``numeric``, ``datetime``, ``categorical``, ``boolean`` ...
        method: the statistic used (one of :data:`METHODS` minus ``auto``, or a
            peer's name in a compatibility mode).
        statistic: the distance or test statistic (``None`` if not computed).
        p_value: the p-value for tests (``ks``, ``chi2``, ``z``), else ``None``.
        threshold: drift when ``p_value < threshold`` (tests) or
            ``statistic ≥ threshold`` (distances).
        drift_detected: the verdict, or ``None`` when the column could not be compared.
        role: ``feature``, ``prediction`` or ``target``.
        bounds: ``(lower, upper)`` of the true statistic when it comes from
            histograms or sketches (KS), else ``None``.
        reference_count, current_count: the values compared on each side.
        note: why a column was not compared, or how the number was obtained.
    """

    column: str
    kind: str
    method: str
    statistic: float | None
    p_value: float | None
    threshold: float | None
    drift_detected: bool | None
    role: str = "feature"
    bounds: tuple[float, float] | None = None
    reference_count: int | None = None
    current_count: int | None = None
    note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary (infinite statistics as the strings ``"inf"``)."""
        return {
            "column": self.column,
            "kind": self.kind,
            "role": self.role,
            "method": self.method,
            "statistic": _json_number(_finite(self.statistic)),
            "p_value": _json_number(_finite(self.p_value)),
            "threshold": self.threshold,
            "drift_detected": self.drift_detected,
            "bounds": list(self.bounds) if self.bounds is not None else None,
            "reference_count": self.reference_count,
            "current_count": self.current_count,
            "note": self.note,
        }

    @staticmethod
    def from_dict(d: dict[str, Any]) -> ColumnDrift:
        def num(x: Any) -> float | None:
            return None if x is None else float(x)

        return ColumnDrift(
            column=d["column"],
            kind=d["kind"],
            method=d["method"],
            statistic=num(d.get("statistic")),
            p_value=num(d.get("p_value")),
            threshold=d.get("threshold"),
            drift_detected=d.get("drift_detected"),
            role=d.get("role", "feature"),
            bounds=tuple(d["bounds"]) if d.get("bounds") is not None else None,
            reference_count=d.get("reference_count"),
            current_count=d.get("current_count"),
            note=d.get("note"),
        )


@dataclass(frozen=True, slots=True)
class DriftReport:
    """Drift of every compared column, and the dataset-level verdict.

    ``share_drifted`` is the share of *feature* columns with
    ``drift_detected`` true among those that could be compared;
    ``dataset_drift`` is ``share_drifted ≥ drift_share`` (Evidently's rule,
    default 0.5). Prediction and target columns are reported on their own.
    """

    columns: tuple[ColumnDrift, ...]
    mode: str = "profile"
    method: str = "auto"
    drift_share: float = 0.5
    reference_rows: int | None = None
    current_rows: int | None = None
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def features(self) -> list[ColumnDrift]:
        return [c for c in self.columns if c.role == "feature"]

    @property
    def share_drifted(self) -> float:
        compared = [c for c in self.features if c.drift_detected is not None]
        if not compared:
            return 0.0
        return sum(1 for c in compared if c.drift_detected) / len(compared)

    @property
    def dataset_drift(self) -> bool:
        return bool(self.features) and self.share_drifted >= self.drift_share

    @property
    def drifted_columns(self) -> list[str]:
        return [c.column for c in self.columns if c.drift_detected]

    def _role(self, role: str) -> ColumnDrift | None:
        return next((c for c in self.columns if c.role == role), None)

    @property
    def prediction_drift(self) -> ColumnDrift | None:
        return self._role("prediction")

    @property
    def target_drift(self) -> ColumnDrift | None:
        return self._role("target")

    def column(self, name: str) -> ColumnDrift:
        """The result for one column (``KeyError`` if it was not compared)."""
        for c in self.columns:
            if c.column == name:
                return c
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        """The evidence record (see the module docstring)."""
        pred, target = self.prediction_drift, self.target_drift
        return {
            "kind": "drift",
            "mode": self.mode,
            "method": self.method,
            "reference_rows": self.reference_rows,
            "current_rows": self.current_rows,
            "columns": [c.to_dict() for c in self.columns],
            "drifted_columns": self.drifted_columns,
            "share_drifted": self.share_drifted,
            "drift_share": self.drift_share,
            "dataset_drift": self.dataset_drift,
            "prediction_drift": pred.to_dict() if pred is not None else None,
            "target_drift": target.to_dict() if target is not None else None,
            **({"details": self.details} if self.details else {}),
        }

    @staticmethod
    def from_dict(d: dict[str, Any]) -> DriftReport:
        return DriftReport(
            tuple(ColumnDrift.from_dict(c) for c in d["columns"]),
            mode=d.get("mode", "profile"),
            method=d.get("method", "auto"),
            drift_share=d.get("drift_share", 0.5),
            reference_rows=d.get("reference_rows"),
            current_rows=d.get("current_rows"),
            details=d.get("details", {}),
        )
