"""``trustops check`` end to end through Typer's runner, in a fresh project directory.

Data mode on synthetic credit data (biased: blocked; unbiased: passes), every output
format (the JUnit XML validated against ``junit.xsd`` beside this file), model mode on a
registry built with the Python API (the decision recorded with its audit entries),
reproducible output with ``--as-of``, and usage errors: exit 2 with one ``error:`` line.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pytest
import xmlschema
from typer.testing import CliRunner

import trustops
from trustops.cli import app
from trustops.datasets import make_credit
from trustops.governance import Registry, init_workspace
from trustops.policy import load_policy

runner = CliRunner()
JUNIT_XSD = Path(__file__).with_name("junit.xsd")
AS_OF = "2025-01-01T00:00:00Z"
DATA_ARGS = ("--y-true", "repaid", "--y-pred", "approved", "--sensitive", "race")


def run(*args: object) -> Any:
    return runner.invoke(app, [str(a) for a in args])


def write_credit(path: Path, *, bias: float) -> Path:
    pacsv.write_csv(pa.table(make_credit(2000, seed=3, bias=bias)), path)
    return path


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("check-data")
    return {
        "biased": write_credit(folder / "biased.csv", bias=0.9),
        "unbiased": write_credit(folder / "unbiased.csv", bias=0.0),
    }


@pytest.fixture(scope="module")
def junit_schema() -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(JUNIT_XSD)


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A directory without a workspace and without TRUSTOPS_* settings."""
    monkeypatch.chdir(tmp_path)
    for var in (
        "TRUSTOPS_DATABASE_URL",
        "TRUSTOPS_ACTOR",
        "TRUSTOPS_SIGNING_KEY",
        "TRUSTOPS_WORKSPACE",
        "TRUSTOPS_ARTIFACTS",
        "TRUSTOPS_CHECKPOINT_COPY",
    ):
        monkeypatch.delenv(var, raising=False)
    return tmp_path


def check_data(name: Path, *more: object) -> Any:
    return run("check", "--policy", "eeoc-four-fifths", "--data", name, *DATA_ARGS, *more)


# --- data mode --------------------------------------------------------------------------------


def test_biased_data_is_blocked_and_the_group_named(here: Path, data: dict[str, Path]) -> None:
    result = check_data(data["biased"], "--sensitive", "sex", "--format", "json")
    assert result.exit_code == 1, result.output
    decision = json.loads(result.stdout)
    assert decision["outcome"] == "fail"
    assert decision["subject"] == "data:biased.csv"
    rules = {r["id"]: r for r in decision["rules"]}
    ratio = rules["impact-ratio"]
    assert (ratio["outcome"], ratio["effect"]) == ("fail", "fail")
    assert len(ratio["messages"]) == 1
    message = ratio["messages"][0]
    assert message.startswith("impact_ratio[race=C] = 0.")
    assert " < 0.80 (n=" in message and message.endswith(", significant at 0.05")
    assert rules["fairness-evidence-is-fresh"]["outcome"] == "pass"  # computed just now
    assert rules["shortfall"]["effect"] == "info"
    assert len(decision["evidence_hashes"]) == 1
    assert decision["policy_hash"] == load_policy("eeoc-four-fifths").hash


def test_unbiased_data_passes(here: Path, data: dict[str, Path]) -> None:
    result = check_data(data["unbiased"], "--format", "json")
    assert result.exit_code == 0, result.output
    decision = json.loads(result.stdout)
    assert decision["outcome"] == "pass"
    assert {r["id"]: r["outcome"] for r in decision["rules"]} == {
        "impact-ratio": "pass",
        "fairness-evidence-is-fresh": "pass",
        "shortfall": "pass",
    }
    assert decision["rules"][0]["messages"][0].startswith("all 5 ≥ 0.80 (closest: ")


def test_table_output_names_the_failing_group(here: Path, data: dict[str, Path]) -> None:
    result = check_data(data["biased"])
    assert result.exit_code == 1, result.output
    out = result.stdout
    assert "policy eeoc-four-fifths v1: FAIL (data:biased.csv)" in out
    assert "impact-ratio" in out and "impact_ratio[race=C]" in out
    assert "fairness-evidence-is-fresh" in out and "shortfall" in out
    written = here / "out" / "table.txt"
    assert check_data(data["biased"], "-o", written).stdout == ""
    text = written.read_text(encoding="utf-8")
    assert "impact_ratio[race=C]" in text and "FAIL" in text


def test_markdown_output(here: Path, data: dict[str, Path]) -> None:
    result = check_data(data["biased"], "--format", "markdown", "--as-of", AS_OF)
    assert result.exit_code == 1, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "### ❌ Policy `eeoc-four-fifths` v1: **FAIL**"
    assert "Subject: `data:biased.csv`" in lines
    assert "| | rule | severity | outcome | why |" in lines
    rows = [line for line in lines if line.startswith("| ") and "`" in line]
    assert [row.split("`")[1] for row in rows] == [
        "impact-ratio",
        "fairness-evidence-is-fresh",
        "shortfall",
    ]
    assert rows[0].startswith("| ❌ | `impact-ratio` | block | fail | impact_ratio[race=C] = ")
    assert lines[-1].startswith("Policy hash `")
    assert lines[-1].endswith("evaluated 2025-01-01T00:00:00+00:00")


def test_junit_output_is_valid_and_counts_match(
    here: Path, data: dict[str, Path], junit_schema: xmlschema.XMLSchema
) -> None:
    result = check_data(data["biased"], "--format", "junit")
    assert result.exit_code == 1, result.output
    xml = result.stdout
    assert xml.startswith("<?xml")
    junit_schema.validate(xml)
    decision = json.loads(check_data(data["biased"], "--format", "json").stdout)
    effects = [r["effect"] for r in decision["rules"]]

    root = ET.fromstring(xml)
    assert root.tag == "testsuites"
    (suite,) = root.findall("testsuite")
    cases = suite.findall("testcase")
    failed = [c for c in cases if c.find("failure") is not None]
    skipped = [c for c in cases if c.find("skipped") is not None]
    for element in (root, suite):
        assert int(element.get("tests", -1)) == len(cases) == len(effects) == 3
        assert int(element.get("failures", -1)) == len(failed) == effects.count("fail") == 1
        assert int(element.get("skipped", -1)) == len(skipped) == effects.count("skip") == 0
        assert element.get("errors") == "0"
    assert suite.get("name") == "eeoc-four-fifths"
    assert [c.get("name") for c in cases] == [r["id"] for r in decision["rules"]]
    assert {c.get("classname") for c in cases} == {"trustops.policy.eeoc-four-fifths"}
    failure = failed[0].find("failure")
    assert failure is not None and failed[0].get("name") == "impact-ratio"
    assert failure.get("type") == "block"
    assert (failure.get("message") or "").startswith("impact_ratio[race=C] = ")
    props = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert props["policy_hash"] == decision["policy_hash"]
    assert props["outcome"] == "fail"
    assert props["evidence_hashes"] == " ".join(decision["evidence_hashes"])
    outs = [c.findtext("system-out") for c in cases if c.find("system-out") is not None]
    assert outs[0].startswith("PASS (pass): fairness evidence is 0 days old")
    assert outs[1].startswith("INFO (fail): shortfall[race=C] = ")


def test_junit_with_skipped_rules_is_valid(
    here: Path, data: dict[str, Path], junit_schema: xmlschema.XMLSchema
) -> None:
    policy = here / "skips.yaml"
    policy.write_text(
        "policy: skips\nrules:\n"
        "  - id: eu-only\n    kind: evidence\n    evidence: fairness\n"
        "    when: {jurisdiction: [EU]}\n"
        "  - id: ir\n    evidence: fairness\n    metric: four_fifths.impact_ratio\n"
        "    op: '>='\n    threshold: 0.8\n    severity: warn\n"
    )
    result = run("check", "--policy", policy, "--data", data["biased"], *DATA_ARGS,
                 "--format", "junit")  # fmt: skip
    assert result.exit_code == 0, result.output  # a warn rule does not block
    junit_schema.validate(result.stdout)
    suite = ET.fromstring(result.stdout).find("testsuite")
    assert suite is not None
    assert (suite.get("tests"), suite.get("failures"), suite.get("skipped")) == ("2", "0", "1")
    skipped = suite.find("testcase/skipped")
    assert skipped is not None and skipped.get("message") == "not used in EU"


@pytest.mark.parametrize(
    "bad",
    [
        '<testsuites><testsuite name="p" tests="1" errors="0"/></testsuites>',  # no failures
        '<testsuites><testsuite name="p" tests="1" failures="0" errors="0">'
        "<testcase/></testsuite></testsuites>",  # a testcase without a name
        '<testsuites><testsuite name="p" tests="-1" failures="0" errors="0"/></testsuites>',
        '<testsuite name="p" tests="0" failures="0" errors="0"/>',  # not in testsuites
    ],
)
def test_the_junit_schema_refuses_what_ci_servers_cannot_read(
    bad: str, junit_schema: xmlschema.XMLSchema
) -> None:
    assert not junit_schema.is_valid(bad)


@pytest.mark.parametrize("fmt", ["json", "junit", "markdown"])
def test_as_of_makes_output_reproducible(here: Path, data: dict[str, Path], fmt: str) -> None:
    first, second = here / f"first.{fmt}", here / f"second.{fmt}"
    for path in (first, second):
        result = check_data(data["biased"], "--format", fmt, "--as-of", AS_OF, "-o", path)
        assert result.exit_code == 1, result.output
    assert first.read_bytes() == second.read_bytes()
    assert b"2025-01-01T00:00:00" in first.read_bytes() or fmt == "junit"
    if fmt == "json":
        assert json.loads(first.read_bytes())["evaluated_at"] == "2025-01-01T00:00:00+00:00"


# --- model mode on a registry --------------------------------------------------------------------


@pytest.fixture
def project(here: Path, data: dict[str, Path]) -> Path:
    """A workspace with system credit-scoring, dataset credit@1, model scorer@1 and fairness."""
    init_workspace(here, actor="alice")
    table = pacsv.read_csv(data["biased"])
    with Registry.open(here) as reg:
        reg.create_system("credit-scoring", owner="risk", risk="high", use_case="credit")
        reg.register_dataset(table, system="credit-scoring", name="credit", profile=False)
        mv = reg.register_model(
            b"weights v1",
            system="credit-scoring",
            name="scorer",
            trained_on=["credit@1"],
            parameters={"features": ["income", "debt_ratio", "zip_score"]},
            code_commit=None,
        )
        report = trustops.assess_fairness(
            table, y_true="repaid", y_pred="approved", sensitive=["race", "sex"]
        )
        reg.record_evidence("fairness", mv, report)
    return here


def audit_counts(reg: Registry) -> dict[str, int]:
    return {
        action: len(reg.audit.entries(action=action))
        for action in ("policy.registered", "policy.evaluated", "evidence.recorded")
    }


def test_model_mode_blocks_and_records_the_decision(project: Path) -> None:
    result = run("check", "--policy", "eeoc-four-fifths", "--model", "scorer@1",
                 "--format", "json", "--as-of", AS_OF)  # fmt: skip
    assert result.exit_code == 1, result.output
    decision = json.loads(result.stdout)
    assert decision["outcome"] == "fail"
    assert decision["subject"] == "model:credit-scoring/scorer@1"
    assert decision["rules"][0]["messages"][0].startswith("impact_ratio[race=C] = ")
    policy = load_policy("eeoc-four-fifths")

    with Registry.open(project) as reg:
        mv = reg.model("scorer@1")
        (fairness,) = reg.evidence(subject=mv, kind="fairness")
        assert decision["evidence_hashes"] == [fairness.content_hash]
        (recorded,) = reg.evidence(subject=mv, kind="policy_decision")
        assert recorded.content == decision
        assert recorded.created_by == "alice"
        (registered,) = reg.audit.entries(action="policy.registered")
        assert registered.subject == "policy:eeoc-four-fifths@1"
        assert registered.payload["hash"] == policy.hash
        (evaluated,) = reg.audit.entries(action="policy.evaluated")
        assert evaluated.subject == "model:credit-scoring/scorer@1"
        assert evaluated.payload["outcome"] == "fail"
        assert evaluated.payload["policy_hash"] == policy.hash
        assert evaluated.payload["content_hash"] == recorded.content_hash
        assert evaluated.payload["evidence_id"] == recorded.id
        assert evaluated.payload["evidence_hashes"] == [fairness.content_hash]
        assert [p["hash"] for p in reg.policies()] == [policy.hash]
        before = audit_counts(reg)

    # again: the policy is stored once per hash, the decision is recorded again, and the
    # decision recorded first is not evidence for the second
    again = run("check", "--policy", "eeoc-four-fifths", "--model", "scorer@1",
                "--format", "json", "--as-of", AS_OF)  # fmt: skip
    assert again.exit_code == 1
    assert again.stdout == result.stdout
    with Registry.open(project) as reg:
        after = audit_counts(reg)
        assert after["policy.registered"] == before["policy.registered"] == 1
        assert after["policy.evaluated"] == before["policy.evaluated"] + 1 == 2
        assert len(reg.evidence(kind="policy_decision")) == 2
        assert reg.audit.verify().ok
    verify = run("audit", "verify")
    assert verify.exit_code == 0, verify.output


def test_no_record_records_nothing(project: Path) -> None:
    with Registry.open(project) as reg:
        before = (audit_counts(reg), reg.audit.size(), len(reg.evidence()))
    for fmt in ("table", "json", "junit", "markdown"):
        result = run("check", "--policy", "eeoc-four-fifths", "--model", "scorer@1",
                     "--format", fmt, "--no-record")  # fmt: skip
        assert result.exit_code == 1, result.output
    with Registry.open(project) as reg:
        assert (audit_counts(reg), reg.audit.size(), len(reg.evidence())) == before
        assert reg.evidence(kind="policy_decision") == []
        assert reg.policies() == []
        assert reg.audit.verify().ok


def test_model_mode_with_a_policy_that_passes(project: Path) -> None:
    policy = project / "inputs.yaml"
    policy.write_text(
        "policy: inputs\nrules:\n"
        "  - id: no-race\n    kind: prohibited_inputs\n    attributes: [race, sex]\n"
        "  - id: owner\n    kind: field\n    field: system.owner\n"
        "  - id: trained\n    kind: field\n    field: datasets.name\n"
    )
    result = run("check", "--policy", policy, "--model", "scorer@1", "--format", "json")
    assert result.exit_code == 0, result.output
    decision = json.loads(result.stdout)
    assert decision["outcome"] == "pass"
    assert [r["messages"][0] for r in decision["rules"]] == [
        "none of 2 prohibited bases among 3 inputs",
        "system.owner = risk",
        "datasets.name recorded for 1 dataset(s)",
    ]
    with Registry.open(project) as reg:
        (recorded,) = reg.evidence(kind="policy_decision")
        assert recorded.content["outcome"] == "pass"


@pytest.mark.parametrize(
    ("risk", "code", "outcome"),
    [("high", 1, "fail"), ("minimal", 0, "pass")],
)
def test_data_mode_with_a_system_for_applies_to(
    project: Path, data: dict[str, Path], risk: str, code: int, outcome: str
) -> None:
    with Registry.open(project) as reg:
        reg.create_system("screening", risk=risk)
    result = run("check", "--policy", "eu-ai-act-high-risk", "--data", data["biased"],
                 *DATA_ARGS, "--system", "screening", "--format", "markdown")  # fmt: skip
    assert result.exit_code == code, result.output
    assert f"**{outcome.upper()}**" in result.stdout.splitlines()[0]
    if risk == "minimal":
        assert "Not applicable: risk is 'minimal', the rule is for high" in result.stdout
    else:
        assert "| ❌ | `art9-risk-management` | block | missing |" in result.stdout
        assert "| ✅ | `art10-bias-examination` | block | pass |" in result.stdout
    with Registry.open(project) as reg:  # data mode records nothing
        assert reg.evidence(kind="policy_decision") == []


# --- usage errors ----------------------------------------------------------------------------


def bad_threshold(folder: Path) -> Path:
    path = folder / "bad.yaml"
    path.write_text(
        "policy: bad\nrules:\n  - id: ir\n    evidence: fairness\n"
        "    metric: four_fifths.selection_rate\n    op: '>='\n    threshold: 1.5\n"
    )
    return path


def scope_typo(folder: Path) -> Path:
    path = folder / "typo.yaml"
    path.write_text(
        "policy: typo\nrules:\n  - id: ir\n    evidence: fairness\n"
        "    metric: four_fifths.impact_ratio\n    op: '>='\n    threshold: 0.8\n"
        "    scope: {attributes: [gender]}\n"
    )
    return path


EEOC_DATA = ("check", "--policy", "eeoc-four-fifths", "--data", "{biased}")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(
            ("check", "--policy", "eeoc-four-fifths"),
            "say what to check: --model MODEL@VERSION and/or --data FILE",
            id="nothing-to-check",
        ),
        pytest.param(
            (*EEOC_DATA, "--y-pred", "approved", "--sensitive", "race"),
            "--data needs --y-true, --y-pred and at least one --sensitive",
            id="data-without-y-true",
        ),
        pytest.param(
            ("check", "--policy", "{bad}", "--data", "{biased}", *DATA_ARGS),
            "bad.yaml:7:5: rules[0].threshold: threshold 1.5 is impossible: "
            "four_fifths.selection_rate lies in [0.0, 1.0]",
            id="bad-threshold",
        ),
        pytest.param(
            ("check", "--policy", "eeoc-five-sixths", "--data", "{biased}", *DATA_ARGS),
            "no policy pack 'eeoc-five-sixths'",
            id="unknown-pack",
        ),
        pytest.param(
            ("check", "--policy", "{typo}", "--data", "{biased}", *DATA_ARGS),
            "rules[0].scope.attributes: attribute 'gender' is not in the fairness evidence "
            "(it has: race)",
            id="scope-attribute-not-in-data",
        ),
        pytest.param(
            (*EEOC_DATA, "--y-true", "repaid", "--y-pred", "approved", "--sensitive", "ethnic"),
            "column 'ethnic' not found",
            id="column-not-in-data",
        ),
        pytest.param(
            (*EEOC_DATA, *DATA_ARGS, "--as-of", "yesterday"),
            "--as-of must be an ISO 8601 time, got 'yesterday'",
            id="bad-as-of",
        ),
        pytest.param(
            (*EEOC_DATA, *DATA_ARGS, "--format", "pdf"),
            "Invalid value for '--format'",
            id="bad-format",
        ),
    ],
)
def test_usage_errors(
    here: Path, data: dict[str, Path], args: tuple[str, ...], message: str
) -> None:
    paths = {"biased": data["biased"], "bad": bad_threshold(here), "typo": scope_typo(here)}
    result = run(*(a.format(**paths) if a.startswith("{") else a for a in args))
    assert result.exit_code == 2, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert message in lines[0]
    assert result.stdout == ""
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("model", "message"),
    [
        ("scorer@9", "model version 'scorer@9' is not registered"),
        ("nosuch@1", "is not registered"),
    ],
)
def test_unknown_model_is_a_usage_error(project: Path, model: str, message: str) -> None:
    result = run("check", "--policy", "eeoc-four-fifths", "--model", model)
    assert result.exit_code == 2, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0]
    with Registry.open(project) as reg:
        assert reg.evidence(kind="policy_decision") == []
