"""``trustops fairness``: assess a CSV or Parquet file of predictions."""

from __future__ import annotations

import io
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from trustops.cli import app
from trustops.errors import UsageError


class OutputFormat(StrEnum):
    table = "table"
    json = "json"
    markdown = "markdown"
    html = "html"


def parse_label(text: str) -> Any:
    """A label given on the command line: an int or float if it reads as one, else text."""
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return text


@app.command()
def fairness(
    data: Annotated[Path, typer.Argument(help="CSV or Parquet file (or Parquet directory).")],
    y_true: Annotated[str, typer.Option("--y-true", help="Column of true labels.")],
    y_pred: Annotated[str, typer.Option("--y-pred", help="Column of predicted labels.")],
    sensitive: Annotated[
        list[str], typer.Option("--sensitive", help="Sensitive column; repeat for several.")
    ],
    score: Annotated[
        str | None,
        typer.Option("--score", help="Column of predicted probabilities of the positive label."),
    ] = None,
    sample_weight: Annotated[
        str | None, typer.Option("--sample-weight", help="Column of row weights.")
    ] = None,
    intersectional: Annotated[
        bool,
        typer.Option(
            "--intersectional", help="Groups are every combination of the sensitive values."
        ),
    ] = False,
    privileged: Annotated[
        list[str] | None,
        typer.Option(
            "--privileged",
            help="ATTR=VALUE: AIF360 unprivileged-vs-privileged comparison; "
            "also the reference group.",
        ),
    ] = None,
    reference: Annotated[
        list[str] | None,
        typer.Option(
            "--reference", help="ATTR=VALUE: reference group for *_to_reference disparities."
        ),
    ] = None,
    bootstrap: Annotated[
        int,
        typer.Option(
            "--bootstrap", min=0, help="Resamples of the count table for confidence intervals."
        ),
    ] = 0,
    seed: Annotated[int | None, typer.Option("--seed", min=0, help="Bootstrap seed.")] = None,
    task: Annotated[
        str, typer.Option("--task", help="auto, binary, multiclass or regression.")
    ] = "auto",
    pos_label: Annotated[str, typer.Option("--pos-label", help="Favourable label.")] = "1",
    min_group_size: Annotated[
        int,
        typer.Option(
            "--min-group-size", min=1, help="Smaller groups are reported apart, not compared."
        ),
    ] = 1,
    missing: Annotated[
        str, typer.Option("--missing", help="Nulls in a sensitive column: 'error' or 'group'.")
    ] = "error",
    threshold: Annotated[
        float,
        typer.Option(
            "--threshold", help="Four-fifths threshold: impact ratios under it are flagged."
        ),
    ] = 0.8,
    confidence: Annotated[float, typer.Option("--confidence", help="Interval level.")] = 0.95,
    metric: Annotated[
        list[str] | None,
        typer.Option(
            "--metric",
            help="Metric to show in table, markdown and html output; "
            "repeat for several (JSON always has all).",
        ),
    ] = None,
    output_format: Annotated[
        OutputFormat, typer.Option("--format", help="Output format.")
    ] = OutputFormat.table,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o", help="Write the output to this file instead of the terminal."
        ),
    ] = None,
    fail_below: Annotated[
        float | None,
        typer.Option(
            "--fail-below",
            help="Exit 1 when a group's four-fifths impact ratio is under this value (e.g. 0.8).",
        ),
    ] = None,
) -> None:
    """Assess fairness of predictions in DATA by group, with disparities and the four-fifths test.

    Example: trustops fairness preds.csv --y-true repaid --y-pred pred --sensitive race
    --sensitive sex --privileged race=A --bootstrap 1000 --format json -o fairness.json
    """
    from trustops.assess import assess_fairness
    from trustops.engines.files import read_table, write_text
    from trustops.reports.fairness import fmt_p, rich_tables, to_html, to_json, to_markdown

    if fail_below is not None and not 0 < fail_below <= 1:
        raise UsageError(f"--fail-below must be in (0, 1], got {fail_below}")
    err = Console(stderr=True)
    columns = [y_true, y_pred, *sensitive, *(c for c in (score, sample_weight) if c)]
    with err.status(f"Reading {data.name}…"):
        table = read_table(data, columns=columns)
    with err.status(
        f"Assessing {table.num_rows:,} rows"
        + (f" with {bootstrap:,} bootstrap resamples…" if bootstrap else "…")
    ):
        report = assess_fairness(
            table,
            y_true=y_true,
            y_pred=y_pred,
            sensitive=sensitive,
            score=score,
            sample_weight=sample_weight,
            intersectional=intersectional,
            privileged=privileged or None,
            reference=reference or None,
            bootstrap=bootstrap,
            seed=seed,
            task=task,
            pos_label=parse_label(pos_label),
            min_group_size=min_group_size,
            confidence=confidence,
            four_fifths_threshold=threshold,
            missing=missing,
        )
    for name in metric or ():
        report.check_metric(name)
    if output_format is OutputFormat.table:
        # to a file: record at a fixed width, print nothing to the terminal
        console = Console(record=True, width=160, file=io.StringIO()) if output else Console()
        for t in rich_tables(report, metric):
            console.print(t)
        text = console.export_text() if output else ""
    elif output_format is OutputFormat.json:
        text = to_json(report)
    elif output_format is OutputFormat.markdown:
        text = to_markdown(report, metric)
    else:
        text = to_html(report, metric)
    if output:
        write_text(output, text)
    elif output_format is not OutputFormat.table:
        typer.echo(text, nl=False)
    if output:
        err.print(f"wrote {output}")
    if fail_below is not None:
        below = [
            row
            for b in report.breakdowns
            for row in b.four_fifths
            if row["impact_ratio"] is not None and row["impact_ratio"] < fail_below
        ]
        if below:
            for row in below:
                group = ", ".join(f"{k}={v}" for k, v in row["group"].items())
                err.print(
                    "[red]FAIL[/] "
                    + escape(
                        f"impact_ratio[{group}] = {row['impact_ratio']:.3f} < {fail_below} "
                        f"(n={row['count']}, Fisher p={fmt_p(row['fisher_p_value'])})"
                    )
                )
            raise typer.Exit(1)
