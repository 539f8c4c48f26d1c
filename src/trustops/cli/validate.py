"""``trustops validate``: check data (or a saved profile) against declared checks.

Exit codes follow the CLI's convention: 0 when every ``error``-severity check
passes, 1 when one fails or errors (a column the checks name but the data
lacks is such a failed check, reported with the others, not a crash), 2 when
the checks file or the data cannot be read (bad YAML, an unknown rule): one
line on stderr.
"""

from __future__ import annotations

import datetime as dt
import io
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from trustops.errors import UsageError

__all__ = ["ValidateFormat", "validate_command"]


class ValidateFormat(StrEnum):
    table = "table"
    json = "json"
    markdown = "markdown"


def _parse_now(text: str | None) -> dt.datetime | None:
    if text is None:
        return None
    try:
        now = dt.datetime.fromisoformat(text)
    except ValueError:
        raise UsageError(
            f"--now must be an ISO 8601 time, got {text!r}", hint="e.g. 2025-01-31T12:00:00Z"
        ) from None
    return now if now.tzinfo is not None else now.replace(tzinfo=dt.UTC)


def validate_command(
    data: Annotated[
        Path,
        typer.Argument(help="CSV or Parquet file (or Parquet directory), or a saved profile."),
    ],
    checks: Annotated[
        Path, typer.Option("--checks", "-c", help="YAML file of checks (see docs/quality.md).")
    ],
    output_format: Annotated[
        ValidateFormat, typer.Option("--format", help="Output format.")
    ] = ValidateFormat.table,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o", help="Write the output to this file instead of the terminal."
        ),
    ] = None,
    now: Annotated[
        str | None,
        typer.Option(
            "--now", help="Measure freshness at this ISO 8601 time (default: now; naive is UTC)."
        ),
    ] = None,
    max_categories: Annotated[
        int,
        typer.Option(
            "--max-categories",
            min=1,
            help="Exact category counts (allowed, unique) up to this many distinct values.",
        ),
    ] = 10_000,
) -> None:
    """Check DATA against the checks in a YAML file; exit 1 if an error-severity check fails.

    Example: trustops validate credit.csv --checks checks.yaml --format json -o quality.json
    """
    from trustops.engines.files import write_text
    from trustops.reports.quality import rich_table, summary, to_json, to_markdown
    from trustops.validation import load_checks, validate

    clock = _parse_now(now)
    suite = load_checks(checks)  # a bad checks file stops before any data is read
    err = Console(stderr=True)
    with err.status(f"Checking {data.name}…"):
        report = validate(data, suite, now=clock, max_categories=max_categories)
    if output_format is ValidateFormat.table:
        # to a file: record at a fixed width, print nothing to the terminal
        console = Console(record=True, width=160, file=io.StringIO()) if output else Console()
        console.print(rich_table(report))
        text = console.export_text() if output else ""
    elif output_format is ValidateFormat.json:
        text = to_json(report)
    else:
        text = to_markdown(report)
    if output:
        write_text(output, text)
        err.print(f"wrote {output}")
    elif output_format is not ValidateFormat.table:
        typer.echo(text, nl=False)
    if output or output_format is not ValidateFormat.table:
        for r in report.failures:
            where = f"{r.column}: " if r.column is not None else ""
            line = f"[red]{r.status.upper()}[/] " + escape(f"{where}{r.rule}: {r.message}")
            err.print(line, soft_wrap=True, highlight=False)
        err.print(escape(summary(report)), soft_wrap=True, highlight=False)
    if not report.passed:
        raise typer.Exit(1)
