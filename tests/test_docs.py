"""Docs stay true: every CLI command and option is documented, every example runs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import typer.main

from trustops.cli import app

ROOT = Path(__file__).resolve().parents[1]
DOC_FILES = [*sorted((ROOT / "docs").glob("*.md")), ROOT / "README.md"]


def _commands() -> dict[str, list[str]]:
    """Every command, sub-commands of groups included ("audit verify"), with its options."""
    out = {}

    def walk(prefix: str, group: object) -> None:
        for name, cmd in group.commands.items():  # type: ignore[attr-defined]
            full = f"{prefix}{name}"
            if hasattr(cmd, "commands"):
                walk(f"{full} ", cmd)
            else:
                out[full] = [o for p in cmd.params for o in p.opts if o.startswith("--")]

    root = typer.main.get_command(app)
    walk("", root)
    out[""] = [o for p in root.params for o in p.opts if o.startswith("--")]
    return out


@pytest.mark.parametrize("command", sorted(_commands()))
def test_every_command_and_option_is_documented(command: str) -> None:
    text = (ROOT / "docs" / "cli.md").read_text()
    heading = f"## `trustops {command}`" if command else "## Global options"
    assert heading in text, f"trustops {command} is not in docs/cli.md"
    for option in _commands()[command]:
        assert option in text, f"{option} of trustops {command} is not in docs/cli.md"


def _python_blocks() -> list[tuple[str, str]]:
    blocks = []
    for path in DOC_FILES:
        for i, code in enumerate(re.findall(r"```python\n(.*?)```", path.read_text(), re.S)):
            blocks.append((f"{path.name}#{i}", code))
    return blocks


@pytest.mark.parametrize(("where", "code"), _python_blocks(), ids=[b[0] for b in _python_blocks()])
def test_python_examples_run(
    where: str, code: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    exec(compile(code, where, "exec"), {"__name__": "__docs__"})


def test_readme_has_the_two_commands() -> None:
    text = (ROOT / "README.md").read_text()
    assert "make demo" in text and "make test" in text
