"""PDF reports (the ``pdf`` extra): each document and the LL144 summary print to a PDF with
pages and the document's title, the same inputs give the same bytes, the CLI writes and
records it, and without WeasyPrint the error names ``pip install 'trustops[pdf]'``.

WeasyPrint is installed by ``make test`` (``trustops[all]`` includes ``pdf``): these tests
do not skip without it, they fail, so CI cannot pass them silently.
"""

from __future__ import annotations

import hashlib
import os
import re
import sys
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

import trustops
from tests.core.test_ll144 import worked_example_rows
from tests.reports.workspace import MODEL, SYSTEM, build, open_registry
from trustops.cli import app
from trustops.errors import UnsupportedError
from trustops.governance import Registry
from trustops.reports.documents import DOCUMENTS, render_document
from trustops.reports.ll144 import to_html, to_pdf

runner = CliRunner()

SUBJECTS: dict[str, dict[str, Any]] = {
    "model_card": {"model": MODEL},
    "annex_iv": {"model": MODEL},
    "eeoc": {"model": MODEL},
    "datasheet": {"dataset": f"{SYSTEM}/train@1"},
    "gdpr_art30": {"system": SYSTEM},
}
LL144_TITLE = "Bias audit summary (NYC Local Law 144)"
INSTALL = "pip install 'trustops[pdf]'"


def unpacked(data: bytes) -> bytes:
    """The PDF with each Flate stream inflated (objects live in compressed object streams)."""
    parts = [data]
    for match in re.finditer(rb"<<((?:(?!>>).)*?)>>\s*stream\r?\n", data, re.DOTALL):
        length = re.search(rb"/Length (\d+)", match.group(1))
        if length and b"/FlateDecode" in match.group(1):
            start = match.end()
            parts.append(zlib.decompress(data[start : start + int(length.group(1))]))
    return b"\n".join(parts)


def pages(data: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page(?![A-Za-z])", unpacked(data)))


def strings(data: bytes, key: bytes) -> list[str]:
    """The text of each ``/key (...)`` or ``/key <FEFF...>`` string in the PDF."""
    out = []
    pattern = rb"/" + key + rb"\s*(?:\(((?:\\.|[^\\)])*)\)|<([0-9A-Fa-f]*)>)"
    for literal, hexa in re.findall(pattern, unpacked(data), re.DOTALL):
        if hexa:
            out.append(bytes.fromhex(hexa.decode()).decode("utf-16"))
        else:
            out.append(re.sub(rb"\\(.)", rb"\1", literal).decode("latin-1"))
    return out


def check_pdf(data: bytes, title: str) -> None:
    assert data.startswith(b"%PDF-") and data.rstrip().endswith(b"%%EOF")
    assert pages(data) >= 1
    assert title in strings(data, b"Title"), strings(data, b"Title")[:3]
    assert len(data) > 5_000  # text, fonts and charts, not an empty page


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    reg = build(tmp_path_factory.mktemp("shared"))
    yield reg
    reg.close()


def test_weasyprint_is_installed_for_these_tests() -> None:
    """Fails (never skips) where the ``pdf`` extra is missing: ``make test`` installs it."""
    try:
        import weasyprint
    except (ImportError, OSError) as exc:  # pragma: no cover - the failure being tested for
        pytest.fail(f"WeasyPrint is not usable ({exc}); run {INSTALL} (make test does)")
    assert weasyprint.__version__


@pytest.mark.parametrize("kind", sorted(SUBJECTS))
def test_every_document_prints_to_the_same_pdf_twice(shared: Registry, kind: str) -> None:
    first = render_document(shared, kind, fmt="pdf", record=False, **SUBJECTS[kind])
    second = render_document(shared, kind, fmt="pdf", record=False, **SUBJECTS[kind])
    assert first.data == second.data, "the PDF bytes vary between renders"
    assert first.format == "pdf" and first.evidence == ()
    assert first.sha256 == hashlib.sha256(first.data).hexdigest()
    assert first.text.startswith("<!doctype html>") and "--format pdf" in first.text
    check_pdf(first.data, f"{DOCUMENTS[kind].title}: {first.subject}")
    stamp = "D:" + re.sub(r"[-:T]", "", first.as_of)[:14]
    assert strings(first.data, b"CreationDate") == [stamp + "Z"]
    assert strings(first.data, b"ModDate") == [stamp + "Z"]


def test_the_pdf_is_dated_by_the_document_not_the_clock(shared: Registry) -> None:
    doc = render_document(shared, "eeoc", model=MODEL, fmt="pdf", date="2025-03-04", record=False)
    assert doc.as_of == "2025-03-04"
    assert strings(doc.data, b"CreationDate") == ["D:20250304"]
    assert strings(doc.data, b"ModDate") == ["D:20250304"]
    earlier = render_document(
        shared, "eeoc", model=MODEL, fmt="pdf", date="2024-01-01", record=False
    )
    assert earlier.data != doc.data


def test_a_recorded_pdf_is_report_evidence_with_its_bytes(tmp_path: Path) -> None:
    with build(tmp_path) as reg:
        doc = render_document(reg, "annex_iv", model=MODEL, fmt="pdf")
        (record,) = doc.evidence
        assert record.kind == "report" and record.content["format"] == "pdf"
        assert record.content["sha256"] == doc.sha256 and record.content["size"] == len(doc.data)
        assert reg.artifacts.read(doc.sha256) == doc.data
        again = render_document(reg, "annex_iv", model=MODEL, fmt="pdf")
        assert again.evidence == doc.evidence  # the same content is not re-recorded


def ll144_audit() -> trustops.LL144Audit:
    return trustops.ll144_audit(
        pa.table(worked_example_rows()), sex="sex", race="race", score="score"
    )


def test_the_ll144_summary_prints_to_the_same_pdf_twice() -> None:
    audit = ll144_audit()
    first = to_pdf(audit, audit_date="2026-11-27", data_source="applicants.csv")
    second = to_pdf(audit, audit_date="2026-11-27", data_source="applicants.csv")
    assert first == second
    check_pdf(first, LL144_TITLE)
    assert strings(first, b"CreationDate") == ["D:20261127"]
    assert "<svg" in to_html(audit)  # the charts are in the page that is printed
    undated = to_pdf(audit)
    assert strings(undated, b"CreationDate") == [] and undated == to_pdf(audit)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    for var in [v for v in os.environ if v.startswith("TRUSTOPS_")]:
        monkeypatch.delenv(var)
    build(tmp_path).close()
    monkeypatch.chdir(tmp_path)
    yield tmp_path


def test_the_cli_writes_a_pdf_from_the_suffix_or_format(project: Path) -> None:
    result = runner.invoke(app, ["report", "eeoc", "--model", MODEL, "-o", "eeoc.pdf"])
    assert result.exit_code == 0, result.output
    data = (project / "eeoc.pdf").read_bytes()
    check_pdf(data, f"{DOCUMENTS['eeoc'].title}: model:{MODEL}")
    digest = hashlib.sha256(data).hexdigest()
    assert f" pdf, sha256:{digest}" in result.stdout and "recorded as evidence #" in result.stdout
    args = ["report", "eeoc", "--model", MODEL, "-o", "eeoc.out", "--format", "pdf"]
    again = runner.invoke(app, args)
    assert again.exit_code == 0 and (project / "eeoc.out").read_bytes() == data
    with open_registry(project) as reg:
        (record,) = [e for e in reg.evidence(kind="report") if e.content["sha256"] == digest]
        assert record.content["format"] == "pdf" and reg.artifacts.read(digest) == data


def test_the_ll144_cli_writes_a_pdf(tmp_path: Path) -> None:
    data = tmp_path / "applicants.parquet"
    pq.write_table(pa.table(worked_example_rows()), data)
    out = tmp_path / "summary.pdf"
    base = ["report", "ll144", "--data", str(data), "--sex", "sex", "--race", "race"]
    args = [*base, "--score", "score", "--audit-date", "2026-11-27", "-o", str(out)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    check_pdf(out.read_bytes(), LL144_TITLE)
    expected = to_pdf(ll144_audit(), audit_date="2026-11-27", data_source="applicants.parquet")
    assert out.read_bytes() == expected


@pytest.fixture
def no_weasyprint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "weasyprint", None)  # import weasyprint -> ImportError


@pytest.mark.usefixtures("no_weasyprint")
def test_without_weasyprint_the_error_says_what_to_install(shared: Registry) -> None:
    with pytest.raises(UnsupportedError, match=re.escape(INSTALL)) as caught:
        render_document(shared, "eeoc", model=MODEL, fmt="pdf", record=False)
    assert caught.value.one_line().startswith("PDF output needs WeasyPrint")
    with pytest.raises(UnsupportedError, match=re.escape(INSTALL)):
        to_pdf(ll144_audit())


@pytest.mark.usefixtures("no_weasyprint")
def test_without_weasyprint_the_cli_exits_2_with_one_line(project: Path) -> None:
    result = runner.invoke(app, ["report", "annex-iv", "--model", MODEL, "-o", "a.pdf"])
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and INSTALL in lines[0]
    assert not (project / "a.pdf").exists()
    with open_registry(project) as reg:
        assert reg.evidence(kind="report") == []
