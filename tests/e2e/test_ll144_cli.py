"""``trustops report ll144`` through Typer's runner: each format, same bytes twice, bad input."""

from __future__ import annotations

import datetime as dt
import json
import random
import re
import shlex
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

import trustops
from tests.core.test_ll144 import worked_example_rows
from trustops.cli import app
from trustops.reports.ll144 import to_html, to_json, to_markdown

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[2]


def run(*args: object):
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("ll144")
    table = pa.table(worked_example_rows())
    pacsv.write_csv(table, folder / "applicants.csv")
    pq.write_table(table, folder / "applicants.parquet")
    return folder


BASE = ("--sex", "sex", "--race", "race", "--score", "score")
META = ("--audit-date", "2026-11-27", "--distribution-date", "2026-12-01")


def report(data: Path, out: Path, *extra: object):
    return run("report", "ll144", "--data", data, *BASE, *META, "-o", out, *extra)


def test_json_is_the_python_audit_with_the_summary_fields(data_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "audit.json"
    result = report(data_dir / "applicants.csv", out)
    assert result.exit_code == 0, result.output
    assert result.stderr.strip() == f"wrote {out}"
    doc = json.loads(out.read_text())
    audit = trustops.ll144_audit(data_dir / "applicants.csv", sex="sex", race="race", score="score")
    assert {k: v for k, v in doc.items() if k in audit.to_dict()} == audit.to_dict()
    assert doc["audit_date"] == "2026-11-27" and doc["distribution_date"] == "2026-12-01"
    assert doc["data_source"] == "applicants.csv"
    assert doc["sex"]["rows"][1]["category"] == {"sex": "Female"}
    assert round(doc["sex"]["rows"][1]["impact_ratio"], 2) == 0.82


def test_markdown_has_the_published_layout(data_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "audit.md"
    result = report(data_dir / "applicants.csv", out, "--data-source", "Vendor data | 2025")
    assert result.exit_code == 0, result.output
    text = out.read_text()
    for line in [
        "| Date of the most recent bias audit | 2026-11-27 |",
        "| Distribution date of the AEDT | 2026-12-01 |",
        "| Source and explanation of the data | Vendor data \\| 2025 |",
        "| Sex category | # of applicants | Scoring rate | Impact ratio |",
        "| Male | 92 | 54.3% | 1.00 |",
        "| Female | 76 | 44.7% | 0.82 |",
        "| Hispanic or Latino | 28 | 64.3% | 1.00 |",
        "| White | 40 | 37.5% | 0.58 |",
        "| Black | 32 | 50.0% | 0.78 |",
        "| Native Hawaiian or Pacific Islander | 8 | 62.5% | 0.97 |",
        "| Asian | 24 | 41.7% | 0.65 |",
        "| Sex | Ethnicity | Race | # of applicants | Scoring rate | Impact ratio |",
        "| Male | Hispanic or Latino | any race | 16 | 75.0% | 1.00 |",
        "| Female | Not Hispanic or Latino | Asian | 12 | 25.0% | 0.33 |",
        "Individuals of unknown race/ethnicity, not included above: 36. "
        "Reference category (impact ratio 1.00): Hispanic or Latino.",
    ]:
        assert line in text.splitlines(), line
    assert all(line == line.rstrip() for line in text.splitlines())
    assert "\n\n\n" not in text and text.endswith("\n") and not text.endswith("\n\n")


def test_html_is_self_contained_with_a_chart_per_table(data_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "audit.html"
    result = report(data_dir / "applicants.csv", out)
    assert result.exit_code == 0, result.output
    page = out.read_text()
    assert page.startswith("<!doctype html>") and page.count("<svg") == 3
    assert "<script" not in page and "<link" not in page and "@import" not in page
    assert re.findall(r"(?:src|href)=", page) == []
    assert 'data-ratio="0.823158"' in page  # Female, unrounded (34/76)/(50/92)
    assert page.count('class="threshold"') == 3
    assert '<td class="num ratio">0.82</td>' in page


@pytest.mark.parametrize("fmt", ["json", "markdown", "html"])
def test_same_inputs_give_the_same_bytes(data_dir: Path, tmp_path: Path, fmt: str) -> None:
    outputs = []
    for i, source in enumerate(["applicants.csv", "applicants.parquet", "applicants.csv"]):
        out = tmp_path / f"{i}.out"
        result = report(data_dir / source, out, "--format", fmt, "--data-source", "test data")
        assert result.exit_code == 0, result.output
        outputs.append(out.read_bytes())
    assert outputs[0] == outputs[1] == outputs[2]


@pytest.mark.parametrize("render", [to_json, to_markdown, to_html])
def test_renderers_depend_on_the_inputs_only(render: Callable[..., str]) -> None:
    rows = worked_example_rows()
    order = list(range(len(rows["sex"])))
    random.Random(3).shuffle(order)
    shuffled = {name: [values[i] for i in order] for name, values in rows.items()}
    texts = [
        render(
            trustops.ll144_audit(data, sex="sex", race="race", score="score"),
            audit_date=dt.date(2026, 11, 27),
            data_source="test data",
        )
        for data in (rows, rows, shuffled)
    ]
    assert texts[0] == texts[1] == texts[2]
    assert "2026-11-27" in texts[0] and "test data" in texts[0]


def test_selection_rates_and_exclusion_settings(tmp_path: Path) -> None:
    rows = {
        "sex": ["M"] * 60 + ["F"] * 39 + [None],
        "race": ["A"] * 50 + ["B"] * 49 + ["C"],
        "hired": [1] * 30 + [0] * 30 + [1] * 10 + [0] * 29 + [1],
    }
    data = tmp_path / "hires.csv"
    pacsv.write_csv(pa.table(rows), data)
    out = tmp_path / "hires.md"
    common = ("report", "ll144", "--data", data, "--sex", "sex", "--race", "race")
    result = run(*common, "--selected", "hired", "-o", out, "--exclusion-denominator", "all")
    assert result.exit_code == 0, result.output
    text = out.read_text()
    assert "| Sex category | # of applicants | Selection rate | Impact ratio |" in text
    assert "| C | 1 | 100.0% | excluded |" in text  # 1 of 100 < 2%, though the highest rate
    assert "of all individuals in the audit data are excluded" in text
    assert "| Race/ethnicity | C | 1 | 100.0% | 1 of 100 individuals in the audit data" in text
    out_json = tmp_path / "hires.json"
    result = run(*common, "--selected", "hired", "-o", out_json, "--exclude-below", "0")
    assert result.exit_code == 0, result.output
    doc = json.loads(out_json.read_text())
    assert doc["exclusion"] == {"below": 0.0, "denominator": "known"}
    assert doc["race"]["reference"] == {"race": "C"}
    assert doc["sex"]["unknown"] == 1 and doc["median"] is None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--sex", "gender", "--race", "race", "--score", "score"), "sex column 'gender'"),
        (("--sex", "sex", "--race", "race", "--selected", "score"), "column 'score': must be"),
        (("--sex", "sex", "--race", "race"), "pass selected=COLUMN"),
        (
            ("--sex", "sex", "--race", "race", "--score", "score", "--selected", "selected"),
            "not both",
        ),
        ((*BASE, "--audit-date", "27/11/2026"), "--audit-date must be a date as YYYY-MM-DD"),
        ((*BASE, "--distribution-date", "soon"), "--distribution-date must be a date"),
        ((*BASE, "--exclude-below", "1.5"), "exclude_below must be a share in [0, 1)"),
        ((*BASE, "--exclusion-denominator", "some"), "'some' is not one of"),
        ((*BASE, "--format", "docx"), "'docx' is not one of"),
    ],
)
def test_bad_input_is_one_error_line_and_exit_2(
    data_dir: Path, tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    out = tmp_path / "out.json"
    result = run("report", "ll144", "--data", data_dir / "applicants.csv", *args, "-o", out)
    assert result.exit_code == 2, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert message in lines[0]
    assert not out.exists()


def test_bad_data_is_one_error_line_and_exit_2(tmp_path: Path) -> None:
    nan_scores = tmp_path / "nan.csv"
    nan_scores.write_text("sex,race,score\nM,A,0.5\nF,B,\n")
    empty = tmp_path / "empty.csv"
    empty.write_text("sex,race,score\n")
    for data, message in [
        (nan_scores, "column 'score' has 1 missing value(s)"),
        (empty, "the data has no rows"),
        (tmp_path / "nope.csv", "not found"),
    ]:
        result = run("report", "ll144", "--data", data, *BASE, "-o", tmp_path / "x.md")
        assert result.exit_code == 2, result.output
        assert result.stderr.startswith("error: ") and message in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1


def test_an_unknown_suffix_needs_format(data_dir: Path, tmp_path: Path) -> None:
    result = report(data_dir / "applicants.csv", tmp_path / "audit.txt")
    assert result.exit_code == 2 and "cannot tell the format" in result.stderr
    result = report(data_dir / "applicants.csv", tmp_path / "audit.txt", "--format", "markdown")
    assert result.exit_code == 0 and (tmp_path / "audit.txt").read_text().startswith("# Bias")


def test_the_documented_example_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    doc = (ROOT / "docs" / "ll144.md").read_text()
    monkeypatch.chdir(tmp_path)
    for code in re.findall(r"```python\n(.*?)```", doc, re.S):
        exec(compile(code, "ll144.md", "exec"), {"__name__": "__docs__"})
    commands = [
        block.replace("\\\n", " ")
        for block in re.findall(r"```bash\n(.*?)```", doc, re.S)
        if "trustops report ll144" in block
    ]
    assert commands
    for command in commands:
        args = shlex.split(command)
        assert args[0] == "trustops"
        result = runner.invoke(app, args[1:])
        assert result.exit_code == 0, result.output
    page = (tmp_path / "bias-audit.html").read_text()
    assert "<td>2026-11-27</td>" in page and "Historical applicant data" in page
