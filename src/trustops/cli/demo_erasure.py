"""The demo's erasure part: three applicants ask to be erased (GDPR Art. 17).

Called from ``trustops demo`` (:mod:`trustops.cli.demo`) inside its
workspace. The training data is registered with its ``applicant_id`` column
indexed by keyed hash (:func:`demo_settings` makes the workspace's subject
key); the request finds the data and, through lineage, every model version
trained on it, marks them "retraining required", and the ``gdpr`` pack then
blocks their promotion.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

__all__ = ["demo_settings", "erasure_part"]

PURPOSE = "creditworthiness assessment"


def demo_settings(workspace: Any) -> dict[str, str]:
    """The demo workspace's privacy settings: its default purpose of data use, and a new
    subject key (``.trustops/subject.key``, outside the store) for the applicant-id index."""
    from trustops.governance.subjects import create_subject_key

    key = Path(workspace.path) / "subject.key"
    if not key.exists():
        create_subject_key(key)
    return {"purpose": PURPOSE, "subject_key": str(key)}


def erasure_part(reg: Any, system: str, output: Path, console: Console) -> None:
    """Three applicants of the training data ask to be erased: record the request and show
    what it touches and what the gdpr pack now says about the production model."""
    import pyarrow.parquet as pq

    from trustops.policy import load_policy
    from trustops.privacy.erasure import request_erasure

    ids = pq.read_table(output / "train.parquet", columns=["applicant_id"]).column(0)
    request = output / "erasure-request.txt"
    request.write_text("".join(f"{i}\n" for i in ids.to_pylist()[:3]), encoding="utf-8")
    done = request_erasure(reg, request, reference="demo-art17-1")
    table = Table("step", "version", title=f"Erasure request {done.id} (GDPR Art. 17)")
    for label, n in done.datasets.items():
        table.add_row("erase from source", f"{label} ({n} of {done.subjects} applicants)")
    for label in done.derived:
        table.add_row("review derived data", label)
    for label in done.models:
        table.add_row("retraining required", label)
    console.print(table)
    production = next(m for m in reg.models(system=system) if m.stage == "production")
    decision = reg.evaluate_policy(load_policy("gdpr"), f"{system}/{production.ref}", record=False)
    rule = next(r for r in decision.rules if r.id == "art17-retraining-after-erasure")
    console.print(
        f"policy gdpr on {production.ref} (production): {rule.id} {rule.effect.upper()} — "
        "retrain without these applicants before the next promotion; the audit log holds "
        "their keyed hashes only"
    )
