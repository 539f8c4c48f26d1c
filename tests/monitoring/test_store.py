"""Monitors in the store (SQLite and PostgreSQL): windows as evidence and series, alerts,
state between runs, append-only history, lineage of a retrained version."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pytest
import sqlalchemy as sa

from trustops.cli.demo_monitoring import DAY, START, degrading_log
from trustops.governance import Registry
from trustops.governance import schema as t
from trustops.governance.registry import ConflictError, NotFoundError
from trustops.monitoring.config import build_config
from trustops.monitoring.evaluate import evaluate
from trustops.monitoring.runner import run_due_monitors, run_monitor
from trustops.monitoring.store import (
    EVIDENCE_KIND,
    alert_history,
    create_monitor,
    get_monitor,
    link_retraining,
    list_monitors,
    record_evaluation,
    retrained_from,
    series,
)

KEY = "fairness:selection_rate.ratio[race]"


def document(**changes: Any) -> dict[str, Any]:
    d = {
        "monitor": "daily",
        "model": "scorer@1",
        "window": {"kind": "time", "size": "1d"},
        "columns": {"time": "timestamp", "prediction": "prediction", "sensitive": ["race"]},
        "policy": "eeoc-four-fifths",
        "cooldown": "30d",
        "fairness": {"bootstrap": 100, "seed": 1},
    }
    d.update(changes)
    return d


@pytest.fixture
def monitored(registry: Registry) -> Registry:
    registry.create_system("credit")
    registry.register_model(b"weights", system="credit", name="scorer", code_commit=None)
    create_monitor(registry, build_config(document()))
    return registry


def upto(log: pa.Table, day: int) -> pa.Table:
    return log.filter(pc.less(log.column("timestamp"), pa.scalar(START + day * DAY)))


def test_windows_are_stored_as_evidence_and_series_with_their_alerts(monitored: Registry) -> None:
    log = degrading_log(seed=1, per_day=2000)
    run = run_monitor(monitored, "daily", log, now=START + 8 * DAY)
    assert len(run.evaluation.windows) == 8
    rows = series(monitored, "daily", key=KEY)
    assert [r["window_index"] for r in rows] == [w.window.index for w in run.evaluation.windows]
    assert rows[0]["start"] == "2026-11-01T00:00:00.000000Z"
    assert all(r["low"] <= r["value"] <= r["high"] for r in rows)
    evidence = monitored.evidence(subject="credit/scorer@1", kind=EVIDENCE_KIND)
    assert len(evidence) == 8
    assert evidence[0].content == run.evaluation.windows[0].to_dict()
    (raised,) = run.raised
    history = alert_history(monitored, "daily")
    assert history[0]["id"] == raised.id and history[0]["action"] == "send"
    assert history[0]["payload"]["evidence"]["id"] in {e.id for e in evidence}
    actions = [e.action for e in monitored.audit.entries()]
    assert actions.count("evidence.recorded") == 8
    assert "alert.raised" in actions and "monitor.evaluated" in actions
    assert monitored.audit.verify().ok


def test_state_carries_over_between_runs(monitored: Registry) -> None:
    log = degrading_log(seed=2, per_day=1000)
    first = run_monitor(monitored, "daily", upto(log, 4), now=START + 4 * DAY)
    second = run_monitor(monitored, "daily", log, now=START + 8 * DAY)
    again = run_monitor(monitored, "daily", log, now=START + 8 * DAY)
    assert len(first.evaluation.windows) == 4 and len(second.evaluation.windows) == 4
    assert again.evaluation.windows == ()
    whole = evaluate(log, build_config(document(model="credit/scorer@1")), now=START + 8 * DAY)
    stored = [e.content for e in monitored.evidence(kind=EVIDENCE_KIND)]
    assert stored == [json.loads(json.dumps(w.to_dict())) for w in whole.windows]
    monitor = get_monitor(monitored, "daily")
    assert monitor.state == whole.state
    assert monitor.next_due == "2026-11-10T00:00:00.000000Z"  # when day 9 closes


def test_a_concurrent_run_is_refused_and_stores_nothing(monitored: Registry) -> None:
    log = degrading_log(seed=3, days=2, per_day=300)
    stale = get_monitor(monitored, "daily")
    run_monitor(monitored, "daily", log, now=START + 2 * DAY)
    evaluation = evaluate(log, stale.config, now=START + 2 * DAY, state=stale.state)
    with pytest.raises(ConflictError, match="another run"):
        record_evaluation(monitored, stale, evaluation)
    assert len(monitored.evidence(kind=EVIDENCE_KIND)) == 2


def test_monitors_are_created_once_and_replaced_on_request(monitored: Registry) -> None:
    with pytest.raises(ConflictError, match="exists"):
        create_monitor(monitored, build_config(document()))
    replaced = create_monitor(monitored, build_config(document(persistence=5)), replace=True)
    assert replaced.config.persistence == 5 and replaced.model == "credit/scorer@1"
    assert [m.name for m in list_monitors(monitored)] == ["daily"]
    with pytest.raises(NotFoundError):
        create_monitor(monitored, build_config(document(monitor="x", model="nope@1")))
    with pytest.raises(NotFoundError):
        get_monitor(monitored, "nope")


def test_due_monitors_run_on_what_the_loader_gives(monitored: Registry) -> None:
    log = degrading_log(seed=4, days=3, per_day=300)
    loads: list[int] = []

    def load(registry: Registry, monitor: Any, now: int) -> pa.Table:
        loads.append(now)
        return log

    runs = run_due_monitors(monitored, START + 3 * DAY, load=load)
    assert [len(r.evaluation.windows) for r in runs] == [3]
    assert run_due_monitors(monitored, START + 3 * DAY + timedelta(hours=1), load=load) == []
    assert len(loads) == 1  # not due again before day 4 closes


_FORGED = {
    "monitor_windows": {"row_count": 0},
    "monitor_series": {"value": 1.0},
    "alert_records": {"action": "none"},
    "alert_deliveries": {"status": "sent"},
    "trigger_runs": {"status": "succeeded"},
    "retraining_lineage": {"created_by": "mallory"},
}


def test_monitoring_history_is_append_only(monitored: Registry) -> None:
    from trustops.monitoring.store import record_delivery, record_trigger

    run = run_monitor(monitored, "daily", degrading_log(seed=5, per_day=1500), now=START + 8 * DAY)
    (alert,) = run.raised
    record_delivery(monitored, alert, channel="c", channel_type="webhook", status="failed",
                    attempts=3, error="down")  # fmt: skip
    record_trigger(monitored, alert, trigger="r", kind="command", status="failed", detail="x")
    monitored.register_model(b"v2", system="credit", name="scorer", code_commit=None)
    link_retraining(monitored, "scorer@2", alert.evidence_id)
    assert set(_FORGED) == set(t.MONITORING_APPEND_ONLY)
    for name, forged in _FORGED.items():
        table = t.metadata.tables[name]
        for statement in (table.update().values(forged), table.delete()):
            with (
                pytest.raises(sa.exc.DBAPIError, match="append-only"),
                monitored.db.engine.begin() as conn,
            ):
                conn.execute(statement)
    assert monitored.audit.verify().ok


def test_a_retrained_version_points_at_the_breach(monitored: Registry) -> None:
    run = run_monitor(monitored, "daily", degrading_log(seed=6, per_day=1500), now=START + 8 * DAY)
    (alert,) = run.raised
    monitored.register_model(b"v2", system="credit", name="scorer", parent="scorer@1",
                             code_commit=None)  # fmt: skip
    assert retrained_from(monitored, "scorer@2") is None
    link_retraining(monitored, "scorer@2", alert.evidence_id)
    cause = retrained_from(monitored, "scorer@2")
    assert cause.id == alert.evidence_id and cause.kind == EVIDENCE_KIND
    assert cause.subject == "model:credit/scorer@1"
    with pytest.raises(ConflictError):
        link_retraining(monitored, "scorer@2", alert.evidence_id)
    with pytest.raises(NotFoundError):
        link_retraining(monitored, "scorer@1", 10_000)
    entry = monitored.audit.entries()[-1]
    assert entry.action == "model.retrained_from" and entry.subject == "model:credit/scorer@2"


def test_a_version_registered_from_the_trigger_records_its_cause_atomically(
    monitored: Registry,
) -> None:
    run = run_monitor(monitored, "daily", degrading_log(seed=8, per_day=1500), now=START + 8 * DAY)
    (alert,) = run.raised
    before = len(monitored.audit.entries())
    with pytest.raises(NotFoundError, match="evidence"):
        monitored.register_model(b"v2", system="credit", name="scorer", triggered_by=10_000,
                                 code_commit=None)  # fmt: skip
    assert len(monitored.audit.entries()) == before
    assert [m.ref for m in monitored.models()] == ["scorer@1"]
    v2 = monitored.register_model(b"v2", system="credit", name="scorer", parent="scorer@1",
                                  triggered_by=alert.evidence_id, code_commit=None)  # fmt: skip
    assert retrained_from(monitored, f"credit/{v2.ref}").id == alert.evidence_id
    entry = monitored.audit.entries()[-1]
    assert entry.action == "model.registered"
    assert entry.payload["triggered_by"] == alert.evidence_id
    with pytest.raises(ConflictError):
        link_retraining(monitored, "scorer@2", alert.evidence_id)


def test_a_bad_log_stores_nothing(
    monitored: Registry, open_registry: Callable[..., Registry]
) -> None:
    log = degrading_log(seed=7, days=2, per_day=100).drop_columns(["race"])
    before = len(monitored.audit.entries())
    with pytest.raises(Exception, match="race"):
        run_monitor(monitored, "daily", log, now=START + 2 * DAY)
    other = open_registry()
    assert len(other.audit.entries()) == before
    assert get_monitor(other, "daily").state.last_window is None
