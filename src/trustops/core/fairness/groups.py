"""Metric values for whole count tables, per task.

:func:`table_metrics` turns count tables with any leading axes (groups,
bootstrap resamples) into one array per metric name; it is the single place
that knows which metrics a task has. Metric names follow Fairlearn where
Fairlearn has one. For multiclass tasks each one-vs-rest metric is named
``"{metric}[{class}]"``, e.g. ``"true_positive_rate[B]"``.

Example:
    >>> import numpy as np
    >>> rows = np.array([[[3, 1], [2, 4]]])
    >>> m = table_metrics("binary", (0, 1), rows, rows.astype(float))
    >>> float(m["selection_rate"][0]), float(m["count"][0])
    (0.5, 10.0)
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from trustops.core.fairness.metrics import (
    BALANCED_ACCURACY_UNDEFINED,
    BINARY_METRICS,
    REGRESSION_METRICS,
    SCORE_METRICS,
    b_counts,
    binary_metric_values,
    divide,
    generalized_entropy_index,
    regression_metric_values,
)
from trustops.errors import UnknownMetricError

__all__ = ["metric_names", "one_vs_rest", "table_metrics", "undefined_reason"]

_OVR_SKIP = {"accuracy", "balanced_accuracy"}
_INEQUALITY_UNDEFINED = "empty group, or no correct/favourable outcome (mean b = 0)"


def one_vs_rest(c: np.ndarray, k: int) -> np.ndarray:
    """Binary confusion ``(..., 2, 2)`` for class ``k`` against the rest of ``c (..., K, K)``."""
    tp = c[..., k, k]
    fn = c[..., k, :].sum(axis=-1) - tp
    fp = c[..., :, k].sum(axis=-1) - tp
    tn = c.sum(axis=(-1, -2)) - tp - fn - fp
    return np.stack([np.stack([tn, fp], -1), np.stack([fn, tp], -1)], -2)


def table_metrics(
    task: str,
    classes: tuple[Any, ...],
    rows: np.ndarray,
    weights: np.ndarray,
    *,
    regression: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """Every metric of ``task`` for count tables with arbitrary leading axes."""
    if task == "regression":
        assert regression is not None
        out = {"count": np.asarray(rows, np.float64)}
        out.update(regression_metric_values(regression))
        return out
    out = {"count": rows.sum(axis=(-1, -2)).astype(np.float64)}
    if task == "binary":
        out.update(binary_metric_values(weights))
        bc = b_counts(rows)
        out["theil_index"] = generalized_entropy_index(bc, 1.0)
        out["generalized_entropy_index"] = generalized_entropy_index(bc, 2.0)
        return out
    total = weights.sum(axis=(-1, -2))
    diag = np.diagonal(weights, axis1=-2, axis2=-1)
    out["accuracy"] = divide(diag.sum(axis=-1), total)
    recall = divide(diag, weights.sum(axis=-1))  # per class present in y_true
    present = ~np.isnan(recall)
    out["balanced_accuracy"] = divide(np.where(present, recall, 0).sum(-1), present.sum(-1))
    for k, label in enumerate(classes):
        for name, value in binary_metric_values(one_vs_rest(weights, k)).items():
            if name not in _OVR_SKIP:
                out[f"{name}[{label}]"] = value
    return out


def metric_names(task: str, classes: tuple[Any, ...], *, with_scores: bool = False) -> list[str]:
    """The metric names a report of this task has, in report order."""
    if task == "regression":
        return ["count", *REGRESSION_METRICS]
    if task == "binary":
        names = [
            "count",
            *BINARY_METRICS,
            "balanced_accuracy",
            "theil_index",
            "generalized_entropy_index",
        ]
        return names + (list(SCORE_METRICS) if with_scores else [])
    names = ["count", "accuracy", "balanced_accuracy"]
    for label in classes:
        names += [f"{n}[{label}]" for n in BINARY_METRICS if n not in _OVR_SKIP]
    return names


def undefined_reason(name: str) -> str:
    """Why ``name`` has no value when it has none."""
    base = re.sub(r"\[.*\]$", "", name)
    if base in BINARY_METRICS:
        return BINARY_METRICS[base].undefined
    if base in SCORE_METRICS:
        return SCORE_METRICS[base][1]
    if base in REGRESSION_METRICS:
        return REGRESSION_METRICS[base][1]
    if base == "balanced_accuracy":
        return BALANCED_ACCURACY_UNDEFINED
    if base in ("theil_index", "generalized_entropy_index"):
        return _INEQUALITY_UNDEFINED
    if base in ("accuracy", "count"):
        return "empty group"
    raise UnknownMetricError(name)
