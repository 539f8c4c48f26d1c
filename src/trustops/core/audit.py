"""The audit log's cryptography: RFC 6962 Merkle trees, inclusion and consistency proofs.

Every audit entry is a leaf; the log's state at size ``n`` is the Merkle tree
hash (MTH) of its first ``n`` leaves (RFC 6962 §2.1, RFC 9162 §2.1):

- leaf hash ``H(0x00 ‖ canonical JSON of the entry)``;
- node hash ``H(0x01 ‖ left ‖ right)``; a tree of ``n > 1`` leaves splits at
  the largest power of two ``k < n``: ``MTH(D[n]) = H(0x01 ‖ MTH(D[0:k]) ‖ MTH(D[k:n]))``;
- the empty tree's hash is ``H("")``; ``H`` is SHA-256.

An **inclusion proof** shows that an entry is leaf ``i`` of the tree of size
``n``; a **consistency proof** shows that the tree of size ``m`` is a prefix of
the tree of size ``n`` (nothing before ``m`` was changed, removed or
reordered). Both verify with hashes alone, offline, without trusting the
store. The verifiers are RFC 9162 §2.1.3.2 and §2.1.4.2, and reject proofs of
the wrong length, for the wrong index or size, or with any flipped bit.

Example:
    >>> leaves = [leaf_hash(canonical_json({"seq": i, "action": "register"})) for i in range(5)]
    >>> tree = MerkleTree(leaves)
    >>> proof = tree.inclusion_proof(3)
    >>> verify_inclusion(3, 5, leaves[3], proof, tree.root())
    True
    >>> verify_consistency(2, 5, tree.consistency_proof(2), tree.root(2), tree.root())
    True
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Sequence
from typing import Any

__all__ = [
    "EMPTY_ROOT",
    "CompactRange",
    "MerkleTree",
    "canonical_json",
    "leaf_hash",
    "node_hash",
    "root_hash",
    "verify_consistency",
    "verify_inclusion",
]

EMPTY_ROOT = hashlib.sha256(b"").digest()


def canonical_json(value: Any) -> bytes:
    """The one byte string of a JSON value: sorted keys, no spaces, UTF-8, no NaN/infinity.

    Example:
        >>> canonical_json({"b": 1, "a": [True, None, "é"]})
        b'{"a":[true,null,"\\xc3\\xa9"],"b":1}'
    """
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def leaf_hash(data: bytes) -> bytes:
    """``SHA-256(0x00 ‖ data)``: the hash of one leaf (RFC 6962 §2.1)."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """``SHA-256(0x01 ‖ left ‖ right)``: the hash of an interior node."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two strictly below ``n`` (``n ≥ 2``)."""
    return 1 << ((n - 1).bit_length() - 1)


class MerkleTree:
    """An RFC 6962 tree over leaf hashes, every level kept, so roots and proofs are cheap.

    Level 0 holds the leaf hashes; each next level pairs neighbours, and an
    odd last node moves up unchanged. Every aligned power-of-two range of
    leaves is then one stored node, which is all RFC 6962's recursion needs:
    building is ``O(n)`` hashes, a root of any prefix and any proof ``O(log n)``.
    """

    def __init__(self, leaves: Sequence[bytes]) -> None:
        self.size = len(leaves)
        self._levels: list[list[bytes]] = [list(leaves)]
        level = self._levels[0]
        while len(level) > 1:
            nxt = [node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
            if len(level) % 2:
                nxt.append(level[-1])
            self._levels.append(nxt)
            level = nxt

    def _range_root(self, start: int, end: int) -> bytes:
        """MTH of leaves ``[start, end)`` for the ranges RFC 6962's recursion visits.

        Those start at a multiple of every power of two up to their width, so
        an aligned power-of-two range is one stored node and any other splits
        into one, on the left, and a shorter range on the right.
        """
        width = end - start
        if width & (width - 1) == 0 and start % width == 0:
            level = width.bit_length() - 1
            return self._levels[level][start >> level]
        k = _split(width)
        return node_hash(self._range_root(start, start + k), self._range_root(start + k, end))

    def root(self, size: int | None = None) -> bytes:
        """The tree hash of the first ``size`` leaves (default: all)."""
        size = self.size if size is None else size
        if not 0 <= size <= self.size:
            raise ValueError(f"size {size} is not between 0 and {self.size}")
        return EMPTY_ROOT if size == 0 else self._range_root(0, size)

    def _path(self, index: int, start: int, end: int) -> list[bytes]:
        width = end - start
        if width == 1:
            return []
        k = _split(width)
        if index < start + k:
            return [*self._path(index, start, start + k), self._range_root(start + k, end)]
        return [*self._path(index, start + k, end), self._range_root(start, start + k)]

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """RFC 6962 ``PATH(index, D[size])``: the audit path of leaf ``index``."""
        size = self.size if size is None else size
        if not 0 <= index < size <= self.size:
            raise ValueError(f"leaf {index} is not in a tree of size {size}")
        return self._path(index, 0, size)

    def _subproof(self, m: int, start: int, end: int, whole: bool) -> list[bytes]:
        width = end - start
        if m == width:
            return [] if whole else [self._range_root(start, end)]
        k = _split(width)
        if m <= k:
            return [*self._subproof(m, start, start + k, whole), self._range_root(start + k, end)]
        return [*self._subproof(m - k, start + k, end, False), self._range_root(start, start + k)]

    def consistency_proof(self, first: int, size: int | None = None) -> list[bytes]:
        """RFC 6962 ``PROOF(first, D[size])``: the tree of size ``first`` is a prefix."""
        size = self.size if size is None else size
        if not 0 < first <= size <= self.size:
            raise ValueError(f"no consistency proof from size {first} to size {size}")
        return self._subproof(first, 0, size, True)


class CompactRange:
    """The log's frontier: one hash per perfect subtree, so appending and the root are O(log n).

    A log of ``size`` leaves splits into perfect subtrees, one per set bit of
    ``size``, largest first; their roots are all a writer needs to append a
    leaf and compute the new tree hash (folding from the right is exactly
    RFC 6962's split at the largest power of two). The store keeps it beside
    the log (``to_bytes``: 32 bytes per subtree), so writing an entry never
    reads the older leaves.

    Example:
        >>> leaves = [leaf_hash(bytes([i])) for i in range(7)]
        >>> rng = CompactRange()
        >>> for h in leaves:
        ...     rng.append(h)
        >>> rng.root() == root_hash(leaves), rng.size, len(rng.hashes)
        (True, 7, 3)
        >>> CompactRange.from_bytes(7, rng.to_bytes()).root() == rng.root()
        True
    """

    __slots__ = ("hashes", "size")

    def __init__(self, size: int = 0, hashes: Sequence[bytes] = ()) -> None:
        if len(hashes) != bin(size).count("1") or any(len(h) != 32 for h in hashes):
            raise ValueError(f"a compact range of size {size} needs {bin(size).count('1')} hashes")
        self.size = size
        self.hashes = list(hashes)

    @classmethod
    def from_bytes(cls, size: int, data: bytes) -> CompactRange:
        """The range stored by :meth:`to_bytes` for a log of ``size`` leaves."""
        if len(data) % 32:
            raise ValueError("a compact range is a whole number of 32-byte hashes")
        return cls(size, [data[i : i + 32] for i in range(0, len(data), 32)])

    def to_bytes(self) -> bytes:
        return b"".join(self.hashes)

    def append(self, leaf: bytes) -> None:
        """Add one leaf hash at the end of the log."""
        self.hashes.append(leaf)
        size = self.size
        while size & 1:  # each trailing one bit closes a perfect subtree
            right = self.hashes.pop()
            self.hashes[-1] = node_hash(self.hashes[-1], right)
            size >>= 1
        self.size += 1

    def root(self) -> bytes:
        """The Merkle tree hash of the whole log."""
        if not self.hashes:
            return EMPTY_ROOT
        root = self.hashes[-1]
        for left in reversed(self.hashes[:-1]):
            root = node_hash(left, root)
        return root


def root_hash(leaves: Sequence[bytes]) -> bytes:
    """The Merkle tree hash of ``leaves`` (leaf hashes)."""
    return MerkleTree(leaves).root()


def verify_inclusion(
    index: int, size: int, leaf: bytes, proof: Sequence[bytes], root: bytes
) -> bool:
    """Whether ``proof`` puts leaf hash ``leaf`` at ``index`` of the ``size``-leaf tree ``root``.

    RFC 9162 §2.1.3.2; a proof of the wrong length fails, it is never padded
    or truncated to fit.
    """
    if not 0 <= index < size or any(len(p) != 32 for p in proof):
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn % 2 == 1 or fn == sn:
            r = node_hash(p, r)
            if fn % 2 == 0:
                while fn % 2 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(
    first: int, second: int, proof: Sequence[bytes], first_root: bytes, second_root: bytes
) -> bool:
    """Whether ``proof`` shows the tree of size ``first`` is a prefix of the one of size ``second``.

    RFC 9162 §2.1.4.2. Equal sizes need an empty proof and equal roots.
    """
    if not 0 < first <= second or any(len(p) != 32 for p in proof):
        return False
    if first == second:
        return not proof and first_root == second_root
    path = list(proof)
    if first & (first - 1) == 0:  # a power of two: the first tree is itself a node
        path.insert(0, first_root)
    if not path:
        return False
    fn, sn = first - 1, second - 1
    while fn % 2 == 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn % 2 == 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if fn % 2 == 0:
                while fn % 2 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == first_root and sr == second_root and sn == 0


def proof_size(size: int) -> int:
    """Hashes in an inclusion proof for a tree of ``size`` leaves (at most ⌈log2 size⌉)."""
    return math.ceil(math.log2(size)) if size > 1 else 0
