"""``trustops audit``: read, prove, checkpoint, export and verify the audit log.

``trustops audit verify PATH`` works offline on an export (no workspace
needed); without PATH it verifies the workspace's own store. Exit codes: 0
the log verifies, 1 verification failed (each failure on stderr), 2 the
file is not an export or cannot be read.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from trustops.cli import app
from trustops.cli.registry import print_json, registry_from
from trustops.errors import InputError

audit_app = typer.Typer(
    help="The tamper-evident audit log: log, verify, prove, checkpoint, export, pubkey.",
    no_args_is_help=True,
)
app.add_typer(audit_app, name="audit")


@audit_app.command("log")
def log(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option("--limit", min=1, help="Show the last N entries.")] = 50,
    action: Annotated[str | None, typer.Option("--action", help="Only this action.")] = None,
    subject: Annotated[
        str | None, typer.Option("--subject", help="Only subjects containing this text.")
    ] = None,
    actor: Annotated[str | None, typer.Option("--actor-name", help="Only this actor's.")] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print JSON Lines, one entry per line.")
    ] = False,
) -> None:
    """Show the latest audit entries (oldest first).

    Example: trustops audit log --limit 20 --action model.promoted
    """
    with registry_from(ctx) as reg:
        entries = reg.audit.entries(action=action, subject=subject, actor=actor, last=limit)
    if as_json:
        for e in entries:
            typer.echo(json.dumps(e.to_dict(), ensure_ascii=False))
        return
    table = Table("seq", "time", "actor", "action", "subject", "reason")
    for e in entries:
        table.add_row(str(e.seq), e.time, e.actor, e.action, e.subject, e.reason or "")
    Console().print(table)


def _verifier(key: str | None) -> str | None:
    if key is None:
        return None
    path = Path(key)
    if "+" not in key and path.is_file():
        return path.read_text(encoding="utf-8").strip()
    if "+" not in key:
        raise InputError(f"--key {key!r} is neither a verifier key (name+id+key) nor a file")
    return key


@audit_app.command("verify")
def verify(
    ctx: typer.Context,
    path: Annotated[
        Path | None,
        typer.Argument(help="An export (trustops audit export); default: this workspace's store."),
    ] = None,
    checkpoint: Annotated[
        list[Path] | None,
        typer.Option(
            "--checkpoint",
            help="A checkpoint kept elsewhere (file, or folder of *.checkpoint; repeatable).",
        ),
    ] = None,
    key: Annotated[
        str | None,
        typer.Option("--key", help="The published verifier key (or a file holding it)."),
    ] = None,
) -> None:
    """Verify the audit log: every entry, every signed checkpoint, nothing removed or changed.

    Exit 0 when it verifies, 1 when it does not (each failure on stderr).

    Example: trustops audit verify audit.jsonl --checkpoint published/ --key "$(cat vkey)"
    """
    from trustops.governance.auditlog import read_checkpoints, verify_export

    external = read_checkpoints(checkpoint or [])
    verifier = _verifier(key)
    err = Console(stderr=True, highlight=False)
    if path is not None:
        with err.status(f"Verifying {path.name}…"):
            found = verify_export(path, verifier=verifier, checkpoints=external)
        result, trusted = found.log, found.key_source
    else:
        with registry_from(ctx) as reg:
            if verifier and verifier != reg.audit.verifier():
                raise InputError("--key is not this workspace's key", hint="trustops audit pubkey")
            with err.status("Verifying the audit log…"):
                result = reg.audit.verify(extra_checkpoints=external)
            trusted = "this workspace's signing key"
    if result.ok:
        typer.echo(
            f"ok: {result.size} entries, root {result.root.hex()}, "
            f"{len(result.checkpoints)} checkpoint(s) match (signatures checked with {trusted})"
        )
        return
    for failure in result.failures:
        err.print(f"FAIL: {failure}")
    err.print(f"verification failed: {len(result.failures)} problem(s) in {result.size} entries")
    raise typer.Exit(1)


@audit_app.command("prove")
def prove(
    ctx: typer.Context,
    entry: Annotated[int, typer.Argument(help="The entry's seq number.", min=0)],
) -> None:
    """Print an inclusion proof of an entry in a freshly signed checkpoint (JSON).

    Example: trustops audit prove 41 > proof.json
    """
    with registry_from(ctx) as reg:
        proof = reg.audit.prove(entry)
    print_json(proof.to_dict())


@audit_app.command("checkpoint")
def checkpoint(ctx: typer.Context) -> None:
    """Sign a checkpoint of the log now (and copy it to the configured folder); print it.

    Example: trustops audit checkpoint > latest.checkpoint
    """
    with registry_from(ctx) as reg:
        note = reg.audit.checkpoint()
    typer.echo(note, nl=False)


@audit_app.command("export")
def export(
    ctx: typer.Context,
    output: Annotated[Path, typer.Option("--output", "-o", help="Where to write (JSON Lines).")],
) -> None:
    """Export the whole log and its checkpoints, for verification offline.

    Example: trustops audit export -o audit.jsonl
    """
    with registry_from(ctx) as reg, Console(stderr=True).status(f"Exporting to {output}…"):
        count = reg.audit.export(output)
    Console(stderr=True).print(f"exported {count:,} entries to {output}")


@audit_app.command("pubkey")
def pubkey(ctx: typer.Context) -> None:
    """Print the verifier key of the log's signing key, to publish.

    Example: trustops audit pubkey > trustops.vkey
    """
    with registry_from(ctx) as reg:
        vkey = reg.audit.verifier()
    if vkey is None:
        raise InputError("no signing key configured", hint="set TRUSTOPS_SIGNING_KEY")
    typer.echo(vkey)
