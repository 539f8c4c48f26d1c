"""``trustops admin``: users, API tokens and memberships (see docs/access-control.md).

These commands act with the authority of whoever can open the store (the
local workspace, like every other governance command); the server is where
tokens and roles are enforced. A token's secret is printed once, alone on
stdout, so it can be piped into a secret store; everything else goes to
stderr.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from trustops.cli import app
from trustops.cli.registry import print_json, registry_from
from trustops.errors import InputError, UsageError

__all__ = ["parse_expiry"]

admin_app = typer.Typer(
    help="Users, API tokens and per-system roles (no default credentials).", no_args_is_help=True
)
token_app = typer.Typer(help="API tokens: create, list, revoke.", no_args_is_help=True)
app.add_typer(admin_app, name="admin")
admin_app.add_typer(token_app, name="token")

_ROLES = "viewer, data_scientist, reviewer, compliance_officer or admin"
_EXPIRES_HELP = "When the token stops working: 30d, 12h, or an ISO date/time (UTC)."


def parse_expiry(text: str | None, now: datetime | None = None) -> datetime | None:
    """``30d`` / ``12h`` / ``90m`` from now, or an ISO-8601 date or time (UTC if no zone).

    Example:
        >>> start = datetime(2026, 1, 1, tzinfo=UTC)
        >>> parse_expiry("30d", start).isoformat(), parse_expiry("2026-03-01", start).isoformat()
        ('2026-01-31T00:00:00+00:00', '2026-03-01T00:00:00+00:00')
    """
    if text is None:
        return None
    now = now or datetime.now(UTC)
    match = re.fullmatch(r"(\d+)([dhm])", text.strip())
    if match:
        n, unit = int(match.group(1)), match.group(2)
        units = {"d": "days", "h": "hours", "m": "minutes"}
        return now + timedelta(**{units[unit]: n})
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise InputError(
            f"--expires {text!r} is not a duration or a date", hint="e.g. 30d, 12h, 2027-01-31"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _identity(reg: Any) -> Any:
    from trustops.governance.identity import Identity

    return Identity(reg)


def _print_secret(issued: Any) -> None:
    err = Console(stderr=True)
    expiry = f", expires {issued.expires_at}" if issued.expires_at else ""
    err.print(f"token {issued.id} for {issued.user}{expiry}; shown once, store it now:")
    typer.echo(issued.secret)


@admin_app.command("create")
def admin_create(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The user's name (letters, digits, . _ @ -).")],
    role: Annotated[str, typer.Option("--role", help=f"The role: {_ROLES}.")],
    system: Annotated[
        str | None,
        typer.Option("--system", help="The AI system the role is in (all roles but admin)."),
    ] = None,
    expires: Annotated[str | None, typer.Option("--expires", help=_EXPIRES_HELP)] = None,
    label: Annotated[str | None, typer.Option("--label", help="What the token is for.")] = None,
) -> None:
    """Create a user and print their first API token (once).

    A fresh store has no user: the first administrator is made this way.

    Example: trustops admin create ada --role admin
    """
    from trustops.core.access import Role

    try:
        chosen = Role(role)
    except ValueError:
        raise UsageError(f"unknown role {role!r}", hint=f"roles: {_ROLES}") from None
    if chosen is Role.ADMIN and system is not None:
        raise UsageError("an administrator is global: leave out --system")
    if chosen is not Role.ADMIN and system is None:
        raise UsageError(f"--system is required for the role {role}", hint="roles are per system")
    expiry = parse_expiry(expires)
    with registry_from(ctx) as reg:
        ids = _identity(reg)
        if system is not None:  # refuse an unknown system before creating anything
            reg.system(system)
        ids.create_user(name, admin=chosen is Role.ADMIN)
        if system is not None:
            ids.grant(name, system, chosen)
        issued = ids.issue_token(name, expires_at=expiry, label=label)
    where = "" if system is None else f" of {system}"
    Console(stderr=True).print(f"user {name} created: {chosen.value}{where}")
    _print_secret(issued)


@admin_app.command("users")
def admin_users(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List users, whether administrators, and their role in each system."""
    with registry_from(ctx) as reg:
        users = _identity(reg).users()
    if as_json:
        print_json([u.to_dict() for u in users])
        return
    table = Table("user", "admin", "roles", "created", "by")
    for u in users:
        roles = ", ".join(f"{s}: {r}" for s, r in sorted(u.roles.items()))
        table.add_row(u.name, "yes" if u.admin else "", roles, u.created_at, u.created_by)
    Console().print(table)


@admin_app.command("grant")
def admin_grant(
    ctx: typer.Context,
    user: Annotated[str, typer.Argument(help="The user.")],
    system: Annotated[str, typer.Argument(help="The AI system.")],
    role: Annotated[
        str, typer.Argument(help="viewer, data_scientist, reviewer or compliance_officer.")
    ],
) -> None:
    """Give a user a role in a system (replacing the role they had there).

    Example: trustops admin grant rita credit-scoring reviewer
    """
    with registry_from(ctx) as reg:
        _identity(reg).grant(user, system, role)
    Console(stderr=True).print(f"{user} is {role} of {system}")


@admin_app.command("revoke")
def admin_revoke(
    ctx: typer.Context,
    user: Annotated[str, typer.Argument(help="The user.")],
    system: Annotated[str, typer.Argument(help="The AI system.")],
) -> None:
    """Remove a user from a system.

    Example: trustops admin revoke rita credit-scoring
    """
    with registry_from(ctx) as reg:
        _identity(reg).revoke(user, system)
    Console(stderr=True).print(f"{user} no longer has a role in {system}")


@token_app.command("create")
def token_create(
    ctx: typer.Context,
    user: Annotated[str, typer.Argument(help="Whose token.")],
    expires: Annotated[str | None, typer.Option("--expires", help=_EXPIRES_HELP)] = None,
    label: Annotated[str | None, typer.Option("--label", help="What the token is for.")] = None,
) -> None:
    """Issue another API token for a user and print it (once).

    Example: trustops admin token create rita --expires 90d --label laptop
    """
    expiry = parse_expiry(expires)
    with registry_from(ctx) as reg:
        issued = _identity(reg).issue_token(user, expires_at=expiry, label=label)
    _print_secret(issued)


@token_app.command("revoke")
def token_revoke(
    ctx: typer.Context,
    token_id: Annotated[str, typer.Argument(help="The token's id (tok_...), not its secret.")],
) -> None:
    """Revoke a token: it (and the dashboard sessions it opened) authenticates no more.

    Example: trustops admin token revoke tok_5f0c2a9e41d7b3c8
    """
    with registry_from(ctx) as reg:
        _identity(reg).revoke_token(token_id)
    Console(stderr=True).print(f"token {token_id} revoked")


@token_app.command("list")
def token_list(
    ctx: typer.Context,
    user: Annotated[str | None, typer.Option("--user", help="Only this user's tokens.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List tokens (ids, owners, expiry, revocation; never secrets)."""
    with registry_from(ctx) as reg:
        tokens = _identity(reg).tokens(user)
    if as_json:
        print_json([k.to_dict() for k in tokens])
        return
    table = Table("id", "user", "label", "created", "expires", "revoked")
    for k in tokens:
        table.add_row(
            k.id, k.user, k.label or "", k.created_at, k.expires_at or "", k.revoked_at or ""
        )
    Console().print(table)
