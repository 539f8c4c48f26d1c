"""Labels at the edge: infer the task, check the label sets, encode classes.

``y_true`` and ``y_pred`` are checked *together*: a binary task has at most
two values across both columns, a multiclass task never mixes numbers and
text, a regression task holds finite numbers.

Example:
    >>> import numpy as np
    >>> t, p, classes = encode_binary(np.array(["no", "yes"]), np.array(["yes", "yes"]),
    ...                               "yes", ("y", "pred"))
    >>> t.tolist(), p.tolist(), classes
    ([0, 1], [1, 1], ('no', 'yes'))
"""

from __future__ import annotations

from typing import Any

import numpy as np

from trustops.core.fairness.counts import level_sort_key
from trustops.errors import LabelError

__all__ = [
    "MAX_CLASSES",
    "check_regression",
    "encode_binary",
    "encode_multiclass",
    "infer_task",
]

MAX_CLASSES = 100
"""More distinct labels than this is not a classification task (``task="auto"`` infers
regression for integers; ``task="multiclass"`` refuses)."""


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
        values = {v.item() if isinstance(v, np.generic) else v for v in a}
        return sorted(values, key=level_sort_key)
    return [v.item() for v in np.unique(a)]


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating))  # bool is an int here


def _shown(values: list[Any]) -> str:
    more = ", …" if len(values) > 8 else ""
    return ", ".join(repr(v) for v in values[:8]) + more


def infer_task(yt: np.ndarray, yp: np.ndarray) -> str:
    """``binary`` for 0/1 or two labels, ``regression`` for other floats or many integers,
    else ``multiclass``."""
    if _is_binary_01(yt) and _is_binary_01(yp):
        return "binary"
    if yt.dtype.kind == "f" or yp.dtype.kind == "f":
        return "regression"
    values = set(_distinct(yt)) | set(_distinct(yp))
    if len(values) <= 2:
        return "binary"
    numeric = yt.dtype.kind in "iu" and yp.dtype.kind in "iu"
    return "regression" if numeric and len(values) > MAX_CLASSES else "multiclass"


def _resolve_pos_label(values: list[Any], pos_label: Any) -> Any:
    """``pos_label`` as it appears among ``values``; text matches too (``"true"`` → True)."""
    if pos_label in values:
        return pos_label
    text = str(pos_label).lower()
    matches = [v for v in values if str(v).lower() == text]
    return matches[0] if len(matches) == 1 else None


def encode_binary(
    yt: np.ndarray, yp: np.ndarray, pos_label: Any, names: tuple[str, str]
) -> tuple[np.ndarray, np.ndarray, tuple[Any, Any]]:
    """0/1 codes (1 = ``pos_label``) of both columns and the classes ``(negative, positive)``."""
    if _is_binary_01(yt) and _is_binary_01(yp) and pos_label in (0, 1):
        negative = 1 - int(pos_label)
        return (
            (yt == pos_label).view(np.int8),
            (yp == pos_label).view(np.int8),
            (negative, pos_label),
        )
    per_column = [_distinct(yt), _distinct(yp)]
    values = sorted(set(per_column[0]) | set(per_column[1]), key=level_sort_key)
    if len(values) > 2:
        wide = [n for n, v in zip(names, per_column, strict=True) if len(v) > 2]
        column = wide[0] if wide else f"{names[0]}' and '{names[1]}"
        raise LabelError(
            column,
            f"a binary task needs at most two label values, found {len(values)}: {_shown(values)}",
            hint="pass task='multiclass' or 'regression', or binarise the labels",
        )
    positive = _resolve_pos_label(values, pos_label)
    if positive is None and (len(values) == 2 or _is_number(values[0]) != _is_number(pos_label)):
        raise LabelError(
            names[0],
            f"pos_label {pos_label!r} is not one of the labels {_shown(values)}",
            hint="pass pos_label=<the favourable label> (CLI: --pos-label)",
        )
    if positive is None:
        positive = pos_label  # one label, of the same kind: every row is negative
    others = [v for v in values if v != positive]
    classes = (others[0] if others else None, positive)
    return (yt == positive).view(np.int8), (yp == positive).view(np.int8), classes


def encode_multiclass(
    yt: np.ndarray, yp: np.ndarray, names: tuple[str, str]
) -> tuple[np.ndarray, np.ndarray, tuple[Any, ...]]:
    """Class codes of both columns into their sorted union of labels."""
    classes = sorted(set(_distinct(yt)) | set(_distinct(yp)), key=level_sort_key)
    # 5 and 5.0 are one class, named "5"
    classes = [int(c) if isinstance(c, float) and c.is_integer() else c for c in classes]
    if len({_is_number(c) for c in classes}) > 1:
        raise LabelError(
            f"{names[0]}' and '{names[1]}",
            f"labels mix numbers and text: {_shown(classes)}",
            hint="give both columns the same type",
        )
    if len(classes) > MAX_CLASSES:
        raise LabelError(
            names[0],
            f"{len(classes)} distinct labels is too many for a multiclass task",
            hint="pass task='regression' for numeric targets",
        )
    index = {c: i for i, c in enumerate(classes)}

    def codes(a: np.ndarray) -> np.ndarray:
        if a.dtype.kind in "iufb":
            lookup = np.asarray(classes, dtype=np.float64)
            return np.searchsorted(lookup, a.astype(np.float64)).astype(np.int64)
        return np.fromiter((index[v] for v in a), dtype=np.int64, count=len(a))

    return codes(yt), codes(yp), tuple(classes)


def check_regression(yt: np.ndarray, yp: np.ndarray, names: tuple[str, str]) -> None:
    """Regression labels are finite numbers."""
    for a, name in zip((yt, yp), names, strict=True):
        if a.dtype.kind not in "biuf":
            raise LabelError(name, f"regression needs numbers, got {a.dtype}")
        bad = int(np.count_nonzero(~np.isfinite(a.astype(np.float64, copy=False))))
        if bad:
            raise LabelError(name, f"{bad} value(s) are infinite", hint="drop or clip those rows")
