"""``scan_pii`` over every input backend, and ``trustops scan-pii`` through Typer's runner."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
import typer
from typer.testing import CliRunner

from trustops.cli import TrustOpsGroup
from trustops.cli.pii import scan_pii_command
from trustops.errors import InputError, MissingColumnError, UsageError
from trustops.scan import scan_pii

REF = dt.date(2025, 6, 15)
RAW = {
    "email": ["ann.lee@example.com", "bo@mail.example.org", None, "no address", "cy@ex.net", "-"],
    "phone": ["+1 415-555-0132", "(415) 555-0199", "n/a", None, "020 7946 0958", "none"],
    "card": ["4111 1111 1111 1111", "5500-0000-0000-0004", "", None, "4111111111111112", "-"],
    "dob": [dt.date(1980, 1, 31), dt.date(1975, 5, 5), None, dt.date(2001, 12, 24),
            dt.date(1999, 9, 9), dt.date(1964, 2, 29)],
    "gender": ["female", "male", "female", None, "non-binary", "male"],
    "order_id": [1001, 1002, 1003, 1004, 1005, 1006],
    "amount": [1.5, 2.25, 3.0, 4.75, 5.5, 6.0],
}  # fmt: skip
RAW_VALUES = ["ann.lee@example.com", "415-555-0132", "4111 1111 1111 1111", "5500-0000-0000-0004"]


@pytest.fixture(scope="module")
def table() -> pa.Table:
    return pa.table(RAW)


@pytest.fixture(scope="module")
def files(table: pa.Table, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("pii")
    names = ("people.parquet", "people.csv", "clean.csv", "bad.parquet")
    parquet, csv, clean, bad = (root / n for n in names)
    pq.write_table(table, parquet)
    pacsv.write_csv(table, csv)
    pacsv.write_csv(table.select(["order_id", "amount"]), clean)
    bad.write_bytes(b"this is not parquet")
    return {"parquet": parquet, "csv": csv, "clean": clean, "bad": bad}


# ---------------------------------------------------------------- the Python API


def test_findings(table: pa.Table) -> None:
    report = scan_pii(table, reference_date=REF)
    assert report.rows == 6 and not report.sampled
    assert report.pii_columns == ["email", "phone", "card", "dob"]
    assert report.protected_columns == ["dob", "gender"]
    email = report.column("email")
    assert (email.non_null, email.detectors[0].matches) == (5, 3)
    assert email.detectors[0].match_rate == pytest.approx(3 / 5)
    card = report.column("card").detectors[0]
    assert (card.detector, card.matches, card.candidates) == ("card_number", 2, 3)
    assert report.column("gender").protected_attribute.attribute == "gender"
    doc = json.dumps(report.to_dict())
    assert not any(raw in doc for raw in RAW_VALUES)


def test_every_backend_gives_the_same_report(table: pa.Table, files: dict[str, Path]) -> None:
    import duckdb
    import polars as pl

    expected = scan_pii(table, reference_date=REF).to_dict()
    arrow_table = table  # noqa: F841  (DuckDB finds it by name)
    for data in (
        table.to_pandas(),
        pl.from_arrow(table),
        pl.from_arrow(table).lazy(),
        files["parquet"],
        str(files["parquet"]),
        table.to_pydict(),
        duckdb.sql("SELECT * FROM arrow_table"),
    ):
        assert scan_pii(data, reference_date=REF, batch_size=4).to_dict() == expected, data
    # CSV: Arrow reads the dates as dates and the empty card as null, the findings agree
    csv = scan_pii(files["csv"], reference_date=REF)
    assert (csv.pii_columns, csv.protected_columns) == (
        expected["pii_columns"],
        expected["protected_columns"],
    )


def test_columns_sample_limit_and_progress(table: pa.Table) -> None:
    report = scan_pii(table, columns=["gender", "email"], reference_date=REF)
    assert [c.column for c in report.columns] == ["gender", "email"]
    assert [c.column for c in scan_pii(table, columns="card").columns] == ["card"]
    seen: list[int] = []
    head = scan_pii(table, sample_limit=3, batch_size=2, progress=seen.append)
    assert (head.rows, head.sampled, head.sample_limit, seen) == (3, True, 3, [2, 3])
    assert head.to_dict()["sampled"] is True
    assert not scan_pii(table, sample_limit=6, batch_size=3).sampled
    assert scan_pii(table, sample_limit=4, batch_size=2).sampled


def test_empty_data_is_a_result(table: pa.Table) -> None:
    report = scan_pii(table.slice(0, 0).to_pandas(), reference_date=REF)
    assert report.rows == 0 and report.pii_columns == []
    assert report.protected_columns == ["dob", "gender"]  # by name
    assert all(c.non_null == 0 and c.detectors == () for c in report.columns)


def test_bad_input(table: pa.Table, files: dict[str, Path]) -> None:
    with pytest.raises(MissingColumnError, match="'mail' not found"):
        scan_pii(table, columns=["email", "mail"])
    with pytest.raises(UsageError, match="more than once"):
        scan_pii(table, columns=["email", "email"])
    with pytest.raises(UsageError):
        scan_pii(table, columns=[])
    with pytest.raises(UsageError):
        scan_pii(table, sample_limit=0)
    with pytest.raises(UsageError):
        scan_pii(table, max_examples=-1)
    with pytest.raises(InputError, match=r"bad\.parquet"):
        scan_pii(files["bad"])
    with pytest.raises(InputError, match=r"nope\.csv"):
        scan_pii(files["csv"].with_name("nope.csv"))


# ---------------------------------------------------------------- the command line

runner = CliRunner()


def cli_app() -> typer.Typer:
    """The command as the main app registers it: ``app.command("scan-pii")(...)``."""
    app = typer.Typer(cls=TrustOpsGroup, add_completion=False, pretty_exceptions_enable=False)

    @app.callback()
    def main() -> None:
        """trustops"""

    app.command("scan-pii")(scan_pii_command)
    return app


APP = cli_app()


def run(*args: object):
    return runner.invoke(APP, ["scan-pii", *(str(a) for a in args)])


def test_table_json_markdown_and_output_file(files: dict[str, Path], tmp_path: Path) -> None:
    ref = ("--reference-date", "2025-06-15")
    table = run(files["parquet"], *ref)
    assert table.exit_code == 0, table.output
    assert "email" in table.stdout and "card_number" in table.stdout
    result = run(files["parquet"], *ref, "--format", "json", "--columns", "email, card")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["kind"] == "pii_scan" and doc["pii_columns"] == ["email", "card"]
    assert doc["reference_date"] == "2025-06-15"
    md = run(files["parquet"], *ref, "--format", "markdown", "--max-examples", "1")
    assert md.exit_code == 0 and "| email | string | 5 | email | 3 | 60.0% |" in md.stdout
    for out in (table.stdout, result.stdout, md.stdout):
        assert not any(raw in out for raw in RAW_VALUES)
    path = tmp_path / "sub" / "pii.txt"
    written = run(files["parquet"], "--output", path)
    assert written.exit_code == 0 and written.stdout == ""
    assert "card_number" in path.read_text() and "wrote" in written.stderr
    sampled = run(files["csv"], "--format", "json", "--sample-limit", "2")
    assert json.loads(sampled.stdout)["rows"] == 2


def test_fail_on_pii_exits_one(files: dict[str, Path]) -> None:
    failed = run(files["parquet"], "--fail-on-pii")
    assert failed.exit_code == 1, failed.output
    assert "FAIL email: email in 60.0% of values" in failed.stderr
    assert "FAIL gender: looks like protected attribute gender" in failed.stderr
    assert not any(raw in failed.stderr for raw in RAW_VALUES)
    assert run(files["clean"], "--fail-on-pii").exit_code == 0
    assert run(files["parquet"]).exit_code == 0  # without the flag, findings are not failures
    # --min-rate: only rates above it fail (email 60 %, card 50 %, phone 75 %)
    above = run(files["parquet"], "--fail-on-pii", "--min-rate", "0.7", "--columns", "email,card")
    assert above.exit_code == 0, above.output
    below = run(files["parquet"], "--fail-on-pii", "--min-rate", "0.55", "--columns", "email,card")
    assert below.exit_code == 1 and "FAIL email" in below.stderr and "card" not in below.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("{missing}",), "not found"),
        (("{bad}",), "cannot read 'bad.parquet'"),
        (("{parquet}", "--columns", "email,nope"), "column 'nope' not found"),
        (("{parquet}", "--columns", " , "), "--columns names no column"),
        (("{parquet}", "--min-rate", "0.5"), "--min-rate only applies with --fail-on-pii"),
        (("{parquet}", "--fail-on-pii", "--min-rate", "1.5"), "--min-rate must be in [0, 1)"),
        (("{parquet}", "--sample-limit", "0"), "--sample-limit must be at least 1"),
        (("{parquet}", "--max-examples", "-1"), "--max-examples must be at least 0"),
        (("{parquet}", "--reference-date", "15/06/2025"), "--reference-date must be YYYY-MM-DD"),
        (("{parquet}", "--format", "html"), "html"),
    ],
)
def test_bad_input_is_one_line_and_exit_two(
    args: tuple[str, ...], message: str, files: dict[str, Path]
) -> None:
    paths = {**files, "missing": files["csv"].with_name("missing.csv")}
    result = run(*(a.format(**paths) for a in args))
    assert result.exit_code == 2, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and message in lines[0], result.stderr
    assert lines[0].startswith("error: ")
