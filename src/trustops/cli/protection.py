"""``trustops privacy budget|pseudonymise|reidentify|new-key|rotate-key|keys``: protecting data."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from trustops.cli.privacy import privacy_app
from trustops.cli.registry import print_json, registry_from


@privacy_app.command("budget")
def budget_command(
    ctx: typer.Context,
    dataset: Annotated[str, typer.Argument(help="The dataset (NAME or NAME@V).")],
    system: Annotated[str, typer.Option("--system", help="The system the dataset belongs to.")],
    epsilon: Annotated[
        float | None,
        typer.Option("--epsilon", help="Set the total epsilon (never below what is spent)."),
    ] = None,
    delta: Annotated[
        float | None, typer.Option("--delta", help="Set the total delta (with --epsilon).")
    ] = None,
    reason: Annotated[
        str | None, typer.Option("--reason", help="Why the budget is set (audited).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show a dataset's privacy budget, or set it with --epsilon (and --delta).

    Example: trustops privacy budget decisions --system hiring --epsilon 2 --reason "2027 report"
    """
    from trustops.errors import UsageError
    from trustops.privacy.budget import Budget, budget, set_budget

    found: Budget | None
    with registry_from(ctx) as reg:
        if epsilon is not None:
            found = set_budget(
                reg, dataset, system=system, epsilon=epsilon, delta=delta or 0.0, reason=reason
            )
        elif delta is not None:
            raise UsageError("--delta is set together with --epsilon")
        else:
            found = budget(reg, dataset, system=system)
    if found is None:
        raise UsageError(
            f"no privacy budget is set for {system}/{dataset}",
            hint=f"trustops privacy budget {dataset} --system {system} --epsilon E",
        )
    if as_json:
        print_json(found.to_dict())
        return
    typer.echo(
        f"{found.dataset}: epsilon {found.epsilon_spent:.4g} of {found.epsilon_total:.4g} "
        f"spent ({found.epsilon_remaining:.4g} left); delta {found.delta_spent:.3g} of "
        f"{found.delta_total:.3g}; set {found.updated_at} by {found.updated_by}"
    )


@privacy_app.command("pseudonymise")
def pseudonymise_command(
    data: Annotated[Path, typer.Argument(help="The CSV or Parquet file to pseudonymise.")],
    columns: Annotated[
        list[str], typer.Option("--columns", help="Identifier column(s) (repeatable or a,b).")
    ],
    output: Annotated[Path, typer.Option("--output", help="Where to write the result.")],
    key_file: Annotated[
        str | None,
        typer.Option(
            "--key-file", help="The key (default: TRUSTOPS_PSEUDONYM_KEY); kept outside the store."
        ),
    ] = None,
    method: Annotated[
        str, typer.Option("--method", help="hmac (one-way) or fpe (format-preserving tokens).")
    ] = "hmac",
) -> None:
    """Replace identifier columns by keyed hashes or tokens before the data enters trustops.

    Nothing is written unless every value could be pseudonymised.

    Example: trustops privacy pseudonymise people.csv --columns ssn,email --key-file p.key
    --method fpe --output people.pseudonymised.csv
    """
    from trustops.engines.files import write_table
    from trustops.privacy.pseudonym import load_pseudonym_key, pseudonymise

    key = load_pseudonym_key(key_file)
    names = [c for value in columns for c in value.split(",") if c]
    table = pseudonymise(str(data), names, key, method=method)
    write_table(table, output)
    Console(stderr=True).print(
        f"wrote {table.num_rows:,} rows to {output} ({method}: {', '.join(names)})"
    )


@privacy_app.command("reidentify")
def reidentify_command(
    data: Annotated[Path, typer.Argument(help="A file pseudonymised with --method fpe.")],
    columns: Annotated[
        list[str], typer.Option("--columns", help="Tokenised column(s) (repeatable or a,b).")
    ],
    output: Annotated[Path, typer.Option("--output", help="Where to write the result.")],
    key_file: Annotated[
        str | None,
        typer.Option("--key-file", help="The key used (default: TRUSTOPS_PSEUDONYM_KEY)."),
    ] = None,
) -> None:
    """Turn format-preserving tokens back into the original values (needs the key)."""
    from trustops.engines.files import write_table
    from trustops.privacy.pseudonym import load_pseudonym_key, reidentify

    key = load_pseudonym_key(key_file)
    names = [c for value in columns for c in value.split(",") if c]
    table = reidentify(str(data), names, key)
    write_table(table, output)
    Console(stderr=True).print(f"wrote {table.num_rows:,} rows to {output}")


@privacy_app.command("new-key")
def new_key_command(
    path: Annotated[Path, typer.Argument(help="Where to write the key (mode 0600, never over).")],
) -> None:
    """Create a 256-bit key file (encryption at rest or pseudonymisation); prints its key id."""
    from trustops.governance.encryption import write_key_file

    key = write_key_file(path)
    typer.echo(f"wrote {path} (key id {key.key_id}); keep it outside the store and back it up")


@privacy_app.command("rotate-key")
def rotate_key_command(
    ctx: typer.Context,
    new_key_file: Annotated[
        str, typer.Option("--new-key-file", help="The key to re-encrypt every artifact under.")
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Re-encrypt every artifact under a new key (from plaintext if no key is set yet).

    The current key (store.encryption_key / TRUSTOPS_ENCRYPTION_KEY) reads the
    artifacts not yet rotated. Interrupted, run the same command again: it
    resumes. Then set store.encryption_key to the new key.
    """
    from trustops.governance.encryption import load_key
    from trustops.governance.key_rotation import rotate_key

    new = load_key(new_key_file)
    with registry_from(ctx) as reg:
        done = rotate_key(reg, new)
    if as_json:
        print_json(done.to_dict())
        return
    typer.echo(
        f"rotation #{done.id} {'resumed and ' if done.resumed else ''}finished: "
        f"{done.rewritten} of {done.total} artifacts re-encrypted under key {done.to_key}"
        f" (was {done.from_key or 'plaintext'}); now set store.encryption_key to {new_key_file}"
    )


@privacy_app.command("keys")
def keys_command(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List the encryption key ids the store has recorded, and every key rotation."""
    from trustops.governance.key_rotation import key_history

    with registry_from(ctx) as reg:
        history = key_history(reg)
    if as_json:
        print_json(history)
        return
    typer.echo(f"current key: {history['current_key'] or 'none (artifacts stored in plaintext)'}")
    for key in history["keys"]:
        retired = f", retired {key['retired_at']}" if key["retired_at"] else ""
        typer.echo(f"key {key['key_id']}  {key['algorithm']}  since {key['created_at']}{retired}")
    for r in history["rotations"]:
        state = f"finished {r['finished_at']}" if r["finished_at"] else "open (run it again)"
        typer.echo(
            f"rotation #{r['id']}  {r['from_key'] or 'plaintext'} -> {r['to_key']}  "
            f"started {r['started_at']} by {r['started_by']}, {state}"
        )
