"""Continuous monitoring, the pure part: windows, alert rules and alert deduplication.

- :mod:`.windows`: time windows ``[start, end)`` and count windows; late data
  by event time with a lateness allowance; empty windows reported, not skipped.
- :mod:`.rules`: a breach alerts when its interval excludes the threshold, or
  when it persists for k windows.
- :mod:`.alerts`: deduplication and cool-down, a state machine as a table.

Nothing here reads a clock: times are integers (µs since the epoch) passed in.
"""

from trustops.core.monitoring.alerts import AlertState, event_of, step
from trustops.core.monitoring.rules import (
    MONITOR_OPERATORS,
    AlertDecision,
    alert_decisions,
    breaches,
    decide,
    window_status,
)
from trustops.core.monitoring.windows import (
    CountWindowing,
    TimeWindowing,
    Window,
    WindowPlan,
    plan_count_windows,
    plan_time_windows,
)

__all__ = [
    "MONITOR_OPERATORS",
    "AlertDecision",
    "AlertState",
    "CountWindowing",
    "TimeWindowing",
    "Window",
    "WindowPlan",
    "alert_decisions",
    "breaches",
    "decide",
    "event_of",
    "plan_count_windows",
    "plan_time_windows",
    "step",
    "window_status",
]
