"""A content-addressed artifact store: files named by their SHA-256, written atomically.

A file's only name is its hash, and every path is built from a hash that
matched ``^[0-9a-f]{64}$`` first — never from a user's string — so no name
can reach outside the store (MLflow's path-traversal CVEs came from joining
user paths to the artifact root). Writes stream into a temporary file beside
the destination while hashing, ``fsync`` it, ``os.replace`` it into
``objects/ab/<hash>`` and ``fsync`` the directory; the database row that
names the hash is committed only after that. Every read re-hashes and
refuses bytes that no longer match.

A folder is the default; an fsspec URL (``memory://``, ``s3://``, ...; the
``fsspec`` extra) stores the same layout through fsspec, relying on the
remote's own atomic put.

With a :class:`~trustops.governance.encryption.Keyring` whose current key
is set, new artifacts are stored as AES-256-GCM envelopes
(:mod:`trustops.governance.encryption`) under the name of their *plaintext*
hash, so a key never changes a hash that lineage or evidence cite. Reads
accept plaintext and envelopes alike; :meth:`ArtifactStore.reencrypt`
rewrites one artifact under another key atomically, which is what a key
rotation repeats (and can resume: each file is wholly old or wholly new).

Example:
    >>> import tempfile
    >>> store = ArtifactStore(tempfile.mkdtemp())
    >>> digest, size = store.put_bytes(b"model weights")
    >>> store.read(digest)
    b'model weights'
    >>> store.path_for("../../etc/passwd")
    Traceback (most recent call last):
    ...
    trustops.governance.artifacts.ArtifactError: not an artifact hash: '../../etc/passwd'
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import re
import tempfile
from pathlib import Path
from typing import IO, Any

from trustops.errors import InputError
from trustops.governance.encryption import (
    HEADER_BYTES,
    EncryptionError,
    EncryptionKey,
    Keyring,
    TamperedError,
    decrypt_bytes,
    decrypt_stream,
    encrypt_stream,
    envelope_key_id,
    is_envelope,
)

__all__ = ["ArtifactError", "ArtifactStore", "CorruptArtifactError", "check_hash"]

_HEX64 = re.compile(r"[0-9a-f]{64}")
_CHUNK = 1 << 20


class ArtifactError(InputError):
    """A hash that is not a SHA-256 hex digest, or an artifact that is not in the store."""

    status = 404


class CorruptArtifactError(ArtifactError):
    """The bytes on disk no longer hash to their name."""

    status = 500


def _corrupt(digest: str) -> CorruptArtifactError:
    return CorruptArtifactError(
        f"artifact {digest} is corrupt: its bytes no longer match their hash",
        hint="restore it from a backup; the registry refuses to use it",
    )


def _tampered(digest: str, exc: TamperedError) -> CorruptArtifactError:
    return CorruptArtifactError(
        f"artifact {digest} is corrupt: {exc.message}",
        hint="restore it from a backup; the registry refuses to use it",
    )


def check_hash(digest: str) -> str:
    """``digest`` if it is 64 lower-case hex characters, else ArtifactError."""
    if not isinstance(digest, str) or not _HEX64.fullmatch(digest):
        raise ArtifactError(f"not an artifact hash: {digest!r}")
    return digest


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class ArtifactStore:
    """Content-addressed files under ``root`` (a folder, or an fsspec URL)."""

    def __init__(self, root: str | os.PathLike[str], *, keyring: Keyring | None = None) -> None:
        self.keyring = keyring
        text = os.fspath(root)
        self._fs: Any = None
        if "://" in text and not text.startswith("file://"):
            try:
                import fsspec
            except ImportError:
                raise InputError(
                    f"an artifact store at {text!r} needs fsspec",
                    hint="pip install 'trustops[fsspec]'",
                ) from None
            self._fs, self._root_url = fsspec.core.url_to_fs(text)
            self.root: Path | None = None
        else:
            self.root = Path(text.removeprefix("file://")).resolve()
            self._root_url = str(self.root)

    def __repr__(self) -> str:
        return f"ArtifactStore({self._root_url!r})"

    def path_for(self, digest: str) -> Path:
        """Where the artifact ``digest`` lives in a local store (built from the hash only)."""
        check_hash(digest)
        if self.root is None:
            raise ArtifactError("this artifact store is not a local folder")
        return self.root / "objects" / digest[:2] / digest

    def _url_for(self, digest: str) -> str:
        check_hash(digest)
        return f"{self._root_url.rstrip('/')}/objects/{digest[:2]}/{digest}"

    def put_file(self, path: str | os.PathLike[str]) -> tuple[str, int]:
        """Copy the file at ``path`` in; returns ``(sha256 hex, size in bytes)``."""
        with open(path, "rb") as source:
            return self.put_stream(source)

    def put_bytes(self, data: bytes) -> tuple[str, int]:
        """Store ``data``; returns ``(sha256 hex, size in bytes)``."""
        return self.put_stream(io.BytesIO(data))

    @property
    def _key(self) -> EncryptionKey | None:
        return self.keyring.current if self.keyring is not None else None

    def put_stream(self, source: IO[bytes]) -> tuple[str, int]:
        """Stream ``source`` in while hashing; an artifact already stored is not rewritten.

        With an encryption key, the stored bytes are its envelope; the name is
        still the plaintext's hash.
        """
        if self.root is None:
            data = source.read()
            digest = hashlib.sha256(data).hexdigest()
            url = self._url_for(digest)
            if not self._fs.exists(url):
                if self._key is not None:
                    sink = io.BytesIO()
                    encrypt_stream(self._key, io.BytesIO(data), sink)
                    stored = sink.getvalue()
                else:
                    stored = data
                self._fs.makedirs(url.rsplit("/", 1)[0], exist_ok=True)
                self._fs.pipe_file(url, stored)
            return digest, len(data)
        return self._write_local(source, self._key)

    def _write_local(
        self, source: IO[bytes], key: EncryptionKey | None, *, replace: str | None = None
    ) -> tuple[str, int]:
        """Stage ``source`` (encrypted under ``key`` if given) and move it into place.

        ``replace``: the digest the content must have, for an artifact being
        rewritten (a rotation); the existing file is then replaced.
        """
        assert self.root is not None
        staging = self.root / "objects" / "tmp"
        staging.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=staging, prefix="incoming-")
        try:
            with os.fdopen(fd, "wb") as tmp:
                if key is not None:
                    digest, size = encrypt_stream(key, source, tmp)
                else:
                    hasher, size = hashlib.sha256(), 0
                    while chunk := source.read(_CHUNK):
                        hasher.update(chunk)
                        tmp.write(chunk)
                        size += len(chunk)
                    digest = hasher.hexdigest()
                tmp.flush()
                os.fsync(tmp.fileno())
            final = self.path_for(digest)
            if replace is not None and digest != replace:
                raise CorruptArtifactError(f"artifact {replace} changed while being rewritten")
            if replace is None and final.exists() and self._intact(final, digest):
                os.unlink(tmp_name)
                return digest, size
            final.parent.mkdir(parents=True, exist_ok=True)
            os.chmod(tmp_name, 0o444)
            os.replace(tmp_name, final)
            _fsync_dir(final.parent)
            return digest, size
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp_name)
            raise

    def _intact(self, path: Path, digest: str) -> bool:
        """Whether the file holds ``digest``'s content (plaintext, or an envelope we can open)."""
        try:
            self._verify_local(path, digest)
        except ArtifactError:
            return False
        return True

    @staticmethod
    def _hash_of(path: Path) -> str:
        hasher = hashlib.sha256()
        with open(path, "rb") as f:
            while chunk := f.read(_CHUNK):
                hasher.update(chunk)
        return hasher.hexdigest()

    def read(self, digest: str) -> bytes:
        """The artifact's bytes (decrypted), after checking they still hash to ``digest``."""
        if self.root is None:
            url = self._url_for(digest)
            if not self._fs.exists(url):
                raise ArtifactError(f"artifact {digest} is not in the store")
            data: bytes = self._fs.cat_file(url)
        else:
            path = self.path_for(digest)
            try:
                data = path.read_bytes()
            except FileNotFoundError:
                raise ArtifactError(f"artifact {digest} is not in the store") from None
        if hashlib.sha256(data).hexdigest() == digest:
            return data
        if is_envelope(data[:HEADER_BYTES]):
            try:
                data = decrypt_bytes(self._keyring(), data)
            except TamperedError as exc:
                raise _tampered(digest, exc) from None
            if hashlib.sha256(data).hexdigest() == digest:
                return data
        raise _corrupt(digest)

    def _keyring(self) -> Keyring:
        return self.keyring if self.keyring is not None else Keyring(None)

    def verify(self, digest: str) -> None:
        """Raise CorruptArtifactError (ArtifactError if missing) unless the artifact is intact.

        An encrypted artifact is decrypted (and authenticated) to check it,
        so its key must be configured.
        """
        if self.root is None:
            self.read(digest)
            return
        path = self.path_for(digest)
        if not path.exists():
            raise ArtifactError(f"artifact {digest} is not in the store")
        self._verify_local(path, digest)

    def _verify_local(self, path: Path, digest: str) -> None:
        with open(path, "rb") as f:
            head = f.read(HEADER_BYTES)
        if is_envelope(head):
            hasher = hashlib.sha256()
            try:
                with open(path, "rb") as f:
                    decrypt_stream(self._keyring(), f, path.stat().st_size, hasher.update)
            except EncryptionError as exc:
                if self._hash_of(path) == digest:  # plaintext that happens to start "TOE1"
                    return
                if isinstance(exc, TamperedError):
                    raise _tampered(digest, exc) from None
                raise
            if hasher.hexdigest() == digest:
                return
        elif self._hash_of(path) == digest:
            return
        raise _corrupt(digest)

    def key_id_of(self, digest: str) -> str | None:
        """The id of the key ``digest`` is encrypted under, or None if it is stored in plaintext."""
        if self.root is None:
            head = self._fs.cat_file(self._url_for(digest), start=0, end=HEADER_BYTES)
        else:
            try:
                with open(self.path_for(digest), "rb") as f:
                    head = f.read(HEADER_BYTES)
            except FileNotFoundError:
                raise ArtifactError(f"artifact {digest} is not in the store") from None
        if not is_envelope(head):
            return None
        key_id = envelope_key_id(head)
        known = self.keyring is not None and self.keyring.knows(key_id)
        if not known and self.root is not None and self._hash_of(self.path_for(digest)) == digest:
            return None  # plaintext that happens to start like an envelope
        return key_id

    def digests(self) -> list[str]:
        """Every artifact in a local store, by hash (sorted)."""
        if self.root is None:
            raise ArtifactError("only a local artifact store can be listed for a key rotation")
        objects = self.root / "objects"
        if not objects.is_dir():
            return []
        return sorted(
            p.name for p in objects.glob("??/*") if p.is_file() and _HEX64.fullmatch(p.name)
        )

    def reencrypt(self, digest: str, key: EncryptionKey) -> bool:
        """Rewrite the artifact under ``key`` (False if it already is); atomic, hash unchanged.

        The old file stays in place until the new envelope is written,
        synced and checked, then one ``os.replace`` swaps them: an
        interruption leaves either the old or the new file, both readable.
        """
        if self.key_id_of(digest) == key.key_id:
            return False
        plaintext = self.read(digest)  # decrypted, authenticated and re-hashed
        self._write_local(io.BytesIO(plaintext), key, replace=digest)
        self._verify_local(self.path_for(digest), digest)
        return True

    def exists(self, digest: str) -> bool:
        if self.root is None:
            return bool(self._fs.exists(self._url_for(digest)))
        return self.path_for(digest).exists()
