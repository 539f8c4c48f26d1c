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
from trustops.errors import InputError, LabelError, MissingValuesError, UsageError

__all__ = ["TASKS", "assess_fairness", "count_groups"]

TASKS = ("auto", "binary", "multiclass", "regression")


def _require_complete(values: np.ndarray, mask: np.ndarray, name: str) -> None:
    if mask.any():
        raise MissingValuesError(name, int(mask.sum()), hint="drop or impute those rows first")


def _is_binary_01(a: np.ndarray) -> bool:
    """Fast check that a numeric/bool array holds only 0 and 1."""
    if a.dtype.kind == "b":
        return True
    if a.dtype.kind in "iu":
        return bool(a.size == 0 or (a.min() >= 0 and a.max() <= 1))
    if a.dtype.kind == "f":
        return bool(((a == 0) | (a == 1)).all())
    return False


def _distinct(a: np.ndarray) -> list[Any]:
    if a.dtype.kind == "O":
        return sorted({v.item() if isinstance(v, np.generic) else v for v in a}, key=str)
    return [v.item() for v in np.unique(a)]


def _infer_task(yt: np.ndarray, yp: np.ndarray, pos_label: Any) -> str:
    if _is_binary_01(yt) and _is_binary_01(yp):
        return "binary"
    if yt.dtype.kind == "f" or yp.dtype.kind == "f":
        return "regression"
    values = set(_distinct(yt)) | set(_distinct(yp))
    return "binary" if len(values) <= 2 else "multiclass"


def _binary_codes(a: np.ndarray, name: str, pos_label: Any) -> tuple[np.ndarray, Any]:
    """0/1 codes (1 = pos_label); :class:`LabelError` for anything not binary."""
    if _is_binary_01(a) and pos_label in (0, 1, True, False):
        return (a == pos_label).view(np.int8), (1 - pos_label if pos_label in (0, 1) else None)
    values = _distinct(a)
    others = [v for v in values if v != pos_label]
    if len(values) == 2 and pos_label not in values:
        raise LabelError(
            name,
            f"pos_label {pos_label!r} is not one of the labels {values[0]!r}, {values[1]!r}",
            hint="pass pos_label=<the favourable label>",
        )
    if len(others) > 1:
        shown = ", ".join(repr(v) for v in values[:10])
        raise LabelError(
            name,
            f"binary task needs at most two label values, found {len(values)}: {shown}",
            hint="pass task='multiclass' or 'regression', or binarise the labels",
        )
    return (a == pos_label).view(np.int8), (others[0] if others else None)


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
) -> GroupCounts:
    """Validate, encode and count: the :class:`GroupCounts` behind a report.

    Same arguments as :func:`assess_fairness`. Tables from partitions of the
    same data (with the same levels) can be merged with ``GroupCounts.merge``.
    """
    if task not in TASKS:
        raise UsageError(f"task must be one of {', '.join(TASKS)}, got {task!r}")
    cols, names = _as_columns(data, y_true, y_pred, sensitive, score, sample_weight)
    check_lengths(cols)
    yt, yt_null = to_numpy(cols["y_true"], "y_true" if data is None else y_true)
    yp, yp_null = to_numpy(cols["y_pred"], "y_pred" if data is None else y_pred)
    label_name = y_true if isinstance(y_true, str) else "y_true"
    pred_name = y_pred if isinstance(y_pred, str) else "y_pred"
    _require_complete(yt, yt_null, label_name)
    _require_complete(yp, yp_null, pred_name)
    weights = None
    if "sample_weight" in cols:
        wname = sample_weight if isinstance(sample_weight, str) else "sample_weight"
        w, w_null = to_numpy(cols["sample_weight"], wname)
        _require_complete(w, w_null, wname)
        if w.dtype.kind not in "biuf":
            raise InputError(f"column {wname!r} must be numeric, got {w.dtype}")
        weights = w.astype(np.float64)
        if (weights < 0).any() or not np.isfinite(weights).all():
            raise InputError(f"column {wname!r} must hold finite, non-negative weights")
    encoded = [encode_groups(cols[f"sensitive:{n}"], n, missing=missing) for n in names]
    codes = [e.codes for e in encoded]
    levels = [e.levels for e in encoded]
    attrs = tuple(names)
    if task == "auto":
        task = _infer_task(yt, yp, pos_label)
    if task == "regression":
        for a, n in ((yt, label_name), (yp, pred_name)):
            if a.dtype.kind not in "biuf":
                raise LabelError(n, f"regression needs numbers, got {a.dtype}")
        return count_regression(codes, levels, attrs, yt, yp, sample_weight=weights).sorted_levels()
    if task == "binary":
        t, neg_t = _binary_codes(yt, label_name, pos_label)
        p, neg_p = _binary_codes(yp, pred_name, pos_label)
        negative = neg_t if neg_t is not None else neg_p
        counts = count_classification(
            codes,
            levels,
            attrs,
            t,
            p,
            2,
            sample_weight=weights,
            classes=(negative, pos_label),
            task="binary",
        )
        if "score" in cols:
            sname = score if isinstance(score, str) else "score"
            s, s_null = to_numpy(cols["score"], sname)
            _require_complete(s, s_null, sname)
            if s.dtype.kind not in "biuf":
                raise InputError(f"column {sname!r} must be numeric, got {s.dtype}")
            s = s.astype(np.float64)
            if s.min() < 0 or s.max() > 1:
                raise InputError(
                    f"column {sname!r} must hold probabilities in [0, 1], "
                    f"found values in [{s.min():g}, {s.max():g}]"
                )
            counts = dataclasses.replace(
                counts, scores=count_scores(codes, levels, t, s, sample_weight=weights)
            )
        return counts.sorted_levels()
    classes = sorted(set(_distinct(yt)) | set(_distinct(yp)), key=lambda v: (str(type(v)), v))
    lookup = np.asarray(classes, dtype=object if yt.dtype.kind == "O" else None)
    t = np.searchsorted(lookup, yt) if lookup.dtype.kind != "O" else _codes_for(yt, classes)
    p = np.searchsorted(lookup, yp) if lookup.dtype.kind != "O" else _codes_for(yp, classes)
    return count_classification(
        codes,
        levels,
        attrs,
        t,
        p,
        len(classes),
        sample_weight=weights,
        classes=tuple(classes),
        task="multiclass",
    ).sorted_levels()


def _codes_for(a: np.ndarray, classes: list[Any]) -> np.ndarray:
    index = {c: i for i, c in enumerate(classes)}
    return np.fromiter((index[v] for v in a), dtype=np.int64, count=len(a))


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
    )
