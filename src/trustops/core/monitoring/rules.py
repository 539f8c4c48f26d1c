"""When a breach in a window becomes an alert: the interval rule and the persistence rule.

A check compares a window's value (a disparity, a drift share, an accuracy)
with a threshold under an operator taken from the policy (``ratio >= 0.8``,
``difference <= 0.1``). The value's confidence interval ``[low, high]``
decides whether a breach is *statistically supported*:

=========  =================  =====================================
operator   breach when        supported when (interval excludes t)
=========  =================  =====================================
``>=``     value < t          high < t
``>``      value ≤ t          high < t
``<=``     value > t          low > t
``<``      value ≥ t          low > t
=========  =================  =====================================

Each window gets a status: ``ok``, ``breach`` (the estimate breaches, the
interval does not exclude the threshold), ``supported`` (it does), or
``no_data`` (empty window or undefined value). An alert fires at a window when

- the breach is supported (reason ``interval``), or
- the last k windows with data all breach (reason ``persistence``): the run
  length ``r_t = r_{t−1} + 1`` if window t breaches, ``0`` if it is ok, and
  ``r_{t−1}`` if it has no data — empty windows neither extend nor break a run.

A check without an interval (``low``/``high`` ``None``) is judged by
persistence alone, unless the check declares its verdict a test of its own
(``tested=True``: drift columns judged by their tests), where a breach counts
as supported.

Example:
    >>> window_status(0.74, 0.70, 0.79, ">=", 0.8), window_status(0.78, 0.7, 0.85, ">=", 0.8)
    ('supported', 'breach')
    >>> [d.reason for d in alert_decisions(["breach", "no_data", "breach", "ok"], persistence=2)]
    [None, None, 'persistence', None]
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from trustops.errors import UsageError

__all__ = [
    "MONITOR_OPERATORS",
    "STATUSES",
    "AlertDecision",
    "alert_decisions",
    "breaches",
    "decide",
    "next_run",
    "window_status",
]

MONITOR_OPERATORS = (">=", ">", "<=", "<")
STATUSES = ("ok", "breach", "supported", "no_data")


def _check_op(op: str) -> None:
    if op not in MONITOR_OPERATORS:
        raise UsageError(
            f"a monitored threshold needs an order, not {op!r}",
            hint=f"use one of {' '.join(MONITOR_OPERATORS)}",
        )


def _defined(x: float | None) -> bool:
    return x is not None and not math.isnan(x)


def breaches(value: float, op: str, threshold: float) -> bool:
    """Whether ``value`` breaks ``value OP threshold``."""
    _check_op(op)
    return {
        ">=": value < threshold,
        ">": value <= threshold,
        "<=": value > threshold,
        "<": value >= threshold,
    }[op]


def window_status(
    value: float | None,
    low: float | None,
    high: float | None,
    op: str,
    threshold: float,
    *,
    tested: bool = False,
) -> str:
    """``ok``, ``breach``, ``supported`` or ``no_data`` (see the module docstring)."""
    _check_op(op)
    if not _defined(value):
        return "no_data"
    assert value is not None
    if not breaches(value, op, threshold):
        return "ok"
    if tested:
        return "supported"
    if op in (">=", ">"):
        supported = _defined(high) and high < threshold  # type: ignore[operator]
    else:
        supported = _defined(low) and low > threshold  # type: ignore[operator]
    return "supported" if supported else "breach"


def next_run(run: int, status: str) -> int:
    """The breach run length after a window with ``status``."""
    if status not in STATUSES:
        raise UsageError(f"unknown window status {status!r}", hint=f"one of {STATUSES}")
    if status == "no_data":
        return run
    return run + 1 if status in ("breach", "supported") else 0


@dataclass(frozen=True, slots=True)
class AlertDecision:
    """Whether a window alerts, why (``interval`` / ``persistence``), and the run length."""

    status: str
    run: int
    reason: str | None

    @property
    def alert(self) -> bool:
        return self.reason is not None


def decide(status: str, run_before: int, persistence: int) -> AlertDecision:
    """The decision at one window, given the run length before it."""
    if persistence < 1:
        raise UsageError(f"persistence must be at least 1 window, got {persistence}")
    run = next_run(run_before, status)
    reason = None
    if status == "supported":
        reason = "interval"
    elif status == "breach" and run >= persistence:
        reason = "persistence"
    return AlertDecision(status, run, reason)


def alert_decisions(
    statuses: Sequence[str], *, persistence: int, run: int = 0
) -> list[AlertDecision]:
    """The decision at each window of a series, starting from a run length of ``run``."""
    out = []
    for status in statuses:
        decision = decide(status, run, persistence)
        run = decision.run
        out.append(decision)
    return out
