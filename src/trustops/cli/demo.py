"""``trustops demo``: the end-to-end tour on synthetic credit data with an injected bias."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from trustops.cli import app
from trustops.errors import UnsupportedError


@app.command()
def demo(
    output: Annotated[
        Path, typer.Option("--output", "-o", help="Folder for the demo's files.")
    ] = Path("demo-output"),
    rows: Annotated[int, typer.Option("--rows", min=1000, help="Applicants to generate.")] = 20_000,
    seed: Annotated[int, typer.Option("--seed", help="Seed of data, split and bootstrap.")] = 42,
    bootstrap: Annotated[
        int, typer.Option("--bootstrap", min=0, help="Bootstrap resamples.")
    ] = 1000,
) -> None:
    """Generate biased credit data, train a model, assess it, write JSON and HTML reports."""
    try:
        import pandas as pd
        from sklearn.linear_model import LogisticRegression
        from sklearn.model_selection import train_test_split
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler
    except ImportError as exc:
        raise UnsupportedError(
            f"the demo needs {exc.name}", hint="pip install 'trustops[demo]'"
        ) from None

    from trustops.assess import assess_fairness
    from trustops.datasets import CREDIT_FEATURES, make_credit
    from trustops.engines.files import write_table
    from trustops.reports.fairness import fmt_p, rich_tables, to_html, to_json, to_markdown

    console = Console()
    output.mkdir(parents=True, exist_ok=True)
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as progress:
        step = progress.add_task(f"Generating {rows:,} credit applicants…", total=None)
        data = pd.DataFrame(make_credit(rows, seed=seed))
        train, test = train_test_split(
            data, test_size=0.3, random_state=seed, stratify=data["race"]
        )
        progress.update(step, description="Training a logistic regression on past decisions…")
        features = list(CREDIT_FEATURES)  # no sex or race: bias comes in through the data
        model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
        model.fit(train[features], train["approved"])
        test = test.assign(
            score=model.predict_proba(test[features])[:, 1],
            prediction=model.predict(test[features]),
        )
        progress.update(
            step, description=f"Assessing fairness ({bootstrap:,} bootstrap resamples)…"
        )
        report = assess_fairness(
            test,
            y_true="repaid",
            y_pred="prediction",
            score="score",
            sensitive=["race", "sex"],
            privileged={"race": "A"},
            bootstrap=bootstrap,
            seed=seed,
        )
        progress.update(step, description="Writing reports…")
        import pyarrow as pa

        write_table(pa.Table.from_pandas(test, preserve_index=False), output / "predictions.csv")
        (output / "fairness.json").write_text(to_json(report), encoding="utf-8")
        (output / "fairness.md").write_text(to_markdown(report), encoding="utf-8")
        (output / "fairness.html").write_text(
            to_html(report, title="trustops demo: credit approvals"), encoding="utf-8"
        )

    console.rule("[bold]trustops demo: a credit model trained on biased past decisions")
    for table in rich_tables(report):
        console.print(table)
    for b in report.breakdowns:
        for row in b.four_fifths:
            if row["below_threshold"]:
                group = ", ".join(f"{k}={v}" for k, v in row["group"].items())
                console.print(
                    "[bold red]four-fifths rule:[/] "
                    + escape(
                        f"impact_ratio[{group}] = {row['impact_ratio']:.3f} < "
                        f"{report.four_fifths_threshold:.2f} "
                        f"(n={row['count']:,}, Fisher p={fmt_p(row['fisher_p_value'])}, "
                        f"{row['shortfall']} more approvals needed)"
                    )
                )
    di = report.aggregates.get("disparate_impact")
    if di is not None:
        console.print(f"disparate impact (AIF360, unprivileged / race=A): {di:.3f}")
    console.print(
        f"\nReports written to [bold]{output}/[/]: fairness.json, fairness.md, "
        "fairness.html, predictions.csv"
    )
