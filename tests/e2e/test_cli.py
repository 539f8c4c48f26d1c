"""The CLI through Typer's runner: outputs, exit codes, and every bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

import trustops
from trustops.cli import app

runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture(scope="module")
def credit_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("data") / "credit.csv"
    result = run("dataset", "credit", path, "--rows", "3000", "--seed", "3")
    assert result.exit_code == 0, result.output
    return path


BASE = ("--y-true", "repaid", "--y-pred", "approved", "--sensitive", "race")


def test_json_output_agrees_with_python_api(credit_csv: Path) -> None:
    result = run(
        "fairness",
        credit_csv,
        *BASE,
        "--sensitive",
        "sex",
        "--format",
        "json",
        "--privileged",
        "race=A",
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    table = pacsv.read_csv(credit_csv)
    report = trustops.assess_fairness(
        table,
        y_true="repaid",
        y_pred="approved",
        sensitive=["race", "sex"],
        privileged={"race": "A"},
    )
    assert doc["overall"]["selection_rate"] == pytest.approx(report.overall["selection_rate"])
    assert doc["disparities"]["selection_rate"]["difference"] == pytest.approx(
        report.difference("selection_rate")
    )
    assert {"overall", "by_group", "disparities", "four_fifths"} <= doc.keys()
    groups = [g["group"] for g in doc["by_group"]]
    assert {"race": "C"} in groups and {"sex": "male"} in groups
    entry = doc["by_group"][0]
    assert {"group", "count", "selection_rate", "true_positive_rate"} <= entry.keys()
    sr = doc["disparities"]["selection_rate"]
    assert {
        "difference",
        "ratio",
        "difference_to_overall",
        "ratio_to_overall",
        "difference_to_reference",
        "ratio_to_reference",
    } <= sr.keys()
    ff = {json.dumps(r["group"]): r for r in doc["four_fifths"]}
    c = ff[json.dumps({"race": "C"})]
    assert c["impact_ratio"] < 0.8 and c["fisher_p_value"] < 0.05 and c["shortfall"] > 0


def test_table_markdown_html_and_output_file(credit_csv: Path, tmp_path: Path) -> None:
    result = run("fairness", credit_csv, *BASE)
    assert result.exit_code == 0, result.output
    assert "race=C" in result.stdout and "impact" in result.stdout
    md = run("fairness", credit_csv, *BASE, "--format", "markdown")
    assert md.exit_code == 0 and "| race=C |" in md.stdout
    chosen = run(
        "fairness",
        credit_csv,
        *BASE,
        "--format",
        "markdown",
        "--metric",
        "f1",
        "--metric",
        "false_omission_rate",
    )
    assert chosen.exit_code == 0, chosen.output
    header = chosen.stdout.splitlines()[2]
    assert "| f1 | false_omission_rate |" in header and "selection_rate |" not in header
    out = tmp_path / "sub" / "report.html"
    html = run("fairness", credit_csv, *BASE, "--format", "html", "--output", out)
    assert html.exit_code == 0, html.output
    page = out.read_text()
    assert "<svg" in page and 'class="threshold"' in page and "race=C" in page


def test_parquet_intersectional_bootstrap(credit_csv: Path, tmp_path: Path) -> None:
    path = tmp_path / "credit.parquet"
    pq.write_table(pacsv.read_csv(credit_csv), path)
    result = run(
        "fairness",
        path,
        *BASE,
        "--sensitive",
        "sex",
        "--intersectional",
        "--bootstrap",
        "200",
        "--seed",
        "1",
        "--format",
        "json",
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["intersectional"] is True
    assert {"race": "C", "sex": "female"} in [g["group"] for g in doc["by_group"]]
    lo, hi = doc["intervals"]["disparities"]["race × sex"]["selection_rate"]["difference"]
    assert lo <= doc["disparities"]["selection_rate"]["difference"] <= hi


def test_fail_below_exits_one_and_explains(credit_csv: Path) -> None:
    result = run("fairness", credit_csv, *BASE, "--fail-below", "0.8")
    assert result.exit_code == 1
    assert "impact_ratio[race=C]" in result.stderr
    passed = run("fairness", credit_csv, *BASE, "--fail-below", "0.1")
    assert passed.exit_code == 0


@pytest.fixture()
def bad_data(tmp_path: Path) -> dict[str, Path]:
    rng = np.random.default_rng(0)
    n = 40
    ok = {
        "y": rng.integers(0, 2, n),
        "p": rng.integers(0, 2, n),
        "g": np.where(rng.random(n) < 0.5, "a", "b"),
    }
    files = {}

    def write(name: str, columns: dict) -> None:
        path = tmp_path / f"{name}.csv"
        pacsv.write_csv(pa.table(columns), path)
        files[name] = path

    write("ok", ok)
    write("three_labels", {**ok, "y": np.arange(n) % 3})
    write("null_label", {**ok, "y": pa.array([None, *ok["y"][1:].tolist()], pa.int64())})
    write("null_group", {**ok, "g": pa.array([None, None, *ok["g"][2:].tolist()])})
    write("single_group", {**ok, "g": np.full(n, "a")})
    (tmp_path / "empty.csv").write_text("y,p,g\n")
    files["empty"] = tmp_path / "empty.csv"
    (tmp_path / "garbage.parquet").write_text("not parquet")
    files["garbage"] = tmp_path / "garbage.parquet"
    (tmp_path / "data.txt").write_text("y,p,g\n1,1,a\n")
    files["txt"] = tmp_path / "data.txt"
    return files


GOOD = ("--y-true", "y", "--y-pred", "p", "--sensitive", "g")


@pytest.mark.parametrize(
    ("case", "args", "message"),
    [
        ("ok", ("--y-true", "nope", "--y-pred", "p", "--sensitive", "g"), "'nope' not found"),
        ("ok", ("--y-true", "y", "--y-pred", "p", "--sensitive", "zz"), "'zz' not found"),
        ("three_labels", (*GOOD, "--task", "binary"), "column 'y'"),
        ("null_label", GOOD, "column 'y' has 1 missing value"),
        ("null_group", GOOD, "column 'g' has 2 missing value"),
        ("empty", GOOD, "no rows"),
        ("garbage", GOOD, "cannot read"),
        ("txt", GOOD, "cannot tell the format"),
        ("ok", (*GOOD, "--privileged", "g=zzz"), "privileged value 'zzz' not found"),
        ("ok", (*GOOD, "--privileged", "nonsense"), "ATTRIBUTE=VALUE"),
        ("ok", (*GOOD, "--task", "ranking"), "task must be one of"),
        ("ok", (*GOOD, "--missing", "drop"), "missing must be one of"),
        ("ok", (*GOOD, "--fail-below", "1.5"), "--fail-below"),
        ("ok", (*GOOD, "--pos-label", "yes"), "pos_label 'yes'"),
        ("ok", (*GOOD, "--format", "xml"), "--format"),
        ("ok", ("--y-pred", "p", "--sensitive", "g"), "--y-true"),
        ("ok", (*GOOD, "--confidence", "1.5"), "confidence"),
        ("ok", (*GOOD, "--metric", "fairness_score"), "unknown metric 'fairness_score'"),
        ("ok", (*GOOD, "--metric", "count", "--format", "json"), "unknown metric 'count'"),
    ],
)
def test_bad_input_is_one_line_and_exit_two(
    bad_data: dict[str, Path], case: str, args: tuple[str, ...], message: str
) -> None:
    result = run("fairness", bad_data[case], *args)
    assert result.exit_code == 2, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert message in lines[0]
    assert "Traceback" not in result.output
    assert result.stdout == ""


def test_missing_file_is_an_input_error(tmp_path: Path) -> None:
    result = run("fairness", tmp_path / "absent.csv", *GOOD)
    assert result.exit_code == 2
    assert "not found" in result.stderr


def test_nulls_as_their_own_group(bad_data: dict[str, Path]) -> None:
    result = run(
        "fairness", bad_data["null_group"], *GOOD, "--missing", "group", "--format", "json"
    )
    assert result.exit_code == 0, result.output
    groups = [g["group"]["g"] for g in json.loads(result.stdout)["by_group"]]
    assert groups == ["a", "b", None]


def test_single_group_is_explicit(bad_data: dict[str, Path]) -> None:
    result = run("fairness", bad_data["single_group"], *GOOD, "--format", "json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["disparities"]["selection_rate"]["difference"] is None
    reasons = [u["reason"] for u in doc["undefined"] if u["metric"] == "selection_rate"]
    assert any("only one group" in r for r in reasons)


def test_dataset_command_writes_parquet_and_is_deterministic(tmp_path: Path) -> None:
    a, b = tmp_path / "a.parquet", tmp_path / "b.parquet"
    assert run("dataset", "credit", a, "--rows", "500", "--seed", "9").exit_code == 0
    assert run("dataset", "credit", b, "--rows", "500", "--seed", "9").exit_code == 0
    assert pq.read_table(a).equals(pq.read_table(b))
    assert run("dataset", "nope", a).exit_code == 2


def test_demo_writes_reports(tmp_path: Path) -> None:
    out = tmp_path / "demo"  # the default size: a mitigation passes the policy on held-out rows
    result = run("demo", "--output", out, "--rows", "20000", "--bootstrap", "100")
    assert result.exit_code == 0, result.output
    assert "four-fifths rule" in result.stdout and "race=C" in result.stdout
    doc = json.loads((out / "fairness.json").read_text())
    ratio = {json.dumps(r["group"]): r["impact_ratio"] for r in doc["four_fifths"]}
    assert ratio[json.dumps({"race": "C"})] < 0.8  # the injected bias is found
    assert (out / "fairness.html").read_text().count('class="bar"') == len(doc["four_fifths"])
    # the governance part: registered, evidenced, promoted, rolled back, verified
    assert "audit log verified" in result.stdout
    assert "credit-scorer@1 archived, credit-scorer@2 archived" in result.stdout
    verified = run("audit", "verify", out / "audit.jsonl")
    assert verified.exit_code == 0, verified.output
    actions = [json.loads(line).get("action") for line in (out / "audit.jsonl").open()]
    assert "model.rolled_back" in actions
    # the biased model is blocked by the four-fifths policy, with the group and numbers named
    assert "policy eeoc-four-fifths v1: FAIL" in result.stdout
    assert "policy.evaluated" in actions and "policy.registered" in actions
    assert "impact_ratio[race=C]" in (out / "policy.md").read_text()
    # transparency: the explanation, the proxy, the mitigation trade-off, reason codes
    assert (out / "explanation.svg").read_text().lstrip().startswith(("<?xml", "<svg"))
    assert "<svg" in (out / "mitigation.svg").read_text()
    assert "Adverse-action reason codes" in result.stdout and "R0" in result.stdout
    assert "zip_score" in result.stdout  # the proxy of race
    from trustops.policy import load_policy

    with trustops.Registry.open(out) as reg:
        kinds = {e.kind for e in reg.evidence()}
        mitigated = reg.model("credit-scoring/credit-scorer@3")
        gate = reg.evaluate_policy(load_policy("eeoc-four-fifths"), "credit-scorer@3", record=False)
    assert {"explanation", "proxies", "reason_codes"} <= kinds
    # the chosen mitigation: a new version of the biased one that passes the policy
    assert mitigated.parent == "credit-scorer@1" and mitigated.trained_on == ["train@1"]
    assert mitigated.stage == "production" and not gate.blocked
    assert "mitigation_comparison" in kinds
    assert "policy eeoc-four-fifths v1: PASS (model:credit-scoring/credit-scorer@3)" in (
        result.stdout
    )
    for name in ("model-card", "annex-iv", "eeoc", "datasheet", "gdpr-art30", "ll144"):
        assert (out / f"{name}.md").stat().st_size > 0 and (out / f"{name}.html").exists()
    assert actions.count("evidence.recorded") >= 2 + 5  # fairness, drift, and the documents
    again = run("demo", "--output", out, "--rows", "4000", "--bootstrap", "100")
    assert again.exit_code == 0, again.output  # a second run starts a fresh log


def test_version_and_help() -> None:
    assert run("version").stdout.strip() == trustops.__version__
    assert run("--help").exit_code == 0
    assert run("bogus").exit_code == 2


def _csv(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("text", "args", "message"),
    [
        ("y,p,g,g\n1,1,a,a\n0,1,b,b\n", GOOD, "appears more than once"),
        ("y,p,g\n1,1,a\n0,1,b\n", (*GOOD, "--sensitive", "g"), "more than once"),
        ("y,p,g\n1,1,a\n0,1,b\n", (*GOOD, "--bootstrap", "5", "--seed", "-1"), "--seed"),
        ("y,p,g\n1.5,inf,a\n0.5,1,b\n", GOOD, "infinite"),
        ("y,p,g\n1,1,a\n0,1,b\n", (*GOOD, "--bootstrap", "2000000000"), "too many"),
    ],
)
def test_more_bad_input(tmp_path: Path, text: str, args: tuple[str, ...], message: str) -> None:
    result = run("fairness", _csv(tmp_path, "d.csv", text), *args)
    assert result.exit_code == 2, result.output
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_unwritable_output_is_an_input_error(bad_data: dict[str, Path], tmp_path: Path) -> None:
    result = run("fairness", bad_data["ok"], *GOOD, "--format", "json", "--output", tmp_path)
    assert result.exit_code == 2 and "cannot write" in result.stderr
    nested = tmp_path / "a" / "b" / "table.txt"
    table = run("fairness", bad_data["ok"], *GOOD, "--output", nested)
    assert table.exit_code == 0, table.output
    assert table.stdout == ""  # written to the file only
    assert "g=a" in nested.read_text()


def test_labels_are_text_not_markup_and_na_is_a_value(tmp_path: Path) -> None:
    rows = "".join(f"{i % 2},{(i // 2) % 2},{g}\n" for i, g in enumerate(["[/]", "NA", "x|y"] * 4))
    path = _csv(tmp_path, "d.csv", "y,p,g\n" + rows)
    table = run("fairness", path, *GOOD)
    assert table.exit_code == 0, table.output
    assert "g=[/]" in table.stdout and "g=NA" in table.stdout
    md = run("fairness", path, *GOOD, "--format", "markdown")
    assert "| g=x\\|y |" in md.stdout


def test_a_bug_is_one_line_and_exit_three(
    bad_data: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    import trustops.assess

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(trustops.assess, "assess_fairness", broken)
    result = run("fairness", bad_data["ok"], *GOOD)
    assert result.exit_code == 3
    assert result.stderr.startswith("internal error: RuntimeError: boom")


def test_threshold_moves_the_line(credit_csv: Path) -> None:
    def flagged(threshold: str) -> list[dict]:
        result = run("fairness", credit_csv, *BASE, "--format", "json", "--threshold", threshold)
        assert result.exit_code == 0, result.output
        doc = json.loads(result.stdout)
        assert doc["four_fifths_threshold"] == float(threshold)
        return [r["group"] for r in doc["four_fifths"] if r["below_threshold"]]

    assert {"race": "C"} in flagged("0.8")
    assert flagged("0.1") == []
    assert run("fairness", credit_csv, *BASE, "--threshold", "1.5").exit_code == 2
