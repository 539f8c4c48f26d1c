"""The store survives real processes killed mid-write and real processes writing at once.

Each test runs on SQLite and on PostgreSQL (see ``conftest.py``). The
children are real interpreters (``sys.executable -c CHILD``) run in the
project directory, so they find the same workspace — and the same database
— as the test. A child marks its progress in a file with unbuffered
``os.write`` calls, which survive a SIGKILL: ``begin`` before a registry
call, ``wtx`` when its write transaction begins, ``commit`` just before the
COMMIT is sent, ``committed`` once the database acknowledged it, ``done``
when the call returned. The marks come from SQLAlchemy event listeners and a
wrapper of the dialect's ``do_commit`` set up in the child; nothing in the
library knows about them.

After every kill the store must be intact (SQLite's integrity check), its
audit log must verify, and every action must have exactly one audit entry
and every entry its action: both or neither, whenever the kill came.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
import sqlalchemy as sa

from trustops.core.checkpoint import parse_checkpoint
from trustops.governance import AuditEntry, Registry

EVERY = 3  # checkpoint_every: a checkpoint is signed (and copied out) every third entry

CHILD = r"""
import json, os, signal, sys, time
import pyarrow as pa
import sqlalchemy as sa
from trustops.governance import Registry

mode, marks_path, tag = sys.argv[1:4]
marks = os.open(marks_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)


def mark(word):
    os.write(marks, (word + "\n").encode())


def die():
    os.kill(os.getpid(), signal.SIGKILL)


reg = Registry.open()
engine = reg.db.engine
committing = []


def writing(conn):
    return bool(conn.get_execution_options().get("trustops_write"))


@sa.event.listens_for(engine, "begin")
def _begin(conn):
    if writing(conn):
        mark("wtx")


@sa.event.listens_for(engine, "commit")  # runs before the COMMIT is sent
def _commit(conn):
    if writing(conn):
        mark("commit")
        committing.append(True)
        if mode == "before-commit":
            die()


do_commit = engine.dialect.do_commit


def _do_commit(dbapi_connection):  # returns once the database acknowledged the COMMIT
    do_commit(dbapi_connection)
    if committing:
        committing.clear()
        mark("committed")
        if mode == "after-commit":
            die()


engine.dialect.do_commit = _do_commit

# Warm up (imports on first use, a pooled connection) so that writing starts at "ready".
from trustops.governance.registry import content_hash_of

content_hash_of(pa.table({"tag": ["warm-up"], "i": [-1]}))
reg.systems()


def register(i):
    mark("begin")
    dv = reg.register_dataset(
        pa.table({"tag": [tag], "i": [i]}), system="crash", name="d-" + tag, profile=False
    )
    mark("done")
    mark("begin")
    mv = reg.register_model(
        f"{tag}/{i}".encode(), system="crash", name="m-" + tag, trained_on=[dv.ref],
        code_commit=None,
    )
    mark("done")
    mark("begin")
    reg.record_evidence("check", mv, {"tag": tag, "i": i})
    mark("done")


mark("ready")
if mode == "loop":  # as fast as it can, until it is killed
    i = 0
    while True:
        register(i)
        i += 1
elif mode == "race":  # a number of rounds, started together with the other children
    go, rounds = sys.argv[4], int(sys.argv[5])
    while not os.path.exists(go):
        time.sleep(0.002)
    start = time.time()
    for i in range(rounds):
        register(i)
    print(json.dumps({"start": start, "end": time.time()}))
else:  # one registration, killed at the point the mode names
    mark("begin")
    reg.register_model(
        b"weights", system="crash", name="scorer", trained_on=["train@1"], code_commit=None
    )
    mark("done")
    if mode == "after-return":
        die()
    print("returned")
"""


def child_env(published: Path) -> dict[str, str]:
    """The environment of a child: this one without TRUSTOPS_* settings, plus the audit's."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRUSTOPS_")}
    env["TRUSTOPS_CHECKPOINT_EVERY"] = str(EVERY)
    env["TRUSTOPS_CHECKPOINT_COPY"] = str(published)
    return env


def spawn(workspace: Path, published: Path, tmp_path: Path, *args: str) -> subprocess.Popen[str]:
    """A child running CHILD with ``args`` (mode, marks file, tag, ...) in the project dir."""
    err = open(tmp_path / f"stderr-{args[2]}-{args[0]}", "w")  # noqa: SIM115  (closed below)
    try:
        return subprocess.Popen(
            [sys.executable, "-c", CHILD, *args],
            cwd=workspace,
            env=child_env(published),
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
        )
    finally:
        err.close()


def marks_of(path: Path) -> list[str]:
    return path.read_text().split() if path.exists() else []


def wait_ready(proc: subprocess.Popen[str], marks: Path, tmp_path: Path) -> None:
    deadline = time.monotonic() + 60
    while "ready" not in marks_of(marks):
        if proc.poll() is not None:
            errors = "\n".join(p.read_text() for p in tmp_path.glob("stderr-*"))
            pytest.fail(f"the child exited ({proc.returncode}) before it was ready:\n{errors}")
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail("the child was not ready within 60 s")
        time.sleep(0.005)


def kill(proc: subprocess.Popen[str]) -> None:
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGKILL  # killed by us, not exited on an error


def entry_key(e: AuditEntry) -> tuple[Any, ...]:
    """What an entry says was done: the action, its subject and what identifies the row."""
    payload = {
        "dataset.registered": "content_hash",
        "model.registered": "artifact_hash",
        "evidence.recorded": "id",
    }
    field = payload.get(e.action)
    return (e.action, e.subject, e.payload[field] if field else None)


def check_store(reg: Registry, database_url: str) -> list[AuditEntry]:
    """The store is intact, the log verifies, and actions and entries match one to one."""
    if database_url.startswith("sqlite"):
        with contextlib.closing(sqlite3.connect(database_url.removeprefix("sqlite:///"))) as db:
            assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
            assert db.execute("PRAGMA foreign_key_check").fetchall() == []
    result = reg.audit.verify()
    assert result.ok, result.failures
    entries = reg.audit.entries()
    assert [e.seq for e in entries] == list(range(reg.audit.size()))
    assert len(entries) == result.size
    expected: Counter[tuple[Any, ...]] = Counter()
    for s in reg.systems():
        expected[("system.created", f"system:{s.name}", None)] += 1
    for d in reg.datasets():
        expected[("dataset.registered", f"dataset:{d.system}/{d.ref}", d.content_hash)] += 1
    for m in reg.models():
        expected[("model.registered", f"model:{m.system}/{m.ref}", m.artifact_hash)] += 1
    for ev in reg.evidence():
        expected[("evidence.recorded", ev.subject, ev.id)] += 1
    found = Counter(entry_key(e) for e in entries)
    assert found == expected, (found - expected, expected - found)
    return entries


def entries_of(reg: Registry, tag: str) -> int:
    """How many entries the child with ``tag`` wrote."""
    return sum(f"-{tag}@" in e.subject for e in reg.audit.entries())


@pytest.fixture
def published(tmp_path: Path) -> Path:
    return tmp_path / "published"


@pytest.fixture
def store(open_registry: Callable[..., Registry], published: Path) -> Registry:
    """The test's view of the store, with the children's audit settings."""
    reg = open_registry(checkpoint_every=EVERY, checkpoint_copy=str(published))
    reg.create_system("crash")
    return reg


# == kill -9 =====================================================================

MIN_ROUNDS, MAX_ROUNDS = 4, 9


def test_kill_9_at_random_moments_while_registering(
    store: Registry, workspace: Path, published: Path, tmp_path: Path, database_url: str
) -> None:
    """Several children, each killed after a random short time; the seed is printed (set
    TRUSTOPS_TEST_CRASH_SEED to replay a run's delays). Every other round is aimed: after
    its delay the kill waits for the child's next write transaction to begin, so that
    kills inside one happen in every run, not only by luck."""
    seed = int(os.environ.get("TRUSTOPS_TEST_CRASH_SEED") or random.randrange(2**32))
    print(f"crash seed {seed}")
    rng = random.Random(seed)
    rounds: list[tuple[str, int, int]] = []  # (last mark, actions done, entries written)
    while len(rounds) < MIN_ROUNDS or (
        len(rounds) < MAX_ROUNDS and not any(last in ("wtx", "commit") for last, _, _ in rounds)
    ):
        tag, delay = f"r{len(rounds)}", rng.uniform(0.03, 0.3)
        aimed = len(rounds) % 2 == 1
        marks = tmp_path / f"marks-{tag}"
        proc = spawn(workspace, published, tmp_path, "loop", str(marks), tag)
        wait_ready(proc, marks, tmp_path)
        time.sleep(delay)
        deadline = time.monotonic() + 5
        while aimed and marks_of(marks)[-1] != "wtx" and time.monotonic() < deadline:
            time.sleep(0.0002)
        kill(proc)
        words = marks_of(marks)
        done, last, written = words.count("done"), words[-1], entries_of(store, tag)
        print(
            f"round {tag}: {'aimed, ' if aimed else ''}delay {delay:.3f} s, {done} actions done,"
            f" killed after {last!r}"
        )
        rounds.append((last, done, written))
        # What was in flight is either wholly there or wholly absent:
        if last == "committed":  # COMMIT acknowledged, the call had not returned
            assert written == done + 1, words
        elif last == "commit":  # killed during COMMIT: either way, but one way only
            assert written in (done, done + 1), words
        else:  # before its write transaction, inside it (rolled back), or between calls
            assert written == done, words
        check_store(store, database_url)

    assert sum(written > 0 for _, _, written in rounds) >= len(rounds) // 2 + 1, rounds
    assert any(last in ("wtx", "commit") for last, _, _ in rounds), (
        f"no kill landed inside a write transaction in {len(rounds)} rounds: {rounds}"
    )
    # Afterwards the log goes on where it was, and exports and verifies as a whole.
    store.register_dataset(pa.table({"after": [1]}), system="crash", name="after", profile=False)
    entries = check_store(store, database_url)
    assert entries[-1].subject == "dataset:crash/after@1"
    assert store.audit.export(tmp_path / "audit.jsonl") == len(entries)
    assert store.audit.verify().ok


@pytest.mark.parametrize("moment", ["before-commit", "after-commit", "after-return"])
def test_kill_9_right_before_and_right_after_commit(
    store: Registry,
    workspace: Path,
    published: Path,
    tmp_path: Path,
    database_url: str,
    moment: str,
) -> None:
    """The kill comes from the child itself, at a known point of one model registration,
    whose entry (seq 2, making size 3) is also due for a checkpoint."""
    store.register_dataset(pa.table({"x": [1, 2]}), system="crash", name="train", profile=False)
    assert store.audit.size() == 2
    marks = tmp_path / "marks"
    proc = spawn(workspace, published, tmp_path, moment, str(marks), "one")
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGKILL, (tmp_path / f"stderr-one-{moment}").read_text()
    assert "returned" not in out
    words = marks_of(marks)
    copy = published / store.audit.origin.replace("/", "_") / f"{3:012d}.checkpoint"
    stored = [parse_checkpoint(n)[0].size for n in store.audit.checkpoints()]

    if moment == "before-commit":
        assert words[-1] == "commit"
        assert store.models() == [] and store.audit.size() == 2
        assert 3 not in stored and not copy.exists()
    else:
        assert words[-1] == ("committed" if moment == "after-commit" else "done")
        (model,) = store.models()
        assert model.ref == "scorer@1" and model.trained_on == ["train@1"]
        entry = store.audit.entries()[-1]
        assert (entry.seq, entry.action, entry.subject) == (
            2, "model.registered", "model:crash/scorer@1"
        )  # fmt: skip
        assert 3 in stored
        # Killed between the COMMIT and the copy, the checkpoint is not copied out yet;
        # `trustops audit checkpoint` (the same state, signed before) copies it.
        assert copy.exists() == (moment == "after-return")
        note = store.audit.checkpoint()
        assert parse_checkpoint(note)[0].size == 3
        assert copy.read_text(encoding="utf-8") == note
    check_store(store, database_url)
    # The next action takes the next seq, whatever happened to the one killed.
    store.create_system("next")
    assert [e.seq for e in check_store(store, database_url)] == list(range(store.audit.size()))


# == writers at once =============================================================


def test_processes_registering_at_once(
    store: Registry, workspace: Path, published: Path, tmp_path: Path, database_url: str
) -> None:
    children, rounds = 3, 5  # each child: 5 x (dataset, model, evidence)
    go = tmp_path / "go"
    procs = []
    for n in range(children):
        marks, tag = tmp_path / f"marks-p{n}", f"p{n}"
        args = ("race", str(marks), tag, str(go), str(rounds))
        procs.append(spawn(workspace, published, tmp_path, *args))
    for n, proc in enumerate(procs):
        wait_ready(proc, tmp_path / f"marks-p{n}", tmp_path)
    go.touch()
    windows = []
    for n, proc in enumerate(procs):
        out, _ = proc.communicate(timeout=120)
        assert proc.returncode == 0, (tmp_path / f"stderr-p{n}-race").read_text()
        windows.append(json.loads(out))
    # They did run at once: every child started before any had finished.
    assert max(w["start"] for w in windows) < min(w["end"] for w in windows), windows

    entries = check_store(store, database_url)
    assert len(entries) == 1 + children * rounds * 3
    seqs = [e.seq for e in entries]
    assert seqs == list(range(len(entries))) and len(set(seqs)) == len(seqs)
    seq = sa.column("seq")
    with store.db.read() as conn:
        counted = conn.execute(
            sa.select(sa.func.count(), sa.func.min(seq), sa.func.max(seq)).select_from(
                sa.table("audit_entries")
            )
        ).one()
    assert tuple(counted) == (len(entries), 0, len(entries) - 1)
    for n in range(children):
        assert entries_of(store, f"p{n}") == rounds * 3
    writers = [e.subject.split("-")[1][:2] for e in entries[1:]]
    switches = sum(a != b for a, b in itertools.pairwise(writers))
    print(f"{switches} switches between writers in {len(entries)} entries")
    assert store.audit.export(tmp_path / "audit.jsonl") == len(entries)


def test_two_writers_registering_versions_of_one_model(
    store: Registry, open_registry: Callable[..., Registry], database_url: str
) -> None:
    """Writer A has read the next version number and not yet inserted it when writer B
    registers a version of the same model: B must wait for A (SQLite's BEGIN IMMEDIATE;
    on PostgreSQL the lock of the log's head, taken when the transaction begins), not
    read the same number and fail on the unique constraint."""
    other = open_registry(checkpoint_every=EVERY)
    store.register_model(b"v1", system="crash", name="scorer", code_commit=None)
    paused, errors = threading.Event(), {}

    def pause(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if threading.current_thread().name == "A" and statement.startswith(
            "INSERT INTO model_versions"
        ):
            paused.wait(5)

    def register(reg: Registry, artifact: bytes) -> None:
        try:
            reg.register_model(artifact, system="crash", name="scorer", code_commit=None)
        except Exception as exc:  # reported below
            errors[threading.current_thread().name] = exc

    sa.event.listen(store.db.engine, "before_cursor_execute", pause)
    try:
        a = threading.Thread(target=register, args=(store, b"v2"), name="A")
        a.start()
        time.sleep(0.3)  # A is paused, holding what it has read
        b = threading.Thread(target=register, args=(other, b"v3"), name="B")
        b.start()
        b.join(0.5)  # B would finish now if nothing held it back
        paused.set()
        a.join(30)
        b.join(30)
    finally:
        paused.set()
        sa.event.remove(store.db.engine, "before_cursor_execute", pause)
    assert not a.is_alive() and not b.is_alive()
    check_store(store, database_url)
    assert errors == {}
    assert sorted(m.ref for m in store.models()) == ["scorer@1", "scorer@2", "scorer@3"]
