"""The store a server shares across requests: one database, artifact store and audit log.

A :class:`~trustops.governance.Registry` is a few references over these, so
each request builds its own, acting as the authenticated user. The database
serialises writers itself (SQLite ``BEGIN IMMEDIATE``, PostgreSQL a row lock
on the audit log's head), so requests in the thread pool may write at once.

Example:
    >>> import tempfile
    >>> from trustops.governance import init_workspace
    >>> from trustops.governance.workspace import load_settings
    >>> store = Store.open(load_settings(init_workspace(tempfile.mkdtemp()), env={}))
    >>> store.registry("alice").actor, store.ready()
    ('alice', True)
    >>> store.close()
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import sqlalchemy as sa

from trustops.governance import Registry

if TYPE_CHECKING:
    from trustops.governance.approvals import Approvals
    from trustops.governance.artifacts import ArtifactStore
    from trustops.governance.auditlog import AuditLog
    from trustops.governance.database import Database
    from trustops.governance.identity import Identity
    from trustops.governance.workspace import Settings

__all__ = ["Store"]

SERVER_ACTOR = "trustops-server"
"""The actor of what the server does on nobody's behalf (checking a credential)."""


@dataclass
class Store:
    """The open parts of one governance store."""

    db: Database
    artifacts: ArtifactStore
    audit: AuditLog
    settings: Settings | None = None  # the workspace's defaults (privacy: purpose, keys)

    @classmethod
    def open(cls, settings: Settings) -> Store:
        """Open (and migrate) the store that ``settings`` name."""
        registry = Registry.open(settings=settings)
        return cls(registry.db, registry.artifacts, registry.audit, registry.settings)

    def registry(self, actor: str) -> Registry:
        """A registry over this store whose actions are ``actor``'s."""
        return Registry(
            self.db, self.artifacts, actor=actor, audit=self.audit, settings=self.settings
        )

    def identity(self, actor: str = SERVER_ACTOR) -> Identity:
        from trustops.governance.identity import Identity

        return Identity(self.registry(actor))

    def approvals(self, actor: str) -> Approvals:
        from trustops.governance.approvals import Approvals

        return Approvals(self.registry(actor))

    def ready(self) -> bool:
        """Whether the database answers and the artifact store is reachable."""
        try:
            with self.db.read() as conn:
                conn.execute(sa.text("SELECT 1"))
        except sa.exc.SQLAlchemyError:
            return False
        root = self.artifacts.root
        return root is None or root.is_dir()

    def close(self) -> None:
        self.db.close()
