"""kill -9 of a real ``trustops serve`` process during ingestion; restart; the client retries.

Every acknowledged record must be stored exactly once, on SQLite and on
PostgreSQL (REFERENCES §2.4): a batch whose answer was lost is sent again
with the same Idempotency-Key and either stored then or answered from the
stored copy, never twice.
"""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from tests.server.conftest import fresh_database
from trustops.client import Client, ClientError
from trustops.governance import Registry, init_workspace
from trustops.governance import schema as t
from trustops.governance.identity import Identity
from trustops.governance.workspace import load_settings

BATCH = 200
SENDERS = 3


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ServerProcess:
    """``trustops serve`` in a child process of its own."""

    def __init__(self, project: Path, database_url: str, log: Path) -> None:
        self.project, self.database_url, self.log = project, database_url, log
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None
        self.settings: Any = None

    def start(self) -> None:
        trustops = Path(sys.executable).with_name("trustops")
        env = {**os.environ, "TRUSTOPS_WORKSPACE": str(self.project),
               "TRUSTOPS_DATABASE_URL": self.database_url}  # fmt: skip
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                [str(trustops), "serve", "--port", str(self.port), "--log-level", "warning"],
                env=env,
                stdout=log,
                stderr=log,
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.log.read_text()
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.05)
        raise RuntimeError("trustops serve did not start")

    def kill(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(30)


@pytest.fixture(params=["sqlite", "postgresql"])
def setup(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[ServerProcess, str]]:
    with fresh_database(request.param, tmp_path) as url:
        project = tmp_path / "project"
        project.mkdir()
        settings = load_settings(init_workspace(project, actor="setup"), env={},
                                 overrides={"database_url": url})  # fmt: skip
        with Registry.open(settings=settings) as registry:
            registry.create_system("credit")
            registry.register_model(b"weights", system="credit", name="scorer")
            identity = Identity(registry)
            identity.create_user("feeder")
            identity.grant("feeder", "credit", "data_scientist")
            token = identity.issue_token("feeder").secret
        server = ServerProcess(project, url, tmp_path / "server.log")
        server.settings = settings
        try:
            yield server, token
        finally:
            server.stop()


def batch(sender: int, number: int) -> list[dict[str, Any]]:
    return [
        {
            "prediction_id": f"s{sender}-b{number}-r{i}",
            "timestamp": "2026-11-27T10:00:00Z",
            "prediction": i % 2,
            "features": {"x": i},
        }
        for i in range(BATCH)
    ]


def test_kill_9_during_ingestion_loses_no_acknowledged_record(
    setup: tuple[ServerProcess, str],
) -> None:
    server, token = setup
    server.start()
    acked: set[str] = set()
    pending: list[tuple[str, list[dict[str, Any]]]] = []
    lock = threading.Lock()
    stop = threading.Event()
    first_acks = threading.Semaphore(0)

    def send(sender: int) -> None:
        # One attempt per batch while the server runs: a failure leaves the batch pending.
        with Client(server.url, token=token, max_attempts=1, timeout=10) as client:
            number = 0
            while not stop.is_set():
                records, key = batch(sender, number), f"s{sender}-b{number}"
                number += 1
                try:
                    client.log_predictions("credit", "scorer@1", records, key=key)
                except ClientError:
                    with lock:
                        pending.append((key, records))
                    return  # the server is gone
                with lock:
                    acked.update(r["prediction_id"] for r in records)
                first_acks.release()

    senders = [threading.Thread(target=send, args=(s,)) for s in range(SENDERS)]
    for thread in senders:
        thread.start()
    for _ in range(3):  # ingestion is under way
        assert first_acks.acquire(timeout=60)
    time.sleep(random.uniform(0, 0.5))
    server.kill()
    stop.set()
    for thread in senders:
        thread.join(60)
    assert pending, "every sender was cut off mid-batch"

    server.start()  # the same store, a new process
    with Client(server.url, token=token, backoff=0.05) as client:
        for key, records in pending:
            answer = client.log_predictions("credit", "scorer@1", records, key=key)
            assert answer["accepted"] == BATCH
            acked.update(r["prediction_id"] for r in records)

    with Registry.open(settings=server.settings) as registry:
        with registry.db.read() as conn:
            ids = list(conn.execute(sa.select(t.predictions.c.prediction_id)).scalars())
        assert len(ids) == len(set(ids)), "a record was stored twice"
        assert set(ids) == acked, "an acknowledged record is missing (or an unsent one stored)"
        logged = [e for e in registry.audit.entries() if e.action == "predictions.logged"]
        assert len(logged) == len(ids) // BATCH
        assert registry.audit.verify().ok
