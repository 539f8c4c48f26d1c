"""``trustops scan-pii``: find personal data and protected attributes in a CSV or Parquet file.

Registered in :mod:`trustops.cli` with ``app.command("scan-pii")(scan_pii_command)``.
Exit codes as for every command: 0 clean (or no ``--fail-on-pii``), 1 when
``--fail-on-pii`` finds something, 2 for bad input or usage (one line on stderr).
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
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from trustops.errors import UsageError

__all__ = ["PiiFormat", "parse_columns", "scan_pii_command"]


class PiiFormat(StrEnum):
    table = "table"
    json = "json"
    markdown = "markdown"


def parse_columns(text: str) -> list[str]:
    """``"a, b"`` → ``["a", "b"]``; an empty list is a usage error."""
    names = [n.strip() for n in text.split(",") if n.strip()]
    if not names:
        raise UsageError(f"--columns names no column: {text!r}")
    return names


def scan_pii_command(
    data: Annotated[
        Path, typer.Argument(help="CSV or Parquet file, Parquet directory or glob pattern.")
    ],
    columns: Annotated[
        str | None,
        typer.Option("--columns", help="Comma-separated columns to scan (default: all)."),
    ] = None,
    sample_limit: Annotated[
        int | None,
        typer.Option("--sample-limit", help="Scan only the first N rows (default: all rows)."),
    ] = None,
    max_examples: Annotated[
        int, typer.Option("--max-examples", help="Masked examples per column and detector.")
    ] = 3,
    reference_date: Annotated[
        str | None,
        typer.Option(
            "--reference-date",
            help="YYYY-MM-DD: the day ages are taken on for dates of birth (default: today).",
        ),
    ] = None,
    fail_on_pii: Annotated[
        bool,
        typer.Option(
            "--fail-on-pii",
            help="Exit 1 when a detector's match rate exceeds --min-rate in any column, "
            "or a column looks like a protected attribute.",
        ),
    ] = False,
    min_rate: Annotated[
        float,
        typer.Option(
            "--min-rate",
            help="With --fail-on-pii: the match rate (0 to 1) a detector must exceed to fail; "
            "0 (default) fails on any match.",
        ),
    ] = 0.0,
    output_format: Annotated[
        PiiFormat, typer.Option("--format", help="Output format.")
    ] = PiiFormat.table,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o", help="Write the output to this file instead of the terminal."
        ),
    ] = None,
) -> None:
    """Scan DATA for personal data (e-mail, phone, SSN, card, IBAN, IP, date of birth) and
    columns that look like protected attributes; examples are masked.

    Example: trustops scan-pii customers.parquet --format json -o pii.json --fail-on-pii
    """
    from trustops.engines.files import write_text
    from trustops.engines.sources import open_source
    from trustops.reports.pii import rich_table, to_json, to_markdown
    from trustops.scan import scan_pii

    if not 0 <= min_rate < 1:
        raise UsageError(f"--min-rate must be in [0, 1), got {min_rate}")
    if min_rate and not fail_on_pii:
        raise UsageError("--min-rate only applies with --fail-on-pii")
    if sample_limit is not None and sample_limit < 1:
        raise UsageError(f"--sample-limit must be at least 1, got {sample_limit}")
    if max_examples < 0:
        raise UsageError(f"--max-examples must be at least 0, got {max_examples}")
    try:
        day = dt.date.fromisoformat(reference_date) if reference_date else dt.date.today()
    except ValueError:
        raise UsageError(f"--reference-date must be YYYY-MM-DD, got {reference_date!r}") from None
    names = parse_columns(columns) if columns is not None else None

    err = Console(stderr=True)
    source = open_source(data)
    total = source.num_rows
    if sample_limit is not None:
        total = sample_limit if total is None else min(total, sample_limit)
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    ) as bar:
        task = bar.add_task(f"Scanning {escape(source.name)}", total=total)
        report = scan_pii(
            source,
            columns=names,
            sample_limit=sample_limit,
            max_examples=max_examples,
            reference_date=day,
            progress=lambda rows: bar.update(task, completed=rows),
        )

    if output_format is PiiFormat.table:
        # to a file: record at a fixed width, print nothing to the terminal
        console = Console(record=True, width=160, file=io.StringIO()) if output else Console()
        console.print(rich_table(report))
        text = console.export_text() if output else ""
    elif output_format is PiiFormat.json:
        text = to_json(report)
    else:
        text = to_markdown(report)
    if output:
        write_text(output, text)
        err.print(f"wrote {escape(str(output))}")
    elif output_format is not PiiFormat.table:
        typer.echo(text, nl=False)

    if fail_on_pii:
        failures = [
            f"{column}: {f.detector} in {f.match_rate:.1%} of values "
            f"({f.matches:,} of {report.column(column).non_null:,}) > {min_rate}"
            for column, f in report.findings_above(min_rate)
        ]
        failures += [
            f"{c.column}: looks like protected attribute {c.protected_attribute.attribute} "
            f"({c.protected_attribute.detail})"
            for c in report.columns
            if c.protected_attribute is not None
        ]
        for line in failures:
            err.print("[red]FAIL[/] " + escape(line), soft_wrap=True)
        if failures:
            raise typer.Exit(1)
