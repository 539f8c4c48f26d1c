"""Connections to the governance store: SQLite embedded, PostgreSQL by URL, one code path.

SQLite is opened the way a store that must not lose an acknowledged write
needs (REFERENCES §2.3): ``journal_mode=WAL``, ``synchronous=FULL``,
``foreign_keys=ON``, a 30 s ``busy_timeout``, and explicit transactions —
Python's ``sqlite3`` module would otherwise open implicit *deferred*
transactions that fail with SQLITE_BUSY when two writers race. A write
transaction begins with ``BEGIN IMMEDIATE`` (it takes the write lock at
once, so the audit log's next sequence number is read under it); a read
begins with plain ``BEGIN``. On PostgreSQL (psycopg 3) writers serialise on a
row lock of the log's head (``SELECT ... FOR UPDATE``), see
:mod:`trustops.governance.auditlog`.

:func:`open_database` brings the schema to the newest Alembic migration under
the same lock, so two processes opening a fresh store never both migrate it.

Example:
    >>> import tempfile, os
    >>> db = open_database("sqlite:///" + os.path.join(tempfile.mkdtemp(), "t.db"))
    >>> db.settings()["journal_mode"], db.settings()["synchronous"]
    ('wal', 'full')
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

from trustops.errors import TrustOpsError, UsageError

__all__ = ["Database", "StoreError", "normalise_url", "open_database"]

_MIGRATIONS = Path(__file__).with_name("migrations")
SCHEMA_REVISION = "0005"  # the newest migration in migrations/versions
_PG_MIGRATION_LOCK = 0x7472757374  # "trust": advisory lock key for migrations


class StoreError(TrustOpsError):
    """The store cannot be opened or is not in a state trustops can use."""

    status = 503


def normalise_url(url: str) -> str:
    """``postgresql://`` means psycopg 3 here; other URLs pass unchanged (credentials kept).

    Example:
        >>> normalise_url("postgresql://postgres@127.0.0.1:5432/test")
        'postgresql+psycopg://postgres@127.0.0.1:5432/test'
    """
    parsed = sa.engine.make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def insert_id(conn: Connection, statement: Any, params: dict[str, Any] | None = None) -> int:
    """Run an INSERT and return the new row's primary key (every governance table has one).

    Values in ``params`` (not baked into ``statement``) let a hot path compile it once.
    """
    key = conn.execute(statement, params).inserted_primary_key
    assert key is not None
    return int(key[0])


def _sqlite_engine(url: str) -> Engine:
    engine = sa.create_engine(url, connect_args={"timeout": 30, "isolation_level": None})

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        write = conn.get_execution_options().get("trustops_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine


class Database:
    """An engine plus the two ways to use it: :meth:`write` and :meth:`read` transactions."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name

    @contextlib.contextmanager
    def write(self) -> Iterator[Connection]:
        """One write transaction: everything in it commits together or not at all."""
        with self.engine.connect() as conn:
            conn = conn.execution_options(trustops_write=True)
            with conn.begin():
                yield conn

    @contextlib.contextmanager
    def read(self) -> Iterator[Connection]:
        """One read transaction (a consistent snapshot on both databases)."""
        with self.engine.connect() as conn, conn.begin():
            yield conn

    def settings(self) -> dict[str, Any]:
        """The durability settings in force, for a start-up self-check and the tests.

        SQLite: journal_mode, synchronous, foreign_keys, busy_timeout;
        PostgreSQL: fsync, synchronous_commit, full_page_writes.
        """
        with self.engine.connect() as conn:
            if self.dialect == "sqlite":
                sync = {0: "off", 1: "normal", 2: "full", 3: "extra"}
                raw = conn.exec_driver_sql
                return {
                    "journal_mode": raw("PRAGMA journal_mode").scalar(),
                    "synchronous": sync[raw("PRAGMA synchronous").scalar()],  # type: ignore[index]
                    "foreign_keys": bool(raw("PRAGMA foreign_keys").scalar()),
                    "busy_timeout": raw("PRAGMA busy_timeout").scalar(),
                }
            names = ("fsync", "synchronous_commit", "full_page_writes")
            return {n: conn.exec_driver_sql(f"SHOW {n}").scalar() for n in names}

    def check_durable(self) -> None:
        """Refuse a store whose settings could lose an acknowledged write."""
        found = self.settings()
        if self.dialect == "sqlite":
            bad = found["journal_mode"] != "wal" or found["synchronous"] not in ("full", "extra")
        else:
            bad = any(found[n] == "off" for n in found)
        if bad:
            raise StoreError(f"the store is not durable: {found}")

    def close(self) -> None:
        self.engine.dispose()


def _alembic_config(conn: Connection) -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    config.attributes["connection"] = conn
    return config


def head_revision() -> str:
    """The newest migration's revision id."""
    from alembic.script import ScriptDirectory

    config = _alembic_config(None)  # type: ignore[arg-type]
    head = ScriptDirectory.from_config(config).get_current_head()
    assert head is not None
    return head


def _current_revision(conn: Connection) -> str | None:
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(conn).get_current_revision()


def _recorded_revision(conn: Connection) -> str | None:
    """The revision in ``alembic_version``, read with plain SQL (importing Alembic takes 0.4 s)."""
    if not sa.inspect(conn).has_table("alembic_version"):
        return None
    return conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()


def migrate(db: Database) -> None:
    """Bring the schema to the newest migration, under the write lock.

    A store already at :data:`SCHEMA_REVISION` is recognised without loading
    Alembic; a test keeps that constant equal to the newest migration.
    """
    with db.read() as conn:
        if _recorded_revision(conn) == SCHEMA_REVISION:
            return
    from alembic import command

    head = head_revision()
    with db.write() as conn:
        if db.dialect == "postgresql":
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_MIGRATION_LOCK})
        current = _current_revision(conn)
        if current == head:
            return
        command.upgrade(_alembic_config(conn), "head")


def open_database(url: str, *, migrate_schema: bool = True) -> Database:
    """Open the store at ``url`` (``sqlite:///PATH`` or ``postgresql://...``), migrated to head.

    A PostgreSQL URL needs the ``postgres`` extra (psycopg 3).
    """
    try:
        url = normalise_url(url)
    except (sa.exc.ArgumentError, ValueError):  # ValueError: a port that is not a number
        shown = re.sub(r"://([^:/@]*):[^@]*@", r"://\1:***@", url)  # never echo a password
        raise UsageError(f"not a database URL: {shown!r}") from None
    scheme = url.split(":", 1)[0]
    try:
        if url.startswith("sqlite"):
            engine = _sqlite_engine(url)
        elif url.startswith("postgresql"):
            try:
                import psycopg  # noqa: F401
            except ImportError:
                raise UsageError(
                    "a PostgreSQL store needs psycopg", hint="pip install 'trustops[postgres]'"
                ) from None
            engine = sa.create_engine(url, pool_pre_ping=True)
        else:
            raise UsageError(
                f"unsupported database {scheme!r}", hint="use sqlite:/// or postgresql://"
            )
    except (sa.exc.ArgumentError, ImportError):  # an unknown or missing driver ("sqlite+foo")
        raise UsageError(
            f"no database driver for {scheme!r}", hint="use sqlite:/// or postgresql://"
        ) from None
    db = Database(engine)
    try:
        db.check_durable()
        if migrate_schema:
            migrate(db)
    except sa.exc.DBAPIError as exc:
        db.close()
        from trustops.errors import first_line

        raise StoreError(f"cannot open the store: {first_line(exc)}") from None
    return db
