"""In-processing: Fairlearn's reductions as estimators taking the sensitive columns by name.

:class:`ExponentiatedGradientClassifier` and :class:`GridSearchClassifier`
are thin adapters over Fairlearn's ``ExponentiatedGradient`` and
``GridSearch`` (Agarwal et al. 2018): they reduce fair classification to a
sequence of cost-sensitive fits of the wrapped classifier, reweighting rows by
Lagrange multipliers of the constraint. Fairlearn does the work; trustops
only adds the calling convention of its other mitigators:

- ``sensitive`` names the protected column(s) of ``X``; they are handed to
  Fairlearn as ``sensitive_features`` and removed from ``X`` before the wrapped
  estimator sees it, at fit and at predict time;
- ``constraint`` is a name: ``demographic_parity``, ``equalized_odds``,
  ``equal_opportunity`` (alias ``true_positive_rate_parity``);
- ``uses_protected_attribute_at_decision = False``: the protected attribute
  shapes training only; ``predict`` never looks at it (no disparate
  treatment), unlike :class:`~trustops.mitigation.ThresholdOptimizer`.

Fairlearn is imported when an adapter is fitted; without it,
:class:`~trustops.errors.UnsupportedError` says ``pip install fairlearn``.

Example:
    >>> import pandas as pd
    >>> from sklearn.linear_model import LogisticRegression
    >>> from trustops.datasets import make_credit
    >>> data = pd.DataFrame(make_credit(2000, seed=1))
    >>> X = data[["income", "debt_ratio", "zip_score", "race"]]
    >>> eg = ExponentiatedGradientClassifier(LogisticRegression(max_iter=1000), sensitive="race")
    >>> eg.fit(X, data["approved"]).predict(X[["income", "debt_ratio", "zip_score"]]).shape
    (2000,)
    >>> eg.uses_protected_attribute_at_decision
    False
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.utils.validation import check_is_fitted

from trustops.errors import UnsupportedError, UsageError
from trustops.mitigation.preprocessing import SensitiveAtFitTime, sample_weight_parameter

__all__ = ["CONSTRAINT_NAMES", "ExponentiatedGradientClassifier", "GridSearchClassifier"]

CONSTRAINT_NAMES = {
    "demographic_parity": "DemographicParity",
    "equalized_odds": "EqualizedOdds",
    "equal_opportunity": "TruePositiveRateParity",
    "true_positive_rate_parity": "TruePositiveRateParity",
}
"""trustops constraint name → the ``fairlearn.reductions`` moment class."""


def _reductions() -> Any:
    try:
        from fairlearn import reductions
    except ImportError:
        raise UnsupportedError(
            "in-processing mitigation needs Fairlearn", hint="pip install fairlearn"
        ) from None
    return reductions


def _constraint(name: str, difference_bound: float | None) -> Any:
    if name not in CONSTRAINT_NAMES:
        raise UsageError(f"constraint must be one of {', '.join(CONSTRAINT_NAMES)}, got {name!r}")
    moment = getattr(_reductions(), CONSTRAINT_NAMES[name])
    return moment() if difference_bound is None else moment(difference_bound=difference_bound)


class _Reduction(SensitiveAtFitTime):
    """Shared plumbing: build the Fairlearn mitigator, fit it without the sensitive columns."""

    uses_protected_attribute_at_decision = False
    constraint: str
    difference_bound: float | None

    def _mitigator(self, moment: Any, weight_name: str) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def fit(self, X: Any, y: Any, *, sensitive_features: Any = None) -> Any:
        """Fit Fairlearn's mitigator on ``X`` without the sensitive columns; returns ``self``."""
        moment = _constraint(self.constraint, self.difference_bound)
        sens, X_model = self._split(X, sensitive_features)
        y = self._check_labels(y)
        weight_name = sample_weight_parameter(self.estimator)
        mitigator = self._mitigator(moment, weight_name)
        self._record_input(X, sensitive_features)
        self.estimator_ = mitigator.fit(X_model, y, sensitive_features=sens)
        self.labels_ = np.unique(np.asarray(y))
        return self

    @property
    def classes_(self) -> np.ndarray:
        """The labels seen by ``fit`` (Fairlearn's mitigators record none)."""
        check_is_fitted(self, "labels_")
        return self.labels_


class ExponentiatedGradientClassifier(_Reduction):
    """Fairlearn's ``ExponentiatedGradient``: a randomised mix of classifiers meeting a constraint.

    Args:
        estimator: a classifier whose ``fit`` accepts ``sample_weight`` (a
            :class:`~sklearn.pipeline.Pipeline` passes it to its last step).
        sensitive: the sensitive column(s) of ``X`` (names for a frame,
            indices for an array); used at fit time only.
        constraint: ``demographic_parity``, ``equalized_odds`` or
            ``equal_opportunity`` (``true_positive_rate_parity``).
        difference_bound: the allowed constraint violation (Fairlearn's
            default, 0.01, when ``None``).
        eps: Fairlearn's allowed slack of the constraint in the Lagrangian.
        max_iter: Fairlearn's iteration cap.
        random_state: seed of the randomised ``predict``; the same seed gives
            the same decisions.

    Attributes:
        estimator_: the fitted ``fairlearn.reductions.ExponentiatedGradient``.
        classes_: the labels seen by ``fit``.
    """

    def __init__(
        self,
        estimator: Any,
        *,
        sensitive: str | int | Sequence[Any] | None = None,
        constraint: str = "demographic_parity",
        difference_bound: float | None = None,
        eps: float = 0.01,
        max_iter: int = 50,
        random_state: int | None = 0,
    ):
        self.estimator = estimator
        self.sensitive = sensitive
        self.constraint = constraint
        self.difference_bound = difference_bound
        self.eps = eps
        self.max_iter = max_iter
        self.random_state = random_state

    def _mitigator(self, moment: Any, weight_name: str) -> Any:
        return _reductions().ExponentiatedGradient(
            self.estimator,
            constraints=moment,
            eps=self.eps,
            max_iter=self.max_iter,
            sample_weight_name=weight_name,
        )

    def predict(self, X: Any) -> np.ndarray:
        """Decisions drawn from the fitted mix (seeded by ``random_state``)."""
        check_is_fitted(self, "estimator_")
        return np.asarray(
            self.estimator_.predict(self._model_input(X), random_state=self.random_state)
        )

    def predict_proba(self, X: Any) -> np.ndarray:
        """The mix's probability of each class (Fairlearn's ``_pmf_predict``), clipped to
        [0, 1]: the mix weights sum to 1 only up to rounding."""
        check_is_fitted(self, "estimator_")
        pmf = np.asarray(self.estimator_._pmf_predict(self._model_input(X)), dtype=np.float64)
        return np.clip(pmf, 0.0, 1.0)


class GridSearchClassifier(_Reduction):
    """Fairlearn's ``GridSearch``: the best of a grid of Lagrange-multiplier reweightings.

    Deterministic (one classifier is chosen), unlike the exponentiated
    gradient's randomised mix; usually a little less fair on the constraint.

    Args:
        estimator, sensitive, constraint, difference_bound: as for
            :class:`ExponentiatedGradientClassifier`.
        grid_size: number of multiplier vectors tried.
        constraint_weight: weight of the constraint violation against the
            error when choosing the best grid point (Fairlearn's
            ``tradeoff_optimization``).

    Attributes:
        estimator_: the fitted ``fairlearn.reductions.GridSearch``.
        classes_: the labels seen by ``fit``.
    """

    def __init__(
        self,
        estimator: Any,
        *,
        sensitive: str | int | Sequence[Any] | None = None,
        constraint: str = "demographic_parity",
        difference_bound: float | None = None,
        grid_size: int = 10,
        constraint_weight: float = 0.5,
    ):
        self.estimator = estimator
        self.sensitive = sensitive
        self.constraint = constraint
        self.difference_bound = difference_bound
        self.grid_size = grid_size
        self.constraint_weight = constraint_weight

    def _mitigator(self, moment: Any, weight_name: str) -> Any:
        return _reductions().GridSearch(
            self.estimator,
            constraints=moment,
            grid_size=self.grid_size,
            constraint_weight=self.constraint_weight,
            sample_weight_name=weight_name,
        )
