"""trustops privacy usage | erasure | subject-key through the command line (a real workspace)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from typer.testing import CliRunner, Result

from trustops.cli import app


def run(workspace: Path, *args: object) -> Result:
    return CliRunner().invoke(app, ["--workspace", str(workspace), *map(str, args)])


def test_subject_key_erasure_and_usage(workspace: Path, tmp_path: Path) -> None:
    made = run(workspace, "privacy", "subject-key")
    assert made.exit_code == 0, made.output
    key = workspace / ".trustops" / "subject.key"
    assert oct(os.stat(key).st_mode & 0o777) == "0o600"
    again = run(workspace, "privacy", "subject-key")
    assert again.exit_code == 2 and "exists" in again.stderr
    data = tmp_path / "train.parquet"
    pq.write_table(pa.table({"applicant_id": [11, 12, 13], "x": [1, 0, 1]}), data)
    for args in (
        ("system", "create", "credit"),
        ("dataset", "register", data, "--system", "credit", "--subject-column", "applicant_id",
         "--purpose", "scoring", "--personal-data", "--lawful-basis", "contract"),
        ("model", "register", data, "--name", "scorer", "--system", "credit", "--trained-on",
         "train@1", "--purpose", "scoring", "--no-commit"),
    ):  # fmt: skip
        result = run(workspace, *args)
        assert result.exit_code == 0, result.output
    ids = tmp_path / "ids.txt"
    ids.write_text("12\n99\n")
    preview = run(workspace, "privacy", "erasure", "--subject-ids", ids, "--dry-run")
    assert "would touch" in preview.stdout and "credit/scorer@1" in preview.stdout
    done = run(workspace, "privacy", "erasure", "--subject-ids", ids, "--reference", "c-1",
               "--json")  # fmt: skip
    out = json.loads(done.stdout)
    assert (out["found"], out["models"]) == (1, ["credit/scorer@1"])
    used = json.loads(run(workspace, "privacy", "usage", "--system", "credit", "--json").stdout)
    assert [(u["use"], u["purpose"]) for u in used["uses"]] == [("training", "scoring")]
    table = run(workspace, "privacy", "usage")
    assert table.exit_code == 0 and "allowed" in table.stdout
    bad = tmp_path / "bad.txt"
    bad.write_text("12\nnot an id\n")
    refused = run(workspace, "privacy", "erasure", "--subject-ids", bad)
    assert refused.exit_code == 2
    assert "bad.txt, line 2: not a subject id" in refused.stderr
    assert "not an id" not in refused.stderr
    # a model registration for a purpose the data does not permit is refused
    other = run(workspace, "model", "register", data, "--name", "m2", "--system", "credit",
                "--trained-on", "train@1", "--purpose", "marketing", "--no-commit")  # fmt: skip
    assert other.exit_code == 2 and "not a permitted purpose" in other.stderr


def test_erasure_without_a_key_is_a_clear_error(workspace: Path, tmp_path: Path) -> None:
    ids = tmp_path / "ids.txt"
    ids.write_text("1\n")
    result = run(workspace, "privacy", "erasure", "--subject-ids", ids)
    assert result.exit_code == 2
    assert "no subject key is configured" in result.stderr
