"""Governance commands: ``init``, ``system``, ``model``, ``evidence``, ``lineage``, ``promote``,
``rollback`` (datasets are in ``trustops dataset``, the audit log in ``trustops audit``).

Each opens the workspace's store (found by walking up from the current
directory, or ``--workspace``/``TRUSTOPS_WORKSPACE``) with the settings
precedence of :mod:`trustops.governance.workspace`: the root options
``--database-url`` and ``--actor`` beat ``TRUSTOPS_*`` variables, which beat
``.trustops/config.toml``.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from trustops.cli import app
from trustops.errors import InputError, UsageError

__all__ = ["print_json", "registry_from"]

system_app = typer.Typer(help="AI systems: create and list.", no_args_is_help=True)
model_app = typer.Typer(help="Model versions: register and list.", no_args_is_help=True)
evidence_app = typer.Typer(help="Evidence records: add and list.", no_args_is_help=True)
app.add_typer(system_app, name="system")
app.add_typer(model_app, name="model")
app.add_typer(evidence_app, name="evidence")


def print_json(value: Any) -> None:
    """Print ``value`` as indented JSON on stdout."""
    typer.echo(json.dumps(value, indent=2, ensure_ascii=False, default=str))


def _root_options(ctx: typer.Context) -> dict[str, Any]:
    obj = ctx.find_root().obj
    return obj if isinstance(obj, dict) else {}


@contextlib.contextmanager
def registry_from(ctx: typer.Context) -> Iterator[Any]:
    """The registry of the current workspace, with the root options applied; closed after."""
    from trustops.governance import Registry, find_workspace
    from trustops.governance.workspace import WorkspaceError, load_settings

    options = _root_options(ctx)
    where = options.get("workspace") or os.environ.get("TRUSTOPS_WORKSPACE")
    workspace = find_workspace(where)
    if where and workspace is None:
        raise WorkspaceError(f"no trustops workspace at or above {where}")
    settings = load_settings(
        workspace,
        overrides={"database_url": options.get("database_url"), "actor": options.get("actor")},
    )
    registry = Registry.open(settings=settings)
    try:
        yield registry
    finally:
        for warning in [*registry.warnings, *registry.audit.warnings]:
            typer.echo(f"warning: {warning}", err=True)
        registry.close()


@app.command("init")
def init(
    ctx: typer.Context,
    directory: Annotated[
        Path | None, typer.Argument(help="Where to create .trustops (default: here).")
    ] = None,
) -> None:
    """Create a workspace (.trustops/: config, SQLite store, artifacts, signing key).

    Running it again changes nothing. Prints the verifier key to publish.

    Example: trustops init
    """
    from trustops.governance import Registry
    from trustops.governance.workspace import init_workspace, load_settings

    options = _root_options(ctx)
    ws = init_workspace(directory, actor=options.get("actor"))
    settings = load_settings(
        ws, overrides={"database_url": options.get("database_url"), "actor": options.get("actor")}
    )
    with Registry.open(settings=settings) as reg:
        vkey = reg.audit.verifier()
        origin = reg.audit.origin
    err = Console(stderr=True)
    err.print(f"workspace: {ws.path}")
    err.print(f"audit log: {origin}")
    if vkey:
        err.print("publish this verifier key (trustops audit pubkey prints it again):")
        typer.echo(vkey)


@system_app.command("create")
def system_create(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The system's name, e.g. credit-scoring.")],
    owner: Annotated[str | None, typer.Option("--owner", help="Accountable owner.")] = None,
    purpose: Annotated[str | None, typer.Option("--purpose", help="Intended purpose.")] = None,
    risk: Annotated[
        str | None,
        typer.Option("--risk", help="EU AI Act risk: prohibited, high, limited or minimal."),
    ] = None,
    use_case: Annotated[
        str | None, typer.Option("--use-case", help="Use case, e.g. credit, employment.")
    ] = None,
    jurisdiction: Annotated[
        list[str] | None,
        typer.Option("--jurisdiction", help="Where it is used, e.g. EU, US-NY (repeatable)."),
    ] = None,
    allow_multiple_production: Annotated[
        bool,
        typer.Option(
            "--allow-multiple-production", help="Allow several model versions in production."
        ),
    ] = False,
) -> None:
    """Register an AI system.

    Example: trustops system create credit-scoring --owner risk-team --risk high --use-case credit
    """
    with registry_from(ctx) as reg:
        system = reg.create_system(
            name,
            owner=owner,
            purpose=purpose,
            use_case=use_case,
            risk=risk,
            jurisdictions=jurisdiction or [],
            single_production=not allow_multiple_production,
        )
    typer.echo(f"created system {system.name}")


@system_app.command("list")
def system_list(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List AI systems."""
    with registry_from(ctx) as reg:
        systems = reg.systems()
    if as_json:
        print_json([s.to_dict() for s in systems])
        return
    table = Table("system", "owner", "risk", "use case", "jurisdictions", "created")
    for s in systems:
        table.add_row(
            s.name, s.owner or "", s.risk or "", s.use_case or "", ", ".join(s.jurisdictions),
            s.created_at,
        )  # fmt: skip
    Console().print(table)


def _key_values(pairs: list[str] | None, option: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise UsageError(f"{option} takes KEY=VALUE, got {pair!r}")
        try:
            out[key] = json.loads(value)
        except ValueError:
            out[key] = value
    return out


@model_app.command("register")
def model_register(
    ctx: typer.Context,
    artifact: Annotated[Path, typer.Argument(help="The model file (never loaded or run).")],
    system: Annotated[str, typer.Option("--system", help="The AI system it belongs to.")],
    trained_on: Annotated[
        list[str] | None,
        typer.Option(
            "--trained-on",
            help="Training data: NAME@VERSION, NAME (latest) or a registered file (repeatable).",
        ),
    ] = None,
    evaluated_on: Annotated[
        list[str] | None,
        typer.Option("--evaluated-on", help="Evaluation data, as --trained-on (repeatable)."),
    ] = None,
    name: Annotated[
        str | None, typer.Option("--name", help="Model name (default: the file's stem).")
    ] = None,
    framework: Annotated[
        str | None, typer.Option("--framework", help="e.g. scikit-learn 1.5.")
    ] = None,
    param: Annotated[
        list[str] | None, typer.Option("--param", help="A parameter KEY=VALUE (repeatable).")
    ] = None,
    metric: Annotated[
        list[str] | None, typer.Option("--metric", help="A metric KEY=VALUE (repeatable).")
    ] = None,
    parent: Annotated[
        str | None, typer.Option("--parent", help="The version this one was derived from.")
    ] = None,
    no_commit: Annotated[
        bool, typer.Option("--no-commit", help="Do not record the git revision.")
    ] = False,
    purpose: Annotated[
        str | None,
        typer.Option(
            "--purpose",
            help="Why the data is used (default: the workspace's privacy.purpose); checked "
            "against each dataset's permitted purposes and recorded.",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the record as JSON.")] = False,
) -> None:
    """Register a model artifact as the next version of a model (stage: development).

    Example: trustops model register model.pkl --system credit-scoring --trained-on train@1
    """
    with registry_from(ctx) as reg:
        mv = reg.register_model(
            artifact,
            system=system,
            name=name,
            trained_on=trained_on or [],
            evaluated_on=evaluated_on or [],
            framework=framework,
            parameters=_key_values(param, "--param"),
            metrics=_key_values(metric, "--metric"),
            parent=parent,
            code_commit=None if no_commit else "auto",
            purpose=purpose,
        )
    if as_json:
        print_json(mv.to_dict())
    else:
        commit = f"  commit {mv.code_commit[:12]}" if mv.code_commit else ""
        typer.echo(f"{mv.ref}  sha256:{mv.artifact_hash}{commit}")


@model_app.command("list")
def model_list(
    ctx: typer.Context,
    system: Annotated[str | None, typer.Option("--system", help="Only this system's.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List model versions and their stages."""
    with registry_from(ctx) as reg:
        found = reg.models(system=system)
    if as_json:
        print_json([m.to_dict() for m in found])
        return
    table = Table("system", "model", "stage", "trained on", "sha256", "registered")
    for m in found:
        table.add_row(
            m.system, m.ref, m.stage, ", ".join(m.trained_on), m.artifact_hash[:16], m.created_at
        )
    Console().print(table)


@evidence_app.command("add")
def evidence_add(
    ctx: typer.Context,
    file: Annotated[
        Path, typer.Argument(help="A JSON file (e.g. trustops fairness --format json).")
    ],
    kind: Annotated[str, typer.Option("--kind", help="fairness, drift, quality, ...")],
    subject: Annotated[
        str,
        typer.Option(
            "--subject", help="MODEL@VERSION, or dataset:SYSTEM/NAME@VERSION for a dataset."
        ),
    ],
) -> None:
    """Record an assessment's JSON output as immutable evidence.

    Example: trustops evidence add fairness.json --kind fairness --subject scorer@1
    """
    try:
        content = json.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{file} not found") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError(f"{file} is not JSON: {exc}") from None
    with registry_from(ctx) as reg:
        record = reg.record_evidence(kind, subject, content)
    typer.echo(
        f"evidence {record.id}  {record.kind}  {record.subject}  sha256:{record.content_hash}"
    )


@evidence_app.command("list")
def evidence_list(
    ctx: typer.Context,
    subject: Annotated[
        str | None, typer.Option("--subject", help="Only about this model/dataset version.")
    ] = None,
    kind: Annotated[str | None, typer.Option("--kind", help="Only of this kind.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON, content included.")] = False,
) -> None:
    """List evidence records."""
    with registry_from(ctx) as reg:
        found = reg.evidence(subject=subject, kind=kind)
    if as_json:
        print_json([e.to_dict() for e in found])
        return
    table = Table("id", "kind", "subject", "sha256", "recorded", "by")
    for e in found:
        table.add_row(str(e.id), e.kind, e.subject, e.content_hash[:16], e.created_at, e.created_by)
    Console().print(table)


@app.command("lineage")
def lineage(
    ctx: typer.Context,
    model: Annotated[
        str,
        typer.Argument(
            help="MODEL@VERSION (or SYSTEM/MODEL@VERSION); dataset:SYSTEM/NAME@VERSION for the "
            "model versions that used a dataset version."
        ),
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """What data (transitively) trained a model version; or which model versions used a dataset.

    Example: trustops lineage scorer@2; trustops lineage dataset:credit-scoring/train@1
    """
    if model.startswith("dataset:"):
        system, sep, ref = model.removeprefix("dataset:").partition("/")
        if not sep or not ref:
            raise UsageError(f"{model!r}: write dataset:SYSTEM/NAME@VERSION")
        with registry_from(ctx) as reg:
            users = reg.used_by(ref, system=system)
        if as_json:
            print_json([m.to_dict() for m in users])
            return
        table = Table("model version", "stage", "trained on", "sha256", title=f"used {ref}")
        for m in users:
            table.add_row(m.ref, m.stage, ", ".join(m.trained_on), m.artifact_hash[:16])
        Console().print(table)
        return
    with registry_from(ctx) as reg:
        found = reg.lineage(model)
    if as_json:
        print_json(found.to_dict())
        return
    from rich.tree import Tree

    m = found.model
    tree = Tree(f"[bold]{m.system}/{m.ref}[/] ({m.stage}) sha256:{m.artifact_hash[:16]}")
    data = tree.add("trained on (transitively)")
    for d in found.datasets:
        parents = f" ← {', '.join(d.parents)}" if d.parents else ""
        data.add(f"{d.ref}  {d.row_count:,} rows  sha256:{d.content_hash[:16]}{parents}")
    if found.evaluated_on:
        ev = tree.add("evaluated on")
        for d in found.evaluated_on:
            ev.add(f"{d.ref}  sha256:{d.content_hash[:16]}")
    if found.ancestors:
        anc = tree.add("derived from")
        for a in found.ancestors:
            anc.add(f"{a.ref}  sha256:{a.artifact_hash[:16]}")
    Console().print(tree)


def _print_plan(plan: list[Any], receipt: Any) -> None:
    for step in plan:
        typer.echo(f"{step.version}: {step.source} → {step.target} ({step.action})")
    if receipt is not None:
        typer.echo(f"audit entry {receipt.seq}  leaf {receipt.leaf_hash}")


@app.command("promote")
def promote(
    ctx: typer.Context,
    model: Annotated[str, typer.Argument(help="MODEL@VERSION (or SYSTEM/MODEL@VERSION).")],
    to: Annotated[str, typer.Option("--to", help="development, staging, production or archived.")],
    reason: Annotated[str | None, typer.Option("--reason", help="Why, for the audit log.")] = None,
    policy: Annotated[
        str | None,
        typer.Option(
            "--policy",
            help="Promote only if this policy (file or pack) passes; the decision is recorded.",
        ),
    ] = None,
) -> None:
    """Move a model version to a stage (promotion to production supersedes the current one).

    With --policy the version's evidence is evaluated first; a blocking decision
    refuses the promotion (exit 1) and is recorded like the passing one.

    Example: trustops promote scorer@2 --to production --policy eeoc-four-fifths
    """
    with registry_from(ctx) as reg:
        if policy is not None:
            from trustops.policy import load_policy
            from trustops.reports.policy import rich_table

            loaded = load_policy(policy)
            decision = reg.evaluate_policy(loaded, model)
            if decision.blocked:
                Console(stderr=True).print(rich_table(decision))
                typer.echo(
                    f"blocked: policy {loaded.name} fails for {decision.subject}; not promoted",
                    err=True,
                )
                raise typer.Exit(1)
            reason = reason or f"policy {loaded.name} {decision.outcome}"
        plan = reg.promote(model, to, reason=reason)
        receipt = reg.last_receipt
    _print_plan(plan, receipt)


@app.command("rollback")
def rollback(
    ctx: typer.Context,
    system: Annotated[str, typer.Argument(help="The AI system.")],
    reason: Annotated[str | None, typer.Option("--reason", help="Why, for the audit log.")] = None,
) -> None:
    """Put the previous production version of a system back in production.

    Example: trustops rollback credit-scoring --reason "drift alert"
    """
    with registry_from(ctx) as reg:
        plan = reg.rollback(system, reason=reason)
        receipt = reg.last_receipt
    _print_plan(plan, receipt)
