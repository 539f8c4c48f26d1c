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
from typing import Any

import numpy as np

from trustops.core.fairness.counts import GroupCounts
from trustops.core.fairness.disparities import DISPARITY_KINDS, disparity_values
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
    if not 0 < four_fifths_threshold <= 1:
        raise UsageError(f"four_fifths_threshold must be in (0, 1], got {four_fifths_threshold}")
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

    plans: list[tuple[str, ...]] = (
        [attrs] if intersectional or len(attrs) == 1 else [(a,) for a in attrs]
    )

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
    overall = {m: optional_float(overall_arr[m]) for m in names}
    for m, value in overall.items():
        if value is None:
            undefined.append(UndefinedValue(m, undefined_reason(m), None, "overall"))
    boot_overall = None
    if boot is not None:
        b_rows = boot[0].reshape(bootstrap, -1, *counts.rows.shape[len(attrs) :]).sum(axis=1)
        b_w = boot[1].reshape(bootstrap, -1, *counts.rows.shape[len(attrs) :]).sum(axis=1)
        boot_overall = _flat_metrics(counts, b_rows, b_w, None)
    score_boot = None
    if boot is not None and counts.scores is not None:
        sizes = dict(zip(attrs, counts.group_shape, strict=True))
        groupings = [(counts.group_mapping(()), 1)] + [
            (counts.group_mapping(p), math.prod(sizes[a] for a in p)) for p in plans
        ]
        score_boot = bootstrap_score_metrics(counts.scores, groupings, bootstrap, seed)
        if score_boot is None:
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
            assert boot_overall is not None
            boot_overall.update({k: v[:, 0] for k, v in score_boot[0].items()})

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
            if score_boot is not None:
                boot_values.update(score_boot[1 + plans.index(plan)])

        group_results = []
        for gi, label in enumerate(labels):
            group = dict(zip(plan, label, strict=True))
            metric_values = {m: optional_float(values[m][gi]) for m in names}
            ivs: dict[str, dict[str, Interval]] = {}
            for m in names:
                spec = BINARY_METRICS.get(m) if task == "binary" else None
                # Wilson needs row counts; with weights the bootstrap gives the interval.
                if spec is not None and spec.proportion and not counts.weighted:
                    lo, hi = wilson_interval(
                        spec.numerator(rows[gi]), spec.denominator(rows[gi]), confidence
                    )
                    ivs.setdefault(m, {})["wilson"] = optional_interval(lo, hi)
                if boot_values is not None and m in boot_values and m != "count":
                    lo, hi = percentile_interval(boot_values[m][:, gi], confidence)
                    ivs.setdefault(m, {})["bootstrap"] = optional_interval(lo, hi)
                if metric_values[m] is None and n_per_group[gi] > 0:
                    undefined.append(UndefinedValue(m, undefined_reason(m), group))
            if n_per_group[gi] == 0:  # one entry, not one per metric
                undefined.append(UndefinedValue("*", EMPTY_GROUP, group))
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
            entry = {k: optional_float(v) for k, v in d.items()}
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
                    k: optional_interval(*percentile_interval(v, confidence))
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
                    weighted=counts.weighted,
                )
            ):
                four_fifths.append({"group": dict(zip(plan, labels[gi], strict=True)), **row})
        inequality: dict[str, float | None] = {}
        if task == "binary":
            inequality = {
                "between_group_theil_index": optional_float(between_group_entropy(rows, 1.0)),
                "between_group_generalized_entropy_index": optional_float(
                    between_group_entropy(rows, 2.0)
                ),
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
        four_fifths_threshold=four_fifths_threshold,
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
        br = boot[0].reshape(n_boot, -1, *rows.shape[1:])
        bw = boot[1].reshape(n_boot, -1, *rows.shape[1:])
        bpm = _flat_metrics(counts, _sum_groups(br, mask, conf), _sum_groups(bw, mask, conf), None)
        bum = _flat_metrics(
            counts, _sum_groups(br, ~mask, conf), _sum_groups(bw, ~mask, conf), None
        )
        for m in diff:
            ivs[m] = {
                "difference": optional_interval(*percentile_interval(bum[m] - bpm[m], confidence)),
                "ratio": optional_interval(
                    *percentile_interval(divide(bum[m], bpm[m]), confidence)
                ),
            }
    return PrivilegedComparison(
        privileged=dict(privileged),
        privileged_count=int(pr.sum()),
        unprivileged_count=int(ur.sum()),
        privileged_metrics={m: optional_float(pm[m]) for m in names if m in pm},
        unprivileged_metrics={m: optional_float(um[m]) for m in names if m in um},
        difference=diff,
        ratio=ratio,
        intervals=ivs,
    )
