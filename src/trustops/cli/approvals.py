"""``trustops approvals``: gates, four-eyes requests, votes and overrides from the terminal.

Requests, votes and overrides act for a person, so they need that person's
API token in ``TRUSTOPS_TOKEN`` (never on the command line, where other users
of the machine could read it); the audit log records that person as the
actor. Setting or removing a gate acts with the store's authority, like the
other governance commands, unless ``TRUSTOPS_TOKEN`` is set.
"""

from __future__ import annotations

import os
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from trustops.cli import app
from trustops.cli.registry import print_json, registry_from
from trustops.errors import UsageError

__all__: list[str] = []

approvals_app = typer.Typer(
    help="Four-eyes approval of promotions to production (docs/access-control.md).",
    no_args_is_help=True,
)
gate_app = typer.Typer(help="Which policy gates a system's production.", no_args_is_help=True)
app.add_typer(approvals_app, name="approvals")
approvals_app.add_typer(gate_app, name="gate")

TOKEN_VARIABLE = "TRUSTOPS_TOKEN"


def _principal(reg: Any, *, required: bool = True) -> Any:
    from trustops.governance.identity import Identity

    secret = os.environ.get(TOKEN_VARIABLE)
    if not secret:
        if not required:
            return None
        raise UsageError(
            f"set {TOKEN_VARIABLE} to your API token",
            hint="an administrator issues one: trustops admin token create USER",
        )
    return Identity(reg).authenticate(secret.strip())


def _approvals(reg: Any) -> Any:
    from trustops.governance.approvals import Approvals

    return Approvals(reg)


def _show_request(request: Any) -> None:
    need = ", ".join(
        f"{request.approved.get(role, 0)}/{n} {role}" for role, n in request.requirements.items()
    )
    typer.echo(f"request {request.id}  {request.ref}  {request.state}  ({need})")
    if request.invalid_because:
        typer.echo(f"  invalidated: {request.invalid_because}")


@gate_app.command("set")
def gate_set(
    ctx: typer.Context,
    system: Annotated[str, typer.Argument(help="The AI system.")],
    policy: Annotated[str, typer.Argument(help="A policy file or pack name.")],
) -> None:
    """Gate a system's promotions to production on a policy and its approvals: section.

    Example: trustops approvals gate set credit-scoring policy.yaml
    """
    from trustops.policy import load_policy

    loaded = load_policy(policy)
    with registry_from(ctx) as reg:
        gate = _approvals(reg).set_gate(system, loaded, principal=_principal(reg, required=False))
    need = ", ".join(f"{n} {role}" for role, n in gate.requirements.items())
    typer.echo(f"{system}: production needs policy {gate.policy} to pass and {need}")


@gate_app.command("remove")
def gate_remove(
    ctx: typer.Context,
    system: Annotated[str, typer.Argument(help="The AI system.")],
) -> None:
    """Remove a system's gate (recorded in the audit log).

    Example: trustops approvals gate remove credit-scoring
    """
    with registry_from(ctx) as reg:
        _approvals(reg).set_gate(system, None, principal=_principal(reg, required=False))
    typer.echo(f"{system}: no gate")


@gate_app.command("show")
def gate_show(
    ctx: typer.Context,
    system: Annotated[str, typer.Argument(help="The AI system.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show a system's gate."""
    with registry_from(ctx) as reg:
        gate = _approvals(reg).get_gate(system)
    if as_json:
        print_json(gate.to_dict() if gate else None)
    elif gate is None:
        typer.echo(f"{system}: no gate")
    else:
        need = ", ".join(f"{n} {role}" for role, n in gate.requirements.items())
        typer.echo(f"{system}: policy {gate.policy} (sha256:{gate.policy_hash[:16]}), {need}")


@approvals_app.command("request")
def approvals_request(
    ctx: typer.Context,
    model: Annotated[str, typer.Argument(help="MODEL@VERSION (or SYSTEM/MODEL@VERSION).")],
    comment: Annotated[str | None, typer.Option("--comment", help="For the reviewers.")] = None,
) -> None:
    """Ask for approval to put a model version into production (needs TRUSTOPS_TOKEN).

    Example: trustops approvals request scorer@2 --comment "retrained on Q3 data"
    """
    with registry_from(ctx) as reg:
        request = _approvals(reg).request(model, principal=_principal(reg), comment=comment)
    _show_request(request)


def _decide(ctx: typer.Context, request_id: int, approve: bool, comment: str) -> None:
    with registry_from(ctx) as reg:
        request = _approvals(reg).decide(
            request_id, principal=_principal(reg), approve=approve, comment=comment
        )
    _show_request(request)


@approvals_app.command("approve")
def approvals_approve(
    ctx: typer.Context,
    request_id: Annotated[int, typer.Argument(help="The request's number.")],
    comment: Annotated[str, typer.Option("--comment", help="What you checked (required).")],
) -> None:
    """Approve a request (not your own; needs TRUSTOPS_TOKEN).

    Example: trustops approvals approve 3 --comment "fairness evidence read"
    """
    _decide(ctx, request_id, True, comment)


@approvals_app.command("reject")
def approvals_reject(
    ctx: typer.Context,
    request_id: Annotated[int, typer.Argument(help="The request's number.")],
    comment: Annotated[str, typer.Option("--comment", help="Why (required).")],
) -> None:
    """Reject a request: it ends (needs TRUSTOPS_TOKEN).

    Example: trustops approvals reject 3 --comment "no model card"
    """
    _decide(ctx, request_id, False, comment)


@approvals_app.command("withdraw")
def approvals_withdraw(
    ctx: typer.Context,
    request_id: Annotated[int, typer.Argument(help="The request's number.")],
) -> None:
    """Take back your own request (needs TRUSTOPS_TOKEN)."""
    with registry_from(ctx) as reg:
        request = _approvals(reg).withdraw(request_id, principal=_principal(reg))
    _show_request(request)


@approvals_app.command("override")
def approvals_override(
    ctx: typer.Context,
    model: Annotated[str, typer.Argument(help="MODEL@VERSION (or SYSTEM/MODEL@VERSION).")],
    justification: Annotated[
        str, typer.Option("--justification", help="Why the failing decision is acceptable.")
    ],
) -> None:
    """Override a failing policy decision, with a written justification (compliance officer).

    Example: trustops approvals override scorer@2 --justification "..."
    """
    with registry_from(ctx) as reg:
        done = _approvals(reg).override(
            model, principal=_principal(reg), justification=justification
        )
    typer.echo(f"override {done.id}  {done.system}/{done.model}  decision {done.decision_id}")


@approvals_app.command("list")
def approvals_list(
    ctx: typer.Context,
    system: Annotated[
        list[str] | None, typer.Option("--system", help="Only these systems (repeatable).")
    ] = None,
    show_all: Annotated[bool, typer.Option("--all", help="Every state, not only pending.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List pending approval requests (--all: every request), newest first."""
    with registry_from(ctx) as reg:
        found = _approvals(reg).requests(
            systems=system or None, states=None if show_all else ["pending"]
        )
    if as_json:
        print_json([r.to_dict() for r in found])
        return
    table = Table("id", "model", "state", "approved", "submitter", "asked")
    for r in found:
        need = ", ".join(f"{r.approved[k]}/{n} {k}" for k, n in r.requirements.items())
        table.add_row(str(r.id), r.ref, r.state, need, r.submitter, r.created_at)
    Console().print(table)


@approvals_app.command("status")
def approvals_status(
    ctx: typer.Context,
    model: Annotated[str, typer.Argument(help="MODEL@VERSION (or SYSTEM/MODEL@VERSION).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Whether a model version may enter production now, and what is missing (exit 1: not).

    Example: trustops approvals status scorer@2
    """
    with registry_from(ctx) as reg:
        status = _approvals(reg).gate(model, require=False)
    if as_json:
        print_json(status.to_dict())
    elif not status.gated:
        typer.echo(f"{status.ref}: the system has no gate")
    elif status.ok:
        typer.echo(f"{status.ref}: may enter production")
    else:
        typer.echo(f"{status.ref}: may not enter production")
        for reason in status.reasons:
            typer.echo(f"  - {reason}")
    if not status.ok:
        raise typer.Exit(1)
