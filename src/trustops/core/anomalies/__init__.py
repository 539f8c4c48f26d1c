"""Anomalies in predictions: sudden or persistent shifts between windows, out-of-range inputs.

A monitor reduces each window of production predictions to sums — predictions
and selections, or score sums — held by a :class:`WindowSeries`, and compares
them with an in-control :class:`Baseline` (given from a reference, or
estimated from the first windows):

- :func:`p_chart` and :func:`xbar_chart` (:mod:`.shewhart`): Shewhart limits
  ``centre ± L·σ_t`` per window, optionally with the Western Electric run
  rules; best at large, sudden shifts.
- :func:`cusum` (:mod:`.cumulative_sums`): Page's two-sided tabular CUSUM;
  best at small shifts that persist, with an estimated change point.
- :func:`out_of_range_rate` and :func:`out_of_range_rates`
  (:mod:`.out_of_range`): the share of inputs outside the reference's range.

Every detector returns a frozen result with ``alarms``, ``anomaly_detected``
and a JSON-safe ``to_dict()`` (undefined values are ``None``). Nothing here
reads a clock or the environment: windows are labelled by the caller.
"""

from trustops.core.anomalies.cumulative_sums import Cusum, CusumAlarm, cusum
from trustops.core.anomalies.out_of_range import (
    DEFAULT_MAX_RATE,
    OutOfRange,
    OutOfRangeReport,
    out_of_range_rate,
    out_of_range_rates,
)
from trustops.core.anomalies.shewhart import RUN_RULES, Alarm, ControlChart, p_chart, xbar_chart
from trustops.core.anomalies.windows import Baseline, WindowSeries

__all__ = [
    "DEFAULT_MAX_RATE",
    "RUN_RULES",
    "Alarm",
    "Baseline",
    "ControlChart",
    "Cusum",
    "CusumAlarm",
    "OutOfRange",
    "OutOfRangeReport",
    "WindowSeries",
    "cusum",
    "out_of_range_rate",
    "out_of_range_rates",
    "p_chart",
    "xbar_chart",
]
