"""The audit log: tampering is caught, on an export file and in the database itself.

Every test runs on SQLite and on PostgreSQL (see ``conftest.py``). A store
is filled with seven entries (``populate``) and checkpoints of sizes 4 (one
every four entries) and 6 (the promotion signs one); an export or a proof
signs one of size 7. Tampering with the database needs what an attacker
with database access would do first: switch off the append-only triggers
(``unlock``). The strongest attacker then rewrites the entries with their
hashes, the columns beside them and the log's head recomputed, so that only
a signed checkpoint — stored, or kept elsewhere — can tell.
"""

from __future__ import annotations

import base64
import contextlib
import json
import random
import subprocess
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from trustops.core.audit import (
    CompactRange,
    MerkleTree,
    canonical_json,
    leaf_hash,
    verify_consistency,
    verify_inclusion,
)
from trustops.core.checkpoint import (
    Checkpoint,
    CheckpointError,
    parse_checkpoint,
    sign_checkpoint,
    verifier_key,
    verify_checkpoint,
)
from trustops.errors import InputError
from trustops.governance import ConflictError, NotFoundError, Registry
from trustops.governance import schema as t
from trustops.governance.auditlog import EXPORT_FORMAT, ExportError, read_checkpoints, verify_export
from trustops.governance.workspace import write_key_file

EVERY = 4  # checkpoint_every of the test stores
SIZES = (4, 6, 7)  # the checkpoints of a populated store once exported

# -- a populated store ----------------------------------------------------------


def populate(reg: Registry) -> None:
    """Seven entries: 0 system, 1-2 datasets, 3 model, 4 evidence, 5 promotion (with a
    reason), 6 model; checkpoints of sizes 4 and 6 are signed on the way."""
    reg.create_system("credit", owner="risk team", risk="high")
    train = reg.register_dataset(
        pa.table({"x": [1, 2, 3]}), system="credit", name="train", profile=False
    )
    holdout = reg.register_dataset(
        pa.table({"x": [4, 5]}), system="credit", name="holdout", profile=False
    )
    model = reg.register_model(
        b"weights-1",
        system="credit",
        name="scorer",
        trained_on=[train.ref],
        evaluated_on=[holdout.ref],
        metrics={"auc": 0.81},
        code_commit=None,
    )
    reg.record_evidence("fairness", model, {"four_fifths": 0.92})
    reg.promote("scorer@1", "staging", reason="passed review")
    reg.register_model(
        b"weights-2", system="credit", name="scorer", parent="scorer@1", code_commit=None
    )


@pytest.fixture
def published(tmp_path: Path) -> Path:
    """The folder checkpoints are copied to (outside the database)."""
    return tmp_path / "published"


@pytest.fixture
def store(open_registry: Callable[..., Registry], published: Path) -> Registry:
    reg = open_registry(checkpoint_every=EVERY, checkpoint_copy=str(published))
    populate(reg)
    assert reg.audit.size() == 7
    assert stored_sizes(reg) == [4, 6]
    assert reg.warnings == []
    return reg


def copies(reg: Registry, published: Path) -> Path:
    """The folder of this log's copies inside the ``checkpoint_copy`` folder."""
    return published / reg.audit.origin.replace("/", "_")


def stored_sizes(reg: Registry) -> list[int]:
    return [parse_checkpoint(n)[0].size for n in reg.audit.checkpoints()]


def note_of(reg: Registry, size: int) -> str:
    (note,) = [n for n in reg.audit.checkpoints() if parse_checkpoint(n)[0].size == size]
    return note


def edit(leaf: bytes, change: Callable[[dict[str, Any]], Any]) -> bytes:
    """The entry with ``change`` applied, in canonical form (as a careful forger would)."""
    entry = json.loads(leaf)
    change(entry)
    return canonical_json(entry)


def renumbered(leaves: Sequence[bytes]) -> list[bytes]:
    """Entries with their seq rewritten to their position (hiding a delete, insert or swap)."""
    return [edit(leaf, lambda e, i=i: e.update(seq=i)) for i, leaf in enumerate(leaves)]


def forged(seq: int) -> bytes:
    return canonical_json(
        {"seq": seq, "time": "2026-01-01T00:00:00.000000Z", "actor": "mallory",
         "action": "model.promoted", "subject": "model:credit/scorer@1",
         "payload": {"forged": True}, "reason": None}
    )  # fmt: skip


# What each field edit changes, and in which entry (see populate).
EDITS: dict[str, tuple[int, Callable[[dict[str, Any]], Any]]] = {
    "actor": (3, lambda e: e.update(actor="mallory")),
    "action": (5, lambda e: e.update(action=e["action"] + "-and-approved")),
    "payload value": (3, lambda e: e["payload"]["metrics"].update(auc=0.99)),
    "reason": (5, lambda e: e.update(reason="no review needed")),
    "time": (1, lambda e: e.update(time="2020-01-01T00:00:00.000000Z")),
    "subject": (2, lambda e: e.update(subject="dataset:credit/other@1")),
}


# -- the export file ------------------------------------------------------------


def is_checkpoint(line: bytes) -> bool:
    return line.startswith(b'{"checkpoint":')


def export_lines(reg: Registry, path: Path) -> list[bytes]:
    """Export the log and return its lines (header, entries and checkpoints)."""
    reg.audit.export(path)
    return path.read_bytes().splitlines()


def entry_lines(lines: Sequence[bytes]) -> list[int]:
    """Positions of the entries among the export's lines."""
    return [i for i, line in enumerate(lines) if i and not is_checkpoint(line)]


def write_lines(path: Path, lines: Sequence[bytes]) -> Path:
    path.write_bytes(b"".join(line + b"\n" for line in lines))
    return path


def export_failures(reg: Registry, path: Path, checkpoints: Sequence[str] = ()) -> list[str]:
    """The failures of verifying an export against the log's published key."""
    result = verify_export(path, verifier=reg.audit.verifier(), checkpoints=checkpoints)
    assert result.ok == (not result.log.failures)
    return result.log.failures


def forge_export(
    path: Path, origin: str, leaves: Sequence[bytes], key: Ed25519PrivateKey, sizes: Sequence[int]
) -> Path:
    """A complete, self-consistent export of ``leaves``, signed by ``key`` at ``sizes``."""
    tree = MerkleTree([leaf_hash(leaf) for leaf in leaves])
    header = {
        "format": EXPORT_FORMAT,
        "version": 1,
        "origin": origin,
        "vkey": verifier_key(key, origin),
        "exported_at": "2026-01-01T00:00:00.000000Z",
    }
    lines = [canonical_json(header)]
    for count, leaf in enumerate(leaves, start=1):
        lines.append(leaf)
        if count in sizes:
            note = sign_checkpoint(Checkpoint(origin, count, tree.root(count)), key, origin)
            lines.append(canonical_json({"checkpoint": note}))
    return write_lines(path, lines)


def mismatched(failures: Sequence[str]) -> list[int]:
    """The sizes of the checkpoints reported as not matching the entries."""
    return sorted(
        {int(f.split("(size ")[1].split(")")[0]) for f in failures if "does not match the" in f}
    )


def only_mismatched(failures: Sequence[str], sizes: Sequence[int]) -> None:
    """The failures are exactly: the checkpoints of ``sizes`` do not match the entries."""
    assert failures, "tampering went unnoticed"
    assert all("does not match the entries: the log was changed" in f for f in failures), failures
    assert mismatched(failures) == sorted(set(sizes)), failures


# -- the database, as an attacker sees it ---------------------------------------

AUDIT_TABLES = ("audit_entries", "audit_checkpoints")


def unlock(reg: Registry) -> None:
    """Switch off the append-only triggers (needs only the database's own privileges)."""
    with reg.db.write() as conn:
        for table in AUDIT_TABLES:
            if reg.db.dialect == "sqlite":
                for event in ("update", "delete"):
                    conn.exec_driver_sql(f"DROP TRIGGER {table}_no_{event}")
            else:
                conn.exec_driver_sql(f"ALTER TABLE {table} DISABLE TRIGGER ALL")


def stored_leaves(reg: Registry) -> list[bytes]:
    e = t.audit_entries.c
    with reg.db.read() as conn:
        return [bytes(b) for b in conn.execute(sa.select(e.leaf).order_by(e.seq)).scalars()]


def rewrite(
    reg: Registry,
    leaves: Sequence[bytes],
    *,
    head: bool = True,
    resign: Ed25519PrivateKey | None = None,
) -> None:
    """Replace the log by ``leaves``: hashes and columns recomputed, the head too (unless not
    ``head``), checkpoints beyond the new size dropped, and the rest re-signed with ``resign``."""
    hashes = [leaf_hash(leaf) for leaf in leaves]
    rows = []
    for seq, leaf in enumerate(leaves):
        entry = json.loads(leaf)
        rows.append({"seq": seq, "leaf": leaf, "leaf_hash": hashes[seq], "time": entry["time"],
                     "actor": entry["actor"], "action": entry["action"],
                     "subject": entry["subject"]})  # fmt: skip
    c = t.audit_checkpoints.c
    with reg.db.write() as conn:
        conn.execute(t.audit_entries.delete())
        conn.execute(t.audit_entries.insert(), rows)
        if head:
            frontier = CompactRange()
            for digest in hashes:
                frontier.append(digest)
            conn.execute(
                t.audit_head.update().values(size=frontier.size, frontier=frontier.to_bytes())
            )
        conn.execute(t.audit_checkpoints.delete().where(c.size > len(leaves)))
        if resign is not None:
            tree, origin = MerkleTree(hashes), reg.audit.origin
            for size in conn.execute(sa.select(c.size)).scalars().all():
                note = sign_checkpoint(Checkpoint(origin, size, tree.root(size)), resign, origin)
                conn.execute(t.audit_checkpoints.update().where(c.size == size).values(note=note))


@contextlib.contextmanager
def tampering(reg: Registry) -> Iterator[None]:
    """Tamper inside; the audit tables are put back afterwards and must verify again."""
    with reg.db.read() as conn:
        entries = [dict(r._mapping) for r in conn.execute(sa.select(t.audit_entries))]
        head = dict(conn.execute(sa.select(t.audit_head)).one()._mapping)
        notes = [dict(r._mapping) for r in conn.execute(sa.select(t.audit_checkpoints))]
    try:
        yield
    finally:
        with reg.db.write() as conn:
            conn.execute(t.audit_entries.delete())
            conn.execute(t.audit_checkpoints.delete())
            conn.execute(t.audit_entries.insert(), entries)
            conn.execute(t.audit_checkpoints.insert(), notes)
            conn.execute(t.audit_head.update().values(size=head["size"], frontier=head["frontier"]))
    assert reg.audit.verify().ok, "the restored log must verify again"


def execute(reg: Registry, statement: Any) -> None:
    with reg.db.write() as conn:
        conn.execute(statement)


# == untampered ==================================================================


def test_untampered_log_verifies_in_the_database_and_as_an_export(
    store: Registry, published: Path, tmp_path: Path
) -> None:
    result = store.audit.verify()
    assert result.ok, result.failures
    assert result.size == 7
    assert set(result.checkpoints) == {4, 6}  # stored, and their copies in `published`
    assert len(store.audit.external_checkpoints()) == 2

    lines = export_lines(store, tmp_path / "audit.jsonl")
    assert len(entry_lines(lines)) == 7 and lines[-1].startswith(b'{"checkpoint":')
    kept = read_checkpoints([copies(store, published)])
    for verifier in (store.audit.verifier(), None):  # pinned, or the key in the header
        found = verify_export(tmp_path / "audit.jsonl", verifier=verifier, checkpoints=kept)
        assert found.ok, found.log.failures
        assert found.log.size == 7 and found.log.checkpoints == [4, 4, 6, 6, 7, 7]
        assert found.origin == store.audit.origin
    assert "export" in verify_export(tmp_path / "audit.jsonl").key_source
    # The export is the stored bytes, unchanged, in order.
    assert [lines[i] for i in entry_lines(lines)] == stored_leaves(store)
    # The store now holds the export's final checkpoint too, and verifies with it.
    assert stored_sizes(store) == list(SIZES)
    assert store.audit.verify().ok


def test_an_empty_log_exports_and_verifies(registry: Registry, tmp_path: Path) -> None:
    assert registry.audit.verify().ok
    assert registry.audit.export(tmp_path / "empty.jsonl") == 0
    result = verify_export(tmp_path / "empty.jsonl", verifier=registry.audit.verifier())
    assert result.ok and result.log.size == 0 and result.log.checkpoints == [0]


def test_sequence_numbers_start_at_zero_without_gaps(store: Registry) -> None:
    entries = store.audit.entries()
    assert [e.seq for e in entries] == list(range(7))
    e = t.audit_entries.c
    with store.db.read() as conn:
        assert conn.execute(sa.select(e.seq).order_by(e.seq)).scalars().all() == list(range(7))
    assert [json.loads(leaf)["seq"] for leaf in stored_leaves(store)] == list(range(7))
    assert [e.action for e in entries][:2] == ["system.created", "dataset.registered"]
    assert all(
        e.leaf_hash == leaf_hash(leaf)
        for e, leaf in zip(entries, stored_leaves(store), strict=True)
    )


def test_a_failed_action_leaves_no_audit_entry(store: Registry, published: Path) -> None:
    before, files = store.audit.entries(), sorted(published.rglob("*"))
    with pytest.raises(ConflictError, match="already exists"):
        store.create_system("credit")
    with pytest.raises(NotFoundError):
        store.register_model(b"w", system="credit", name="m", trained_on=["nope"], code_commit=None)
    with pytest.raises(NotFoundError):
        store.record_evidence("fairness", "scorer@9", {"x": 1})
    assert store.audit.entries() == before

    # A failure at the very last moment — the COMMIT itself — undoes the entry, the
    # action and the checkpoint signed with it, and nothing is copied out.
    def refuse(conn: Any) -> None:
        if conn.get_execution_options().get("trustops_write"):
            raise RuntimeError("the disk is full")

    sa.event.listen(store.db.engine, "commit", refuse)
    try:
        with pytest.raises(RuntimeError, match="disk is full"):
            store.create_system("fraud")  # entry 7, then 8 = 2 * EVERY: a checkpoint is due
        with pytest.raises(RuntimeError, match="disk is full"):
            store.audit.checkpoint()
    finally:
        sa.event.remove(store.db.engine, "commit", refuse)
    assert store.audit.entries() == before
    assert [s.name for s in store.systems()] == ["credit"]
    assert stored_sizes(store) == [4, 6]
    assert sorted(published.rglob("*")) == files
    assert store.audit.verify().ok
    # ... and the next action takes the next seq: no gap where the failures were.
    store.create_system("fraud")
    assert [e.seq for e in store.audit.entries()] == list(range(8))


# == the export ==================================================================


def test_export_edited_fields_fail(store: Registry, tmp_path: Path) -> None:
    lines = export_lines(store, tmp_path / "audit.jsonl")
    for field, (seq, change) in EDITS.items():
        changed = [*lines]
        position = entry_lines(lines)[seq]
        changed[position] = edit(lines[position], change)
        failures = export_failures(store, write_lines(tmp_path / "edited.jsonl", changed))
        assert failures, f"an edited {field} went unnoticed"
        only_mismatched(failures, [s for s in SIZES if s > seq])  # those covering the entry

    # An edit left out of canonical form is named as such.
    changed = [*lines]
    position = entry_lines(lines)[3]
    changed[position] = lines[position].replace(b'"actor":"alice"', b'"actor": "alice"')
    failures = export_failures(store, write_lines(tmp_path / "spaced.jsonl", changed))
    assert "entry 3 is not in canonical form: it was edited" in failures
    only_mismatched([f for f in failures if "canonical" not in f], [4, 6, 7])

    # The header names the log: checkpoints of the real one do not count for another.
    header = json.loads(lines[0])
    header["origin"] = "trustops/another-log"
    changed = [canonical_json(header), *lines[1:]]
    failures = export_failures(store, write_lines(tmp_path / "origin.jsonl", changed))
    wrong = f"is for log {store.audit.origin!r}, not 'trustops/another-log'"
    assert failures == [
        *(f"checkpoint {i} {wrong}" for i in (1, 2, 3)),
        "entries 0..6 are not covered by a signed checkpoint",
    ]


def test_export_any_flipped_bit_fails(store: Registry, tmp_path: Path) -> None:
    header = export_lines(store, tmp_path / "audit.jsonl")[0]
    raw = (tmp_path / "audit.jsonl").read_bytes()
    body = len(header) + 1  # the bytes after the header line
    rng = random.Random(6962)
    flips = [(p, rng.randrange(8)) for p in rng.sample(range(body, len(raw)), 200)]
    flips += [(p, b) for p in (body, len(raw) - 1) for b in range(8)]  # first and last byte
    passed = []
    for position, bit in flips:
        flipped = bytearray(raw)
        flipped[position] ^= 1 << bit
        (tmp_path / "flipped.jsonl").write_bytes(flipped)
        try:
            failures = export_failures(store, tmp_path / "flipped.jsonl")
        except ExportError:
            continue  # a mangled checkpoint line: refused outright
        if not failures:
            passed.append((position, bit, raw[position - 10 : position + 10]))
    assert passed == []

    # The last base64 digit of a 68-byte signature has 2 spare bits: spelt with them set,
    # it decodes to the same signature, yet the file is not the one that was signed.
    lines = raw.splitlines()
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    tried = 0
    for position in [i for i, line in enumerate(lines) if is_checkpoint(line)]:
        note = json.loads(lines[position])["checkpoint"]
        head, signature = note.rstrip("\n").rsplit(" ", 1)
        assert signature.endswith("=") and not signature.endswith("==")
        digit = alphabet.index(signature[-2])
        for sibling in range(digit & ~3, (digit & ~3) + 4):
            if sibling == digit:
                continue
            other = f"{head} {signature[:-2]}{alphabet[sibling]}=\n"
            assert base64.b64decode(other.split(" ")[-1]) == base64.b64decode(signature)
            changed = [*lines]
            changed[position] = canonical_json({"checkpoint": other})
            assert export_failures(store, write_lines(tmp_path / "respelt.jsonl", changed))
            with pytest.raises(CheckpointError):
                verify_checkpoint(other, store.audit.verifier() or "")
            tried += 1
    assert tried == 3 * 3


def test_export_deleted_inserted_or_swapped_entries_fail(store: Registry, tmp_path: Path) -> None:
    lines = export_lines(store, tmp_path / "audit.jsonl")
    at = entry_lines(lines)
    seq_failure = "has seq {}: entries were removed, inserted or reordered"

    deleted = lines[: at[3]] + lines[at[3] + 1 :]
    failures = export_failures(store, write_lines(tmp_path / "deleted.jsonl", deleted))
    assert f"entry 3 {seq_failure.format(4)}" in failures
    assert any("does not match the entries" in f for f in failures)

    inserted = [*lines[: at[2]], forged(2), *lines[at[2] :]]
    failures = export_failures(store, write_lines(tmp_path / "inserted.jsonl", inserted))
    assert f"entry 3 {seq_failure.format(2)}" in failures

    swapped = [*lines]
    swapped[at[1]], swapped[at[2]] = lines[at[2]], lines[at[1]]
    failures = export_failures(store, write_lines(tmp_path / "swapped.jsonl", swapped))
    assert f"entry 1 {seq_failure.format(2)}" in failures
    assert f"entry 2 {seq_failure.format(1)}" in failures
    only_mismatched([f for f in failures if "has seq" not in f], [4, 6, 7])

    # The same three with every seq renumbered to fit, each checkpoint line after the
    # entries it claims to cover: only the signed roots tell.
    leaves = [lines[i] for i in at]
    notes = {
        parse_checkpoint(json.loads(line)["checkpoint"])[0].size: line
        for line in lines
        if is_checkpoint(line)
    }
    for name, changed, wrong, others in (
        ("deleted", leaves[:3] + leaves[4:], [4, 6], []),  # six entries: no line for 7
        ("inserted", [*leaves[:2], forged(2), *leaves[2:]], [4, 6, 7],
         ["entries 7..7 are not covered by a signed checkpoint"]),
        ("swapped", [leaves[0], leaves[2], leaves[1], *leaves[3:]], [4, 6, 7], []),
    ):  # fmt: skip
        rebuilt = [lines[0]]
        for count, leaf in enumerate(renumbered(changed), start=1):
            rebuilt += [leaf, *([notes[count]] if count in notes else [])]
        failures = export_failures(store, write_lines(tmp_path / f"{name}.jsonl", rebuilt))
        assert mismatched(failures) == wrong, (name, failures)
        assert [f for f in failures if "does not match the entries" not in f] == others, name


def test_export_truncation_fails(store: Registry, tmp_path: Path, published: Path) -> None:
    lines = export_lines(store, tmp_path / "audit.jsonl")
    at = entry_lines(lines)

    # The last entry removed, the final checkpoint (size 7) kept.
    kept = lines[: at[6]] + lines[at[6] + 1 :]
    failures = export_failures(store, write_lines(tmp_path / "kept.jsonl", kept))
    assert failures == [
        "a checkpoint covers 7 entries but the log has 6: entries were removed from its end"
    ]

    # The last entry removed with the checkpoint lines after entry 5 (those of sizes 6
    # and 7): entries 4 and 5 are left unsigned.
    cut = lines[: at[5] + 1]
    failures = export_failures(store, write_lines(tmp_path / "cut.jsonl", cut))
    assert failures == ["entries 4..5 are not covered by a signed checkpoint"]

    # Cut back to an earlier checkpoint (size 4), the export is a consistent log of
    # four entries: only a later checkpoint kept elsewhere shows the rest is missing.
    prefix = lines[: at[3] + 2]
    assert is_checkpoint(prefix[-1])
    write_lines(tmp_path / "prefix.jsonl", prefix)
    assert export_failures(store, tmp_path / "prefix.jsonl") == []
    later = tmp_path / "six.checkpoint"
    later.write_text(note_of(store, 6))
    for kept_elsewhere, size in (([later], 6), ([copies(store, published)], 7)):
        failures = export_failures(
            store, tmp_path / "prefix.jsonl", read_checkpoints(kept_elsewhere)
        )
        assert failures == [
            f"a checkpoint covers {size} entries but the log has 4: entries were removed from "
            "its end"
        ]


def test_export_entries_appended_after_the_last_checkpoint_fail(
    store: Registry, tmp_path: Path
) -> None:
    lines = export_lines(store, tmp_path / "audit.jsonl")
    appended = [*lines, forged(7), forged(8)]
    failures = export_failures(store, write_lines(tmp_path / "appended.jsonl", appended))
    assert failures == ["entries 7..8 are not covered by a signed checkpoint"]
    # ... with a checkpoint over them, signed by a key other than the log's.
    leaves = [lines[i] for i in entry_lines(lines)] + [forged(7), forged(8)]
    root = MerkleTree([leaf_hash(leaf) for leaf in leaves]).root()
    origin, other = store.audit.origin, Ed25519PrivateKey.generate()
    note = sign_checkpoint(Checkpoint(origin, 9, root), other, origin)
    signed = [*appended, canonical_json({"checkpoint": note})]
    failures = export_failures(store, write_lines(tmp_path / "signed.jsonl", signed))
    assert failures == [
        f"checkpoint 4: the checkpoint has no signature by {origin!r}",
        "entries 7..8 are not covered by a signed checkpoint",
    ]


def test_export_rewritten_and_signed_with_another_key_fails(
    store: Registry, tmp_path: Path, published: Path
) -> None:
    lines = export_lines(store, tmp_path / "audit.jsonl")
    leaves = [lines[i] for i in entry_lines(lines)]
    history = renumbered(leaves[:4] + leaves[5:])  # the evidence record (entry 4) erased
    other = Ed25519PrivateKey.generate()
    path = forge_export(tmp_path / "forged.jsonl", store.audit.origin, history, other, (4, 6))
    # Self-consistent: it verifies against the key its own header names ...
    trusted = verify_export(path)
    assert trusted.ok and "named in the export" in trusted.key_source
    # ... but not against the log's published key,
    failures = export_failures(store, path)
    name = store.audit.origin
    assert failures == [
        f"checkpoint 1: the checkpoint has no signature by {name!r}",
        f"checkpoint 2: the checkpoint has no signature by {name!r}",
        "entries 0..5 are not covered by a signed checkpoint",
    ]
    # nor, whatever key is trusted, against a checkpoint kept before the rewrite.
    for kept in (read_checkpoints([copies(store, published)]), [note_of(store, 7)]):
        for verifier in (None, verifier_key(other, name)):
            result = verify_export(path, verifier=verifier, checkpoints=kept)
            assert not result.ok
            assert all("no signature by" in f for f in result.log.failures), result.log.failures


def test_export_rewritten_with_the_same_key_fails_against_an_earlier_checkpoint(
    store: Registry, tmp_path: Path
) -> None:
    """An insider holding the signing key re-signs a changed history; a checkpoint of a
    smaller size, kept elsewhere before, no longer fits (the log is not an extension)."""
    earlier = tmp_path / "four.checkpoint"
    earlier.write_text(note_of(store, 4))
    lines = export_lines(store, tmp_path / "audit.jsonl")
    leaves = [lines[i] for i in entry_lines(lines)]
    history = [*leaves]
    history[1] = edit(leaves[1], lambda e: e["payload"].update(personal_data=True))
    assert store.audit.key is not None
    path = forge_export(
        tmp_path / "resigned.jsonl", store.audit.origin, history, store.audit.key, SIZES
    )
    assert export_failures(store, path) == []  # every signature is genuine
    failures = export_failures(store, path, read_checkpoints([earlier]))
    assert failures == [
        "checkpoint 4 (size 4) does not match the entries: the log was changed after it was signed"
    ]
    # In proof terms: no consistency proof leads from the old size-4 root to the new log.
    old = verify_checkpoint(earlier.read_text(), store.audit.verifier() or "")
    new_tree = MerkleTree([leaf_hash(leaf) for leaf in history])
    proof = new_tree.consistency_proof(4, 7)
    assert verify_consistency(4, 7, proof, new_tree.root(4), new_tree.root())
    assert not verify_consistency(4, 7, proof, old.root, new_tree.root())


def test_files_that_are_not_exports_raise_export_error(store: Registry, tmp_path: Path) -> None:
    lines = export_lines(store, tmp_path / "audit.jsonl")
    header = json.loads(lines[0])
    unversioned = {k: v for k, v in header.items() if k != "version"}
    cases = {
        "people.csv": (b"name,age\nalice,30\n", "not a trustops audit export"),
        "empty.jsonl": (b"", "not a trustops audit export"),
        "list.jsonl": (b"[1, 2]\n", "not a trustops audit export"),
        "other.jsonl": (b'{"format": "something-else", "version": 1}\n', "not a trustops audit"),
        "binary.bin": (bytes(range(256)) * 4, "not a trustops audit export"),
        "v2.jsonl": (canonical_json({**header, "version": 2}), "version 2 is not supported"),
        "noversion.jsonl": (canonical_json(unversioned), "version None is not supported"),
        "noorigin.jsonl": (canonical_json({**header, "origin": None}), "names no origin"),
        "badnote.jsonl": (lines[0] + b'\n{"checkpoint":5}\n', "line 2 is a malformed checkpoint"),
        "badjson.jsonl": (
            b"\n".join([lines[0], lines[1], b'{"checkpoint": nope']),
            "line 3 is a malformed checkpoint",
        ),
    }
    for name, (content, message) in cases.items():
        (tmp_path / name).write_bytes(content)
        with pytest.raises(ExportError, match=message):
            verify_export(tmp_path / name, verifier=store.audit.verifier())
    with pytest.raises(ExportError, match="cannot read"):
        verify_export(tmp_path / "missing.jsonl")
    with pytest.raises(ExportError, match="cannot read"):
        verify_export(tmp_path)  # a folder
    assert issubclass(ExportError, InputError)


# == the database ================================================================


def test_the_database_refuses_changes_until_its_triggers_are_switched_off(store: Registry) -> None:
    e = t.audit_entries.c
    for statement in (
        t.audit_entries.update().where(e.seq == 1).values(actor="mallory"),
        t.audit_entries.delete().where(e.seq == 6),
        t.audit_checkpoints.delete(),
    ):
        with pytest.raises(sa.exc.DBAPIError, match="append-only"):
            execute(store, statement)
    assert store.audit.verify().ok
    unlock(store)
    with tampering(store):
        execute(store, t.audit_entries.update().where(e.seq == 1).values(actor="mallory"))
        assert store.audit.verify().failures == [
            "entry 1: the columns beside the entry differ from it"
        ]


def test_database_edited_fields_fail(store: Registry) -> None:
    unlock(store)
    e = t.audit_entries.c
    for field, (seq, change) in EDITS.items():
        # Careless: only the entry's bytes change.
        with tampering(store):
            leaf = edit(stored_leaves(store)[seq], change)
            execute(store, t.audit_entries.update().where(e.seq == seq).values(leaf=leaf))
            failures = store.audit.verify().failures
            assert f"entry {seq}: its stored leaf hash does not match its bytes" in failures, field
            if field in ("actor", "action", "subject", "time"):
                assert f"entry {seq}: the columns beside the entry differ from it" in failures
            assert any("does not match the entries" in f for f in failures), (field, failures)
        # Careful: hash, columns and head recomputed; the signed checkpoints still tell.
        with tampering(store):
            leaves = stored_leaves(store)
            leaves[seq] = edit(leaves[seq], change)
            rewrite(store, leaves)
            result = store.audit.verify()
            only_mismatched(result.failures, [s for s in (4, 6) if s > seq])
            assert set(result.checkpoints) == {s for s in (4, 6) if s <= seq}, field


def test_database_flipped_bits_fail(store: Registry) -> None:
    unlock(store)
    e, c = t.audit_entries.c, t.audit_checkpoints.c
    rng = random.Random(9162)
    leaves = stored_leaves(store)
    for _ in range(12):
        seq = rng.randrange(7)
        flipped = bytearray(leaves[seq])
        flipped[rng.randrange(len(flipped))] ^= 1 << rng.randrange(8)
        with tampering(store):
            execute(store, t.audit_entries.update().where(e.seq == seq).values(leaf=bytes(flipped)))
            failures = store.audit.verify().failures
            assert any(f.startswith(f"entry {seq}") for f in failures), failures
    with tampering(store):  # the stored hash beside an entry
        digest = bytearray(leaf_hash(leaves[2]))
        digest[0] ^= 1
        execute(store, t.audit_entries.update().where(e.seq == 2).values(leaf_hash=bytes(digest)))
        assert store.audit.verify().failures == [
            "entry 2: its stored leaf hash does not match its bytes"
        ]
    with tampering(store):  # a stored checkpoint
        note = note_of(store, 4)
        i = note.rindex(" ") + 10  # in the signature, after the key id
        bad = note[:i] + ("A" if note[i] != "A" else "B") + note[i + 1 :]
        execute(store, t.audit_checkpoints.update().where(c.size == 4).values(note=bad))
        failures = store.audit.verify().failures
        assert failures == ["checkpoint 1: the signature by "
                            f"{store.audit.origin!r} does not match the checkpoint"]  # fmt: skip
    with tampering(store):  # the head's frontier
        with store.db.read() as conn:
            frontier = bytearray(conn.execute(sa.select(t.audit_head.c.frontier)).scalar_one())
        frontier[5] ^= 0x10
        execute(store, t.audit_head.update().values(frontier=bytes(frontier)))
        assert store.audit.verify().failures == ["the log's head does not match its entries"]


def test_database_deleted_inserted_or_swapped_entries_fail(store: Registry) -> None:
    unlock(store)
    e = t.audit_entries.c
    seq_failure = "entry {} has seq {}: entries were removed, inserted or reordered"
    leaves = stored_leaves(store)

    with tampering(store):  # a row deleted, nothing else touched
        execute(store, t.audit_entries.delete().where(e.seq == 3))
        failures = store.audit.verify().failures
        assert seq_failure.format(3, 4) in failures
        assert "the log's head says 7 entries but 6 are stored" in failures
    with tampering(store):  # an entry inserted, the head recomputed
        rewrite(store, [*leaves[:2], forged(2), *leaves[2:]])
        failures = store.audit.verify().failures
        assert seq_failure.format(3, 2) in failures
        assert any("does not match the entries" in f for f in failures)
    with tampering(store):  # two entries swapped
        rewrite(store, [leaves[0], leaves[2], leaves[1], *leaves[3:]])
        failures = store.audit.verify().failures
        assert seq_failure.format(1, 2) in failures and seq_failure.format(2, 1) in failures
        assert "entry 1: the columns beside the entry differ from it" in failures
        assert mismatched(failures) == [4, 6]

    # Renumbered to hide it: only the signed checkpoints (stored and copied) tell.
    for changed, wrong in (
        (leaves[:3] + leaves[4:], [4, 6]),  # deleted: 6 entries, checkpoint 6 no longer fits
        ([*leaves[:2], forged(2), *leaves[2:6]], [4, 6]),  # inserted, the last one dropped
        ([leaves[0], leaves[2], leaves[1], *leaves[3:]], [4, 6]),  # swapped
        ([*leaves[:4], leaves[5], leaves[4], leaves[6]], [6]),  # swapped after checkpoint 4
    ):
        with tampering(store):
            rewrite(store, renumbered(changed))
            only_mismatched(store.audit.verify().failures, wrong)


def test_database_truncated_or_appended_log_fails(
    store: Registry, open_registry: Callable[..., Registry]
) -> None:
    unlock(store)
    e = t.audit_entries.c
    leaves = stored_leaves(store)
    with tampering(store):  # the last entries deleted
        execute(store, t.audit_entries.delete().where(e.seq >= 5))
        assert store.audit.verify().failures == [
            "a checkpoint covers 6 entries but the log has 5: entries were removed from its end",
            "the log's head says 7 entries but 5 are stored",
        ]
    with tampering(store):  # ... the head and the checkpoint of size 6 too
        rewrite(store, leaves[:5])
        assert stored_sizes(store) == [4]
        # Inside the database, what is left is a consistent log of five entries:
        assert open_registry(checkpoint_every=EVERY).audit.verify().ok
        # but the checkpoint copied out at size 6 says there was more.
        assert store.audit.verify().failures == [
            "a checkpoint covers 6 entries but the log has 5: entries were removed from its end"
        ]
    with tampering(store):  # an entry appended after the last one, not by the writer
        rewrite(store, [*leaves, forged(7)], head=False)
        assert store.audit.verify().failures == ["the log's head says 7 entries but 8 are stored"]


def test_database_rewritten_and_signed_with_another_key_fails(
    store: Registry,
    open_registry: Callable[..., Registry],
    published: Path,
    tmp_path: Path,
) -> None:
    """The whole log rewritten, hashes recomputed, checkpoints re-signed with the attacker's
    key, and that key put in place of the signing key: the copies made before tell."""
    unlock(store)
    kept = tmp_path / "kept.checkpoint"
    kept.write_text(store.audit.checkpoint())  # `trustops audit checkpoint > kept.checkpoint`
    assert stored_sizes(store) == list(SIZES)
    attacker_file = tmp_path / "attacker.key"
    attacker = write_key_file(attacker_file)
    leaves = stored_leaves(store)
    history = [*renumbered(leaves[:4] + leaves[5:]), forged(6)]  # evidence erased, one forged
    rewrite(store, history, resign=attacker)

    # The database alone, checked with the attacker's key, is consistent ...
    assert open_registry(checkpoint_every=EVERY, signing_key=str(attacker_file)).audit.verify().ok
    # ... but not with the log's own key,
    failures = store.audit.verify().failures
    assert f"checkpoint 1: the checkpoint has no signature by {store.audit.origin!r}" in failures
    # and, whatever key is trusted, not with the copies made before the rewrite.
    swapped = open_registry(
        checkpoint_every=EVERY, checkpoint_copy=str(published), signing_key=str(attacker_file)
    )
    for result in (
        swapped.audit.verify(),
        swapped.audit.verify(extra_checkpoints=[kept.read_text()]),
    ):
        assert not result.ok
        assert any("no signature by" in f for f in result.failures), result.failures
    result = swapped.audit.verify(extra_checkpoints=read_checkpoints([kept]))
    assert (  # 3 stored, 3 copied, then the one kept
        f"checkpoint 7: the checkpoint has no signature by {store.audit.origin!r}"
        in result.failures
    )


def test_database_rewritten_with_the_same_key_fails_against_an_earlier_copy(
    store: Registry, open_registry: Callable[..., Registry], published: Path
) -> None:
    """An insider with the key rewrites entry 5 and re-signs every checkpoint; the copy of
    checkpoint 6 made before no longer fits (consistency), though checkpoint 4 still does."""
    unlock(store)
    assert store.audit.key is not None
    leaves = stored_leaves(store)
    old_six = verify_checkpoint(note_of(store, 6), store.audit.verifier() or "")
    history = [*leaves]
    history[5] = edit(leaves[5], lambda e: e.update(reason="approved by the board"))
    rewrite(store, history, resign=store.audit.key)

    assert open_registry(checkpoint_every=EVERY).audit.verify().ok  # re-signed: consistent
    result = store.audit.verify()  # with the copies in `published`
    assert result.failures == [
        "checkpoint 4 (size 6) does not match the entries: the log was changed after it was signed"
    ]
    assert sorted(result.checkpoints) == [4, 4, 6]  # the copy of 4, and both stored ones
    # A consistency proof from the rewritten store does not connect the old root to it.
    new_seven = verify_checkpoint(store.audit.checkpoint(), store.audit.verifier() or "")
    proof = store.audit.consistency(6, 7)
    assert not verify_consistency(6, 7, proof, old_six.root, new_seven.root)
    new_six = verify_checkpoint(note_of(store, 6), store.audit.verifier() or "")
    assert verify_consistency(6, 7, proof, new_six.root, new_seven.root)


def test_database_rows_that_cannot_be_read_are_reported(store: Registry) -> None:
    unlock(store)  # (the restore after each case deletes rows)
    e = t.audit_entries.c
    for leaf, message in (
        (b"[1, 2]", "entry 2 is not a JSON object"),
        (b'"text"', "entry 2 is not a JSON object"),
        (b"\xff\xfe", "entry 2 is not JSON"),
        (b"{", "entry 2 is not JSON"),
    ):
        with tampering(store):
            execute(store, t.audit_entries.update().where(e.seq == 2).values(leaf=leaf))
            assert message in store.audit.verify().failures
    for frontier in (b"short", bytes(64)):  # 7 entries need 3 hashes of 32 bytes
        with tampering(store):
            execute(store, t.audit_head.update().values(frontier=frontier))
            assert store.audit.verify().failures == [
                "the log's head is malformed: its frontier does not fit its size"
            ]


# == proofs ======================================================================


def test_prove_gives_inclusion_proofs_that_verify(store: Registry) -> None:
    verifier = store.audit.verifier() or ""
    leaves = stored_leaves(store)
    roots = {s: verify_checkpoint(note_of(store, s), verifier).root for s in (4, 6)}
    for seq in range(7):
        proof = store.audit.prove(seq)
        checkpoint = verify_checkpoint(proof.checkpoint, verifier)
        assert proof.seq == seq and proof.size == checkpoint.size == 7
        assert proof.leaf_hash == leaf_hash(leaves[seq])
        assert verify_inclusion(seq, 7, proof.leaf_hash, proof.proof, checkpoint.root)
        as_json = proof.to_dict()
        assert [base64.b64decode(p) for p in as_json["proof"]] == proof.proof
        assert base64.b64decode(as_json["leaf_hash"]) == proof.leaf_hash
        for size in (4, 6):  # against an earlier stored checkpoint
            if seq < size:
                older = store.audit.prove(seq, size=size)
                assert older.size == size and older.checkpoint == note_of(store, size)
                assert verify_inclusion(seq, size, older.leaf_hash, older.proof, roots[size])
    with pytest.raises(InputError, match="not in the log"):
        store.audit.prove(7)
    with pytest.raises(InputError, match="not in the log"):
        store.audit.prove(5, size=4)
    with pytest.raises(InputError, match="no checkpoint of size 5"):
        store.audit.prove(0, size=5)

    # Corrupted proofs are rejected. A wrong size is another checkpoint's (size, root): a
    # size is bound to its root by the signed checkpoint (RFC 9162), not by the proof.
    four, six = roots[4], roots[6]
    for seq in range(7):
        p = store.audit.prove(seq)
        root = verify_checkpoint(p.checkpoint, verifier).root
        assert p.proof, "a tree of 7 leaves has a proof for every leaf"
        bad: list[tuple[str, int, int, bytes, list[bytes], bytes]] = [
            ("truncated", seq, 7, p.leaf_hash, p.proof[:-1], root),
            ("padded", seq, 7, p.leaf_hash, [*p.proof, bytes(32)], root),
            ("padded with its own hash", seq, 7, p.leaf_hash, [*p.proof, p.proof[-1]], root),
            ("reversed", seq, 7, p.leaf_hash, p.proof[::-1], root) if len(set(p.proof)) > 1
            else ("empty", seq, 7, p.leaf_hash, [], root),
            ("wrong size: checkpoint 6", seq, 6, p.leaf_hash, p.proof, six),
            ("wrong size: checkpoint 4", seq, 4, p.leaf_hash, p.proof, four),
            ("another checkpoint's root", seq, 7, p.leaf_hash, p.proof, six),
            ("a size beyond the log", seq, 8, p.leaf_hash, p.proof, six),
            ("the roots swapped in", seq, 7, root, p.proof, p.leaf_hash),
            ("another leaf", seq, 7, leaf_hash(leaves[(seq + 1) % 7]), p.proof, root),
            ("a hash that is too short", seq, 7, p.leaf_hash, [h[:31] for h in p.proof], root),
        ]  # fmt: skip
        bad += [("wrong index", i, 7, p.leaf_hash, p.proof, root) for i in (seq - 1, seq + 1)]
        for i in range(len(p.proof)):
            for bit in (0, 7, 255):
                flipped = [bytearray(h) for h in p.proof]
                flipped[i][bit // 8] ^= 1 << (bit % 8)
                changed = [bytes(h) for h in flipped]
                bad.append((f"bit {bit} of hash {i}", seq, 7, p.leaf_hash, changed, root))
        for name, index, size, leaf, proof, against in bad:
            assert not verify_inclusion(index, size, leaf, proof, against), (seq, name)


def test_consistency_between_stored_checkpoints_verifies(store: Registry) -> None:
    store.audit.checkpoint()
    verifier = store.audit.verifier() or ""
    roots = {s: verify_checkpoint(note_of(store, s), verifier).root for s in SIZES}
    for first in SIZES:
        for second in SIZES:
            if first > second:
                continue
            proof = store.audit.consistency(first, second)
            assert verify_consistency(first, second, proof, roots[first], roots[second])
            if first == second:
                assert proof == []
                continue
            assert not verify_consistency(first, second, proof, roots[second], roots[first])
            assert not verify_consistency(first, second, proof[:-1], roots[first], roots[second])
            padded = [*proof, bytes(32)]
            assert not verify_consistency(first, second, padded, roots[first], roots[second])
            for i in range(len(proof)):
                flipped = bytearray(proof[i])
                flipped[i % 32] ^= 0x01
                changed = [*proof[:i], bytes(flipped), *proof[i + 1 :]]
                assert not verify_consistency(first, second, changed, roots[first], roots[second])
    for first, second in ((0, 4), (4, 8), (6, 4)):
        with pytest.raises(InputError, match="no consistency proof"):
            store.audit.consistency(first, second)


# == checkpoints copied out ======================================================


def test_checkpoint_copy_to_a_folder_writes_one_file_per_checkpoint(
    store: Registry, published: Path
) -> None:
    (folder,) = published.iterdir()
    assert folder == copies(store, published)

    def files() -> list[str]:
        return sorted(p.name for p in folder.iterdir())

    assert files() == ["000000000004.checkpoint", "000000000006.checkpoint"]
    note = store.audit.checkpoint()
    assert files() == [f"{s:012d}.checkpoint" for s in SIZES]  # no temporary files left
    for size in SIZES:
        text = (folder / f"{size:012d}.checkpoint").read_text(encoding="utf-8")
        assert text == note_of(store, size)
        assert verify_checkpoint(text, store.audit.verifier() or "").size == size
    # A copy lost (a crash between the commit and the copy): signing again puts it back.
    (folder / "000000000007.checkpoint").unlink()
    assert store.audit.checkpoint() == note
    assert (folder / "000000000007.checkpoint").read_text(encoding="utf-8") == note
    assert read_checkpoints([folder]) == [note_of(store, s) for s in SIZES]
    # The copy folder itself holds no checkpoint: refused, not read as none.
    with pytest.raises(InputError, match=r"no \*\.checkpoint files") as refused:
        read_checkpoints([published])
    assert folder.name in (refused.value.hint or "")


def test_verify_before_anything_was_copied_out(
    open_registry: Callable[..., Registry], tmp_path: Path
) -> None:
    reg = open_registry(checkpoint_copy=str(tmp_path / "not-yet"))
    reg.create_system("credit")  # one entry; the first checkpoint is due at 100
    assert reg.audit.external_checkpoints() == []
    assert reg.audit.verify().ok
    assert not (tmp_path / "not-yet").exists()


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=repo, capture_output=True, text=True, check=True
    ).stdout


def test_checkpoint_copy_in_a_git_work_tree_commits_each_checkpoint(
    open_registry: Callable[..., Registry], tmp_path: Path
) -> None:
    repo = tmp_path / "audit-repo"
    repo.mkdir()
    git(repo, "init", "--quiet")
    (repo / "notes.txt").write_text("someone's work in progress\n")
    git(repo, "add", "notes.txt")  # staged, not ours to commit
    reg = open_registry(checkpoint_every=EVERY, checkpoint_copy=str(repo / "checkpoints"))
    populate(reg)
    reg.audit.checkpoint()
    assert reg.warnings == []
    assert git(repo, "log", "--format=%s").splitlines() == [
        f"trustops audit checkpoint {s}" for s in reversed(SIZES)
    ]
    slug = reg.audit.origin.replace("/", "_")
    assert git(repo, "ls-tree", "-r", "--name-only", "HEAD").splitlines() == [
        f"checkpoints/{slug}/{s:012d}.checkpoint" for s in SIZES
    ]
    assert git(repo, "status", "--porcelain").splitlines() == ["A  notes.txt"]
    for size in SIZES:
        committed = git(repo, "show", f"HEAD:checkpoints/{slug}/{size:012d}.checkpoint")
        assert committed == note_of(reg, size)
    # Signing the same state again makes no empty commit.
    reg.audit.checkpoint()
    assert len(git(repo, "log", "--format=%s").splitlines()) == 3
    # The copies in git are what verify reads besides the database.
    assert reg.audit.verify().ok and len(reg.audit.external_checkpoints()) == 3
