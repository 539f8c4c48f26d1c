"""``trustops mitigate``: compare mitigation methods on one split of a file.

A thin layer over :func:`trustops.mitigation.compare_methods`: read the file,
build the estimator, run, print a table or JSON, optionally write the
Pareto plot. Exit codes: 0 after a run (the comparison informs, it does not
gate: use ``trustops check`` for that); 2 on bad input, naming the column.
"""

from __future__ import annotations

import io
import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from trustops.cli import app
from trustops.errors import UsageError

__all__ = ["mitigate"]


class MitigateFormat(StrEnum):
    table = "table"
    json = "json"


class EstimatorName(StrEnum):
    logistic = "logistic"
    gbm = "gbm"


def _estimator(name: EstimatorName, seed: int) -> Any:
    if name is EstimatorName.logistic:
        from sklearn.linear_model import LogisticRegression

        return LogisticRegression(max_iter=1000)
    from sklearn.ensemble import HistGradientBoostingClassifier

    return HistGradientBoostingClassifier(random_state=seed)


@app.command("mitigate")
def mitigate(
    data: Annotated[Path, typer.Option("--data", help="A CSV or Parquet file.")],
    y: Annotated[str, typer.Option("--y", help="The binary label column (1 is favourable).")],
    sensitive: Annotated[
        list[str], typer.Option("--sensitive", help="A protected attribute (repeatable).")
    ],
    drop: Annotated[
        list[str] | None,
        typer.Option("--drop", help="A column that is not a feature (repeatable)."),
    ] = None,
    estimator: Annotated[
        EstimatorName, typer.Option("--estimator", help="logistic or gbm.")
    ] = EstimatorName.logistic,
    methods: Annotated[
        str | None,
        typer.Option(
            "--methods",
            help="Comma-separated: none, reweighing, resampling, exponentiated_gradient, "
            "grid_search, threshold (default: all but grid_search).",
        ),
    ] = None,
    policy: Annotated[
        str | None,
        typer.Option("--policy", help="Evaluate each method: a policy YAML file or pack name."),
    ] = None,
    test_size: Annotated[float, typer.Option("--test-size", help="Held-out share of rows.")] = 0.3,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the split and the methods.")] = 0,
    output_format: Annotated[
        MitigateFormat, typer.Option("--format", help="table or json.")
    ] = MitigateFormat.table,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the output to this file.")
    ] = None,
    plot: Annotated[
        Path | None, typer.Option("--plot", help="Write the Pareto plot to this SVG file.")
    ] = None,
    forbid_disparate_treatment: Annotated[
        bool,
        typer.Option(
            "--forbid-disparate-treatment",
            help="Leave out methods that use the protected attribute at decision time.",
        ),
    ] = False,
) -> None:
    """Compare bias mitigation methods: accuracy, fairness and the policy, per method.

    Example: trustops mitigate --data credit.csv --y approved --sensitive race
    --drop applicant_id --drop sex --drop repaid --policy eeoc-four-fifths --plot pareto.svg
    """
    from trustops.engines.files import read_table, write_text
    from trustops.mitigation import compare_methods
    from trustops.mitigation.compare import DEFAULT_METHODS

    chosen = (
        [m.strip() for m in methods.split(",") if m.strip()] if methods else list(DEFAULT_METHODS)
    )
    if methods is not None and not chosen:
        raise UsageError("--methods names no method")
    loaded = None
    if policy is not None:
        from trustops.policy import load_policy

        loaded = load_policy(policy)
    with Console(stderr=True).status(f"Comparing {len(chosen)} methods on {data.name}…"):
        table = read_table(data)
        run = compare_methods(
            table,
            y=y,
            sensitive=sensitive,
            estimator=_estimator(estimator, seed),
            methods=chosen,
            policy=loaded,
            test_size=test_size,
            seed=seed,
            drop=drop or (),
            forbid_disparate_treatment=forbid_disparate_treatment,
        )
    if output_format is MitigateFormat.json:
        text = json.dumps(run.to_dict(), indent=2) + "\n"
    else:
        console = (
            Console(record=True, width=160, file=io.StringIO()) if output else Console(width=160)
        )
        console.print(run.rich_table())
        text = console.export_text() if output else ""
    if output is not None:
        write_text(output, text)
    elif text:
        typer.echo(text, nl=False)
    if plot is not None:
        write_text(plot, run.plot_svg())
