"""The demo's privacy part: a differentially private release of approval rates by race.

Called from ``trustops demo`` (:mod:`trustops.cli.demo`) inside its
workspace; each step is recorded in the demo's audit log.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

__all__ = ["dp_release_part"]


def dp_release_part(reg: Any, system: str, dataset: Any, data: Path, console: Console) -> None:
    """Give the training data a privacy budget and publish its approval rates by race with DP.

    The exact rates stay in the LL144 audit; this is the version fit for a
    public dashboard, each number beside its noise scale and the epsilon spent.
    """
    from trustops.datasets import RACES
    from trustops.privacy.budget import budget, release, set_budget

    set_budget(
        reg, dataset.ref, system=system, epsilon=1.0, reason="demo: public approval-rate summary"
    )
    published = release(
        reg, data, dataset=dataset.ref, system=system, statistic="selection_rates",
        group_column="race", outcome_column="approved", categories=list(RACES), epsilon=0.5,
    )  # fmt: skip
    left = budget(reg, dataset.ref, system=system)
    assert left is not None
    table = Table("group", "approval rate (DP)", "impact ratio (DP)", "noise scale of each count")
    table.title = f"Differentially private release #{published.release_id}"
    scale = published.values[0].scale
    for group in RACES:
        rate = published.estimates[f"selection rate {group}"]
        ratio = published.estimates[f"impact ratio {group}"]
        table.add_row(
            group,
            "n/a" if rate is None else f"{rate:.3f}",
            "n/a" if ratio is None else f"{ratio:.2f}",
            f"{scale:.3g}",
        )
    console.print(table)
    console.print(
        f"{published.mechanism} noise (OpenDP), epsilon {published.epsilon:g} per release; "
        f"budget of {left.dataset}: {left.epsilon_spent:g} of {left.epsilon_total:g} spent, "
        f"{left.epsilon_remaining:g} left (the exact numbers stay in the LL144 audit)"
    )
