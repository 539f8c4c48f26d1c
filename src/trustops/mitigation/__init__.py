"""Bias mitigation over pandas, Polars, PyArrow and NumPy, as functions and estimators.

Pre-processing (Kamiran & Calders 2012) changes the training data, not the
model: :func:`reweighing_weights` gives each row a weight that makes the label
independent of the protected group; :func:`resample_indices` resamples rows to
the same end. :class:`ReweighingClassifier` and :class:`ResamplingClassifier`
wrap any scikit-learn classifier with them; they use the protected attribute
at fit time only, never to decide. Post-processing: :class:`ThresholdOptimizer`
thresholds a classifier's score per group to meet a fairness constraint; it
uses the protected attribute at decision time (disparate treatment).
In-processing: :class:`ExponentiatedGradientClassifier` and
:class:`GridSearchClassifier` adapt Fairlearn's reductions (fit time only).
:func:`compare_methods` runs them all on one split (a :class:`Comparison`);
:func:`mitigator` builds one of them by name.

Names load on first use, so importing this package pulls in neither
scikit-learn nor a dataframe library. The arithmetic is in
:mod:`trustops.core.mitigation`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__all__ = [
    "Comparison",
    "ExponentiatedGradientClassifier",
    "GridSearchClassifier",
    "ResamplingClassifier",
    "ReweighingClassifier",
    "ThresholdOptimizer",
    "compare_methods",
    "mitigator",
    "resample_indices",
    "reweighing_weights",
]

_LAZY = {
    "reweighing_weights": "trustops.mitigation.reweighing",
    "resample_indices": "trustops.mitigation.reweighing",
    "ReweighingClassifier": "trustops.mitigation.preprocessing",
    "ResamplingClassifier": "trustops.mitigation.preprocessing",
    "ThresholdOptimizer": "trustops.mitigation.thresholds",
    "ExponentiatedGradientClassifier": "trustops.mitigation.inprocessing",
    "GridSearchClassifier": "trustops.mitigation.inprocessing",
    "Comparison": "trustops.mitigation.compare",
    "compare_methods": "trustops.mitigation.compare",
    "mitigator": "trustops.mitigation.compare",
}

if TYPE_CHECKING:
    from trustops.mitigation.compare import Comparison, compare_methods, mitigator
    from trustops.mitigation.inprocessing import (
        ExponentiatedGradientClassifier,
        GridSearchClassifier,
    )
    from trustops.mitigation.preprocessing import ResamplingClassifier, ReweighingClassifier
    from trustops.mitigation.reweighing import resample_indices, reweighing_weights
    from trustops.mitigation.thresholds import ThresholdOptimizer


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'trustops.mitigation' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
