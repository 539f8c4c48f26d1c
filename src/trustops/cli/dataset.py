"""``trustops dataset``: synthetic datasets, and registering datasets in the governance store."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from trustops.cli import app
from trustops.cli.registry import print_json, registry_from

dataset_app = typer.Typer(
    help="Register datasets in the store, or write a synthetic one.", no_args_is_help=True
)
app.add_typer(dataset_app, name="dataset")


@dataset_app.command("credit")
def credit(
    output: Annotated[Path, typer.Argument(help="Where to write it (.csv or .parquet).")],
    rows: Annotated[int, typer.Option("--rows", min=1, help="Number of rows.")] = 20_000,
    seed: Annotated[int, typer.Option("--seed", help="Random seed.")] = 0,
    bias: Annotated[
        float,
        typer.Option(
            "--bias",
            help="Strength of the injected bias against the disadvantaged group (0 = none).",
        ),
    ] = 0.9,
) -> None:
    """Generate the synthetic credit dataset (see trustops.datasets for how it is made).

    Example: trustops dataset credit credit.csv --rows 20000 --seed 0
    """
    import pyarrow as pa

    from trustops.datasets import make_credit
    from trustops.engines.files import write_table

    table = pa.table(make_credit(rows, seed=seed, bias=bias))
    write_table(table, output)
    Console(stderr=True).print(f"wrote {table.num_rows:,} rows to {output}")


@dataset_app.command("register")
def register(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="The CSV or Parquet file to register.")],
    system: Annotated[str, typer.Option("--system", help="The AI system it belongs to.")],
    name: Annotated[
        str | None, typer.Option("--name", help="Dataset name (default: the file's stem).")
    ] = None,
    purpose: Annotated[
        list[str] | None,
        typer.Option("--purpose", help="A permitted purpose of processing (repeatable)."),
    ] = None,
    lawful_basis: Annotated[
        str | None, typer.Option("--lawful-basis", help="GDPR Art. 6 basis, e.g. contract.")
    ] = None,
    personal_data: Annotated[
        bool, typer.Option("--personal-data", help="The data is about identifiable people.")
    ] = False,
    retention_days: Annotated[
        int | None, typer.Option("--retention-days", min=0, help="Keep for at most N days.")
    ] = None,
    derived_from: Annotated[
        list[str] | None,
        typer.Option("--derived-from", help="A dataset version it was made from (repeatable)."),
    ] = None,
    source: Annotated[
        str | None, typer.Option("--source", help="Provenance (default: the file's location).")
    ] = None,
    subject_column: Annotated[
        str | None,
        typer.Option(
            "--subject-column",
            help="The column identifying people: indexed by keyed hash for erasure requests.",
        ),
    ] = None,
    scan_pii: Annotated[
        bool,
        typer.Option(
            "--scan-pii",
            help="Scan for personal data first; the policy's dataset rules may refuse it.",
        ),
    ] = False,
    policy: Annotated[
        str, typer.Option("--policy", help="With --scan-pii: the policy (file or pack name).")
    ] = "gdpr",
    as_json: Annotated[bool, typer.Option("--json", help="Print the record as JSON.")] = False,
) -> None:
    """Register a file as the next version of a dataset (hash, schema, rows, profile).

    Registering content already registered prints the existing version.

    Example: trustops dataset register train.parquet --system credit-scoring
    """
    from contextlib import nullcontext

    from trustops.cli.profiles import progress_bar

    err = Console(stderr=True)
    bar = progress_bar(err, f"Profiling {path.name}", None) if err.is_terminal else nullcontext()
    with registry_from(ctx) as reg, bar as tick:
        options = dict(
            source=source,
            purposes=purpose or [],
            lawful_basis=lawful_basis,
            personal_data=personal_data,
            retention_days=retention_days,
            derived_from=derived_from or [],
            subject_column=subject_column,
        )
        if scan_pii:
            from trustops.privacy.pii_gate import register_scanned

            dv = register_scanned(reg, path, system=system, name=name, policy=policy, **options)
        else:
            dv = reg.register_dataset(path, progress=tick, system=system, name=name, **options)
    if as_json:
        print_json(dv.to_dict())
    else:
        typer.echo(f"{dv.ref}  sha256:{dv.content_hash}  {dv.row_count:,} rows")


@dataset_app.command("list")
def list_datasets(
    ctx: typer.Context,
    system: Annotated[str | None, typer.Option("--system", help="Only this system's.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List registered dataset versions."""
    with registry_from(ctx) as reg:
        found = reg.datasets(system=system)
    if as_json:
        print_json([d.to_dict() for d in found])
        return
    from rich.table import Table

    table = Table("system", "dataset", "rows", "sha256", "registered", "by")
    for d in found:
        table.add_row(
            d.system, d.ref, f"{d.row_count:,}", d.content_hash[:16], d.created_at, d.created_by
        )
    Console().print(table)
