"""Bias mitigation: the pure arithmetic behind trustops' mitigators.

Pre-processing (:mod:`.reweighing`, Kamiran & Calders 2012) makes the label
statistically independent of the protected group in the training data, either
by weighting each (group, label) cell by ``expected / observed`` or by
resampling each cell to its expected size. Inputs are integer codes and NumPy
arrays; frames and estimators live in :mod:`trustops.mitigation`.
"""

from trustops.core.mitigation.reweighing import (
    CellCounts,
    count_cells,
    preferential_resample,
    reweighing_weights,
    uniform_resample,
)

__all__ = [
    "CellCounts",
    "count_cells",
    "preferential_resample",
    "reweighing_weights",
    "uniform_resample",
]
