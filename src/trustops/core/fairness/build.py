"""Building a :class:`FairnessReport` from a count table.

:func:`build_report` takes a :class:`GroupCounts` table and computes every
group metric, disparity, four-fifths row and interval from it — never from
rows. With several sensitive attributes each is broken down on its own (the
table summed over the others); with ``intersectional=True`` the groups are
every combination of their values instead.

Example:
    >>> import numpy as np
    >>> from trustops.core.fairness.counts import count_classification
    >>> counts = count_classification([np.array([0, 0, 1, 1])], [("a", "b")], ("sf",),
    ...     np.array([0, 1, 0, 1]), np.array([0, 0, 0, 1]), 2)
    >>> build_report(counts).difference("selection_rate")
    0.5
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from trustops.core.fairness.counts import REG_N, REG_W, GroupCounts, RegressionSums
from trustops.core.fairness.disparities import disparity_values
from trustops.core.fairness.four_fifths import four_fifths_rows
from trustops.core.fairness.groups import metric_names, table_metrics, undefined_reason
from trustops.core.fairness.intervals import (
    SCORE_BOOTSTRAP_BUDGET,
    bootstrap_score_metrics,
    bootstrap_tables,
    percentile_interval,
    wilson_interval,
)
from trustops.core.fairness.metrics import (
    BINARY_METRICS,
    RateSpec,
    between_group_entropy,
    divide,
    score_metric_values,
)
from trustops.core.fairness.report import (
    Breakdown,
    FairnessReport,
    GroupResult,
    Interval,
    PrivilegedComparison,
    UndefinedValue,
    optional_float,
    optional_interval,
)
from trustops.errors import UnsupportedError, UsageError

__all__ = ["EMPTY_GROUP", "MAX_BOOTSTRAP_CELLS", "build_report"]

EMPTY_GROUP = "empty group: no rows, so every metric is undefined"

MAX_BOOTSTRAP_CELLS = 200_000_000
"""Resamples × count-table cells the bootstrap may draw (about 1.6 GB of counts)."""


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
        # Exact first; text given on a command line ("race=1") matches a level by its text.
        matches = [i for i, lv in enumerate(levels) if lv == value and lv is not None]
        if value is None:
            matches = [i for i, lv in enumerate(levels) if lv is None]
        elif not matches and isinstance(value, str):
            matches = [i for i, lv in enumerate(levels) if lv is not None and str(lv) == value]
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


def _sum_groups(x: np.ndarray, mask: np.ndarray, conf_axes: int) -> np.ndarray:
    """Sum a (..., G, *conf) array over the groups selected by ``mask``."""
    axis = x.ndim - conf_axes - 1
    return np.compress(mask, x, axis=axis).sum(axis=axis)


def _validate(
    counts: GroupCounts, bootstrap: int, seed: int | None, confidence: float, threshold: float
) -> None:
    if not 0 < threshold <= 1:
        raise UsageError(f"four_fifths_threshold must be in (0, 1], got {threshold}")
    if not 0 < confidence < 1:
        raise UsageError(f"confidence must be in (0, 1), got {confidence}")
    if bootstrap < 0:
        raise UsageError(f"bootstrap must be >= 0, got {bootstrap}")
    if bootstrap * counts.rows.size > MAX_BOOTSTRAP_CELLS:
        raise UsageError(
            f"{bootstrap:,} resamples of a {counts.rows.size:,}-cell table is too many",
            hint=f"keep resamples × cells under {MAX_BOOTSTRAP_CELLS:,}",
        )
    if seed is not None and seed < 0:
        raise UsageError(f"seed must be >= 0, got {seed}")
    if bootstrap and counts.task == "regression":
        drawn = counts.regression.resamples if counts.regression is not None else None
        if drawn is None or drawn.shape[0] != bootstrap:
            raise UsageError(
                f"regression needs its {bootstrap} bootstrap resamples drawn when counting",
                hint="pass bootstrap= (and seed=) to count_groups or count_regression",
            )


@dataclass(frozen=True, slots=True)
class _Bootstrap:
    """Resampled count tables (``rows``, ``weights``: ``(B, *table)``), the overall metric
    values per resample, and score metrics per breakdown (``None``: not computed)."""

    rows: np.ndarray
    weights: np.ndarray
    overall: dict[str, np.ndarray]
    scores: list[dict[str, np.ndarray]] | None
    regression: RegressionSums | None = None

    def breakdown(
        self, counts: GroupCounts, plan: tuple[str, ...], index: int
    ) -> dict[str, np.ndarray]:
        """Metric values ``(B, groups)`` of the breakdown ``plan`` (number ``index``)."""
        drop = tuple(1 + i for i, a in enumerate(counts.attributes) if a not in plan)
        n = self.rows.shape[0]
        rows = self.rows.sum(axis=drop).reshape(n, -1, *counts.rows.shape[len(counts.attributes) :])
        weights = self.weights.sum(axis=drop).reshape(rows.shape)
        reg = None
        if self.regression is not None and self.regression.resamples is not None:
            pooled = self.regression.sum_over(tuple(d - 1 for d in drop)).resamples
            assert pooled is not None
            reg = pooled.reshape(n, -1, pooled.shape[-1])
        values = table_metrics(counts.task, counts.classes, rows, weights, regression=reg)
        if self.scores is not None:
            values.update(self.scores[1 + index])
        return values


def _draw_bootstrap(
    counts: GroupCounts,
    plans: list[tuple[str, ...]],
    bootstrap: int,
    seed: int | None,
    undefined: list[UndefinedValue],
) -> _Bootstrap:
    regression, overall_reg = counts.regression, None
    if regression is not None and regression.resamples is not None:
        # drawn from the rows when counting (Poisson bootstrap): see count_regression
        rows = regression.resamples[..., REG_N]
        weights = regression.resamples[..., REG_W]
        pooled = regression.sum_over(tuple(range(len(counts.attributes)))).resamples
        overall_reg = pooled
    else:
        rows, weights = bootstrap_tables(counts.rows, counts.weights, bootstrap, seed)
    tail = counts.rows.shape[len(counts.attributes) :]
    overall = table_metrics(
        counts.task,
        counts.classes,
        rows.reshape(bootstrap, -1, *tail).sum(axis=1),
        weights.reshape(bootstrap, -1, *tail).sum(axis=1),
        regression=overall_reg,
    )
    scores = None
    if counts.scores is not None:
        sizes = dict(zip(counts.attributes, counts.group_shape, strict=True))
        groupings = [(counts.group_mapping(()), 1)] + [
            (counts.group_mapping(p), math.prod(sizes[a] for a in p)) for p in plans
        ]
        scores = bootstrap_score_metrics(counts.scores, groupings, bootstrap, seed)
        if scores is None:
            undefined.append(
                UndefinedValue(
                    "roc_auc",
                    f"no bootstrap intervals for score metrics: {counts.scores.rows.size:,} "
                    f"score cells × {bootstrap:,} resamples exceeds the budget of "
                    f"{SCORE_BOOTSTRAP_BUDGET:,}; round the scores to fewer distinct values",
                    None,
                    "interval",
                )
            )
        else:
            overall.update({k: v[:, 0] for k, v in scores[0].items()})
    return _Bootstrap(rows, weights, overall, scores, regression)


def _overall_values(counts: GroupCounts) -> dict[str, np.ndarray]:
    n_attrs = len(counts.attributes)
    tail = counts.rows.shape[n_attrs:]
    regression = (
        counts.regression.sum_over(tuple(range(n_attrs))).values
        if counts.regression is not None
        else None
    )
    values = table_metrics(
        counts.task,
        counts.classes,
        counts.rows.reshape(-1, *tail).sum(axis=0),
        counts.weights.reshape(-1, *tail).sum(axis=0),
        regression=regression,
    )
    if counts.scores is not None:
        zero = counts.group_mapping(())
        for k, per_group in score_metric_values(counts.scores.regroup(zero), 1).items():
            values[k] = per_group[0]
    return values


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
    _validate(counts, bootstrap, seed, confidence, four_fifths_threshold)
    names = metric_names(counts.task, counts.classes, with_scores=counts.scores is not None)
    if privileged is not None:
        _match(counts, privileged, "privileged")  # fail early, naming the role given
    if reference is not None:
        _match(counts, reference, "reference")
    reference = reference if reference is not None else privileged
    attrs = counts.attributes
    plans: list[tuple[str, ...]] = (
        [attrs] if intersectional or len(attrs) == 1 else [(a,) for a in attrs]
    )
    undefined: list[UndefinedValue] = []
    boot = _draw_bootstrap(counts, plans, bootstrap, seed, undefined) if bootstrap else None
    overall_values = _overall_values(counts)
    overall = {m: optional_float(overall_values[m]) for m in names}
    for m, value in overall.items():
        if value is None:
            undefined.append(UndefinedValue(m, undefined_reason(m), None, "overall"))
    settings = _Settings(names, min_group_size, confidence, four_fifths_threshold, reference)
    breakdowns = tuple(
        _breakdown(counts, plan, i, overall_values, boot, settings, undefined)
        for i, plan in enumerate(plans)
    )
    comparison = None
    if privileged is not None:
        comparison = _privileged_comparison(
            counts,
            privileged,
            names,
            undefined,
            (boot.rows, boot.weights) if boot else None,
            confidence,
        )
    return FairnessReport(
        task=counts.task,
        pos_label=pos_label,
        attributes=attrs,
        intersectional=intersectional,
        metrics=tuple(names),
        overall=overall,
        breakdowns=breakdowns,
        privileged=comparison,
        undefined=tuple(undefined),
        min_group_size=min_group_size,
        confidence=confidence,
        bootstrap=bootstrap,
        seed=seed,
        counts=counts,
        four_fifths_threshold=four_fifths_threshold,
    )


@dataclass(frozen=True, slots=True)
class _Settings:
    names: list[str]
    min_group_size: int
    confidence: float
    threshold: float
    reference: Mapping[str, Any] | None


def _breakdown(
    counts: GroupCounts,
    plan: tuple[str, ...],
    index: int,
    overall_values: dict[str, np.ndarray],
    boot: _Bootstrap | None,
    settings: _Settings,
    undefined: list[UndefinedValue],
) -> Breakdown:
    """Groups, disparities, four-fifths rows and inequality of one breakdown."""
    sub = counts.marginal(plan)
    rows, weights = sub.flat()
    reg = (
        sub.regression.values.reshape(-1, sub.regression.values.shape[-1])
        if sub.regression is not None
        else None
    )
    values = table_metrics(counts.task, counts.classes, rows, weights, regression=reg)
    squared = sub.flat_weights_squared() if counts.task != "regression" else weights
    if sub.scores is not None:
        values.update(score_metric_values(sub.scores, rows.shape[0]))
    labels = sub.group_labels()
    n_per_group = values["count"].astype(np.int64)
    include = n_per_group >= max(settings.min_group_size, 1)
    ref_spec = ref_index = None
    if settings.reference is not None and all(a in settings.reference for a in plan):
        ref_spec = {a: settings.reference[a] for a in plan}
        ref_index = int(np.flatnonzero(_match(sub, ref_spec, "reference"))[0])
    boot_values = boot.breakdown(counts, plan, index) if boot is not None else None

    groups = []
    for gi, label in enumerate(labels):
        group = dict(zip(plan, label, strict=True))
        metric_values = {m: optional_float(values[m][gi]) for m in settings.names}
        ivs: dict[str, dict[str, Interval]] = {}
        for m in settings.names:
            spec = BINARY_METRICS.get(m) if counts.task == "binary" else None
            if spec is not None and spec.proportion:
                lo, hi = wilson_interval(
                    *_trials(spec, rows[gi], weights[gi], squared[gi], counts.weighted),
                    settings.confidence,
                )
                ivs.setdefault(m, {})["wilson"] = optional_interval(lo, hi)
            if boot_values is not None and m in boot_values and m != "count":
                lo, hi = percentile_interval(boot_values[m][:, gi], settings.confidence)
                ivs.setdefault(m, {})["bootstrap"] = optional_interval(lo, hi)
            if metric_values[m] is None and n_per_group[gi] > 0:
                undefined.append(UndefinedValue(m, undefined_reason(m), group))
        if n_per_group[gi] == 0:  # one entry, not one per metric
            undefined.append(UndefinedValue("*", EMPTY_GROUP, group))
        groups.append(
            GroupResult(group, int(n_per_group[gi]), bool(include[gi]), metric_values, ivs)
        )

    disparities: dict[str, dict[str, float | None]] = {}
    disparity_ivs: dict[str, dict[str, Interval]] = {}
    where = " × ".join(plan)
    for m in settings.names:
        if m == "count":
            continue
        disparities[m] = _disparity_entry(
            m, values[m], overall_values[m], include, ref_index, where, undefined
        )
        if boot is not None and boot_values is not None and m in boot_values:
            resampled = disparity_values(
                boot_values[m], boot.overall[m], include=include, reference=ref_index
            )
            disparity_ivs[m] = {
                k: optional_interval(*percentile_interval(v, settings.confidence))
                for k, v in resampled.items()
            }

    four_fifths: list[dict[str, Any]] = []
    inequality: dict[str, float | None] = {}
    if counts.task == "binary":
        selected = rows[:, 0, 1] + rows[:, 1, 1]
        tests = four_fifths_rows(
            selected,
            n_per_group,
            values["selection_rate"],
            threshold=settings.threshold,
            include=include,
            effective_counts=(
                divide(weights.sum(axis=(1, 2)) ** 2, squared.sum(axis=(1, 2)))
                if counts.weighted
                else None
            ),
        )
        four_fifths = [{"group": g.group, **row} for g, row in zip(groups, tests, strict=True)]
        inequality = {
            "between_group_theil_index": optional_float(between_group_entropy(rows, 1.0)),
            "between_group_generalized_entropy_index": optional_float(
                between_group_entropy(rows, 2.0)
            ),
        }
    return Breakdown(
        plan, tuple(groups), ref_spec, disparities, disparity_ivs, tuple(four_fifths), inequality
    )


def _trials(
    spec: RateSpec, rows: np.ndarray, weights: np.ndarray, squared: np.ndarray, weighted: bool
) -> tuple[float, float]:
    """(successes, trials) of a proportion for Wilson: row counts, or with weights the
    rate times Kish's effective sample size (Σw)²/Σw² of its denominator."""
    if not weighted:
        return float(spec.numerator(rows)), float(spec.denominator(rows))
    den = float(spec.denominator(weights))
    n_eff = den * den / float(spec.denominator(squared)) if den > 0 else 0.0
    return (float(spec.numerator(weights)) / den * n_eff if den > 0 else 0.0), n_eff


def _disparity_entry(
    metric: str,
    values: np.ndarray,
    overall: np.ndarray,
    include: np.ndarray,
    ref_index: int | None,
    where: str,
    undefined: list[UndefinedValue],
) -> dict[str, float | None]:
    """Every disparity kind of one metric, recording why any is undefined."""
    usable = int((include & ~np.isnan(values)).sum())
    found = disparity_values(values, overall, include=include, reference=ref_index)
    entry = {k: optional_float(v) for k, v in found.items()}
    for kind in entry:
        if usable < 2 and kind.endswith("_overall"):
            continue  # defined against the overall value even for a single group
        if usable < 2:
            entry[kind] = None
            why = (
                "only one group has a value; nothing to compare"
                if usable == 1
                else ("no group has a value")
            )
        elif entry[kind] is None:
            why = "denominator is 0" if kind.startswith("ratio") else "no value to compare"
        else:
            continue
        undefined.append(
            UndefinedValue(metric, why, {"breakdown": where, "disparity": kind}, "disparity")
        )
    return entry


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

    def sides(r: np.ndarray, w: np.ndarray) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        """Metrics of the privileged rows and of all the others, pooled (AIF360)."""
        conf = 2  # the confusion axes after the group axis
        return (
            table_metrics(
                counts.task, counts.classes, _sum_groups(r, mask, conf), _sum_groups(w, mask, conf)
            ),
            table_metrics(
                counts.task,
                counts.classes,
                _sum_groups(r, ~mask, conf),
                _sum_groups(w, ~mask, conf),
            ),
        )

    pm, um = sides(rows, weights)
    diff = {m: optional_float(um[m] - pm[m]) for m in names if m in pm and m != "count"}
    ratio = {m: optional_float(divide(um[m], pm[m])) for m in names if m in pm and m != "count"}
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
        bpm, bum = sides(boot[0].reshape(n_boot, *rows.shape), boot[1].reshape(n_boot, *rows.shape))
        for m in diff:
            diffs, ratios = bum[m] - bpm[m], divide(bum[m], bpm[m])
            ivs[m] = {
                "difference": optional_interval(*percentile_interval(diffs, confidence)),
                "ratio": optional_interval(*percentile_interval(ratios, confidence)),
            }
    return PrivilegedComparison(
        privileged=dict(privileged),
        privileged_count=int(pm["count"]),
        unprivileged_count=int(um["count"]),
        privileged_metrics={m: optional_float(pm[m]) for m in names if m in pm},
        unprivileged_metrics={m: optional_float(um[m]) for m in names if m in um},
        difference=diff,
        ratio=ratio,
        intervals=ivs,
    )
