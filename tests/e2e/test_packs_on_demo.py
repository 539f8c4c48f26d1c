"""Every regulation pack on the demo's registry: what each finds, and why."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from trustops.cli import app

runner = CliRunner()


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo")
    result = runner.invoke(app, ["demo", "-o", str(out), "--rows", "3000", "--bootstrap", "0"])
    assert result.exit_code == 0, result.output
    return out


def check(demo: Path, pack: str, *extra: str) -> tuple[int, dict]:
    result = runner.invoke(
        app,
        ["--workspace", str(demo), "check", "--policy", pack, "--model", "credit-scorer@1",
         "--format", "json", "--no-record", *extra],
    )  # fmt: skip
    assert result.exit_code in (0, 1), result.output
    return result.exit_code, json.loads(result.stdout)


def effects(decision: dict) -> dict[str, str]:
    return {r["id"]: r["effect"] for r in decision["rules"]}


def test_eeoc_blocks_the_biased_model_on_race(demo: Path) -> None:
    code, decision = check(demo, "eeoc-four-fifths")
    assert code == 1 and effects(decision)["impact-ratio"] == "fail"
    failing = next(r for r in decision["rules"] if r["id"] == "impact-ratio")["messages"]
    assert any(m.startswith("impact_ratio[race=C]") for m in failing)
    assert not any("sex=" in m for m in failing)  # the demo's bias is by race only


def test_ecoa_finds_age_among_the_inputs(demo: Path) -> None:
    code, decision = check(demo, "ecoa-adverse-action")
    assert code == 1
    rule = next(r for r in decision["rules"] if r["id"] == "no-prohibited-basis")
    assert rule["effect"] == "fail" and "age" in rule["messages"][0]
    assert effects(decision)["reason-codes-available"] == "pass"  # the demo records them


def test_gdpr_passes_on_the_recorded_basis_purposes_and_retention(demo: Path) -> None:
    code, decision = check(demo, "gdpr")
    found = effects(decision)
    # three applicants asked to be erased: the model trained on them is to be retrained
    assert code == 1 and decision["outcome"] == "fail"
    assert found.pop("art17-retraining-after-erasure") == "fail"
    assert found.pop("art30-record-of-processing") == "warn"  # the demo records none
    assert set(found.values()) == {"pass"}


def test_eu_ai_act_lists_the_missing_evidence(demo: Path) -> None:
    code, decision = check(demo, "eu-ai-act-high-risk")
    assert code == 1
    found = effects(decision)
    assert found["art10-bias-examination"] == "pass"  # fairness evidence is recorded
    assert found["intended-purpose"] == "pass" and found["art15-declared-accuracy"] == "fail"
    for rule in ("art9-risk-management", "art12-logging", "art72-post-market-monitoring"):
        assert found[rule] == "fail"
    assert found["art14-human-oversight"] == "warn"  # approvals come with the server


def test_nyc_ll144_blocks_without_an_audit_and_reads_one_when_recorded(demo: Path) -> None:
    code, decision = check(demo, "nyc-ll144")
    assert code == 1 and effects(decision)["audit-within-one-year"] == "fail"
    audit = demo / "ll144.json"
    made = runner.invoke(
        app,
        ["report", "ll144", "--data", str(demo / "predictions.csv"), "--sex", "sex",
         "--race", "race", "--selected", "prediction", "-o", str(audit), "--format", "json"],
    )  # fmt: skip
    assert made.exit_code == 0, made.output
    added = runner.invoke(
        app,
        ["--workspace", str(demo), "evidence", "add", str(audit), "--kind", "ll144",
         "--subject", "credit-scorer@1"],
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    code, decision = check(demo, "nyc-ll144")
    assert code == 0 and decision["outcome"] == "warn"  # ratios under 0.8 warn; no pass mark
    assert effects(decision)["race-ethnicity-impact-ratios"] == "warn"
