"""``trustops check``: gate CI or a promotion on a policy.

Exit codes: 0 the policy passes (warnings allowed), 1 it blocks, 2 a usage
or input error — a bad policy (with file, line and column), a missing
column, an unknown model. With ``--model`` the evidence recorded for that
version (and for its training and evaluation data) is evaluated, and the
decision is recorded in the registry as evidence with its audit entry; with
``--data`` the fairness evidence is computed from the file first, so the
gate also works without a registry.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from trustops.cli import app
from trustops.errors import UsageError

__all__ = ["check"]


class CheckFormat(StrEnum):
    table = "table"
    json = "json"
    junit = "junit"
    markdown = "markdown"


def _as_of(text: str | None) -> datetime:
    if text is None:
        return datetime.now(UTC)
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise UsageError(f"--as-of must be an ISO 8601 time, got {text!r}") from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _registered_read(
    ctx: typer.Context, data: Path, system: str | None, model: str | None, purpose: str | None
) -> Any:
    """The purpose-checked read of ``data`` when it is a registered version of the system's
    data (None when it is not registered); refused without a permitted purpose."""
    from trustops.cli.registry import registry_from
    from trustops.governance.usage import plan_file_read

    with registry_from(ctx) as reg:
        where = system or reg.model(model or "").system
        return plan_file_read(reg, data, system=where, use="assessment", purpose=purpose)


@app.command("check")
def check(
    ctx: typer.Context,
    policy: Annotated[
        str,
        typer.Option(
            "--policy", help="A policy YAML file, or a pack name (eeoc-four-fifths, ...)."
        ),
    ],
    model: Annotated[
        str | None, typer.Option("--model", help="Evaluate the evidence of MODEL@VERSION.")
    ] = None,
    data: Annotated[
        Path | None,
        typer.Option("--data", help="Or compute fairness evidence from this CSV/Parquet file."),
    ] = None,
    y_true: Annotated[str | None, typer.Option("--y-true", help="With --data: labels.")] = None,
    y_pred: Annotated[
        str | None, typer.Option("--y-pred", help="With --data: predictions.")
    ] = None,
    sensitive: Annotated[
        list[str] | None,
        typer.Option("--sensitive", help="With --data: a sensitive attribute (repeatable)."),
    ] = None,
    score: Annotated[str | None, typer.Option("--score", help="With --data: scores.")] = None,
    privileged: Annotated[
        list[str] | None,
        typer.Option("--privileged", help="With --data: ATTR=VALUE (AIF360 comparison)."),
    ] = None,
    system: Annotated[
        str | None,
        typer.Option("--system", help="With --data: the registered AI system, for applies_to."),
    ] = None,
    sex: Annotated[
        str | None, typer.Option("--sex", help="With --data: sex column, for an LL144 audit.")
    ] = None,
    race: Annotated[
        str | None,
        typer.Option("--race", help="With --data: race/ethnicity column, for an LL144 audit."),
    ] = None,
    output_format: Annotated[
        CheckFormat, typer.Option("--format", help="table, json, junit or markdown.")
    ] = CheckFormat.table,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the output to this file.")
    ] = None,
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="Evaluate as of this time (ISO 8601; default: now)."),
    ] = None,
    no_record: Annotated[
        bool, typer.Option("--no-record", help="Do not record the decision in the registry.")
    ] = False,
    purpose: Annotated[
        str | None,
        typer.Option(
            "--purpose",
            help="With --data of a registered dataset: why it is read (default: the "
            "workspace's privacy.purpose); checked and recorded.",
        ),
    ] = None,
) -> None:
    """Evaluate a policy; exit 1 when it blocks.

    Example: trustops check --policy eeoc-four-fifths --model scorer@2 --format junit -o policy.xml
    """
    from trustops.core.policy import Context, EvidenceItem, check_scopes, evaluate
    from trustops.policy import load_policy
    from trustops.reports.policy import rich_table, to_json, to_junit, to_markdown

    if model is None and data is None:
        raise UsageError("say what to check: --model MODEL@VERSION and/or --data FILE")
    loaded = load_policy(policy)
    needed = {r.evidence for r in loaded.rules if r.kind in ("metric", "evidence")}
    audit_ll144 = data is not None and "ll144" in needed
    assess = data is not None and ("fairness" in needed or not audit_ll144)
    if assess and not (y_true and y_pred and sensitive):
        raise UsageError("--data needs --y-true, --y-pred and at least one --sensitive")
    if audit_ll144 and not (sex and race and (y_pred or score)):
        raise UsageError(
            f"policy {loaded.name} needs an LL144 audit: --data with --sex, --race and "
            "--y-pred (selected) or --score"
        )
    now = _as_of(as_of)
    evidence: list[Any] = []
    subject = None
    registry_ctx = None
    if model is not None or system is not None:
        from trustops.cli.registry import registry_from

        registry_ctx = registry_from(ctx)
    read = None  # a registered dataset version, read for this assessment (governance.usage)
    if data is not None and registry_ctx is not None:
        read = _registered_read(ctx, data, system, model, purpose)
    if data is not None:
        from trustops.engines.files import read_table

        columns = [y_true, y_pred, score, sex, race, *(sensitive or [])]
        with Console(stderr=True).status(f"Assessing {data.name}…"):
            table = read_table(data, columns=list(dict.fromkeys(c for c in columns if c)))
            if assess:
                from trustops.assess import assess_fairness

                report = assess_fairness(
                    table, y_true=y_true, y_pred=y_pred, sensitive=sensitive, score=score,
                    privileged=privileged or None,
                )  # fmt: skip
                evidence.append(
                    EvidenceItem("fairness", report.to_dict(), created_at=now.isoformat())
                )
            if audit_ll144:
                from trustops.ll144 import ll144_audit

                assert sex is not None and race is not None  # checked above
                audit = ll144_audit(
                    table, sex=sex, race=race, selected=None if score else y_pred, score=score
                )
                evidence.append(EvidenceItem("ll144", audit.to_dict(), created_at=now.isoformat()))
        subject = f"data:{data.name}"
    if read is not None:
        from trustops.cli.registry import registry_from
        from trustops.governance.usage import write_use

        with registry_from(ctx) as reg, reg.transaction() as change:
            write_use(change, read, used_by=f"trustops check --policy {loaded.name}")
    if registry_ctx is not None and model is not None:
        with registry_ctx as reg:
            decision = reg.evaluate_policy(
                loaded, model, now=now, extra_evidence=evidence, record=not no_record
            )
    else:
        parts: dict[str, Any] = {}
        if registry_ctx is not None:  # --system names the AI system for applies_to
            with registry_ctx as reg:
                parts = {"system": reg.system(system).to_dict()}
        check_scopes(loaded, evidence)
        decision = evaluate(loaded, evidence, Context(**parts, now=now, subject=subject))
    if not decision.applicable:
        Console(stderr=True).print(
            f"note: policy {decision.policy} does not apply here: {decision.reason}"
            + ("" if system or model else " (pass --system to name the AI system)")
        )
    if output_format is CheckFormat.table:
        console = Console(record=True, width=140, file=io.StringIO()) if output else Console()
        console.print(rich_table(decision))
        text = console.export_text() if output else ""
    elif output_format is CheckFormat.json:
        text = to_json(decision)
    elif output_format is CheckFormat.junit:
        text = to_junit(decision)
    else:
        text = to_markdown(decision)
    if output is not None:
        from trustops.engines.files import write_text

        write_text(output, text)
    elif text:
        typer.echo(text, nl=False)
    if decision.blocked:
        raise typer.Exit(1)
