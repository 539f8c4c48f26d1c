"""The GDPR Art. 30 record: items (a)-(g) complete, from the usage records and the registry."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pytest
from typer.testing import CliRunner

from trustops.cli import app
from trustops.governance import Registry
from trustops.governance.usage import record_use
from trustops.privacy.erasure import request_erasure
from trustops.reports.documents import render_document

ITEMS = (
    "(a) controller",
    "(b) purposes",
    "(c) categories",
    "(d) categories of recipients",
    "(e) transfers",
    "(f) envisaged time limits",
    "(g) technical and organisational",
)
DECLARED = {
    "controller": "Example Bank AG, Main St 1, privacy@example.org",
    "dpo": "dpo@example.org",
    "data_subjects": "credit applicants",
    "personal_data_categories": "identity, income, credit history",
    "recipients": "credit risk team; no third parties",
    "transfers": "none",
    "security_measures": "encryption at rest, role-based access, audit log",
}


@pytest.fixture
def processing(open_registry: Callable[..., Registry]) -> Registry:
    reg = open_registry(subject_key="an Art. 30 test key, long enough to be one")
    reg.create_system("credit", owner="credit risk team", purpose="decide credit applications")
    dv = reg.register_dataset(
        pa.table({"applicant_id": [1, 2, 3], "income": [41, 52, 38], "sex": ["f", "m", "f"]}),
        system="credit", name="train", purposes=["creditworthiness"], lawful_basis="contract",
        personal_data=True, retention_days=365, subject_column="applicant_id",
    )  # fmt: skip
    reg.register_model(
        b"w", system="credit", name="scorer", trained_on=[dv.ref], purpose="creditworthiness"
    )
    record_use(reg, dv, use="assessment", purpose="creditworthiness")
    return reg


def test_every_item_is_answered_from_the_registry_and_the_declaration(
    processing: Registry,
) -> None:
    dv = processing.dataset("train", system="credit")
    undeclared = render_document(processing, "gdpr_art30", system="credit", record=False)
    assert all(item in undeclared.text for item in ITEMS)
    assert any("controller" in m for m in undeclared.missing)
    processing.record_evidence("processing_record", dv, DECLARED)
    request_erasure(processing, ["2"], reference="case-1")
    ropa = render_document(processing, "gdpr_art30", system="credit", record=False)
    assert not ropa.missing
    text = ropa.text
    for value in DECLARED.values():
        assert value in text
    # (b): the recorded reads, with their purposes
    assert "Recorded reads of this version" in text
    assert "training" in text and "assessment" in text and "creditworthiness" in text
    # (f): retention, its end, and the erasure request
    assert "365 days" in text and "retention ends" in text
    assert "case-1" in text and "erase_from_source" in text
    # (g): the subject index, by keyed hash
    assert "HMAC-SHA256" in text and "applicant_id" in text
    # the same state renders the same bytes
    again = render_document(processing, "gdpr_art30", system="credit", record=False)
    assert again.text == text


def test_a_warned_use_is_pointed_out(
    processing: Registry, open_registry: Callable[..., Registry]
) -> None:
    lenient = open_registry(purpose_mismatch="warn")
    record_use(lenient, "credit/train@1", use="profiling", purpose="marketing")
    text = render_document(processing, "gdpr_art30", system="credit", record=False).text
    assert "does not permit: marketing" in text


def test_privacy_record_command(processing: Registry, workspace: Path, tmp_path: Path) -> None:
    out = tmp_path / "ropa.md"
    result = CliRunner().invoke(
        app,
        ["--workspace", str(workspace), "privacy", "record", "--system", "credit", "-o", str(out),
         "--no-record"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "(a) controller" in out.read_text() and "Recorded reads" in out.read_text()


def test_the_datasheet_lists_the_recorded_reads(processing: Registry) -> None:
    sheet = render_document(processing, "datasheet", dataset="credit/train@1", record=False)
    assert "Recorded reads of this version" in sheet.text and "assessment" in sheet.text
