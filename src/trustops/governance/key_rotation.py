"""Key rotation for artifacts at rest: re-encrypt every artifact under a new key, resumably.

A rotation is recorded before any file changes (``key_rotations``, with an
``encryption.rotation_started`` audit entry naming both key ids), then each
artifact is rewritten under the new key one at a time, atomically
(:meth:`~trustops.governance.artifacts.ArtifactStore.reencrypt`): a crash
or an interrupt leaves every file wholly under the old key or wholly under
the new one, and running the rotation again with the same two keys finishes
the open one (artifacts already under the new key are skipped). When every
artifact is under the new key, the rotation is marked finished and the old
key retired (``encryption.rotation_finished``). Switch the workspace's
``store.encryption_key`` to the new key afterwards; keep the old key until
then. Hashes never change, so lineage, evidence and the audit log stay valid.
Artifacts another process stores under the old key while the rotation runs
are picked up by a last pass over the listing; give writers the new key as
soon as the rotation starts (or pause them) so none arrive after it.

Rotating from no key encrypts a store that was in plaintext.

Example:
    >>> import tempfile
    >>> from trustops.governance import Registry, init_workspace
    >>> from trustops.governance.encryption import EncryptionKey
    >>> reg = Registry.open(init_workspace(tempfile.mkdtemp(), actor="alice").project)
    >>> digest, _ = reg.artifacts.put_bytes(b"weights")
    >>> new = EncryptionKey.generate()
    >>> rotate_key(reg, new).rewritten
    1
    >>> reg.artifacts.key_id_of(digest) == new.key_id
    True
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from trustops.governance import schema as t
from trustops.governance.auditlog import utc_now
from trustops.governance.encryption import ALGORITHM, EncryptionKey, Keyring, MissingKeyError

if TYPE_CHECKING:
    from trustops.governance.registry import Registry

__all__ = ["Rotation", "key_history", "rotate_key"]


@dataclass(frozen=True, slots=True)
class Rotation:
    """What a rotation did: its id, the two key ids, how many artifacts it rewrote."""

    id: int
    from_key: str | None
    to_key: str
    rewritten: int
    total: int
    resumed: bool

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def rotate_key(
    registry: Registry,
    new_key: EncryptionKey,
    *,
    progress: Callable[[str], None] | None = None,
) -> Rotation:
    """Re-encrypt every artifact of ``registry``'s store under ``new_key``; resumes an open one.

    The current key (``registry.artifacts.keyring``) must be able to read
    the artifacts not yet rotated; ``progress`` is called with each digest
    once it is rewritten. Afterwards the store writes new artifacts under
    ``new_key`` too.
    """
    store = registry.artifacts
    digests = store.digests()
    old = store.keyring.current if store.keyring is not None else None
    from_key = old.key_id if old is not None else None
    if from_key == new_key.key_id:
        raise MissingKeyError(
            "the new key is the key already in use", hint="create one: trustops privacy new-key"
        )
    keyring = store.keyring.with_key(new_key) if store.keyring else Keyring(new_key)
    for digest in digests:  # refuse before changing anything
        key_id = store.key_id_of(digest)
        if key_id not in (None, from_key, new_key.key_id):
            raise MissingKeyError(
                f"artifact {digest} is encrypted under key {key_id}, neither the current "
                f"key ({from_key}) nor the new one",
                hint="finish the rotation that key belongs to first, with it as the current key",
            )
    rotation_id, resumed = _start(registry, from_key, new_key.key_id)
    store.keyring = keyring
    rewritten = 0
    while True:  # again over the listing until a pass finds nothing written meanwhile
        fresh = 0
        for digest in digests:
            if store.reencrypt(digest, new_key):
                fresh += 1
                if progress is not None:
                    progress(digest)
        rewritten += fresh
        listed = store.digests()
        if not fresh or listed == digests:
            digests = listed
            break
        digests = listed
    with registry.transaction() as change:
        kr, keys = t.key_rotations.c, t.encryption_keys.c
        now = utc_now()
        change.conn.execute(
            sa.update(t.key_rotations)
            .where(kr.id == rotation_id)
            .values(finished_at=now, rewritten=len(digests))
        )
        if from_key is not None:
            change.conn.execute(
                sa.update(t.encryption_keys)
                .where(keys.key_id == from_key, keys.retired_at.is_(None))
                .values(retired_at=now)
            )
        done = Rotation(rotation_id, from_key, new_key.key_id, rewritten, len(digests), resumed)
        change.audit("encryption.rotation_finished", f"key:{new_key.key_id}", done.to_dict())
    return done


def _start(registry: Registry, from_key: str | None, to_key: str) -> tuple[int, bool]:
    """Record the rotation (or find the open one to resume) before any file changes."""
    with registry.transaction() as change:
        conn, kr, keys = change.conn, t.key_rotations.c, t.encryption_keys.c
        now = utc_now()
        for key_id in (from_key, to_key):
            known = conn.execute(sa.select(keys.key_id).where(keys.key_id == key_id)).first()
            if key_id is not None and known is None:
                conn.execute(
                    t.encryption_keys.insert().values(
                        key_id=key_id,
                        algorithm=ALGORITHM,
                        created_at=now,
                        created_by=registry.actor,
                    )
                )
        open_one = conn.execute(
            sa.select(kr.id)
            .where(kr.to_key == to_key, kr.finished_at.is_(None))
            .order_by(kr.id.desc())
        ).scalar()
        if open_one is not None:
            change.audit(
                "encryption.rotation_resumed",
                f"key:{to_key}",
                {"id": open_one, "from_key": from_key, "to_key": to_key},
            )
            return int(open_one), True
        key = conn.execute(
            t.key_rotations.insert().values(
                from_key=from_key, to_key=to_key, started_at=now, started_by=registry.actor
            )
        ).inserted_primary_key
        assert key is not None
        rid = int(key[0])
        change.audit(
            "encryption.rotation_started",
            f"key:{to_key}",
            {"id": rid, "from_key": from_key, "to_key": to_key},
        )
        return rid, False


def key_history(registry: Registry) -> dict[str, Any]:
    """The recorded key ids and rotations, and the id of the key this registry writes with.

    Example:
        >>> import tempfile
        >>> from trustops.governance import Registry, init_workspace
        >>> reg = Registry.open(init_workspace(tempfile.mkdtemp(), actor="alice").project)
        >>> key_history(reg)
        {'current_key': None, 'keys': [], 'rotations': []}
    """
    keyring = registry.artifacts.keyring
    current = keyring.current.key_id if keyring is not None and keyring.current else None
    with registry.db.read() as conn:
        keys = conn.execute(sa.select(t.encryption_keys).order_by(t.encryption_keys.c.created_at))
        key_rows = [dict(r._mapping) for r in keys]
        rotations = conn.execute(sa.select(t.key_rotations).order_by(t.key_rotations.c.id))
        rotation_rows = [dict(r._mapping) for r in rotations]
    return {"current_key": current, "keys": key_rows, "rotations": rotation_rows}
