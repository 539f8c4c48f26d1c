"""Signed checkpoints of the audit log: the C2SP ``tlog-checkpoint`` format with Ed25519.

A checkpoint commits to the log's state — its origin (the log's name), its
size and its Merkle root — in the text format of C2SP ``tlog-checkpoint``,
signed as a C2SP ``signed-note``::

    trustops.example/audit        ← origin
    42                            ← tree size
    3q2+7w...base64 root...=      ← root hash (base64)
                                  ← blank line
    — trustops.example/audit AbCdEf...base64(key id ‖ signature)...

The key id is the first 4 bytes of ``SHA-256(name ‖ 0x0A ‖ 0x01 ‖ public key)``
(0x01: Ed25519), and the signature covers the note's text up to and including
its last newline. A verifier key is published as ``name+<key id hex>+<base64(0x01 ‖ public key)>``
(the ``vkey`` format of Go's ``sumdb/note``; names contain no ``+``), so anyone can check a
checkpoint offline with ``verify_checkpoint``. Keys are passed in; this module
never reads a file or the environment.

Example:
    >>> from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    >>> key = Ed25519PrivateKey.from_private_bytes(bytes(32))
    >>> name = "trustops.test/audit"
    >>> text = sign_checkpoint(Checkpoint(name, 3, bytes(32)), key, name)
    >>> verify_checkpoint(text, verifier_key(key, name)).size
    3
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from trustops.errors import InputError

__all__ = [
    "Checkpoint",
    "CheckpointError",
    "parse_checkpoint",
    "sign_checkpoint",
    "verifier_key",
    "verify_checkpoint",
]

_ED25519 = b"\x01"
_DASH = "\u2014"


class CheckpointError(InputError):
    """A checkpoint that is malformed, unsigned by the expected key, or altered."""


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A log's state: origin, size and root hash (32 bytes)."""

    origin: str
    size: int
    root: bytes

    def body(self) -> str:
        """The signed text: origin, size and base64 root, one per line."""
        if not self.origin or "\n" in self.origin:
            raise CheckpointError("a checkpoint's origin must be one non-empty line")
        if self.size < 0 or len(self.root) != 32:
            raise CheckpointError("a checkpoint needs a size ≥ 0 and a 32-byte root")
        return f"{self.origin}\n{self.size}\n{base64.b64encode(self.root).decode()}\n"


def _public_bytes(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def _key_id(name: str, public: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + _ED25519 + public).digest()[:4]


def verifier_key(key: Ed25519PrivateKey | Ed25519PublicKey, name: str) -> str:
    """The public verifier key to publish: ``name+keyid+base64(0x01 ‖ public key)``."""
    if "+" in name or not name:
        raise CheckpointError(f"a key name must be non-empty and without '+': {name!r}")
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    raw = _public_bytes(public)
    encoded = base64.b64encode(_ED25519 + raw).decode()
    return f"{name}+{_key_id(name, raw).hex()}+{encoded}"


def sign_checkpoint(checkpoint: Checkpoint, key: Ed25519PrivateKey, name: str) -> str:
    """The checkpoint as a signed note (see the module docstring)."""
    body = checkpoint.body()
    raw = _public_bytes(key.public_key())
    signature = key.sign(body.encode())
    line = base64.b64encode(_key_id(name, raw) + signature).decode()
    return f"{body}\n{_DASH} {name} {line}\n"


def parse_checkpoint(text: str) -> tuple[Checkpoint, str, list[tuple[str, bytes]]]:
    """The checkpoint, its signed body, and its signature lines ``(name, key id ‖ signature)``.

    Base64 is accepted in its canonical spelling only: another spelling of the
    same bytes (spare bits set in the last digit) would be a changed text that
    still verifies.
    """
    body, sep, signatures = text.partition("\n\n")
    if not sep:
        raise CheckpointError("a checkpoint needs a blank line before its signatures")
    body += "\n"
    lines = body.split("\n")[:-1]
    if len(lines) < 3:
        raise CheckpointError("a checkpoint needs an origin, a size and a root hash")
    origin, size_text, root_text = lines[:3]
    if not size_text.isdigit() or (size_text != "0" and size_text.startswith("0")):
        raise CheckpointError(f"checkpoint size {size_text!r} is not a number")
    try:
        root = base64.b64decode(root_text, validate=True)
    except ValueError:
        raise CheckpointError("checkpoint root hash is not base64") from None
    if base64.b64encode(root).decode() != root_text:
        raise CheckpointError("checkpoint root hash is not in canonical base64")
    if len(root) != 32:
        raise CheckpointError("checkpoint root hash is not 32 bytes")
    parsed = []
    for line in signatures.split("\n"):
        if not line:
            continue
        parts = line.split(" ")
        if len(parts) != 3 or parts[0] != _DASH:
            raise CheckpointError(f"malformed signature line {line!r}")
        try:
            blob = base64.b64decode(parts[2], validate=True)
        except ValueError:
            raise CheckpointError("a checkpoint signature is not base64") from None
        if base64.b64encode(blob).decode() != parts[2]:  # same bytes, another spelling
            raise CheckpointError("a checkpoint signature is not in canonical base64")
        parsed.append((parts[1], blob))
    return Checkpoint(origin, int(size_text), root), body, parsed


def verify_checkpoint(text: str, verifier: str) -> Checkpoint:
    """The checkpoint if ``verifier``'s key signed exactly this text (else CheckpointError)."""
    try:
        name, key_id_hex, encoded = verifier.split("+", 2)  # base64 may hold "+" too
        raw = base64.b64decode(encoded, validate=True)
    except ValueError:
        raise CheckpointError("malformed verifier key (expected name+keyid+base64)") from None
    if raw[:1] != _ED25519 or len(raw) != 33 or _key_id(name, raw[1:]).hex() != key_id_hex:
        raise CheckpointError("malformed verifier key (not an Ed25519 key of that name)")
    public = Ed25519PublicKey.from_public_bytes(raw[1:])
    checkpoint, body, signatures = parse_checkpoint(text)
    for signer, blob in signatures:
        if signer == name and blob[:4].hex() == key_id_hex:
            try:
                public.verify(blob[4:], body.encode())
            except InvalidSignature:
                raise CheckpointError(
                    f"the signature by {name!r} does not match the checkpoint"
                ) from None
            return checkpoint
    raise CheckpointError(f"the checkpoint has no signature by {name!r}")
