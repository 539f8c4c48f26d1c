"""Run monitors: evaluate due windows, store them, send alerts, fire retraining triggers.

Two entry points share every step after reading the log:

- :func:`run_monitor` evaluates one stored monitor on a log you pass (Parquet
  files in a lake, a DuckDB query, a Spark DataFrame, an Arrow table):
  ``trustops monitor run --monitor NAME --data 'logs/*.parquet'``.
- :func:`run_due_monitors` is what the server calls in the background (and
  ``trustops monitor run --due`` once, for cron): every enabled monitor whose
  next window has closed reads the predictions the server stored
  (:meth:`trustops.monitoring.ingest.Ingestion.predictions`) and is run.

Both hand an Arrow table to :func:`trustops.monitoring.evaluate.evaluate`, so
batch mode and server mode give the same windows on the same data. Order
of a run: evaluate → store windows, series, alert records and state in one
transaction → deliver each new alert to every channel (retried, each outcome
recorded) → fire matching triggers (each outcome recorded).

Example:
    >>> import tempfile, pyarrow as pa
    >>> from trustops.governance import Registry, init_workspace
    >>> from trustops.monitoring.config import build_config
    >>> from trustops.monitoring.store import create_monitor
    >>> reg = Registry.open(init_workspace(tempfile.mkdtemp(), actor="alice").project)
    >>> _ = reg.create_system("credit")
    >>> _ = reg.register_model(b"w", system="credit", name="scorer", code_commit=None)
    >>> _ = create_monitor(reg, build_config({"monitor": "m", "model": "scorer@1",
    ...     "window": {"kind": "count", "size": 2},
    ...     "columns": {"time": "t", "prediction": "p"}}))
    >>> log = pa.table({"t": ["2026-01-01T00:00:00Z"] * 5, "p": [1, 0, 1, 1, 0]})
    >>> run = run_monitor(reg, "m", log, now=0)
    >>> [w.window.index for w in run.evaluation.windows], run.alerts
    ([0, 1], [])
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from trustops.errors import InputError
from trustops.governance.registry import Registry
from trustops.monitoring.channels import Delivery, deliver
from trustops.monitoring.config import MonitorConfig
from trustops.monitoring.evaluate import Evaluation, evaluate, iso, micros
from trustops.monitoring.store import (
    AlertRecord,
    StoredMonitor,
    get_monitor,
    list_monitors,
    record_delivery,
    record_evaluation,
    record_trigger,
)
from trustops.monitoring.triggers import fire

__all__ = [
    "COMMANDS_OFF",
    "MonitorRun",
    "load_reference",
    "run_due_monitors",
    "run_monitor",
    "stored_log",
]

Loader = Callable[[Registry, StoredMonitor, int], Any]

COMMANDS_OFF = (
    "not run: command triggers are off in this process (run_due_monitors(allow_commands=True), "
    "or trustops monitor run --due, runs them); use a webhook trigger from a server"
)


@dataclass(frozen=True)
class MonitorRun:
    """One run of a monitor: its evaluation, the alerts raised, deliveries and triggers."""

    monitor: str
    evaluation: Evaluation
    alerts: list[AlertRecord] = field(default_factory=list)
    deliveries: list[tuple[int, Delivery]] = field(default_factory=list)
    triggers: list[tuple[int, str, str, str]] = field(default_factory=list)

    @property
    def raised(self) -> list[AlertRecord]:
        return [a for a in self.alerts if a.action == "send"]


def load_reference(registry: Registry | None, config: MonitorConfig, system: str | None) -> Any:
    """The reference profile: a profile file, data to profile, or a registered dataset
    version's stored profile (``NAME@V`` of the monitored model's system)."""
    from trustops.profiling import is_profile_file, load_profile

    ref = config.reference
    if ref is None:
        return None
    if Path(ref).is_file():
        return load_profile(ref) if is_profile_file(ref) else ref
    if registry is None or system is None:
        raise InputError(
            f"reference {ref!r} is not a file",
            hint="a registered dataset version needs the workspace's store (--monitor NAME)",
        )
    from trustops.core.profiles import from_bytes
    from trustops.governance.usage import plan_use, write_use

    dv = registry.dataset(ref, system=system)
    if dv.profile_hash is None:
        raise InputError(f"dataset {dv.ref} has no stored profile", hint="register it again")
    # a read of registered data: checked against its purposes (the workspace's default
    # purpose) and recorded (trustops.governance.usage)
    planned = plan_use(registry, dv, use="monitoring")
    profile = from_bytes(registry.artifacts.read(dv.profile_hash))
    with registry.transaction() as change:
        write_use(change, planned, used_by=f"monitoring reference of system {system}")
    return profile


def _notify(
    registry: Registry,
    monitor: StoredMonitor,
    records: list[AlertRecord],
    run: MonitorRun,
    sleep: Callable[[float], None],
    allow_commands: bool,
) -> None:
    config = monitor.config
    for alert in records:
        if alert.action != "send":
            continue
        for channel in config.channels:
            outcome = deliver(
                channel,
                alert.payload,
                attempts=config.retry_attempts,
                backoff=config.retry_backoff,
                sleep=sleep,
            )
            record_delivery(
                registry, alert, channel=outcome.channel, channel_type=outcome.type,
                status=outcome.status, attempts=outcome.attempts, error=outcome.error,
            )  # fmt: skip
            run.deliveries.append((alert.id, outcome))
        for trigger in config.triggers:
            if not trigger.matches(alert.key):
                continue
            kind = "webhook" if trigger.webhook else "command"
            if kind == "command" and not allow_commands:
                status, detail = "failed", COMMANDS_OFF
            else:
                status, detail = fire(trigger, alert.payload)
            record_trigger(
                registry, alert, trigger=trigger.name, kind=kind, status=status, detail=detail
            )
            run.triggers.append((alert.id, trigger.name, status, detail))


def run_monitor(
    registry: Registry,
    name: str,
    data: Any,
    *,
    now: datetime | int,
    reference: Any = None,
    sleep: Callable[[float], None] = time.sleep,
    allow_commands: bool = True,
) -> MonitorRun:
    """Evaluate, store and notify one stored monitor on the log ``data``.

    ``allow_commands=False`` records command triggers as failed instead of
    running them (see :func:`run_due_monitors`).
    """
    monitor = get_monitor(registry, name)
    if reference is None:
        reference = load_reference(registry, monitor.config, monitor.model.split("/")[0])
    evaluation = evaluate(data, monitor.config, now=now, reference=reference, state=monitor.state)
    records = record_evaluation(registry, monitor, evaluation)
    run = MonitorRun(name, evaluation, records)
    _notify(registry, monitor, records, run, sleep, allow_commands)
    return run


def stored_log(registry: Registry, monitor: StoredMonitor, now: int) -> Any:
    """The predictions the server stored for the monitor's next windows (an Arrow table)."""
    from trustops.monitoring.ingest import Ingestion

    spec, last = monitor.config.window, monitor.state.last_window
    start = None
    if spec.kind == "time" and last is not None:
        start = iso(spec.origin_us + (last + 1) * spec.size)
    return Ingestion(registry).predictions(monitor.model, start=start)


def run_due_monitors(
    registry: Registry,
    now: datetime | int,
    *,
    load: Loader | None = None,
    sleep: Callable[[float], None] = time.sleep,
    allow_commands: bool = False,
) -> list[MonitorRun]:
    """Run every enabled monitor whose next window has closed by ``now`` on stored predictions.

    For the server's background task and ``trustops monitor run --due``. A
    monitor that fails (bad configuration, a missing column) does not stop the
    others: its error is re-raised after the rest have run.

    Command triggers run only with ``allow_commands=True`` (``trustops monitor
    run --due`` passes it: the operator runs it on their own host). A server
    leaves them off by default: whoever can write a monitor's configuration in
    a shared store would otherwise run programs on the server's host. They are
    then recorded as failed, saying why; webhook triggers run either way.
    """
    at = micros(now)
    load = load or stored_log
    runs, failures = [], []
    for monitor in list_monitors(registry):
        if not monitor.enabled:
            continue
        if monitor.next_due is not None and micros(_parse(monitor.next_due)) > at:
            continue
        try:
            runs.append(run_monitor(registry, monitor.name, load(registry, monitor, at), now=at,
                                    sleep=sleep, allow_commands=allow_commands))  # fmt: skip
        except Exception as exc:  # one monitor's failure must not starve the others
            failures.append(exc)
    if failures:
        raise failures[0]
    return runs


def _parse(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))
