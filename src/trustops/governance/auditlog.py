"""The audit log in the store: append in a transaction, checkpoint, prove, export, verify.

Entries are the leaves of an RFC 6962 Merkle tree (the hashing and proofs are
the pure :mod:`trustops.core.audit`). Each entry is the canonical JSON of::

    {"seq": 41, "time": "2026-11-27T18:55:16.123456Z", "actor": "alice",
     "action": "model.promoted", "subject": "model:credit/scorer@2",
     "payload": {...}, "reason": "quarterly refresh"}

and the exact bytes that were hashed are stored (never re-serialised). The
next ``seq`` is the log's size, read under the write lock (SQLite's
``BEGIN IMMEDIATE``; PostgreSQL's ``SELECT ... FOR UPDATE`` of the head
row) — never a database sequence, which leaves gaps when a transaction rolls
back. The head row keeps the size and the compact range of subtree hashes,
so an append costs O(log n) whatever the log's length.

Checkpoints (C2SP ``tlog-checkpoint``, Ed25519, see
:mod:`trustops.core.checkpoint`) are signed every ``checkpoint_every``
entries and after every promotion or rollback, stored, and — after the
transaction commits — copied to an external folder when one is configured
(a folder in a git work tree gets a commit per checkpoint), so that a
rewrite of the whole database is still caught by an earlier copy.

An export (``trustops audit export``) is JSON Lines: a header line, then one
line per entry (its stored bytes, unchanged), with each checkpoint on a line
of its own ``{"checkpoint": "<note>"}`` after the entries it covers, ending
with a checkpoint of the whole log. :func:`verify_export` checks one offline.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy.engine import Connection

from trustops.core.audit import CompactRange, MerkleTree, canonical_json, leaf_hash
from trustops.core.audit_verify import LogVerification, verify_log
from trustops.core.checkpoint import Checkpoint, parse_checkpoint, sign_checkpoint, verifier_key
from trustops.errors import InputError, TrustOpsError
from trustops.governance import schema as t
from trustops.governance.database import Database

__all__ = [
    "EXPORT_FORMAT",
    "AuditEntry",
    "AuditLog",
    "ExportError",
    "InclusionProof",
    "Receipt",
    "read_checkpoints",
    "utc_now",
    "verify_export",
]

EXPORT_FORMAT = "trustops-audit-export"
_EXPORT_VERSION = 1


class ExportError(InputError):
    """A file that is not a trustops audit export, or one that cannot be read."""


class SigningKeyMissingError(TrustOpsError):
    """A state change needs the signing key (to sign checkpoints), and none is configured."""

    status = 503


def utc_now() -> str:
    """The current time as the store writes it: ISO-8601 UTC with microseconds."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True)
class AuditEntry:
    """One entry of the log, decoded from its stored bytes."""

    seq: int
    time: str
    actor: str
    action: str
    subject: str
    payload: dict[str, Any]
    reason: str | None
    leaf_hash: bytes

    @classmethod
    def from_leaf(cls, leaf: bytes, digest: bytes) -> AuditEntry:
        d = json.loads(leaf)
        return cls(
            d["seq"], d["time"], d["actor"], d["action"], d["subject"], d["payload"],
            d["reason"], digest,
        )  # fmt: skip

    def to_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "time": self.time,
            "actor": self.actor,
            "action": self.action,
            "subject": self.subject,
            "payload": self.payload,
            "reason": self.reason,
            "leaf_hash": self.leaf_hash.hex(),
        }


@dataclass(frozen=True)
class Receipt:
    """What a caller keeps of an action: the entry's ``seq`` and leaf hash."""

    seq: int
    leaf_hash: str


@dataclass(frozen=True)
class InclusionProof:
    """Entry ``seq`` is leaf ``seq`` of the signed checkpoint's tree (RFC 6962 audit path)."""

    seq: int
    leaf_hash: bytes
    size: int
    proof: list[bytes]
    checkpoint: str

    def to_dict(self) -> dict[str, Any]:
        import base64

        return {
            "seq": self.seq,
            "leaf_hash": base64.b64encode(self.leaf_hash).decode(),
            "tree_size": self.size,
            "proof": [base64.b64encode(p).decode() for p in self.proof],
            "checkpoint": self.checkpoint,
        }


@dataclass
class Pending:
    """Checkpoints signed inside a transaction, to copy out once it has committed."""

    notes: list[tuple[int, str]] = field(default_factory=list)


# The statements of every append, built once (an append only binds their parameters).
_HEAD = sa.select(t.audit_head.c.size, t.audit_head.c.frontier).where(t.audit_head.c.id == 1)
_HEAD_FOR_UPDATE = _HEAD.with_for_update()
_INSERT_ENTRY = t.audit_entries.insert()
_MOVE_HEAD = (
    t.audit_head.update()
    .where(t.audit_head.c.id == 1)
    .values(size=sa.bindparam("new_size"), frontier=sa.bindparam("new_frontier"))
)


def _slug(origin: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", origin)


class AuditLog:
    """The store's audit log (see the module docstring)."""

    def __init__(
        self,
        db: Database,
        origin: str,
        key: Ed25519PrivateKey | None,
        *,
        checkpoint_every: int = 100,
        checkpoint_copy: str | os.PathLike[str] | None = None,
    ) -> None:
        self.db = db
        self.origin = origin
        self.key = key
        self.checkpoint_every = checkpoint_every
        self.checkpoint_copy = Path(checkpoint_copy) if checkpoint_copy else None
        self.warnings: list[str] = []  # copies that failed, for the caller to report

    # -- writing ---------------------------------------------------------------

    def _head(self, conn: Connection) -> CompactRange:
        query = _HEAD_FOR_UPDATE if self.db.dialect == "postgresql" else _HEAD
        row = conn.execute(query).one()
        return CompactRange.from_bytes(row.size, row.frontier)

    def append(
        self,
        conn: Connection,
        pending: Pending,
        *,
        actor: str,
        action: str,
        subject: str,
        payload: dict[str, Any],
        reason: str | None = None,
        time: str | None = None,
    ) -> Receipt:
        """Add an entry in the caller's (write) transaction; sign a checkpoint when one is due."""
        if self.key is None:
            raise SigningKeyMissingError(
                "no signing key: the audit log cannot sign its checkpoints",
                hint="run `trustops init`, or set TRUSTOPS_SIGNING_KEY",
            )
        frontier = self._head(conn)
        entry = {
            "seq": frontier.size,
            "time": time or utc_now(),
            "actor": actor,
            "action": action,
            "subject": subject,
            "payload": payload,
            "reason": reason,
        }
        leaf = canonical_json(entry)
        digest = leaf_hash(leaf)
        conn.execute(
            _INSERT_ENTRY,
            {"seq": entry["seq"], "leaf": leaf, "leaf_hash": digest, "time": entry["time"],
             "actor": actor, "action": action, "subject": subject},
        )  # fmt: skip
        frontier.append(digest)
        conn.execute(_MOVE_HEAD, {"new_size": frontier.size, "new_frontier": frontier.to_bytes()})
        if frontier.size % self.checkpoint_every == 0:
            self._sign(conn, pending, frontier)
        return Receipt(frontier.size - 1, digest.hex())

    def _sign(self, conn: Connection, pending: Pending, frontier: CompactRange) -> str:
        assert self.key is not None
        existing = conn.execute(
            sa.select(t.audit_checkpoints.c.note).where(t.audit_checkpoints.c.size == frontier.size)
        ).scalar()
        if existing is not None:
            return str(existing)
        note = sign_checkpoint(
            Checkpoint(self.origin, frontier.size, frontier.root()), self.key, self.origin
        )
        conn.execute(
            t.audit_checkpoints.insert().values(size=frontier.size, note=note, created_at=utc_now())
        )
        pending.notes.append((frontier.size, note))
        return note

    def checkpoint_in(self, conn: Connection, pending: Pending) -> str:
        """Sign the log's current state inside the caller's transaction."""
        if self.key is None:
            raise SigningKeyMissingError(
                "no signing key to sign a checkpoint", hint="set TRUSTOPS_SIGNING_KEY"
            )
        return self._sign(conn, pending, self._head(conn))

    def checkpoint(self) -> str:
        """Sign (or return the existing) checkpoint of the log as it is now, and copy it out.

        An existing checkpoint is copied out again if its copy is missing (a
        crash between the commit and the copy, or a copy that failed).
        """
        pending = Pending()
        with self.db.write() as conn:
            note = self.checkpoint_in(conn, pending)
        if not pending.notes:
            pending.notes.append((parse_checkpoint(note)[0].size, note))
        self.warnings += self.publish(pending)
        return note

    def publish(self, pending: Pending) -> list[str]:
        """Copy checkpoints out of the database (after their transaction committed).

        Returns the warnings: a copy that fails does not undo the action, which
        is committed; it is reported, and ``trustops audit checkpoint`` retries.
        """
        warnings: list[str] = []
        if self.checkpoint_copy is None or not pending.notes:
            return warnings
        folder = self.checkpoint_copy / _slug(self.origin)
        try:
            folder.mkdir(parents=True, exist_ok=True)
            for size, note in pending.notes:
                target = folder / f"{size:012d}.checkpoint"
                if target.exists():
                    continue
                tmp = folder / f".{size}.{os.getpid()}.tmp"
                with open(tmp, "w", encoding="utf-8") as f:
                    f.write(note)
                    f.flush()
                    os.fsync(f.fileno())
                os.replace(tmp, target)
        except OSError as exc:
            return [f"could not copy checkpoints to {folder}: {exc}"]
        git = ["git", "-C", str(folder)]
        try:
            inside = subprocess.run(
                [*git, "rev-parse", "--is-inside-work-tree"], capture_output=True, text=True
            )
            if inside.returncode == 0 and inside.stdout.strip() == "true":
                subprocess.run([*git, "add", "."], capture_output=True, check=True)
                staged = subprocess.run(
                    [*git, "diff", "--cached", "--quiet", "--", "."], capture_output=True
                )
                if staged.returncode != 0:  # commit the copies only, nothing else staged
                    subprocess.run(
                        [*git, "-c", "user.name=trustops", "-c", "user.email=trustops@invalid",
                         "commit", "--quiet", "-m",
                         f"trustops audit checkpoint {pending.notes[-1][0]}", "--", "."],
                        capture_output=True, check=True,
                    )  # fmt: skip
        except (OSError, subprocess.CalledProcessError) as exc:
            warnings.append(f"could not commit checkpoints in {folder}: {exc}")
        return warnings

    # -- reading ---------------------------------------------------------------

    def size(self) -> int:
        with self.db.read() as conn:
            return int(conn.execute(sa.select(t.audit_head.c.size)).scalar_one())

    def entries(
        self,
        *,
        start: int = 0,
        limit: int | None = None,
        action: str | None = None,
        subject: str | None = None,
        actor: str | None = None,
        last: int | None = None,
    ) -> list[AuditEntry]:
        """Entries from ``seq`` ``start`` on, optionally filtered, oldest first.

        ``limit`` keeps the first N that match, ``last`` the latest N (read
        newest first from the index, so it costs N rows whatever the log's size).
        """
        e = t.audit_entries.c
        newest_first = last is not None
        query = sa.select(e.leaf, e.leaf_hash).where(e.seq >= start)
        query = query.order_by(e.seq.desc() if newest_first else e.seq)
        if action:
            query = query.where(e.action == action)
        if subject:
            query = query.where(e.subject.like(f"%{subject}%"))
        if actor:
            query = query.where(e.actor == actor)
        if limit is not None or last is not None:
            query = query.limit(last if newest_first else limit)
        with self.db.read() as conn:
            found = [AuditEntry.from_leaf(r.leaf, r.leaf_hash) for r in conn.execute(query)]
        return found[::-1] if newest_first else found

    def checkpoints(self) -> list[str]:
        """Every stored checkpoint note, smallest size first."""
        c = t.audit_checkpoints.c
        with self.db.read() as conn:
            return [str(n) for n in conn.execute(sa.select(c.note).order_by(c.size)).scalars()]

    def _stream(self, conn: Connection) -> Iterator[Any]:
        e = t.audit_entries.c
        result = conn.execution_options(yield_per=10_000).execute(
            sa.select(e.seq, e.leaf, e.leaf_hash, e.time, e.actor, e.action, e.subject).order_by(
                e.seq
            )
        )
        yield from result

    def _leaf_hashes(self, conn: Connection) -> list[bytes]:
        e = t.audit_entries.c
        return list(conn.execute(sa.select(e.leaf_hash).order_by(e.seq)).scalars())

    def prove(self, seq: int, size: int | None = None) -> InclusionProof:
        """An inclusion proof of entry ``seq`` in the latest checkpoint (signed now if needed)."""
        note = self.checkpoint() if size is None else None
        with self.db.read() as conn:
            hashes = self._leaf_hashes(conn)
            if size is not None:
                note = conn.execute(
                    sa.select(t.audit_checkpoints.c.note).where(t.audit_checkpoints.c.size == size)
                ).scalar()
                if note is None:
                    raise InputError(f"no checkpoint of size {size}")
        assert note is not None
        checkpoint = parse_checkpoint(note)[0]
        if not 0 <= seq < checkpoint.size:
            raise InputError(f"entry {seq} is not in the log (it has {checkpoint.size} entries)")
        tree = MerkleTree(hashes[: checkpoint.size])
        return InclusionProof(
            seq, hashes[seq], checkpoint.size, tree.inclusion_proof(seq), str(note)
        )

    def consistency(self, first: int, second: int) -> list[bytes]:
        """The RFC 6962 consistency proof from size ``first`` to size ``second``."""
        with self.db.read() as conn:
            hashes = self._leaf_hashes(conn)
        if not 0 < first <= second <= len(hashes):
            raise InputError(f"no consistency proof from {first} to {second} (log: {len(hashes)})")
        return MerkleTree(hashes[:second]).consistency_proof(first, second)

    def verifier(self) -> str | None:
        """The published verifier key (``name+keyid+base64``) of this log's signing key."""
        return verifier_key(self.key, self.origin) if self.key else None

    def external_checkpoints(self) -> list[str]:
        """The checkpoints copied out to the configured folder, if any."""
        if self.checkpoint_copy is None:
            return []
        folder = self.checkpoint_copy / _slug(self.origin)
        if not any(folder.glob("*.checkpoint")):  # none copied out yet
            return []
        return read_checkpoints([folder])

    def verify(self, *, extra_checkpoints: Sequence[str] = ()) -> LogVerification:
        """Check the stored log: each leaf, the columns beside it, the head, every checkpoint."""
        notes = [*self.checkpoints(), *self.external_checkpoints(), *extra_checkpoints]
        column_failures: list[str] = []
        with self.db.read() as conn:
            head = conn.execute(sa.select(t.audit_head.c.size, t.audit_head.c.frontier)).one()
            rows = self._stream(conn)
            current: list[Any] = []

            def leaves() -> Iterator[bytes]:
                for row in rows:
                    current[:] = [row]
                    yield bytes(row.leaf)

            def inspect(index: int, entry: dict[str, Any] | None, digest: bytes) -> None:
                row = current[0]
                if bytes(row.leaf_hash) != digest:
                    column_failures.append(
                        f"entry {row.seq}: its stored leaf hash does not match its bytes"
                    )
                if entry is not None and (row.seq, row.time, row.actor, row.action,
                                          row.subject) != (
                    entry.get("seq"), entry.get("time"), entry.get("actor"),
                    entry.get("action"), entry.get("subject"),
                ):  # fmt: skip
                    column_failures.append(
                        f"entry {row.seq}: the columns beside the entry differ from it"
                    )

            result = verify_log(
                leaves(), notes, self.verifier(), origin=self.origin,
                require_full_checkpoint=False, inspect=inspect,
            )  # fmt: skip
        for failure in column_failures:
            result.fail(failure)
        if head.size != result.size:
            result.fail(f"the log's head says {head.size} entries but {result.size} are stored")
            return result
        try:
            head_root = CompactRange.from_bytes(head.size, bytes(head.frontier)).root()
        except ValueError:
            result.fail("the log's head is malformed: its frontier does not fit its size")
            return result
        if head_root != result.root:
            result.fail("the log's head does not match its entries")
        return result

    # -- export ----------------------------------------------------------------

    def export(self, path: str | os.PathLike[str]) -> int:
        """Write the whole log to ``path`` (JSON Lines, see the module docs); returns entries."""
        final = self.checkpoint()
        final_size = parse_checkpoint(final)[0].size
        path = Path(path)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        count = 0
        with self.db.read() as conn:
            c = t.audit_checkpoints.c
            notes = dict(
                conn.execute(sa.select(c.size, c.note).where(c.size <= final_size)).tuples().all()
            )
            e = t.audit_entries.c
            rows = conn.execution_options(yield_per=10_000).execute(
                sa.select(e.leaf).where(e.seq < final_size).order_by(e.seq)
            )
            try:
                with open(tmp, "wb") as out:
                    header = {
                        "format": EXPORT_FORMAT,
                        "version": _EXPORT_VERSION,
                        "origin": self.origin,
                        "vkey": self.verifier(),
                        "exported_at": utc_now(),
                    }
                    out.write(canonical_json(header) + b"\n")
                    if 0 in notes:
                        out.write(canonical_json({"checkpoint": notes[0]}) + b"\n")
                    for (leaf,) in rows:
                        out.write(bytes(leaf) + b"\n")
                        count += 1
                        if count in notes:
                            out.write(canonical_json({"checkpoint": notes[count]}) + b"\n")
                    out.flush()
                    os.fsync(out.fileno())
                os.replace(tmp, path)
            except BaseException:
                tmp.unlink(missing_ok=True)
                raise
        return count


def read_checkpoints(paths: Sequence[str | os.PathLike[str]]) -> list[str]:
    """Checkpoint notes from files (one note each) and folders (their ``*.checkpoint`` files).

    A folder without any is refused (InputError), so that a wrong folder — such
    as the ``checkpoint_copy`` folder itself, which keeps each log's copies in a
    subfolder of its own — is not silently checked against nothing.
    """
    notes = []
    for p in map(Path, paths):
        files = sorted(p.glob("*.checkpoint")) if p.is_dir() else [p]
        if not files:
            logs = sorted({f.parent.name for f in p.glob("*/*.checkpoint")})
            raise InputError(
                f"no *.checkpoint files in {p}",
                hint=f"each log's copies are in a folder of its own: {', '.join(logs)}"
                if logs
                else None,
            )
        for f in files:
            try:
                notes.append(f.read_text(encoding="utf-8"))
            except FileNotFoundError:
                raise InputError(f"checkpoint file {f} not found") from None
            except (OSError, UnicodeDecodeError) as exc:
                raise InputError(f"cannot read checkpoint file {f}: {exc}") from None
    return notes


@dataclass
class ExportVerification:
    """The result of :func:`verify_export`: the log's verification plus what was trusted."""

    log: LogVerification
    origin: str
    key_source: str

    @property
    def ok(self) -> bool:
        return self.log.ok


class _ExportEntries:
    """The entry lines of an export; each iteration reads the file again from the start."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __iter__(self) -> Iterator[bytes]:
        with open(self.path, "rb") as f:
            f.readline()
            for line in f:
                if not line.startswith(b'{"checkpoint":'):
                    yield line.rstrip(b"\n")


def verify_export(
    path: str | os.PathLike[str],
    *,
    verifier: str | None = None,
    checkpoints: Sequence[str] = (),
) -> ExportVerification:
    """Verify an export offline: its entries, its checkpoints and ``checkpoints`` kept elsewhere.

    ``verifier`` is the log's published key (``trustops audit pubkey``); without
    it the key named in the export's header is used, which proves integrity
    against that key only (``key_source`` says which was used).
    """
    path = Path(path)
    try:
        f = open(path, "rb")  # noqa: SIM115  (closed by the with below)
    except OSError as exc:
        raise ExportError(f"cannot read {path}: {exc.strerror or exc}") from None
    with f:
        first = f.readline()
        try:
            header = json.loads(first)
        except ValueError:
            header = None
        if not isinstance(header, dict) or header.get("format") != EXPORT_FORMAT:
            raise ExportError(f"{path}: not a trustops audit export (line 1 is no export header)")
        if header.get("version") != _EXPORT_VERSION:
            raise ExportError(f"{path}: export version {header.get('version')!r} is not supported")
        origin = header.get("origin")
        if not isinstance(origin, str):
            raise ExportError(f"{path}: the export header names no origin")
        notes = []
        for number, line in enumerate(f, start=2):
            if line.startswith(b'{"checkpoint":'):
                try:
                    note = json.loads(line)["checkpoint"]
                except (ValueError, KeyError, TypeError):
                    note = None
                if not isinstance(note, str):
                    raise ExportError(f"{path}: line {number} is a malformed checkpoint")
                notes.append(note)
    if verifier:
        key_source = "the key given"
    elif isinstance(header.get("vkey"), str):
        verifier, key_source = header["vkey"], "the key named in the export (pass --key to pin it)"
    else:
        key_source = "no key: signatures not checked"

    result = verify_log(_ExportEntries(path), [*notes, *checkpoints], verifier, origin=origin)
    return ExportVerification(result, origin, key_source)
