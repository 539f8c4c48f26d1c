"""Encryption at rest: AES-256-GCM envelopes for stored artifacts; keys live outside the store.

A key is 32 random bytes written as one line of text, ``trustops-key-v1:``
followed by the key in URL-safe base64. It comes from a file readable only
by its owner (as the signing key) or from the text itself in an
environment variable; the store records only its *key id*, the first 16
hex digits of ``HMAC-SHA256(key, "trustops key id")``, which names the key
without revealing anything about it.

An encrypted artifact is one envelope::

    magic "TOE1" (4) | key id (8) | nonce (12) | ciphertext | GCM tag (16)

The header (magic, key id, nonce) is authenticated as associated data and
the nonce is random for every artifact (96 bits: the NIST SP 800-38D limit
of 2^32 messages per key is far above any artifact store). The artifact
keeps the SHA-256 of its *plaintext* as its name, so lineage, evidence and
the audit log never change when a key rotates; a read decrypts, checks the
GCM tag (a flipped bit anywhere fails it) and then re-hashes the plaintext
against the name (an envelope moved to another name fails that).

Example:
    >>> import io
    >>> key = EncryptionKey.generate()
    >>> sink = io.BytesIO()
    >>> digest, size = encrypt_stream(key, io.BytesIO(b"model weights"), sink)
    >>> envelope_key_id(sink.getvalue()) == key.key_id
    True
    >>> decrypt_bytes(Keyring(key), sink.getvalue())
    b'model weights'
    >>> tampered = bytearray(sink.getvalue()); tampered[30] ^= 1
    >>> decrypt_bytes(Keyring(key), bytes(tampered))
    Traceback (most recent call last):
    ...
    trustops.governance.encryption.TamperedError: the ciphertext fails authentication: ...
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from trustops.errors import InputError

__all__ = [
    "ALGORITHM",
    "EncryptionError",
    "EncryptionKey",
    "Keyring",
    "MissingKeyError",
    "TamperedError",
    "decrypt_bytes",
    "decrypt_stream",
    "encrypt_stream",
    "envelope_key_id",
    "is_envelope",
    "load_key",
    "write_key_file",
]

ALGORITHM = "AES-256-GCM"
MAGIC = b"TOE1"
_KEY_ID_BYTES = 8
_NONCE_BYTES = 12
_TAG_BYTES = 16
HEADER_BYTES = len(MAGIC) + _KEY_ID_BYTES + _NONCE_BYTES
_PREFIX = "trustops-key-v1:"
_CHUNK = 1 << 20


class EncryptionError(InputError):
    """A key that cannot be used, or an envelope that cannot be opened."""


class MissingKeyError(EncryptionError):
    """The key an artifact is encrypted under (or the one to encrypt with) is not configured."""


class TamperedError(EncryptionError):
    """The ciphertext or its header was changed: GCM authentication failed."""

    status = 500


@dataclass(frozen=True)
class EncryptionKey:
    """A 256-bit AES key; ``repr`` never shows it."""

    secret: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if len(self.secret) != 32:
            raise EncryptionError(f"an encryption key is 32 bytes, not {len(self.secret)}")

    @classmethod
    def generate(cls) -> EncryptionKey:
        return cls(secrets.token_bytes(32))

    @classmethod
    def from_text(cls, text: str) -> EncryptionKey:
        """Parse ``trustops-key-v1:<base64url>``."""
        text = text.strip()
        if not text.startswith(_PREFIX):
            raise EncryptionError(f"a key is one line starting with {_PREFIX!r}")
        try:
            secret = base64.b64decode(
                text[len(_PREFIX) :].encode("ascii"), altchars=b"-_", validate=True
            )
        except (ValueError, UnicodeEncodeError):
            raise EncryptionError("the key is not valid base64") from None
        return cls(secret)

    def to_text(self) -> str:
        return _PREFIX + base64.urlsafe_b64encode(self.secret).decode("ascii")

    @property
    def key_id(self) -> str:
        """16 hex digits that name the key (HMAC of a fixed label; the key is not recoverable)."""
        return hmac.new(self.secret, b"trustops key id", hashlib.sha256).hexdigest()[:16]


def write_key_file(path: str | os.PathLike[str]) -> EncryptionKey:
    """Create a new key at ``path``, readable only by its owner; an existing file is refused."""
    key = EncryptionKey.generate()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise EncryptionError(f"{path} exists; a key file is never overwritten") from None
    with os.fdopen(fd, "w") as f:
        f.write(key.to_text() + "\n")
        f.flush()
        os.fsync(f.fileno())
    return key


def load_key(source: str, *, what: str = "encryption key") -> EncryptionKey:
    """The key in ``source``: the key text itself, or a file holding it (owner-only, as ssh).

    Example:
        >>> key = EncryptionKey.generate()
        >>> load_key(key.to_text()).key_id == key.key_id
        True
    """
    if source.strip().startswith(_PREFIX):
        return EncryptionKey.from_text(source)
    path = Path(source)
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise MissingKeyError(f"{what} file {path} does not exist") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise EncryptionError(f"{what} file {path} is readable by others", hint=f"chmod 600 {path}")
    try:
        return EncryptionKey.from_text(path.read_text())
    except (UnicodeDecodeError, EncryptionError):
        raise EncryptionError(
            f"{what} file {path} does not hold a trustops key",
            hint="create one with `trustops privacy new-key FILE`",
        ) from None


class Keyring:
    """The key new artifacts are encrypted with (``current``) and others that may still be read."""

    def __init__(self, current: EncryptionKey | None, *others: EncryptionKey) -> None:
        self.current = current
        self._by_id = {k.key_id: k for k in (*others, *([current] if current else []))}

    def __repr__(self) -> str:
        now = self.current.key_id if self.current else None
        return f"Keyring(current={now!r}, known={sorted(self._by_id)!r})"

    def get(self, key_id: str) -> EncryptionKey:
        try:
            return self._by_id[key_id]
        except KeyError:
            raise MissingKeyError(
                f"the data is encrypted under key {key_id}, which is not configured",
                hint="set TRUSTOPS_ENCRYPTION_KEY (or store.encryption_key) to that key",
            ) from None

    def knows(self, key_id: str) -> bool:
        return key_id in self._by_id

    def with_key(self, key: EncryptionKey) -> Keyring:
        """This keyring with ``key`` as the current key (the others still readable)."""
        return Keyring(key, *self._by_id.values())


def is_envelope(prefix: bytes) -> bool:
    return prefix[: len(MAGIC)] == MAGIC and len(prefix) >= HEADER_BYTES


def envelope_key_id(prefix: bytes) -> str:
    """The key id named in an envelope's header."""
    if not is_envelope(prefix):
        raise EncryptionError("not an encrypted envelope")
    return prefix[len(MAGIC) : len(MAGIC) + _KEY_ID_BYTES].hex()


def encrypt_stream(key: EncryptionKey, source: IO[bytes], sink: IO[bytes]) -> tuple[str, int]:
    """Write the envelope of ``source`` to ``sink``; returns the *plaintext's* (sha256, size)."""
    nonce = secrets.token_bytes(_NONCE_BYTES)
    header = MAGIC + bytes.fromhex(key.key_id) + nonce
    encryptor = Cipher(algorithms.AES(key.secret), modes.GCM(nonce)).encryptor()
    encryptor.authenticate_additional_data(header)
    sink.write(header)
    hasher, size = hashlib.sha256(), 0
    while chunk := source.read(_CHUNK):
        hasher.update(chunk)
        size += len(chunk)
        sink.write(encryptor.update(chunk))
    sink.write(encryptor.finalize())
    sink.write(encryptor.tag)
    return hasher.hexdigest(), size


def decrypt_stream(
    keyring: Keyring, source: IO[bytes], total: int, write: Callable[[bytes], object]
) -> None:
    """Decrypt the ``total``-byte envelope in ``source`` (seekable) chunk by chunk into ``write``.

    The chunks are not yet authenticated: a caller keeps them aside until
    this returns, and discards them if it raises :class:`TamperedError`.
    """
    header = source.read(HEADER_BYTES)
    if total < HEADER_BYTES + _TAG_BYTES or not is_envelope(header):
        raise TamperedError("the ciphertext fails authentication: its header is damaged")
    key = keyring.get(envelope_key_id(header))
    source.seek(total - _TAG_BYTES)
    tag = source.read(_TAG_BYTES)
    source.seek(HEADER_BYTES)
    decryptor = Cipher(
        algorithms.AES(key.secret), modes.GCM(header[-_NONCE_BYTES:], tag)
    ).decryptor()
    decryptor.authenticate_additional_data(header)
    left = total - HEADER_BYTES - _TAG_BYTES
    while left > 0:
        chunk = source.read(min(_CHUNK, left))
        if not chunk:
            raise TamperedError("the ciphertext fails authentication: it is truncated")
        left -= len(chunk)
        write(decryptor.update(chunk))
    try:
        write(decryptor.finalize())
    except InvalidTag:
        raise TamperedError(
            "the ciphertext fails authentication: it was changed or the key is wrong"
        ) from None


def decrypt_bytes(keyring: Keyring, envelope: bytes) -> bytes:
    """The plaintext of an in-memory envelope (TamperedError if it was changed)."""
    import io

    parts: list[bytes] = []
    decrypt_stream(keyring, io.BytesIO(envelope), len(envelope), parts.append)
    return b"".join(parts)
