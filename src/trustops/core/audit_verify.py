"""Verify an audit log from its entries and signed checkpoints alone (offline, pure).

The log is correct when:

1. entry ``i`` is the canonical JSON of an object whose ``seq`` is ``i``
   (sequence numbers start at 0 and have no gap) and which has every field
   of an entry (``ENTRY_FIELDS``);
2. every checkpoint is signed by the expected key (a C2SP signed note, see
   :mod:`trustops.core.checkpoint`), names the log's origin, and its root is
   the RFC 6962 tree hash of the first ``size`` entries — which also proves
   that the checkpoints are consistent with each other;
3. no checkpoint covers more entries than there are (truncation), and,
   with ``require_full_checkpoint``, the last entry is covered by one (so
   nothing was appended after the last signature).

An edited field, a flipped byte, a deleted, inserted or reordered entry
changes a leaf hash or breaks the ``seq`` sequence, and so a checkpoint's
root; a rewrite of the whole log with recomputed hashes still fails against
a checkpoint kept elsewhere before the rewrite, because the signer's key is
needed to sign a new root and the old root no longer matches.

Example:
    >>> from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    >>> from trustops.core.audit import MerkleTree, canonical_json, leaf_hash
    >>> from trustops.core.checkpoint import Checkpoint, sign_checkpoint, verifier_key
    >>> key, origin = Ed25519PrivateKey.from_private_bytes(bytes(32)), "trustops.test/log"
    >>> entries = [canonical_json({"seq": i, "time": "t", "actor": "a", "action": "x",
    ...     "subject": "s", "payload": {}, "reason": None}) for i in range(3)]
    >>> root = MerkleTree([leaf_hash(e) for e in entries]).root()
    >>> note = sign_checkpoint(Checkpoint(origin, 3, root), key, origin)
    >>> result = verify_log(entries, [note], verifier_key(key, origin), origin=origin)
    >>> result.ok, result.size, result.checkpoints
    (True, 3, [3])
    >>> verify_log(entries[:2], [note], verifier_key(key, origin), origin=origin).failures
    ['a checkpoint covers 3 entries but the log has 2: entries were removed from its end']
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from trustops.core.audit import CompactRange, leaf_hash
from trustops.core.checkpoint import (
    Checkpoint,
    CheckpointError,
    parse_checkpoint,
    verify_checkpoint,
)

__all__ = ["ENTRY_FIELDS", "LogVerification", "verify_log"]

ENTRY_FIELDS = frozenset({"seq", "time", "actor", "action", "subject", "payload", "reason"})
_MAX_FAILURES = 20


@dataclass
class LogVerification:
    """What :func:`verify_log` found: the size and root it rebuilt, the checkpoints it matched."""

    size: int = 0
    root: bytes = b""
    checkpoints: list[int] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures

    def fail(self, message: str) -> None:
        if len(self.failures) < _MAX_FAILURES:
            self.failures.append(message)
        elif len(self.failures) == _MAX_FAILURES:
            self.failures.append("... (further failures not listed)")


_ENCODER = json.JSONEncoder(
    sort_keys=True,
    separators=(",", ":"),
    ensure_ascii=False,
    allow_nan=False,
    check_circular=False,
)  # fmt: skip  (the same bytes as core.audit.canonical_json, one encoder for every entry)


def _parse(index: int, data: bytes) -> tuple[dict[str, Any] | None, str | None]:
    """The entry and None, or None and what is wrong with its structure."""
    try:
        entry = json.loads(data.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        return None, f"entry {index} is not JSON"
    if not isinstance(entry, dict):
        return None, f"entry {index} is not a JSON object"
    if entry.get("seq") != index:
        return entry, (
            f"entry {index} has seq {entry.get('seq')!r}: entries were removed, inserted "
            "or reordered"
        )
    if len(entry) != len(ENTRY_FIELDS) or entry.keys() != ENTRY_FIELDS:
        missing, extra = ENTRY_FIELDS - entry.keys(), set(entry) - ENTRY_FIELDS
        return entry, (
            f"entry {index} has missing {sorted(missing)} or unknown {sorted(extra)} fields"
        )
    return entry, None


def _canonical_problem(index: int, entry: dict[str, Any], data: bytes) -> str | None:
    try:
        canonical = _ENCODER.encode(entry).encode("utf-8")
    except ValueError:
        return f"entry {index} holds a value JSON cannot carry"
    if canonical != data:
        return f"entry {index} is not in canonical form: it was edited"
    return None


#: Called for each entry with its index, the parsed entry (None if unreadable) and leaf hash.
Inspect = Callable[[int, "dict[str, Any] | None", bytes], None]


def verify_log(
    entries: Iterable[bytes],
    checkpoints: Sequence[str],
    verifier: str | None,
    *,
    origin: str,
    require_full_checkpoint: bool = True,
    inspect: Inspect | None = None,
) -> LogVerification:
    """Check ``entries`` (leaf bytes, in order) against signed ``checkpoints``.

    ``verifier`` is the published verifier key (``name+keyid+base64``); with
    ``None`` the signatures are not checked, only the roots. ``inspect`` sees
    every entry once, parsed, with its leaf hash (a store checks the columns it
    keeps beside each entry with it, without parsing twice).

    Every entry is parsed and its ``seq`` and fields checked. The canonical
    form is re-encoded and compared only where no signed checkpoint covers the
    entry: a signed root fixes the exact bytes of everything before it, so an
    edit there already fails that checkpoint. When a checkpoint fails and
    ``entries`` can be read again (a list, or an object whose ``__iter__``
    starts over), a second pass names the entries that are not in canonical
    form. This keeps a 1M-entry log under 10 s (BENCHMARKS.md).
    """
    result = LogVerification()
    wanted: dict[int, list[tuple[int, Checkpoint]]] = {}
    for position, note in enumerate(checkpoints):
        try:
            checkpoint = (
                verify_checkpoint(note, verifier) if verifier else parse_checkpoint(note)[0]
            )
        except CheckpointError as exc:
            result.fail(f"checkpoint {position + 1}: {exc}")
            continue
        if checkpoint.origin != origin:
            result.fail(
                f"checkpoint {position + 1} is for log {checkpoint.origin!r}, not {origin!r}"
            )
            continue
        wanted.setdefault(checkpoint.size, []).append((position, checkpoint))
    signed = max(wanted, default=0)  # entries below this are fixed by a signed root

    frontier = CompactRange()
    mismatched = False

    def check_size() -> None:
        nonlocal mismatched
        for position, checkpoint in wanted.get(frontier.size, ()):
            if checkpoint.root == frontier.root():
                result.checkpoints.append(checkpoint.size)
            else:
                mismatched = True
                result.fail(
                    f"checkpoint {position + 1} (size {checkpoint.size}) does not match the "
                    "entries: the log was changed after it was signed"
                )

    check_size()
    for index, data in enumerate(entries):
        entry, problem = _parse(index, data)
        if problem is None and entry is not None and index >= signed:
            problem = _canonical_problem(index, entry, data)
        if problem:
            result.fail(problem)
        digest = leaf_hash(data)
        if inspect is not None:
            inspect(index, entry, digest)
        frontier.append(digest)
        check_size()
    result.size, result.root = frontier.size, frontier.root()
    beyond = sorted(size for size in wanted if size > frontier.size)
    if beyond:
        result.fail(
            f"a checkpoint covers {beyond[-1]} entries but the log has {frontier.size}: "
            "entries were removed from its end"
        )
    elif require_full_checkpoint and frontier.size and frontier.size not in wanted:
        result.fail(f"entries {signed}..{frontier.size - 1} are not covered by a signed checkpoint")
    if mismatched and iter(entries) is not entries:  # name the edited entries
        for index, data in enumerate(entries):
            if index >= min(signed, frontier.size):
                break
            entry, problem = _parse(index, data)
            if problem is None and entry is not None:
                problem = _canonical_problem(index, entry, data)
                if problem:
                    result.fail(problem)
    result.checkpoints.sort()
    return result
