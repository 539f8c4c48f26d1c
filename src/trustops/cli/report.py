"""``trustops report``: regulator-ready reports; here the NYC LL144 bias-audit summary.

``report_app`` is the sub-app every ``trustops report KIND`` command hangs
on; other modules add their kinds to it with ``@report_app.command(...)``.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from trustops.cli import app
from trustops.errors import UsageError

__all__ = ["report_app"]

report_app = typer.Typer(
    help="Regulator-ready reports, written from data or from recorded evidence.",
    no_args_is_help=True,
)
app.add_typer(report_app, name="report")


class ReportFormat(StrEnum):
    json = "json"
    markdown = "markdown"
    html = "html"
    pdf = "pdf"


class Denominator(StrEnum):
    known = "known"
    all = "all"


_SUFFIXES = {
    ".json": ReportFormat.json,
    ".md": ReportFormat.markdown,
    ".markdown": ReportFormat.markdown,
    ".html": ReportFormat.html,
    ".htm": ReportFormat.html,
    ".pdf": ReportFormat.pdf,
}


def _format_for(output: Path, chosen: ReportFormat | None) -> ReportFormat:
    if chosen is not None:
        return chosen
    found = _SUFFIXES.get(output.suffix.lower())
    if found is None:
        raise UsageError(
            f"cannot tell the format from {output.name!r}",
            hint="pass --format json|markdown|html|pdf, or name the file .json, .md, .html or .pdf",
        )
    return found


def _date(text: str | None, option: str) -> dt.date | None:
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise UsageError(f"{option} must be a date as YYYY-MM-DD, got {text!r}") from None


@report_app.command("ll144")
def ll144(
    data: Annotated[
        str,
        typer.Option(
            "--data",
            help="CSV or Parquet file (or Parquet folder, glob, duckdb: query) of the "
            "AEDT's outcomes, one row per individual.",
        ),
    ],
    sex: Annotated[str, typer.Option("--sex", help="Column of sex categories.")],
    race: Annotated[str, typer.Option("--race", help="Column of race/ethnicity categories.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="File to write the report to.")],
    selected: Annotated[
        str | None,
        typer.Option("--selected", help="Column of 0/1 or true/false selections: selection rates."),
    ] = None,
    score: Annotated[
        str | None,
        typer.Option(
            "--score", help="Column of scores: scoring rates (share strictly above the median)."
        ),
    ] = None,
    output_format: Annotated[
        ReportFormat | None,
        typer.Option(
            "--format",
            help="json, markdown, html or pdf (default: from the -o suffix; pdf needs "
            "pip install 'trustops[pdf]').",
        ),
    ] = None,
    exclude_below: Annotated[
        float,
        typer.Option(
            "--exclude-below",
            help="Exclude categories under this share of the data from the impact ratios "
            "(0 keeps all).",
        ),
    ] = 0.02,
    exclusion_denominator: Annotated[
        Denominator,
        typer.Option(
            "--exclusion-denominator",
            help="Share of the individuals of known category (known) or of all (all).",
        ),
    ] = Denominator.known,
    audit_date: Annotated[
        str | None,
        typer.Option("--audit-date", help="Date of the bias audit, YYYY-MM-DD."),
    ] = None,
    distribution_date: Annotated[
        str | None,
        typer.Option("--distribution-date", help="Distribution date of the AEDT, YYYY-MM-DD."),
    ] = None,
    data_source: Annotated[
        str | None,
        typer.Option(
            "--data-source",
            help="Source and explanation of the data (default: the data file's name).",
        ),
    ] = None,
) -> None:
    """Write the NYC Local Law 144 bias-audit summary of DATA (6 RCNY §5-301, §5-303).

    Example: trustops report ll144 --data applicants.csv --sex sex --race race
    --score score --audit-date 2026-11-27 -o bias-audit.md
    """
    from trustops.engines.files import write_bytes, write_text
    from trustops.ll144 import ll144_audit
    from trustops.reports.ll144 import to_html, to_json, to_markdown, to_pdf

    fmt = _format_for(output, output_format)
    dates = {
        "audit_date": _date(audit_date, "--audit-date"),
        "distribution_date": _date(distribution_date, "--distribution-date"),
    }
    if data_source is None:
        data_source = Path(data).name if not data.startswith("duckdb:") else "a DuckDB query"
    audit = ll144_audit(
        data,
        sex=sex,
        race=race,
        selected=selected,
        score=score,
        exclude_below=exclude_below,
        exclusion_denominator=exclusion_denominator.value,
    )
    if fmt is ReportFormat.pdf:
        pdf = to_pdf(
            audit,
            data_source=data_source,
            audit_date=dates["audit_date"],
            distribution_date=dates["distribution_date"],
        )
        write_bytes(output, pdf)
    else:
        render = {
            ReportFormat.json: to_json,
            ReportFormat.markdown: to_markdown,
            ReportFormat.html: to_html,
        }[fmt]
        write_text(output, render(audit, data_source=data_source, **dates))
    Console(stderr=True).print(f"wrote {output}", highlight=False, markup=False)
