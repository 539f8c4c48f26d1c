"""Documents from the registry: each renders, the same state gives the same bytes, MISSING
markers come and go with the evidence, and a generated document is stored as evidence."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.reports.workspace import MODEL, SYSTEM, build
from trustops.errors import UsageError
from trustops.governance import NotFoundError, Registry
from trustops.reports import data_documents, model_documents
from trustops.reports.documents import DOCUMENTS, render_document

SUBJECTS: dict[str, dict[str, Any]] = {
    "model_card": {"model": MODEL},
    "annex_iv": {"model": MODEL},
    "eeoc": {"model": MODEL},
    "datasheet": {"dataset": f"{SYSTEM}/train@1"},
    "gdpr_art30": {"system": SYSTEM},
}
TITLES = {
    "model_card": "# Model card: model:credit-scoring/credit-scorer@1",
    "annex_iv": "## 9. Post-market monitoring",
    "eeoc": "## Adverse impact by race",
    "datasheet": "## Composition",
    "gdpr_art30": "### (g) technical and organisational security measures",
}


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    """One registry for the tests that only read (record=False)."""
    reg = build(tmp_path_factory.mktemp("shared"))
    yield reg
    reg.close()


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[Registry]:
    reg = build(tmp_path)
    yield reg
    reg.close()


def render(reg: Registry, kind: str, fmt: str = "markdown", **options: Any) -> Any:
    return render_document(reg, kind, fmt=fmt, **{**SUBJECTS[kind], **options})


def test_every_document_kind_has_a_subject_here() -> None:
    assert set(SUBJECTS) == set(DOCUMENTS)


@pytest.mark.parametrize("kind", sorted(SUBJECTS))
@pytest.mark.parametrize("fmt", ["markdown", "html"])
def test_every_document_renders_and_twice_gives_the_same_bytes(
    shared: Registry, kind: str, fmt: str
) -> None:
    first = render(shared, kind, fmt, record=False)
    second = render(shared, kind, fmt, record=False)
    assert first.text == second.text and first.sha256 == second.sha256
    assert first.sha256 == hashlib.sha256(first.text.encode()).hexdigest()
    assert first.evidence == ()
    if fmt == "markdown":
        assert TITLES[kind] in first.text
        assert "<svg" not in first.text
    else:
        assert first.text.startswith("<!doctype html>") and first.text.endswith("</html>\n")
        heading = TITLES[kind].lstrip("# ").split(": ")[0]
        assert heading in first.text
        assert "<script" not in first.text and not re.search(r'(src|href)="http', first.text)
        assert "<style>" in first.text  # self-contained: inline CSS


def test_the_date_is_the_newest_record_used_or_the_one_given(shared: Registry) -> None:
    times = [h["time"] for h in shared.history(SYSTEM) if h["version"] == "credit-scorer@1"]
    card = render(shared, "model_card", record=False)
    assert card.as_of == max(times)  # the rollback put it back in production
    dated = render(shared, "model_card", record=False, date="2027-01-31")
    assert dated.as_of == "2027-01-31" and "**as of**: 2027-01-31" in dated.text
    assert "--date 2027-01-31" in dated.text
    with pytest.raises(UsageError, match="invalid date"):
        render(shared, "model_card", record=False, date="31/01/2027")


def test_recording_stores_the_bytes_and_a_report_record(registry: Registry) -> None:
    doc = render(registry, "annex_iv", "html")
    (record,) = doc.evidence
    assert record.kind == "report" and record.subject == f"model:{MODEL}"
    content = record.content
    stored = registry.artifacts.read(content["sha256"])
    assert hashlib.sha256(stored).hexdigest() == content["sha256"] == doc.sha256
    assert stored == doc.text.encode("utf-8") and content["size"] == len(stored)
    assert content["document"] == "annex_iv" and content["format"] == "html"
    fairness = registry.evidence(subject=MODEL, kind="fairness")[0]
    drift = registry.evidence(kind="drift")[0]
    assert content["inputs"] == [fairness.content_hash, drift.content_hash] == list(doc.inputs)
    assert content["evidence_ids"] == [fairness.id, drift.id]
    assert content["missing"] == list(doc.missing) and content["complete"] is False
    # A report is never an input: the next rendering is the same bytes, recorded once.
    again = render(registry, "annex_iv", "html")
    assert again.text == doc.text and again.evidence == doc.evidence
    assert len(registry.evidence(subject=MODEL, kind="report")) == 1
    assert registry.audit.verify().ok


def test_the_art30_record_is_stored_on_each_dataset_version_it_describes(
    registry: Registry,
) -> None:
    doc = render(registry, "gdpr_art30")
    assert sorted(e.subject for e in doc.evidence) == [
        f"dataset:{SYSTEM}/production@1",
        f"dataset:{SYSTEM}/train@1",
    ]
    assert {e.content["sha256"] for e in doc.evidence} == {doc.sha256}


def _declare_everything(reg: Registry) -> None:
    for kind in model_documents.DECLARED:
        content: dict[str, Any] = {"summary": f"{kind} as declared by the provider"}
        if kind == "intended_use":
            content = {"intended_uses": ["consumer credit"], "out_of_scope": ["employment"]}
        if kind == "considerations":
            content = {"ethical_considerations": ["x"], "caveats": ["y"], "recommendations": []}
        if kind == "risk_management":
            content = {"risks": [{"hazard": "bias against group C", "severity": "high"}]}
        if kind == "performance_metrics":
            content = {"rationale": "selection rate is what the four-fifths rule reads"}
        reg.record_evidence(kind, MODEL, content)


def test_annex_iv_is_missing_what_is_absent_and_complete_once_declared(
    registry: Registry,
) -> None:
    before = render(registry, "annex_iv", record=False)
    for kind in model_documents.DECLARED:
        if kind in ("intended_use", "considerations"):
            continue  # the system's purpose stands for intended use; the card reads the rest
        assert f"(evidence kind {kind})**" in before.text, kind
    assert "MISSING: the risk-management system (Art. 9)" in before.text
    assert set(re.findall(r"> \*\*MISSING: (.*)\*\*", before.text)) == set(before.missing)
    _declare_everything(registry)
    after = render(registry, "annex_iv")
    assert "MISSING:" not in after.text
    assert after.missing == () and after.evidence[0].content["complete"] is True
    assert "| bias against group C | high |" in after.text  # a risk register as a table
    assert "nothing is marked MISSING" in after.text


def test_model_card_metrics_by_group_with_intervals_come_from_fairness_evidence(
    registry: Registry, tmp_path: Path
) -> None:
    card = render(registry, "model_card", record=False)
    fairness = registry.evidence(subject=MODEL, kind="fairness")[0].content
    group = fairness["by_group"][0]
    lo, hi = fairness["intervals"]["by_group"][0]["metrics"]["selection_rate"]["wilson"]
    assert f"{group['selection_rate']:.3f} [{lo:.3f}, {hi:.3f}]" in card.text
    assert "MISSING: metrics by group" not in card.text
    assert "MISSING: out-of-scope uses (evidence kind intended_use, key out_of_scope)" in card.text
    html = render(registry, "model_card", "html", record=False).text
    assert html.count('class="dot"') >= len(fairness["by_group"])  # the interval charts
    (tmp_path / "bare").mkdir()
    with build(tmp_path / "bare", fairness=False, drift=False) as bare:
        empty = render(bare, "model_card", record=False)
    assert "MISSING: metrics by group with intervals" in empty.text
    assert "MISSING: the factors evaluated" in empty.text


def test_declared_facts_of_a_parent_version_carry_to_its_retrained_version(
    registry: Registry,
) -> None:
    record = registry.record_evidence("intended_use", MODEL, {"out_of_scope": ["employment"]})
    v2 = render(registry, "model_card", model=f"{SYSTEM}/credit-scorer@2", record=False)
    assert "- **out of scope**: employment" in v2.text
    assert f"evidence #{record.id} (intended_use about model:{MODEL}" in v2.text


def test_eeoc_table_has_rates_ratios_tests_and_shortfall_per_attribute(shared: Registry) -> None:
    doc = render(shared, "eeoc", record=False)
    fairness = shared.evidence(subject=MODEL, kind="fairness")[0].content
    assert "## Adverse impact by race" in doc.text and "## Adverse impact by sex" in doc.text
    for row in fairness["four_fifths"]:
        label = ", ".join(f"{k}={v}" for k, v in row["group"].items())
        line = next(x for x in doc.text.splitlines() if x.startswith(f"| {label} |"))
        cells = [c.strip() for c in line.strip("|").split("|")]
        assert cells[1] == f"{row['count']:,}" and cells[2] == f"{row['selected']:,}"
        assert cells[4] == f"{row['impact_ratio']:.3f}" and cells[8] == f"{row['shortfall']:,}"
        if row["is_reference"]:
            assert cells[9] == "reference"
        else:
            side = "<" if row["impact_ratio"] < 0.8 else "≥"
            assert cells[9].startswith(f"IR {side} 0.8")
    assert "threshold**: 0.8" in doc.text
    assert render(shared, "eeoc", "html", record=False).text.count('class="bar"') == len(
        fairness["four_fifths"]
    )


def test_eeoc_without_fairness_evidence_is_missing_it(tmp_path: Path) -> None:
    with build(tmp_path, fairness=False) as reg:
        doc = render(reg, "eeoc", record=False)
    assert "MISSING: selection rates by group: a fairness assessment" in doc.text


def test_datasheet_describes_the_version_and_its_protected_groups(registry: Registry) -> None:
    doc = render(registry, "datasheet", record=False)
    assert "- **rows**: 400" in doc.text and "*Representation: race (race)*" in doc.text
    assert "- **lawful basis**: contract" in doc.text
    assert "- **used by model versions**: credit-scorer@1, credit-scorer@2" in doc.text
    assert "MISSING: how the data is distributed (evidence kind datasheet, key distribution)" in (
        doc.text
    )
    registry.record_evidence(
        "datasheet", f"dataset:{SYSTEM}/train@1",
        {"distribution": "internal only", "collection": "applications 2020-2024",
         "preprocessing": "none"},
    )  # fmt: skip
    filled = render(registry, "datasheet", record=False)
    assert filled.missing == () and "- **distribution**: internal only" in filled.text


def test_datasheet_warns_when_a_pii_scan_finds_personal_data_not_recorded_as_such(
    registry: Registry,
) -> None:
    registry.record_evidence(
        "pii", f"dataset:{SYSTEM}/production@1",
        {"kind": "pii_scan", "rows": 200, "pii_columns": ["notes"], "protected_columns": []},
    )  # fmt: skip
    doc = render(registry, "datasheet", dataset=f"{SYSTEM}/production@1", record=False)
    assert "PII scan of 200 rows: personal data in notes" in doc.text
    assert "not recorded as holding personal data" in doc.text
    art30 = render(registry, "gdpr_art30", record=False)
    assert "| production@1 | 200 | PII scan found personal data in notes |" in art30.text


def test_art30_items_a_to_g_missing_until_the_processing_record_is_kept(
    registry: Registry,
) -> None:
    doc = render(registry, "gdpr_art30", record=False)
    for item in "abcdefg":
        assert f"### ({item}) " in doc.text
    for key in ("controller", "data_subjects", "recipients", "transfers", "security_measures"):
        assert f"(evidence kind processing_record, key {key})" in doc.text
    assert "- **retention**: 1,825 days" in doc.text  # (f) from the registry
    registry.record_evidence(
        "processing_record", f"dataset:{SYSTEM}/train@1",
        {"controller": "Example Bank, privacy@example.com", "data_subjects": ["applicants"],
         "recipients": ["credit officers"], "transfers": "none",
         "security_measures": "encryption at rest, access control"},
    )  # fmt: skip
    complete = render(registry, "gdpr_art30", record=False)
    assert complete.missing == () and "- **controller**: Example Bank" in complete.text
    assert data_documents.DECLARED["processing_record"]


def test_user_text_cannot_break_a_table_or_inject_html(registry: Registry) -> None:
    registry.record_evidence(
        "risk_management", MODEL, {"risks": [{"hazard": "a | b", "mitigation": "<script>x"}]}
    )
    md = render(registry, "annex_iv", record=False).text
    assert "| a \\| b | <script>x |" in md
    html = render(registry, "annex_iv", "html", record=False).text
    assert "<script>" not in html and "&lt;script&gt;x" in html


@pytest.mark.parametrize(
    ("kind", "options", "error", "message"),
    [
        ("poster", {"model": MODEL}, UsageError, "unknown document 'poster'"),
        ("model_card", {"model": MODEL, "fmt": "docx"}, UsageError, "unknown format 'docx'"),
        ("model_card", {}, UsageError, "needs model="),
        ("datasheet", {"dataset": "train@1"}, UsageError, "say which system"),
        ("gdpr_art30", {}, UsageError, "needs system="),
        ("eeoc", {"model": "nope@1"}, NotFoundError, "not registered"),
        ("gdpr_art30", {"system": "nope"}, NotFoundError, "not registered"),
    ],
)
def test_bad_requests_are_named(
    shared: Registry, kind: str, options: dict[str, Any], error: type, message: str
) -> None:
    with pytest.raises(error, match=message):
        render_document(shared, kind, record=False, **options)


def test_dashes_name_the_same_document(shared: Registry) -> None:
    a = render_document(shared, "model-card", model=MODEL, record=False)
    assert a.kind == "model_card"


@pytest.mark.parametrize(
    "content",
    [
        {"impact_ratio": {"race=C": 0.64}},  # hand-written evidence, not a FairnessReport
        "regression",
    ],
)
def test_fairness_evidence_without_four_fifths_rows_renders_and_says_so(
    tmp_path: Path, content: Any
) -> None:
    import numpy as np

    from trustops import assess_fairness

    with build(tmp_path, fairness=False) as reg:
        if content == "regression":
            rng = np.random.default_rng(0)
            data = {"y": rng.normal(size=200), "p": rng.normal(size=200),
                    "g": rng.choice(["a", "b"], 200)}  # fmt: skip
            content = assess_fairness(data, y_true="y", y_pred="p", sensitive="g")
        reg.record_evidence("fairness", MODEL, content)
        eeoc = render(reg, "eeoc", "html", record=False)
        assert "MISSING: four-fifths rows: the fairness evidence (#" in eeoc.text
        for kind in ("model_card", "annex_iv"):
            assert render(reg, kind, "html", record=False).text.endswith("</html>\n")
