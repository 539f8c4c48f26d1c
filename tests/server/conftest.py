"""A real trustops server on a loopback port, over a fresh workspace on SQLite or PostgreSQL.

``server`` (one per test) and ``module_server`` (one per test module, for the
slow sweeps) are :class:`LiveServer` objects: ``url``, ``client(token)`` for an
httpx client, ``user(name, role, systems)`` to create a user with a role in
some systems and get a token's secret, ``registry()`` and ``identity()`` to
set up state directly, and ``log_lines()`` for what the server logged. Both
run uvicorn in a thread on a socket bound to 127.0.0.1 port 0; the
PostgreSQL half gets a schema of its own and is skipped, saying why, only
where no PostgreSQL answers.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from tests.governance.conftest import pg_schema
from trustops.governance import Registry, init_workspace
from trustops.governance.workspace import Settings, load_settings
from trustops.server.app import create_app
from trustops.server.ops import JSONFormatter

SERVER_LOGGER = "trustops.server"


@contextlib.contextmanager
def fresh_database(kind: str, folder: Path) -> Iterator[str]:
    """A database URL: a new SQLite file in ``folder``, or a new PostgreSQL schema."""
    if kind == "sqlite":
        yield f"sqlite:///{folder / 'store.db'}"
        return
    with pg_schema("trustops_server") as url:
        yield url


class _ListHandler(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []
        self.setFormatter(JSONFormatter())

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@dataclass
class LiveServer:
    """A running server and ways to set up its store."""

    url: str
    project: Path
    settings: Settings
    kind: str  # "sqlite" or "postgresql"
    _logs: _ListHandler
    _opened: list[Any] = field(default_factory=list)

    def client(self, token: str | None = None, **kwargs: Any) -> httpx.Client:
        """An httpx client on the server, sending ``token`` as a Bearer credential."""
        headers = dict(kwargs.pop("headers", {}))
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        client = httpx.Client(base_url=self.url, headers=headers, timeout=60, **kwargs)
        self._opened.append(client)
        return client

    def registry(self, actor: str = "setup") -> Registry:
        """A registry on the server's store, acting as ``actor`` (closed with the server)."""
        registry = Registry.open(settings=self.settings)
        registry.actor = actor
        self._opened.append(registry)
        return registry

    def identity(self, actor: str = "setup") -> Any:
        from trustops.governance.identity import Identity

        return Identity(self.registry(actor))

    def user(
        self,
        name: str,
        role: str | None = None,
        systems: Sequence[str] = (),
        *,
        admin: bool = False,
    ) -> str:
        """Create ``name`` with ``role`` in each of ``systems`` (or an admin); the token secret."""
        identity = self.identity()
        identity.create_user(name, admin=admin)
        for system in systems:
            assert role is not None, "a role to hold in the systems"
            identity.grant(name, system, role)
        return str(identity.issue_token(name).secret)

    def log_lines(self) -> list[str]:
        """The JSON lines the server has logged so far."""
        return list(self._logs.lines)

    def close(self) -> None:
        for thing in reversed(self._opened):
            thing.close()


@contextlib.contextmanager
def run_server(
    project: Path, database_url: str, kind: str, **app_options: Any
) -> Iterator[LiveServer]:
    """Serve a fresh workspace in ``project`` on ``database_url`` until the block ends."""
    project.mkdir(parents=True, exist_ok=True)
    ws = init_workspace(project, actor="setup")
    settings = load_settings(ws, env={}, overrides={"database_url": database_url})
    app = create_app(settings, **app_options)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, access_log=False, log_config=None, lifespan="on")
    server = uvicorn.Server(config)
    handler = _ListHandler()
    logger = logging.getLogger(SERVER_LOGGER)
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.01)
    live = LiveServer(f"http://127.0.0.1:{port}", project, settings, kind, handler)
    try:
        yield live
    finally:
        live.close()
        server.should_exit = True
        thread.join(30)
        logger.removeHandler(handler)
        sock.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[LiveServer]:
    """A server over a fresh workspace (SQLite file or PostgreSQL schema), for one test."""
    with (
        fresh_database(request.param, tmp_path) as url,
        run_server(tmp_path / "project", url, request.param) as live,
    ):
        yield live


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def module_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """A server shared by one test module (state accumulates: create unique names)."""
    folder = tmp_path_factory.mktemp(f"server-{request.param}")
    with (
        fresh_database(request.param, folder) as url,
        run_server(folder / "project", url, request.param) as live,
    ):
        yield live
