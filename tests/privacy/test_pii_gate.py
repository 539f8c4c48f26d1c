"""The PII policy hook: the scan is evidence, and the gdpr pack refuses undeclared personal data."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pytest
from typer.testing import CliRunner

from trustops.cli import app
from trustops.governance import Registry
from trustops.policy import load_policy
from trustops.privacy.pii_gate import RegistrationBlocked, register_scanned

CONTACTS = {
    "email": ["ann@example.org", "bob@example.org", "cy@example.org"],
    "visits": [3, 5, 1],
}


@pytest.fixture
def crm(registry: Registry) -> Registry:
    registry.create_system("crm", owner="marketing")
    return registry


def test_undeclared_personal_data_is_refused_and_nothing_is_written(crm: Registry) -> None:
    size = crm.audit.size()
    with pytest.raises(RegistrationBlocked, match="pii-declared-personal") as err:
        register_scanned(crm, pa.table(CONTACTS), system="crm", name="contacts")
    assert err.value.exit_code == 1 and "email" in (err.value.hint or "")
    # declared personal but without a lawful basis: still refused (Art. 6)
    with pytest.raises(RegistrationBlocked, match="art6-lawful-basis"):
        register_scanned(
            crm, pa.table(CONTACTS), system="crm", name="contacts", personal_data=True,
            purposes=["newsletter"],
        )  # fmt: skip
    assert crm.datasets() == [] and crm.audit.size() == size


def test_declared_data_is_registered_with_its_scan_as_evidence(crm: Registry) -> None:
    dv = register_scanned(
        crm, pa.table(CONTACTS), system="crm", name="contacts", personal_data=True,
        lawful_basis="consent", purposes=["newsletter"],
    )  # fmt: skip
    (scan,) = crm.evidence(subject=dv, kind="pii_scan")
    assert scan.content["pii_columns"] == ["email"]
    # data without personal data passes the gate undeclared
    plain = register_scanned(crm, pa.table({"visits": [1, 2]}), system="crm", name="counts")
    assert crm.evidence(subject=plain, kind="pii_scan")[0].content["pii_columns"] == []


def test_the_model_gate_sees_the_scan_of_its_training_data(crm: Registry) -> None:
    gdpr = load_policy("gdpr")
    rule = "pii-declared-personal"
    # registered without the gate, then scanned: the model trained on it is blocked
    dv = crm.register_dataset(pa.table(CONTACTS), system="crm", name="contacts")
    model = crm.register_model(b"w", system="crm", name="m", trained_on=[dv.ref])
    before = crm.evaluate_policy(gdpr, "crm/m@1", record=False)
    assert {r.id: r.effect for r in before.rules}[rule] == "pass"  # nothing scanned yet
    from trustops.scan import scan_pii

    crm.record_evidence("pii_scan", dv, scan_pii(pa.table(CONTACTS)).to_dict())
    after = crm.evaluate_policy(gdpr, f"crm/{model.ref}", record=False)
    outcome = next(r for r in after.rules if r.id == rule)
    assert outcome.effect == "fail" and "contacts@1" in outcome.messages[0]


def test_dataset_register_scan_pii_command(crm: Registry, workspace: Path, tmp_path: Path) -> None:
    path = tmp_path / "contacts.csv"
    pacsv.write_csv(pa.table(CONTACTS), path)
    base = ["--workspace", str(workspace), "dataset", "register", str(path), "--system", "crm",
            "--scan-pii"]  # fmt: skip
    refused = CliRunner().invoke(app, base)
    assert refused.exit_code == 1 and "pii-declared-personal" in refused.stderr
    assert crm.datasets() == []
    ok = CliRunner().invoke(
        app, [*base, "--personal-data", "--lawful-basis", "consent", "--purpose", "newsletter"]
    )
    assert ok.exit_code == 0, ok.output
    assert [d.ref for d in crm.datasets()] == ["contacts@1"]
