"""trustops monitor: batch mode over Parquet logs, stored monitors, exit codes 0 / 1 / 2."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from typer.testing import CliRunner

from trustops.cli import app
from trustops.cli.demo_monitoring import degrading_log

runner = CliRunner()
NOW = "2026-11-09T00:00:00Z"


def run(*args: Any, env: dict[str, str] | None = None) -> Any:
    return runner.invoke(app, [str(a) for a in args], env=env)


@pytest.fixture
def lake(tmp_path: Path) -> Path:
    logs = tmp_path / "logs"
    logs.mkdir()
    log = degrading_log(seed=1, per_day=1500)
    for i, part in enumerate(log.to_batches(max_chunksize=3000)):
        pq.write_table(pa.Table.from_batches([part]), logs / f"{i:02d}.parquet")
    return logs


def write_config(tmp_path: Path, **changes: Any) -> Path:
    document = {
        "monitor": "daily",
        "model": "scorer@1",
        "window": {"kind": "time", "size": "1d"},
        "columns": {"time": "timestamp", "prediction": "prediction", "label": "label",
                    "sensitive": ["race"]},
        "policy": "eeoc-four-fifths",
        "cooldown": "30d",
        "fairness": {"bootstrap": 100, "seed": 1},
    }  # fmt: skip
    document.update(changes)
    path = tmp_path / "monitor.yaml"
    path.write_text(yaml.safe_dump(document))
    return path


def test_batch_mode_reads_the_lake_and_fails_on_an_alert_when_asked(
    lake: Path, tmp_path: Path
) -> None:
    config = write_config(tmp_path)
    data = str(lake / "*.parquet")
    ok = run("monitor", "run", "--config", config, "--data", data, "--now", NOW, "--json")
    assert ok.exit_code == 0, ok.output
    (result,) = json.loads(ok.stdout)
    assert len(result["windows"]) == 8
    assert [a["action"] for a in result["alerts"]] == ["send"]
    failed = run("monitor", "run", "--config", config, "--data", data, "--now", NOW,
                 "--fail-on", "alert", "--html", tmp_path / "m.html")  # fmt: skip
    assert failed.exit_code == 1
    assert "monitor daily" in failed.stdout and "send" in failed.stdout
    assert "<svg" in (tmp_path / "m.html").read_text()
    early = run("monitor", "run", "--config", config, "--data", data,
                "--now", "2026-11-04T00:00:00Z", "--fail-on", "alert")  # fmt: skip
    assert early.exit_code == 0  # no alert in the first three days
    (seen,) = json.loads(run("monitor", "run", "--config", config, "--data", data, "--now",
                             "2026-11-04T00:00:00Z", "--json").stdout)  # fmt: skip
    breached = any(
        c["status"] in ("breach", "supported") for w in seen["windows"] for c in w["checks"]
    )
    on_breach = run("monitor", "run", "--config", config, "--data", data, "--now",
                    "2026-11-04T00:00:00Z", "--fail-on", "breach")  # fmt: skip
    assert on_breach.exit_code == int(breached)  # 1 exactly when a window breached


def test_batch_mode_keeps_its_state_between_cron_runs(lake: Path, tmp_path: Path) -> None:
    config, state = write_config(tmp_path), tmp_path / "state.json"
    data = str(lake / "*.parquet")
    first = run("monitor", "run", "--config", config, "--data", data, "--state", state,
                "--now", "2026-11-05T00:00:00Z", "--json")  # fmt: skip
    second = run("monitor", "run", "--config", config, "--data", data, "--state", state,
                 "--now", NOW, "--json")  # fmt: skip
    third = run("monitor", "run", "--config", config, "--data", data, "--state", state,
                "--now", NOW, "--json")  # fmt: skip
    windows = [len(json.loads(r.stdout)[0]["windows"]) for r in (first, second, third)]
    assert windows == [4, 4, 0]
    assert json.loads(state.read_text())["last_window"] is not None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--data", "x.parquet"], "one of --config"),
        (["--config", "CONFIG"], "--data is required"),
        (["--config", "CONFIG", "--data", "nowhere/*.parquet", "--now", NOW], "no file matches"),
        (["--config", "CONFIG", "--data", "LAKE", "--now", "yesterday"], "--now"),
        (["--config", "CONFIG", "--data", "LAKE", "--due"], "one of --config"),
        (["--config", "BAD", "--data", "LAKE"], "window.size"),
        (["--config", "CONFIG", "--data", "LAKE", "--reference", "train@1"], "not a file"),
    ],
)
def test_bad_input_exits_2_with_one_line(
    args: list[str], message: str, lake: Path, tmp_path: Path
) -> None:
    config = write_config(tmp_path)
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump({"monitor": "m", "model": "x@1", "window": {"size": "soon"}}))
    swap = {"CONFIG": str(config), "LAKE": str(lake / "*.parquet"), "BAD": str(bad)}
    result = run("monitor", "run", *[swap.get(a, a) for a in args])
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert "Traceback" not in result.output and len(result.stderr.strip().splitlines()) == 1


def test_stored_monitor_records_and_shows_its_history(lake: Path, tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    env = {"TRUSTOPS_WORKSPACE": str(project), "TRUSTOPS_ACTOR": "alice"}
    assert run("init", project, env=env).exit_code == 0
    assert run("system", "create", "credit", env=env).exit_code == 0
    (tmp_path / "m.bin").write_bytes(b"weights")
    assert run("model", "register", tmp_path / "m.bin", "--system", "credit", "--name",
               "scorer", env=env).exit_code == 0  # fmt: skip
    config = write_config(tmp_path)
    created = run("monitor", "create", "--config", config, env=env)
    assert created.exit_code == 0, created.output
    assert "watches credit/scorer@1" in created.stdout
    assert run("monitor", "create", "--config", config, env=env).exit_code == 2  # exists
    ran = run("monitor", "run", "--monitor", "daily", "--data", lake / "*.parquet",
              "--now", NOW, "--fail-on", "alert", env=env)  # fmt: skip
    assert ran.exit_code == 1, ran.output
    listed = json.loads(run("monitor", "list", "--json", env=env).stdout)
    assert listed[0]["state"]["last_window"] is not None
    shown = run("monitor", "show", "daily", "--json", "--html", tmp_path / "s.html", env=env)
    body = json.loads(shown.stdout)
    assert len(body["series"]) == 8  # one series: the impact ratio by race
    (alert,) = [a for a in body["alerts"] if a["action"] == "send"]
    assert run("monitor", "show", "daily", env=env).exit_code == 0
    (tmp_path / "m2.bin").write_bytes(b"retrained")
    run("model", "register", tmp_path / "m2.bin", "--system", "credit", "--name", "scorer",
        env=env)  # fmt: skip
    evidence = alert["payload"]["evidence"]["id"]
    linked = run("monitor", "retrained", "scorer@2", "--evidence", evidence, env=env)
    assert linked.exit_code == 0, linked.output
    again = run("monitor", "retrained", "scorer@2", "--evidence", evidence, env=env)
    assert again.exit_code == 2


def test_due_runs_stored_monitors_on_the_servers_predictions(tmp_path: Path) -> None:
    from trustops.governance import Registry
    from trustops.monitoring.ingest import Ingestion

    project = tmp_path / "project"
    project.mkdir()
    env = {"TRUSTOPS_WORKSPACE": str(project), "TRUSTOPS_ACTOR": "alice"}
    assert run("init", project, env=env).exit_code == 0
    with Registry.open(project) as reg:
        reg.create_system("credit")
        reg.register_model(b"weights", system="credit", name="scorer", code_commit=None)
        log = degrading_log(seed=2, days=2, per_day=500).drop_columns(["label"])
        Ingestion(reg).log_predictions("scorer@1", log, key="k1", sensitive=["race"])
    assert run("monitor", "create", "--config", write_config(tmp_path), env=env).exit_code == 0
    due = run("monitor", "run", "--due", "--now", "2026-11-03T00:00:00Z", "--json", env=env)
    assert due.exit_code == 0, due.output
    (result,) = json.loads(due.stdout)
    assert result["monitor"] == "daily" and len(result["windows"]) == 2
    again = run("monitor", "run", "--due", "--now", "2026-11-03T00:00:00Z", "--json", env=env)
    assert json.loads(again.stdout) == []
    with_data = run("monitor", "run", "--due", "--data", "x.parquet", env=env)
    assert with_data.exit_code == 2 and "--due reads" in with_data.stderr
