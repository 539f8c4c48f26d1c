"""Encryption at rest: round trips, tamper detection, keys, and the store's hashes unchanged."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trustops.governance.artifacts import ArtifactStore, CorruptArtifactError
from trustops.governance.encryption import (
    HEADER_BYTES,
    EncryptionError,
    EncryptionKey,
    Keyring,
    MissingKeyError,
    load_key,
    write_key_file,
)

DATA = b"model weights \x00\xff" * 5000
DIGEST = hashlib.sha256(DATA).hexdigest()


@pytest.fixture
def key() -> EncryptionKey:
    return EncryptionKey.generate()


@pytest.fixture
def store(tmp_path: Path, key: EncryptionKey) -> ArtifactStore:
    return ArtifactStore(tmp_path / "store", keyring=Keyring(key))


def _rewrite(path: Path, data: bytes) -> None:
    os.chmod(path, 0o644)  # stored files are read-only
    path.write_bytes(data)


def test_round_trip_keeps_the_plaintext_hash(store: ArtifactStore, key: EncryptionKey) -> None:
    digest, size = store.put_bytes(DATA)
    assert (digest, size) == (DIGEST, len(DATA))
    on_disk = store.path_for(digest).read_bytes()
    assert DATA[:64] not in on_disk and len(on_disk) == len(DATA) + HEADER_BYTES + 16
    assert store.key_id_of(digest) == key.key_id
    assert store.read(digest) == DATA
    store.verify(digest)


@given(st.binary(max_size=3000))
def test_any_bytes_round_trip(data: bytes) -> None:
    import tempfile

    store = ArtifactStore(tempfile.mkdtemp(), keyring=Keyring(EncryptionKey.generate()))
    digest, _ = store.put_bytes(data)
    assert digest == hashlib.sha256(data).hexdigest()
    assert store.read(digest) == data


def test_streamed_file_larger_than_a_chunk(tmp_path: Path, store: ArtifactStore) -> None:
    big = os.urandom((1 << 20) * 2 + 123)
    source = tmp_path / "model.bin"
    source.write_bytes(big)
    digest, size = store.put_file(source)
    assert digest == hashlib.sha256(big).hexdigest() and size == len(big)
    assert store.read(digest) == big
    store.verify(digest)


@pytest.mark.parametrize("where", [0, 3, HEADER_BYTES - 1, HEADER_BYTES, 1000, -1])
def test_a_flipped_bit_anywhere_is_detected(store: ArtifactStore, where: int) -> None:
    digest, _ = store.put_bytes(DATA)
    path = store.path_for(digest)
    tampered = bytearray(path.read_bytes())
    tampered[where] ^= 0x01
    _rewrite(path, bytes(tampered))
    with pytest.raises(CorruptArtifactError, match="corrupt"):
        store.read(digest)
    with pytest.raises(CorruptArtifactError):
        store.verify(digest)


def test_a_changed_key_id_names_a_key_nobody_has(store: ArtifactStore) -> None:
    """The key id is not secret, so a flip there reads as an unknown key: still refused."""
    digest, _ = store.put_bytes(DATA)
    path = store.path_for(digest)
    tampered = bytearray(path.read_bytes())
    tampered[5] ^= 0x01
    _rewrite(path, bytes(tampered))
    with pytest.raises(MissingKeyError, match="not configured"):
        store.read(digest)


def test_truncated_envelope_is_detected(store: ArtifactStore) -> None:
    digest, _ = store.put_bytes(DATA)
    path = store.path_for(digest)
    _rewrite(path, path.read_bytes()[:-100])
    with pytest.raises(CorruptArtifactError):
        store.read(digest)
    with pytest.raises(CorruptArtifactError):
        store.verify(digest)


def test_an_envelope_moved_to_another_name_is_refused(store: ArtifactStore) -> None:
    a, _ = store.put_bytes(b"artifact a")
    b, _ = store.put_bytes(b"artifact b")
    _rewrite(store.path_for(b), store.path_for(a).read_bytes())
    with pytest.raises(CorruptArtifactError):
        store.read(b)


def test_missing_and_wrong_key_are_clear_errors(tmp_path: Path, store: ArtifactStore) -> None:
    digest, _ = store.put_bytes(DATA)
    without = ArtifactStore(tmp_path / "store")
    with pytest.raises(MissingKeyError, match=r"encrypted under key .* not configured"):
        without.read(digest)
    wrong = ArtifactStore(tmp_path / "store", keyring=Keyring(EncryptionKey.generate()))
    with pytest.raises(MissingKeyError, match="not configured"):
        wrong.verify(digest)
    assert store.read(digest) == DATA  # nothing was changed by the failed reads


def test_plaintext_that_looks_like_an_envelope_is_plaintext(store: ArtifactStore) -> None:
    data = b"TOE1" + bytes(100)  # the magic, then what could be a header
    digest, _ = ArtifactStore(store.root or "").put_bytes(data)
    assert store.read(digest) == data
    store.verify(digest)
    assert store.key_id_of(digest) is None


def test_plaintext_artifacts_stay_readable_once_a_key_is_set(tmp_path: Path) -> None:
    plain = ArtifactStore(tmp_path / "store")
    digest, _ = plain.put_bytes(DATA)
    keyed = ArtifactStore(tmp_path / "store", keyring=Keyring(EncryptionKey.generate()))
    assert keyed.read(digest) == DATA and keyed.key_id_of(digest) is None
    assert keyed.put_bytes(DATA) == (digest, len(DATA))  # already stored: not rewritten
    assert keyed.key_id_of(digest) is None


def test_reencrypt_swaps_keys_without_changing_the_name(
    store: ArtifactStore, key: EncryptionKey
) -> None:
    digest, _ = store.put_bytes(DATA)
    new = EncryptionKey.generate()
    store.keyring = Keyring(key, new)
    assert store.reencrypt(digest, new) is True
    assert store.key_id_of(digest) == new.key_id
    assert store.reencrypt(digest, new) is False  # already under it
    assert ArtifactStore(store.root or "", keyring=Keyring(new)).read(digest) == DATA
    assert not list((store.root / "objects" / "tmp").iterdir())  # type: ignore[operator]


def test_fsspec_store_encrypts_too(key: EncryptionKey) -> None:
    import uuid

    store = ArtifactStore(f"memory://enc-{uuid.uuid4().hex}", keyring=Keyring(key))
    digest, _ = store.put_bytes(DATA)
    assert digest == DIGEST and store.key_id_of(digest) == key.key_id
    assert store.read(digest) == DATA


# -- keys ---------------------------------------------------------------------------


def test_key_file_is_owner_only_and_never_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "artifacts.key"
    key = write_key_file(path)
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert load_key(str(path)).key_id == key.key_id
    with pytest.raises(EncryptionError, match="never overwritten"):
        write_key_file(path)
    os.chmod(path, 0o644)
    with pytest.raises(EncryptionError, match="readable by others"):
        load_key(str(path))


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("trustops-key-v1:c2hvcnQ=", "32 bytes"),
        ("trustops-key-v1:!!!", "base64"),
    ],
)
def test_bad_key_text_is_refused(text: str, match: str) -> None:
    with pytest.raises(EncryptionError, match=match):
        load_key(text)


def test_missing_key_file_and_bad_content(tmp_path: Path) -> None:
    with pytest.raises(MissingKeyError, match="does not exist"):
        load_key(str(tmp_path / "nope.key"))
    junk = tmp_path / "junk.key"
    junk.write_text("not a key")
    os.chmod(junk, 0o600)
    with pytest.raises(EncryptionError, match="does not hold a trustops key"):
        load_key(str(junk))


def test_key_text_never_shows_in_repr(key: EncryptionKey) -> None:
    assert key.to_text().split(":")[1] not in repr(key)
    assert key.to_text().split(":")[1] not in repr(Keyring(key))
