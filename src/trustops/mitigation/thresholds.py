"""Post-processing: a scikit-learn estimator with a threshold per group.

:class:`ThresholdOptimizer` wraps a classifier's score (``predict_proba`` or
``decision_function``) and picks, for every group of the sensitive feature(s),
a randomised threshold so that the decisions meet a fairness constraint while
keeping as much accuracy (or balanced accuracy) as possible: the method of
Hardt, Price & Srebro (2016) as in Fairlearn's ``ThresholdOptimizer``, solved
exactly (:mod:`trustops.core.mitigation.thresholds` has the formulas).

**Disparate treatment.** The decision for a person depends on their protected
attribute: the same score can be approved for one group and denied for another.
That is unlawful in some uses (e.g. employment and credit decisions in the
US). The class says so in ``uses_protected_attribute_at_decision = True`` so
that comparison reports and policies can flag or forbid it.

Example:
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from trustops.datasets import make_credit
    >>> data = make_credit(4000, seed=1)
    >>> X = np.column_stack([data[c] for c in ("income", "debt_ratio", "zip_score")])
    >>> opt = ThresholdOptimizer(LogisticRegression(), constraint="demographic_parity")
    >>> opt = opt.fit(X, data["approved"], sensitive_features=data["race"])
    >>> len({round(t.selection_rate, 9) for t in opt.thresholds_.values()})  # one rate
    1
    >>> decisions = opt.predict(X, sensitive_features=data["race"], random_state=0)
    >>> rates = [decisions[data["race"] == g].mean() for g in "ABCDE"]
    >>> bool(max(rates) - min(rates) < 0.05)
    True
    >>> ThresholdOptimizer.uses_protected_attribute_at_decision
    True
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, MetaEstimatorMixin, clone
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted

from trustops.core.mitigation.thresholds import (
    CONSTRAINTS,
    OBJECTIVES,
    GroupThreshold,
    ThresholdSolution,
    draw_decisions,
    optimize_thresholds,
    selection_probability,
)
from trustops.engines.columns import column_names, encode_groups, get_column, to_numpy
from trustops.errors import InputError, LabelError, MissingValuesError, UsageError

__all__ = ["ThresholdOptimizer"]

DEFAULT_NAME = "sensitive_features"


def _is_frame(obj: Any) -> bool:
    module = type(obj).__module__.split(".")[0]
    return isinstance(obj, Mapping) or (
        module in ("pandas", "polars", "pyarrow") and hasattr(obj, "columns")
    )


def _sensitive_columns(sensitive_features: Any, n_rows: int) -> dict[str, Any]:
    """Name → column: one column, or every column of a frame (groups are their combinations)."""
    if sensitive_features is None:
        raise UsageError(
            "sensitive_features is required: ThresholdOptimizer picks a threshold per group",
            hint="pass the protected attribute(s) as sensitive_features=...",
        )
    if _is_frame(sensitive_features):
        names = column_names(sensitive_features)
        if not names:
            raise UsageError("sensitive_features has no columns")
        cols = {n: get_column(sensitive_features, n, "sensitive") for n in names}
    else:
        if isinstance(sensitive_features, str):
            raise UsageError(
                f"sensitive_features must hold one value per row, got the string "
                f"{sensitive_features!r}",
                hint="pass the column itself (e.g. data[name]), not its name",
            )
        name = getattr(sensitive_features, "name", None)
        cols = {str(name) if name else DEFAULT_NAME: sensitive_features}
    for name, col in cols.items():
        if len(col) != n_rows:
            raise InputError(f"sensitive feature {name!r} has {len(col)} rows, X has {n_rows}")
    return cols


def _group_keys(cols: dict[str, Any]) -> tuple[list[Any], np.ndarray]:
    """Distinct groups (a value, or a tuple of values for several columns) and row codes."""
    encoded = [encode_groups(col, name) for name, col in cols.items()]
    if len(encoded) == 1:
        return list(encoded[0].levels), encoded[0].codes
    sizes = [len(e.levels) for e in encoded]
    combined = np.ravel_multi_index([e.codes for e in encoded], sizes)
    used, codes = np.unique(combined, return_inverse=True)
    parts = np.unravel_index(used, sizes)
    keys = [
        tuple(e.levels[int(p[i])] for e, p in zip(encoded, parts, strict=True))
        for i in range(len(used))
    ]
    return keys, codes.astype(np.int64)


def _labels(y: Any) -> np.ndarray:
    arr, nulls = to_numpy(y, "y")
    if nulls.any():
        raise MissingValuesError("y", int(nulls.sum()))
    return arr


class ThresholdOptimizer(MetaEstimatorMixin, BaseEstimator):
    """A classifier that thresholds ``estimator``'s score per group to meet a constraint.

    **It uses the protected attribute at decision time** (disparate treatment):
    ``predict`` needs ``sensitive_features`` and applies a different threshold
    to each group. ``uses_protected_attribute_at_decision`` is ``True`` so
    reports flag it; some uses forbid it by law.

    Parameters:
        estimator: a scikit-learn classifier with ``predict_proba`` or
            ``decision_function``.
        constraint: ``"demographic_parity"`` (equal selection rates),
            ``"equal_opportunity"`` (equal true-positive rates),
            ``"equalized_odds"`` (equal true- and false-positive rates) or
            ``"impact_ratio"`` (every group's selection rate at least
            ``min_impact_ratio`` times the highest).
        min_impact_ratio: ``r`` of the impact-ratio constraint (0.8 is the
            four-fifths rule); ignored by the others.
        objective: ``"accuracy"`` or ``"balanced_accuracy"``, maximised under
            the constraint.
        prefit: use ``estimator`` as already fitted (thresholds are then fitted
            on the data given to ``fit``, ideally held out from training);
            otherwise a clone is fitted first on the same data.
        random_state: seed of the draws that randomise decisions between two
            thresholds; ``predict(random_state=...)`` overrides it. ``None``
            draws fresh randomness on every call.

    Attributes:
        estimator_: the fitted classifier.
        classes_: the two labels; ``classes_[1]`` is the positive one.
        sensitive_names_: the sensitive feature names seen by ``fit``.
        groups_: the groups (values, or tuples of values for several columns).
        solution_: the :class:`ThresholdSolution` (per-group rules and rates).

    The constraint holds exactly in expectation on the data given to ``fit``
    and up to sampling error on other data.
    """

    uses_protected_attribute_at_decision = True

    def __init__(
        self,
        estimator: Any = None,
        constraint: str = "demographic_parity",
        min_impact_ratio: float = 0.8,
        objective: str = "accuracy",
        prefit: bool = False,
        random_state: int | np.random.Generator | None = None,
    ) -> None:
        self.estimator = estimator
        self.constraint = constraint
        self.min_impact_ratio = min_impact_ratio
        self.objective = objective
        self.prefit = prefit
        self.random_state = random_state

    def fit(
        self,
        X: Any,
        y: Any,
        *,
        sensitive_features: Any,
        sample_weight: Any = None,
        **fit_params: Any,
    ) -> ThresholdOptimizer:
        """Fit the estimator (unless ``prefit``), then the per-group thresholds."""
        if self.estimator is None:
            raise UsageError(
                "estimator is required", hint="ThresholdOptimizer(LogisticRegression())"
            )
        if self.constraint not in CONSTRAINTS:
            raise UsageError(
                f"constraint must be one of {', '.join(CONSTRAINTS)}, got {self.constraint!r}"
            )
        if self.objective not in OBJECTIVES:
            raise UsageError(
                f"objective must be one of {', '.join(OBJECTIVES)}, got {self.objective!r}"
            )
        labels = _labels(y)
        cols = _sensitive_columns(sensitive_features, len(labels))
        classes = np.unique(labels)
        if len(classes) != 2:
            raise LabelError(
                "y",
                f"ThresholdOptimizer needs two classes, found {len(classes)}"
                + (f" ({classes[0]!r})" if len(classes) == 1 else ""),
            )
        weights = None if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
        if self.prefit:
            try:
                check_is_fitted(self.estimator)
            except NotFittedError:
                raise UsageError(
                    f"prefit=True but {type(self.estimator).__name__} is not fitted",
                    hint="fit it first, or pass prefit=False",
                ) from None
            self.estimator_ = self.estimator
        else:
            est = clone(self.estimator)
            if weights is not None:
                fit_params = {**fit_params, "sample_weight": weights}
            self.estimator_ = est.fit(X, labels, **fit_params)
        self.classes_ = classes
        scores = self._scores(X)
        groups, codes = _group_keys(cols)
        self.sensitive_names_ = tuple(cols)
        self.groups_ = tuple(groups)
        self.solution_: ThresholdSolution = optimize_thresholds(
            scores,
            (labels == classes[1]).astype(np.int64),
            codes,
            groups,
            constraint=self.constraint,
            objective=self.objective,
            min_impact_ratio=float(self.min_impact_ratio),
            sample_weight=weights,
            attribute=", ".join(self.sensitive_names_),
        )
        return self

    @property
    def thresholds_(self) -> dict[Any, GroupThreshold]:
        """Group → its rule (thresholds, mixing probabilities, fitted rates)."""
        check_is_fitted(self, "solution_")
        return dict(zip(self.groups_, self.solution_.thresholds, strict=True))

    def _scores(self, X: Any) -> np.ndarray:
        est = self.estimator_
        name = type(est).__name__
        if hasattr(est, "predict_proba"):
            proba = np.asarray(est.predict_proba(X))
            est_classes = list(getattr(est, "classes_", self.classes_))
            if self.classes_[1] not in est_classes:
                raise LabelError(
                    "y", f"{name} was not fitted with the positive class {self.classes_[1]!r}"
                )
            return proba[:, est_classes.index(self.classes_[1])].astype(np.float64)
        if hasattr(est, "decision_function"):
            raw = np.asarray(est.decision_function(X), dtype=np.float64)
            if raw.ndim != 1:
                raise UsageError(f"{name}.decision_function gives one score per class, not one")
            return raw
        raise UsageError(
            f"{name} has neither predict_proba nor decision_function; "
            "ThresholdOptimizer needs a score to threshold",
            hint="use a classifier with predict_proba (e.g. LogisticRegression)",
        )

    def _codes(self, X: Any, sensitive_features: Any) -> np.ndarray:
        n_rows = len(X) if not hasattr(X, "shape") else int(X.shape[0])
        cols = _sensitive_columns(sensitive_features, n_rows)
        if tuple(cols) != self.sensitive_names_:
            if len(cols) == len(self.sensitive_names_) == 1:
                cols = {self.sensitive_names_[0]: next(iter(cols.values()))}
            else:
                missing = [n for n in self.sensitive_names_ if n not in cols]
                raise InputError(
                    f"sensitive features {list(cols)} do not match those seen at fit "
                    f"time {list(self.sensitive_names_)}"
                    + (f" (missing {missing[0]!r})" if missing else "")
                )
        keys, codes = _group_keys(cols)
        index = {g: i for i, g in enumerate(self.groups_)}
        unseen = [k for k in keys if k not in index]
        if unseen:
            names = ", ".join(self.sensitive_names_)
            raise InputError(
                f"sensitive feature {names!r} has group {unseen[0]!r} not seen at fit time "
                f"(known: {', '.join(repr(g) for g in self.groups_)})",
                hint="refit on data that covers every group",
            )
        remap = np.array([index[k] for k in keys], dtype=np.int64)
        return remap[codes]

    def selection_probability(self, X: Any, *, sensitive_features: Any) -> np.ndarray:
        """Each row's probability of the positive decision (before the random draw)."""
        check_is_fitted(self, "solution_")
        codes = self._codes(X, sensitive_features)
        return selection_probability(self.solution_, self._scores(X), codes)

    def predict(
        self,
        X: Any,
        *,
        sensitive_features: Any,
        random_state: int | np.random.Generator | None = None,
    ) -> np.ndarray:
        """Decisions (``classes_`` values), randomised where a group mixes two thresholds.

        The same ``random_state`` (here or in the constructor) gives the same decisions.
        """
        prob = self.selection_probability(X, sensitive_features=sensitive_features)
        seed = self.random_state if random_state is None else random_state
        decisions = draw_decisions(prob, np.random.default_rng(seed))
        return np.asarray(self.classes_[decisions])
