"""Explanations of a model's predictions: adapters over SHAP and LIME, as evidence.

:func:`explain` picks an explainer for the model and returns an
:class:`Explanation`: one attribution per row and feature (``values``, n × p)
and the value they are measured from (``base_values``), in a documented unit
(``output``):

=====================  ==========================  ==================================
model                  explainer (``method``)      ``output``
=====================  ==========================  ==================================
tree ensemble          TreeSHAP (``"tree"``)       ``"probability"`` with a
(scikit-learn,                                     ``background`` (interventional);
LightGBM, XGBoost)                                 without one (path-dependent), the
                                                   model's raw margin: ``"log_odds"``
                                                   for boosted classifiers,
                                                   ``"probability"`` for forests
logistic regression    LinearSHAP (``"linear"``)   ``"log_odds"``
linear regression      LinearSHAP                  ``"raw"``
anything with          Permutation SHAP            ``"probability"``
``predict_proba``      (``"permutation"``) or
                       Kernel SHAP (``"kernel"``)
the same               LIME (``"lime"``)           ``"probability"`` (local surrogate)
=====================  ==========================  ==================================

Classifiers must be binary; the explained class is the second
(``classes_[1]``, the favourable one when the label is 1 = approved/repaid).
SHAP values add up (Lundberg & Lee 2017): ``f(x) = base_value + Σ_j values[j]``,
where ``base_value`` is the mean of ``f`` over the background. LIME's do not:
``base_value + Σ values`` is the local surrogate's prediction at ``x``.

The background (``baseline``) is identified by :attr:`Explanation.baseline_hash`:
SHA-256 of ``b"trustops-baseline-v1\\n"``, the JSON list of feature names, a
newline, the shape as ``"n,p\\n"``, then the background as little-endian
float64 in row-major order. It is ``None`` when no background was used
(path-dependent TreeSHAP measures from the training data's tree cover).

Example:
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> X = np.array([[0.0, 1.0], [1.0, 0.0], [2.0, 1.0], [3.0, 0.0]])
    >>> model = LogisticRegression().fit(X, [0, 0, 1, 1])
    >>> e = explain(model, X, feature_names=["income", "debts"])
    >>> e.method, e.output, list(e.importance())
    ('linear', 'log_odds', ['income', 'debts'])
    >>> bool(np.allclose(e.values.sum(1) + e.base_values, model.decision_function(X)))
    True
"""

from __future__ import annotations

import hashlib
import importlib
import io
import json
import math
import sys
import types
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from trustops.engines.columns import to_numpy
from trustops.engines.model_inputs import (
    FeatureMatrix,
    as_model_input,
    feature_matrix,
    first_mismatch,
    positive_probability,
)
from trustops.errors import InputError, MissingValuesError, UnsupportedError, UsageError

__all__ = [
    "METHODS",
    "Explanation",
    "GroupImportance",
    "Stability",
    "check_adds_up",
    "explain",
    "explanation_stability",
    "top_k_agreement",
]

METHODS = ("auto", "tree", "linear", "permutation", "kernel", "lime")
DEFAULT_BACKGROUND_ROWS = 100
"""Rows sampled from ``X`` as the background when none is given (sampling explainers)."""

_TREE_SKLEARN = {
    "GradientBoostingClassifier",
    "GradientBoostingRegressor",
    "HistGradientBoostingClassifier",
    "HistGradientBoostingRegressor",
    "RandomForestClassifier",
    "RandomForestRegressor",
    "ExtraTreesClassifier",
    "ExtraTreesRegressor",
    "DecisionTreeClassifier",
    "DecisionTreeRegressor",
}
_LINEAR_SKLEARN = {"LogisticRegression", "LinearRegression", "Ridge", "Lasso", "ElasticNet"}
_TAKES_NAN = {"HistGradientBoostingClassifier", "HistGradientBoostingRegressor"}
_MARGIN_IS_PROBABILITY = {
    "RandomForestClassifier",
    "ExtraTreesClassifier",
    "DecisionTreeClassifier",
}


def _package(name: str, extra: str = "explain") -> Any:
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        raise UnsupportedError(
            f"{name.split('.')[0]} is not installed",
            hint=f"pip install 'trustops[{extra}]'",
        ) from exc


def _version(module: str) -> str:
    return str(getattr(sys.modules[module.split(".")[0]], "__version__", "unknown"))


# -- results -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class GroupImportance:
    """Mean |attribution| per feature within each group of one sensitive column.

    ``values[g, j]`` is the mean of ``|values[i, j]|`` over the rows ``i`` of
    group ``groups[g]``; rows of a group sum to its share of the model's reliance.
    """

    column: str
    groups: tuple[Any, ...]
    features: tuple[str, ...]
    values: np.ndarray
    counts: tuple[int, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "column": self.column,
            "groups": {
                str(g): {
                    "count": c,
                    "importance": dict(zip(self.features, map(float, row), strict=True)),
                }
                for g, c, row in zip(self.groups, self.counts, self.values, strict=True)
            },
        }


@dataclass(frozen=True, slots=True)
class Explanation:
    """Attributions of one model on rows of data, with what they explain and from where.

    ``values[i, j]`` is feature ``j``'s contribution to row ``i``'s ``output``
    relative to ``base_values[i]``; ``data`` holds the explained feature values;
    ``matched_by`` says how the data's columns were matched to the model's inputs:
    ``"name"``, or ``"position"`` for a model that names no features.
    """

    values: np.ndarray
    base_values: np.ndarray
    feature_names: tuple[str, ...]
    output: str
    method: str
    explainer: str
    explainer_version: str
    baseline_hash: str | None
    background_rows: int
    data: np.ndarray | None = None
    matched_by: str = "name"
    _groups: dict[str, GroupImportance] = field(default_factory=dict, repr=False, compare=False)

    def importance(self) -> dict[str, float]:
        """Mean |value| per feature, largest first; ties by feature name."""
        means = np.abs(self.values).mean(axis=0)
        pairs = sorted(zip(self.feature_names, means.tolist(), strict=True), key=_by_size)
        return dict(pairs)

    def attributions(self, i: int) -> dict[str, float]:
        """Row ``i``'s attributions, feature → value: the input of ``principal_reasons``."""
        n = len(self.values)
        if not -n <= i < n:
            raise UsageError(f"row {i} is out of range for {n} explained rows")
        return dict(zip(self.feature_names, map(float, self.values[i]), strict=True))

    def by_group(self, sensitive: Any, *, name: str | None = None) -> GroupImportance:
        """Mean |value| per feature per group; kept for :meth:`to_dict`.

        ``sensitive`` is one column (array, list, pandas/Polars series or Arrow
        array) with one value per explained row.
        """
        column = name or str(getattr(sensitive, "name", None) or "sensitive")
        values, missing = to_numpy(sensitive, column)
        if len(values) != len(self.values):
            raise InputError(
                f"column {column!r} has {len(values)} values for {len(self.values)} explained rows"
            )
        if missing.any():
            raise MissingValuesError(column, int(missing.sum()))
        groups = sorted(set(values.tolist()), key=lambda g: (str(type(g)), g))
        absolute = np.abs(self.values)
        table = np.array([absolute[values == g].mean(axis=0) for g in groups])
        counts = tuple(int((values == g).sum()) for g in groups)
        result = GroupImportance(column, tuple(groups), self.feature_names, table, counts)
        self._groups[column] = result
        return result

    @property
    def base_value(self) -> float:
        """The mean base value (SHAP: the same for every row)."""
        return float(np.mean(self.base_values))

    def to_dict(self, *, include_values: bool = False) -> dict[str, Any]:
        """JSON-safe evidence; the n × p matrix only with ``include_values=True``."""
        out: dict[str, Any] = {
            "method": self.method,
            "explainer": self.explainer,
            "explainer_version": self.explainer_version,
            "output": self.output,
            "base_value": self.base_value,
            "n_rows": len(self.values),
            "features": list(self.feature_names),
            "features_matched_by": self.matched_by,
            "importance": self.importance(),
            "baseline_hash": self.baseline_hash,
            "background_rows": self.background_rows,
        }
        if self._groups:
            out["by_group"] = {k: g.to_dict() for k, g in sorted(self._groups.items())}
        if include_values:
            out["values"] = self.values.tolist()
            out["base_values"] = self.base_values.tolist()
        return out

    def plot_bar(self, *, max_display: int = 10) -> str:
        """A bar chart of :meth:`importance` as SVG text (needs matplotlib)."""
        items = list(self.importance().items())[:max_display][::-1]
        with _figure(len(items)) as (fig, ax):
            ax.barh([k for k, _ in items], [v for _, v in items], color="#3b6ea8")
            ax.set_xlabel(f"mean |attribution| ({self.output})")
        return fig.svg

    def plot_beeswarm(self, *, max_display: int = 10, seed: int = 0) -> str:
        """Each row's attribution per feature, coloured by the feature's value, as SVG text."""
        order = list(self.importance())[:max_display][::-1]
        rng = np.random.default_rng(seed)
        with _figure(len(order)) as (fig, ax):
            for y, feature in enumerate(order):
                j = self.feature_names.index(feature)
                x = self.values[:, j]
                colour = _ranks(self.data[:, j]) if self.data is not None else None
                jitter = rng.uniform(-0.3, 0.3, len(x))
                ax.scatter(x, y + jitter, c=colour, cmap="coolwarm", s=6, vmin=0, vmax=1)
            ax.set_yticks(range(len(order)), order)
            ax.axvline(0, color="#888", lw=0.8)
            ax.set_xlabel(f"attribution ({self.output}); colour: feature value, low to high")
        return fig.svg


def _by_size(pair: tuple[str, float]) -> tuple[float, str]:
    return (-pair[1], pair[0])


def _ranks(column: np.ndarray) -> np.ndarray:
    ranks = np.argsort(np.argsort(column, kind="stable"), kind="stable").astype(float)
    return ranks / max(len(column) - 1, 1)


class _figure:
    """A matplotlib Figure without pyplot (no global backend); ``fig.svg`` after the block."""

    def __init__(self, rows: int) -> None:
        self.rows = rows

    def __enter__(self) -> tuple[Any, Any]:
        mpl = _package("matplotlib", "dev")
        self.context = mpl.rc_context({"svg.hashsalt": "trustops", "svg.fonttype": "none"})
        self.context.__enter__()
        figure = importlib.import_module("matplotlib.figure")
        self.fig = figure.Figure(figsize=(6.4, 0.9 + 0.35 * max(self.rows, 1)), layout="tight")
        return self.fig, self.fig.add_subplot()

    def __exit__(self, *exc: object) -> None:
        try:
            if exc[0] is None:
                buffer = io.StringIO()
                self.fig.savefig(buffer, format="svg", metadata={"Date": None})
                self.fig.svg = buffer.getvalue()
        finally:
            self.context.__exit__(None, None, None)


# -- input ---------------------------------------------------------------------


def _check_complete(matrix: FeatureMatrix, what: str, why: str) -> None:
    bad = np.isnan(matrix.values).sum(axis=0)
    if bad.any():
        j = int(np.flatnonzero(bad)[0])
        raise MissingValuesError(
            matrix.names[j],
            int(bad[j]),
            hint=f"the {why} cannot take missing values in the {what}; impute them first",
        )


def baseline_hash(background: np.ndarray, names: Sequence[str]) -> str:
    """SHA-256 of a background's canonical bytes (see the module docstring)."""
    array = np.ascontiguousarray(background, dtype="<f8")
    hasher = hashlib.sha256(b"trustops-baseline-v1\n")
    hasher.update(json.dumps(list(names)).encode() + b"\n")
    hasher.update(f"{array.shape[0]},{array.shape[1]}\n".encode())
    hasher.update(array.tobytes())
    return hasher.hexdigest()


# -- models --------------------------------------------------------------------


def _family(model: Any) -> str:
    cls = type(model).__name__
    module = type(model).__module__
    if module.startswith(("lightgbm", "xgboost")) or (
        module.startswith("sklearn") and cls in _TREE_SKLEARN
    ):
        return "tree"
    if module.startswith("sklearn") and cls in _LINEAR_SKLEARN:
        return "linear"
    return "agnostic"


def _is_classifier(model: Any) -> bool:
    return hasattr(model, "predict_proba") and hasattr(model, "classes_")


def _check_binary(model: Any) -> None:
    classes = getattr(model, "classes_", None)
    if classes is not None and len(classes) != 2:
        raise UnsupportedError(
            f"the model has {len(classes)} classes; trustops explains binary classifiers",
            hint="explain a one-vs-rest model of the favourable class",
        )


# -- explain -------------------------------------------------------------------


def explain(
    model: Any,
    X: Any,
    *,
    background: Any = None,
    method: str = "auto",
    budget: int = 2000,
    seed: int = 0,
    feature_names: Sequence[str] | None = None,
) -> Explanation:
    """Explain ``model``'s predictions on ``X`` (see the module docstring for what is explained).

    Args:
        model: a fitted binary classifier or regressor.
        X: the rows to explain: pandas, Polars, Arrow, a dict of columns, or a 2-D array.
            With a frame and a model that knows its feature names, those columns are taken.
        background: rows the attributions are measured from (SHAP's masker data); for
            trees it switches to interventional TreeSHAP on the probability. Default: none
            for trees, ``X`` for linear models, 100 rows sampled from ``X`` otherwise.
        method: ``"auto"`` (by model type), ``"tree"``, ``"linear"``, ``"permutation"``,
            ``"kernel"`` or ``"lime"``.
        budget: model evaluations per row for the sampling explainers (permutation:
            ``max_evals``; kernel: ``nsamples``; LIME: ``num_samples``).
        seed: seeds the sampling explainers and the default background sample.
        feature_names: the columns to explain (frames) or the names of the array's columns.
    """
    if method not in METHODS:
        raise UsageError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
    if not isinstance(budget, int) or budget < 1:
        raise UsageError(f"budget must be a positive whole number, got {budget!r}")
    shap = _package("shap")
    data = feature_matrix(X, model, feature_names, "data")
    names = data.names
    family = _family(model)
    if method == "auto":
        method = {"tree": "tree", "linear": "linear"}.get(family, "permutation")
    if method in ("tree", "linear") and family != method:
        raise UnsupportedError(
            f"method={method!r} does not support {type(model).__name__}",
            hint="use method='permutation' (any model with predict_proba)",
        )
    if _is_classifier(model):
        _check_binary(model)
    bg = None
    if background is not None:
        bg = feature_matrix(background, model, names, "background")
        if bg.names != names:
            raise InputError(f"background columns do not match: {first_mismatch(bg.names, names)}")
    takes_nan = method == "tree" and (
        not type(model).__module__.startswith("sklearn") or type(model).__name__ in _TAKES_NAN
    )
    if not takes_nan:
        _check_complete(data, "data", f"{method} explainer for {type(model).__name__}")
        if bg is not None:
            _check_complete(bg, "background", f"{method} explainer")
    if method == "tree":
        values, base, output, used, name = _tree(shap, model, data, bg)
    elif method == "linear":
        used = bg.values if bg is not None else data.values
        values, base, output, name = _linear(shap, model, data, used)
    else:
        used = bg.values if bg is not None else _sample(data.values, seed)
        if method == "lime":
            values, base = _lime(model, data, used, budget, seed)
            return Explanation(
                values,
                base,
                names,
                "probability",
                "lime",
                "lime.lime_tabular.LimeTabularExplainer",
                _version("lime"),
                baseline_hash(used, names),
                len(used),
                data.values,
                data.matched_by,
            )
        values, base, name = _sampling(shap, model, data, used, method, budget, seed)
        output = "probability"
    return Explanation(
        values,
        base,
        names,
        output,
        method,
        name,
        _version("shap"),
        None if used is None else baseline_hash(used, names),
        0 if used is None else len(used),
        data.values,
        data.matched_by,
    )


def _sample(values: np.ndarray, seed: int) -> np.ndarray:
    if len(values) <= DEFAULT_BACKGROUND_ROWS:
        return values
    rows = np.random.default_rng(seed).choice(len(values), DEFAULT_BACKGROUND_ROWS, replace=False)
    return values[np.sort(rows)]


def _class_one(values: np.ndarray, base: Any, n: int) -> tuple[np.ndarray, np.ndarray]:
    values = np.asarray(values, dtype=np.float64)
    base = np.asarray(base, dtype=np.float64)
    if values.ndim == 3:  # one slice per class: keep the favourable class
        values, base = values[:, :, 1], base[..., 1]
    return values, np.broadcast_to(base, (n,)).astype(np.float64)


def _tree(
    shap: Any, model: Any, data: FeatureMatrix, bg: FeatureMatrix | None
) -> tuple[np.ndarray, np.ndarray, str, np.ndarray | None, str]:
    cls = type(model).__name__
    x = data.values
    used = None if bg is None else bg.values
    classifier = _is_classifier(model)
    if used is None:
        explainer = shap.TreeExplainer(model, feature_perturbation="tree_path_dependent")
        output = "log_odds" if classifier and cls not in _MARGIN_IS_PROBABILITY else "raw"
        output = "probability" if classifier and cls in _MARGIN_IS_PROBABILITY else output
    else:
        output = "probability" if classifier else "raw"
        explainer = shap.TreeExplainer(
            model, data=used, feature_perturbation="interventional", model_output=output
        )
    result = explainer(x, check_additivity=False)
    values, base = _class_one(result.values, result.base_values, len(x))
    if classifier:
        check_adds_up(values, base, output, model, data)
    return values, base, output, used, "shap.TreeExplainer"


ADDITIVITY_TOLERANCE = 1e-5
"""Largest |f(x) − base − Σ values| accepted from SHAP's tree explainers (XGBoost: float32)."""


def check_adds_up(
    values: np.ndarray, base: np.ndarray, output: str, model: Any, data: FeatureMatrix
) -> None:
    """Refuse attributions that do not add up to the model's ``output`` on ``data``
    (a known failure of shap's interventional TreeSHAP on some scikit-learn ensembles):
    an :class:`~trustops.errors.UnsupportedError` when some row's
    ``|f(x) − base − Σ values| / max(1, |f(x)|)`` exceeds :data:`ADDITIVITY_TOLERANCE`.

    Example:
        >>> from sklearn.linear_model import LogisticRegression
        >>> from trustops.engines.model_inputs import feature_matrix
        >>> X = np.array([[0.0, 1.0], [1.0, 0.0], [2.0, 1.0], [3.0, 0.0]])
        >>> model = LogisticRegression().fit(X, [0, 0, 1, 1])
        >>> e = explain(model, X)
        >>> check_adds_up(e.values, e.base_values, e.output, model, feature_matrix(X, model))
    """
    f = positive_probability(model, data.names, data.backend)(data.values)
    if output == "log_odds":
        f = np.log(f) - np.log1p(-f)
    scale = np.maximum(1.0, np.abs(f))
    error = np.abs(values.sum(axis=1) + base - f) / scale
    finite = np.isfinite(error)
    if finite.any() and error[finite].max() > ADDITIVITY_TOLERANCE:
        raise UnsupportedError(
            f"shap's TreeSHAP attributions for {type(model).__name__} do not add up to its "
            f"{output.replace('_', '-')} (off by up to {error[finite].max():.3g})",
            hint="explain it without a background (path-dependent) or with method='permutation'",
        )


def _linear(
    shap: Any, model: Any, data: FeatureMatrix, used: np.ndarray
) -> tuple[np.ndarray, np.ndarray, str, str]:
    coef = np.asarray(model.coef_)
    if coef.ndim == 2 and coef.shape[0] != 1:
        raise UnsupportedError(f"a linear model with {coef.shape[0]} outputs is not supported")
    result = shap.LinearExplainer(model, used)(data.values)
    values, base = _class_one(result.values, result.base_values, len(data.values))
    output = "log_odds" if _is_classifier(model) else "raw"
    return values, base, output, "shap.LinearExplainer"


def _sampling(
    shap: Any,
    model: Any,
    data: FeatureMatrix,
    used: np.ndarray,
    method: str,
    budget: int,
    seed: int,
) -> tuple[np.ndarray, np.ndarray, str]:
    f = positive_probability(model, data.names, data.backend)
    p = data.values.shape[1]
    if method == "permutation":
        if budget < 2 * p + 1:
            raise UsageError(f"budget must be at least 2 × features + 1 = {2 * p + 1}")
        masker = shap.maskers.Independent(used, max_samples=len(used))
        explainer = shap.PermutationExplainer(f, masker, seed=seed)
        result = explainer(data.values, max_evals=budget, silent=True)
        values, base = _class_one(result.values, result.base_values, len(data.values))
        return values, base, "shap.PermutationExplainer"
    state = np.random.get_state()  # Kernel SHAP draws from NumPy's global generator
    try:
        np.random.seed(seed)
        explainer = shap.KernelExplainer(f, used)
        values = explainer.shap_values(data.values, nsamples=budget, silent=True)
    finally:
        np.random.set_state(state)
    values, base = _class_one(values, explainer.expected_value, len(data.values))
    return values, base, "shap.KernelExplainer"


def _lime(
    model: Any, data: FeatureMatrix, used: np.ndarray, budget: int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    lime_tabular = _package("lime.lime_tabular")
    f = positive_probability(model, data.names, data.backend)

    def both(rows: np.ndarray) -> np.ndarray:
        p1 = f(rows)
        return np.column_stack([1 - p1, p1])

    explainer = lime_tabular.LimeTabularExplainer(
        used, feature_names=list(data.names), mode="classification", random_state=seed
    )
    p = len(data.names)
    values = np.zeros_like(data.values)
    base = np.zeros(len(data.values))
    for i, row in enumerate(data.values):
        found = explainer.explain_instance(
            row, both, labels=(1,), num_features=p, num_samples=budget
        )
        for j, weight in found.local_exp[1]:
            values[i, j] = weight
        base[i] = found.intercept[1]
    return values, base


# -- stability -----------------------------------------------------------------


def top_k_agreement(a: np.ndarray, b: np.ndarray, k: int) -> float:
    """Mean over rows of ``|top_k(a_i) ∩ top_k(b_i)| / k``, ranking by |value| (ties by column).

    Example:
        >>> top_k_agreement(np.array([[3.0, -2.0, 1.0]]), np.array([[1.0, 2.0, 3.0]]), 2)
        0.5
    """
    a, b = np.atleast_2d(a), np.atleast_2d(b)
    if a.shape != b.shape:
        raise InputError(f"attributions of shapes {a.shape} and {b.shape} cannot be compared")
    k = min(k, a.shape[1])
    top_a = np.argsort(-np.abs(a), axis=1, kind="stable")[:, :k]
    top_b = np.argsort(-np.abs(b), axis=1, kind="stable")[:, :k]
    shared = [len(set(ra) & set(rb)) for ra, rb in zip(top_a.tolist(), top_b.tolist(), strict=True)]
    return float(np.mean(shared) / k)


@dataclass(frozen=True, slots=True)
class Stability:
    """Top-k agreement of explanations: across seeds, and under small perturbations of X."""

    k: int
    noise: float
    repeats: int
    across_seeds: float
    under_perturbation: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "k": self.k,
            "noise": self.noise,
            "repeats": self.repeats,
            "across_seeds": self.across_seeds,
            "under_perturbation": self.under_perturbation,
        }


def explanation_stability(
    model: Any,
    X: Any,
    *,
    k: int = 3,
    noise: float = 0.01,
    repeats: int = 3,
    seed: int = 0,
    **options: Any,
) -> Stability:
    """How stable the top-``k`` features of each row's explanation are.

    ``across_seeds``: agreement of the explanation with seed ``seed`` and with
    seeds ``seed+1 … seed+repeats``. ``under_perturbation``: agreement with
    explanations of ``X + ε``, ``ε_j ~ N(0, (noise·sd_j)²)`` per column ``j``.
    Both are in [0, 1]; 1.0 means the same top-k features every time.
    ``options`` are passed to :func:`explain`.
    """
    if repeats < 1 or k < 1 or noise < 0 or not math.isfinite(noise):
        raise UsageError("k and repeats must be at least 1, noise a non-negative number")
    reference = explain(model, X, seed=seed, **options)
    names = reference.feature_names
    matrix = reference.data if reference.data is not None else np.empty((0, 0))
    sd = np.nanstd(matrix, axis=0)
    rng = np.random.default_rng(seed)
    seeds, perturbed = [], []
    for r in range(1, repeats + 1):
        again = explain(model, X, seed=seed + r, **options)
        seeds.append(top_k_agreement(reference.values, again.values, k))
        moved = matrix + rng.normal(0.0, 1.0, matrix.shape) * noise * sd
        options_moved = {**options, "feature_names": names}
        shifted = explain(model, _like(model, moved, names), seed=seed, **options_moved)
        perturbed.append(top_k_agreement(reference.values, shifted.values, k))
    return Stability(k, noise, repeats, float(np.mean(seeds)), float(np.mean(perturbed)))


def _like(model: Any, matrix: np.ndarray, names: Sequence[str]) -> Any:
    if getattr(model, "feature_names_in_", None) is None:
        return matrix
    return as_model_input(model, matrix, names, "pandas" if "pandas" in sys.modules else "polars")


class _CallableModule(types.ModuleType):
    """``import trustops.explain`` binds this module to ``trustops.explain``, shadowing the
    function of the same name; calling the module calls the function, so both work."""

    def __call__(self, *args: Any, **kwargs: Any) -> Explanation:
        return explain(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
