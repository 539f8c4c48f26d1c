"""Governance: the registry, lineage, stages and the verifiable audit log (see docs/governance.md).

The pieces, each in its own module:

- :mod:`~trustops.governance.workspace`: the ``.trustops`` folder, settings, the signing key;
- :mod:`~trustops.governance.database`: SQLite / PostgreSQL connections and migrations;
- :mod:`~trustops.governance.schema`: the tables;
- :mod:`~trustops.governance.artifacts`: the content-addressed artifact store;
- :mod:`~trustops.governance.auditlog`: the audit log, checkpoints, proofs, export and verify;
- :mod:`~trustops.governance.registry`: every state change, each with its audit entry;
- :mod:`~trustops.governance.identity`: users, API tokens, roles per system, sessions;
- :mod:`~trustops.governance.approvals` and :mod:`~trustops.governance.gates`: four-eyes
  approval of promotions to production (docs/access-control.md).
"""

from __future__ import annotations

from trustops.governance.auditlog import AuditEntry, verify_export
from trustops.governance.registry import (
    ConflictError,
    DatasetVersion,
    Evidence,
    Lineage,
    ModelVersion,
    NotFoundError,
    Registry,
    System,
)
from trustops.governance.workspace import find_workspace, init_workspace

__all__ = [
    "AuditEntry",
    "ConflictError",
    "DatasetVersion",
    "Evidence",
    "Lineage",
    "ModelVersion",
    "NotFoundError",
    "Registry",
    "System",
    "find_workspace",
    "init_workspace",
    "verify_export",
]
