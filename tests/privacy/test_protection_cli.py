"""``trustops dp`` and ``trustops privacy budget|pseudonymise|reidentify|new-key|rotate-key``.

Through Typer's runner in a fresh project, and once as a real subprocess to
see the exit code and the one-line error a user sees.
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


def run(*args: object):  # type: ignore[no-untyped-def]
    return runner.invoke(app, [str(a) for a in args])


def ok(*args: object) -> str:
    result = run(*args)
    assert result.exit_code == 0, (args, result.output)
    return str(result.stdout)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for var in list(os.environ):
        if var.startswith("TRUSTOPS_"):
            monkeypatch.delenv(var)
    ok("--actor", "alice", "init")
    ok("system", "create", "hiring")
    ok("dataset", "credit", "decisions.csv", "--rows", "600")
    ok("dataset", "register", "decisions.csv", "--system", "hiring")
    return tmp_path


RATES = ("dp", "release", "selection_rates", "--dataset", "decisions", "--system", "hiring",
         "--group-column", "race", "--category", "A,B,C", "--category", "D,E",
         "--outcome-column", "approved")  # fmt: skip


def test_budget_then_releases_until_refused(project: Path) -> None:
    result = run(*RATES, "--epsilon", "0.5")
    assert result.exit_code == 2 and "no privacy budget is set" in result.output
    ok("privacy", "budget", "decisions", "--system", "hiring", "--epsilon", "1",
       "--reason", "annual report")  # fmt: skip
    out = ok(*RATES, "--epsilon", "0.5")
    assert "selection rate E" in out and "scale 2" in out and "epsilon=0.5" in out
    assert "0.5 left" in out
    data = json.loads(ok(*RATES, "--epsilon", "0.25", "--json"))
    assert data["epsilon"] == 0.25 and data["budget"]["epsilon_remaining"] == pytest.approx(0.25)
    refused = run(*RATES, "--epsilon", "0.5")
    assert refused.exit_code == 2 and "exhausted" in refused.output
    shown = json.loads(ok("privacy", "budget", "decisions", "--system", "hiring", "--json"))
    assert shown["epsilon_spent"] == pytest.approx(0.75)
    listed = ok("dp", "releases", "decisions", "--system", "hiring")
    assert listed.count("selection_rates") == 2
    ll144 = run(*RATES, "--epsilon", "0.1", "--for", "ll144")
    assert ll144.exit_code == 2 and "Local Law 144" in ll144.output


def test_sum_needs_bounds_and_gaussian_needs_delta(project: Path) -> None:
    ok("privacy", "budget", "decisions", "--system", "hiring", "--epsilon", "5", "--delta", "1e-5")
    base = ("dp", "release", "sum", "--dataset", "decisions", "--system", "hiring",
            "--column", "income", "--epsilon", "1")  # fmt: skip
    assert "declared bounds" in run(*base).output
    assert "LOWER,UPPER" in run(*base, "--bounds", "0").output
    out = ok(*base, "--bounds", "0,200", "--delta", "1e-6")
    assert "gaussian noise" in out and "delta=1e-06" in out


def test_pseudonymise_and_reidentify(project: Path) -> None:
    ok("privacy", "new-key", "p.key")
    (project / "people.csv").write_text(
        "ssn,email,code\n123-45-6789,alice@example.com,12\n987-65-4321,bob@example.org,34\n"
    )
    ok("privacy", "pseudonymise", "people.csv", "--columns", "ssn,email", "--key-file", "p.key",
       "--method", "fpe", "--output", "tokens.csv")  # fmt: skip
    tokens = (project / "tokens.csv").read_text()
    assert "alice@example.com" not in tokens and "123-45-6789" not in tokens
    ok("privacy", "reidentify", "tokens.csv", "--columns", "ssn", "--columns", "email",
       "--key-file", "p.key", "--output", "back.csv")  # fmt: skip
    assert "alice@example.com" in (project / "back.csv").read_text()
    bad = run("privacy", "pseudonymise", "people.csv", "--columns", "code", "--key-file",
              "p.key", "--method", "fpe", "--output", "bad.csv")  # fmt: skip
    assert bad.exit_code == 2 and "column 'code', row 1" in bad.output
    assert not (project / "bad.csv").exists()
    assert run("privacy", "new-key", "p.key").exit_code == 2  # never overwritten


def test_rotate_key_encrypts_the_store(project: Path) -> None:
    ok("privacy", "new-key", "a.key")
    assert "none (artifacts stored in plaintext)" in ok("privacy", "keys")
    out = ok("privacy", "rotate-key", "--new-key-file", "a.key")
    assert "re-encrypted" in out and "was plaintext" in out
    history = json.loads(ok("privacy", "keys", "--json"))
    assert [r["to_key"] for r in history["rotations"]] == [k["key_id"] for k in history["keys"]]
    assert history["rotations"][0]["finished_at"] is not None
    env = {**os.environ, "TRUSTOPS_ENCRYPTION_KEY": str(project / "a.key")}
    env.pop("TRUSTOPS_DEBUG", None)
    script = str(Path(sys.executable).with_name("trustops"))  # the console script
    listed = subprocess.run(
        [script, "dataset", "list", "--json"],
        env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert listed.returncode == 0, listed.stderr
    ok("privacy", "new-key", "b.key")
    again = subprocess.run(
        [script, "privacy", "rotate-key", "--new-key-file", "b.key"],
        env={**env, "TRUSTOPS_ENCRYPTION_KEY": str(project / "missing.key")},
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert again.returncode == 2
    assert again.stderr.startswith("error: encryption key file") and "Traceback" not in again.stderr
