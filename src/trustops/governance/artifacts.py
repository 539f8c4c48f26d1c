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
import os
import re
import tempfile
from pathlib import Path
from typing import IO, Any

from trustops.errors import InputError

__all__ = ["ArtifactError", "ArtifactStore", "CorruptArtifactError", "check_hash"]

_HEX64 = re.compile(r"[0-9a-f]{64}")
_CHUNK = 1 << 20


class ArtifactError(InputError):
    """A hash that is not a SHA-256 hex digest, or an artifact that is not in the store."""

    status = 404


class CorruptArtifactError(ArtifactError):
    """The bytes on disk no longer hash to their name."""

    status = 500


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

    def __init__(self, root: str | os.PathLike[str]) -> None:
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
        import io

        return self.put_stream(io.BytesIO(data))

    def put_stream(self, source: IO[bytes]) -> tuple[str, int]:
        """Stream ``source`` in while hashing; an artifact already stored is not rewritten."""
        if self.root is None:
            data = source.read()
            digest = hashlib.sha256(data).hexdigest()
            url = self._url_for(digest)
            if not self._fs.exists(url):
                self._fs.makedirs(url.rsplit("/", 1)[0], exist_ok=True)
                self._fs.pipe_file(url, data)
            return digest, len(data)
        staging = self.root / "objects" / "tmp"
        staging.mkdir(parents=True, exist_ok=True)
        hasher, size = hashlib.sha256(), 0
        fd, tmp_name = tempfile.mkstemp(dir=staging, prefix="incoming-")
        try:
            with os.fdopen(fd, "wb") as tmp:
                while chunk := source.read(_CHUNK):
                    hasher.update(chunk)
                    tmp.write(chunk)
                    size += len(chunk)
                tmp.flush()
                os.fsync(tmp.fileno())
            digest = hasher.hexdigest()
            final = self.path_for(digest)
            if final.exists() and self._hash_of(final) == digest:
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

    @staticmethod
    def _hash_of(path: Path) -> str:
        hasher = hashlib.sha256()
        with open(path, "rb") as f:
            while chunk := f.read(_CHUNK):
                hasher.update(chunk)
        return hasher.hexdigest()

    def read(self, digest: str) -> bytes:
        """The artifact's bytes, after checking they still hash to ``digest``."""
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
        if hashlib.sha256(data).hexdigest() != digest:
            raise CorruptArtifactError(
                f"artifact {digest} is corrupt: its bytes no longer match their hash",
                hint="restore it from a backup; the registry refuses to use it",
            )
        return data

    def verify(self, digest: str) -> None:
        """Raise CorruptArtifactError (ArtifactError if missing) unless the artifact is intact."""
        if self.root is None:
            self.read(digest)
            return
        path = self.path_for(digest)
        if not path.exists():
            raise ArtifactError(f"artifact {digest} is not in the store")
        if self._hash_of(path) != digest:
            raise CorruptArtifactError(
                f"artifact {digest} is corrupt: its bytes no longer match their hash",
                hint="restore it from a backup; the registry refuses to use it",
            )

    def exists(self, digest: str) -> bool:
        if self.root is None:
            return bool(self._fs.exists(self._url_for(digest)))
        return self.path_for(digest).exists()
