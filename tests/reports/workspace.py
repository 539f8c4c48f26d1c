"""A small registry shaped like the demo's, for the document tests (a second of work).

The system ``credit-scoring`` with training data holding personal data, a
production batch, ``credit-scorer@1`` with fairness evidence (``assess_fairness``
on 400 synthetic rows), drift evidence on the production batch, staging and
production, a retrained ``credit-scorer@2`` promoted and rolled back.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa

from trustops import assess_fairness
from trustops.datasets import make_credit
from trustops.governance import Registry, init_workspace
from trustops.governance.workspace import load_settings

SYSTEM = "credit-scoring"
MODEL = f"{SYSTEM}/credit-scorer@1"


def open_registry(directory: Path) -> Registry:
    """The registry of the workspace in ``directory``, ignoring TRUSTOPS_* variables."""
    return Registry.open(settings=load_settings(init_workspace(directory, actor="alice"), env={}))


def build(directory: Path, *, fairness: bool = True, drift: bool = True) -> Registry:
    reg = open_registry(directory)
    reg.create_system(
        SYSTEM, owner="credit risk team", purpose="decide consumer credit applications",
        use_case="credit", risk="high", jurisdictions=["EU", "US-NY"],
    )  # fmt: skip
    data = make_credit(400, seed=3)
    table = pa.table(data)
    train = reg.register_dataset(
        table, system=SYSTEM, name="train", purposes=["creditworthiness assessment"],
        lawful_basis="contract", personal_data=True, retention_days=1825,
    )  # fmt: skip
    production = reg.register_dataset(table.slice(0, 200), system=SYSTEM, name="production")
    v1 = reg.register_model(
        b"model v1", system=SYSTEM, name="credit-scorer", trained_on=[train.ref],
        framework="scikit-learn", parameters={"C": 1.0}, code_commit=None,
        purpose="creditworthiness assessment",
    )  # fmt: skip
    if fairness:
        report = assess_fairness(
            data, y_true="repaid", y_pred="approved", sensitive=["race", "sex"]
        )
        reg.record_evidence("fairness", v1, report)
    if drift:
        reg.record_evidence(
            "drift", production,
            {"kind": "drift", "dataset_drift": False, "drifted_columns": ["income"],
             "reference_rows": 400, "current_rows": 200, "share_drifted": 0.1},
        )  # fmt: skip
    reg.promote(MODEL, "staging")
    reg.promote(MODEL, "production", reason="fairness evidence reviewed")
    reg.register_model(
        b"model v2", system=SYSTEM, name="credit-scorer", trained_on=[train.ref],
        parent=v1.ref, parameters={"C": 0.05}, code_commit=None,
        purpose="creditworthiness assessment",
    )  # fmt: skip
    reg.promote(f"{SYSTEM}/credit-scorer@2", "staging")
    reg.promote(f"{SYSTEM}/credit-scorer@2", "production")
    reg.rollback(SYSTEM, reason="drift found")
    return reg
