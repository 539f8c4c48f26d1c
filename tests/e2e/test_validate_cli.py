"""``trustops validate`` through Typer's runner: outputs, exit codes 0/1/2, one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import typer
from typer.testing import CliRunner, Result

from trustops.cli import TrustOpsGroup
from trustops.cli.validate import validate_command
from trustops.datasets import make_credit
from trustops.profiling import profile, save_profile

ROOT = Path(__file__).resolve().parents[2]

# The lead registers the command on the real app; this app maps errors the same way.
app = typer.Typer(cls=TrustOpsGroup, add_completion=False, pretty_exceptions_enable=False)
app.command("validate")(validate_command)


@app.callback()
def _group() -> None:
    """A group, so the command is called by name as on the real app."""


runner = CliRunner()


def run(*args: object) -> Result:
    return runner.invoke(app, ["validate", *(str(a) for a in args)])


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = make_credit(1000, seed=4)
    d["applied_at"] = np.datetime64("2025-03-01T00:00:00", "s") - np.arange(1000).astype(
        "timedelta64[m]"
    )
    path = tmp_path_factory.mktemp("data") / "credit.parquet"
    pq.write_table(pa.table(d), path)
    return path


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "checks.yaml"
    path.write_text(text)
    return path


PASSING = """\
row_count: {min: 100}
freshness: {column: applied_at, max_age: 24h}
columns:
  race: {allowed: [A, B, C, D, E]}
  income: {min: 0, max_null_rate: 0}
"""
FAILING = """\
columns:
  race: {allowed: [A, B]}
  age: {max: {value: 30, severity: warn}}
  branch: {max_null_rate: 0.1}
"""


def test_pass_exits_0_with_a_table(data: Path, tmp_path: Path) -> None:
    result = run(data, "--checks", write(tmp_path, PASSING), "--now", "2025-03-01T06:00:00Z")
    assert result.exit_code == 0, result.output
    assert "Data quality: passed" in result.stdout
    assert "allowed" in result.stdout and "PASS" in result.stdout


def test_fail_exits_1_and_reports_every_problem(data: Path, tmp_path: Path) -> None:
    result = run(data, "--checks", write(tmp_path, FAILING), "--format", "json")
    assert result.exit_code == 1, result.output
    doc = json.loads(result.stdout)
    assert doc["kind"] == "data_quality" and doc["passed"] is False
    by = {(r["column"], r["rule"]): r for r in doc["results"]}
    assert by["race", "allowed"]["status"] == "fail"
    assert sorted(by["race", "allowed"]["observed"]) == ["C", "D", "E"]
    assert by["age", "max"]["severity"] == "warn" and by["age", "max"]["status"] == "fail"
    assert by["branch", "max_null_rate"]["status"] == "error"  # missing column: no crash
    assert doc["counts"]["blocking"] == 2 and doc["counts"]["warnings"] == 1
    assert "FAIL race: allowed" in result.stderr
    assert "ERROR branch: max_null_rate: column 'branch' not in the data" in result.stderr


def test_freshness_follows_now(data: Path, tmp_path: Path) -> None:
    checks = write(tmp_path, "freshness: {column: applied_at, max_age: 24h}\n")
    assert run(data, "--checks", checks, "--now", "2025-03-01T23:00:00+00:00").exit_code == 0
    late = run(data, "--checks", checks, "--now", "2025-03-03T00:00:00", "--format", "json")
    assert late.exit_code == 1
    assert json.loads(late.stdout)["results"][0]["observed"] == 2 * 86400


def test_a_saved_profile_gives_the_same_json(data: Path, tmp_path: Path) -> None:
    checks = write(tmp_path, FAILING)
    saved = tmp_path / "credit.tprof"
    save_profile(profile(data), saved)
    a = run(data, "--checks", checks, "--format", "json", "--now", "2025-03-02T00:00:00Z")
    b = run(saved, "--checks", checks, "--format", "json", "--now", "2025-03-02T00:00:00Z")
    assert a.exit_code == b.exit_code == 1
    assert json.loads(a.stdout) == json.loads(b.stdout)


@pytest.mark.parametrize("fmt", ["table", "json", "markdown"])
def test_output_file(data: Path, tmp_path: Path, fmt: str) -> None:
    out = tmp_path / f"quality.{fmt}"
    checks = write(tmp_path, PASSING)
    result = run(data, "--checks", checks, "--format", fmt, "-o", out, "--now", "2025-03-01")
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    text = out.read_text()
    assert "Data quality" in text or '"kind": "data_quality"' in text
    if fmt == "markdown":
        assert "| status | column | rule | result |" in text


@pytest.mark.parametrize(
    ("checks", "message"),
    [
        ("columns:\n  age: [min: 0\n", "error: checks.yaml: invalid YAML at line"),
        ("columns:\n  age: {maxx: 1}\n", "error: checks.yaml: columns.age: unknown rule 'maxx'"),
        (
            "columns:\n  age: {max_null_rate: 5}\n",
            "error: checks.yaml: columns.age.max_null_rate must be a number between 0 and 1",
        ),
    ],
)
def test_bad_checks_exit_2_with_one_line(
    data: Path, tmp_path: Path, checks: str, message: str
) -> None:
    result = run(data, "--checks", write(tmp_path, checks))
    assert result.exit_code == 2
    assert result.stderr.startswith(message)
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("nope.csv", "--checks", "{checks}"), "error: file 'nope.csv' not found"),
        (("{data}", "--checks", "nope.yaml"), "error: checks file 'nope.yaml' not found"),
        (("{data}", "--checks", "{checks}", "--now", "soon"), "error: --now must be an ISO 8601"),
    ],
)
def test_bad_input_exits_2_with_one_line(
    data: Path, tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    checks = write(tmp_path, PASSING)
    result = run(*(a.format(data=data, checks=checks) for a in args))
    assert result.exit_code == 2
    assert result.stderr.startswith(message)
    assert len(result.stderr.strip().splitlines()) == 1


def test_the_example_checks_pass_on_the_demo_csv(tmp_path: Path) -> None:
    csv = tmp_path / "credit.csv"
    pa.csv.write_csv(pa.table(make_credit(3000, seed=1)), csv)
    result = run(csv, "--checks", ROOT / "examples" / "checks.yaml", "--format", "markdown")
    assert result.exit_code == 0, result.output
    assert "**Data quality: passed**" in result.stdout
