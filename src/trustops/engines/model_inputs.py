"""Rows for a fitted model: the data's columns matched to the model's inputs, as float64.

A model that names its features (scikit-learn's ``feature_names_in_``, LightGBM's
``feature_name_`` unless they are its ``Column_i`` defaults) is matched **by
name**: the data must hold every one of them; ``feature_names`` given as well
must equal them in order. A model that names none is matched **by position**:
the columns are taken in the order of ``feature_names`` (or of the frame, or
of the array), and their count must equal the model's number of inputs
(``n_features_in_``, LightGBM's ``n_features_``) when the model knows it. Either
way the match is recorded (:attr:`FeatureMatrix.matched_by`), and a mismatch is
an :class:`~trustops.errors.InputError` naming the feature or the counts.

Used by :mod:`trustops.explain` and :mod:`trustops.notices`.

Example:
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> model = LogisticRegression().fit(np.array([[0.0, 1.0], [1.0, 0.0]]), [0, 1])
    >>> m = feature_matrix({"a": [1.0, 2.0], "b": [0.0, 1.0]}, model, ["a", "b"])
    >>> m.names, m.matched_by
    (('a', 'b'), 'position')
    >>> feature_matrix(np.zeros((2, 3)), model)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    trustops.errors.InputError: the data has 3 feature columns for the model's 2 inputs; ...
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from trustops.engines.columns import column_names, get_column, to_numpy
from trustops.errors import EmptyDataError, InputError, MissingColumnError, UnsupportedError

__all__ = [
    "FeatureMatrix",
    "as_model_input",
    "feature_matrix",
    "first_mismatch",
    "model_feature_names",
    "model_input_count",
    "positive_probability",
]


@dataclass(frozen=True, slots=True)
class FeatureMatrix:
    """``values`` (n × p float64) with the feature ``names`` of its columns, the frame library
    the rows came in (``"pandas"``, ``"polars"`` or ``"numpy"``), and how the columns were
    matched to the model's inputs: ``"name"`` or ``"position"``."""

    values: np.ndarray
    names: tuple[str, ...]
    backend: str
    matched_by: str


def model_feature_names(model: Any) -> tuple[str, ...] | None:
    """The feature names the model was fitted with, or ``None`` when it has none."""
    names = getattr(model, "feature_names_in_", None)
    if names is None and type(model).__module__.startswith("lightgbm"):
        names = getattr(model, "feature_name_", None)
        if names is not None and all(n == f"Column_{i}" for i, n in enumerate(names)):
            names = None  # LightGBM's own names for unnamed columns
    return None if names is None else tuple(str(n) for n in names)


def model_input_count(model: Any) -> int | None:
    """How many inputs the fitted model takes, when it says (``None`` otherwise)."""
    for attribute in ("n_features_in_", "n_features_"):
        try:
            count = getattr(model, attribute, None)
        except Exception:  # some libraries raise instead of lacking the attribute
            count = None
        if isinstance(count, int | np.integer):
            return int(count)
    return None


def first_mismatch(given: Sequence[str], expected: Sequence[str]) -> str:
    """The first difference between two lists of feature names, in words."""
    for i, (a, b) in enumerate(zip(given, expected, strict=False)):
        if a != b:
            return f"feature {a!r} at position {i} is {b!r} in the model"
    if len(given) > len(expected):
        return f"feature {given[len(expected)]!r} is not one of the model's"
    return f"the model's feature {expected[len(given)]!r} is missing"


def _check_count(names: Sequence[str], model: Any, what: str) -> None:
    expected = model_input_count(model)
    if expected is None or len(names) == expected:
        return
    extra = f"; the first extra is {names[expected]!r}" if len(names) > expected else ""
    raise InputError(
        f"the {what} has {len(names)} feature columns for the model's {expected} inputs"
        f"{extra} (the model names no features, so columns are matched by position)",
        hint="pass the columns the model was trained on, in its order",
    )


def _not_numeric(column: np.ndarray) -> bool:
    try:
        column.astype(np.float64)
    except (TypeError, ValueError):
        return True
    return False


def _numeric(values: np.ndarray, missing: np.ndarray, name: str) -> np.ndarray:
    if values.dtype.kind == "O" and missing.any():
        values = np.where(missing, np.nan, values)
    try:
        out = values.astype(np.float64)
    except (TypeError, ValueError):
        raise InputError(
            f"feature {name!r} is not numeric ({values.dtype})",
            hint="encode it first, or explain a pipeline on numeric inputs",
        ) from None
    return out


def feature_matrix(
    X: Any, model: Any, feature_names: Sequence[str] | None = None, what: str = "data"
) -> FeatureMatrix:
    """The rows of ``X`` (a pandas/Polars/Arrow table, a dict of columns or a 2-D array) as
    the model's inputs, matched as the module docstring says; ``what`` names ``X`` in errors.

    Missing values become NaN (the caller decides whether the model takes them).
    """
    expected = model_feature_names(model)
    if feature_names is not None:
        feature_names = [str(f) for f in feature_names]
        if expected is not None and tuple(feature_names) != expected:
            mismatch = first_mismatch(feature_names, expected)
            raise InputError(f"feature names do not match the model's: {mismatch}")
    kind = type(X).__module__.split(".")[0]
    if kind in ("pandas", "polars", "pyarrow") or isinstance(X, Mapping):
        available = column_names(X)
        names = list(feature_names or expected or available)
        if expected is None:
            _check_count(names, model, what)
        columns = []
        for name in names:
            if name not in available:
                raise MissingColumnError(name, available=available, role="feature")
            values, missing = to_numpy(get_column(X, name, "feature"), name)
            columns.append(_numeric(values, missing, name))
        if not columns:
            raise EmptyDataError(f"the {what} has no feature columns")
        matrix = np.column_stack(columns)
    else:
        matrix = np.asarray(X)
        if matrix.ndim != 2:
            raise InputError(f"the {what} must be two-dimensional, got shape {matrix.shape}")
        names = list(feature_names or expected or [f"x{j}" for j in range(matrix.shape[1])])
        if len(names) != matrix.shape[1]:
            raise InputError(
                f"{len(names)} feature names for {matrix.shape[1]} columns of the {what}: "
                + first_mismatch(names, [f"column {j}" for j in range(matrix.shape[1])])
            )
        if expected is None:
            _check_count(names, model, what)
        if matrix.dtype.kind not in "biuf":
            try:
                matrix = matrix.astype(np.float64)
            except (TypeError, ValueError):
                j = next(j for j in range(matrix.shape[1]) if _not_numeric(matrix[:, j]))
                raise InputError(
                    f"feature {names[j]!r} is not numeric", hint="encode it first"
                ) from None
        matrix = matrix.astype(np.float64)
    backend = kind if kind in ("pandas", "polars") else "numpy"
    if len(matrix) == 0:
        raise EmptyDataError(f"the {what} has no rows")
    return FeatureMatrix(
        np.ascontiguousarray(matrix, dtype=np.float64),
        tuple(names),
        backend,
        "position" if expected is None else "name",
    )


def as_model_input(model: Any, matrix: np.ndarray, names: Sequence[str], backend: str) -> Any:
    """Rows as the model was fitted on them: a frame when it knows its feature names."""
    if getattr(model, "feature_names_in_", None) is None:
        return matrix
    if backend == "polars" or ("pandas" not in sys.modules and "polars" in sys.modules):
        return sys.modules["polars"].DataFrame(matrix, schema=list(names), orient="row")
    try:
        pd = importlib.import_module("pandas")
    except ImportError as exc:
        raise UnsupportedError(
            "pandas is not installed", hint="pip install 'trustops[pandas]'"
        ) from exc
    return pd.DataFrame(matrix, columns=list(names))


def positive_probability(
    model: Any, names: Sequence[str], backend: str
) -> Callable[[np.ndarray], np.ndarray]:
    """``f(rows) -> P(classes_[1] | row)``: the model's probability of the favourable class.

    Raises an :class:`~trustops.errors.InputError` when the model has no ``predict_proba``.
    """
    if not hasattr(model, "predict_proba"):
        raise InputError(
            f"the model ({type(model).__name__}) has no predict_proba, which this explainer needs",
            hint="pass a classifier, or a tree or linear model for method='auto'",
        )

    def f(rows: np.ndarray) -> np.ndarray:
        return np.asarray(model.predict_proba(as_model_input(model, rows, names, backend)))[:, 1]

    return f
