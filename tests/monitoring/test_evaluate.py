"""Window evaluation: fairness drift per window with intervals, drift, performance, and
the same results whether the windows are evaluated at once or run by run."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trustops.assess import assess_fairness
from trustops.cli.demo_monitoring import DAY, START, degrading_log
from trustops.errors import InputError, MissingColumnError
from trustops.monitoring.config import ConfigError, build_config, parse_duration
from trustops.monitoring.evaluate import MonitorState, evaluate, micros

KEY = "fairness:selection_rate.ratio[race]"


def config(**changes: Any) -> Any:
    document = {
        "monitor": "m",
        "model": "scorer@1",
        "window": {"kind": "time", "size": "1d"},
        "columns": {"time": "timestamp", "prediction": "prediction", "label": "label",
                    "sensitive": ["race"]},
        "policy": "eeoc-four-fifths",
        "persistence": 2,
        "cooldown": "7d",
        "fairness": {"bootstrap": 200, "seed": 3},
    }  # fmt: skip
    document.update(changes)
    return build_config(document)


END = START + 8 * DAY


def test_fairness_drift_is_found_with_intervals_and_alerts_once() -> None:
    log = degrading_log(seed=1)
    result = evaluate(log, config(), now=END)
    assert [w.window.count for w in result.windows] == [3000] * 8
    checks = [next(c for c in w.checks if c.key == KEY) for w in result.windows]
    assert all(c.low is not None and c.low <= c.value <= c.high for c in checks)  # type: ignore[operator]
    statuses = [c.status for c in checks]
    assert statuses[:3] == ["ok"] * 3 and statuses[-1] == "supported"
    actions = [c.action for c in checks]
    assert actions.count("send") == 1  # deduplicated: later breaches are suppressed
    first = actions.index("send")
    assert checks[first].reason in ("interval", "persistence")
    assert all(a == "suppress" for a in actions[first + 1 :])


def test_the_window_value_is_the_fairness_cores() -> None:
    log = degrading_log(seed=2)
    result = evaluate(log, config(), now=END)
    day = log.filter(pc.less(log.column("timestamp"), pa.scalar(START + DAY)))
    report = assess_fairness(day, y_true="prediction", y_pred="prediction", sensitive="race")
    check = next(c for c in result.windows[0].checks if c.key == KEY)
    assert check.value == pytest.approx(report.ratio("selection_rate"))
    assert check.n == day.num_rows


def test_running_day_by_day_gives_the_windows_of_one_run() -> None:
    log = degrading_log(seed=3, days=5, per_day=800)
    cfg = config(window={"kind": "time", "size": "1d", "lateness": "1h"})
    at_once = evaluate(log, cfg, now=START + 5 * DAY + timedelta(hours=1))
    state, windows = MonitorState(), []
    for day in range(5):
        now = START + (day + 1) * DAY + timedelta(hours=1)
        seen = log.filter(pc.less(log.column("timestamp"), pa.scalar(now)))
        run = evaluate(seen, cfg, now=now, state=state)
        state = run.state
        windows += run.windows
    assert [w.to_dict() for w in windows] == [w.to_dict() for w in at_once.windows]
    assert state == at_once.state


def test_parquet_files_in_a_lake_equal_the_table(tmp_path: Path) -> None:
    log = degrading_log(seed=4, days=3, per_day=500)
    for i, part in enumerate(log.to_batches(max_chunksize=400)):
        pq.write_table(pa.Table.from_batches([part]), tmp_path / f"part-{i}.parquet")
    cfg = config()
    from_files = evaluate(str(tmp_path / "*.parquet"), cfg, now=START + 3 * DAY)
    in_memory = evaluate(log, cfg, now=START + 3 * DAY)
    assert [w.to_dict() for w in from_files.windows] == [w.to_dict() for w in in_memory.windows]


def test_an_empty_window_is_reported_and_has_no_data() -> None:
    log = degrading_log(seed=5, days=3, per_day=300)
    day2 = pc.and_(pc.greater_equal(log.column("timestamp"), pa.scalar(START + DAY)),
                   pc.less(log.column("timestamp"), pa.scalar(START + 2 * DAY)))  # fmt: skip
    result = evaluate(log.filter(pc.invert(day2)), config(), now=START + 3 * DAY)
    middle = result.windows[1]
    assert middle.window.empty and middle.window.count == 0
    assert {c.status for c in middle.checks} == {"no_data"}
    assert middle.to_dict()["window"]["start"] == "2026-11-02T00:00:00.000000Z"


def test_late_records_are_counted_not_evaluated() -> None:
    log = degrading_log(seed=6, days=2, per_day=200)
    arrival = pc.add(log.column("timestamp"), pa.scalar(timedelta(hours=2)))
    received = log.append_column("received_at", arrival)
    cfg = config(
        window={"kind": "time", "size": "1d", "lateness": "1h"},
        columns={"time": "timestamp", "received": "received_at", "prediction": "prediction",
                 "sensitive": ["race"]},
    )  # fmt: skip
    result = evaluate(received, cfg, now=START + 3 * DAY)
    for w in result.windows:
        assert 0 < w.window.late < 200  # those made in the day's last two hours minus one
        assert w.window.count + w.window.late == 200


def test_performance_uses_labelled_rows_with_a_wilson_interval() -> None:
    log = degrading_log(seed=7, days=1, per_day=1000)
    cfg = config(policy=None, checks=[
        {"metric": "performance.accuracy", "op": ">=", "threshold": 0.95}])  # fmt: skip
    (window,) = evaluate(log, cfg, now=START + DAY).windows
    (check,) = window.checks
    labelled = log.filter(pc.is_valid(log.column("label")))
    right = pc.sum(pc.equal(labelled.column("label"), labelled.column("prediction"))).as_py()
    assert check.n == labelled.num_rows
    assert check.value == pytest.approx(right / labelled.num_rows)
    assert check.low < check.value < check.high  # type: ignore[operator]
    assert check.status == "supported"  # about 0.85, far under 0.95


def test_drift_against_the_reference_profile() -> None:
    from trustops.profiling import profile

    log = degrading_log(seed=8, days=2, per_day=2000)
    reference = profile(log.select(["income", "debt_ratio"]))
    shifted = log.set_column(
        log.schema.get_field_index("income"), "income", pc.multiply(log.column("income"), 0.5)
    )
    cfg = config(
        policy=None, reference="ref.tprof",
        columns={"time": "timestamp", "prediction": "prediction", "sensitive": ["race"],
                 "features": ["income", "debt_ratio"]},
        checks=[{"metric": "drift.share_drifted", "op": "<=", "threshold": 0.4}],
    )  # fmt: skip
    same = evaluate(log, cfg, now=START + 2 * DAY, reference=reference)
    moved = evaluate(shifted, cfg, now=START + 2 * DAY, reference=reference)
    assert [w.checks[0].status for w in same.windows] == ["ok", "ok"]
    assert [w.checks[0].status for w in moved.windows] == ["supported", "supported"]
    assert moved.windows[0].details["drift"]["drifted_columns"] == ["income"]


def test_count_windows_alert_by_persistence() -> None:
    # a steady impact ratio of about 0.78 in small windows: a breach no interval supports
    log = degrading_log(seed=9, days=3, per_day=200, rates=(0.43,))
    cfg = config(window={"kind": "count", "size": 200}, persistence=2)
    result = evaluate(log, cfg, now=0)
    checks = [next(c for c in w.checks if c.key == KEY) for w in result.windows]
    assert [c.status for c in checks] == ["breach"] * 3
    assert [c.action for c in checks] == ["none", "send", "suppress"]
    assert checks[1].reason == "persistence" and checks[1].run == 2


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"window": {"kind": "hourly"}}, r"window\.kind"),
        ({"window": {"kind": "time", "size": "1 fortnight"}}, r"window\.size"),
        ({"window": {"kind": "count", "size": 0}}, r"window\.size"),
        ({"persistence": 0}, "persistence"),
        ({"checks": [{"metric": "fairness.selection_rate.ratio", "op": "==", "threshold": 1}]},
         r"checks\[0\]\.op"),
        ({"checks": [{"metric": "fairness.selection_rate", "op": ">=", "threshold": 1}]},
         r"checks\[0\]\.metric"),
        ({"channels": [{"type": "pager"}]}, r"channels\[0\]\.type"),
        ({"channels": [{"type": "webhook", "url": "ftp://x"}]}, r"channels\[0\]\.url"),
        ({"triggers": [{"command": "python retrain.py"}]}, r"triggers\[0\]\.command"),
        ({"colour": "red"}, "colour"),
    ],
)  # fmt: skip
def test_bad_configurations_name_the_field(change: dict[str, Any], match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        config(**change)


def test_bad_logs_name_the_column() -> None:
    log = degrading_log(seed=10, days=1, per_day=50)
    with pytest.raises(MissingColumnError, match="race"):
        evaluate(log.drop_columns(["race"]), config(), now=END)
    with pytest.raises(InputError, match="timestamp"):
        evaluate(log.set_column(1, "timestamp", pa.array(["yesterday"] * 50)), config(), now=END)


def test_durations_and_times() -> None:
    assert parse_duration("90s") == 90 and parse_duration("2w") == 1_209_600
    with pytest.raises(ConfigError):
        parse_duration("-1h")
    assert micros(START) == int(START.timestamp()) * 1_000_000


def test_selection_rate_anomaly_against_an_estimated_baseline() -> None:
    from trustops.core.anomalies import Baseline, WindowSeries, p_chart

    # B's rate falls from 0.52 to 0.34: the overall selection rate drifts down
    log = degrading_log(seed=11, per_day=2000)
    cfg = config(policy=None, anomalies={"selection_rate": {"baseline_windows": 2}})
    result = evaluate(log, cfg, now=END)
    checks = [w.checks[0] for w in result.windows]
    assert [c.key for c in checks[:1]] == ["anomaly:selection_rate"]
    assert [c.status for c in checks[:2]] == ["no_data", "no_data"]  # the baseline's windows
    assert checks[-1].status == "supported" and checks[-1].action in ("send", "suppress")
    rates = [pc.mean(w.column("prediction")).as_py() for w in _days(log)]
    p0 = sum(rates[:2]) / 2  # equal counts per day
    chart = p_chart(WindowSeries.selection_rates([rates[7] * 2000], [2000]),
                    Baseline.selection_rate(p0))  # fmt: skip
    assert checks[-1].value == pytest.approx(abs(float(chart.z[0])))
    assert result.windows[-1].details["anomalies"]["selection_rate"]["direction"] == "down"
    assert result.state.baselines["selection_rate"][0] == 2


def test_score_mean_anomaly_with_a_given_baseline_and_the_state_round_trip() -> None:
    log = degrading_log(seed=12, days=2, per_day=1000)
    cfg = config(
        policy=None,
        columns={"time": "timestamp", "prediction": "prediction", "score": "score",
                 "sensitive": ["race"]},
        anomalies={"score_mean": {"baseline": 0.9, "sigma": 0.2}, "limit": 3},
    )  # fmt: skip
    result = evaluate(log, cfg, now=START + 2 * DAY)
    assert [w.checks[0].status for w in result.windows] == ["supported", "supported"]
    assert MonitorState.from_dict(result.state.to_dict()) == result.state
    with pytest.raises(ConfigError, match=r"anomalies\.selection_rate"):
        config(anomalies={"selection_rate": {"baseline": 1.5}})
    with pytest.raises(ConfigError, match=r"columns\.score"):
        config(anomalies={"score_mean": {"baseline_windows": 3}})


def _days(log: pa.Table) -> list[pa.Table]:
    stamps = log.column("timestamp")
    return [
        log.filter(pc.and_(pc.greater_equal(stamps, pa.scalar(START + d * DAY)),
                           pc.less(stamps, pa.scalar(START + (d + 1) * DAY))))
        for d in range(8)
    ]  # fmt: skip


def test_a_later_run_over_the_lake_reads_only_the_windows_it_has_left(tmp_path: Path) -> None:
    from trustops.monitoring.evaluate import log_table

    log = degrading_log(seed=13, days=4, per_day=500)
    for i, batch in enumerate(log.to_batches(max_chunksize=700)):
        pq.write_table(pa.Table.from_batches([batch]), tmp_path / f"{i:02d}.parquet")
    lake, cfg = str(tmp_path / "*.parquet"), config()
    first = evaluate(lake, cfg, now=START + 2 * DAY)
    later = evaluate(lake, cfg, now=START + 4 * DAY, state=first.state)
    whole = evaluate(log, cfg, now=START + 4 * DAY)
    assert [w.to_dict() for w in (*first.windows, *later.windows)] == [
        w.to_dict() for w in whole.windows
    ]
    since = int((START + 2 * DAY).timestamp()) * 1_000_000
    assert log_table(lake, cfg, since=since).num_rows == 1000


def test_rows_without_their_sensitive_attribute_are_left_out_of_fairness_and_counted() -> None:
    log = degrading_log(seed=14, days=1, per_day=1000)
    race = log.column("race").to_pylist()
    hidden = pa.array([None if i % 10 == 0 else r for i, r in enumerate(race)])
    partial = log.set_column(log.schema.get_field_index("race"), "race", hidden)
    (window,) = evaluate(partial, config(), now=START + DAY).windows
    assert window.details["rows_without_sensitive_attributes"] == 100
    check = next(c for c in window.checks if c.key == KEY)
    assert check.n == 900 and check.value is not None


_SMALL = degrading_log(seed=15, days=5, per_day=120)


@settings(max_examples=15, deadline=None)
@given(st.lists(st.integers(0, 6 * 24), min_size=1, max_size=4))
def test_any_schedule_of_runs_gives_the_windows_of_one_run(hours: list[int]) -> None:
    cfg = config(persistence=1, cooldown="1d", fairness={"bootstrap": 20, "seed": 1,
                                                         "min_group_size": 5})  # fmt: skip
    end = START + 6 * DAY
    whole = evaluate(_SMALL, cfg, now=end)
    state, windows = MonitorState(), []
    for h in [*sorted(hours), 6 * 24]:
        run = evaluate(_SMALL, cfg, now=START + timedelta(hours=h), state=state)
        state = MonitorState.from_dict(json.loads(json.dumps(run.state.to_dict())))
        windows += run.windows
    assert [w.to_dict() for w in windows] == [w.to_dict() for w in whole.windows]
