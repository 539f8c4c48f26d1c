"""``trustops admin`` and ``trustops approvals`` end to end, through Typer's runner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from trustops.cli import app

runner = CliRunner()
POLICY = "policy: gate\nrules:\n  - {id: hash, kind: field, field: model.artifact_hash}\n"


def run(*args: object, token: str | None = None):
    env = {"TRUSTOPS_TOKEN": token} if token else {"TRUSTOPS_TOKEN": ""}
    return runner.invoke(app, [str(a) for a in args], env=env)


def ok(*args: object, token: str | None = None) -> str:
    result = run(*args, token=token)
    assert result.exit_code == 0, (args, result.output)
    return result.stdout


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for var in (
        "TRUSTOPS_DATABASE_URL",
        "TRUSTOPS_ACTOR",
        "TRUSTOPS_SIGNING_KEY",
        "TRUSTOPS_WORKSPACE",
        "TRUSTOPS_ARTIFACTS",
        "TRUSTOPS_CHECKPOINT_COPY",
    ):
        monkeypatch.delenv(var, raising=False)  # fmt: skip
    ok("--actor", "ops", "init")
    ok("system", "create", "credit")
    (tmp_path / "model.pkl").write_bytes(b"weights")
    (tmp_path / "gate.yaml").write_text(POLICY)
    ok("model", "register", "model.pkl", "--system", "credit")
    return tmp_path


def test_the_first_admin_and_tokens(project: Path) -> None:
    assert json.loads(ok("admin", "users", "--json")) == []  # no default credentials
    result = run("admin", "create", "ada", "--role", "admin")
    assert result.exit_code == 0, result.output
    secret = result.stdout.strip()
    assert secret.startswith("tro_") and len(secret) == 47
    assert "shown once" in result.stderr
    users = json.loads(ok("admin", "users", "--json"))
    assert [(u["name"], u["admin"]) for u in users] == [("ada", True)]

    result = run("admin", "create", "rita", "--role", "reviewer")
    assert result.exit_code == 2 and "--system is required" in result.stderr
    result = run("admin", "create", "rita", "--role", "reviewer", "--system", "nope")
    assert result.exit_code == 2 and "nope" in result.stderr
    assert [u["name"] for u in json.loads(ok("admin", "users", "--json"))] == ["ada"]
    result = run("admin", "create", "rita", "--role", "boss", "--system", "credit")
    assert result.exit_code == 2 and "unknown role" in result.stderr

    ok("admin", "create", "rita", "--role", "reviewer", "--system", "credit", "--expires", "30d")
    second = ok("admin", "token", "create", "rita", "--label", "laptop").strip()
    tokens = json.loads(ok("admin", "token", "list", "--user", "rita", "--json"))
    assert len(tokens) == 2 and tokens[0]["expires_at"] and tokens[1]["label"] == "laptop"
    listing = ok("admin", "token", "list") + ok("admin", "users") + ok("audit", "log")
    for s in (secret, second):
        assert s not in listing and s[4:] not in listing
    ok("admin", "token", "revoke", tokens[1]["id"])
    result = run("approvals", "list", token=second)
    assert result.exit_code == 0  # listing reads the store; it does not need the token
    result = run("approvals", "request", "model@1", token=second)
    assert result.exit_code == 2 and "invalid, expired or revoked" in result.stderr
    assert second not in result.output
    ok("admin", "grant", "rita", "credit", "compliance_officer")
    roles = json.loads(ok("admin", "users", "--json"))[1]["roles"]
    assert roles == {"credit": "compliance_officer"}
    ok("admin", "revoke", "rita", "credit")
    assert json.loads(ok("admin", "users", "--json"))[1]["roles"] == {}
    result = run("admin", "token", "create", "rita", "--expires", "whenever")
    assert result.exit_code == 2 and "--expires" in result.stderr


def test_four_eyes_from_the_terminal(project: Path) -> None:
    def user(name: str, role: str) -> str:
        return ok("admin", "create", name, "--role", role, "--system", "credit").strip()

    dan, rita, carl = (user("dan", "data_scientist"), user("rita", "reviewer"),
                       user("carl", "compliance_officer"))  # fmt: skip
    ok("approvals", "gate", "set", "credit", "gate.yaml")
    assert "policy gate" in ok("approvals", "gate", "show", "credit")
    ok("promote", "model@1", "--to", "staging")
    result = run("promote", "model@1", "--to", "production")
    assert result.exit_code == 1 and "may not enter production" in result.stderr

    result = run("approvals", "request", "model@1")
    assert result.exit_code == 2 and "TRUSTOPS_TOKEN" in result.stderr
    ok("check", "--policy", "gate.yaml", "--model", "model@1")
    assert "request 1" in ok("approvals", "request", "model@1", "--comment", "v1", token=dan)
    result = run("approvals", "approve", "1", "--comment", "mine", token=dan)
    assert result.exit_code == 2
    ok("approvals", "approve", "1", "--comment", "read the evidence", token=rita)
    result = run("approvals", "status", "model@1")
    assert result.exit_code == 1 and "waiting for 1 compliance officer" in result.stdout
    assert "approved" in ok("approvals", "approve", "1", "--comment", "fine", token=carl)
    assert json.loads(ok("approvals", "status", "model@1", "--json"))["ok"] is True
    assert json.loads(ok("approvals", "list", "--all", "--json"))[0]["state"] == "approved"
    ok("promote", "model@1", "--to", "production")
    log = [json.loads(line) for line in ok("audit", "log", "--json").splitlines()]
    actors = [(e["actor"], e["action"]) for e in log if e["action"].startswith("approval.")]
    assert actors == [("dan", "approval.requested"), ("rita", "approval.approved"),
                      ("carl", "approval.approved")]  # fmt: skip
    ok("approvals", "gate", "remove", "credit")
    assert "no gate" in ok("approvals", "status", "model@1")


def test_overrides_and_refusals_from_the_terminal(project: Path) -> None:
    (project / "strict.yaml").write_text(
        "policy: strict\napprovals: {compliance_officer: 1}\n"
        "rules:\n  - {id: card, kind: field, field: model.parameters.card}\n"
    )
    dan = ok("admin", "create", "dan", "--role", "data_scientist", "--system", "credit").strip()
    carl = ok("admin", "create", "carl", "--role", "compliance_officer", "--system", "credit")
    carl = carl.strip()
    result = run("approvals", "gate", "set", "credit", "strict.yaml", token=dan)
    assert result.exit_code == 2 and "dan may not gate:set" in result.stderr
    ok("approvals", "gate", "set", "credit", "strict.yaml", token=carl)
    assert json.loads(ok("approvals", "gate", "show", "credit", "--json"))["requirements"] == {
        "compliance_officer": 1
    }
    result = run("check", "--policy", "strict.yaml", "--model", "model@1")
    assert result.exit_code == 1  # the decision fails, and is recorded
    result = run("approvals", "override", "model@1", "--justification", "too short", token=carl)
    assert result.exit_code == 2 and "justification" in result.stderr
    result = run("approvals", "override", "model@1", "--justification", "x" * 30, token=dan)
    assert result.exit_code == 2 and "policy:override" in result.stderr
    out = ok("approvals", "override", "model@1", "--justification",
             "the card is filed with the regulator on paper", token=carl)  # fmt: skip
    assert out.startswith("override 1")
    ok("approvals", "request", "model@1", token=dan)
    ok("approvals", "approve", "1", "--comment", "ok", token=carl)
    ok("promote", "model@1", "--to", "staging")
    ok("promote", "model@1", "--to", "production")
    assert "withdraw" not in ok("approvals", "list", "--all")
    result = run("approvals", "withdraw", "1", token=carl)
    assert result.exit_code == 2 and "only dan" in result.stderr
