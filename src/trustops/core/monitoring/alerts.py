"""Alert deduplication and cool-down: a small state machine per monitored check.

Each check of a monitor (``fairness:selection_rate.ratio[race]``) is
``quiet`` or ``firing``. After every window its decision becomes an event —
``alert`` (the window alerts), ``clear`` (the window is ok) or ``hold``
(a breach that does not alert yet, or no data) — and the table below gives
the next state and what to do::

    state    event   next     action
    quiet    alert   firing   send
    firing   alert   firing   send if the cool-down has passed since the last
                              send (a reminder), else suppress
    firing   clear   quiet    resolve
    quiet    clear   quiet    -
    any      hold    same     -

Times are window end times (µs), so replaying the same data gives the same
alerts, whenever it runs.

Example:
    >>> s = AlertState()
    >>> s, action = step(s, "alert", at=0, cooldown=10); action
    'send'
    >>> s, action = step(s, "alert", at=5, cooldown=10); action
    'suppress'
    >>> s, action = step(s, "alert", at=10, cooldown=10); action
    'send'
    >>> step(s, "clear", at=11, cooldown=10)[1]
    'resolve'
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from trustops.errors import UsageError

__all__ = ["ACTIONS", "EVENTS", "TRANSITIONS", "AlertState", "event_of", "step"]

EVENTS = ("alert", "clear", "hold")
ACTIONS = ("send", "suppress", "resolve", "none")

# (state, event) -> (next state, action); "cooldown" is resolved by step().
TRANSITIONS: dict[tuple[str, str], tuple[str, str]] = {
    ("quiet", "alert"): ("firing", "send"),
    ("firing", "alert"): ("firing", "cooldown"),
    ("firing", "clear"): ("quiet", "resolve"),
    ("quiet", "clear"): ("quiet", "none"),
    ("quiet", "hold"): ("quiet", "none"),
    ("firing", "hold"): ("firing", "none"),
}


@dataclass(frozen=True, slots=True)
class AlertState:
    """``quiet`` or ``firing``; ``last_sent`` is the time (µs) of the last send."""

    status: str = "quiet"
    last_sent: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"status": self.status, "last_sent": self.last_sent}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> AlertState:
        return cls(str(d.get("status", "quiet")), d.get("last_sent"))


def event_of(status: str, alert: bool) -> str:
    """The event a window's status and decision make: ``alert``, ``clear`` or ``hold``."""
    if alert:
        return "alert"
    return "clear" if status == "ok" else "hold"


def step(state: AlertState, event: str, *, at: int, cooldown: int) -> tuple[AlertState, str]:
    """The next state and the action for ``event`` at time ``at`` (µs)."""
    if event not in EVENTS:
        raise UsageError(f"unknown alert event {event!r}", hint=f"one of {EVENTS}")
    if cooldown < 0:
        raise UsageError(f"the cool-down must be >= 0, got {cooldown}")
    status, action = TRANSITIONS[(state.status, event)]
    if action == "cooldown":
        due = state.last_sent is None or at - state.last_sent >= cooldown
        action = "send" if due else "suppress"
    last_sent = at if action == "send" else None if action == "resolve" else state.last_sent
    return AlertState(status, last_sent), action
