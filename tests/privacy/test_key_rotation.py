"""Key rotation on a real store (SQLite and PostgreSQL): lossless, resumable, hashes unchanged."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pytest
import sqlalchemy as sa

from trustops.governance import Registry
from trustops.governance import schema as t
from trustops.governance.encryption import EncryptionError, MissingKeyError, write_key_file
from trustops.governance.key_rotation import rotate_key


def _fill(registry: Registry) -> list[str]:
    """A dataset (its profile is an artifact) and two model versions; their hashes."""
    registry.create_system("credit")
    dv = registry.register_dataset(pa.table({"x": list(range(50))}), system="credit", name="d")
    m1 = registry.register_model(b"weights one", system="credit", name="m", trained_on=["d"])
    m2 = registry.register_model(b"weights two" * 1000, system="credit", name="m")
    assert dv.profile_hash is not None
    return sorted([dv.profile_hash, m1.artifact_hash, m2.artifact_hash])


def _contents(registry: Registry, digests: list[str]) -> dict[str, bytes]:
    return {d: registry.artifacts.read(d) for d in digests}


def test_rotation_encrypts_then_rotates_without_changing_hashes(
    open_registry: Callable[..., Registry], tmp_path: Path
) -> None:
    plain = open_registry()
    digests = _fill(plain)
    before = _contents(plain, digests)
    lineage = plain.lineage("m@1").to_dict()
    first = write_key_file(tmp_path / "a.key")
    done = rotate_key(plain, first)  # from plaintext: encrypts the store
    assert (done.from_key, done.to_key, done.rewritten, done.resumed) == (
        None,
        first.key_id,
        len(digests),
        False,
    )
    keyed = open_registry(encryption_key=str(tmp_path / "a.key"))
    assert {keyed.artifacts.key_id_of(d) for d in digests} == {first.key_id}
    assert _contents(keyed, digests) == before
    assert keyed.lineage("m@1").to_dict() == lineage
    keyed.promote("m@1", "staging")  # verifies the (encrypted) artifact

    second = write_key_file(tmp_path / "b.key")
    rotate_key(keyed, second)
    only_b = open_registry(encryption_key=str(tmp_path / "b.key"))
    assert _contents(only_b, digests) == before
    with only_b.db.read() as conn:
        keys = {r.key_id: r.retired_at for r in conn.execute(sa.select(t.encryption_keys))}
        rotations = conn.execute(sa.select(t.key_rotations).order_by(t.key_rotations.c.id)).all()
    assert keys[first.key_id] is not None and keys[second.key_id] is None
    assert [r.finished_at is not None for r in rotations] == [True, True]
    actions = [e.action for e in only_b.audit.entries()]
    assert actions.count("encryption.rotation_started") == 2
    assert actions.count("encryption.rotation_finished") == 2
    assert only_b.audit.verify().ok


def test_interrupted_rotation_resumes_and_loses_nothing(
    open_registry: Callable[..., Registry], tmp_path: Path
) -> None:
    old = write_key_file(tmp_path / "old.key")
    registry = open_registry(encryption_key=str(tmp_path / "old.key"))
    digests = _fill(registry)
    before = _contents(registry, digests)
    new = write_key_file(tmp_path / "new.key")

    def crash_after_first(digest: str) -> None:
        raise KeyboardInterrupt  # as a ^C or a killed process half-way

    with pytest.raises(KeyboardInterrupt):
        rotate_key(registry, new, progress=crash_after_first)
    again = open_registry(encryption_key=str(tmp_path / "old.key"))
    kinds = [again.artifacts.key_id_of(d) for d in digests]
    assert kinds.count(new.key_id) == 1 and kinds.count(old.key_id) == len(digests) - 1
    with again.db.read() as conn:
        [open_rotation] = conn.execute(sa.select(t.key_rotations)).all()
    assert open_rotation.finished_at is None
    assert not list((Path(str(again.artifacts.root)) / "objects" / "tmp").iterdir())

    done = rotate_key(again, new)  # the same command again
    assert done.resumed and done.id == open_rotation.id and done.rewritten == len(digests) - 1
    after = open_registry(encryption_key=str(tmp_path / "new.key"))
    assert _contents(after, digests) == before
    assert "encryption.rotation_resumed" in [e.action for e in after.audit.entries()]


def test_reading_without_the_key_is_a_clear_error(
    open_registry: Callable[..., Registry], tmp_path: Path
) -> None:
    write_key_file(tmp_path / "a.key")
    keyed = open_registry(encryption_key=str(tmp_path / "a.key"))
    digests = _fill(keyed)
    bare = open_registry()
    with pytest.raises(MissingKeyError, match="not configured"):
        bare.artifacts.read(digests[0])
    with pytest.raises(MissingKeyError):
        bare.promote("m@1", "staging")
    assert bare.model("m@1").stage == "development"  # the refused promotion changed nothing
    with pytest.raises(MissingKeyError, match="does not exist"):
        open_registry(encryption_key=str(tmp_path / "missing.key"))


def test_rotation_refuses_before_changing_anything(
    open_registry: Callable[..., Registry], tmp_path: Path
) -> None:
    a = write_key_file(tmp_path / "a.key")
    keyed = open_registry(encryption_key=str(tmp_path / "a.key"))
    digests = _fill(keyed)
    size = keyed.audit.size()
    with pytest.raises(EncryptionError, match="already in use"):
        rotate_key(keyed, a)
    # a store whose artifacts are under a key this registry does not hold
    b = write_key_file(tmp_path / "b.key")
    stranger = open_registry()
    with pytest.raises(MissingKeyError, match="neither the current key"):
        rotate_key(stranger, b)
    assert {keyed.artifacts.key_id_of(d) for d in digests} == {a.key_id}
    assert keyed.audit.size() == size


def test_artifacts_written_during_a_rotation_are_rotated_too(
    open_registry: Callable[..., Registry], tmp_path: Path
) -> None:
    write_key_file(tmp_path / "old.key")
    registry = open_registry(encryption_key=str(tmp_path / "old.key"))
    digests = _fill(registry)
    writer = open_registry(encryption_key=str(tmp_path / "old.key"))  # another process
    late: list[str] = []

    def meanwhile(digest: str) -> None:
        if not late:
            late.append(writer.artifacts.put_bytes(b"stored while rotating")[0])

    new = write_key_file(tmp_path / "new.key")
    done = rotate_key(registry, new, progress=meanwhile)
    assert done.total == len(digests) + 1 and done.rewritten == len(digests) + 1
    after = open_registry(encryption_key=str(tmp_path / "new.key"))
    assert after.artifacts.read(late[0]) == b"stored while rotating"
