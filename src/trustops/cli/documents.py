"""``trustops report model-card | datasheet | annex-iv | eeoc | gdpr-art30``.

Each renders one document of :mod:`trustops.reports.documents` from the
workspace's registry and evidence, writes it to ``-o FILE`` (Markdown, HTML, or PDF
with the ``pdf`` extra), and records it as ``report`` evidence (its bytes in the
artifact store) unless ``--no-record``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from trustops.cli.registry import registry_from
from trustops.cli.report import report_app
from trustops.errors import InputError

__all__: list[str] = []

_SUFFIXES = {".html": "html", ".htm": "html", ".pdf": "pdf"}

Output = Annotated[
    Path, typer.Option("--output", "-o", help="The file to write.", show_default=False)
]
Format = Annotated[
    str | None,
    typer.Option(
        "--format",
        help="markdown, html or pdf (pdf needs pip install 'trustops[pdf]'; "
        "default: from a .html or .pdf file name, else markdown).",
    ),
]
Date = Annotated[
    str | None,
    typer.Option(
        "--date", help="The date the document speaks for, YYYY-MM-DD (default: its newest record)."
    ),
]
NoRecord = Annotated[
    bool,
    typer.Option("--no-record", help="Do not store the document as report evidence."),
]
Model = Annotated[
    str,
    typer.Option("--model", help="MODEL@VERSION or SYSTEM/MODEL@VERSION.", show_default=False),
]


def _write(
    ctx: typer.Context,
    kind: str,
    output: Path,
    fmt: str | None,
    date: str | None,
    no_record: bool,
    **subject: Any,
) -> None:
    from trustops.reports.documents import render_document

    if fmt is None:
        fmt = _SUFFIXES.get(output.suffix.lower(), "markdown")
    if not output.parent.is_dir():  # before anything is recorded
        raise InputError(f"cannot write {output}: no folder {output.parent}")
    with registry_from(ctx) as reg:
        doc = render_document(reg, kind, fmt=fmt, date=date, record=not no_record, **subject)
        try:
            output.write_bytes(doc.data)
        except OSError as exc:
            raise InputError(f"cannot write {output}: {exc.strerror or exc}") from None
    missing = f"{len(doc.missing)} item(s) MISSING" if doc.missing else "nothing MISSING"
    if doc.evidence:
        stored = "recorded as evidence " + ", ".join(f"#{e.id}" for e in doc.evidence)
    elif no_record:
        stored = "not recorded"
    else:
        stored = "not recorded: the system has no dataset version to record it on"
    typer.echo(f"{output}: {doc.subject} {fmt}, sha256:{doc.sha256}; {missing}; {stored}")


@report_app.command("model-card")
def model_card(
    ctx: typer.Context,
    model: Model,
    output: Output,
    fmt: Format = None,
    date: Date = None,
    no_record: NoRecord = False,
) -> None:
    """Model card of a model version (after Mitchell et al. 2019).

    Model details, intended and out-of-scope uses, factors, training and evaluation
    data, metrics overall and by group with intervals, ethical considerations, caveats.

    Example: trustops report model-card --model scorer@1 -o model-card.md
    """
    _write(ctx, "model_card", output, fmt, date, no_record, model=model)


@report_app.command("datasheet")
def datasheet(
    ctx: typer.Context,
    dataset: Annotated[
        str, typer.Option("--dataset", help="SYSTEM/NAME@VERSION.", show_default=False)
    ],
    output: Output,
    fmt: Format = None,
    date: Date = None,
    no_record: NoRecord = False,
) -> None:
    """Datasheet of a dataset version (after Gebru et al.).

    Motivation, composition (schema, profile, representation of protected groups),
    collection, preprocessing, uses, distribution, maintenance, personal data.

    Example: trustops report datasheet --dataset credit-scoring/train@1 -o datasheet.md
    """
    _write(ctx, "datasheet", output, fmt, date, no_record, dataset=dataset)


@report_app.command("annex-iv")
def annex_iv(
    ctx: typer.Context,
    model: Model,
    output: Output,
    fmt: Format = None,
    date: Date = None,
    no_record: NoRecord = False,
) -> None:
    """EU AI Act Annex IV technical documentation of a model version.

    The nine headings, filled from the registry and evidence; MISSING where evidence is
    absent, naming the evidence kind that would fill it.

    Example: trustops report annex-iv --model scorer@1 -o annex-iv.html
    """
    _write(ctx, "annex_iv", output, fmt, date, no_record, model=model)


@report_app.command("eeoc")
def eeoc(
    ctx: typer.Context,
    model: Model,
    output: Output,
    fmt: Format = None,
    date: Date = None,
    no_record: NoRecord = False,
) -> None:
    """EEOC adverse-impact report of a model version (four-fifths rule).

    Per attribute: selection rates, impact ratios, z and Fisher p-values, shortfall,
    against the threshold, from the model's fairness evidence.

    Example: trustops report eeoc --model scorer@1 -o eeoc.md
    """
    _write(ctx, "eeoc", output, fmt, date, no_record, model=model)


@report_app.command("gdpr-art30")
def gdpr_art30(
    ctx: typer.Context,
    system: Annotated[str, typer.Option("--system", help="The AI system.", show_default=False)],
    output: Output,
    fmt: Format = None,
    date: Date = None,
    no_record: NoRecord = False,
) -> None:
    """GDPR Art. 30 record of processing activities of a system.

    Items (a)-(g) for each dataset version holding personal data; missing items marked.

    Example: trustops report gdpr-art30 --system credit-scoring -o ropa.md
    """
    _write(ctx, "gdpr_art30", output, fmt, date, no_record, system=system)
