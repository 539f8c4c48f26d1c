"""Fairness-drift alert logic: the interval rule, the persistence rule, dedup and cool-down."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trustops.core.monitoring.alerts import TRANSITIONS, AlertState, event_of, step
from trustops.core.monitoring.rules import alert_decisions, breaches, decide, window_status
from trustops.errors import UsageError


@pytest.mark.parametrize(
    ("value", "low", "high", "op", "threshold", "status"),
    [
        (0.85, 0.80, 0.90, ">=", 0.8, "ok"),
        (0.78, 0.70, 0.86, ">=", 0.8, "breach"),  # the interval holds the threshold
        (0.72, 0.65, 0.79, ">=", 0.8, "supported"),  # all of it below
        (0.72, 0.65, 0.80, ">=", 0.8, "breach"),  # touching is not excluding
        (0.80, 0.75, 0.85, ">", 0.8, "breach"),  # strict: equal breaks ">"
        (0.15, 0.11, 0.19, "<=", 0.1, "supported"),
        (0.12, 0.08, 0.16, "<=", 0.1, "breach"),
        (0.10, 0.05, 0.15, "<", 0.1, "breach"),
        (0.05, 0.01, 0.09, "<=", 0.1, "ok"),
        (None, None, None, ">=", 0.8, "no_data"),
        (float("nan"), None, None, ">=", 0.8, "no_data"),
        (0.7, None, None, ">=", 0.8, "breach"),  # no interval: persistence decides
    ],
)
def test_window_status(
    value: float | None, low: float | None, high: float | None, op: str, threshold: float,
    status: str,
) -> None:  # fmt: skip
    assert window_status(value, low, high, op, threshold) == status


def test_a_tested_check_counts_a_breach_as_supported() -> None:
    assert window_status(0.6, None, None, "<=", 0.3, tested=True) == "supported"
    assert window_status(0.2, None, None, "<=", 0.3, tested=True) == "ok"


def test_equality_operators_cannot_be_monitored() -> None:
    with pytest.raises(UsageError, match="order"):
        window_status(0.5, 0.4, 0.6, "==", 0.5)


def test_a_supported_breach_alerts_at_once() -> None:
    decisions = alert_decisions(["ok", "supported", "ok"], persistence=3)
    assert [d.reason for d in decisions] == [None, "interval", None]


def test_an_unsupported_breach_alerts_after_k_windows_in_a_row() -> None:
    decisions = alert_decisions(["breach", "breach", "breach", "breach"], persistence=3)
    assert [d.run for d in decisions] == [1, 2, 3, 4]
    assert [d.reason for d in decisions] == [None, None, "persistence", "persistence"]


def test_an_ok_window_breaks_the_run_and_an_empty_one_does_not() -> None:
    decisions = alert_decisions(["breach", "ok", "breach", "no_data", "breach"], persistence=2)
    assert [d.run for d in decisions] == [1, 0, 1, 1, 2]
    assert [d.reason for d in decisions] == [None, None, None, None, "persistence"]


def test_supported_breaches_count_towards_persistence() -> None:
    assert decide("breach", 2, 3).reason == "persistence"  # 2 before (any breach) + this one


def test_a_run_continues_across_runs_of_the_monitor() -> None:
    first = alert_decisions(["breach", "breach"], persistence=3)
    second = alert_decisions(["breach"], persistence=3, run=first[-1].run)
    assert second[0].reason == "persistence"


def test_persistence_must_be_positive() -> None:
    with pytest.raises(UsageError):
        decide("breach", 0, 0)


@given(st.lists(st.sampled_from(["ok", "breach", "supported", "no_data"]), max_size=40),
       st.integers(1, 5))  # fmt: skip
def test_an_alert_means_supported_or_k_breaches_since_the_last_ok(
    statuses: list[str], k: int
) -> None:
    for i, d in enumerate(alert_decisions(statuses, persistence=k)):
        since_ok = []
        for s in reversed(statuses[: i + 1]):
            if s == "ok":
                break
            if s != "no_data":
                since_ok.append(s)
        expected = statuses[i] == "supported" or (statuses[i] == "breach" and len(since_ok) >= k)
        assert d.alert == expected


@given(st.floats(-10, 10), st.floats(-10, 10), st.sampled_from([">=", ">", "<=", "<"]))
def test_breaches_is_the_negation_of_the_comparison(value: float, t: float, op: str) -> None:
    holds = {">=": value >= t, ">": value > t, "<=": value <= t, "<": value < t}[op]
    assert breaches(value, op, t) is (not holds)


# -- deduplication and cool-down ---------------------------------------------------------


def test_dedup_sends_once_then_suppresses_until_the_cooldown_passes() -> None:
    state, actions = AlertState(), []
    for at in (0, 3, 6, 10, 12):
        state, action = step(state, "alert", at=at, cooldown=10)
        actions.append(action)
    assert actions == ["send", "suppress", "suppress", "send", "suppress"]
    assert state == AlertState("firing", 10)


def test_clear_resolves_and_a_new_breach_sends_again() -> None:
    state, _ = step(AlertState(), "alert", at=0, cooldown=100)
    state, action = step(state, "clear", at=1, cooldown=100)
    assert (state, action) == (AlertState("quiet", None), "resolve")
    assert step(state, "alert", at=2, cooldown=100)[1] == "send"


def test_hold_changes_nothing() -> None:
    firing = AlertState("firing", 5)
    assert step(firing, "hold", at=50, cooldown=1) == (firing, "none")
    assert step(AlertState(), "hold", at=50, cooldown=1) == (AlertState(), "none")


def test_every_state_and_event_has_a_transition() -> None:
    assert set(TRANSITIONS) == {(s, e) for s in ("quiet", "firing")
                                for e in ("alert", "clear", "hold")}  # fmt: skip


def test_event_of() -> None:
    assert event_of("supported", True) == "alert"
    assert event_of("ok", False) == "clear"
    assert event_of("breach", False) == "hold"
    assert event_of("no_data", False) == "hold"


def test_state_round_trips_through_json() -> None:
    state = AlertState("firing", 123)
    assert AlertState.from_dict(state.to_dict()) == state


@given(st.lists(st.tuples(st.sampled_from(["alert", "clear", "hold"]), st.integers(0, 5)),
                max_size=40), st.integers(0, 12))  # fmt: skip
def test_while_firing_sends_are_at_least_a_cooldown_apart(
    events: list[tuple[str, int]], cooldown: int
) -> None:
    state, at, last_send = AlertState(), 0, None
    for event, gap in events:
        at += gap
        before = state
        state, action = step(state, event, at=at, cooldown=cooldown)
        if action == "send":
            if before.status == "firing":
                assert last_send is not None and at - last_send >= cooldown
            last_send = at
        if action == "resolve":
            last_send = None
        assert (state.status == "firing") == (
            (before.status == "firing" and event != "clear") or event == "alert"
        )
