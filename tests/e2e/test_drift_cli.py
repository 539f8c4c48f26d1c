"""``trustops profile`` and ``trustops drift`` through the real CLI: outputs, exit codes, errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from trustops.cli import app

runner = CliRunner()


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("drift")
    rng = np.random.default_rng(7)
    n = 5000
    ref = pd.DataFrame(
        {
            "income": rng.lognormal(3, 0.4, n),
            "age": rng.integers(18, 80, n),
            "city": rng.choice(["x", "y", "z"], n),
            "pred": rng.integers(0, 2, n),
        }
    )
    cur = ref.assign(income=ref["income"] * 1.5)
    ref.to_parquet(d / "ref.parquet")
    cur.to_parquet(d / "cur.parquet")
    ref.to_csv(d / "ref.csv", index=False)
    cur.assign(age=cur["age"].astype(str) + "y").to_parquet(d / "typed.parquet")
    return d


def test_profile_writes_a_reference_and_prints_a_summary(files: Path) -> None:
    code, out, err = run("profile", str(files / "ref.parquet"), "-o", str(files / "ref.tprof"))
    assert code == 0, err
    assert "income" in out and "numeric" in out and (files / "ref.tprof").exists()
    code, out, _ = run("profile", str(files / "ref.csv"), "--format", "json", "--columns", "age")
    assert code == 0
    doc = json.loads(out)
    assert doc["format"] == "trustops-profile" and [c["name"] for c in doc["columns"]] == ["age"]


def test_drift_against_a_stored_reference(files: Path) -> None:
    run("profile", str(files / "ref.parquet"), "-o", str(files / "ref.tprof"))
    code, out, err = run(
        "drift",
        "--reference",
        str(files / "ref.tprof"),
        "--current",
        str(files / "cur.parquet"),
        "--format",
        "json",
        "--prediction",
        "pred",
    )
    assert code == 0, err
    doc = json.loads(out)
    assert doc["drifted_columns"] == ["income"]
    assert doc["prediction_drift"]["column"] == "pred"
    for col in doc["columns"]:
        assert {"column", "method", "statistic", "p_value", "threshold", "drift_detected"} <= set(
            col
        )


@pytest.mark.parametrize(("flag", "code"), [("never", 0), ("any", 1), ("dataset", 0)])
def test_fail_on(files: Path, flag: str, code: int) -> None:
    got, _, err = run(
        "drift",
        "--reference",
        str(files / "ref.parquet"),
        "--current",
        str(files / "cur.parquet"),
        "--fail-on",
        flag,
    )
    assert got == code, err
    if code == 1:
        assert "FAIL" in err and "income" in err


def test_html_and_markdown_reports(files: Path, tmp_path: Path) -> None:
    out = tmp_path / "drift.html"
    code, stdout, _ = run(
        "drift",
        "--reference",
        str(files / "ref.parquet"),
        "--current",
        str(files / "cur.parquet"),
        "--format",
        "html",
        "-o",
        str(out),
    )
    assert code == 0 and stdout == ""
    page = out.read_text()
    assert "<svg" in page and "income" in page and "<script" not in page
    code, md, _ = run(
        "drift",
        "--reference",
        str(files / "ref.parquet"),
        "--current",
        str(files / "cur.parquet"),
        "--format",
        "markdown",
    )
    assert code == 0 and "| income |" in md


@pytest.mark.parametrize("compat", ["evidently", "nannyml"])
def test_exact_and_compat_modes(files: Path, compat: str) -> None:
    code, out, err = run(
        "drift",
        "--reference",
        str(files / "ref.parquet"),
        "--current",
        str(files / "cur.parquet"),
        "--compat",
        compat,
        "--format",
        "json",
        "--columns",
        "income",
        *(["--threshold", "0.1"] if compat == "nannyml" else []),
    )
    assert code == 0, err
    doc = json.loads(out)
    assert doc["mode"] == compat and doc["columns"][0]["drift_detected"] is True
    code, out, err = run(
        "drift",
        "--reference",
        str(files / "ref.parquet"),
        "--current",
        str(files / "cur.parquet"),
        "--exact",
        "--method",
        "ks",
        "--format",
        "json",
    )
    assert code == 0, err
    assert json.loads(out)["columns"][0]["method"] == "ks"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--columns", "nope"], "'nope'"),
        (["--method", "magic"], "unknown drift method"),
        (["--compat", "whylogs"], "unknown compatibility mode"),
        (["--drift-share", "0"], "--drift-share"),
    ],
)
def test_usage_errors_are_one_line(files: Path, args: list[str], message: str) -> None:
    code, _, err = run(
        "drift",
        "--reference",
        str(files / "ref.parquet"),
        "--current",
        str(files / "cur.parquet"),
        *args,
    )
    assert code == 2
    assert message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_bad_files_are_named(files: Path, tmp_path: Path) -> None:
    (tmp_path / "bad.tprof").write_bytes(b"TPROF\x01not zlib")
    code, _, err = run(
        "drift", "--reference", str(tmp_path / "bad.tprof"), "--current", str(files / "cur.parquet")
    )
    assert code == 2 and "bad.tprof" in err and "corrupt" in err
    (tmp_path / "old.json").write_text('{"format": "trustops-profile", "version": 99}')
    code, _, err = run("drift", "--reference", str(tmp_path / "old.json"), "--current", "x.parquet")
    assert code == 2 and "version 99" in err
    code, _, err = run(
        "drift",
        "--reference",
        str(files / "ref.parquet"),
        "--current",
        str(files / "typed.parquet"),
    )
    assert code == 2 and "'age' changed type" in err
    code, _, err = run("profile", str(tmp_path / "missing.parquet"))
    assert code == 2 and "missing.parquet" in err
    target = tmp_path / "ref.tprof"
    target.write_bytes(b"keep me")
    code, _, err = run("profile", str(tmp_path / "missing.parquet"), "-o", str(target))
    assert code == 2 and target.read_bytes() == b"keep me"  # nothing half-written
