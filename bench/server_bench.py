#!/usr/bin/env python
"""Server benchmark: throughput and p50/p99 latency of read and write endpoints on loopback.

For each store (SQLite, a real file in WAL mode with ``synchronous=FULL``;
PostgreSQL, a fresh schema at ``TRUSTOPS_TEST_DATABASE_URL``, default
``postgresql://postgres@127.0.0.1:5432/test``, skipped with a note when none
answers): a fresh workspace, and ``trustops serve`` started as its own
process on a free loopback port (JSON logs to a file, as in production).

Set-up through the API, not timed: an administrator (made directly in the
store, as ``trustops admin create`` does), a system, a data scientist, a
reviewer and a compliance officer with tokens, a dataset (a small CSV), a
model version with two evidence records and ``--decisions`` recorded policy
decisions, and, for the approve phase, ``--writes`` more model versions each
with a pending approval request.

Then four phases, each a load generator of ``--clients`` threads on this
machine, each thread with its own httpx client (keep-alive), sending as
fast as answers come back (a closed loop; ``wrk`` is not used):

- ``GET .../models/scorer@1/page``: the model page JSON (evidence,
  decisions, history, gate, approvals, lineage) — ``--reads`` requests;
- ``GET /systems/{system}/decisions``: the decision list — ``--reads`` requests;
- ``POST /systems/{system}/models``: register a model version by uploading a
  4 KiB artifact (hashed, fsynced into the artifact store, one audited write
  transaction) — ``--writes`` requests;
- ``POST /approvals/{id}/decision``: a reviewer's approving vote on each of
  the pending requests (one audited write transaction) — ``--writes`` requests.

Each request is timed on the client (``perf_counter`` around the call);
throughput = requests / wall time of the phase; p50/p99 over every request.
Every answer must be the expected 2xx (errors are counted and shown). The
client and the server share the machine's cores, so the numbers are a floor
for a server on its own machine.

Usage:
    python bench/server_bench.py [--quick] [--clients N] [--reads N] [--writes N]
        [--decisions N] [--skip-postgres]
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

import machine
from machine import load, machine_line, source_state

PG_DEFAULT = "postgresql://postgres@127.0.0.1:5432/test"
ARTIFACT_BYTES = 4096
POLICY = "policy: bench\nrules:\n  - {id: has-artifact, kind: field, field: model.artifact_hash}\n"
CSV = b"age,income,approved\n" + b"".join(
    f"{20 + i % 50},{100 + i % 70},{i % 2}\n".encode() for i in range(200)
)


def say(text: str = "") -> None:
    print(text, flush=True)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def pg_url() -> str:
    return os.environ.get("TRUSTOPS_TEST_DATABASE_URL", PG_DEFAULT)


def pg_unavailable(url: str) -> str | None:
    import sqlalchemy as sa

    from trustops.governance.database import normalise_url

    try:
        engine = sa.create_engine(normalise_url(url), connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
        engine.dispose()
    except Exception as exc:  # any failure means: no server to measure on here
        return f"no PostgreSQL answers ({type(exc).__name__})"
    return None


@contextmanager
def database(kind: str, folder: Path) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{folder / 'trustops.db'}"
        return
    import sqlalchemy as sa

    from trustops.governance.database import normalise_url

    base = pg_url()
    schema = f"trustops_bench_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(normalise_url(base))
    with admin.begin() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    sep = "&" if "?" in base else "?"
    try:
        yield f"{base}{sep}options={quote(f'-csearch_path={schema}')}"
    finally:
        with admin.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.dispose()


@contextmanager
def served(project: Path, url: str) -> Iterator[tuple[str, str]]:
    """``trustops serve`` on a fresh workspace: yields (base URL, an administrator's token)."""
    from trustops.governance import Registry, init_workspace
    from trustops.governance.identity import Identity
    from trustops.governance.workspace import load_settings

    project.mkdir(parents=True)
    ws = init_workspace(project, actor="bench")
    settings = load_settings(ws, env={}, overrides={"database_url": url})
    with Registry.open(settings=settings) as registry:
        identity = Identity(registry)
        identity.create_user("root", admin=True)
        token = identity.issue_token("root").secret
    port = free_port()
    env = {**os.environ, "TRUSTOPS_WORKSPACE": str(project), "TRUSTOPS_DATABASE_URL": url}
    log = open(project / "server.log", "w")  # noqa: SIM115 (closed below)
    script = Path(sys.executable).with_name("trustops")
    process = subprocess.Popen(
        [str(script), "serve", "--port", str(port), "--log-level", "warning"],
        env=env, stdout=subprocess.DEVNULL, stderr=log,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"trustops serve did not start; see {project / 'server.log'}")
            time.sleep(0.1)
        yield base, token
    finally:
        process.terminate()
        process.wait(30)
        log.close()


def check(response: httpx.Response, status: int) -> httpx.Response:
    if response.status_code != status:
        raise RuntimeError(f"{response.request.url.path}: {response.status_code} {response.text}")
    return response


def setup(base: str, root: str, writes: int, decisions: int) -> dict[str, Any]:
    """The state the phases read and write; returns tokens and the pending request ids."""
    admin = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {root}"}, timeout=120)
    check(admin.post("/api/v1/systems", json={"name": "credit", "risk": "high"}), 201)
    tokens = {}
    for name, role in [("dana", "data_scientist"), ("rita", "reviewer"),
                       ("carl", "compliance_officer")]:  # fmt: skip
        check(admin.post("/api/v1/users", json={"name": name}), 201)
        check(admin.put(f"/api/v1/systems/credit/members/{name}", json={"role": role}), 200)
        issued = check(admin.post(f"/api/v1/users/{name}/tokens", json={}), 201)
        tokens[name] = issued.json()["secret"]
    dana = httpx.Client(
        base_url=base, headers={"Authorization": f"Bearer {tokens['dana']}"}, timeout=120
    )
    check(
        dana.post(
            "/api/v1/systems/credit/datasets",
            data={"name": "train"},
            files={"file": ("train.csv", CSV)},
        ),
        201,
    )

    def register(name: str, i: int) -> None:
        check(
            dana.post(
                "/api/v1/systems/credit/models",
                data={"name": name, "trained_on": ["train@1"]},
                files={"file": ("m.bin", i.to_bytes(8, "big") * (ARTIFACT_BYTES // 8))},
            ),
            201,
        )

    register("scorer", 0)
    for kind in ("fairness", "drift"):
        check(
            dana.post(
                "/api/v1/systems/credit/models/scorer@1/evidence",
                json={"kind": kind, "content": {"impact_ratio": 0.9, "psi": 0.02}},
            ),
            201,
        )
    for _ in range(decisions):
        check(
            dana.post("/api/v1/systems/credit/models/scorer@1/decisions", json={"policy": POLICY}),
            201,
        )
    requests = []
    for i in range(writes):
        register(f"candidate{i}", i + 1)
        made = dana.post(f"/api/v1/systems/credit/models/candidate{i}@1/approvals", json={})
        requests.append(check(made, 201).json()["id"])
    admin.close()
    dana.close()
    return {"tokens": tokens, "requests": requests}


def run_phase(
    base: str,
    token: str,
    clients: int,
    count: int,
    send: Callable[[httpx.Client, int], httpx.Response],
    status: int,
) -> dict[str, Any]:
    """``count`` requests from ``clients`` threads; latencies in seconds, wall time, errors."""
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    counter = iter(range(count))

    def worker() -> None:
        with httpx.Client(
            base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=120
        ) as client:
            while True:
                with lock:
                    i = next(counter, None)
                if i is None:
                    return
                t0 = time.perf_counter()
                response = send(client, i)
                elapsed = time.perf_counter() - t0
                with lock:
                    latencies.append(elapsed)
                    if response.status_code != status:
                        errors.append(f"{response.status_code} {response.text[:120]}")

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    t0 = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - t0
    return {"latencies": latencies, "wall": wall, "errors": errors}


def measure(kind: str, args: argparse.Namespace, workdir: Path) -> list[dict[str, Any]]:
    rows = []
    with database(kind, workdir) as url, served(workdir / f"project-{kind}", url) as (base, root):
        t0 = time.perf_counter()
        state = setup(base, root, args.writes, args.decisions)
        say(f"{kind}: set-up through the API in {time.perf_counter() - t0:.1f} s")
        tokens, requests = state["tokens"], state["requests"]
        artifact = os.urandom(ARTIFACT_BYTES)
        # one warm-up request per endpoint (imports, caches), not timed
        with httpx.Client(
            base_url=base, headers={"Authorization": f"Bearer {tokens['rita']}"}
        ) as warm:
            check(warm.get("/api/v1/systems/credit/models/scorer@1/page"), 200)
            check(warm.get("/api/v1/systems/credit/decisions"), 200)
        phases: list[tuple[str, str, int, Callable[[httpx.Client, int], httpx.Response], int]] = [
            (
                "GET model page",
                "rita",
                args.reads,
                lambda c, i: c.get("/api/v1/systems/credit/models/scorer@1/page"),
                200,
            ),
            (
                "GET decision list",
                "rita",
                args.reads,
                lambda c, i: c.get("/api/v1/systems/credit/decisions"),
                200,
            ),
            (
                "POST register model",
                "dana",
                args.writes,
                lambda c, i: c.post(
                    "/api/v1/systems/credit/models",
                    data={"name": "scorer", "trained_on": ["train@1"]},
                    files={"file": ("m.bin", i.to_bytes(8, "big") + artifact)},
                ),
                201,
            ),
            (
                "POST approve",
                "rita",
                len(requests),
                lambda c, i: c.post(
                    f"/api/v1/approvals/{requests[i]}/decision",
                    json={"approve": True, "comment": "evidence read"},
                ),
                200,
            ),
        ]
        for name, who, count, send, status in phases:
            result = run_phase(base, tokens[who], args.clients, count, send, status)
            lat = result["latencies"]
            rows.append(
                {
                    "store": kind,
                    "endpoint": name,
                    "requests": len(lat),
                    "throughput": len(lat) / result["wall"],
                    "p50": pct(lat, 0.50) * 1000,
                    "p99": pct(lat, 0.99) * 1000,
                    "mean": statistics.fmean(lat) * 1000,
                    "errors": len(result["errors"]),
                }
            )
            if result["errors"]:
                say(f"  {name}: {len(result['errors'])} errors, first: {result['errors'][0]}")
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="A smoke run: few requests.")
    ap.add_argument("--clients", type=int, default=8, help="Concurrent client threads.")
    ap.add_argument("--reads", type=int, default=None, help="Requests per read phase.")
    ap.add_argument("--writes", type=int, default=None, help="Requests per write phase.")
    ap.add_argument("--decisions", type=int, default=None, help="Decisions recorded up front.")
    ap.add_argument("--skip-postgres", action="store_true")
    args = ap.parse_args(argv)
    if args.reads is None:
        args.reads = 200 if args.quick else 2000
    if args.writes is None:
        args.writes = 40 if args.quick else 300
    if args.decisions is None:
        args.decisions = 5 if args.quick else 20
    import sqlite3

    say("# trustops server benchmark")
    say(machine_line())
    say(f"load average at start: {load()}")
    say(f"source: {source_state()}")
    info = machine.versions(
        ("trustops", "fastapi", "starlette", "uvicorn", "httpx", "sqlalchemy", "psycopg"),
        sqlite=sqlite3.sqlite_version,
    )
    say("versions: " + ", ".join(f"{k} {v}" for k, v in info.items()))
    say(
        f"clients: {args.clients} threads; reads {args.reads} per phase; writes {args.writes} "
        f"per phase; {args.decisions} decisions recorded on the model"
    )
    kinds = ["sqlite"]
    if args.skip_postgres:
        say("PostgreSQL skipped (--skip-postgres)")
    elif reason := pg_unavailable(pg_url()):
        say(f"PostgreSQL skipped: {reason}")
    else:
        kinds.append("postgresql")
    workdir = Path(tempfile.mkdtemp(prefix="trustops-server-bench-"))
    started = time.perf_counter()
    rows: list[dict[str, Any]] = []
    try:
        for kind in kinds:
            rows += measure(kind, args, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    say()
    say(
        "| store | endpoint | requests | throughput (req/s) | p50 (ms) | p99 (ms) | mean (ms) "
        "| errors |"
    )
    say("|---|---|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        say(
            f"| {r['store']} | {r['endpoint']} | {r['requests']} | {r['throughput']:.0f} | "
            f"{r['p50']:.1f} | {r['p99']:.1f} | {r['mean']:.1f} | {r['errors']} |"
        )
    say()
    say(f"total {time.perf_counter() - started:.0f} s; load average at end: {load()}")
    say(f"source at end: {source_state()}")
    return 1 if any(r["errors"] for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
