"""Bias mitigation: the pure arithmetic behind trustops' mitigators.

Pre-processing (:mod:`.reweighing`, Kamiran & Calders 2012) makes the label
statistically independent of the protected group in the training data, either
by weighting each (group, label) cell by ``expected / observed`` or by
resampling each cell to its expected size. Post-processing
(:mod:`.thresholds`, Hardt, Price & Srebro 2016) picks a randomised threshold
per group on a score to meet a fairness constraint. Inputs are integer codes and NumPy
arrays; frames and estimators live in :mod:`trustops.mitigation`.
"""

from trustops.core.mitigation.reweighing import (
    CellCounts,
    count_cells,
    preferential_resample,
    reweighing_weights,
    uniform_resample,
)
from trustops.core.mitigation.thresholds import (
    GroupThreshold,
    ThresholdSolution,
    optimize_thresholds,
    selection_probability,
)

__all__ = [
    "CellCounts",
    "GroupThreshold",
    "ThresholdSolution",
    "count_cells",
    "optimize_thresholds",
    "preferential_resample",
    "reweighing_weights",
    "selection_probability",
    "uniform_resample",
]
