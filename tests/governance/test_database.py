"""The store's connections, durability settings, migrations and append-only triggers.

Every test that opens a store runs on SQLite (a real file) and on PostgreSQL
(a fresh schema), through the ``database_url`` fixture of ``conftest.py``.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from trustops.errors import TrustOpsError, UsageError
from trustops.governance import Registry
from trustops.governance import schema as t
from trustops.governance.database import (
    SCHEMA_REVISION,
    Database,
    StoreError,
    head_revision,
    normalise_url,
    open_database,
)


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = open_database(database_url)
    yield database
    database.close()


def _diffs(database: Database, metadata: sa.MetaData) -> list[Any]:
    with database.engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "compare_server_default": True}
        )
        return list(compare_metadata(context, metadata))


# -- durability settings --------------------------------------------------------


def test_sqlite_settings_are_durable(tmp_path: Path) -> None:
    database = open_database(f"sqlite:///{tmp_path / 'store.db'}")
    try:
        found = database.settings()
        assert found["journal_mode"] == "wal"
        assert found["synchronous"] == "full"
        assert found["foreign_keys"] is True
        assert found["busy_timeout"] >= 5000
        database.check_durable()
        # every pooled connection gets the same pragmas, not only the first one
        with database.engine.connect() as a, database.engine.connect() as b:
            for conn in (a, b):
                assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
                assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2
    finally:
        database.close()
    assert (tmp_path / "store.db").is_file()


def test_sqlite_write_takes_the_lock_at_begin(tmp_path: Path) -> None:
    """A write transaction holds the write lock from its first statement (BEGIN IMMEDIATE)."""
    url = f"sqlite:///{tmp_path / 'store.db'}"
    database = open_database(url)
    try:
        other = sa.create_engine(url, connect_args={"timeout": 0, "isolation_level": None})
        with database.write() as conn:
            conn.exec_driver_sql("SELECT 1")  # nothing written yet, the lock is held anyway
            with other.connect() as o, pytest.raises(sa.exc.OperationalError, match="locked"):
                o.exec_driver_sql("BEGIN IMMEDIATE")
        with other.connect() as o:  # released at commit
            o.exec_driver_sql("BEGIN IMMEDIATE")
            o.exec_driver_sql("ROLLBACK")
        other.dispose()
    finally:
        database.close()


def test_sqlite_store_that_is_not_durable_is_refused() -> None:
    with pytest.raises(StoreError, match="not durable"):
        open_database("sqlite://")  # in memory: journal_mode is "memory", not WAL


def test_postgresql_durability_settings(pg_schema_url: str) -> None:
    database = open_database(pg_schema_url)
    try:
        assert database.dialect == "postgresql"
        found = database.settings()
        assert set(found) == {"fsync", "synchronous_commit", "full_page_writes"}
        assert all(isinstance(v, str) and v for v in found.values())
        assert "off" not in found.values()  # open_database refuses a store that could lose writes
        database.check_durable()
    finally:
        database.close()


def test_postgresql_store_that_is_not_durable_is_refused(
    pg_schema_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = Database.settings

    def relaxed(self: Database) -> dict[str, Any]:
        return {**real(self), "synchronous_commit": "off"}

    monkeypatch.setattr(Database, "settings", relaxed)
    with pytest.raises(StoreError, match="not durable"):
        open_database(pg_schema_url)


# -- migrations -----------------------------------------------------------------


def test_newest_migration_creates_exactly_the_schema(db: Database) -> None:
    with db.engine.connect() as conn:
        tables = set(sa.inspect(conn).get_table_names())
        assert MigrationContext.configure(conn).get_current_revision() == head_revision()
    assert tables == set(t.metadata.tables) | {"alembic_version"}
    assert _diffs(db, t.metadata) == []
    assert head_revision() == SCHEMA_REVISION  # what open_database takes for "up to date"


def test_schema_comparison_sees_a_difference(db: Database) -> None:
    """The comparison above is not vacuous: a column the migration lacks shows up."""
    changed = copy.deepcopy(t.metadata)
    changed.tables["systems"].append_column(sa.Column("extra", sa.Integer, nullable=True))
    diffs = _diffs(db, changed)
    assert [(d[0], d[2], d[3].name) for d in diffs] == [("add_column", "systems", "extra")]


def test_opening_twice_does_not_migrate_again(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from alembic import command

    real = command.upgrade
    calls: list[str] = []

    def counting(config: Any, revision: str, **kw: Any) -> None:
        calls.append(revision)
        real(config, revision, **kw)

    monkeypatch.setattr(command, "upgrade", counting)
    first = open_database(database_url)
    first.close()
    assert calls == ["head"]
    second = open_database(database_url)
    try:
        assert calls == ["head"]  # already at head: no second migration
        with second.read() as conn:
            versions = conn.exec_driver_sql("SELECT version_num FROM alembic_version").all()
            assert [v[0] for v in versions] == [head_revision()]
            head = conn.execute(sa.select(t.audit_head.c.id, t.audit_head.c.size)).all()
            assert [tuple(r) for r in head] == [(1, 0)]  # the migration's row, inserted once
    finally:
        second.close()


def test_open_without_migrating_leaves_the_database_empty(database_url: str) -> None:
    database = open_database(database_url, migrate_schema=False)
    try:
        with database.engine.connect() as conn:
            assert sa.inspect(conn).get_table_names() == []
    finally:
        database.close()


# -- append-only tables -----------------------------------------------------------


def _fill_append_only_tables(registry: Registry) -> None:
    registry.create_system("credit")
    mv = registry.register_model(b"weights", system="credit", name="scorer", code_commit=None)
    registry.record_evidence("fairness", mv, {"ratio": 0.9})
    registry.promote("scorer@1", "staging")  # a stage transition and a signed checkpoint
    from trustops.core.policy import Context, EvidenceItem, evaluate
    from trustops.policy import load_policy

    policy = load_policy("eeoc-four-fifths")
    decision = evaluate(policy, [EvidenceItem("fairness", {"four_fifths": []})], Context())
    registry.record_decision(decision, policy, mv)  # a stored policy


def _snapshot(registry: Registry, table: sa.Table) -> list[tuple[Any, ...]]:
    with registry.db.read() as conn:
        return [tuple(r) for r in conn.execute(sa.select(table).order_by(*table.primary_key))]


_FORGED = {
    "audit_entries": {"actor": "mallory"},
    "audit_checkpoints": {"note": "forged"},
    "evidence": {"content": "{}"},
    "stage_transitions": {"reason": "forged"},
    "policies": {"content": "{}"},
}


@pytest.mark.parametrize("table_name", list(_FORGED))  # the others: in their part's tests
def test_append_only_tables_refuse_update_and_delete(
    open_registry: Callable[..., Registry], table_name: str
) -> None:
    registry = open_registry()
    _fill_append_only_tables(registry)
    table = t.metadata.tables[table_name]
    before = _snapshot(registry, table)
    assert before, f"{table_name} should have rows to protect"
    statements: list[Any] = [table.update().values(_FORGED[table_name]), table.delete()]
    if registry.db.dialect == "postgresql":
        statements.append(sa.text(f"TRUNCATE {table_name}"))
    for statement in statements:
        with (
            pytest.raises(sa.exc.DBAPIError, match="append-only"),
            registry.db.engine.begin() as conn,
        ):
            conn.execute(statement)
        assert _snapshot(registry, table) == before
    assert registry.audit.verify().ok


def test_migration_declares_the_same_append_only_tables() -> None:
    import importlib.util

    path = Path(t.__file__).with_name("migrations") / "versions" / "0001_initial.py"
    spec = importlib.util.spec_from_file_location("trustops_migration_0001", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    # 0002 adds the policies table; later parts' tables follow (tests/monitoring, ...)
    assert (*module.APPEND_ONLY, "policies") == t.APPEND_ONLY[: len(module.APPEND_ONLY) + 1]


# -- bad URLs ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "",
        "not a url",
        "://nothing",
        "mysql://user@localhost/db",
        "oracle://user@localhost/db",
        "sqlite+nosuchdriver:///store.db",
        "postgresql+nosuchdriver://user@localhost/db",
        "postgresql://user@localhost:notaport/db",
    ],
)
def test_bad_url_is_a_usage_error(url: str) -> None:
    with pytest.raises(UsageError) as caught:
        open_database(url)
    assert caught.value.__cause__ is None or isinstance(caught.value.__cause__, TrustOpsError)


@pytest.mark.parametrize(
    "url",
    [
        "sqlite:///{tmp}/no/such/folder/store.db",
        "postgresql://postgres@127.0.0.1:1/test",  # nothing listens on port 1
    ],
)
def test_unreachable_store_is_a_store_error(url: str, tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="cannot open the store") as caught:
        open_database(url.format(tmp=tmp_path))
    assert caught.value.status == 503
    assert "\n" not in str(caught.value)


def test_normalise_url_means_psycopg_and_keeps_credentials() -> None:
    assert (
        normalise_url("postgresql://u:p%40ss@h:5433/d") == "postgresql+psycopg://u:p%40ss@h:5433/d"
    )
    assert normalise_url("postgres://u@h/d") == "postgresql+psycopg://u@h/d"
    assert normalise_url("sqlite:///x.db") == "sqlite:///x.db"
