"""trustops.validate: checks from YAML, data or saved profiles, and what gets profiled."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

import trustops.validation as validate_module
from trustops.core.quality.checks import ChecksError, parse_checks
from trustops.datasets import make_credit
from trustops.errors import InputError
from trustops.profiling import profile, save_profile
from trustops.validation import load_checks, validate

NOW = dt.datetime(2025, 3, 1, 12, tzinfo=dt.UTC)
ROOT = Path(__file__).resolve().parents[1]

CHECKS_YAML = """\
required_columns: [applicant_id, race, income, applied_at]
row_count: {min: 100}
freshness: {column: applied_at, max_age: 2d}
columns:
  race:
    allowed: [A, B, C, D]          # E is missing on purpose
  income:
    max_null_rate: 0.01
    min: 0
  age:
    type: int64
    max: {value: 70, severity: warn}
  branch:                           # not in the data
    max_null_rate: 0.1
"""


@pytest.fixture(scope="module")
def credit() -> pa.Table:
    d: dict[str, Any] = make_credit(500, seed=2)
    d["income"] = d["income"].astype(float)
    d["income"][:10] = np.nan
    newest = np.datetime64("2025-03-01T00:00:00", "s")
    d["applied_at"] = newest - np.arange(500).astype("timedelta64[h]")
    return pa.table(d)


@pytest.fixture
def checks_file(tmp_path: Path) -> Path:
    path = tmp_path / "checks.yaml"
    path.write_text(CHECKS_YAML)
    return path


def _summary(report: Any) -> list[tuple[str, str | None, str]]:
    return [(r.rule, r.column, r.status) for r in report.results]


EXPECTED = [
    ("required_columns", None, "pass"),
    ("row_count", None, "pass"),
    ("freshness", "applied_at", "pass"),
    ("allowed", "race", "fail"),
    ("max_null_rate", "income", "fail"),
    ("min", "income", "pass"),
    ("type", "age", "pass"),
    ("max", "age", "fail"),
    ("max_null_rate", "branch", "error"),
]


def test_yaml_file_against_a_table(credit: pa.Table, checks_file: Path) -> None:
    report = validate(credit, checks_file, now=NOW)
    assert _summary(report) == EXPECTED
    assert not report.passed
    assert report.result("max", "age").severity == "warn"
    assert report.result("max_null_rate", "income").observed == pytest.approx(0.02)
    assert report.result("freshness", "applied_at").observed == 12 * 3600
    assert report.result("allowed", "race").observed == ["E"]
    assert report.result("max_null_rate", "branch").message == "column 'branch' not in the data"


@pytest.mark.parametrize("form", ["pandas", "csv", "parquet", "profile.json", "profile.bin"])
def test_every_input_gives_the_same_report(
    credit: pa.Table, checks_file: Path, tmp_path: Path, form: str
) -> None:
    want = validate(credit, checks_file, now=NOW).to_dict()
    data: Any
    if form == "pandas":
        data = credit.to_pandas()
    elif form == "csv":
        data = tmp_path / "credit.csv"
        pacsv.write_csv(credit, data)
    elif form == "parquet":
        data = tmp_path / "credit.parquet"
        pq.write_table(credit, data)
    else:
        data = tmp_path / ("credit.json" if form.endswith("json") else "credit.tprof")
        save_profile(profile(credit), data)
    assert validate(data, checks_file, now=NOW).to_dict() == want


def test_a_profile_object_is_used_as_is(credit: pa.Table, checks_file: Path) -> None:
    p = profile(credit)
    assert validate(p, checks_file, now=NOW) == validate(credit, checks_file, now=NOW)


def test_only_named_columns_are_profiled(
    credit: pa.Table, checks_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: dict[str, Any] = {}

    def spy(data: Any, **kwargs: Any) -> Any:
        seen.update(kwargs)
        return profile(data, **kwargs)

    monkeypatch.setattr(validate_module, "profile", spy)
    validate(credit, checks_file, now=NOW)
    assert seen["columns"] == ["applicant_id", "race", "income", "applied_at", "age"]


def test_checks_as_a_mapping_or_a_suite(credit: pa.Table) -> None:
    spec = {"columns": {"race": {"allowed": ["A", "B", "C", "D", "E"]}}}
    a = validate(credit, spec, now=NOW)
    b = validate(credit, parse_checks(spec), now=NOW)
    assert a == b and a.passed


def test_now_defaults_to_the_current_utc_time(credit: pa.Table) -> None:
    spec = {"freshness": {"column": "applied_at", "max_age": "1d"}}
    recent = pa.table({"applied_at": pa.array([dt.datetime.now(dt.UTC)], pa.timestamp("us"))})
    assert validate(recent, spec).passed
    assert not validate(credit, spec).passed  # its newest row is 2025-03-01
    before = dt.datetime.now(dt.UTC).isoformat()[:16]
    stamp = validate(recent, spec).evaluated_at
    assert stamp is not None and stamp[:16] >= before


def test_a_naive_now_is_utc(credit: pa.Table) -> None:
    spec = {"freshness": {"column": "applied_at", "max_age": "1d"}}
    naive = validate(credit, spec, now=NOW.replace(tzinfo=None))
    assert naive == validate(credit, spec, now=NOW)


def test_yaml_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("row_count:\n  min: 1\ncolumns:\n  age: [min: 0\n")
    with pytest.raises(InputError, match=r"^broken\.yaml: invalid YAML at line \d+"):
        load_checks(path)


def test_yaml_rule_error_names_file_and_path(tmp_path: Path) -> None:
    path = tmp_path / "checks.yaml"
    path.write_text("columns:\n  age:\n    max_null_rate: 2\n")
    with pytest.raises(ChecksError) as info:
        validate({"age": [1]}, path)
    assert str(info.value) == (
        "checks.yaml: columns.age.max_null_rate must be a number between 0 and 1, not 2"
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [("", "empty.yaml declares no checks"), ("- a\n- b\n", "empty.yaml: must be a mapping")],
)
def test_empty_or_wrong_shape(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "empty.yaml"
    path.write_text(text)
    with pytest.raises(InputError, match=message):
        load_checks(path)


def test_yaml_is_loaded_safely(tmp_path: Path) -> None:
    path = tmp_path / "evil.yaml"
    path.write_text("row_count: !!python/object/apply:os.system ['true']\n")
    with pytest.raises(InputError, match="invalid YAML"):
        load_checks(path)


def test_missing_files(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"checks file .* not found"):
        load_checks(tmp_path / "nope.yaml")
    with pytest.raises(InputError, match="not found"):
        validate(tmp_path / "nope.csv", {"row_count": {"min": 1}})


def test_table_rules_only_profile_no_column() -> None:
    report = validate(pd.DataFrame({"x": range(5)}), {"row_count": {"min": 5, "max": 5}}, now=NOW)
    assert report.passed and report.rows == 5


def test_the_example_checks_pass_on_the_demo_data() -> None:
    report = validate(pa.table(make_credit(2000, seed=0)), ROOT / "examples" / "checks.yaml")
    assert report.passed, [r.message for r in report.failures]
    assert {r.status for r in report.results} <= {"pass", "not_evaluable"}
