"""The server runs due monitors in the background (issue 8): over a live server on SQLite and
PostgreSQL, predictions logged through the API become monitor windows without anyone running
``trustops monitor run``; a failing monitor neither stops the others nor floods the log."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.server.conftest import LiveServer, fresh_database, run_server
from trustops.client import Client
from trustops.monitoring.config import build_config
from trustops.monitoring.store import create_monitor, series
from trustops.server.ops import JSONFormatter
from trustops.server.scheduler import SCHEDULER_ACTOR, MonitorScheduler
from trustops.server.store import Store

DAYS = 3


def config(name: str, sensitive: str = "race") -> Any:
    return build_config({
        "monitor": name, "model": "credit/scorer@1",
        "window": {"kind": "time", "size": "1d"},
        "columns": {"time": "timestamp", "prediction": "prediction", "sensitive": [sensitive],
                    "id": "prediction_id"},
        "checks": [{"metric": "fairness.selection_rate.ratio", "op": ">=", "threshold": 0.8}],
        "fairness": {"bootstrap": 50, "seed": 0, "min_group_size": 5},
    })  # fmt: skip


def records(today: datetime, per_day: int = 120) -> list[dict[str, Any]]:
    """Predictions of the last ``DAYS`` whole days; group B's approvals fall day by day."""
    rng = np.random.default_rng(5)
    out = []
    for day in range(DAYS):
        start = today - timedelta(days=DAYS - day)
        for i in range(per_day):
            race = "B" if i % 2 else "A"
            rate = 0.6 - 0.15 * day if race == "B" else 0.6
            out.append({
                "prediction_id": f"d{day}-{i}",
                "timestamp": (start + timedelta(minutes=10 * i)).isoformat().replace("+00:00", "Z"),
                "prediction": int(rng.random() < rate),
                "features": {"income": float(rng.normal(50, 10))},
                "sensitive": {"race": race},
            })  # fmt: skip
    return out


@pytest.fixture(params=["sqlite", "postgresql"])
def scheduled(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[LiveServer]:
    """A server that looks for due monitors five times a second."""
    with (
        fresh_database(request.param, tmp_path) as url,
        run_server(tmp_path / "project", url, request.param, monitor_interval=0.2) as live,
    ):
        yield live


def test_logged_predictions_become_windows_in_the_background(scheduled: LiveServer) -> None:
    registry = scheduled.registry()
    registry.create_system("credit")
    registry.register_model(b"weights", system="credit", name="scorer")
    token = scheduled.user("feeder", "data_scientist", ["credit"])
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    with Client(scheduled.url, token=token) as client:
        client.log_predictions("credit", "scorer@1", records(today))
    create_monitor(registry, config("broken", sensitive="sex"))  # the log holds no sex column
    create_monitor(registry, config("daily"))
    deadline = time.monotonic() + 300  # a guard against hanging, not a speed requirement
    while not series(registry, "daily") and time.monotonic() < deadline:
        time.sleep(0.1)
    rows = series(registry, "daily")
    assert [r["start"][:10] for r in rows] == [
        (today - timedelta(days=DAYS - d)).date().isoformat() for d in range(DAYS)
    ]  # every closed day, none of today's (still open)
    assert rows[0]["status"] == "ok" and rows[-1]["status"] != "ok"
    evaluated = [e for e in registry.audit.entries() if e.action == "monitor.evaluated"]
    assert {e.actor for e in evaluated} == {SCHEDULER_ACTOR}
    assert [e.subject for e in evaluated] == ["monitor:daily"]  # the broken one stored nothing
    failed = [line for line in scheduled.log_lines() if "due monitors failed" in line]
    assert failed and '"error": "MissingColumnError"' in failed[0]
    assert "sex" not in failed[0]  # the error's type, never its message


def test_a_failure_is_logged_once_until_it_changes(tmp_path: Path) -> None:
    from trustops.governance import init_workspace
    from trustops.governance.workspace import load_settings

    store = Store.open(load_settings(init_workspace(tmp_path), env={}))
    registry = store.registry("setup")
    registry.create_system("credit")
    registry.register_model(b"weights", system="credit", name="scorer")
    create_monitor(registry, config("daily", sensitive="sex"))
    lines: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: lines.append(JSONFormatter().format(record))  # type: ignore[method-assign]
    logger = logging.getLogger("trustops.server")
    logger.addHandler(handler)
    level = logger.level
    logger.setLevel(logging.INFO)
    try:
        scheduler = MonitorScheduler(store, interval=60)
        assert [scheduler.tick() for _ in range(3)] == [0, 0, 0]
        assert len(lines) == 1 and '"message": "due monitors failed"' in lines[0]
        fixed = build_config(
            {
                "monitor": "daily",
                "model": "credit/scorer@1",
                "window": {"kind": "time", "size": "1d"},
                "columns": {"time": "timestamp", "prediction": "prediction"},
            }
        )
        create_monitor(registry, fixed, replace=True)  # no sensitive column needed: it runs
        scheduler.tick()
        assert len(lines) == 2 and '"message": "due monitors run again"' in lines[1]
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
        store.close()
    with pytest.raises(ValueError, match="positive"):
        MonitorScheduler(store, interval=0)
