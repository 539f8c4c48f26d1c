"""Fairness assessment from a dataframe or arrays: the Python entry point.

This module validates the input at the edge (columns, nulls, label sets,
weights), encodes it, counts it once and hands the table to the pure core.

Example:
    >>> import trustops
    >>> data = {"y": [0, 1, 0, 1], "pred": [0, 0, 0, 1], "sex": ["a", "a", "b", "b"]}
    >>> report = trustops.assess_fairness(data, y_true="y", y_pred="pred", sensitive="sex")
    >>> report.ratio("selection_rate"), report.difference("selection_rate", "to_overall")
    (0.0, 0.25)
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from trustops.core.fairness import (
    FairnessReport,
    GroupCounts,
    build_report,
    count_classification,
    count_regression,
    count_scores,
)
from trustops.engines.columns import (
    check_lengths,
    column_names,
    encode_groups,
    get_column,
    to_numpy,
)
from trustops.engines.labels import (
    check_regression,
    encode_binary,
    encode_multiclass,
    infer_task,
)
from trustops.errors import InputError, MissingValuesError, UsageError

__all__ = ["TASKS", "assess_fairness", "count_groups"]

TASKS = ("auto", "binary", "multiclass", "regression")


def _as_columns(
    data: Any, y_true: Any, y_pred: Any, sensitive: Any, score: Any, sample_weight: Any
) -> tuple[dict[str, Any], list[str]]:
    """Map roles to raw columns; with ``data=None`` the arguments are the arrays."""
    cols: dict[str, Any] = {}
    if data is not None:
        for role, name in (
            ("y_true", y_true),
            ("y_pred", y_pred),
            ("score", score),
            ("sample_weight", sample_weight),
        ):
            if name is None:
                continue
            if not isinstance(name, str):
                raise UsageError(f"{role} must name a column of data, got {type(name).__name__}")
            cols[role] = get_column(data, name, role.replace("_", " "))
        names = [sensitive] if isinstance(sensitive, str) else list(sensitive)
        if not names:
            raise UsageError("sensitive must name at least one column")
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise UsageError(f"sensitive column {repeated[0]!r} is given more than once")
        sens = {n: get_column(data, n, "sensitive") for n in names}
        cols.update({f"sensitive:{n}": c for n, c in sens.items()})
        return cols, names
    for role, arr in (
        ("y_true", y_true),
        ("y_pred", y_pred),
        ("score", score),
        ("sample_weight", sample_weight),
    ):
        if arr is not None:
            cols[role] = arr
    if isinstance(sensitive, Mapping) or (
        type(sensitive).__module__.split(".")[0] in ("pandas", "polars", "pyarrow")
        and hasattr(sensitive, "columns")
    ):
        names = column_names(sensitive)
        for n in names:
            cols[f"sensitive:{n}"] = get_column(sensitive, n, "sensitive")
    else:
        name = getattr(sensitive, "name", None) or "sensitive_feature_0"
        names = [str(name)]
        cols[f"sensitive:{names[0]}"] = sensitive
    return cols, names


MAX_REGRESSION_BOOTSTRAP = 200_000_000
"""Resamples × rows the regression bootstrap may draw (it passes over the rows per resample)."""

MAX_TABLE_CELLS = 50_000_000
"""Cells of the count table (groups × classes²) trustops will allocate: about 0.8 GB."""


def count_groups(
    data: Any = None,
    *,
    y_true: Any,
    y_pred: Any,
    sensitive: str | Sequence[str] | Any,
    score: Any = None,
    sample_weight: Any = None,
    task: str = "auto",
    pos_label: Any = 1,
    missing: str = "error",
    bootstrap: int = 0,
    seed: int | None = None,
) -> GroupCounts:
    """Validate, encode and count: the :class:`GroupCounts` behind a report.

    Same arguments as :func:`assess_fairness`. Tables from partitions of the
    same data merge with ``GroupCounts.merge``. ``bootstrap``/``seed`` matter
    for regression only, whose resamples are drawn from the rows here.
    """
    if task not in TASKS:
        raise UsageError(f"task must be one of {', '.join(TASKS)}, got {task!r}")
    if bootstrap < 0:
        raise UsageError(f"bootstrap must be >= 0, got {bootstrap}")
    cols, names = _as_columns(data, y_true, y_pred, sensitive, score, sample_weight)
    check_lengths(cols)
    label_names = (
        y_true if isinstance(y_true, str) else "y_true",
        y_pred if isinstance(y_pred, str) else "y_pred",
    )
    yt = _complete(cols["y_true"], label_names[0])
    yp = _complete(cols["y_pred"], label_names[1])
    weights = _weights(cols, sample_weight)
    encoded = [encode_groups(cols[f"sensitive:{n}"], n, missing=missing) for n in names]
    codes = [e.codes for e in encoded]
    levels = [e.levels for e in encoded]
    attrs = tuple(names)
    if task == "auto":
        task = infer_task(yt, yp)
    if "score" in cols and task != "binary":
        raise UsageError(f"score is used by binary tasks only; this task is {task}")
    n_classes = {"binary": 2, "multiclass": 0, "regression": 1}[task]
    if task == "multiclass":
        t, p, classes = encode_multiclass(yt, yp, label_names)
        n_classes = len(classes)
    cells = math.prod(len(lv) for lv in levels) * n_classes * n_classes
    if cells > MAX_TABLE_CELLS:
        sizes = " × ".join(f"{n} ({len(lv):,})" for n, lv in zip(names, levels, strict=True))
        raise InputError(
            f"the count table would have {cells:,} cells: {sizes} levels",
            hint="a sensitive column with this many distinct values is an identifier, "
            "not a group; bin it first",
        )
    if task == "regression":
        check_regression(yt, yp, label_names)
        if bootstrap * len(yt) > MAX_REGRESSION_BOOTSTRAP:
            raise UsageError(
                f"{bootstrap:,} regression resamples of {len(yt):,} rows is too many",
                hint=f"keep resamples × rows under {MAX_REGRESSION_BOOTSTRAP:,}, or sample rows",
            )
        return count_regression(
            codes, levels, attrs, yt, yp, sample_weight=weights, bootstrap=bootstrap, seed=seed
        ).sorted_levels()
    if task == "multiclass":
        return count_classification(
            codes,
            levels,
            attrs,
            t,
            p,
            n_classes,
            sample_weight=weights,
            classes=classes,
            task="multiclass",
        ).sorted_levels()
    t, p, classes = encode_binary(yt, yp, pos_label, label_names)
    counts = count_classification(
        codes, levels, attrs, t, p, 2, sample_weight=weights, classes=classes, task="binary"
    )
    if "score" in cols:
        sname = score if isinstance(score, str) else "score"
        s = _complete(cols["score"], sname)
        if s.dtype.kind not in "biuf":
            raise InputError(f"column {sname!r} must be numeric, got {s.dtype}")
        s = s.astype(np.float64)
        if not (s.min() >= 0 and s.max() <= 1):
            raise InputError(
                f"column {sname!r} must hold probabilities in [0, 1], "
                f"found values in [{float(s.min())!r}, {float(s.max())!r}]"
            )
        counts = dataclasses.replace(
            counts, scores=count_scores(codes, levels, t, s, sample_weight=weights)
        )
    return counts.sorted_levels()


def _complete(column: Any, name: str) -> np.ndarray:
    """The column's values; :class:`MissingValuesError` if any is null or NaN."""
    values, nulls = to_numpy(column, name)
    if nulls.any():
        raise MissingValuesError(name, int(nulls.sum()), hint="drop or impute those rows first")
    if values.dtype.kind == "O" and any(isinstance(v, (list, dict, tuple)) for v in values[:100]):
        raise InputError(f"column {name!r} holds nested values (lists or structs)")
    return values


def _weights(cols: Mapping[str, Any], sample_weight: Any) -> np.ndarray | None:
    if "sample_weight" not in cols:
        return None
    name = sample_weight if isinstance(sample_weight, str) else "sample_weight"
    w = _complete(cols["sample_weight"], name)
    if w.dtype.kind not in "biuf":
        raise InputError(f"column {name!r} must be numeric, got {w.dtype}")
    weights = w.astype(np.float64)
    if (weights < 0).any() or not np.isfinite(weights).all():
        raise InputError(f"column {name!r} must hold finite, non-negative weights")
    return weights


def _parse_group_spec(spec: Any, role: str) -> dict[str, Any] | None:
    if spec is None:
        return None
    if isinstance(spec, Mapping):
        return dict(spec)
    if isinstance(spec, str):
        spec = [spec]
    out: dict[str, Any] = {}
    for item in spec:
        attr, sep, value = str(item).partition("=")
        if not sep or not attr:
            raise UsageError(f"{role} must look like ATTRIBUTE=VALUE, got {item!r}")
        out[attr] = value
    return out


def assess_fairness(
    data: Any = None,
    *,
    y_true: Any,
    y_pred: Any,
    sensitive: str | Sequence[str] | Any,
    score: Any = None,
    sample_weight: Any = None,
    intersectional: bool = False,
    privileged: Mapping[str, Any] | str | Sequence[str] | None = None,
    reference: Mapping[str, Any] | str | Sequence[str] | None = None,
    bootstrap: int = 0,
    seed: int | None = None,
    task: str = "auto",
    pos_label: Any = 1,
    min_group_size: int = 1,
    confidence: float = 0.95,
    missing: str = "error",
    four_fifths_threshold: float = 0.8,
) -> FairnessReport:
    """Assess fairness of predictions across groups, from one counting pass.

    Args:
        data: a pandas/Polars/PyArrow table or a dict of arrays; the other
            arguments name its columns. With ``data=None`` they are arrays.
        y_true, y_pred: true and predicted labels (or values for regression).
        sensitive: one or more sensitive columns. Each is broken down on its
            own, or every combination with ``intersectional=True``.
        score: predicted probability of ``pos_label`` (ROC AUC, Brier, ECE).
        sample_weight: non-negative row weights.
        privileged: ``{"attr": value}`` (or ``"attr=value"``): AIF360's
            unprivileged-vs-privileged comparison; also the reference group.
        reference: reference group for ``to_reference`` disparities.
        bootstrap: number of resamples of the count table for intervals.
        seed: random seed of the bootstrap.
        task: ``"auto"``, ``"binary"``, ``"multiclass"`` or ``"regression"``.
        pos_label: the favourable label of a binary task.
        min_group_size: smaller groups are reported but left out of disparities.
        confidence: level of the Wilson and bootstrap intervals.
        missing: ``"error"`` (default) or ``"group"``: nulls in a sensitive
            column become their own group.
        four_fifths_threshold: the impact ratio under which a group is flagged
            (EEOC: 0.8).

    Example:
        >>> import numpy as np, trustops
        >>> r = trustops.assess_fairness(y_true=np.array([1, 0, 1, 0]),
        ...     y_pred=np.array([1, 0, 0, 0]), sensitive=np.array(["x", "x", "y", "y"]))
        >>> r.overall["selection_rate"], r.difference("true_positive_rate")
        (0.25, 1.0)
    """
    counts = count_groups(
        data,
        y_true=y_true,
        y_pred=y_pred,
        sensitive=sensitive,
        score=score,
        sample_weight=sample_weight,
        task=task,
        pos_label=pos_label,
        missing=missing,
        bootstrap=bootstrap,
        seed=seed,
    )
    return build_report(
        counts,
        pos_label=pos_label if counts.task == "binary" else None,
        intersectional=intersectional,
        privileged=_parse_group_spec(privileged, "privileged"),
        reference=_parse_group_spec(reference, "reference"),
        min_group_size=min_group_size,
        bootstrap=bootstrap,
        seed=seed,
        confidence=confidence,
        four_fifths_threshold=four_fifths_threshold,
    )
