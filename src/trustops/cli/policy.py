"""``trustops policy``: the shipped packs, checking a policy file, the policies on record."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from trustops.cli import app
from trustops.cli.registry import print_json, registry_from

policy_app = typer.Typer(
    help="Policies: list the packs, show or validate one, list those on record.",
    no_args_is_help=True,
)
app.add_typer(policy_app, name="policy")


@policy_app.command("packs")
def packs() -> None:
    """List the regulation packs shipped with trustops."""
    from trustops.policy import load_policy, pack_names

    table = Table("pack", "version", "rules", "description")
    for name in pack_names():
        p = load_policy(name)
        table.add_row(name, p.version, str(len(p.rules)), p.description)
    Console().print(table)


@policy_app.command("show")
def show(name: Annotated[str, typer.Argument(help="A pack name (copy it to adapt it).")]) -> None:
    """Print a pack's YAML.

    Example: trustops policy show eeoc-four-fifths > my-policy.yaml
    """
    from trustops.policy import pack_path

    typer.echo(pack_path(name).read_text(encoding="utf-8"), nl=False)


@policy_app.command("validate")
def validate(
    file: Annotated[Path, typer.Argument(help="A policy YAML file (or a pack name).")],
) -> None:
    """Load a policy and report its first problem with file, line and column (exit 2).

    Example: trustops policy validate my-policy.yaml
    """
    from trustops.policy import load_policy

    p = load_policy(str(file))
    typer.echo(f"ok: {p.name} v{p.version}, {len(p.rules)} rules, sha256 {p.hash}")


@policy_app.command("list")
def list_policies(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Every policy version used in a recorded decision, with its hash."""
    with registry_from(ctx) as reg:
        found = reg.policies()
    if as_json:
        print_json(found)
        return
    table = Table("policy", "version", "sha256", "first used", "by")
    for p in found:
        table.add_row(p["name"], p["version"], p["hash"][:16], p["created_at"], p["created_by"])
    Console().print(table)
