"""Fairness: group metrics, disparities, four-fifths tests and intervals from count tables.

The flow is one way: rows are counted once into a :class:`GroupCounts` table
(:mod:`.counts`); every metric is a function of that table (:mod:`.metrics`,
:mod:`.groups`); disparities reduce per-group values (:mod:`.disparities`);
the report gathers them with tests and intervals (:mod:`.report`).
"""

from trustops.core.fairness.build import build_report
from trustops.core.fairness.counts import (
    GroupCounts,
    count_classification,
    count_regression,
    count_scores,
)
from trustops.core.fairness.report import (
    Breakdown,
    FairnessReport,
    GroupResult,
    PrivilegedComparison,
    UndefinedValue,
)

__all__ = [
    "Breakdown",
    "FairnessReport",
    "GroupCounts",
    "GroupResult",
    "PrivilegedComparison",
    "UndefinedValue",
    "build_report",
    "count_classification",
    "count_regression",
    "count_scores",
]
