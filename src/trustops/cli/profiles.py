"""``trustops profile`` and ``trustops drift``: profile data, compare it with a reference."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from trustops.cli import app
from trustops.errors import UsageError


class DriftFormat(StrEnum):
    table = "table"
    json = "json"
    markdown = "markdown"
    html = "html"


class ProfileFormat(StrEnum):
    table = "table"
    json = "json"


class FailOn(StrEnum):
    never = "never"
    any = "any"
    dataset = "dataset"


def _columns(text: str | None) -> list[str] | None:
    if text is None:
        return None
    names = [c.strip() for c in text.split(",") if c.strip()]
    if not names:
        raise UsageError("--columns needs at least one column name")
    return names


@contextmanager
def progress_bar(
    console: Console, label: str, total: int | None
) -> Iterator[Callable[[int], None]]:
    """A Rich progress bar over rows read; a callback for ``progress=``."""
    columns = [
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("rows"),
        TimeElapsedColumn(),
    ]
    if total is None:  # rows read so far, no bar to fill
        columns = [
            TextColumn("{task.description}"),
            TextColumn("{task.completed:,} rows read"),
            TimeElapsedColumn(),
        ]
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task(label, total=total)

        def advance(rows: int) -> None:
            bar.advance(task, rows)

        yield advance


def _data_or_profile(path: str) -> Any:
    from trustops.profiling import is_profile_file, load_profile

    p = Path(path)
    if p.is_file() and (is_profile_file(p) or p.suffix.lower() in (".tprof", ".json")):
        return load_profile(p)  # a damaged profile is named as one, not read as data
    return path


@app.command("profile")
def profile_command(
    ctx: typer.Context,
    data: Annotated[
        str,
        typer.Argument(
            help="CSV or Parquet file, Parquet directory, glob pattern, or duckdb:SELECT ..."
        ),
    ],
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="Write the profile here: .json for JSON, anything else (e.g. .tprof) binary.",
        ),
    ] = None,
    reference: Annotated[
        Path | None,
        typer.Option("--reference", help="Bin numeric columns on this reference profile's edges."),
    ] = None,
    columns: Annotated[
        str | None, typer.Option("--columns", help="Comma-separated columns to profile.")
    ] = None,
    bins: Annotated[
        int, typer.Option("--bins", min=1, help="Histogram bins at the data's quantiles.")
    ] = 100,
    sketch_k: Annotated[
        int, typer.Option("--sketch-k", min=8, help="KLL sketch size (error ≈ 1.33% at 200).")
    ] = 200,
    max_categories: Annotated[
        int,
        typer.Option("--max-categories", min=1, help="Exact category counts up to this many."),
    ] = 10_000,
    output_format: Annotated[
        ProfileFormat, typer.Option("--format", help="What to print: a summary table or JSON.")
    ] = ProfileFormat.table,
    system: Annotated[
        str | None,
        typer.Option(
            "--system", help="The AI system whose registered data DATA may be (its read recorded)."
        ),
    ] = None,
    purpose: Annotated[
        str | None,
        typer.Option("--purpose", help="With --system: why the registered data is read."),
    ] = None,
) -> None:
    """Profile DATA into mergeable statistics, e.g. a reference for drift checks.

    Example: trustops profile train.parquet -o reference.tprof
    """
    from trustops.core.profiles import to_json
    from trustops.profiling import load_profile, profile, save_profile, source_rows
    from trustops.reports.drift import profile_table

    err = Console(stderr=True)
    read = None  # DATA as a registered dataset version: a purpose-checked, recorded read
    if system is not None:
        from trustops.cli.registry import registry_from
        from trustops.governance.usage import plan_file_read

        with registry_from(ctx) as reg:
            read = plan_file_read(reg, data, system=system, use="profiling", purpose=purpose)
    ref = load_profile(reference) if reference is not None else None
    total = source_rows(data)
    # A reference reads the data 3 to 5 times (sketches, edge grids, histograms).
    passes = 1 if ref is not None else None
    label = "a DuckDB query" if data.startswith("duckdb:") else Path(data).name
    with progress_bar(
        err, f"Profiling {label}", total * passes if total and passes else None
    ) as tick:
        result = profile(
            data,
            reference=ref,
            columns=_columns(columns),
            bins=bins,
            sketch_k=sketch_k,
            max_categories=max_categories,
            progress=tick,
        )
    if read is not None:
        from trustops.cli.registry import registry_from
        from trustops.governance.usage import write_use

        with registry_from(ctx) as reg, reg.transaction() as change:
            write_use(change, read, used_by="trustops profile")
    if output is not None:
        save_profile(result, output)
        err.print(f"wrote {output}")
    if output_format is ProfileFormat.json:
        typer.echo(to_json(result, indent=2))
    elif output is None or output_format is ProfileFormat.table:
        Console().print(profile_table(result))


@app.command("drift")
def drift_command(
    reference: Annotated[
        str,
        typer.Option("--reference", help="Reference profile (from `trustops profile`) or data."),
    ],
    current: Annotated[str, typer.Option("--current", help="Current data (or a profile).")],
    method: Annotated[
        str,
        typer.Option(
            "--method",
            help="auto, psi, ks, chi2, z, jensenshannon, wasserstein, hellinger or kl.",
        ),
    ] = "auto",
    exact: Annotated[
        bool, typer.Option("--exact", help="Compute on raw values (both sides in memory).")
    ] = False,
    compat: Annotated[
        str | None,
        typer.Option("--compat", help="Reproduce a peer's statistics: evidently or nannyml."),
    ] = None,
    columns: Annotated[
        str | None, typer.Option("--columns", help="Comma-separated columns to compare.")
    ] = None,
    threshold: Annotated[
        float | None, typer.Option("--threshold", help="Threshold for every column.")
    ] = None,
    prediction: Annotated[
        str | None, typer.Option("--prediction", help="Prediction column (prediction drift).")
    ] = None,
    target: Annotated[
        str | None, typer.Option("--target", help="Label column (target drift).")
    ] = None,
    drift_share: Annotated[
        float, typer.Option("--drift-share", help="Dataset drift when this share drifts.")
    ] = 0.5,
    output_format: Annotated[
        DriftFormat, typer.Option("--format", help="Output format.")
    ] = DriftFormat.table,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write the output to this file instead."),
    ] = None,
    js_base: Annotated[
        float | None,
        typer.Option("--js-base", help="Log base of the Jensen-Shannon distance (default e; 2)."),
    ] = None,
    multivariate: Annotated[
        bool,
        typer.Option(
            "--multivariate",
            help="Also train a domain classifier (reference vs current rows); needs raw data.",
        ),
    ] = False,
    seed: Annotated[int, typer.Option("--seed", help="Domain classifier seed.")] = 0,
    fail_on: Annotated[
        FailOn,
        typer.Option(
            "--fail-on",
            help="Exit 1 on drift: 'any' drifted column, or 'dataset' drift; 'never' (default).",
        ),
    ] = FailOn.never,
) -> None:
    """Compare CURRENT with REFERENCE column by column: drift statistics and verdicts.

    Example: trustops drift --reference reference.tprof --current today.parquet --format html
    -o drift.html --fail-on dataset
    """
    from trustops.core.profiles import DatasetProfile
    from trustops.drift import current_needs_sketches, detect_drift
    from trustops.engines.files import write_text
    from trustops.profiling import profile, source_rows
    from trustops.reports.drift import rich_table, to_html, to_json, to_markdown

    if not 0 < drift_share <= 1:
        raise UsageError(f"--drift-share must be in (0, 1], got {drift_share}")
    err = Console(stderr=True)
    ref: Any = _data_or_profile(reference)
    cur: Any = _data_or_profile(current)
    names = _columns(columns)
    ref_profile = cur_profile = None
    if exact or compat is not None:
        with err.status("Reading both samples…"):
            report = detect_drift(
                ref,
                cur,
                method=method,
                exact=exact,
                compat=compat,
                columns=names,
                threshold=threshold,
                prediction=prediction,
                target=target,
                drift_share=drift_share,
                js_base=js_base,
            )
    else:
        if not isinstance(ref, DatasetProfile):
            total = source_rows(ref)
            with progress_bar(err, "Profiling the reference", None) as t:
                ref = profile(ref, columns=names, progress=t)
        if not isinstance(cur, DatasetProfile):
            total = source_rows(cur)
            with progress_bar(err, "Profiling the current data", total) as t:
                cur = profile(
                    cur,
                    reference=ref,
                    columns=names,
                    progress=t,
                    sketches=current_needs_sketches(ref, method),
                )
        ref_profile, cur_profile = ref, cur
        report = detect_drift(
            ref,
            cur,
            method=method,
            columns=names,
            threshold=threshold,
            prediction=prediction,
            target=target,
            drift_share=drift_share,
            js_base=js_base,
        )
    if multivariate:
        from dataclasses import replace

        from trustops.drift import domain_classifier

        with err.status("Training the domain classifier…"):
            found = domain_classifier(reference, current, [c.column for c in report.features], seed)
        report = replace(report, details={**report.details, "multivariate": found})
    if output_format is DriftFormat.table:
        console = Console(record=True, width=160, file=io.StringIO()) if output else Console()
        console.print(rich_table(report))
        text = console.export_text() if output else ""
    elif output_format is DriftFormat.json:
        text = to_json(report)
    elif output_format is DriftFormat.markdown:
        text = to_markdown(report)
    else:
        text = to_html(report, ref_profile, cur_profile)
    if output:
        write_text(output, text)
        err.print(f"wrote {output}")
    elif output_format is not DriftFormat.table:
        typer.echo(text, nl=False)
    drifted = [c.column for c in report.columns if c.drift_detected]
    if report.details.get("multivariate", {}).get("drift_detected"):
        drifted.append("(multivariate)")
    if (fail_on is FailOn.any and drifted) or (fail_on is FailOn.dataset and report.dataset_drift):
        err.print(f"[red]FAIL[/] drift in: {', '.join(drifted)}")
        raise typer.Exit(1)
