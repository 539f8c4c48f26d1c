"""The fairness report: every number from one count table, with intervals.

:func:`build_report` takes a :class:`GroupCounts` table and returns a frozen
:class:`FairnessReport`. With several sensitive attributes each is broken down
on its own (the table summed over the others); with ``intersectional=True``
the groups are every combination of their values instead. Top-level
disparities with several breakdowns are the worst case over them (largest
difference, smallest ratio); each breakdown keeps its own.

Example:
    >>> import numpy as np
    >>> from trustops.core.fairness.counts import count_classification
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
from trustops.core.fairness.disparities import DISPARITY_KINDS, disparity_values
from trustops.core.fairness.four_fifths import four_fifths_rows
from trustops.core.fairness.groups import metric_names, table_metrics, undefined_reason
from trustops.core.fairness.intervals import (
    bootstrap_tables,
    percentile_interval,
    wilson_interval,
)
from trustops.core.fairness.metrics import (
    BINARY_METRICS,
    between_group_entropy,
    divide,
    score_metric_values,
)
from trustops.errors import UnknownMetricError, UnsupportedError, UsageError

__all__ = [
    "Breakdown",
    "FairnessReport",
    "GroupResult",
    "PrivilegedComparison",
    "UndefinedValue",
    "build_report",
]

Interval = tuple[float | None, float | None]
METHODS = ("between_groups", "to_overall", "to_reference", "privileged")


def _py(x: Any) -> float | None:
    x = float(x)
    return None if np.isnan(x) else x


def _interval(lo: Any, hi: Any) -> Interval:
    return (_py(lo), _py(hi))


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

    @property
    def by_group(self) -> tuple[GroupResult, ...]:
        return tuple(g for b in self.breakdowns for g in b.groups)

    @property
    def small_groups(self) -> tuple[GroupResult, ...]:
        """Groups below ``min_group_size``: reported, but left out of disparities."""
        return tuple(g for g in self.by_group if not g.included)

    def _check_metric(self, metric: str) -> None:
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
        self._check_metric(metric)
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
            "pos_label": self.pos_label,
            "sensitive": list(self.attributes),
            "intersectional": self.intersectional,
            "min_group_size": self.min_group_size,
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
            "undefined": [u.to_dict() for u in self.undefined],
            "intervals": self.intervals,
        }


# --- building -------------------------------------------------------------


def _match(counts: GroupCounts, spec: Mapping[str, Any], role: str) -> np.ndarray:
    """Boolean mask over flat groups of ``counts`` matching every ``attr=value`` of ``spec``."""
    mask = np.ones(counts.group_shape, dtype=bool)
    for attr, value in spec.items():
        if attr not in counts.attributes:
            raise UsageError(
                f"{role} attribute {attr!r} is not a sensitive attribute",
                hint=f"sensitive attributes: {', '.join(counts.attributes)}",
            )
        axis = counts.attributes.index(attr)
        levels = counts.levels[axis]
        matches = [i for i, lv in enumerate(levels) if lv == value or str(lv) == str(value)]
        if not matches:
            shown = ", ".join(str(lv) for lv in levels)
            raise UsageError(
                f"{role} value {value!r} not found in attribute {attr!r}", hint=f"values: {shown}"
            )
        sel = np.zeros(len(levels), dtype=bool)
        sel[matches] = True
        shape = [1] * len(counts.attributes)
        shape[axis] = len(levels)
        mask &= sel.reshape(shape)
    return mask.reshape(-1)


def _flat_metrics(
    counts: GroupCounts, rows: np.ndarray, weights: np.ndarray, regression: np.ndarray | None
) -> dict[str, np.ndarray]:
    return table_metrics(counts.task, counts.classes, rows, weights, regression=regression)


def _sum_groups(x: np.ndarray, mask: np.ndarray, conf_axes: int) -> np.ndarray:
    """Sum a (..., G, *conf) array over the groups selected by ``mask``."""
    axis = x.ndim - conf_axes - 1
    return np.compress(mask, x, axis=axis).sum(axis=axis)


def build_report(
    counts: GroupCounts,
    *,
    pos_label: Any = 1,
    intersectional: bool = False,
    privileged: Mapping[str, Any] | None = None,
    reference: Mapping[str, Any] | None = None,
    min_group_size: int = 1,
    bootstrap: int = 0,
    seed: int | None = None,
    confidence: float = 0.95,
    four_fifths_threshold: float = 0.8,
) -> FairnessReport:
    """Compute a :class:`FairnessReport` from a count table (no rows needed)."""
    if not 0 < confidence < 1:
        raise UsageError(f"confidence must be in (0, 1), got {confidence}")
    if bootstrap < 0:
        raise UsageError(f"bootstrap must be >= 0, got {bootstrap}")
    if bootstrap and counts.task == "regression":
        raise UnsupportedError(
            "bootstrap intervals are computed from classification count tables; "
            "regression is not supported yet"
        )
    task, attrs = counts.task, counts.attributes
    names = metric_names(task, counts.classes, with_scores=counts.scores is not None)
    if privileged is not None:
        _match(counts, privileged, "privileged")  # fail early, naming the role given
    if reference is not None:
        _match(counts, reference, "reference")
    reference = reference if reference is not None else privileged
    undefined: list[UndefinedValue] = []

    boot = bootstrap_tables(counts.rows, counts.weights, bootstrap, seed) if bootstrap else None

    plans = [attrs] if intersectional or len(attrs) == 1 else [(a,) for a in attrs]

    # overall
    total_rows = counts.rows.reshape(-1, *counts.rows.shape[len(attrs) :]).sum(axis=0)
    total_w = counts.weights.reshape(-1, *counts.weights.shape[len(attrs) :]).sum(axis=0)
    total_reg = (
        counts.regression.sum_over(tuple(range(len(attrs)))).values
        if counts.regression is not None
        else None
    )
    overall_arr = _flat_metrics(counts, total_rows, total_w, total_reg)
    if counts.scores is not None:
        zero = np.zeros(int(np.prod(counts.group_shape)), dtype=np.int64)
        for k, per_group in score_metric_values(counts.scores.regroup(zero), 1).items():
            overall_arr[k] = per_group[0]
    overall = {m: _py(overall_arr[m]) for m in names}
    for m, value in overall.items():
        if value is None:
            undefined.append(UndefinedValue(m, undefined_reason(m), None, "overall"))
    boot_overall = None
    if boot is not None:
        b_rows = boot[0].reshape(bootstrap, -1, *counts.rows.shape[len(attrs) :]).sum(axis=1)
        b_w = boot[1].reshape(bootstrap, -1, *counts.rows.shape[len(attrs) :]).sum(axis=1)
        boot_overall = _flat_metrics(counts, b_rows, b_w, None)

    breakdowns = []
    for plan in plans:
        sub = counts.marginal(plan)
        rows, weights = sub.flat()
        reg = (
            sub.regression.values.reshape(-1, sub.regression.values.shape[-1])
            if sub.regression is not None
            else None
        )
        values = _flat_metrics(counts, rows, weights, reg)
        if sub.scores is not None:
            values.update(score_metric_values(sub.scores, rows.shape[0]))
        labels = sub.group_labels()
        n_per_group = values["count"].astype(np.int64)
        include = n_per_group >= max(min_group_size, 1)
        ref_index = None
        ref_spec = None
        if reference is not None and all(a in reference for a in plan):
            ref_spec = {a: reference[a] for a in plan}
            ref_mask = _match(sub, ref_spec, "reference")
            ref_index = int(np.flatnonzero(ref_mask)[0])

        boot_values = None
        if boot is not None:
            drop = tuple(1 + i for i, a in enumerate(attrs) if a not in plan)
            br, bw = boot[0].sum(axis=drop), boot[1].sum(axis=drop)
            br = br.reshape(bootstrap, -1, *br.shape[1 + len(plan) :])
            bw = bw.reshape(bootstrap, -1, *bw.shape[1 + len(plan) :])
            boot_values = _flat_metrics(counts, br, bw, None)

        group_results = []
        for gi, label in enumerate(labels):
            group = dict(zip(plan, label, strict=True))
            metric_values = {m: _py(values[m][gi]) for m in names}
            ivs: dict[str, dict[str, Interval]] = {}
            for m in names:
                spec = BINARY_METRICS.get(m) if task == "binary" else None
                if spec is not None and spec.proportion:
                    lo, hi = wilson_interval(
                        spec.numerator(rows[gi]), spec.denominator(rows[gi]), confidence
                    )
                    ivs.setdefault(m, {})["wilson"] = _interval(lo, hi)
                if boot_values is not None and m in boot_values and m != "count":
                    lo, hi = percentile_interval(boot_values[m][:, gi], confidence)
                    ivs.setdefault(m, {})["bootstrap"] = _interval(lo, hi)
                if metric_values[m] is None:
                    undefined.append(UndefinedValue(m, undefined_reason(m), group))
            group_results.append(
                GroupResult(group, int(n_per_group[gi]), bool(include[gi]), metric_values, ivs)
            )

        disparities: dict[str, dict[str, float | None]] = {}
        disparity_ivs: dict[str, dict[str, Interval]] = {}
        for m in names:
            if m == "count":
                continue
            usable = include & ~np.isnan(values[m])
            d = disparity_values(values[m], overall_arr[m], include=include, reference=ref_index)
            entry = {k: _py(v) for k, v in d.items()}
            if usable.sum() < 2:
                why = (
                    "only one group has a value; nothing to compare"
                    if usable.sum() == 1
                    else "no group has a value"
                )
                for k in entry:
                    if not k.endswith("_overall"):
                        entry[k] = None
                        undefined.append(
                            UndefinedValue(
                                m, why, {"breakdown": " × ".join(plan), "disparity": k}, "disparity"
                            )
                        )
            for k, dvalue in entry.items():
                if dvalue is None and usable.sum() >= 2:
                    undefined.append(
                        UndefinedValue(
                            m,
                            "denominator is 0" if k.startswith("ratio") else "no value to compare",
                            {"breakdown": " × ".join(plan), "disparity": k},
                            "disparity",
                        )
                    )
            disparities[m] = entry
            if boot_values is not None and boot_overall is not None and m in boot_values:
                bd = disparity_values(
                    boot_values[m], boot_overall[m], include=include, reference=ref_index
                )
                disparity_ivs[m] = {
                    k: _interval(*percentile_interval(v, confidence))
                    for k, v in bd.items()
                    if k in DISPARITY_KINDS
                }

        four_fifths: list[dict[str, Any]] = []
        if task == "binary":
            selected = rows[:, 0, 1] + rows[:, 1, 1]
            for gi, row in enumerate(
                four_fifths_rows(
                    selected,
                    n_per_group,
                    values["selection_rate"],
                    threshold=four_fifths_threshold,
                    include=include,
                )
            ):
                four_fifths.append({"group": dict(zip(plan, labels[gi], strict=True)), **row})
        inequality: dict[str, float | None] = {}
        if task == "binary":
            inequality = {
                "between_group_theil_index": _py(between_group_entropy(rows, 1.0)),
                "between_group_generalized_entropy_index": _py(between_group_entropy(rows, 2.0)),
            }
        breakdowns.append(
            Breakdown(
                plan,
                tuple(group_results),
                ref_spec,
                disparities,
                disparity_ivs,
                tuple(four_fifths),
                inequality,
            )
        )

    comparison = None
    if privileged is not None:
        comparison = _privileged_comparison(counts, privileged, names, undefined, boot, confidence)

    return FairnessReport(
        task=task,
        pos_label=pos_label,
        attributes=attrs,
        intersectional=intersectional,
        metrics=tuple(names),
        overall=overall,
        breakdowns=tuple(breakdowns),
        privileged=comparison,
        undefined=tuple(undefined),
        min_group_size=min_group_size,
        confidence=confidence,
        bootstrap=bootstrap,
        seed=seed,
        counts=counts,
    )


def _privileged_comparison(
    counts: GroupCounts,
    privileged: Mapping[str, Any],
    names: list[str],
    undefined: list[UndefinedValue],
    boot: tuple[np.ndarray, np.ndarray] | None,
    confidence: float,
) -> PrivilegedComparison:
    if counts.task == "regression":
        raise UnsupportedError("the privileged/unprivileged comparison needs a classification task")
    mask = _match(counts, privileged, "privileged")
    rows, weights = counts.flat()
    conf = rows.ndim - 1
    pr, pw = _sum_groups(rows, mask, conf), _sum_groups(weights, mask, conf)
    ur, uw = _sum_groups(rows, ~mask, conf), _sum_groups(weights, ~mask, conf)
    pm = _flat_metrics(counts, pr, pw, None)
    um = _flat_metrics(counts, ur, uw, None)
    diff = {m: _py(um[m] - pm[m]) for m in names if m in pm and m != "count"}
    ratio = {m: _py(divide(um[m], pm[m])) for m in names if m in pm and m != "count"}
    for m in diff:
        if diff[m] is None or ratio[m] is None:
            why = (
                "undefined for the privileged or unprivileged group"
                if diff[m] is None
                else "privileged group's value is 0"
            )
            undefined.append(UndefinedValue(m, why, dict(privileged), "privileged"))
    ivs: dict[str, dict[str, Interval]] = {}
    if boot is not None:
        n_boot = boot[0].shape[0]
        br = boot[0].reshape(n_boot, -1, *rows.shape[1:])
        bw = boot[1].reshape(n_boot, -1, *rows.shape[1:])
        bpm = _flat_metrics(counts, _sum_groups(br, mask, conf), _sum_groups(bw, mask, conf), None)
        bum = _flat_metrics(
            counts, _sum_groups(br, ~mask, conf), _sum_groups(bw, ~mask, conf), None
        )
        for m in diff:
            ivs[m] = {
                "difference": _interval(*percentile_interval(bum[m] - bpm[m], confidence)),
                "ratio": _interval(*percentile_interval(divide(bum[m], bpm[m]), confidence)),
            }
    return PrivilegedComparison(
        privileged=dict(privileged),
        privileged_count=int(pr.sum()),
        unprivileged_count=int(ur.sum()),
        privileged_metrics={m: _py(pm[m]) for m in names if m in pm},
        unprivileged_metrics={m: _py(um[m]) for m in names if m in um},
        difference=diff,
        ratio=ratio,
        intervals=ivs,
    )
