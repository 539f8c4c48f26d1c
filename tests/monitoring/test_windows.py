"""Window arithmetic: boundaries [start, end), late data by event time, empty windows."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from trustops.core.monitoring.windows import (
    CountWindowing,
    TimeWindowing,
    plan_count_windows,
    plan_time_windows,
)
from trustops.errors import InputError, UsageError

HOUR = 3_600_000_000


def test_a_boundary_belongs_to_the_later_window() -> None:
    w = TimeWindowing(HOUR)
    assert w.index(HOUR - 1) == 0
    assert w.index(HOUR) == 1
    assert w.bounds(1) == (HOUR, 2 * HOUR)
    plan = plan_time_windows([0, HOUR - 1, HOUR], w, now=2 * HOUR)
    assert [(x.index, x.count) for x in plan.windows] == [(0, 2), (1, 1)]
    assert [r.tolist() for r in plan.rows] == [[0, 1], [2]]


def test_origin_shifts_the_boundaries_and_negative_times_floor() -> None:
    w = TimeWindowing(HOUR, origin=HOUR // 2)
    assert w.index(HOUR // 2) == 0
    assert w.index(HOUR // 2 - 1) == -1
    assert w.bounds(-1) == (-HOUR // 2, HOUR // 2)


def test_empty_windows_are_reported_not_skipped() -> None:
    plan = plan_time_windows([0, 3 * HOUR + 5], TimeWindowing(HOUR), now=4 * HOUR)
    assert [(x.index, x.count, x.empty) for x in plan.windows] == [
        (0, 1, False),
        (1, 0, True),
        (2, 0, True),
        (3, 1, False),
    ]
    assert plan.rows[1].size == 0


def test_first_starts_the_span_before_the_data() -> None:
    plan = plan_time_windows([2 * HOUR], TimeWindowing(HOUR), now=3 * HOUR, first=0)
    assert [x.count for x in plan.windows] == [0, 0, 1]


def test_a_window_is_closed_only_after_its_end_plus_the_lateness() -> None:
    w = TimeWindowing(HOUR, lateness=HOUR // 4)
    events = [10, HOUR + 10]
    assert [x.index for x in plan_time_windows(events, w, now=HOUR).windows] == []
    assert [x.index for x in plan_time_windows(events, w, now=HOUR + HOUR // 4).windows] == [0]
    assert w.closes_at(0) == HOUR + HOUR // 4
    assert w.last_closed(HOUR + HOUR // 4) == 0
    assert w.last_closed(HOUR + HOUR // 4 - 1) == -1


def test_late_data_goes_by_event_time_within_the_allowance_and_is_counted_beyond_it() -> None:
    w = TimeWindowing(HOUR, lateness=10)
    events = [5, 6, 7]
    arrivals = [5, HOUR + 9, HOUR + 10]  # on time, late but allowed, too late
    plan = plan_time_windows(events, w, now=2 * HOUR, arrival_times=arrivals)
    (window,) = plan.windows
    assert (window.count, window.late) == (2, 1)
    assert plan.rows[0].tolist() == [0, 1]


def test_after_continues_where_the_last_run_stopped() -> None:
    w = TimeWindowing(HOUR)
    plan = plan_time_windows([0, HOUR, 2 * HOUR], w, now=3 * HOUR, after=0)
    assert [x.index for x in plan.windows] == [1, 2]
    assert plan_time_windows([0], w, now=HOUR, after=0).windows == ()


def test_count_windows_are_full_in_arrival_order() -> None:
    plan = plan_count_windows([3, 1, 2, 1, 9], CountWindowing(2))
    assert [r.tolist() for r in plan.rows] == [[1, 3], [2, 0]]  # ties keep input order
    assert [x.count for x in plan.windows] == [2, 2]  # the fifth waits for a sixth
    assert [x.index for x in plan_count_windows([1, 2, 3, 4], CountWindowing(2), after=0)
            .windows] == [1]  # fmt: skip


@pytest.mark.parametrize(
    ("make", "error"),
    [
        (lambda: TimeWindowing(0), UsageError),
        (lambda: TimeWindowing(HOUR, lateness=-1), UsageError),
        (lambda: CountWindowing(0), UsageError),
        (lambda: plan_time_windows([0.5], TimeWindowing(HOUR), now=HOUR), InputError),
        (lambda: plan_time_windows([0], TimeWindowing(HOUR), now=HOUR, arrival_times=[1, 2]),
         InputError),
    ],
)  # fmt: skip
def test_bad_windows_are_refused(make, error) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(error):
        make()


times = st.lists(st.integers(-10 * HOUR, 10 * HOUR), max_size=60)


@given(
    events=times,
    size=st.integers(HOUR // 50, 3 * HOUR),
    origin=st.integers(-HOUR, HOUR),
    now=st.integers(-5 * HOUR, 15 * HOUR),
)
def test_every_closed_window_holds_exactly_its_events(
    events: list[int], size: int, origin: int, now: int
) -> None:
    w = TimeWindowing(size, origin=origin)
    plan = plan_time_windows(events, w, now=now)
    indices = [x.index for x in plan.windows]
    assert indices == list(range(indices[0], indices[0] + len(indices))) if indices else True
    seen = []
    for window, rows in plan:
        assert window.end is not None and window.start is not None
        assert window.end - window.start == size
        assert window.end + w.lateness <= now  # closed
        for i in rows.tolist():
            assert window.start <= events[i] < window.end
        assert window.count == rows.size
        seen += rows.tolist()
    closed = [i for i, t in enumerate(events) if w.index(t) <= w.last_closed(now)]
    assert sorted(seen) == closed


@given(events=times, arrivals_delay=st.lists(st.integers(0, 2 * HOUR), max_size=60),
       lateness=st.integers(0, HOUR))  # fmt: skip
def test_late_and_on_time_partition_each_window(
    events: list[int], arrivals_delay: list[int], lateness: int
) -> None:
    n = min(len(events), len(arrivals_delay))
    events, delays = events[:n], arrivals_delay[:n]
    arrivals = [e + d for e, d in zip(events, delays, strict=True)]
    w = TimeWindowing(HOUR, lateness=lateness)
    plan = plan_time_windows(events, w, now=20 * HOUR, arrival_times=arrivals)
    for window, rows in plan:
        in_window = [i for i in range(n) if w.index(events[i]) == window.index]
        late = [i for i in in_window if arrivals[i] >= window.end + lateness]
        assert window.late == len(late)
        assert sorted(rows.tolist()) == sorted(set(in_window) - set(late))


@given(n=st.integers(0, 50), size=st.integers(1, 10), seed=st.integers(0, 100))
def test_count_windows_partition_the_first_full_windows(n: int, size: int, seed: int) -> None:
    order = np.random.default_rng(seed).integers(0, 5, n)
    plan = plan_count_windows(order, CountWindowing(size))
    assert len(plan.windows) == n // size
    flat = [i for r in plan.rows for i in r.tolist()]
    assert len(flat) == len(set(flat)) == (n // size) * size
    assert [order[i] for i in flat] == sorted(order.tolist())[: len(flat)]
