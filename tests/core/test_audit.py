"""RFC 6962 Merkle trees: known-answer vectors, every proof verifies, every tampering fails."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trustops.core.audit import (
    EMPTY_ROOT,
    MerkleTree,
    canonical_json,
    leaf_hash,
    node_hash,
    root_hash,
    verify_consistency,
    verify_inclusion,
)

# RFC 6962 test data (Certificate Transparency's reference tree of 8 leaves).
INPUTS = [bytes.fromhex(h) for h in (
    "", "00", "10", "2021", "3031", "40414243", "5051525354555657",
    "606162636465666768696a6b6c6d6e6f",
)]  # fmt: skip
LEAVES = [leaf_hash(x) for x in INPUTS]
ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
INCLUSION = [  # (0-based leaf index, tree size, audit path)
    (0, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (5, 8, ["bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (1, 5, ["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
]  # fmt: skip
CONSISTENCY = [
    (1, 1, []),
    (1, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (6, 8, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (2, 5, ["5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
]  # fmt: skip


def reference_mth(leaves: list[bytes]) -> bytes:
    """RFC 6962 §2.1 written literally (recursive split at the largest power of two)."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaves[0]
    k = 1 << ((len(leaves) - 1).bit_length() - 1)
    return node_hash(reference_mth(leaves[:k]), reference_mth(leaves[k:]))


@pytest.mark.parametrize("size", range(9))
def test_known_answer_roots(size: int) -> None:
    tree = MerkleTree(LEAVES)
    assert tree.root(size).hex() == ROOTS[size]
    assert root_hash(LEAVES[:size]).hex() == ROOTS[size]
    assert EMPTY_ROOT.hex() == ROOTS[0]


@pytest.mark.parametrize(("index", "size", "path"), INCLUSION)
def test_known_answer_inclusion_proofs(index: int, size: int, path: list[str]) -> None:
    for tree in (MerkleTree(LEAVES), MerkleTree(LEAVES[:size])):
        proof = tree.inclusion_proof(index, size)
        assert [p.hex() for p in proof] == path
    root = bytes.fromhex(ROOTS[size])
    assert verify_inclusion(index, size, LEAVES[index], proof, root)


@pytest.mark.parametrize(("first", "second", "path"), CONSISTENCY)
def test_known_answer_consistency_proofs(first: int, second: int, path: list[str]) -> None:
    proof = MerkleTree(LEAVES).consistency_proof(first, second)
    assert [p.hex() for p in proof] == path
    old, new = bytes.fromhex(ROOTS[first]), bytes.fromhex(ROOTS[second])
    assert verify_consistency(first, second, proof, old, new)


def tampered(proof: list[bytes]) -> list[list[bytes]]:
    """Every way of damaging a proof: a flipped bit, dropped, padded, swapped, reversed."""
    out = []
    for i, p in enumerate(proof):
        out.append([*proof[:i], bytes([p[0] ^ 1]) + p[1:], *proof[i + 1 :]])
    if proof:
        out += [proof[:-1], proof[1:], list(reversed(proof)) if len(proof) > 1 else [b"\0" * 32]]
    out += [[*proof, proof[-1] if proof else b"\0" * 32], [*proof, b"\0" * 32]]
    return [t for t in out if t != proof]


@given(st.integers(1, 70), st.data())
def test_every_inclusion_proof_verifies_and_every_damage_fails(n: int, data: st.DataObject) -> None:
    leaves = [leaf_hash(canonical_json({"seq": i})) for i in range(n)]
    tree = MerkleTree(leaves)
    assert tree.root() == reference_mth(leaves)
    size = data.draw(st.integers(1, n))
    index = data.draw(st.integers(0, size - 1))
    root = tree.root(size)
    assert root == reference_mth(leaves[:size])
    proof = tree.inclusion_proof(index, size)
    assert verify_inclusion(index, size, leaves[index], proof, root)
    for bad in tampered(proof):
        assert not verify_inclusion(index, size, leaves[index], bad, root)
    other = (index + 1) % size
    if other != index:
        assert not verify_inclusion(other, size, leaves[index], proof, root)
    # (The size is bound by the signed checkpoint, not by the proof: for some leaves a
    # path in a tree of size n also fits size n + 1, as in every RFC 6962 verifier.)
    assert not verify_inclusion(index, size, leaf_hash(b"forged"), proof, root)
    assert not verify_inclusion(index, size, leaves[index], proof, EMPTY_ROOT)


@given(st.integers(1, 70), st.data())
def test_every_consistency_proof_verifies_and_every_damage_fails(
    n: int, data: st.DataObject
) -> None:
    leaves = [leaf_hash(canonical_json({"seq": i})) for i in range(n)]
    tree = MerkleTree(leaves)
    second = data.draw(st.integers(1, n))
    first = data.draw(st.integers(1, second))
    old, new = tree.root(first), tree.root(second)
    proof = tree.consistency_proof(first, second)
    assert verify_consistency(first, second, proof, old, new)
    if first < second:
        for bad in tampered(proof):
            assert not verify_consistency(first, second, bad, old, new)
        assert not verify_consistency(first, second, proof, new, old)  # swapped roots
        # A rewritten history (one early entry changed) no longer extends the old root.
        rewritten = list(leaves)
        rewritten[0] = leaf_hash(b"rewritten")
        forged = MerkleTree(rewritten)
        assert not verify_consistency(
            first, second, forged.consistency_proof(first, second), old, forged.root(second)
        )


def test_bad_arguments() -> None:
    tree = MerkleTree(LEAVES)
    for call in (
        lambda: tree.inclusion_proof(8),
        lambda: tree.inclusion_proof(0, 9),
        lambda: tree.consistency_proof(0),
        lambda: tree.consistency_proof(5, 4),
        lambda: tree.root(9),
    ):
        with pytest.raises(ValueError):
            call()
    assert not verify_inclusion(0, 0, LEAVES[0], [], EMPTY_ROOT)
    assert not verify_inclusion(0, 1, LEAVES[0], [b"short"], LEAVES[0])
    assert not verify_consistency(0, 1, [], EMPTY_ROOT, LEAVES[0])
    assert not verify_consistency(2, 2, [LEAVES[0]], ROOTS_B(2), ROOTS_B(2))


def ROOTS_B(size: int) -> bytes:
    return bytes.fromhex(ROOTS[size])


def test_canonical_json_is_one_byte_string() -> None:
    assert canonical_json({"b": [1, 2.5], "a": "x"}) == canonical_json({"a": "x", "b": [1, 2.5]})
    with pytest.raises(ValueError):
        canonical_json({"x": float("nan")})


@settings(max_examples=60)
@given(st.integers(min_value=0, max_value=300))
def test_compact_range_matches_the_tree_at_every_size(n: int) -> None:
    from trustops.core.audit import CompactRange

    leaves = [leaf_hash(i.to_bytes(4, "big")) for i in range(n)]
    tree = MerkleTree(leaves)
    rng = CompactRange()
    assert rng.root() == tree.root(0)
    for i, h in enumerate(leaves):
        rng.append(h)
        assert rng.root() == tree.root(i + 1)
        again = CompactRange.from_bytes(rng.size, rng.to_bytes())
        assert again.root() == rng.root()
