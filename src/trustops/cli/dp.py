"""``trustops dp``: differentially private releases of a registered dataset's statistics."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from trustops.cli import app
from trustops.cli.registry import print_json, registry_from

dp_app = typer.Typer(
    help="Differentially private statistics (OpenDP), charged to the dataset's privacy budget.",
    no_args_is_help=True,
)
app.add_typer(dp_app, name="dp")


def _bounds(text: str | None) -> tuple[float, float] | None:
    if text is None:
        return None
    from trustops.errors import UsageError

    try:
        lower, upper = (float(x) for x in text.split(","))
    except ValueError:
        raise UsageError(f"--bounds takes LOWER,UPPER (two numbers), not {text!r}") from None
    return lower, upper


def _split(values: list[str] | None) -> list[str] | None:
    if not values:
        return None
    return [part for v in values for part in v.split(",") if part]


@dp_app.command("release")
def release_command(
    ctx: typer.Context,
    statistic: Annotated[
        str, typer.Argument(help="count, sum, mean, histogram or selection_rates.")
    ],
    dataset: Annotated[str, typer.Option("--dataset", help="The dataset version (NAME@V).")],
    system: Annotated[str, typer.Option("--system", help="The system the dataset belongs to.")],
    epsilon: Annotated[float, typer.Option("--epsilon", help="Privacy loss to spend (> 0).")],
    data: Annotated[
        Path | None,
        typer.Option("--data", help="The registered file (default: its recorded source)."),
    ] = None,
    delta: Annotated[
        float, typer.Option("--delta", help="Delta (> 0 selects the Gaussian mechanism).")
    ] = 0.0,
    mechanism: Annotated[
        str | None, typer.Option("--mechanism", help="laplace or gaussian.")
    ] = None,
    column: Annotated[
        str | None, typer.Option("--column", help="The column (sum, mean, histogram).")
    ] = None,
    bounds: Annotated[
        str | None, typer.Option("--bounds", help="LOWER,UPPER: declared clamp for sum and mean.")
    ] = None,
    categories: Annotated[
        list[str] | None,
        typer.Option("--category", help="A declared category or group (repeatable or a,b,c)."),
    ] = None,
    group_column: Annotated[
        str | None, typer.Option("--group-column", help="The group column (selection rates).")
    ] = None,
    outcome_column: Annotated[
        str | None, typer.Option("--outcome-column", help="The outcome column (selection rates).")
    ] = None,
    positive: Annotated[
        str, typer.Option("--positive", help="The outcome value that counts as selected.")
    ] = "1",
    contributions: Annotated[
        int, typer.Option("--contributions", min=1, help="Rows one person may contribute.")
    ] = 1,
    purpose: Annotated[
        str | None, typer.Option("--purpose", help="Declared purpose of this read of the data.")
    ] = None,
    report: Annotated[
        str | None,
        typer.Option("--for", help="What the numbers are for (ll144 is refused: exact by law)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the release as JSON.")] = False,
) -> None:
    """Release a DP statistic; each number is printed with its noise scale and the epsilon spent.

    Refused (exit 2, nothing released or spent) without a budget, beyond the
    budget, or for LL144 numbers.

    Example: trustops dp release selection_rates --dataset decisions@1 --system hiring
    --group-column race --category A,B,C --outcome-column hired --epsilon 0.5
    """
    from trustops.privacy.budget import budget, release

    with registry_from(ctx) as reg:
        result = release(
            reg,
            None if data is None else str(data),
            dataset=dataset,
            system=system,
            statistic=statistic,
            epsilon=epsilon,
            delta=delta,
            mechanism=mechanism,
            column=column,
            bounds=_bounds(bounds),
            categories=_split(categories),
            group_column=group_column,
            outcome_column=outcome_column,
            positive=positive,
            contributions=contributions,
            purpose=purpose,
            report=report,
        )
        left = budget(reg, dataset, system=system)
    if as_json:
        print_json({**result.to_dict(), "budget": None if left is None else left.to_dict()})
        return
    for line in result.lines():
        typer.echo(line)
    if left is not None:
        typer.echo(
            f"budget of {left.dataset}: epsilon {left.epsilon_spent:.4g} of "
            f"{left.epsilon_total:.4g} spent ({left.epsilon_remaining:.4g} left)"
            + (
                f", delta {left.delta_spent:.3g} of {left.delta_total:.3g}"
                if left.delta_total
                else ""
            )
        )


@dp_app.command("releases")
def releases_command(
    ctx: typer.Context,
    dataset: Annotated[str, typer.Argument(help="The dataset (NAME or NAME@V).")],
    system: Annotated[str, typer.Option("--system", help="The system the dataset belongs to.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List every DP release made about a dataset, with what each cost."""
    from trustops.privacy.budget import releases

    with registry_from(ctx) as reg:
        found = releases(reg, dataset, system=system)
    if as_json:
        print_json(found)
        return
    for r in found:
        typer.echo(
            f"#{r['release_id']}  {r['created_at']}  {r['statistic']}  {r['mechanism']}  "
            f"epsilon {r['epsilon']:.4g}  delta {r['delta']:.3g}  by {r['created_by']}"
        )
