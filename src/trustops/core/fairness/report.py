"""The fairness report: frozen results with every disparity convention on demand.

A :class:`FairnessReport` (built by :func:`trustops.core.fairness.build_report`)
holds the groups of each breakdown with their metrics and intervals, the
disparities, four-fifths rows and the AIF360 privileged comparison. Top-level
disparities with several breakdowns are the worst case over them (largest
difference, smallest ratio); each breakdown keeps its own.

Example:
    >>> import numpy as np
    >>> from trustops.core.fairness import build_report, count_classification
    >>> counts = count_classification([np.array([0, 0, 1, 1])], [("a", "b")], ("sf",),
    ...     np.array([0, 1, 0, 1]), np.array([0, 0, 0, 1]), 2)
    >>> report = build_report(counts)
    >>> report.difference("selection_rate"), report.ratio("selection_rate")
    (0.5, 0.0)
    >>> report.difference("selection_rate", method="to_overall")
    0.25
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from trustops.core.fairness.counts import GroupCounts
from trustops.errors import UnknownMetricError, UsageError

__all__ = [
    "Breakdown",
    "FairnessReport",
    "GroupResult",
    "PrivilegedComparison",
    "UndefinedValue",
    "optional_float",
    "optional_interval",
]

Interval = tuple[float | None, float | None]
METHODS = ("between_groups", "to_overall", "to_reference", "privileged")


def optional_float(x: Any) -> float | None:
    """A float, or ``None`` for NaN or ±inf (how undefined values leave the core)."""
    x = float(x)
    return x if np.isfinite(x) else None


def optional_interval(lo: Any, hi: Any) -> Interval:
    return (optional_float(lo), optional_float(hi))


@dataclass(frozen=True, slots=True)
class UndefinedValue:
    """A value that has no definition on this data, and why."""

    metric: str
    reason: str
    group: Mapping[str, Any] | None = None
    scope: str = "group"  # "group", "overall", "disparity" or "privileged"

    def to_dict(self) -> dict[str, Any]:
        return {
            "metric": self.metric,
            "scope": self.scope,
            "group": dict(self.group) if self.group is not None else None,
            "reason": self.reason,
        }


@dataclass(frozen=True, slots=True)
class GroupResult:
    """One group's metrics, with intervals (``"wilson"`` and/or ``"bootstrap"``)."""

    group: Mapping[str, Any]
    count: int
    included: bool
    metrics: Mapping[str, float | None]
    intervals: Mapping[str, Mapping[str, Interval]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "group": dict(self.group),
            "count": self.count,
            "included": self.included,
            **{k: v for k, v in self.metrics.items() if k != "count"},
        }


@dataclass(frozen=True, slots=True)
class Breakdown:
    """Groups of one breakdown (one attribute, or an intersection) and their disparities."""

    attributes: tuple[str, ...]
    groups: tuple[GroupResult, ...]
    reference: Mapping[str, Any] | None
    disparities: Mapping[str, Mapping[str, float | None]]
    disparity_intervals: Mapping[str, Mapping[str, Interval]]
    four_fifths: tuple[Mapping[str, Any], ...]
    inequality: Mapping[str, float | None]

    @property
    def name(self) -> str:
        return " × ".join(self.attributes)


@dataclass(frozen=True, slots=True)
class PrivilegedComparison:
    """AIF360's convention: unprivileged (every other row, pooled) against privileged.

    ``difference[m] = m(unprivileged) − m(privileged)``;
    ``ratio[m] = m(unprivileged) / m(privileged)`` (signed, may exceed 1).
    """

    privileged: Mapping[str, Any]
    privileged_count: int
    unprivileged_count: int
    privileged_metrics: Mapping[str, float | None]
    unprivileged_metrics: Mapping[str, float | None]
    difference: Mapping[str, float | None]
    ratio: Mapping[str, float | None]
    intervals: Mapping[str, Mapping[str, Interval]]

    def to_dict(self) -> dict[str, Any]:
        return {
            "privileged": dict(self.privileged),
            "privileged_count": self.privileged_count,
            "unprivileged_count": self.unprivileged_count,
            "privileged_metrics": dict(self.privileged_metrics),
            "unprivileged_metrics": dict(self.unprivileged_metrics),
            "difference": dict(self.difference),
            "ratio": dict(self.ratio),
        }


@dataclass(frozen=True, slots=True)
class FairnessReport:
    """Group metrics, disparities, four-fifths tests and intervals for one assessment.

    Use :meth:`difference` and :meth:`ratio` for a disparity in a chosen
    convention, :attr:`by_group` for the groups, :meth:`to_dict` for JSON.
    """

    task: str
    pos_label: Any
    attributes: tuple[str, ...]
    intersectional: bool
    metrics: tuple[str, ...]
    overall: Mapping[str, float | None]
    breakdowns: tuple[Breakdown, ...]
    privileged: PrivilegedComparison | None
    undefined: tuple[UndefinedValue, ...]
    min_group_size: int
    confidence: float
    bootstrap: int
    seed: int | None
    counts: GroupCounts = field(repr=False)
    four_fifths_threshold: float = 0.8

    @property
    def by_group(self) -> tuple[GroupResult, ...]:
        return tuple(g for b in self.breakdowns for g in b.groups)

    @property
    def small_groups(self) -> tuple[GroupResult, ...]:
        """Groups with rows but fewer than ``min_group_size``: reported, not compared."""
        return tuple(g for g in self.by_group if not g.included and g.count > 0)

    @property
    def empty_groups(self) -> tuple[GroupResult, ...]:
        """Combinations with no rows (intersectional breakdowns list every combination)."""
        return tuple(g for g in self.by_group if g.count == 0)

    def check_metric(self, metric: str) -> None:
        """Raise :class:`UnknownMetricError`, listing known names, unless ``metric`` exists."""
        if metric not in self.metrics or metric == "count":
            raise UnknownMetricError(metric, known=[m for m in self.metrics if m != "count"])

    def _breakdowns(self, attribute: str | None) -> tuple[Breakdown, ...]:
        if attribute is None:
            return self.breakdowns
        chosen = tuple(b for b in self.breakdowns if attribute in (b.name, *b.attributes))
        if not chosen:
            raise UsageError(
                f"no breakdown by attribute {attribute!r}",
                hint=f"attributes: {', '.join(self.attributes)}",
            )
        return chosen

    def _disparity(
        self, kind: str, metric: str, method: str, attribute: str | None
    ) -> float | None:
        self.check_metric(metric)
        if method not in METHODS:
            raise UsageError(f"unknown method {method!r}", hint=f"one of {', '.join(METHODS)}")
        if method == "privileged":
            if self.privileged is None:
                raise UsageError(
                    "method 'privileged' needs a privileged group",
                    hint="pass privileged={'attribute': value}",
                )
            table = self.privileged.difference if kind == "difference" else self.privileged.ratio
            return table.get(metric)
        key = kind if method == "between_groups" else f"{kind}_{method}"
        values = [b.disparities[metric].get(key) for b in self._breakdowns(attribute)]
        if method == "to_reference" and all(
            b.reference is None for b in self._breakdowns(attribute)
        ):
            raise UsageError(
                "method 'to_reference' needs a reference group",
                hint="pass reference={'attribute': value} or privileged=...",
            )
        defined = [v for v in values if v is not None]
        if not defined:
            return None
        return max(defined) if kind == "difference" else min(defined)

    def difference(
        self, metric: str, method: str = "between_groups", *, attribute: str | None = None
    ) -> float | None:
        """Difference of ``metric`` between groups.

        ``method``: ``"between_groups"`` (max − min, Fairlearn), ``"to_overall"``
        (max |m_g − overall|, Fairlearn), ``"to_reference"`` (max |m_g − m_ref|)
        or ``"privileged"`` (AIF360: unprivileged − privileged, signed).
        ``None`` when undefined (see :attr:`undefined`).
        """
        return self._disparity("difference", metric, method, attribute)

    def ratio(
        self, metric: str, method: str = "between_groups", *, attribute: str | None = None
    ) -> float | None:
        """Ratio of ``metric`` between groups (min/max, Fairlearn's ``to_overall``,
        to a reference group, or AIF360's unprivileged / privileged)."""
        return self._disparity("ratio", metric, method, attribute)

    @property
    def aggregates(self) -> dict[str, float | None]:
        """Named fairness aggregates, each in the convention its name comes from."""
        out: dict[str, float | None] = {}
        if self.task != "binary":
            return out
        tpr_d, fpr_d = self.difference("true_positive_rate"), self.difference("false_positive_rate")
        tpr_r, fpr_r = self.ratio("true_positive_rate"), self.ratio("false_positive_rate")
        out["demographic_parity_difference"] = self.difference("selection_rate")
        out["demographic_parity_ratio"] = self.ratio("selection_rate")
        out["equalized_odds_difference"] = (
            None if tpr_d is None or fpr_d is None else max(tpr_d, fpr_d)
        )
        out["equalized_odds_ratio"] = None if tpr_r is None or fpr_r is None else min(tpr_r, fpr_r)
        out["equal_opportunity_difference"] = tpr_d
        out["equal_opportunity_ratio"] = tpr_r
        out["predictive_parity_difference"] = self.difference("precision")
        out["theil_index"] = self.overall.get("theil_index")
        out["generalized_entropy_index"] = self.overall.get("generalized_entropy_index")
        if self.privileged is not None:
            d = self.privileged.difference
            out["statistical_parity_difference"] = d.get("selection_rate")
            out["disparate_impact"] = self.privileged.ratio.get("selection_rate")
            out["aif360_equal_opportunity_difference"] = d.get("true_positive_rate")
            fd, td = d.get("false_positive_rate"), d.get("true_positive_rate")
            both = fd is not None and td is not None
            out["average_odds_difference"] = 0.5 * (fd + td) if both else None  # type: ignore[operator]
            out["average_abs_odds_difference"] = 0.5 * (abs(fd) + abs(td)) if both else None  # type: ignore[arg-type]
            out["aif360_predictive_parity_difference"] = d.get("precision")
        return out

    @property
    def intervals(self) -> dict[str, Any]:
        """Intervals: per group and metric, per disparity, and for the AIF360 comparison."""
        return {
            "confidence": self.confidence,
            "bootstrap_resamples": self.bootstrap,
            "by_group": [
                {
                    "group": dict(g.group),
                    "metrics": {
                        m: {k: list(v) for k, v in iv.items()} for m, iv in g.intervals.items()
                    },
                }
                for g in self.by_group
            ],
            "disparities": {
                b.name: {
                    m: {k: list(v) for k, v in kinds.items()}
                    for m, kinds in b.disparity_intervals.items()
                }
                for b in self.breakdowns
            },
            "privileged": (
                {
                    m: {k: list(v) for k, v in kinds.items()}
                    for m, kinds in self.privileged.intervals.items()
                }
                if self.privileged is not None
                else {}
            ),
        }

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict with stable keys (documented in docs/fairness.md)."""
        disparities: dict[str, dict[str, float | None]] = {}
        for metric in self.metrics:
            if metric == "count":
                continue
            entry: dict[str, float | None] = {
                "difference": self.difference(metric),
                "ratio": self.ratio(metric),
                "difference_to_overall": self.difference(metric, "to_overall"),
                "ratio_to_overall": self.ratio(metric, "to_overall"),
            }
            if any(b.reference is not None for b in self.breakdowns):
                entry["difference_to_reference"] = self.difference(metric, "to_reference")
                entry["ratio_to_reference"] = self.ratio(metric, "to_reference")
            if self.privileged is not None:
                entry["difference_unprivileged_minus_privileged"] = self.privileged.difference.get(
                    metric
                )
                entry["ratio_unprivileged_to_privileged"] = self.privileged.ratio.get(metric)
            disparities[metric] = entry
        return {
            "task": self.task,
            "pos_label": self.pos_label.item()
            if isinstance(self.pos_label, np.generic)
            else self.pos_label,
            "sensitive": list(self.attributes),
            "intersectional": self.intersectional,
            "min_group_size": self.min_group_size,
            "four_fifths_threshold": self.four_fifths_threshold,
            "n_rows": self.counts.n_rows,
            "overall": dict(self.overall),
            "by_group": [g.to_dict() for g in self.by_group],
            "disparities": disparities,
            "aggregates": self.aggregates,
            "four_fifths": [
                {"attributes": list(b.attributes), **row}
                for b in self.breakdowns
                for row in b.four_fifths
            ],
            "by_attribute": {
                b.name: {
                    "reference": dict(b.reference) if b.reference is not None else None,
                    "disparities": {m: dict(v) for m, v in b.disparities.items()},
                    "inequality": dict(b.inequality),
                }
                for b in self.breakdowns
            },
            "privileged": self.privileged.to_dict() if self.privileged is not None else None,
            "small_groups": [dict(g.group) for g in self.small_groups],
            "empty_groups": [dict(g.group) for g in self.empty_groups],
            "undefined": [u.to_dict() for u in self.undefined],
            "intervals": self.intervals,
        }
