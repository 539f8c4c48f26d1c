"""Reweighing and resampling weights from labels and sensitive columns of any frame.

The edge of :mod:`trustops.core.mitigation.reweighing`: labels and sensitive
columns (pandas, Polars, PyArrow, NumPy or lists) become integer codes, several
sensitive columns become their intersections, and bad input is an error naming
its column. Formulas and references are in the core module and in
``docs/mitigation.md``.

Example:
    >>> import trustops
    >>> trustops.reweighing_weights([1, 1, 0, 1, 0, 0], ["a", "a", "a", "b", "b", "b"]).tolist()
    [0.75, 0.75, 1.5, 1.5, 0.75, 0.75]
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from trustops.core.mitigation import reweighing as core
from trustops.engines.columns import column_names, encode_groups, get_column, to_numpy
from trustops.errors import InputError, LabelError, UsageError

__all__ = ["RESAMPLING_METHODS", "resample_indices", "reweighing_weights"]

RESAMPLING_METHODS = ("uniform", "preferential")


def _is_frame(obj: Any) -> bool:
    module = type(obj).__module__.split(".")[0]
    return isinstance(obj, Mapping) or (
        module in ("pandas", "polars", "pyarrow") and hasattr(obj, "columns")
    )


def sensitive_columns(sensitive: Any) -> dict[str, Any]:
    """Name → column for one sensitive column or several (a frame, dict or 2-D array)."""
    if _is_frame(sensitive):
        names = column_names(sensitive)
        if not names:
            raise UsageError("sensitive has no columns")
        return {n: get_column(sensitive, n, "sensitive") for n in names}
    if isinstance(sensitive, np.ndarray) and sensitive.ndim == 2:
        return {f"sensitive_feature_{j}": sensitive[:, j] for j in range(sensitive.shape[1])}
    name = getattr(sensitive, "name", None) or "sensitive"
    return {str(name): sensitive}


def group_codes(sensitive: Any, n_rows: int) -> np.ndarray:
    """One integer code per row: the group, or the intersection of several columns' groups."""
    codes = []
    for name, col in sensitive_columns(sensitive).items():
        if len(col) != n_rows:
            raise InputError(f"sensitive column {name!r} has {len(col)} rows, expected {n_rows}")
        codes.append(encode_groups(col, name).codes)
    if len(codes) == 1:
        return codes[0]
    _, inverse = np.unique(np.stack(codes, axis=1), axis=0, return_inverse=True)
    return np.asarray(inverse, dtype=np.int64).ravel()


def label_codes(y: Any, name: str | None = None) -> tuple[np.ndarray, tuple[Any, ...], str]:
    """Integer codes of the labels, their values, and the column's name for errors."""
    label = name or str(getattr(y, "name", None) or "y")
    if _is_frame(y) or (isinstance(y, np.ndarray) and y.ndim != 1):
        raise InputError(f"labels {label!r} must be one column")
    enc = encode_groups(y, label)
    return enc.codes, enc.levels, label


def _sample_weight(sample_weight: Any, n_rows: int) -> np.ndarray | None:
    if sample_weight is None:
        return None
    values, nulls = to_numpy(sample_weight, "sample_weight")
    if nulls.any() or values.dtype.kind not in "biuf":
        raise InputError("sample_weight must be numeric with no missing values")
    if len(values) != n_rows:
        raise InputError(f"sample_weight has {len(values)} rows, expected {n_rows}")
    return values.astype(np.float64)


def reweighing_weights(y: Any, sensitive: Any, sample_weight: Any = None) -> np.ndarray:
    """Kamiran & Calders reweighing: a weight per row that makes the label independent of the group.

    ``w(g, y) = P(g)·P(y) / P(g, y)``: the expected over the observed (weighted)
    count of the row's (group, label) cell, times the row's initial weight.
    Equal to AIF360's ``Reweighing`` instance weights when there are two groups
    (privileged and unprivileged); with more groups every group is reweighed
    (see :mod:`trustops.core.mitigation.reweighing`).

    Args:
        y: the training labels (any number of classes), one column.
        sensitive: one sensitive column, or several (a pandas/Polars/PyArrow
            frame, a dict of columns or a 2-D array): the groups are then the
            intersections of their values.
        sample_weight: initial non-negative weights; the result is these
            weights times the factors, as AIF360 multiplies ``instance_weights``.

    Returns:
        A float64 array, one weight per row, summing to the total initial
        weight (the number of rows without weights).

    Raises:
        MissingValuesError: a null or NaN label or sensitive value (naming its column).
        InputError: columns of different lengths, bad weights.

    One group or one label gives back the initial weights (all factors are
    1). A group without some label keeps that label's weight at zero.

    Reference: F. Kamiran and T. Calders, "Data preprocessing techniques for
    classification without discrimination", KAIS 33(1), 2012.

    Example:
        >>> import numpy as np, trustops
        >>> w = trustops.reweighing_weights(
        ...     np.array([1, 1, 0, 0]), {"sex": ["f", "m", "f", "m"], "race": list("AABB")})
        >>> w.tolist()  # four intersections with one row each: every factor is P(y)
        [0.5, 0.5, 0.5, 0.5]
    """
    labels, _, _ = label_codes(y)
    groups = group_codes(sensitive, len(labels))
    weights = _sample_weight(sample_weight, len(labels))
    return core.reweighing_weights(groups, labels, sample_weight=weights)


def resample_indices(
    y: Any,
    sensitive: Any,
    *,
    method: str = "uniform",
    score: Any = None,
    pos_label: Any = 1,
    seed: int | None = 0,
) -> np.ndarray:
    """Row indices of a Kamiran & Calders resample: each (group, label) cell at its expected size.

    Each cell gets ``⌊n_g·n_y / n + ½⌋`` rows.

    * ``method="uniform"``: rows removed or duplicated uniformly at random.
    * ``method="preferential"``: rows nearest the decision boundary removed or
      duplicated first, ranked by ``score`` (the probability of ``pos_label``
      from a ranker trained on the original data); binary labels only.

    The same ``seed`` gives the same indices. Take the rows with
    ``X.iloc[idx]`` / ``X[idx]``. Raises :class:`~trustops.errors.EmptyDataError`
    when a group has no row of a label it should get rows of.

    Reference: Kamiran & Calders (2012), sections 4.3 and 4.4.

    Example:
        >>> import trustops.mitigation as tm
        >>> y = [1, 1, 1, 0, 1, 0, 0, 0]; g = ["a"] * 4 + ["b"] * 4
        >>> tm.resample_indices(y, g, method="preferential",
        ...     score=[0.9, 0.8, 0.3, 0.5, 0.6, 0.7, 0.2, 0.1]).tolist()
        [0, 1, 3, 3, 4, 4, 6, 7]
    """
    if method not in RESAMPLING_METHODS:
        raise UsageError(f"method must be one of {', '.join(RESAMPLING_METHODS)}, got {method!r}")
    labels, levels, label = label_codes(y)
    groups = group_codes(sensitive, len(labels))
    if method == "uniform":
        return core.uniform_resample(groups, labels, seed=seed)
    if score is None:
        raise UsageError("preferential resampling needs a score (the ranker's probability)")
    positive = positive_code(levels, pos_label, label)
    values, nulls = to_numpy(score, "score")
    if nulls.any() or values.dtype.kind not in "biuf":
        raise InputError("score must be numeric with no missing values")
    if len(values) != len(labels):
        raise InputError(f"score has {len(values)} rows, expected {len(labels)}")
    return core.preferential_resample(groups, labels, values, positive=positive, seed=seed)


def positive_code(levels: tuple[Any, ...], pos_label: Any, label: str) -> int:
    """The code of ``pos_label`` among two label values; :class:`LabelError` otherwise."""
    if len(levels) != 2:
        raise LabelError(label, f"needs two classes, found {len(levels)}")
    if pos_label not in levels:
        shown = ", ".join(repr(v) for v in levels)
        raise LabelError(label, f"pos_label {pos_label!r} is not a label (labels: {shown})")
    return levels.index(pos_label)
