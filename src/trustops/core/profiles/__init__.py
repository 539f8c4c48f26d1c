"""Profiles: mergeable sufficient statistics of a dataset.

A profile is computed once per batch or partition and merged: exact counts,
moments, histograms on a reference's bin edges, quantile sketches, category
counts (then frequent-items and distinct-count sketches), and the fairness
core's outcome counts. ``merge(profile(a), profile(b)) == profile(a + b)``:
the same numbers in one process, over a Parquet stream, or inside Spark.
Drift, data-quality checks and fairness metrics are functions of profiles.
"""

from trustops.core.profiles.categorical import CategoricalProfile
from trustops.core.profiles.dataset import (
    ColumnProfile,
    CountsProfile,
    DatasetProfile,
    ProfilePlan,
    TypeChangedError,
    column_kind,
    null_rate,
)
from trustops.core.profiles.format import (
    ProfileFormatError,
    from_bytes,
    from_dict,
    from_json,
    to_bytes,
    to_dict,
    to_json,
)
from trustops.core.profiles.numeric import Histogram, NumericProfile, fit_edges

__all__ = [
    "CategoricalProfile",
    "ColumnProfile",
    "CountsProfile",
    "DatasetProfile",
    "Histogram",
    "NumericProfile",
    "ProfileFormatError",
    "ProfilePlan",
    "TypeChangedError",
    "column_kind",
    "fit_edges",
    "from_bytes",
    "from_dict",
    "from_json",
    "null_rate",
    "to_bytes",
    "to_dict",
    "to_json",
]
