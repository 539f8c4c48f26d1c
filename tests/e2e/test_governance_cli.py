"""The governance commands end to end: a workspace, a model's life, the audit log, bad input.

Runs through Typer's runner in a fresh project directory, and once as a real
subprocess (the console script) to check exit codes and stderr as a user sees them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from trustops.cli import app

runner = CliRunner()


def run(*args: object):
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for var in (
        "TRUSTOPS_DATABASE_URL",
        "TRUSTOPS_ACTOR",
        "TRUSTOPS_SIGNING_KEY",
        "TRUSTOPS_WORKSPACE",
        "TRUSTOPS_ARTIFACTS",
        "TRUSTOPS_CHECKPOINT_COPY",
    ):
        monkeypatch.delenv(var, raising=False)  # fmt: skip
    result = run("--actor", "alice", "init")
    assert result.exit_code == 0, result.output
    assert "+" in result.stdout.strip()  # the verifier key
    assert run("dataset", "credit", "train.parquet", "--rows", "800").exit_code == 0
    assert run("dataset", "credit", "eval.parquet", "--rows", "300", "--seed", "1").exit_code == 0
    (tmp_path / "model.pkl").write_bytes(b"weights v1")
    (tmp_path / "model2.pkl").write_bytes(b"weights v2")
    return tmp_path


def ok(*args: object) -> str:
    result = run(*args)
    assert result.exit_code == 0, (args, result.output)
    return result.stdout


def test_a_model_life_from_registration_to_rollback(project: Path) -> None:
    ok("system", "create", "credit-scoring", "--owner", "risk", "--risk", "high",
       "--use-case", "credit", "--jurisdiction", "EU", "--jurisdiction", "US-NY")  # fmt: skip
    systems = json.loads(ok("system", "list", "--json"))
    assert systems[0]["jurisdictions"] == ["EU", "US-NY"] and systems[0]["risk"] == "high"

    out = json.loads(ok("dataset", "register", "train.parquet", "--system", "credit-scoring",
                        "--purpose", "credit-scoring", "--personal-data", "--json"))  # fmt: skip
    assert out["ref"] == "train@1" and out["row_count"] == 800 and out["personal_data"]
    again = json.loads(ok("dataset", "register", "train.parquet", "--system", "credit-scoring",
                          "--json"))  # fmt: skip
    assert again["ref"] == "train@1"  # same bytes: the same version, nothing new recorded
    ok("dataset", "register", "eval.parquet", "--system", "credit-scoring")

    m1 = json.loads(ok("model", "register", "model.pkl", "--system", "credit-scoring",
                       "--trained-on", "train.parquet", "--evaluated-on", "eval@1",
                       "--purpose", "credit-scoring",
                       "--metric", "auc=0.81", "--param", "C=1.0", "--json"))  # fmt: skip
    assert m1["ref"] == "model@1" and m1["metrics"] == {"auc": 0.81}
    assert m1["trained_on"] == ["train@1"] and m1["evaluated_on"] == ["eval@1"]
    assert m1["stage"] == "development"
    ok("model", "register", "model2.pkl", "--name", "model", "--system", "credit-scoring",
       "--trained-on", "train", "--parent", "model@1", "--purpose", "credit-scoring")  # fmt: skip

    fairness = project / "fairness.json"
    fairness.write_text(json.dumps({"impact_ratio": {"C": 0.64}}))
    assert "fairness" in ok("evidence", "add", fairness, "--kind", "fairness",
                            "--subject", "model@1")  # fmt: skip
    records = json.loads(ok("evidence", "list", "--subject", "model@1", "--json"))
    assert records[0]["content"] == {"impact_ratio": {"C": 0.64}}

    ok("promote", "model@1", "--to", "staging")
    assert "staging → production" in ok("promote", "model@1", "--to", "production")
    ok("promote", "model@2", "--to", "staging")
    out = ok("promote", "model@2", "--to", "production", "--reason", "better AUC")
    assert "model@1: production → archived (supersede)" in out
    out = ok("rollback", "credit-scoring", "--reason", "drift alert")
    assert "model@1: archived → production (rollback)" in out and "audit entry" in out
    stages = {m["ref"]: m["stage"] for m in json.loads(ok("model", "list", "--json"))}
    assert stages == {"model@1": "production", "model@2": "archived"}

    lineage = json.loads(ok("lineage", "model@2", "--json"))
    assert [d["ref"] for d in lineage["datasets"]] == ["train@1"]
    assert [a["ref"] for a in lineage["ancestors"]] == ["model@1"]
    assert "train@1" in ok("lineage", "model@2")
    users = json.loads(ok("lineage", "dataset:credit-scoring/train@1", "--json"))
    assert [m["ref"] for m in users] == ["model@1", "model@2"]
    assert "model@2" in ok("lineage", "dataset:credit-scoring/train@1")
    evaluated = json.loads(ok("lineage", "dataset:credit-scoring/eval@1", "--json"))
    assert [m["ref"] for m in evaluated] == ["model@1"]  # evaluation counts; not passed to v2

    entries = [json.loads(line) for line in ok("audit", "log", "--json").splitlines()]
    assert [e["seq"] for e in entries] == list(range(len(entries)))
    assert entries[-1]["action"] == "model.rolled_back" and entries[-1]["reason"] == "drift alert"
    assert {e["actor"] for e in entries} == {"alice"}
    assert "ok:" in ok("audit", "verify")

    vkey = ok("audit", "pubkey").strip()
    ok("audit", "export", "-o", "audit.jsonl")
    assert "the key given" in ok("audit", "verify", "audit.jsonl", "--key", vkey)
    (project / "vkey.txt").write_text(vkey + "\n")
    ok("audit", "verify", "audit.jsonl", "--key", "vkey.txt")
    proof = json.loads(ok("audit", "prove", "3"))
    assert proof["seq"] == 3 and proof["tree_size"] == len(entries)
    assert ok("audit", "checkpoint").splitlines()[1] == str(len(entries))


def test_a_tampered_export_fails_with_exit_1(project: Path) -> None:
    ok("system", "create", "s")
    ok("dataset", "register", "train.parquet", "--system", "s")
    ok("audit", "export", "-o", "audit.jsonl")
    lines = (project / "audit.jsonl").read_bytes().split(b"\n")
    lines[2] = lines[2].replace(b'"actor":"alice"', b'"actor":"mallory"')
    (project / "audit.jsonl").write_bytes(b"\n".join(lines))
    result = run("audit", "verify", "audit.jsonl")
    assert result.exit_code == 1
    assert "FAIL" in result.stderr and "does not match" in result.stderr


BAD = [
    (("promote", "nope@1", "--to", "production"), "not registered"),
    (("promote", "model@1", "--to", "production"), "cannot go from development to production"),
    (("promote", "model@1", "--to", "heaven"), "unknown stage"),
    (("rollback", "s"), "rollback needs exactly one version in production"),
    (("rollback", "nope"), "system 'nope' is not registered"),
    (
        ("model", "register", "model.pkl", "--system", "s", "--trained-on", "ghost@3"),
        "dataset version 'ghost@3' is not registered",
    ),
    (("model", "register", "missing.pkl", "--system", "s"), "is not a file"),
    (("model", "register", "model.pkl", "--system", "s", "--param", "x"), "KEY=VALUE"),
    (("dataset", "register", "nothere.csv", "--system", "s"), "is not a file"),
    (("dataset", "register", "train.parquet", "--system", "ghost"), "system 'ghost'"),
    (("system", "create", "s"), "already exists"),
    (("system", "create", "t", "--risk", "enormous"), "unknown risk category"),
    (("system", "create", "../etc"), "invalid system name"),
    (("evidence", "add", "nothere.json", "--kind", "x", "--subject", "model@1"), "not found"),
    (("evidence", "add", "train.parquet", "--kind", "x", "--subject", "model@1"), "not JSON"),
    (("evidence", "add", "e.json", "--kind", "Bad Kind", "--subject", "model@1"), "kind"),
    (("audit", "verify", "train.parquet"), "not a trustops audit export"),
    (("audit", "verify", "missing.jsonl"), "cannot read"),
    (("audit", "verify", "--key", "nonsense"), "neither a verifier key"),
    (("audit", "prove", "99"), "is not in the log"),
    (("lineage", "model@7"), "not registered"),
    (("lineage", "dataset:nosystem"), "dataset:SYSTEM/NAME@VERSION"),
]


@pytest.mark.parametrize(("args", "message"), BAD, ids=[" ".join(a[:2]) for a, _ in BAD])
def test_bad_input_is_one_line_exit_2_and_changes_nothing(
    project: Path, args: tuple[str, ...], message: str
) -> None:
    ok("system", "create", "s")
    ok("model", "register", "model.pkl", "--system", "s")
    (project / "e.json").write_text("{}")
    before = ok("audit", "log", "--json")
    result = run(*args)
    assert result.exit_code == 2, result.output
    assert message in result.stderr and result.stderr.startswith("error:")
    assert len(result.stderr.strip().splitlines()) == 1
    assert ok("audit", "log", "--json") == before
    assert "ok:" in ok("audit", "verify")


def test_outside_a_workspace_the_store_commands_say_how_to_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TRUSTOPS_DATABASE_URL", raising=False)
    monkeypatch.delenv("TRUSTOPS_WORKSPACE", raising=False)
    result = run("system", "list")
    assert result.exit_code == 2 and "trustops init" in result.stderr


def test_a_workspace_is_found_from_a_subdirectory_and_flags_beat_the_environment(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    nested = project / "src" / "deep"
    nested.mkdir(parents=True)
    monkeypatch.chdir(nested)
    monkeypatch.setenv("TRUSTOPS_ACTOR", "bob")
    ok("system", "create", "by-bob")
    ok("--actor", "carol", "system", "create", "by-carol")
    actors = [json.loads(x)["actor"] for x in ok("audit", "log", "--json").splitlines()]
    assert actors == ["bob", "carol"]


def test_the_console_script_exits_as_documented(project: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRUSTOPS_")}
    script = Path(sys.executable).with_name("trustops")

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(script), *args], cwd=project, env=env,
                              capture_output=True, text=True)  # fmt: skip

    assert cli("system", "create", "s").returncode == 0
    bad = cli("promote", "ghost@1", "--to", "staging")
    assert bad.returncode == 2 and bad.stderr.startswith("error:") and "Traceback" not in bad.stderr
    assert cli("audit", "verify").returncode == 0

