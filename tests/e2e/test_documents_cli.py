"""``trustops report model-card | datasheet | annex-iv | eeoc | gdpr-art30`` end to end.

Through Typer's runner in a workspace built like the demo's, and once as the
console script: files written, the same bytes twice, recorded as evidence,
exit 2 with one ``error:`` line for bad input.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.reports.workspace import MODEL, SYSTEM, build, open_registry
from trustops.cli import app

runner = CliRunner()

COMMANDS = {
    "model-card": ("--model", "credit-scorer@1"),
    "datasheet": ("--dataset", f"{SYSTEM}/train@1"),
    "annex-iv": ("--model", MODEL),
    "eeoc": ("--model", "credit-scorer@1"),
    "gdpr-art30": ("--system", SYSTEM),
}


def run(*args: object):
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    for var in [v for v in os.environ if v.startswith("TRUSTOPS_")]:
        monkeypatch.delenv(var)
    build(tmp_path).close()
    monkeypatch.chdir(tmp_path)
    yield tmp_path


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_each_command_writes_the_document_and_records_it(project: Path, command: str) -> None:
    result = run("report", command, *COMMANDS[command], "-o", "doc.md")
    assert result.exit_code == 0, result.output
    data = (project / "doc.md").read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    assert f"sha256:{digest}" in result.stdout and "recorded as evidence #" in result.stdout
    assert data.startswith(b"# ")
    again = run("report", command, *COMMANDS[command], "-o", "again.md")
    assert again.exit_code == 0 and (project / "again.md").read_bytes() == data
    with open_registry(project) as reg:
        reports = [e for e in reg.evidence(kind="report") if e.content["sha256"] == digest]
        assert reports and reg.artifacts.read(digest) == data
        assert all(e.content["format"] == "markdown" for e in reports)


def test_html_by_option_or_by_file_name_and_no_record(project: Path) -> None:
    assert run("report", "eeoc", "--model", MODEL, "-o", "e.html").exit_code == 0
    assert (project / "e.html").read_text().startswith("<!doctype html>")
    result = run(
        "report", "annex-iv", "--model", MODEL, "-o", "a.txt", "--format", "html", "--no-record",
        "--date", "2027-01-31",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "not recorded" in result.stdout
    text = (project / "a.txt").read_text()
    assert text.startswith("<!doctype html>") and "2027-01-31" in text
    with open_registry(project) as reg:
        assert [e.content["document"] for e in reg.evidence(kind="report")] == ["eeoc"]


BAD = [
    (("report", "eeoc", "--model", "ghost@1", "-o", "x.md"), "'ghost@1' is not registered"),
    (("report", "eeoc", "-o", "x.md"), "Missing option '--model'"),
    (("report", "model-card", "--model", MODEL), "Missing option '--output'"),
    (("report", "datasheet", "--dataset", "train@1", "-o", "x.md"), "say which system"),
    (("report", "datasheet", "--dataset", f"{SYSTEM}/nope@1", "-o", "x.md"), "not registered"),
    (("report", "gdpr-art30", "--system", "nope", "-o", "x.md"), "system 'nope'"),
    (("report", "annex-iv", "--model", MODEL, "-o", "x.md", "--format", "docx"), "format 'docx'"),
    (("report", "annex-iv", "--model", MODEL, "-o", "x.md", "--date", "soon"), "invalid date"),
    (("report", "model-card", "--model", MODEL, "-o", "no/such/dir/x.md"), "cannot write"),
]


@pytest.mark.parametrize(("args", "message"), BAD, ids=[" ".join(a[1:3]) for a, _ in BAD])
def test_bad_input_is_one_line_exit_2_and_records_nothing(
    project: Path, args: tuple[str, ...], message: str
) -> None:
    result = run(*args)
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("error:") and message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (project / "x.md").exists()
    with open_registry(project) as reg:
        assert reg.evidence(kind="report") == []


def test_the_console_script_exits_as_documented(project: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRUSTOPS_")}
    script = Path(sys.executable).with_name("trustops")

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(script), *args], cwd=project, env=env,
                              capture_output=True, text=True)  # fmt: skip

    assert cli("report", "eeoc", "--model", MODEL, "-o", "e.md").returncode == 0
    bad = cli("report", "eeoc", "--model", "ghost@1", "-o", "e.md")
    assert bad.returncode == 2 and bad.stderr.startswith("error:") and "Traceback" not in bad.stderr
