"""Benchmark of continuous monitoring (issue 8): prediction ingestion and window evaluation.

Parts (each a function of its own; ``--only NAME`` runs one):

- ``ingest_store``: the ingestion service alone (validation, Arrow batch,
  index rows, audit entry, commit) on SQLite, batches of 1,000, no HTTP;
- ``ingest_http``: ``trustops serve`` in its own process on SQLite, clients
  on loopback posting JSON batches of 1,000 predictions with an
  Idempotency-Key. Target: at least 20,000 predictions/s;
- ``single_latency``: single-prediction posts sent open-loop at 200
  requests/s (each request's latency counts from when it was due, so a
  stall is not hidden by the sender waiting); target: p99 under 50 ms;
- ``window_eval``: monitor-window evaluation of 1M predictions, every kind
  of check (``bench/monitoring_windows.py``).

Usage::

    python bench/monitoring_bench.py [--quick] [--only PART] [--database-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import machine
from monitoring_windows import window_eval

THROUGHPUT_TARGET = 20_000  # predictions/s
LATENCY_TARGET_MS = 50.0
RATE = 200  # single-prediction posts per second
BATCH = 1000


def say(text: str = "") -> None:
    print(text, flush=True)


def records(batch: int, size: int, features: int = 10) -> list[dict[str, Any]]:
    """``size`` predictions with ``features`` numeric features and one sensitive attribute."""
    return [
        {
            "prediction_id": f"b{batch}-r{i}",
            "timestamp": f"2026-11-27T{(i // 3600) % 24:02d}:{(i // 60) % 60:02d}:{i % 60:02d}Z",
            "prediction": (i * 7 + batch) % 2,
            "score": ((i * 37 + batch) % 100) / 100,
            "features": {f"f{j}": (i * (j + 3) + batch) % 1000 / 7 for j in range(features)},
            "sensitive": {"sex": "F" if (i + batch) % 2 else "M"},
        }
        for i in range(size)
    ]


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


# -- a store and a server ------------------------------------------------------------


def make_store(workdir: Path, database_url: str | None) -> tuple[Path, Any, str]:
    """A workspace with system ``credit``, model ``scorer@1`` and a data scientist's token."""
    from trustops.governance import Registry, init_workspace
    from trustops.governance.identity import Identity
    from trustops.governance.workspace import load_settings

    project = workdir / f"project-{uuid.uuid4().hex[:8]}"
    project.mkdir()
    overrides = {"database_url": database_url} if database_url else {}
    settings = load_settings(init_workspace(project, actor="bench"), env={}, overrides=overrides)
    with Registry.open(settings=settings) as registry:
        registry.create_system("credit")
        registry.register_model(b"weights", system="credit", name="scorer")
        identity = Identity(registry)
        identity.create_user("feeder")
        identity.grant("feeder", "credit", "data_scientist")
        token = identity.issue_token("feeder").secret
    return project, settings, token


class Server:
    """``trustops serve`` in a process of its own, on a free loopback port."""

    def __init__(self, project: Path, database_url: str | None) -> None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "TRUSTOPS_WORKSPACE": str(project)}
        if database_url:
            env["TRUSTOPS_DATABASE_URL"] = database_url
        trustops = Path(sys.executable).with_name("trustops")
        command = [str(trustops), "serve", "--port", str(self.port), "--log-level", "warning"]
        self.process = subprocess.Popen(command, env=env)
        import httpx

        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("trustops serve did not start")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(30)


# -- parts -----------------------------------------------------------------------------


def ingest_store(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    """Batches of 1,000 through the ingestion service, without HTTP."""
    from trustops.governance import Registry
    from trustops.monitoring.ingest import Ingestion

    say("## Ingestion service alone (SQLite, batches of 1,000, one process)\n")
    _, settings, _ = make_store(workdir, args.database_url)
    bodies = [json.dumps(records(b, BATCH)).encode() for b in range(args.batches)]
    with Registry.open(settings=settings) as registry:
        log = Ingestion(registry)
        log.log_predictions("credit/scorer@1", records(-1, BATCH), key="warm-up")
        times = []
        for number, body in enumerate(bodies):
            start = time.perf_counter()
            log.log_predictions("credit/scorer@1", body, key=f"k{number}")
            times.append(time.perf_counter() - start)
    rate = BATCH * len(times) / sum(times)
    say(
        f"{len(times)} batches: median {statistics.median(times) * 1000:.1f} ms per batch, "
        f"p95 {pct(times, 0.95) * 1000:.1f} ms; {rate:,.0f} predictions/s\n"
    )
    return {"rate": rate}


def ingest_http(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    """Concurrent clients posting batches of 1,000 to ``trustops serve`` on loopback."""
    import httpx

    say(f"## Ingestion over HTTP (trustops serve, batches of 1,000, {args.clients} clients)\n")
    project, _, token = make_store(workdir, args.database_url)
    server = Server(project, args.database_url)
    try:
        route = f"{server.url}/api/v1/systems/credit/models/scorer@1/predictions"
        bodies = [json.dumps(records(b, BATCH)).encode() for b in range(args.batches)]
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        with httpx.Client(headers=headers, timeout=60) as client:  # warm-up
            body = json.dumps(records(-1, BATCH)).encode()
            client.post(route, content=body, headers={"Idempotency-Key": "warm-up"})
        queue = list(enumerate(bodies))
        lock = threading.Lock()
        failures: list[str] = []

        def send() -> None:
            with httpx.Client(headers=headers, timeout=60) as client:
                while True:
                    with lock:
                        if not queue:
                            return
                        number, body = queue.pop()
                    answer = client.post(
                        route, content=body, headers={"Idempotency-Key": f"k{number}"}
                    )
                    if answer.status_code != 201:
                        failures.append(f"{answer.status_code} {answer.text[:200]}")

        threads = [threading.Thread(target=send) for _ in range(args.clients)]
        start = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wall = time.perf_counter() - start
    finally:
        server.stop()
    if failures:
        raise RuntimeError(f"{len(failures)} batches failed, e.g. {failures[0]}")
    rate = BATCH * len(bodies) / wall
    verdict = "MET" if rate >= THROUGHPUT_TARGET else "MISSED"
    say(
        f"{len(bodies)} batches ({BATCH * len(bodies):,} predictions) in {wall:.2f} s: "
        f"{rate:,.0f} predictions/s (target >= {THROUGHPUT_TARGET:,}: {verdict})\n"
    )
    return {"rate": rate, "met": rate >= THROUGHPUT_TARGET}


def single_latency(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    """Single-prediction posts, open loop at 200/s; latency from each request's due time."""
    import httpx

    say(f"## Single-prediction posts at {RATE}/s for {args.seconds} s (open loop)\n")
    project, _, token = make_store(workdir, args.database_url)
    server = Server(project, args.database_url)
    count = RATE * args.seconds
    bodies = [json.dumps(records(n, 1)).encode() for n in range(count)]
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    spans: list[float] = []

    async def run() -> None:
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
        route = f"{server.url}/api/v1/systems/credit/models/scorer@1/predictions"
        async with httpx.AsyncClient(headers=headers, timeout=300, limits=limits) as client:
            for n in range(20):  # warm-up: connections, caches
                body = json.dumps(records(-1 - n, 1)).encode()
                await client.post(route, content=body, headers={"Idempotency-Key": f"w{n}"})

            async def one(number: int, due: float) -> None:
                delay = due - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                try:
                    answer = await client.post(
                        route, content=bodies[number], headers={"Idempotency-Key": f"s{number}"}
                    )
                except httpx.HTTPError as exc:  # counted, not timed: the run goes on
                    outcome = type(exc).__name__
                else:
                    latencies.append(time.perf_counter() - due)
                    outcome = str(answer.status_code)
                statuses[outcome] = statuses.get(outcome, 0) + 1

            start = time.perf_counter() + 0.1
            await asyncio.gather(*(one(n, start + n / RATE) for n in range(count)))
            spans.append(time.perf_counter() - start)

    try:
        asyncio.run(run())
    finally:
        server.stop()
    ms = [x * 1000 for x in latencies] or [float("inf")]
    p99 = pct(ms, 0.99) if len(latencies) == count else float("inf")  # a failure counts as late
    verdict = "MET" if p99 < LATENCY_TARGET_MS else "MISSED"
    say(
        f"{count} posts in {spans[0]:.1f} s ({count / spans[0]:.0f}/s served), "
        f"statuses {statuses}: p50 {pct(ms, 0.5):.1f} ms, p95 {pct(ms, 0.95):.1f} "
        f"ms, p99 {p99:.1f} ms, max {max(ms):.1f} ms (target p99 < {LATENCY_TARGET_MS:.0f} ms: "
        f"{verdict})\n"
    )
    return {"p99": p99, "met": p99 < LATENCY_TARGET_MS}


PARTS: dict[str, Callable[[argparse.Namespace, Path], dict[str, Any]]] = {
    "ingest_store": ingest_store,
    "ingest_http": ingest_http,
    "single_latency": single_latency,
    "window_eval": window_eval,
}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="small sizes (smoke run, < 1 min)")
    ap.add_argument("--only", choices=sorted(PARTS), help="run one part")
    ap.add_argument("--batches", type=int, help="batches of 1,000 to ingest (200; quick 20)")
    ap.add_argument("--clients", type=int, default=4, help="concurrent HTTP clients (4)")
    ap.add_argument("--seconds", type=int, help="length of the latency run (30; quick 5)")
    ap.add_argument("--database-url", help="a store other than a SQLite file (e.g. PostgreSQL)")
    args = ap.parse_args(argv)
    args.batches = args.batches or (20 if args.quick else 200)
    args.seconds = args.seconds or (5 if args.quick else 30)
    say("# trustops monitoring benchmark\n")
    say(
        f"batches={args.batches}  clients={args.clients}  seconds={args.seconds}  "
        f"quick={args.quick}"
    )
    say(machine.machine_line())
    say(f"source: {machine.source_state()}")
    import sqlite3

    packages = ("trustops", "fastapi", "uvicorn", "httpx", "pyarrow", "sqlalchemy")
    found = machine.versions(packages, sqlite=sqlite3.sqlite_version)
    say("versions: " + ", ".join(f"{k} {v}" for k, v in found.items()))
    say(f"store: {args.database_url or 'SQLite file (WAL, synchronous=FULL)'}")
    say(f"load average at start (1/5/15 min): {machine.load()}\n")
    workdir = Path(tempfile.mkdtemp(prefix="trustops-monitoring-bench-"))
    try:
        for name, part in PARTS.items():
            if args.only in (None, name):
                part(args, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
