"""trustops policy (packs, show, validate, list) and the policy gate on promote."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import trustops
from trustops.cli import app
from trustops.datasets import make_credit
from trustops.policy import pack_names

runner = CliRunner()


def run(*args: object):
    return runner.invoke(app, [str(a) for a in args])


def test_packs_show_and_validate(tmp_path: Path) -> None:
    listed = run("policy", "packs")
    assert listed.exit_code == 0
    for name in pack_names():
        assert name in listed.stdout
    shown = run("policy", "show", "gdpr")
    assert shown.exit_code == 0 and shown.stdout.startswith("# GDPR")
    copy = tmp_path / "mine.yaml"
    copy.write_text(shown.stdout)
    ok = run("policy", "validate", copy)
    assert ok.exit_code == 0 and "ok: gdpr v3, 8 rules" in ok.stdout
    copy.write_text(shown.stdout.replace("field: system.owner", "field: system owner"))
    bad = run("policy", "validate", copy)
    assert bad.exit_code == 2 and f"{copy}:" in bad.stderr and "unknown field" in bad.stderr
    assert run("policy", "show", "nope").exit_code == 2


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for var in ("TRUSTOPS_DATABASE_URL", "TRUSTOPS_WORKSPACE", "TRUSTOPS_SIGNING_KEY"):
        monkeypatch.delenv(var, raising=False)
    trustops.init_workspace(tmp_path, actor="alice")
    with trustops.Registry.open(tmp_path) as reg:
        reg.create_system("credit", risk="high", use_case="credit")
        for name, bias in (("biased", 0.9), ("fair", 0.0)):
            reg.register_model(name.encode(), system="credit", name=name, code_commit=None)
            data = make_credit(3000, seed=1, bias=bias)
            report = trustops.assess_fairness(
                data, y_true="repaid", y_pred="approved", sensitive="race"
            )
            reg.record_evidence("fairness", f"credit/{name}@1", report)
            reg.promote(f"credit/{name}@1", "staging")
    return tmp_path


def test_promote_with_a_policy_refuses_a_blocking_decision_and_records_both(
    project: Path,
) -> None:
    blocked = run("promote", "biased@1", "--to", "production", "--policy", "eeoc-four-fifths")
    assert blocked.exit_code == 1
    assert "not promoted" in blocked.stderr and "impact_ratio[race=" in blocked.stderr
    passed = run("promote", "fair@1", "--to", "production", "--policy", "eeoc-four-fifths")
    assert passed.exit_code == 0, passed.output
    with trustops.Registry.open(project) as reg:
        stages = {m.name: m.stage for m in reg.models()}
        assert stages == {"biased": "staging", "fair": "production"}
        decisions = reg.evidence(kind="policy_decision")
        assert [d.content["outcome"] for d in decisions] == ["fail", "pass"]
        actions = [e.action for e in reg.audit.entries()]
        assert actions.count("policy.evaluated") == 2 and actions.count("policy.registered") == 1
        promoted = reg.audit.entries(action="model.promoted")[-1]
        assert promoted.reason == "policy eeoc-four-fifths pass"
        assert reg.audit.verify().ok
    listed = json.loads(run("policy", "list", "--json").stdout)
    assert [p["name"] for p in listed] == ["eeoc-four-fifths"]
