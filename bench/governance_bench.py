#!/usr/bin/env python
"""Governance store benchmark: audited actions per second, verifying a 1M-entry audit log, proofs.

One process, three parts.

1. **Actions per second, each with its audit entry.** A fresh workspace
   (``init_workspace``, its own Ed25519 signing key, artifacts in a folder)
   on SQLite (a real file in the temp dir, opened by the store in WAL mode
   with ``synchronous=FULL``) and on PostgreSQL (a fresh schema in the
   database at ``TRUSTOPS_TEST_DATABASE_URL``, default
   ``postgresql://postgres@127.0.0.1:5432/test``, dropped afterwards; skipped
   with a note when no server answers). Set-up, not timed: one system, one
   small dataset (an Arrow table, profiled), one warm-up cycle. Then
   ``--cycles`` cycles of five actions, each the registry's own durable
   write transaction with its audit entry:

   - ``register_model`` of a 4 KiB bytes artifact (copied and fsynced into
     the artifact store; trained on the dataset, parent = previous version,
     a fixed ``code_commit`` so no ``git`` subprocess runs),
   - ``record_evidence`` twice (a fairness and a drift record, small JSON dicts),
   - ``promote`` to staging, then to production (which archives the version
     in production; every promotion re-hashes the artifact and signs a
     checkpoint in its transaction).

   Each call is timed (``perf_counter``); actions/s per kind = calls / the
   sum of their times; overall = actions / wall time of the loop. The audit
   entries and checkpoints written are counted, and the log is verified
   (``AuditLog.verify``) afterwards.

2. **Verifying a 1M-entry log.** An export file is built directly, without
   the registry: ``--entries`` entries in the store's canonical form
   (``canonical_json`` of seq, time, actor, action, subject, payload,
   reason), their actions, subjects and payloads cycling through the real
   entries that part 1 wrote on SQLite; a checkpoint signed (Ed25519,
   ``trustops.core.checkpoint``) every ``--checkpoint-every`` entries and at
   the end; the header ``AuditLog.export`` writes. ``verify_export`` on it
   is timed ``--repeat`` times (median; the file is in the page cache).
   Then where the time goes: each piece of the verification alone over the
   same entries, and two alternatives that are not in ``src/`` (one reused
   JSON decoder and encoder; the per-entry checks on two processes).
   Also a real store: ``--store-entries`` entries bulk-inserted into the
   SQLite (and PostgreSQL) store's ``audit_entries`` with the correct head,
   frontier and a signed checkpoint every ``checkpoint_every`` (100)
   entries, then ``AuditLog.verify()``, ``prove()``, ``consistency()``,
   ``export()`` and ``verify_export`` of that export.

3. **Proofs at 1M entries.** From the 1M leaf hashes of part 2: building
   the ``MerkleTree`` (what ``AuditLog.prove`` does after reading the
   hashes), inclusion proofs of random entries (size in hashes and bytes,
   the JSON size of an ``InclusionProof`` with its signed checkpoint, time
   to build and to ``verify_inclusion``), consistency proofs and
   ``verify_consistency``.

Usage:
    python bench/governance_bench.py [--quick] [--cycles N] [--entries N]
        [--store-entries N] [--repeat K] [--checkpoint-every N] [--skip-postgres]
        [--no-phases]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import shutil
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

from rich import box
from rich.console import Console
from rich.table import Table

import machine
from machine import load, machine_line, source_state

VERIFY_TARGET_S = 10.0  # verify_export of a 1M-entry log
TARGET_ENTRIES = 1_000_000
ARTIFACT_BYTES = 4096
CODE_COMMIT = "3f1c9d2a7b6e5f4d3c2b1a0f9e8d7c6b5a493827"
ENTRY_LINE = b'{"checkpoint":'
PG_DEFAULT = "postgresql://postgres@127.0.0.1:5432/test"
KINDS = ("register_model", "record_evidence", "promote")

console = Console(width=250, highlight=False, soft_wrap=True)


def say(text: str = "") -> None:
    console.print(text, markup=False)


def show(tab: Table) -> None:
    """Print a table without Rich's blank edge lines or trailing spaces."""
    with console.capture() as capture:
        console.print(tab)
    lines = [line.rstrip() for line in capture.get().splitlines()]
    print("\n".join(line for line in lines if line), flush=True)


def table(title: str | None, columns: list[tuple[str, str]]) -> Table:
    """A Markdown-style Rich table (pastes into BENCHMARKS.md as it is)."""
    tab = Table(title=title, box=box.MARKDOWN, title_justify="left", show_edge=True)
    for name, justify in columns:
        tab.add_column(name, justify=justify)  # type: ignore[arg-type]
    return tab


def timed(fn: Callable[[], Any]) -> tuple[float, float, Any]:
    """Wall and CPU seconds of one call (after a gc.collect), and its result."""
    gc.collect()
    t0, c0 = time.perf_counter(), time.process_time()
    out = fn()
    return time.perf_counter() - t0, time.process_time() - c0, out


def median_of(fn: Callable[[], Any], repeat: int) -> tuple[float, float, list[float], Any]:
    """Median wall and CPU seconds over ``repeat`` calls, every wall time, the last result."""
    walls, cpus, out = [], [], None
    for _ in range(repeat):
        w, c, out = timed(fn)
        walls.append(w)
        cpus.append(c)
    return statistics.median(walls), statistics.median(cpus), walls, out


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


# --- machine ----------------------------------------------------------------


def versions() -> dict[str, str]:
    import sqlite3

    return machine.versions(
        ("trustops", "sqlalchemy", "psycopg", "cryptography", "rich"), sqlite=sqlite3.sqlite_version
    )


def filesystem_of(path: Path) -> str:
    """The type of the filesystem holding ``path`` (ext4, tmpfs, ...), from /proc/mounts."""
    best, kind = "", "unknown"
    try:
        target = str(path.resolve())
        with open("/proc/mounts") as f:
            for line in f:
                parts = line.split()
                if len(parts) > 2 and target.startswith(parts[1]) and len(parts[1]) > len(best):
                    best, kind = parts[1], parts[2]
    except OSError:
        pass
    return kind


def pg_url() -> str:
    return os.environ.get("TRUSTOPS_TEST_DATABASE_URL", PG_DEFAULT)


def pg_unavailable(url: str) -> str | None:
    """None if PostgreSQL answers at ``url``, else why not."""
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


class PgSchema:
    """A fresh schema in the PostgreSQL database, dropped on exit; ``url`` points at it."""

    def __init__(self, base: str) -> None:
        import sqlalchemy as sa

        from trustops.governance.database import normalise_url

        self.name = f"trustops_bench_{uuid.uuid4().hex[:12]}"
        self.admin = sa.create_engine(normalise_url(base))
        sep = "&" if "?" in base else "?"
        self.url = f"{base}{sep}options={quote(f'-csearch_path={self.name}')}"

    def __enter__(self) -> PgSchema:
        with self.admin.begin() as conn:
            conn.exec_driver_sql(f'CREATE SCHEMA "{self.name}"')
        return self

    def __exit__(self, *exc: object) -> None:
        with self.admin.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA "{self.name}" CASCADE')
        self.admin.dispose()


def open_registry(project: Path, url: str) -> Any:
    from trustops.governance import Registry, init_workspace
    from trustops.governance.workspace import load_settings

    project.mkdir(parents=True, exist_ok=True)
    ws = init_workspace(project, actor="bench")
    settings = load_settings(ws, env={}, overrides={"database_url": url})
    return Registry.open(settings=settings)


def setup_registry(reg: Any) -> None:
    """One system and one small dataset (not timed)."""
    import pyarrow as pa

    reg.create_system(
        "credit",
        owner="risk team",
        purpose="consumer credit scoring",
        use_case="credit",
        risk="high",
        jurisdictions=["EU"],
    )
    rng = random.Random(7)
    n = 1000
    reg.register_dataset(
        pa.table(
            {
                "age": [rng.randint(18, 90) for _ in range(n)],
                "income": [round(rng.lognormvariate(10, 0.5), 2) for _ in range(n)],
                "group": [rng.choice("ABCDE") for _ in range(n)],
                "label": [rng.randint(0, 1) for _ in range(n)],
            }
        ),
        system="credit",
        name="train",
        purposes=["credit scoring"],
        lawful_basis="contract",
        personal_data=True,
        retention_days=365,
    )


def fairness_content(rng: random.Random) -> dict[str, Any]:
    rates = {g: round(rng.uniform(0.2, 0.6), 4) for g in "ABCDE"}
    return {
        "metric": "selection_rate",
        "by_group": rates,
        "difference": round(max(rates.values()) - min(rates.values()), 4),
        "ratio": round(min(rates.values()) / max(rates.values()), 4),
        "threshold": 0.8,
        "rows": 100_000,
        "sensitive": ["group"],
    }


def drift_content(rng: random.Random) -> dict[str, Any]:
    drifted = rng.randint(0, 5)
    return {
        "columns": 25,
        "drifted": drifted,
        "share": round(drifted / 25, 4),
        "method": "auto",
        "dataset_drift": drifted > 12,
        "reference_rows": 1_000_000,
        "current_rows": 1_000_000,
    }


def one_cycle(reg: Any, i: int, rng: random.Random, lat: dict[str, list[float]]) -> None:
    """register_model, record_evidence x2, promote to staging and to production."""
    artifact = i.to_bytes(8, "little") + rng.randbytes(ARTIFACT_BYTES - 8)
    parent = None if i == 0 else f"scorer@{i}"
    t0 = time.perf_counter()
    mv = reg.register_model(
        artifact,
        system="credit",
        name="scorer",
        trained_on=["train@1"],
        framework="sklearn",
        parameters={"max_depth": 6, "n_estimators": 200, "learning_rate": 0.05},
        metrics={"auc": round(rng.uniform(0.7, 0.9), 4), "accuracy": round(rng.random(), 4)},
        parent=parent,
        code_commit=CODE_COMMIT,
        purpose="credit scoring",
    )
    t1 = time.perf_counter()
    reg.record_evidence("fairness", f"model:credit/{mv.ref}", fairness_content(rng))
    t2 = time.perf_counter()
    reg.record_evidence("drift", f"model:credit/{mv.ref}", drift_content(rng))
    t3 = time.perf_counter()
    reg.promote(f"credit/{mv.ref}", "staging", reason="checks passed")
    t4 = time.perf_counter()
    reg.promote(f"credit/{mv.ref}", "production", reason="approved by the risk committee")
    t5 = time.perf_counter()
    lat["register_model"].append(t1 - t0)
    lat["record_evidence"] += [t2 - t1, t3 - t2]
    lat["promote"] += [t4 - t3, t5 - t4]


def run_actions(kind: str, url: str, project: Path, cycles: int, seed: int) -> dict[str, Any]:
    reg = open_registry(project, url)
    try:
        settings = reg.db.settings()
        setup_registry(reg)
        rng = random.Random(seed)
        warm: dict[str, list[float]] = {k: [] for k in KINDS}
        one_cycle(reg, 0, rng, warm)  # first-call costs (statement compilation, imports)
        size0, cps0 = reg.audit.size(), len(reg.audit.checkpoints())
        lat: dict[str, list[float]] = {k: [] for k in KINDS}
        cycle_walls = []
        t0, c0 = time.perf_counter(), time.process_time()
        for i in range(1, cycles + 1):
            s = time.perf_counter()
            one_cycle(reg, i, rng, lat)
            cycle_walls.append(time.perf_counter() - s)
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        entries = reg.audit.size() - size0
        checkpoints = len(reg.audit.checkpoints()) - cps0
        verify_s, _, result = timed(reg.audit.verify)
        templates = [e.to_dict() for e in reg.audit.entries()]
        size = reg.audit.size()
    finally:
        reg.close()
    return {
        "kind": kind,
        "settings": settings,
        "lat": lat,
        "wall": wall,
        "cpu": cpu,
        "cycle_walls": cycle_walls,
        "entries": entries,
        "checkpoints": checkpoints,
        "verify_s": verify_s,
        "verify_ok": result.ok,
        "verify_failures": result.failures[:3],
        "log_size": size,
        "templates": templates,
    }


def section_actions(args: argparse.Namespace, workdir: Path) -> list[dict[str, Any]]:
    say(f"## 1. Audited governance actions per second ({args.cycles} cycles of 5 actions)\n")
    runs = []
    backends: list[tuple[str, str | None]] = [("sqlite", None)]
    if args.skip_postgres:
        say("PostgreSQL: skipped (--skip-postgres)")
    else:
        reason = pg_unavailable(pg_url())
        if reason:
            say(f"PostgreSQL: skipped, {reason} at TRUSTOPS_TEST_DATABASE_URL or the default")
        else:
            backends.append(("postgresql", pg_url()))
    for kind, base in backends:
        say(f"running {kind} ... load {load()}")
        if kind == "sqlite":
            path = workdir / "actions-sqlite" / "store.db"
            path.parent.mkdir(parents=True)
            r = run_actions(
                kind, f"sqlite:///{path}", workdir / "actions-sqlite", args.cycles, args.seed
            )
            r["where"] = f"a file on {filesystem_of(path)}"
        else:
            assert base is not None
            with PgSchema(base) as schema:
                r = run_actions(
                    kind, schema.url, workdir / "actions-postgresql", args.cycles, args.seed
                )
            r["where"] = "a fresh schema on the local server (dropped afterwards)"
        runs.append(r)
        durable = ", ".join(f"{k}={v}" for k, v in r["settings"].items())
        say(f"  {kind}: {r['where']}; {durable}")
    say()
    tab = table(
        "actions/s per kind = calls / sum of their times; overall = actions / loop wall time",
        [
            ("store", "left"),
            ("action", "left"),
            ("calls", "right"),
            ("actions/s", "right"),
            ("median ms", "right"),
            ("p95 ms", "right"),
            ("max ms", "right"),
        ],
    )
    for r in runs:
        for kind in KINDS:
            lat = r["lat"][kind]
            tab.add_row(
                r["kind"],
                kind,
                f"{len(lat):,}",
                f"{len(lat) / sum(lat):,.1f}",
                f"{statistics.median(lat) * 1e3:.2f}",
                f"{pct(lat, 0.95) * 1e3:.2f}",
                f"{max(lat) * 1e3:.2f}",
            )
        total = sum(len(v) for v in r["lat"].values())
        tab.add_row(
            r["kind"],
            "overall (the mix)",
            f"{total:,}",
            f"{total / r['wall']:,.1f}",
            "",
            "",
            "",
        )
    show(tab)
    say()
    tab = table(
        None,
        [
            ("store", "left"),
            ("actions", "right"),
            ("wall s", "right"),
            ("CPU s", "right"),
            ("audit entries written", "right"),
            ("checkpoints signed", "right"),
            ("first 10% cycles actions/s", "right"),
            ("last 10% cycles actions/s", "right"),
            ("AuditLog.verify() after", "left"),
        ],
    )
    for r in runs:
        total = sum(len(v) for v in r["lat"].values())
        tenth = max(1, len(r["cycle_walls"]) // 10)
        first = 5 * tenth / sum(r["cycle_walls"][:tenth])
        last = 5 * tenth / sum(r["cycle_walls"][-tenth:])
        ok = "ok" if r["verify_ok"] else "FAILED " + "; ".join(r["verify_failures"])
        tab.add_row(
            r["kind"],
            f"{total:,}",
            f"{r['wall']:.2f}",
            f"{r['cpu']:.2f}",
            f"{r['entries']:,}" + (" (= actions)" if r["entries"] == total else " (MISMATCH)"),
            f"{r['checkpoints']:,}",
            f"{first:,.1f}",
            f"{last:,.1f}",
            f"{ok}, {r['log_size']:,} entries in {r['verify_s']:.2f} s",
        )
    show(tab)
    say(
        "\nCPU s is this process's CPU time (the PostgreSQL server's own work is not in it); "
        "set-up and one warm-up cycle are not timed."
    )
    return runs


# --- part 2: verification ----------------------------------------------------

_FALLBACK_TEMPLATE = {
    "actor": "bench",
    "action": "evidence.recorded",
    "subject": "model:credit/scorer@1",
    "payload": {"id": 1, "kind": "fairness", "content_hash": "0" * 64},
    "reason": None,
}


def entry_time(i: int) -> str:
    """2026-11-27 plus ``i`` milliseconds, as the store writes times."""
    ms = i % 86_400_000
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, milli = divmod(rest, 1000)
    return f"2026-11-27T{h:02d}:{m:02d}:{s:02d}.{milli * 1000 + 123:06d}Z"


def entry_leaves(templates: list[dict[str, Any]], n: int, start: int = 0) -> Iterator[bytes]:
    """``n`` entries in the store's canonical form, cycling through ``templates``."""
    from trustops.core.audit import canonical_json

    templates = templates or [_FALLBACK_TEMPLATE]
    for i in range(start, start + n):
        tpl = templates[i % len(templates)]
        yield canonical_json(
            {
                "seq": i,
                "time": entry_time(i),
                "actor": tpl["actor"],
                "action": tpl["action"],
                "subject": tpl["subject"],
                "payload": tpl["payload"],
                "reason": tpl["reason"],
            }
        )


def write_export(
    path: Path, templates: list[dict[str, Any]], n: int, every: int, key: Any, origin: str
) -> dict[str, Any]:
    """An export file as ``AuditLog.export`` writes it; returns the leaf hashes and sizes."""
    from trustops.core.audit import CompactRange, canonical_json, leaf_hash
    from trustops.core.checkpoint import Checkpoint, sign_checkpoint, verifier_key
    from trustops.governance.auditlog import EXPORT_FORMAT, utc_now

    header = {
        "format": EXPORT_FORMAT,
        "version": 1,
        "origin": origin,
        "vkey": verifier_key(key, origin),
        "exported_at": utc_now(),
    }
    frontier = CompactRange()
    hashes: list[bytes] = []
    notes: list[str] = []
    entry_bytes = 0
    with open(path, "wb", buffering=1 << 20) as out:
        out.write(canonical_json(header) + b"\n")
        for leaf in entry_leaves(templates, n):
            out.write(leaf + b"\n")
            entry_bytes += len(leaf)
            digest = leaf_hash(leaf)
            hashes.append(digest)
            frontier.append(digest)
            if frontier.size % every == 0 or frontier.size == n:
                note = sign_checkpoint(
                    Checkpoint(origin, frontier.size, frontier.root()), key, origin
                )
                notes.append(note)
                out.write(canonical_json({"checkpoint": note}) + b"\n")
    return {"hashes": hashes, "notes": notes, "entry_bytes": entry_bytes, "root": frontier.root()}


def read_entry_lines(path: Path) -> list[bytes]:
    """The entry lines of an export, as verify_export's generator yields them."""
    with open(path, "rb") as f:
        f.readline()
        return [line.rstrip(b"\n") for line in f if not line.startswith(ENTRY_LINE)]


def _read_like_verify_export(path: Path) -> int:
    """verify_export's two passes over the file (checkpoint scan, entry lines), no checks."""
    notes = []
    with open(path, "rb") as f:
        f.readline()
        for line in f:
            if line.startswith(ENTRY_LINE):
                notes.append(json.loads(line)["checkpoint"])
    count = 0
    with open(path, "rb") as f:
        f.readline()
        for line in f:
            if not line.startswith(ENTRY_LINE):
                line.rstrip(b"\n")
                count += 1
    return count


def verify_phases(
    path: Path, built: dict[str, Any], vkey: str, origin: str, repeat: int
) -> list[tuple[str, float, float]]:
    """Each piece of verify_export alone over the same entries (median of ``repeat``)."""
    from trustops.core.audit import CompactRange, leaf_hash
    from trustops.core.audit_verify import _canonical_problem, _parse
    from trustops.core.checkpoint import verify_checkpoint

    lines = read_entry_lines(path)
    hashes = built["hashes"]
    notes = built["notes"]

    def parse_checks() -> None:
        for i, line in enumerate(lines):
            _parse(i, line)

    def canonical_checks() -> None:
        for i, line in enumerate(lines):
            entry, _ = _parse(i, line)
            assert entry is not None
            _canonical_problem(i, entry, line)

    def hashing() -> None:
        for line in lines:
            leaf_hash(line)

    def frontier() -> None:
        rng = CompactRange()
        for digest in hashes:
            rng.append(digest)

    def checkpoints() -> None:
        for note in notes:
            verify_checkpoint(note, vkey)

    steps: list[tuple[str, Callable[[], Any]]] = [
        ("reading: verify_export's two passes over the file, no checks",
         lambda: _read_like_verify_export(path)),
        ("per-entry structure: decode, json.loads, seq and fields (every entry)", parse_checks),
        ("leaf_hash: SHA-256(0x00 + entry)", hashing),
        ("CompactRange.append of every leaf hash", frontier),
        (f"checkpoints: verify_checkpoint (Ed25519) x {len(notes)}", checkpoints),
        ("NOT run when signed: structure + canonical re-encoding of every entry",
         canonical_checks),
    ]  # fmt: skip
    out = []
    for label, fn in steps:
        wall, cpu, _, _ = median_of(fn, repeat)
        out.append((label, wall, cpu))
    lines.clear()
    return out


def section_verify(
    args: argparse.Namespace, workdir: Path, templates: list[dict[str, Any]]
) -> dict[str, Any]:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from trustops.core.checkpoint import verifier_key
    from trustops.governance.auditlog import verify_export

    n, every = args.entries, args.checkpoint_every
    say(f"\n## 2. Verifying a {n:,}-entry audit log\n")
    key = Ed25519PrivateKey.generate()
    origin = f"trustops/{uuid.uuid4()}"
    vkey = verifier_key(key, origin)
    path = workdir / "audit-export.jsonl"
    build_s, _, built = timed(lambda: write_export(path, templates, n, every, key, origin))
    actions = sorted({t["action"] for t in templates})
    say(
        f"export built directly (not through the registry) in {build_s:.1f} s: {n:,} entries, "
        f"{len(built['notes'])} checkpoints (every {every:,} entries and at the end), "
        f"{path.stat().st_size / 1e6:,.1f} MB, mean entry {built['entry_bytes'] / n:.0f} bytes; "
        f"entries cycle through the {len(templates)} real entries part 1 wrote on SQLite "
        f"({', '.join(actions)})"
    )
    say(f"load before timing: {load()}")
    wall, cpu, walls, result = median_of(lambda: verify_export(path, verifier=vkey), args.repeat)
    log = result.log
    checks = (
        result.ok
        and log.size == n
        and len(log.checkpoints) == len(built["notes"])
        and log.root == built["root"]
    )
    met = wall < VERIFY_TARGET_S if n == TARGET_ENTRIES else None
    say()
    tab = table(
        None,
        [
            ("step", "left"),
            ("entries", "right"),
            ("runs", "right"),
            ("wall s (median)", "right"),
            ("CPU s", "right"),
            ("entries/s", "right"),
            ("result", "left"),
            ("target", "left"),
            ("met?", "left"),
        ],
    )
    tab.add_row(
        "verify_export(path, verifier=vkey)",
        f"{n:,}",
        f"{len(walls)}",
        f"{wall:.2f}",
        f"{cpu:.2f}",
        f"{n / wall:,.0f}",
        (
            f"ok, {log.size:,} entries, {len(log.checkpoints)} checkpoints matched"
            if checks
            else f"WRONG: ok={result.ok} size={log.size} {log.failures[:2]}"
        ),
        f"< {VERIFY_TARGET_S:.0f} s at {TARGET_ENTRIES:,}",
        "-" if met is None else ("MET" if met else "MISSED"),
    )
    show(tab)
    say(f"runs: {', '.join(f'{w:.2f}' for w in walls)} s")
    out = {"n": n, "wall": wall, "cpu": cpu, "met": met, "hashes": built["hashes"]}
    out["note"] = built["notes"][-1]
    out["vkey"] = vkey

    if not args.no_phases:
        say(f"\n### Where verify_export's time goes ({n:,} entries, median of {args.repeat})\n")
        say("each piece alone over the same entries, held in memory (reading excepted)\n")
        phases = verify_phases(path, built, vkey, origin, args.repeat)
        tab = table(
            None,
            [
                ("piece", "left"),
                ("wall s", "right"),
                ("CPU s (this process)", "right"),
                ("share of verify_export (wall)", "right"),
                ("µs per entry", "right"),
            ],
        )
        for label, w, c in phases:
            tab.add_row(label, f"{w:.2f}", f"{c:.2f}", f"{w / wall:.0%}", f"{w / n * 1e6:.2f}")
        show(tab)
        cps = next(w for label, w, _ in phases if label.startswith("checkpoints"))
        canon = next(w for label, w, _ in phases if label.startswith("NOT run"))
        say(
            "\nthe canonical re-encoding runs only on entries no signed checkpoint covers (a "
            "signed root fixes the exact bytes before it) and, when a checkpoint fails, in a "
            f"second pass that names the edited entries; over every entry it would cost "
            f"{canon:.2f} s"
        )
        per_cp = cps / max(1, len(built["notes"]))
        say(
            f"one checkpoint check costs {per_cp * 1e3:.2f} ms: a store's own cadence of one "
            f"checkpoint per 100 entries would put {n // 100:,} in a {n:,}-entry export, "
            f"about {per_cp * (n // 100):.1f} s more"
        )
        out["phases"] = phases
    path.unlink()
    return out


def bulk_store(reg: Any, templates: list[dict[str, Any]], n: int) -> None:
    """``n`` entries straight into audit_entries with a correct head and frontier, and a
    signed checkpoint every ``checkpoint_every`` entries and at the end (as appends sign)."""
    import sqlalchemy as sa

    from trustops.core.audit import CompactRange, leaf_hash
    from trustops.core.checkpoint import Checkpoint, sign_checkpoint
    from trustops.governance import schema as t
    from trustops.governance.auditlog import utc_now

    audit = reg.audit
    chunk = 10_000
    with reg.db.write() as conn:
        head = conn.execute(sa.select(t.audit_head.c.size, t.audit_head.c.frontier)).one()
        frontier = CompactRange.from_bytes(head.size, head.frontier)
        start = frontier.size
        rows: list[dict[str, Any]] = []
        notes: list[dict[str, Any]] = []
        for leaf in entry_leaves(templates, n, start=start):
            entry = json.loads(leaf)
            digest = leaf_hash(leaf)
            rows.append(
                {"seq": entry["seq"], "leaf": leaf, "leaf_hash": digest, "time": entry["time"],
                 "actor": entry["actor"], "action": entry["action"], "subject": entry["subject"]}
            )  # fmt: skip
            frontier.append(digest)
            if frontier.size % audit.checkpoint_every == 0 or frontier.size == start + n:
                note = sign_checkpoint(
                    Checkpoint(audit.origin, frontier.size, frontier.root()),
                    audit.key,
                    audit.origin,
                )
                notes.append({"size": frontier.size, "note": note, "created_at": utc_now()})
            if len(rows) == chunk:
                conn.execute(t.audit_entries.insert(), rows)
                rows = []
        if rows:
            conn.execute(t.audit_entries.insert(), rows)
        if notes:
            conn.execute(t.audit_checkpoints.insert(), notes)
        conn.execute(
            t.audit_head.update()
            .where(t.audit_head.c.id == 1)
            .values(size=frontier.size, frontier=frontier.to_bytes())
        )


def store_verify(
    kind: str, url: str, project: Path, templates: list[dict[str, Any]], n: int
) -> dict[str, Any]:
    from trustops.governance.auditlog import verify_export

    reg = open_registry(project, url)
    try:
        insert_s, _, _ = timed(lambda: bulk_store(reg, templates, n))
        size = reg.audit.size()
        ncp = len(reg.audit.checkpoints())
        verify_s, verify_cpu, result = timed(reg.audit.verify)
        prove_s, _, proof = timed(lambda: reg.audit.prove(size // 2))
        cons_s, _, cons = timed(lambda: reg.audit.consistency(size // 2, size))
        export = project / "export.jsonl"
        export_s, _, count = timed(lambda: reg.audit.export(export))
        vexp_s, _, vexp = timed(lambda: verify_export(export, verifier=reg.audit.verifier()))
        export.unlink()
    finally:
        reg.close()
    return {
        "kind": kind,
        "n": size,
        "checkpoints": ncp,
        "insert_s": insert_s,
        "verify_s": verify_s,
        "verify_cpu": verify_cpu,
        "verify_ok": result.ok and result.size == size,
        "prove_s": prove_s,
        "proof_len": len(proof.proof),
        "cons_s": cons_s,
        "cons_len": len(cons),
        "export_s": export_s,
        "export_count": count,
        "vexp_s": vexp_s,
        "vexp_ok": vexp.ok and vexp.log.size == size,
    }


def section_store(args: argparse.Namespace, workdir: Path, templates: list[dict[str, Any]]) -> None:
    n = args.store_entries
    say(f"\n### A real store's log: {n:,} entries bulk-inserted, then the store's own calls\n")
    runs = []
    say(f"running sqlite ... load {load()}")
    path = workdir / "store-sqlite" / "store.db"
    path.parent.mkdir(parents=True)
    runs.append(store_verify("sqlite", f"sqlite:///{path}", path.parent, templates, n))
    if not args.skip_postgres and not pg_unavailable(pg_url()):
        say(f"running postgresql ... load {load()}")
        with PgSchema(pg_url()) as schema:
            runs.append(store_verify("postgresql", schema.url, workdir / "store-pg", templates, n))
    say()
    tab = table(
        "seconds, one run each; the workspace signs a checkpoint every 100 entries",
        [
            ("store", "left"),
            ("entries", "right"),
            ("checkpoints", "right"),
            ("bulk insert (setup)", "right"),
            ("AuditLog.verify()", "right"),
            ("entries/s", "right"),
            ("prove(n/2)", "right"),
            ("consistency(n/2, n)", "right"),
            ("export()", "right"),
            ("verify_export(export)", "right"),
            ("all ok?", "left"),
        ],
    )
    for r in runs:
        ok = r["verify_ok"] and r["vexp_ok"] and r["export_count"] == r["n"]
        tab.add_row(
            r["kind"],
            f"{r['n']:,}",
            f"{r['checkpoints']:,}",
            f"{r['insert_s']:.2f}",
            f"{r['verify_s']:.2f}",
            f"{r['n'] / r['verify_s']:,.0f}",
            f"{r['prove_s']:.2f} ({r['proof_len']} hashes)",
            f"{r['cons_s']:.2f} ({r['cons_len']} hashes)",
            f"{r['export_s']:.2f}",
            f"{r['vexp_s']:.2f}",
            "ok" if ok else "FAILED",
        )
    show(tab)
    say(
        "\nAuditLog.verify() also checks every stored leaf hash and the columns beside each "
        "entry (from the same parse); prove() reads every leaf hash, builds the tree "
        "and signs a checkpoint of the current size if there is none."
    )


# --- part 3: proofs ----------------------------------------------------------


def section_proofs(args: argparse.Namespace, verified: dict[str, Any]) -> None:
    from trustops.core.audit import (
        MerkleTree,
        proof_size,
        verify_consistency,
        verify_inclusion,
    )
    from trustops.core.checkpoint import verify_checkpoint
    from trustops.governance.auditlog import InclusionProof

    hashes = verified["hashes"]
    n = len(hashes)
    say(f"\n## 3. Inclusion and consistency proofs at {n:,} entries\n")
    build_s, build_cpu, walls, tree = median_of(lambda: MerkleTree(hashes), args.repeat)
    rng = random.Random(args.seed)
    sample = [0, n // 2, n - 1] + [rng.randrange(n) for _ in range(997)]
    t0 = time.perf_counter()
    proofs = [tree.inclusion_proof(i) for i in sample]
    prove_us = (time.perf_counter() - t0) / len(sample) * 1e6
    root = tree.root()
    t0 = time.perf_counter()
    ok = all(
        verify_inclusion(i, n, hashes[i], p, root) for i, p in zip(sample, proofs, strict=True)
    )
    verify_us = (time.perf_counter() - t0) / len(sample) * 1e6
    t0 = time.perf_counter()
    for _ in range(100):
        checkpoint = verify_checkpoint(verified["note"], verified["vkey"])
    note_us = (time.perf_counter() - t0) / 100 * 1e6
    lengths = [len(p) for p in proofs]
    mid = InclusionProof(n // 2, hashes[n // 2], n, proofs[1], verified["note"])
    json_bytes = len(json.dumps(mid.to_dict()).encode())
    root_ok = checkpoint.root == root and checkpoint.size == n
    tab = table(
        None,
        [("measure", "left"), ("value", "right"), ("note", "left")],
    )
    tab.add_row(
        f"MerkleTree({n:,} leaf hashes): build",
        f"{build_s:.2f} s",
        f"median of {len(walls)} (CPU {build_cpu:.2f} s); what AuditLog.prove does after "
        "reading the hashes",
    )
    tab.add_row(
        "inclusion proof: hashes",
        f"{min(lengths)}-{max(lengths)}",
        f"ceil(log2 n) = {proof_size(n)}; {len(sample):,} proofs (first, middle, last, random)",
    )
    tab.add_row("inclusion proof: bytes (raw hashes)", f"{32 * max(lengths):,} B", "32 B each")
    tab.add_row(
        "InclusionProof.to_dict() as JSON",
        f"{json_bytes:,} B",
        "base64 hashes + the signed checkpoint note",
    )
    tab.add_row("tree.inclusion_proof(i)", f"{prove_us:.1f} µs", "mean, tree already built")
    tab.add_row(
        "verify_inclusion",
        f"{verify_us:.1f} µs",
        f"mean; all {len(sample):,} verified: {ok}",
    )
    tab.add_row(
        "verify_checkpoint (Ed25519) of the note",
        f"{note_us:.1f} µs",
        f"mean of 100; its root is the tree's: {root_ok}",
    )
    firsts = sorted({1, 10_000, n // 2, n - 1, *(rng.randrange(1, n) for _ in range(96))})
    firsts = [m for m in firsts if 0 < m < n]
    t0 = time.perf_counter()
    cons = [tree.consistency_proof(m) for m in firsts]
    cons_us = (time.perf_counter() - t0) / len(firsts) * 1e6
    t0 = time.perf_counter()
    cons_ok = all(
        verify_consistency(m, n, p, tree.root(m), root) for m, p in zip(firsts, cons, strict=True)
    )
    vcons_us = (time.perf_counter() - t0) / len(firsts) * 1e6
    roots_us = 0.0
    t0 = time.perf_counter()
    for m in firsts:
        tree.root(m)
    roots_us = (time.perf_counter() - t0) / len(firsts) * 1e6
    clens = [len(p) for p in cons]
    tab.add_row(
        "consistency proof: hashes",
        f"{min(clens)}-{max(clens)}",
        f"{len(firsts)} first sizes from 1 to n-1 (incl. 10,000 and n/2), to size n",
    )
    tab.add_row("tree.consistency_proof(m)", f"{cons_us:.1f} µs", "mean, tree already built")
    tab.add_row(
        "verify_consistency",
        f"{max(0.0, vcons_us - roots_us):.1f} µs",
        f"mean, minus tree.root(m) ({roots_us:.1f} µs); all verified: {cons_ok}",
    )
    show(tab)


# --- main --------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--quick", action="store_true", help="small sizes everywhere (smoke run, < 30 s)"
    )
    ap.add_argument("--cycles", type=int, help="action cycles per store (5 actions each; 200)")
    ap.add_argument("--entries", type=int, help="entries of the export to verify (1,000,000)")
    ap.add_argument("--store-entries", type=int, help="entries of the real store (100,000)")
    ap.add_argument("--checkpoint-every", type=int, default=10_000, help="in the export")
    ap.add_argument("--repeat", type=int, help="runs of each verification step (3; quick 1)")
    ap.add_argument("--skip-postgres", action="store_true", help="SQLite only")
    ap.add_argument("--no-phases", action="store_true", help="skip the verify breakdown")
    ap.add_argument("--seed", type=int, default=20240601)
    args = ap.parse_args(argv)
    args.cycles = args.cycles or (10 if args.quick else 200)
    args.entries = args.entries or (50_000 if args.quick else TARGET_ENTRIES)
    args.store_entries = args.store_entries or (5_000 if args.quick else 100_000)
    args.repeat = args.repeat or (1 if args.quick else 3)
    if min(args.cycles, args.entries, args.store_entries, args.repeat) < 1:
        ap.error("sizes and --repeat must be positive")
    if args.checkpoint_every < 1:
        ap.error("--checkpoint-every must be positive")

    say("# trustops governance benchmark\n")
    say(
        f"cycles={args.cycles}  entries={args.entries:,}  store_entries={args.store_entries:,}  "
        f"checkpoint_every={args.checkpoint_every:,}  repeat={args.repeat}  "
        f"quick={args.quick}  seed={args.seed}"
    )
    say(machine_line())
    say(f"source: {source_state()}")
    say("versions: " + ", ".join(f"{k} {v}" for k, v in versions().items()))
    say(f"load average at start (1/5/15 min): {load()}\n")
    workdir = Path(tempfile.mkdtemp(prefix="trustops-governance-bench-"))
    t_start = time.perf_counter()
    try:
        runs = section_actions(args, workdir)
        templates = runs[0]["templates"]
        verified = section_verify(args, workdir, templates)
        section_store(args, workdir, templates)
        section_proofs(args, verified)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    say("\n## Targets\n")
    tab = table(None, [("target", "left"), ("measured", "right"), ("met?", "left")])
    if verified["met"] is None:
        tab.add_row(
            f"verify_export of a {TARGET_ENTRIES:,}-entry log < {VERIFY_TARGET_S:.0f} s",
            f"{verified['wall']:.2f} s at {verified['n']:,} entries",
            f"- (not judged: the target is at {TARGET_ENTRIES:,} entries)",
        )
    else:
        tab.add_row(
            f"verify_export of a {TARGET_ENTRIES:,}-entry log < {VERIFY_TARGET_S:.0f} s",
            f"{verified['wall']:.2f} s ({verified['wall'] / VERIFY_TARGET_S:.2f}x the target)",
            "MET" if verified["met"] else "MISSED",
        )
    show(tab)
    say(f"\ntotal {time.perf_counter() - t_start:.0f} s; load average at end: {load()}")
    say(f"source at end: {source_state()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
