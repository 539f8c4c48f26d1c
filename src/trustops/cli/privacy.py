"""``trustops privacy``: the privacy group (data use, erasure, Art. 30, budgets, keys, pseudonyms).

The group is defined here; its commands live in the modules of their parts
and register themselves on :data:`privacy_app` (``trustops.cli.protection``
for budgets, pseudonymisation and encryption keys).
"""

from __future__ import annotations

import typer

from trustops.cli import app

privacy_app = typer.Typer(
    help="Privacy and data governance: data use, erasure, budgets, keys, pseudonyms.",
    no_args_is_help=True,
)
app.add_typer(privacy_app, name="privacy")
