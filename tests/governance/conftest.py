"""Store fixtures: every store test runs on SQLite (a real file) and on PostgreSQL.

PostgreSQL comes from ``TRUSTOPS_TEST_DATABASE_URL`` (default: the local
server on 127.0.0.1:5432, database ``test``); each test gets a schema of its
own, dropped afterwards. Where no server answers, the PostgreSQL half is
skipped with a message saying so; SQLite still covers everything.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import sqlalchemy as sa

from trustops.governance import Registry, init_workspace
from trustops.governance.workspace import load_settings

PG_URL = os.environ.get("TRUSTOPS_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
_pg_checked: dict[str, str | None] = {}


def _pg_unavailable() -> str | None:
    """None if PostgreSQL answers, else why not (checked once per run)."""
    if "reason" not in _pg_checked:
        try:
            from trustops.governance.database import normalise_url

            engine = sa.create_engine(normalise_url(PG_URL), connect_args={"connect_timeout": 3})
            with engine.connect() as conn:
                conn.exec_driver_sql("SELECT 1")
            engine.dispose()
            _pg_checked["reason"] = None
        except Exception as exc:  # any failure means: no server to test on here
            _pg_checked["reason"] = f"no PostgreSQL at {PG_URL} ({type(exc).__name__})"
    return _pg_checked["reason"]


@contextlib.contextmanager
def pg_schema(prefix: str = "trustops_test") -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a fresh schema, dropped afterwards (or a skip)."""
    reason = _pg_unavailable()
    if reason:
        pytest.skip(f"PostgreSQL half skipped: {reason}")
    from trustops.governance.database import normalise_url

    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(normalise_url(PG_URL))
    with admin.begin() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    sep = "&" if "?" in PG_URL else "?"
    try:
        yield f"{PG_URL}{sep}options={quote(f'-csearch_path={schema}')}"
    finally:
        with admin.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.dispose()


@pytest.fixture
def pg_schema_url() -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a fresh schema, dropped afterwards."""
    with pg_schema() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The store URL for this test: a SQLite file in tmp_path, or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    return str(request.getfixturevalue("pg_schema_url"))


@pytest.fixture
def workspace(tmp_path: Path, database_url: str) -> Path:
    """A project directory with an initialised ``.trustops`` workspace using ``database_url``."""
    project = tmp_path / "project"
    project.mkdir()
    ws = init_workspace(project, actor="alice")
    config = ws.config_file.read_text().replace(
        "[store]\n", f'[store]\ndatabase_url = "{database_url}"\n'
    )
    ws.config_file.write_text(config)
    return project


@pytest.fixture
def open_registry(workspace: Path) -> Iterator[Callable[..., Registry]]:
    """Open registries on the test's workspace (closed at the end); kwargs override settings."""
    opened: list[Registry] = []

    def make(**overrides: Any) -> Registry:
        from trustops.governance import find_workspace

        settings = load_settings(find_workspace(workspace), env={}, overrides=overrides)
        registry = Registry.open(settings=settings)
        opened.append(registry)
        return registry

    yield make
    for registry in opened:
        registry.close()


@pytest.fixture
def registry(open_registry: Callable[..., Registry]) -> Registry:
    """A registry on a fresh store (SQLite or PostgreSQL), acting as "alice"."""
    return open_registry()
