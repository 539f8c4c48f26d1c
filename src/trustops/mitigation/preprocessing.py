"""Pre-processing mitigators as scikit-learn meta-estimators: reweigh or resample, then fit.

:class:`ReweighingClassifier` fits the wrapped classifier with Kamiran &
Calders' reweighing weights; :class:`ResamplingClassifier` fits it on a
uniform or preferential resample. Both follow the scikit-learn contract
(``__init__`` stores parameters, ``fit`` returns ``self``, fitted attributes end
in ``_``, ``clone`` and ``get_params``/``set_params`` work).

**The protected attribute is used at fit time only.** The ``sensitive``
columns are taken out of ``X`` before the wrapped estimator sees it, at fit and
at predict time alike, so a decision never depends on a person's group
(no disparate treatment). At predict time they may be present in ``X`` (they
are dropped) or absent (for a frame).

Example:
    >>> import pandas as pd
    >>> from sklearn.linear_model import LogisticRegression
    >>> X = pd.DataFrame({"x": [0.1, 0.4, 0.5, 0.9, 0.2, 0.8], "sex": list("ffmmfm")})
    >>> clf = ReweighingClassifier(LogisticRegression(), sensitive="sex")
    >>> clf.fit(X, [0, 0, 1, 1, 0, 1]).predict(X[["x"]]).shape
    (6,)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, MetaEstimatorMixin, clone
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import (
    check_array,
    check_is_fitted,
    column_or_1d,
    has_fit_parameter,
)

from trustops.errors import LabelError, MissingColumnError, UsageError
from trustops.mitigation.reweighing import (
    RESAMPLING_METHODS,
    label_codes,
    positive_code,
    resample_indices,
    reweighing_weights,
)

__all__ = [
    "ResamplingClassifier",
    "ReweighingClassifier",
    "SensitiveAtFitTime",
    "sample_weight_parameter",
]


def _backend(obj: Any) -> str:
    return type(obj).__module__.split(".")[0]


def _take_rows(obj: Any, idx: np.ndarray) -> Any:
    if _backend(obj) == "pandas":
        return obj.iloc[idx]
    if _backend(obj) == "polars":
        return obj[idx]
    return np.asarray(obj)[idx]


def _drop(frame: Any, names: list[Any]) -> Any:
    if _backend(frame) == "pandas":
        return frame.drop(columns=names)
    return frame.drop(names)


def _estimator_has(attr: str) -> Any:
    """For ``available_if``: the fitted estimator has ``attr`` (the given one before fitting)."""

    def check(self: Any) -> bool:
        inner = getattr(self, "estimator_", self.estimator)
        return hasattr(inner, attr)

    return check


def sample_weight_parameter(estimator: Any) -> str:
    """The ``fit`` keyword taking sample weights: ``sample_weight``, or a pipeline's last step's.

    A :class:`~sklearn.pipeline.Pipeline` gives the weights to its final
    estimator only (``<step>__sample_weight``); earlier steps fit unweighted.
    """
    if has_fit_parameter(estimator, "sample_weight"):
        return "sample_weight"
    steps = getattr(estimator, "steps", None)
    if steps and has_fit_parameter(steps[-1][1], "sample_weight"):
        return f"{steps[-1][0]}__sample_weight"
    raise UsageError(
        f"{type(estimator).__name__}.fit does not accept sample_weight",
        hint="use ResamplingClassifier, which needs no weights",
    )


class SensitiveAtFitTime(MetaEstimatorMixin, ClassifierMixin, BaseEstimator):
    """Shared plumbing of the mitigators that use the protected attribute at fit time only
    (here and in :mod:`trustops.mitigation.inprocessing`): split the sensitive columns off
    ``X``; delegate predictions to the fitted ``estimator_``."""

    estimator: Any
    sensitive: Any

    def _names(self) -> list[Any]:
        s = self.sensitive
        if s is None:
            return []
        return [s] if isinstance(s, (str, int, np.integer)) else list(s)

    def _split(self, X: Any, sensitive_features: Any) -> tuple[Any, Any]:
        """``(sensitive columns, X without them)`` at fit time."""
        names = self._names()
        if sensitive_features is not None:
            if names:
                raise UsageError("pass sensitive (columns of X) or sensitive_features, not both")
            return sensitive_features, X
        if not names:
            raise UsageError(
                f"{type(self).__name__} needs the sensitive column(s)",
                hint="set sensitive='column' (a name, or an index for arrays), "
                "or pass fit(..., sensitive_features=...)",
            )
        if _backend(X) in ("pandas", "polars"):
            by_name = {str(c): c for c in X.columns}
            for n in names:
                if str(n) not in by_name:
                    raise MissingColumnError(str(n), available=list(by_name), role="sensitive")
            columns = [by_name[str(n)] for n in names]
            return X[columns], _drop(X, columns)
        X = check_array(X)
        for n in names:
            if not isinstance(n, (int, np.integer)) or not -X.shape[1] <= n < X.shape[1]:
                raise MissingColumnError(
                    str(n), available=[str(j) for j in range(X.shape[1])], role="sensitive"
                )
        return X[:, names], np.delete(X, names, axis=1)

    def _model_input(self, X: Any) -> Any:
        """``X`` as the wrapped estimator sees it: without the sensitive columns."""
        if not self.sensitive_in_X_:
            return X
        names = self._names()
        if _backend(X) in ("pandas", "polars"):
            wanted = {str(n) for n in names}
            present = [c for c in X.columns if str(c) in wanted]
            return _drop(X, present) if present else X
        X = check_array(X)
        if X.shape[1] != self.n_features_in_:
            raise UsageError(
                f"X has {X.shape[1]} features, but {type(self).__name__} "
                f"is expecting {self.n_features_in_} features as input"
            )
        return np.delete(X, names, axis=1)

    def _record_input(self, X: Any, sensitive_features: Any) -> None:
        self.sensitive_in_X_ = sensitive_features is None
        frame = _backend(X) in ("pandas", "polars")
        self.n_features_in_ = len(X.columns) if frame else check_array(X).shape[1]
        if frame:
            self.feature_names_in_ = np.asarray([str(c) for c in X.columns], dtype=object)

    @staticmethod
    def _check_labels(y: Any) -> Any:
        """``y`` as a 1-D column (frames' series are kept); :class:`LabelError` for one class."""
        if y is None:
            raise UsageError("requires y to be passed, but the target y is None")
        if _backend(y) not in ("pandas", "polars"):
            y = column_or_1d(y, warn=True)
        _, levels, label = label_codes(y)
        if len(levels) < 2:
            raise LabelError(
                label, f"has one class ({levels[0]!r}); a classifier needs at least two"
            )
        return y

    @property
    def classes_(self) -> np.ndarray:
        """Class labels of the fitted estimator."""
        check_is_fitted(self, "estimator_")
        return np.asarray(self.estimator_.classes_)

    @available_if(_estimator_has("predict"))
    def predict(self, X: Any) -> np.ndarray:
        """Predicted classes; the sensitive columns are not used."""
        check_is_fitted(self, "estimator_")
        return np.asarray(self.estimator_.predict(self._model_input(X)))

    @available_if(_estimator_has("predict_proba"))
    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities; the sensitive columns are not used."""
        check_is_fitted(self, "estimator_")
        return np.asarray(self.estimator_.predict_proba(self._model_input(X)))

    @available_if(_estimator_has("decision_function"))
    def decision_function(self, X: Any) -> np.ndarray:
        """Decision scores; the sensitive columns are not used."""
        check_is_fitted(self, "estimator_")
        return np.asarray(self.estimator_.decision_function(self._model_input(X)))


class ReweighingClassifier(SensitiveAtFitTime):
    """Fit ``estimator`` with Kamiran & Calders reweighing weights ``P(g)·P(y) / P(g, y)``.

    Each training row is weighted by its (group, label) cell's expected over
    observed count (times its own ``sample_weight``), so that in the weighted
    training data the label is independent of the group; see
    :func:`trustops.reweighing_weights` and ``docs/mitigation.md``. The weights
    equal AIF360's ``Reweighing``.

    Args:
        estimator: a classifier whose ``fit`` accepts ``sample_weight``.
        sensitive: the sensitive column(s) of ``X``: a name or list of names
            for a pandas/Polars frame, column indices for an array. Several
            columns reweigh their intersections. They are removed from ``X``
            before ``estimator`` sees it, at fit and predict time: the
            protected attribute is used at fit time only.

    Attributes:
        estimator_: the fitted clone of ``estimator``.
        classes_: its class labels.
        sample_weight_: the weights it was fitted with.

    Reference: F. Kamiran and T. Calders, "Data preprocessing techniques for
    classification without discrimination", KAIS 33(1), 2012.
    """

    def __init__(self, estimator: Any, *, sensitive: str | int | Sequence[Any] | None = None):
        self.estimator = estimator
        self.sensitive = sensitive

    def fit(
        self, X: Any, y: Any, sample_weight: Any = None, *, sensitive_features: Any = None
    ) -> ReweighingClassifier:
        """Compute the reweighing weights and fit a clone of ``estimator`` with them.

        ``sensitive_features`` passes the protected attribute(s) as arrays
        instead of columns of ``X`` (then ``sensitive`` must be ``None``).
        """
        route = sample_weight_parameter(self.estimator)
        sens, X_model = self._split(X, sensitive_features)
        y = self._check_labels(y)
        if sample_weight is not None and _backend(sample_weight) not in ("pandas", "polars"):
            sample_weight = np.asarray(sample_weight, dtype=np.float64)
        weights = reweighing_weights(y, sens, sample_weight)
        self._record_input(X, sensitive_features)
        self.estimator_ = clone(self.estimator).fit(X_model, y, **{route: weights})
        self.sample_weight_ = weights
        return self


class ResamplingClassifier(SensitiveAtFitTime):
    """Fit ``estimator`` on a Kamiran & Calders resample: each (group, label) cell resized.

    Each cell ``(g, y)`` gets ``⌊n_g·n_y / n + ½⌋`` rows, so that in the
    resample the label is (up to rounding) independent of the group.

    Args:
        estimator: any classifier.
        sensitive: the sensitive column(s) of ``X``, as for
            :class:`ReweighingClassifier`; used at fit time only.
        method: ``"uniform"`` (remove/duplicate rows at random) or
            ``"preferential"`` (remove/duplicate the rows nearest the decision
            boundary first, ranked by ``ranker``; binary labels).
        ranker: a classifier with ``predict_proba`` fitted on the original
            data to rank rows (default: a clone of ``estimator``), for
            ``"preferential"``.
        pos_label: the favourable label, for ``"preferential"``.
        random_state: seed of the resample; the same seed gives the same rows.

    Attributes:
        estimator_: the fitted clone of ``estimator``.
        ranker_: the fitted ranker (``"preferential"`` only).
        sample_indices_: the training rows used, with repeats (sorted).

    Reference: Kamiran & Calders (2012), sections 4.3 (uniform sampling) and
    4.4 (preferential sampling).
    """

    def __init__(
        self,
        estimator: Any,
        *,
        sensitive: str | int | Sequence[Any] | None = None,
        method: str = "uniform",
        ranker: Any = None,
        pos_label: Any = 1,
        random_state: int | None = 0,
    ):
        self.estimator = estimator
        self.sensitive = sensitive
        self.method = method
        self.ranker = ranker
        self.pos_label = pos_label
        self.random_state = random_state

    def fit(self, X: Any, y: Any, *, sensitive_features: Any = None) -> ResamplingClassifier:
        """Resample the training rows and fit a clone of ``estimator`` on them."""
        if self.method not in RESAMPLING_METHODS:
            raise UsageError(
                f"method must be one of {', '.join(RESAMPLING_METHODS)}, got {self.method!r}"
            )
        sens, X_model = self._split(X, sensitive_features)
        y = self._check_labels(y)
        score = None
        if self.method == "preferential":
            _, levels, label = label_codes(y)
            positive_code(levels, self.pos_label, label)
            ranker = clone(self.ranker if self.ranker is not None else self.estimator)
            if not hasattr(ranker, "predict_proba"):
                raise UsageError(
                    f"the ranker {type(ranker).__name__} has no predict_proba",
                    hint="pass ranker= a classifier with predict_proba",
                )
            self.ranker_ = ranker.fit(X_model, y)
            column = list(self.ranker_.classes_).index(self.pos_label)
            score = self.ranker_.predict_proba(X_model)[:, column]
        idx = resample_indices(
            y,
            sens,
            method=self.method,
            score=score,
            pos_label=self.pos_label,
            seed=self.random_state,
        )
        self._record_input(X, sensitive_features)
        self.estimator_ = clone(self.estimator).fit(_take_rows(X_model, idx), _take_rows(y, idx))
        self.sample_indices_ = idx
        return self
