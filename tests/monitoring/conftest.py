"""Store fixtures for the monitoring tests: the governance ones (SQLite file and PostgreSQL)."""

from tests.governance.conftest import (  # noqa: F401  (fixtures, found by name)
    database_url,
    open_registry,
    pg_schema_url,
    registry,
    workspace,
)
