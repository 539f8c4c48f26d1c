"""The drift peers (Evidently, NannyML), imported once for the parity tests.

NannyML imports FLAML, whose ``flaml.automl.spark`` starts a local Spark
session (a JVM, ~10 s) at import time whenever ``pyspark.pandas`` imports.
Hiding ``pyspark.pandas`` for that one import skips it: FLAML's Spark helpers,
which NannyML's drift methods never use, fall back to stubs, and
``pyspark.pandas`` imports normally afterwards.
"""

from __future__ import annotations

import sys

import evidently.legacy.calculations.stattests as evidently_stattests
from evidently import DataDefinition, Dataset, Report
from evidently.legacy.core import ColumnType
from evidently.metrics import ValueDrift

_saved = sys.modules.get("pyspark.pandas")
if "nannyml" not in sys.modules:
    sys.modules["pyspark.pandas"] = None  # type: ignore[assignment]
try:
    import nannyml
    from nannyml.chunk import DefaultChunker
    from nannyml.drift.univariate.methods import FeatureType, MethodFactory
    from nannyml.thresholds import StandardDeviationThreshold
finally:
    if _saved is None:
        sys.modules.pop("pyspark.pandas", None)
    else:
        sys.modules["pyspark.pandas"] = _saved

__all__ = [
    "ColumnType",
    "DataDefinition",
    "Dataset",
    "DefaultChunker",
    "FeatureType",
    "MethodFactory",
    "Report",
    "StandardDeviationThreshold",
    "ValueDrift",
    "evidently_stattests",
    "nannyml",
]
