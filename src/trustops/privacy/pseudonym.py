"""Pseudonymisation of identifier columns before data enters trustops: keyed hashes or tokens.

Two methods, both keyed by a secret kept outside the store (a key file
readable only by its owner, or ``TRUSTOPS_PSEUDONYM_KEY``; the same
``trustops-key-v1:`` format as the encryption key):

``hmac``
    ``HMAC-SHA256(k_hash, column || 0x00 || value)``, the first 32 hex
    digits (128 bits). One-way: re-identification means hashing a known
    identifier with the key and looking for the result. Without the key a
    dictionary of likely identifiers gives nothing.

``fpe`` (format-preserving tokens)
    Every ASCII digit stays a digit and every ASCII letter a letter of the
    same case; any other character (``-``, ``@``, ``.``, spaces, non-ASCII)
    stays where it was. The digits and letters, read as one mixed-radix
    number ``x`` below ``D = 10^digits * 26^letters``, are enciphered by
    NIST SP 800-38G **FF1** (AES-256) over the bits of ``x`` with cycle
    walking (Black and Rogaway 2002): re-encipher until the result is below
    ``D``, a permutation of ``[0, D)``. The tweak is the column name and the
    value's format, so equal values in two columns get different tokens.
    Reversible only with the key (:func:`reidentify`).

Limits, stated plainly:

- the format is kept on purpose, so it leaks: length, the place of each
  separator, which characters are digits or letters and their case, and
  non-ASCII characters, which pass through unchanged;
- FF1 is deterministic: equal values give equal tokens (that is what lets a
  pseudonymised column still be joined and counted), so frequencies show;
- a value whose digits and letters admit fewer than 10^6 combinations
  (SP 800-38G Rev. 1's minimum domain) is refused, naming its row: a
  5-digit code has too few values to hide among;
- tokens are strings, whatever the column's type was.

Keys: ``k_hash = HMAC-SHA256(key, "trustops pseudonym hmac")`` and
``k_fpe = HMAC-SHA256(key, "trustops pseudonym ff1")`` (one key file
serves both methods without reusing a key across algorithms).

Example:
    >>> from trustops.governance.encryption import EncryptionKey
    >>> key = EncryptionKey(bytes(range(32)))
    >>> token = tokenise("4111-1111-1111-1111", key, column="card")
    >>> len(token), token[4], token.replace("-", "").isdigit(), token != "4111-1111-1111-1111"
    (19, '-', True, True)
    >>> detokenise(token, key, column="card")
    '4111-1111-1111-1111'
    >>> len(keyed_hash("alice@example.com", key, column="email"))
    32
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import math
import os
from collections.abc import Sequence
from typing import Any

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from trustops.errors import InputError, MissingColumnError, UsageError
from trustops.governance.encryption import EncryptionKey, load_key

__all__ = [
    "FF1",
    "METHODS",
    "detokenise",
    "keyed_hash",
    "load_pseudonym_key",
    "pseudonymise",
    "reidentify",
    "tokenise",
]

METHODS = ("hmac", "fpe")
MIN_DOMAIN = 1_000_000  # NIST SP 800-38G Rev. 1: radix^minlen >= 10^6
_DIGITS = "0123456789"
_LOWER = "abcdefghijklmnopqrstuvwxyz"
_UPPER = _LOWER.upper()


def load_pseudonym_key(source: str | None = None) -> EncryptionKey:
    """The key from ``source`` (a file, or the key text), else ``TRUSTOPS_PSEUDONYM_KEY``."""
    source = source or os.environ.get("TRUSTOPS_PSEUDONYM_KEY")
    if not source:
        raise UsageError(
            "no pseudonymisation key: pass --key-file or set TRUSTOPS_PSEUDONYM_KEY",
            hint="create one with `trustops privacy new-key FILE`; keep it outside the store",
        )
    return load_key(source, what="pseudonymisation key")


def _subkey(key: EncryptionKey, label: bytes) -> bytes:
    return hmac.new(key.secret, label, hashlib.sha256).digest()


class FF1:
    """NIST SP 800-38G FF1 over AES with the given key, for numeral strings of one radix.

    Example (SP 800-38G sample 1):
        >>> ff1 = FF1(bytes.fromhex("2B7E151628AED2A6ABF7158809CF4F3C"), 10)
        >>> ff1.encrypt([0, 1, 2, 3, 4, 5, 6, 7, 8, 9], b"")
        [2, 4, 3, 3, 4, 7, 7, 4, 8, 4]
    """

    def __init__(self, key: bytes, radix: int) -> None:
        if not 2 <= radix <= 65536:
            raise InputError(f"FF1 radix must be in [2, 65536], not {radix}")
        # one ECB context for every block (ECB keeps no state between blocks): FF1's
        # PRF is CBC-MAC with a zero IV, chained here by XOR on integers
        self._aes = Cipher(algorithms.AES(key), modes.ECB()).encryptor().update
        self.radix = radix

    def _prf(self, data: bytes) -> bytes:
        y = 0
        for i in range(0, len(data), 16):
            block = (y ^ int.from_bytes(data[i : i + 16], "big")).to_bytes(16, "big")
            y = int.from_bytes(self._aes(block), "big")
        return y.to_bytes(16, "big")

    def _num(self, x: Sequence[int]) -> int:
        n = 0
        for digit in x:
            n = n * self.radix + digit
        return n

    def _str(self, n: int, m: int) -> list[int]:
        out = [0] * m
        for i in range(m - 1, -1, -1):
            n, out[i] = divmod(n, self.radix)
        return out

    def _round(self, p: bytes, tweak: bytes, i: int, x: Sequence[int], b: int, d: int) -> int:
        pad = (-len(tweak) - b - 1) % 16
        q = tweak + bytes(pad) + bytes([i]) + self._num(x).to_bytes(b, "big")
        r = self._prf(p + q)
        s = r
        j = 1
        while len(s) < d:
            s += self._aes((int.from_bytes(r, "big") ^ j).to_bytes(16, "big"))
            j += 1
        return int.from_bytes(s[:d], "big")

    def _setup(self, n: int, tweak: bytes) -> tuple[int, int, int, int, bytes]:
        if self.radix**n < MIN_DOMAIN or n < 2:
            raise InputError(f"FF1 needs at least {MIN_DOMAIN:,} possible values")
        u, v = n // 2, n - n // 2
        b = math.ceil(math.ceil(v * math.log2(self.radix)) / 8)
        d = 4 * math.ceil(b / 4) + 4
        p = (
            bytes([1, 2, 1])
            + self.radix.to_bytes(3, "big")
            + bytes([10, u % 256])
            + n.to_bytes(4, "big")
            + len(tweak).to_bytes(4, "big")
        )
        return u, v, b, d, p

    def encrypt(self, x: Sequence[int], tweak: bytes) -> list[int]:
        u, v, b, d, p = self._setup(len(x), tweak)
        a, bb = list(x[:u]), list(x[u:])
        for i in range(10):
            y = self._round(p, tweak, i, bb, b, d)
            m = u if i % 2 == 0 else v
            c = (self._num(a) + y) % self.radix**m
            a, bb = bb, self._str(c, m)
        return a + bb

    def decrypt(self, x: Sequence[int], tweak: bytes) -> list[int]:
        u, v, b, d, p = self._setup(len(x), tweak)
        a, bb = list(x[:u]), list(x[u:])
        for i in range(9, -1, -1):
            y = self._round(p, tweak, i, a, b, d)
            m = u if i % 2 == 0 else v
            c = (self._num(bb) - y) % self.radix**m
            bb, a = a, self._str(c, m)
        return a + bb


def keyed_hash(value: str, key: EncryptionKey, *, column: str = "") -> str:
    """``HMAC-SHA256(k_hash, column || 0x00 || value)``, 32 hex digits."""
    mac = hmac.new(_subkey(key, b"trustops pseudonym hmac"), digestmod=hashlib.sha256)
    mac.update(column.encode("utf-8") + b"\x00" + value.encode("utf-8"))
    return mac.hexdigest()[:32]


def _layout(value: str) -> tuple[list[str], list[int], list[int]]:
    """Per character its class (``d``, ``l``, ``U``, or ``=`` + the character kept),
    the radices of the digits and letters, and their numerals."""
    kinds, radices, numerals = [], [], []
    for ch in value:
        if ch in _DIGITS:
            kinds.append("d")
            radices.append(10)
            numerals.append(ord(ch) - 48)
        elif ch in _LOWER or ch in _UPPER:
            kinds.append("l" if ch in _LOWER else "U")
            radices.append(26)
            numerals.append(_LOWER.index(ch.lower()))
        else:
            kinds.append("=" + ch)
    return kinds, radices, numerals


def _mixed_to_int(numerals: Sequence[int], radices: Sequence[int]) -> int:
    n = 0
    for digit, radix in zip(numerals, radices, strict=True):
        n = n * radix + digit
    return n


def _int_to_mixed(n: int, radices: Sequence[int]) -> list[int]:
    out = [0] * len(radices)
    for i in range(len(radices) - 1, -1, -1):
        n, out[i] = divmod(n, radices[i])
    return out


@functools.lru_cache(maxsize=4)
def _binary_ff1(secret: bytes) -> FF1:
    """FF1 over bits under ``k_fpe`` (kept for the next value of the same column)."""
    return FF1(_subkey(EncryptionKey(secret), b"trustops pseudonym ff1"), 2)


def _permute(value: str, key: EncryptionKey, column: str, *, inverse: bool) -> str:
    kinds, radices, numerals = _layout(value)
    domain = math.prod(radices)
    if domain < MIN_DOMAIN:
        raise InputError(
            f"value too short to tokenise: its digits and letters allow {domain:,} values, "
            f"fewer than {MIN_DOMAIN:,}",
            hint="use the hmac method for short codes",
        )
    bits = (domain - 1).bit_length()
    ff1 = _binary_ff1(key.secret)
    tweak = hashlib.sha256(json.dumps([column, kinds], ensure_ascii=False).encode("utf-8")).digest()
    x = _mixed_to_int(numerals, radices)
    step = ff1.decrypt if inverse else ff1.encrypt
    while True:  # cycle walking: a permutation of [0, 2^bits) restricted to [0, domain)
        x = int("".join(map(str, step([int(c) for c in format(x, f"0{bits}b")], tweak))), 2)
        if x < domain:
            break
    numerals = _int_to_mixed(x, radices)
    out, k = [], 0
    for kind in kinds:
        if kind[0] == "=":
            out.append(kind[1:])
            continue
        out.append((_DIGITS if kind == "d" else _LOWER if kind == "l" else _UPPER)[numerals[k]])
        k += 1
    return "".join(out)


def tokenise(value: str, key: EncryptionKey, *, column: str = "") -> str:
    """A token of the same length and character classes, reversible only with ``key``."""
    return _permute(value, key, column, inverse=False)


def detokenise(token: str, key: EncryptionKey, *, column: str = "") -> str:
    """The value :func:`tokenise` made ``token`` from (same key and column)."""
    return _permute(token, key, column, inverse=True)


def _apply(
    data: Any, columns: Sequence[str], key: EncryptionKey, method: str, *, inverse: bool
) -> Any:
    import pyarrow as pa

    from trustops.engines.sources import open_source

    if method not in METHODS:
        raise UsageError(f"unknown method {method!r} (known: {', '.join(METHODS)})")
    if not columns:
        raise UsageError("name at least one identifier column to pseudonymise")
    source = open_source(data)
    table = pa.Table.from_batches(list(source.batches()), schema=source.schema)
    for name in columns:
        if name not in table.column_names:
            raise MissingColumnError(name, available=table.column_names)
    for name in dict.fromkeys(columns):
        values = table.column(name).to_pylist()
        out: list[str | None] = []
        for row, v in enumerate(values, start=1):
            if v is None:
                out.append(None)
                continue
            text = str(v)
            try:
                if method == "hmac":
                    out.append(keyed_hash(text, key, column=name))
                elif inverse:
                    out.append(detokenise(text, key, column=name))
                else:
                    out.append(tokenise(text, key, column=name))
            except InputError as exc:
                raise InputError(
                    f"column {name!r}, row {row}: {exc.message}", hint=exc.hint
                ) from None
        index = table.column_names.index(name)
        table = table.set_column(index, name, pa.array(out, type=pa.string()))
    return table


def pseudonymise(
    data: Any, columns: Sequence[str], key: EncryptionKey, *, method: str = "hmac"
) -> Any:
    """``data`` (a file or a frame) as a pyarrow Table with ``columns`` replaced by pseudonyms.

    Every value is checked before anything is returned: one value that
    cannot be tokenised refuses the whole table, naming its column and row.
    """
    return _apply(data, columns, key, method, inverse=False)


def reidentify(data: Any, columns: Sequence[str], key: EncryptionKey) -> Any:
    """Undo :func:`pseudonymise` with ``method="fpe"`` (a keyed hash cannot be undone)."""
    return _apply(data, columns, key, "fpe", inverse=True)
