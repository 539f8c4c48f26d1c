"""What migrations after 0001 share: the append-only triggers 0001 first created.

0001 defines PostgreSQL's ``trustops_append_only()`` trigger function; later
migrations attach it (or SQLite's ``RAISE(ABORT)`` triggers) to their own tables.
"""

from __future__ import annotations

from alembic import op


def append_only(*tables: str) -> None:
    """Refuse UPDATE and DELETE (and TRUNCATE on PostgreSQL) on ``tables``."""
    dialect = op.get_bind().dialect.name
    for table in tables:
        if dialect == "sqlite":
            for event in ("UPDATE", "DELETE"):
                op.execute(
                    f"CREATE TRIGGER {table}_no_{event.lower()} BEFORE {event} ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
                )
        elif dialect == "postgresql":
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE OR TRUNCATE "
                f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION trustops_append_only()"
            )
