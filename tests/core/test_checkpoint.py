"""Signed checkpoints: round trip, and every alteration or wrong key refused."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from trustops.core.audit import MerkleTree, leaf_hash
from trustops.core.checkpoint import (
    Checkpoint,
    CheckpointError,
    parse_checkpoint,
    sign_checkpoint,
    verifier_key,
    verify_checkpoint,
)

NAME = "trustops.test/audit"


@pytest.fixture(scope="module")
def key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


@pytest.fixture(scope="module")
def signed(key: Ed25519PrivateKey) -> tuple[Checkpoint, str]:
    tree = MerkleTree([leaf_hash(bytes([i])) for i in range(7)])
    cp = Checkpoint(NAME, tree.size, tree.root())
    return cp, sign_checkpoint(cp, key, NAME)


def test_round_trip_and_format(key: Ed25519PrivateKey, signed: tuple[Checkpoint, str]) -> None:
    cp, text = signed
    assert verify_checkpoint(text, verifier_key(key, NAME)) == cp
    origin, size, _root, blank, signature, end = text.split("\n")
    assert (origin, size, blank, end) == (NAME, "7", "", "")
    assert signature.startswith(f"\u2014 {NAME} ")
    parsed, body, sigs = parse_checkpoint(text)
    assert parsed == cp and body == cp.body() and sigs[0][0] == NAME
    assert verifier_key(key, NAME) == verifier_key(key.public_key(), NAME)


@pytest.mark.parametrize(
    "alter",
    [
        lambda t: t.replace("\n7\n", "\n8\n", 1),  # size
        lambda t: t.replace(t.split("\n")[2], "A" * 43 + "=", 1),  # root
        lambda t: t.replace(NAME, "other.log/audit", 1),  # origin
        lambda t: t[:-6] + ("A" if t[-6] != "A" else "B") + t[-5:],  # signature byte
    ],
)
def test_alterations_are_refused(
    key: Ed25519PrivateKey, signed: tuple[Checkpoint, str], alter: object
) -> None:
    _, text = signed
    with pytest.raises(CheckpointError):
        verify_checkpoint(alter(text), verifier_key(key, NAME))  # type: ignore[operator]


def test_wrong_key_and_malformed_input(signed: tuple[Checkpoint, str]) -> None:
    _, text = signed
    stranger = Ed25519PrivateKey.generate()
    with pytest.raises(CheckpointError, match="no signature by"):
        verify_checkpoint(text, verifier_key(stranger, "someone.else"))
    with pytest.raises(CheckpointError, match=r"no signature by|does not match"):
        verify_checkpoint(text, verifier_key(stranger, NAME))
    for bad in ("", "origin\n1\n", "origin\nx\nAAAA\n\n", "o\n1\nnot base64!\n\n"):
        with pytest.raises(CheckpointError):
            parse_checkpoint(bad)
    with pytest.raises(CheckpointError, match="malformed verifier key"):
        verify_checkpoint(text, "nonsense")
    with pytest.raises(CheckpointError):
        Checkpoint("two\nlines", 1, bytes(32)).body()
