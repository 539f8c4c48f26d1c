"""Monitoring windows: which window each prediction belongs to, and when a window is final.

Times are integers: microseconds since the Unix epoch (UTC), so boundaries
are exact. Two kinds of window:

**Time windows** of ``size`` µs aligned on ``origin``: window i is the
half-open interval ``[origin + i·size, origin + (i+1)·size)``, so a prediction
made exactly at a boundary belongs to the later window::

    index(t) = ⌊(t − origin) / size⌋

A prediction is assigned by its *event time* (when it was made), not by when
it reached trustops. It is *late* when it arrives after its window's end plus
the ``lateness`` allowance; late predictions are counted in their window's
``late`` tally but left out of its evaluation, so a window's result depends
only on the data, never on when the evaluation ran. A window is *closed* (due
for evaluation) once ``now ≥ end + lateness``. Every window in the span is
reported — one with no predictions is reported as empty, not skipped.

**Count windows** of ``size`` predictions in arrival order (event time when
no arrival time is known; ties by input order): window i holds predictions
``i·size … (i+1)·size − 1``; only full windows are closed.

Example:
    >>> w = TimeWindowing(size=3_600_000_000)  # one hour
    >>> w.index(7_200_000_000), w.bounds(2)
    (2, (7200000000, 10800000000))
    >>> plan = plan_time_windows(
    ...     [0, 10, 3_600_000_000 * 2 + 5], w, now=3_600_000_000 * 4, first=0)
    >>> [(x.index, x.count) for x in plan.windows]
    [(0, 2), (1, 0), (2, 1), (3, 0)]
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from trustops.errors import InputError, UsageError

__all__ = [
    "CountWindowing",
    "TimeWindowing",
    "Window",
    "WindowPlan",
    "plan_count_windows",
    "plan_time_windows",
]


@dataclass(frozen=True, slots=True)
class TimeWindowing:
    """Fixed time windows of ``size`` µs aligned on ``origin``, with a lateness allowance."""

    size: int
    origin: int = 0
    lateness: int = 0

    def __post_init__(self) -> None:
        if int(self.size) <= 0:
            raise UsageError(f"a window's size must be positive, got {self.size}")
        if int(self.lateness) < 0:
            raise UsageError(f"the lateness allowance must be >= 0, got {self.lateness}")

    def index(self, t: int) -> int:
        """The window holding event time ``t``."""
        return (int(t) - self.origin) // self.size

    def bounds(self, index: int) -> tuple[int, int]:
        """``(start, end)`` of window ``index``: start included, end excluded."""
        start = self.origin + index * self.size
        return start, start + self.size

    def closes_at(self, index: int) -> int:
        """The time from which window ``index`` is final: its end plus the lateness allowance."""
        return self.bounds(index)[1] + self.lateness

    def last_closed(self, now: int) -> int:
        """The newest window closed at ``now``."""
        return (int(now) - self.lateness - self.origin) // self.size - 1


@dataclass(frozen=True, slots=True)
class CountWindowing:
    """Windows of ``size`` predictions each, in arrival order."""

    size: int

    def __post_init__(self) -> None:
        if int(self.size) <= 0:
            raise UsageError(f"a count window must hold at least 1 prediction, got {self.size}")


@dataclass(frozen=True, slots=True)
class Window:
    """One window: its index, bounds (time windows), predictions in it and late ones.

    ``start``/``end`` are µs (``None`` for count windows); ``count`` the
    predictions evaluated; ``late`` those that arrived after the allowance.
    """

    index: int
    start: int | None
    end: int | None
    count: int
    late: int = 0

    @property
    def empty(self) -> bool:
        return self.count == 0


@dataclass(frozen=True, slots=True)
class WindowPlan:
    """Closed windows in order, and for each the row positions it evaluates."""

    windows: tuple[Window, ...]
    rows: tuple[np.ndarray, ...]

    def __iter__(self) -> Iterator[tuple[Window, np.ndarray]]:
        return iter(zip(self.windows, self.rows, strict=True))


def _times(values: ArrayLike, name: str) -> np.ndarray:
    array = np.asarray(values)
    if array.ndim != 1:
        raise InputError(f"{name} must be one-dimensional")
    if array.size and not np.issubdtype(array.dtype, np.integer):
        raise InputError(f"{name} must be integer microseconds, not {array.dtype}")
    return array.astype(np.int64, copy=False)


def plan_time_windows(
    event_times: ArrayLike,
    windowing: TimeWindowing,
    *,
    now: int,
    arrival_times: ArrayLike | None = None,
    first: int | None = None,
    after: int | None = None,
) -> WindowPlan:
    """Assign predictions to time windows and list every window closed at ``now``.

    Args:
        event_times: when each prediction was made (µs).
        windowing: the windows.
        now: the evaluation time (µs); windows closing later are left out.
        arrival_times: when each prediction arrived (µs); without them none is late.
        first: the first window's start time (µs); default: the earliest event.
        after: leave out windows up to this index (already evaluated).

    Windows from the first (or ``after + 1``) to the newest closed one are
    listed, empty ones included.
    """
    events = _times(event_times, "event times")
    arrivals = None if arrival_times is None else _times(arrival_times, "arrival times")
    if arrivals is not None and arrivals.shape != events.shape:
        raise InputError(f"arrival times: {arrivals.size} values for {events.size} predictions")
    w = windowing
    index = (events - w.origin) // w.size
    late = np.zeros(events.size, dtype=bool)
    if arrivals is not None:
        late = arrivals >= w.origin + (index + 1) * w.size + w.lateness
    last = w.last_closed(now)
    if first is not None:
        start = w.index(first)
    elif events.size:
        start = int(index.min())
    else:
        start = last + 1
    if after is not None:
        start = max(start, after + 1)
    if last < start:
        return WindowPlan((), ())
    if last - start > 1_000_000:
        raise UsageError(
            f"{last - start + 1} windows to evaluate", hint="use larger windows or a later start"
        )
    chosen = (index >= start) & (index <= last)
    positions = np.flatnonzero(chosen)
    order = np.argsort(index[positions], kind="stable")
    positions = positions[order]
    keys = index[positions] - start
    splits = np.searchsorted(keys, np.arange(1, last - start + 1))
    windows, rows = [], []
    for i, part in enumerate(np.split(positions, splits)):
        on_time = part[~late[part]]
        lo, hi = w.bounds(start + i)
        windows.append(Window(start + i, lo, hi, int(on_time.size), int(part.size - on_time.size)))
        rows.append(on_time)
    return WindowPlan(tuple(windows), tuple(rows))


def plan_count_windows(
    order_times: ArrayLike, windowing: CountWindowing, *, after: int | None = None
) -> WindowPlan:
    """Full windows of ``windowing.size`` predictions, in the order of ``order_times``.

    ``order_times`` are arrival times (or event times) in µs; ties keep the
    input order. The last, partial window is open and left out.

    Example:
        >>> plan = plan_count_windows([5, 1, 3, 2, 4], CountWindowing(2))
        >>> [r.tolist() for r in plan.rows]
        [[1, 3], [2, 4]]
    """
    times = _times(order_times, "arrival times")
    order = np.argsort(times, kind="stable")
    full = times.size // windowing.size
    start = 0 if after is None else after + 1
    windows, rows = [], []
    for i in range(start, full):
        part = order[i * windowing.size : (i + 1) * windowing.size]
        windows.append(Window(i, None, None, int(part.size)))
        rows.append(part)
    return WindowPlan(tuple(windows), tuple(rows))
