"""``trustops dataset``: write a synthetic dataset with documented, injected properties."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from trustops.cli import app


class DatasetName(StrEnum):
    credit = "credit"


@app.command()
def dataset(
    name: Annotated[DatasetName, typer.Argument(help="Which dataset: credit.")],
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
    """Generate a synthetic dataset (see trustops.datasets for how it is made).

    Example: trustops dataset credit credit.csv --rows 20000 --seed 0
    """
    import pyarrow as pa

    from trustops.datasets import make_credit
    from trustops.engines.files import write_table

    table = pa.table(make_credit(rows, seed=seed, bias=bias))
    write_table(table, output)
    Console(stderr=True).print(f"wrote {table.num_rows:,} rows to {output}")
