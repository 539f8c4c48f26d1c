"""Pseudonymisation: FF1 against NIST's samples, format kept, reversible only with the key."""

from __future__ import annotations

import os
import string
from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

from trustops.errors import InputError, MissingColumnError, UsageError
from trustops.governance.encryption import EncryptionKey, MissingKeyError, write_key_file
from trustops.privacy.pseudonym import (
    FF1,
    detokenise,
    keyed_hash,
    load_pseudonym_key,
    pseudonymise,
    reidentify,
    tokenise,
)

KEY = EncryptionKey(bytes(range(32)))
ALNUM36 = string.digits + string.ascii_lowercase
NIST_KEY = bytes.fromhex("2B7E151628AED2A6ABF7158809CF4F3C")


@pytest.mark.parametrize(
    ("radix", "tweak", "plaintext", "ciphertext"),
    [  # NIST SP 800-38G, FF1 samples 1-3 (AES-128)
        (10, "", "0123456789", "2433477484"),
        (10, "39383736353433323130", "0123456789", "6124200773"),
        (36, "3737373770717273373737", "0123456789abcdefghi", "a9tv40mll9kdu509eum"),
    ],
)
def test_ff1_matches_the_nist_samples(
    radix: int, tweak: str, plaintext: str, ciphertext: str
) -> None:
    ff1 = FF1(NIST_KEY, radix)
    numerals = [ALNUM36.index(c) for c in plaintext]
    out = ff1.encrypt(numerals, bytes.fromhex(tweak))
    assert "".join(ALNUM36[i] for i in out) == ciphertext
    assert ff1.decrypt(out, bytes.fromhex(tweak)) == numerals


def _classes(text: str) -> list[str]:
    return ["d" if c.isdigit() else "l" if c.islower() else "U" if c.isupper() else c for c in text]


@given(
    st.text(
        alphabet=string.ascii_letters + string.digits + "-@. é",
        min_size=6,
        max_size=40,
    ).filter(lambda s: sum(c in string.ascii_letters + string.digits for c in s) >= 6)
)
def test_tokens_keep_length_and_classes_and_reverse_with_the_key(value: str) -> None:
    token = tokenise(value, KEY, column="id")
    assert len(token) == len(value)
    assert _classes(token) == _classes(value)
    assert detokenise(token, KEY, column="id") == value


def test_tokens_depend_on_key_and_column() -> None:
    value = "123-45-6789"
    token = tokenise(value, KEY, column="ssn")
    assert token != value
    assert tokenise(value, KEY, column="ssn") == token  # deterministic: joins still work
    assert tokenise(value, KEY, column="other") != token
    other = EncryptionKey(bytes(range(1, 33)))
    assert tokenise(value, other, column="ssn") != token
    assert detokenise(token, other, column="ssn") != value  # the wrong key gives garbage


def test_short_values_are_refused() -> None:
    with pytest.raises(InputError, match="too short to tokenise"):
        tokenise("12345", KEY)  # 10^5 < 10^6 possible values


def test_keyed_hash_is_keyed_and_per_column() -> None:
    h = keyed_hash("alice@example.com", KEY, column="email")
    assert len(h) == 32 and int(h, 16) >= 0
    assert h != keyed_hash("alice@example.com", KEY, column="contact")
    assert h != keyed_hash("alice@example.com", EncryptionKey(bytes(32)), column="email")


def test_pseudonymise_a_table_then_reidentify() -> None:
    table = pa.table(
        {
            "ssn": ["123-45-6789", "987-65-4321", None],
            "email": ["alice@example.com", "bob@example.org", "carol@example.net"],
            "income": [50_000, 60_000, 70_000],
        }
    )
    hashed = pseudonymise(table, ["email"], KEY, method="hmac")
    assert hashed.column("income") == table.column("income")
    assert "alice@example.com" not in hashed.column("email").to_pylist()
    tokens = pseudonymise(table, ["ssn", "email"], KEY, method="fpe")
    assert tokens.column("ssn").to_pylist()[2] is None
    assert tokens.column("ssn").to_pylist()[0][3] == "-"
    back = reidentify(tokens, ["ssn", "email"], KEY)
    assert back.column("ssn").to_pylist() == table.column("ssn").to_pylist()
    assert back.column("email").to_pylist() == table.column("email").to_pylist()


def test_bad_input_names_column_and_row() -> None:
    table = pa.table({"code": ["1234567", "12"]})
    with pytest.raises(InputError, match="column 'code', row 2: value too short"):
        pseudonymise(table, ["code"], KEY, method="fpe")
    with pytest.raises(MissingColumnError, match="'ssn'"):
        pseudonymise(table, ["ssn"], KEY)
    with pytest.raises(UsageError, match="unknown method"):
        pseudonymise(table, ["code"], KEY, method="rot13")


def test_key_comes_from_a_file_or_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TRUSTOPS_PSEUDONYM_KEY", raising=False)
    with pytest.raises(UsageError, match="no pseudonymisation key"):
        load_pseudonym_key(None)
    with pytest.raises(MissingKeyError, match="does not exist"):
        load_pseudonym_key(str(tmp_path / "missing.key"))
    key = write_key_file(tmp_path / "p.key")
    assert load_pseudonym_key(str(tmp_path / "p.key")).key_id == key.key_id
    monkeypatch.setenv("TRUSTOPS_PSEUDONYM_KEY", key.to_text())
    assert load_pseudonym_key(None).key_id == key.key_id
    assert os.environ["TRUSTOPS_PSEUDONYM_KEY"].startswith("trustops-key-v1:")
