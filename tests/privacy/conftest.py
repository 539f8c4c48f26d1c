"""Store fixtures shared with the governance tests: SQLite (a real file) and PostgreSQL."""

from tests.governance.conftest import (  # noqa: F401  (pytest finds fixtures by name)
    database_url,
    open_registry,
    pg_schema_url,
    registry,
    workspace,
)
