"""The content-addressed artifact store: atomic writes, dedupe, corruption, hostile names."""

from __future__ import annotations

import builtins
import contextlib
import hashlib
import io
import os
import pathlib
import stat
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trustops.governance.artifacts import (
    ArtifactError,
    ArtifactStore,
    CorruptArtifactError,
    check_hash,
)

DATA = b"model weights \x00\xff" * 1000
DIGEST = hashlib.sha256(DATA).hexdigest()


@pytest.fixture
def store(tmp_path: Path) -> ArtifactStore:
    return ArtifactStore(tmp_path / "store")


def _files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def _corrupt(path: Path, data: bytes) -> None:
    os.chmod(path, 0o644)  # stored files are read-only
    path.write_bytes(data)


# -- writing and reading ----------------------------------------------------------------


def test_put_bytes_then_read(store: ArtifactStore) -> None:
    digest, size = store.put_bytes(DATA)
    assert (digest, size) == (DIGEST, len(DATA))
    assert store.read(digest) == DATA
    assert store.exists(digest)
    store.verify(digest)
    path = store.path_for(digest)
    assert store.root is not None
    assert path == store.root / "objects" / digest[:2] / digest
    assert path.read_bytes() == DATA
    assert stat.S_IMODE(path.stat().st_mode) == 0o444
    assert _files(store.root) == [f"objects/{digest[:2]}/{digest}"]  # no temporary file left


def test_put_file_and_put_stream_give_the_same_artifact(
    store: ArtifactStore, tmp_path: Path
) -> None:
    source = tmp_path / "model.bin"
    source.write_bytes(DATA)
    assert store.put_file(source) == (DIGEST, len(DATA))
    assert store.put_stream(io.BytesIO(DATA)) == (DIGEST, len(DATA))
    assert store.read(DIGEST) == DATA


def test_put_streams_in_chunks(store: ArtifactStore, monkeypatch: pytest.MonkeyPatch) -> None:
    import trustops.governance.artifacts as artifacts

    monkeypatch.setattr(artifacts, "_CHUNK", 1000)
    big = os.urandom(10_500)
    digest, size = store.put_bytes(big)
    assert (digest, size) == (hashlib.sha256(big).hexdigest(), len(big))
    assert store.read(digest) == big


def test_empty_artifact(store: ArtifactStore) -> None:
    digest, size = store.put_bytes(b"")
    assert (digest, size) == (hashlib.sha256(b"").hexdigest(), 0)
    assert store.read(digest) == b""


def test_same_bytes_are_stored_once(store: ArtifactStore) -> None:
    first = store.put_bytes(DATA)
    path = store.path_for(first[0])
    inode = path.stat().st_ino
    second = store.put_bytes(DATA)
    assert first == second
    assert path.stat().st_ino == inode  # not rewritten
    assert store.root is not None
    assert _files(store.root) == [f"objects/{DIGEST[:2]}/{DIGEST}"]
    other = store.put_bytes(DATA + b"!")
    assert other[0] != first[0]
    assert len(_files(store.root)) == 2


def test_a_failed_write_leaves_nothing_behind(store: ArtifactStore) -> None:
    class Broken(io.RawIOBase):
        def __init__(self) -> None:
            self.calls = 0

        def readable(self) -> bool:
            return True

        def read(self, n: int = -1) -> bytes:
            self.calls += 1
            if self.calls > 2:
                raise OSError("disk unplugged")
            return b"x" * 10

    with pytest.raises(OSError, match="disk unplugged"):
        store.put_stream(Broken())  # type: ignore[arg-type]
    assert store.root is not None
    assert _files(store.root) == []  # the staged temporary file was removed


def test_a_corrupt_copy_is_replaced_by_a_new_put(store: ArtifactStore) -> None:
    digest, _ = store.put_bytes(DATA)
    _corrupt(store.path_for(digest), b"rotten")
    assert store.put_bytes(DATA) == (digest, len(DATA))
    assert store.read(digest) == DATA


def test_read_and_verify_detect_a_corrupted_file(store: ArtifactStore) -> None:
    digest, _ = store.put_bytes(DATA)
    flipped = bytearray(DATA)
    flipped[100] ^= 0x01
    _corrupt(store.path_for(digest), bytes(flipped))
    with pytest.raises(CorruptArtifactError, match="corrupt") as caught:
        store.read(digest)
    assert caught.value.hint is not None
    with pytest.raises(CorruptArtifactError):
        store.verify(digest)
    assert store.exists(digest)  # there, but unusable


def test_truncated_file_is_corrupt(store: ArtifactStore) -> None:
    digest, _ = store.put_bytes(DATA)
    _corrupt(store.path_for(digest), DATA[:-1])
    with pytest.raises(CorruptArtifactError):
        store.verify(digest)


def test_missing_artifact_is_an_artifact_error(store: ArtifactStore) -> None:
    digest = hashlib.sha256(b"never stored").hexdigest()
    assert not store.exists(digest)
    with pytest.raises(ArtifactError, match="not in the store") as caught:
        store.read(digest)
    assert not isinstance(caught.value, CorruptArtifactError)
    with pytest.raises(ArtifactError, match="not in the store") as caught:
        store.verify(digest)
    assert not isinstance(caught.value, CorruptArtifactError)
    assert caught.value.status == 404


def test_file_url_is_a_local_store(tmp_path: Path) -> None:
    store = ArtifactStore(f"file://{tmp_path / 'fs'}")
    assert store.root == (tmp_path / "fs").resolve()
    digest, _ = store.put_bytes(DATA)
    assert (tmp_path / "fs" / "objects" / digest[:2] / digest).is_file()


# -- hostile names ----------------------------------------------------------------------

_HEX = "0123456789abcdef"
_VALID = DIGEST

_ATTACKS = [
    "",
    ".",
    "..",
    "../" * 8 + "etc/passwd",
    "..\\..\\windows\\win.ini",
    "/etc/passwd",
    "//etc/passwd",
    "%2e%2e%2f%2e%2e%2fsecret",
    "%252e%252e%252fsecret",
    "..%2f..%2fsecret",
    "\u2024\u2024/secret",  # ONE DOT LEADER
    "\uff0e\uff0e/secret",  # FULLWIDTH FULL STOP
    "..\u2215secret",  # DIVISION SLASH
    _VALID.upper(),
    _VALID[:63],
    _VALID + "0",
    _VALID[:-1] + "G",
    _VALID + "\n",
    "\n" + _VALID,
    " " + _VALID,
    _VALID[:32] + "/" + _VALID[33:],
    _VALID[:32] + "\\" + _VALID[33:],
    _VALID[:32] + "\x00" + _VALID[33:],
    _VALID[:63] + "#",
    _VALID[:63] + "?",
    _VALID[:62] + "..",
    "../" + _VALID[3:],
    "/" + _VALID[1:],
    "\u0660" * 64,  # ARABIC-INDIC DIGIT ZERO: a digit, not an ASCII one
    "\uff10" * 64,  # FULLWIDTH DIGIT ZERO
    "a" * 1000,
]

_BAD_CHARS = [
    "..",
    "/",
    "\\",
    "%2e",
    "%252e",
    "%2f",
    "#",
    "?",
    "\x00",
    "\u2024",
    "\uff0e",
    "A",
    "F",
]


@st.composite
def _hostile(draw: Any) -> str:
    kind = draw(st.integers(0, 4))
    if kind == 0:
        return str(draw(st.sampled_from(_ATTACKS)))
    if kind == 1:  # a valid-looking hash with something dangerous spliced in
        base = draw(st.text(_HEX, min_size=64, max_size=64))
        at = draw(st.integers(0, 64))
        cut = draw(st.integers(0, 3))
        return base[:at] + draw(st.sampled_from(_BAD_CHARS)) + base[at + cut :]
    if kind == 2:  # the wrong length
        length = draw(st.sampled_from([0, 1, 2, 62, 63, 65, 66, 128]))
        return str(draw(st.text(_HEX, min_size=length, max_size=length)))
    if kind == 3:  # upper-case hex somewhere
        base = draw(st.text(_HEX, min_size=64, max_size=64))
        at = draw(st.integers(0, 63))
        return base[:at] + draw(st.sampled_from("ABCDEF")) + base[at + 1 :]
    text = draw(st.text(min_size=0, max_size=80))  # anything at all
    return text if len(text) != 64 else text + "x"


@contextlib.contextmanager
def _watch_file_access(allowed: Path) -> Iterator[list[str]]:
    """Record every path opened or stat'ed that is not under ``allowed``."""
    outside: list[str] = []
    real_open, real_os_open, real_stat = builtins.open, os.open, os.stat

    def note(path: Any) -> None:
        if isinstance(path, int):
            return
        text = os.fsdecode(path) if isinstance(path, bytes | str | os.PathLike) else str(path)
        resolved = os.path.abspath(text)
        if not resolved.startswith(str(allowed) + os.sep) and resolved != str(allowed):
            outside.append(text)

    def watched_open(file: Any, *args: Any, **kwargs: Any) -> Any:
        note(file)
        return real_open(file, *args, **kwargs)

    def watched_os_open(path: Any, *args: Any, **kwargs: Any) -> Any:
        note(path)
        return real_os_open(path, *args, **kwargs)

    def watched_stat(path: Any, *args: Any, **kwargs: Any) -> Any:
        note(path)
        return real_stat(path, *args, **kwargs)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(builtins, "open", watched_open)
        mp.setattr(io, "open", watched_open)
        mp.setattr(os, "open", watched_os_open)
        mp.setattr(os, "stat", watched_stat)
        yield outside


@pytest.fixture(scope="module")
def hostile_store(tmp_path_factory: pytest.TempPathFactory) -> tuple[ArtifactStore, Path]:
    base = tmp_path_factory.mktemp("hostile")
    # a secret beside the store and one at a name a traversal might reach
    (base / "secret").write_bytes(b"do not read me")
    store = ArtifactStore(base / "store")
    store.put_bytes(DATA)
    assert store.root is not None
    (store.root / "objects" / "secret").write_bytes(b"do not read me either")
    return store, base


@given(name=_hostile())
def test_hostile_names_never_reach_a_file(
    hostile_store: tuple[ArtifactStore, Path], name: str
) -> None:
    store, base = hostile_store
    before = _files(base)
    with _watch_file_access(Path("/nonexistent-allowed-root")) as touched:
        for operation in (store.path_for, store.read, store.exists, store.verify, check_hash):
            with pytest.raises(ArtifactError, match="not an artifact hash"):
                operation(name)
    assert touched == []  # refused before any file was opened or stat'ed
    assert _files(base) == before
    assert (base / "secret").read_bytes() == b"do not read me"


def test_the_watcher_sees_file_access(hostile_store: tuple[ArtifactStore, Path]) -> None:
    """The check above is not vacuous: a valid read is seen touching the store."""
    store, _ = hostile_store
    with _watch_file_access(Path("/nonexistent-allowed-root")) as touched:
        assert store.read(DIGEST) == DATA
        assert store.exists(DIGEST)
    assert touched and all(str(store.path_for(DIGEST)) in p for p in touched)


@pytest.mark.parametrize("name", _ATTACKS)
def test_each_listed_attack_is_refused(
    hostile_store: tuple[ArtifactStore, Path], name: str
) -> None:
    store, _ = hostile_store
    for operation in (store.path_for, store.read, store.exists):
        with pytest.raises(ArtifactError):
            operation(name)


@pytest.mark.parametrize("value", [None, 123, b"a" * 64, ["a" * 64]])
def test_a_hash_that_is_not_a_string_is_refused(store: ArtifactStore, value: Any) -> None:
    with pytest.raises(ArtifactError):
        store.read(value)


def test_a_valid_hash_stays_inside_the_objects_folder(store: ArtifactStore) -> None:
    """A valid hash gives a path strictly inside the store's objects folder."""
    assert store.root is not None
    path = store.path_for(DIGEST)
    assert path.resolve().is_relative_to(store.root / "objects")
    assert pathlib.PurePosixPath(path).name == DIGEST


# -- fsspec ----------------------------------------------------------------------------


@pytest.fixture
def memory_store() -> Iterator[tuple[ArtifactStore, Any, str]]:
    import fsspec  # the [fsspec] extra, installed by `make test`

    root = f"memory://trustops-test-{uuid.uuid4().hex}"
    fs = fsspec.filesystem("memory")
    yield ArtifactStore(root), fs, root
    with contextlib.suppress(FileNotFoundError):
        fs.rm(root, recursive=True)


def test_memory_store_round_trip(memory_store: tuple[ArtifactStore, Any, str]) -> None:
    store, fs, root = memory_store
    assert store.root is None
    assert not store.exists(DIGEST)
    assert store.put_bytes(DATA) == (DIGEST, len(DATA))
    assert store.put_bytes(DATA) == (DIGEST, len(DATA))  # stored once
    assert store.exists(DIGEST)
    assert store.read(DIGEST) == DATA
    store.verify(DIGEST)
    url = f"{root}/objects/{DIGEST[:2]}/{DIGEST}"
    assert fs.cat_file(url) == DATA
    assert [p.rsplit("/", 1)[-1] for p in fs.find(root)] == [DIGEST]
    with pytest.raises(ArtifactError, match="not a local folder"):
        store.path_for(DIGEST)
    with pytest.raises(ArtifactError, match="not an artifact hash"):
        store.read("../" + DIGEST[3:])


def test_memory_store_detects_corruption_and_absence(
    memory_store: tuple[ArtifactStore, Any, str],
) -> None:
    store, fs, root = memory_store
    digest, _ = store.put_bytes(DATA)
    fs.pipe_file(f"{root}/objects/{digest[:2]}/{digest}", b"rotten")
    with pytest.raises(CorruptArtifactError):
        store.read(digest)
    with pytest.raises(CorruptArtifactError):
        store.verify(digest)
    missing = hashlib.sha256(b"absent").hexdigest()
    with pytest.raises(ArtifactError, match="not in the store"):
        store.read(missing)
    with pytest.raises(ArtifactError, match="not in the store"):
        store.verify(missing)
