"""The ``trustops`` command line: a thin Typer + Rich layer over the library.

Exit codes, the same for every command:

- 0: success, or the check passed;
- 1: the check failed (e.g. an impact ratio under ``--fail-below``);
- 2: usage or input error: one line on stderr, never a traceback;
- 3: internal error (a bug in trustops): one line; ``TRUSTOPS_DEBUG=1`` shows the traceback.

Errors are mapped to exit codes in exactly one place, :class:`TrustOpsGroup`.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

try:  # Typer >= 0.24 vendors Click and raises its own copies of Click's exceptions
    from typer._click import exceptions as click_exceptions
except ImportError:  # pragma: no cover - older Typer on Click
    from click import exceptions as click_exceptions  # type: ignore[no-redef]

from trustops.errors import TrustOpsError

__all__ = ["INTERNAL_ERROR", "app", "main"]

INTERNAL_ERROR = 3


class TrustOpsGroup(TyperGroup):
    """Runs a command and turns every error into one stderr line and an exit code."""

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        windows_expand_args: bool = True,
        **extra: Any,
    ) -> Any:
        try:
            rv = super().main(args, prog_name, complete_var, False, windows_expand_args, **extra)
            code = rv if isinstance(rv, int) else 0
        except click_exceptions.NoArgsIsHelpError as exc:
            typer.echo(exc.ctx.get_help() if exc.ctx else str(exc))
            code = 0
        except click_exceptions.UsageError as exc:
            typer.echo(f"error: {exc.format_message()}", err=True)
            code = 2
        except TrustOpsError as exc:
            typer.echo(f"error: {exc.one_line()}", err=True)
            code = exc.exit_code
        except typer.Abort:
            typer.echo("aborted", err=True)
            code = 1
        except Exception as exc:  # a bug: one line, a distinct code, the traceback on request
            if os.environ.get("TRUSTOPS_DEBUG"):
                raise
            typer.echo(
                f"internal error: {type(exc).__name__}: {exc} (set TRUSTOPS_DEBUG=1 for the "
                "traceback, and please report it)",
                err=True,
            )
            code = INTERNAL_ERROR
        if standalone_mode:
            sys.exit(code)
        return code


app = typer.Typer(
    cls=TrustOpsGroup,
    name="trustops",
    help="Ethical-AI compliance in the ML pipeline: fairness, transparency, accountability.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)


@app.callback()
def _root(
    ctx: typer.Context,
    workspace: Annotated[
        str | None,
        typer.Option(
            "--workspace", help="The workspace folder (default: found by walking up from here)."
        ),
    ] = None,
    database_url: Annotated[
        str | None,
        typer.Option("--database-url", help="The store (beats TRUSTOPS_DATABASE_URL)."),
    ] = None,
    actor: Annotated[
        str | None, typer.Option("--actor", help="Who acts (beats TRUSTOPS_ACTOR).")
    ] = None,
) -> None:
    """Ethical-AI compliance in the ML pipeline: fairness, transparency, accountability."""
    ctx.obj = {"workspace": workspace, "database_url": database_url, "actor": actor}


def _register() -> None:
    from trustops.cli import (  # noqa: F401  (register on import)
        admin,
        approvals,
        audit,
        check,
        dataset,
        demo,
        documents,
        dp,
        explain,
        fairness,
        mitigate,
        monitor,
        policy,
        privacy,
        profiles,
        protection,
        registry,
        report,
        serve,
    )
    from trustops.cli.pii import scan_pii_command
    from trustops.cli.validate import validate_command

    app.command("validate")(validate_command)
    app.command("scan-pii")(scan_pii_command)


@app.command()
def version() -> None:
    """Print the trustops version."""
    from trustops import __version__

    typer.echo(__version__)


def main() -> None:
    """Console-script entry point."""
    app()


_register()
