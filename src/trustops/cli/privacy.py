"""``trustops privacy``: data-usage records, erasure requests, the Art. 30 record, reviews.

The group object :data:`privacy_app` is importable: other modules add their
commands to it (``cli/protection.py``: ``budget``, ``pseudonymise``,
``rotate-key``, ...), each listed in ``_register`` of :mod:`trustops.cli`.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from trustops.cli import app
from trustops.cli.registry import print_json, registry_from

__all__ = ["privacy_app"]

privacy_app = typer.Typer(
    help="Privacy: data-usage records, erasure requests, the GDPR Art. 30 record, reviews of "
    "automated decisions, privacy budgets and keys.",
    no_args_is_help=True,
)
app.add_typer(privacy_app, name="privacy")


@privacy_app.command("usage")
def usage_command(
    ctx: typer.Context,
    system: Annotated[str | None, typer.Option("--system", help="Only this system's.")] = None,
    dataset: Annotated[
        str | None, typer.Option("--dataset", help="Only this dataset version (with --system).")
    ] = None,
    purpose: Annotated[str | None, typer.Option("--purpose", help="Only this purpose.")] = None,
    within_days: Annotated[
        int,
        typer.Option("--within-days", min=0, help="Warn of retention ending within N days."),
    ] = 30,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List recorded reads of registered datasets, and retention warnings.

    Example: trustops privacy usage --system credit-scoring
    """
    from trustops.governance.usage import retention_warnings, uses

    with registry_from(ctx) as reg:
        found = uses(reg, system=system, dataset=dataset, purpose=purpose)
        warnings = retention_warnings(reg, system=system, within_days=within_days)
    if as_json:
        print_json(
            {"uses": [u.to_dict() for u in found], "retention": [w.to_dict() for w in warnings]}
        )
        return
    from rich.table import Table

    table = Table("dataset", "use", "purpose", "lawful basis", "by", "when", "used by", "outcome")
    for u in found:
        table.add_row(
            u.dataset, u.use, u.purpose or "—", u.lawful_basis or "—", u.created_by,
            u.created_at, u.used_by or "—", u.outcome,
        )  # fmt: skip
    console = Console()
    console.print(table)
    err = Console(stderr=True)
    for w in warnings:
        err.print(f"warning: {w.message()}", markup=False)


@privacy_app.command("erasure")
def erasure_command(
    ctx: typer.Context,
    subject_ids: Annotated[
        Path,
        typer.Option("--subject-ids", help="A text file of subject ids, one a line."),
    ],
    reference: Annotated[
        str | None, typer.Option("--reference", help="The request's case number (audited).")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show the impact; record nothing.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Find the dataset and model versions holding these people (GDPR Art. 17), record the
    request and its steps, and mark the model versions "retraining required".

    Example: trustops privacy erasure --subject-ids erase.txt --reference case-2026-17
    """
    from trustops.privacy.erasure import erasure_impact, request_erasure

    with registry_from(ctx) as reg:
        if dry_run:
            done = erasure_impact(reg, subject_ids)
        else:
            done = request_erasure(reg, subject_ids, reference=reference)
    if as_json:
        print_json(done.to_dict())
        return
    what = "would touch" if dry_run else f"request {done.id} recorded; it touches"
    typer.echo(f"{done.found} of {done.subjects} subjects found; {what}:")
    for label, n in done.datasets.items():
        typer.echo(f"  erase from source  {label}  ({n} subjects)")
    for label in done.derived:
        typer.echo(f"  review derived     {label}")
    for label in done.models:
        typer.echo(f"  retrain            {label}")


class RecordFormat(StrEnum):
    markdown = "markdown"
    html = "html"
    pdf = "pdf"


@privacy_app.command("record")
def record_command(
    ctx: typer.Context,
    system: Annotated[str, typer.Option("--system", help="The AI system.")],
    fmt: Annotated[
        RecordFormat, typer.Option("--format", help="markdown (default), html or pdf.")
    ] = RecordFormat.markdown,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to this file.")
    ] = None,
    no_record: Annotated[
        bool, typer.Option("--no-record", help="Do not store the document as report evidence.")
    ] = False,
) -> None:
    """The GDPR Art. 30 record of processing activities of a system (items (a)-(g)).

    Example: trustops privacy record --system credit-scoring -o ropa.md
    """
    from trustops.reports.documents import render_document

    with registry_from(ctx) as reg:
        doc = render_document(reg, "gdpr_art30", system=system, fmt=fmt.value, record=not no_record)
    if output is not None:
        output.write_bytes(doc.data)
        Console(stderr=True).print(f"wrote {output} ({len(doc.missing)} items MISSING)")
    elif fmt is RecordFormat.pdf:
        from trustops.errors import UsageError

        raise UsageError("a PDF goes to a file: add --output FILE")
    else:
        typer.echo(doc.text)


@privacy_app.command("subject-key")
def subject_key_command(
    ctx: typer.Context,
    path: Annotated[
        Path | None,
        typer.Option("--path", help="Where (default: subject.key in the workspace folder)."),
    ] = None,
) -> None:
    """Create the secret key that hashes subject ids (readable only by its owner).

    Example: trustops privacy subject-key
    """
    from trustops.errors import UsageError
    from trustops.governance import find_workspace
    from trustops.governance.subjects import create_subject_key

    if path is None:
        where = (ctx.obj or {}).get("workspace")
        ws = find_workspace(where)
        if ws is None:
            raise UsageError("no trustops workspace here", hint="run `trustops init`, or --path")
        path = ws.path / "subject.key"
    if path.exists():
        raise UsageError(f"{path} exists: a new key would orphan the subject index built with it")
    create_subject_key(path)
    typer.echo(f"wrote {path} (keep a copy outside this machine: lost, it cannot be re-made)")


review_app = typer.Typer(
    help="Human review of automated decisions (GDPR Art. 22): request, queue, decide.",
    no_args_is_help=True,
)
privacy_app.add_typer(review_app, name="review")


def _show_review(found: object, as_json: bool) -> None:
    data = found.to_dict()  # type: ignore[attr-defined]
    if as_json:
        print_json(data)
        return
    reviewer = data["reviewer"] or "unassigned"
    outcome = f", {data['outcome']} by {data['decided_by']}" if data["outcome"] else ""
    typer.echo(
        f"review {data['id']}: {data['model']} prediction {data['prediction_id']} — "
        f"{data['status']} ({reviewer}{outcome})"
    )


@review_app.command("request")
def review_request_command(
    ctx: typer.Context,
    model: Annotated[str, typer.Option("--model", help="SYSTEM/NAME@VERSION that decided.")],
    prediction_id: Annotated[str, typer.Option("--prediction-id", help="The decision's id.")],
    statement: Annotated[
        str | None, typer.Option("--statement", help="The person's view (kept out of the log).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Record a request for human review of an automated decision (its prediction id).

    Example: trustops privacy review request --model credit-scoring/scorer@1 --prediction-id 17
    """
    from trustops.privacy.review import request_review

    with registry_from(ctx) as reg:
        found = request_review(reg, model=model, prediction_id=prediction_id, statement=statement)
    _show_review(found, as_json)


@review_app.command("list")
def review_list_command(
    ctx: typer.Context,
    system: Annotated[str | None, typer.Option("--system", help="Only this system's.")] = None,
    status: Annotated[
        str | None, typer.Option("--status", help="open, assigned or decided.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """The reviewers' queue: review requests, oldest first."""
    from trustops.privacy.review import reviews

    with registry_from(ctx) as reg:
        found = reviews(reg, system=system, status=status)
    if as_json:
        print_json([r.to_dict() for r in found])
        return
    for r in found:
        _show_review(r, False)


@review_app.command("show")
def review_show_command(
    ctx: typer.Context,
    request_id: Annotated[int, typer.Argument(help="The review request's number.")],
) -> None:
    """A request with the explanation evidence at hand (JSON)."""
    from trustops.privacy.review import review, review_evidence

    with registry_from(ctx) as reg:
        found = review(reg, request_id)
        evidence = review_evidence(reg, request_id)
    print_json({**found.to_dict(), "evidence_at_hand": evidence})


@review_app.command("assign")
def review_assign_command(
    ctx: typer.Context,
    request_id: Annotated[int, typer.Argument(help="The review request's number.")],
    reviewer: Annotated[str, typer.Option("--reviewer", help="Who reviews it.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Route a request to a reviewer."""
    from trustops.privacy.review import assign_review

    with registry_from(ctx) as reg:
        found = assign_review(reg, request_id, reviewer)
    _show_review(found, as_json)


@review_app.command("decide")
def review_decide_command(
    ctx: typer.Context,
    request_id: Annotated[int, typer.Argument(help="The review request's number.")],
    outcome: Annotated[str, typer.Option("--outcome", help="upheld, overturned or amended.")],
    rationale: Annotated[str, typer.Option("--rationale", help="Why (kept out of the log).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Record the human reviewer's decision, with the evidence at hand (the actor decides)."""
    from trustops.privacy.review import decide_review

    with registry_from(ctx) as reg:
        found = decide_review(reg, request_id, outcome=outcome, rationale=rationale)
    _show_review(found, as_json)
