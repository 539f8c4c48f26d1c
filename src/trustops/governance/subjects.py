"""The subject index: which dataset versions hold a person, by keyed hash, never by id.

A dataset registered with a subject-identifier column (``subject_column=``,
``--subject-column``) keeps ``HMAC-SHA256(key, id)`` of every distinct id in
that column. The key is a secret outside the database — a file readable only
by its owner (``.trustops/subject.key`` by default, ``privacy.subject_key``
in config.toml) or the secret itself in ``TRUSTOPS_SUBJECT_KEY`` — so the
store alone cannot tell whether a given person is in the data, and the audit
log holds keyed hashes at most. The index records the key's identifier
(``HMAC-SHA256(key, label)``, first 16 bytes in hex), so a wrong key is an
error rather than an empty answer.

Ids are compared as text: an integer ``17`` and the line ``17`` in an
erasure file are the same subject; surrounding spaces are ignored.

Example:
    >>> key = b"k" * 32
    >>> subject_hash(key, 17) == subject_hash(key, " 17 ")
    True
    >>> len(key_id(key))
    32
"""

from __future__ import annotations

import hashlib
import hmac
import math
import os
import re
import secrets
import stat
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from trustops.errors import InputError, UsageError
from trustops.governance import schema as t

if TYPE_CHECKING:
    from trustops.governance.registry import DatasetVersion, Registry

__all__ = [
    "ID_PATTERN",
    "SubjectKeyError",
    "column_hashes",
    "create_subject_key",
    "erasures_of",
    "key_id",
    "load_subject_key",
    "read_subject_ids",
    "subject_hash",
    "subject_index",
]

#: What a subject id in an erasure file may look like (no spaces, at most 200 characters).
ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:@+/-]{0,199}")
_KEY_LABEL = b"trustops subject key id"
_MIN_KEY = 32  # bytes of secret text


class SubjectKeyError(UsageError):
    """No subject key, one that cannot be read, or not the key that built the index."""


def create_subject_key(path: str | os.PathLike[str]) -> Path:
    """Write a new random key (64 hex characters) to ``path``, readable only by its owner."""
    path = Path(path)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(secrets.token_hex(32) + "\n")
    return path


def load_subject_key(source: str | None) -> bytes:
    """The key in the file ``source``, or ``source`` itself when it is not a path."""
    if source is None:
        raise SubjectKeyError(
            "no subject key is configured",
            hint="create one with `trustops privacy subject-key`, or set TRUSTOPS_SUBJECT_KEY "
            "or privacy.subject_key in .trustops/config.toml",
        )
    path = Path(source)
    looks_like_file = os.sep in source or source.endswith(".key") or path.exists()
    if looks_like_file:
        try:
            mode = path.stat().st_mode
        except OSError:
            raise SubjectKeyError(f"subject key file {path} does not exist") from None
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise SubjectKeyError(
                f"subject key file {path} is readable by others", hint=f"chmod 600 {path}"
            )
        text = path.read_text("utf-8").strip()
    else:
        text = source.strip()
    if len(text.encode()) < _MIN_KEY:
        raise SubjectKeyError(
            f"the subject key is too short ({len(text.encode())} bytes; at least {_MIN_KEY})",
            hint="use `trustops privacy subject-key` to make one",
        )
    return text.encode()


def key_id(key: bytes) -> str:
    """The key's identifier: HMAC-SHA256(key, label), first 16 bytes in hex."""
    return hmac.new(key, _KEY_LABEL, hashlib.sha256).hexdigest()[:32]


def _id_text(value: Any) -> str | None:
    """A subject id as text (None for a missing value); 17, 17.0 and "17" agree."""
    if value is None:
        return None
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, float):
        if math.isnan(value):
            return None
        if value.is_integer():
            return str(int(value))
    text = str(value).strip()
    return text or None


def subject_hash(key: bytes, subject_id: Any) -> str:
    """HMAC-SHA256 of the id's text under ``key`` (hex)."""
    text = _id_text(subject_id)
    if text is None:
        raise InputError("a subject id is empty")
    return hmac.new(key, text.encode("utf-8"), hashlib.sha256).hexdigest()


def column_hashes(batches: Iterable[Any], column: str, key: bytes) -> set[str]:
    """The keyed hashes of the distinct ids in ``column`` of Arrow record batches.

    Integer ids become text in Arrow; other types go through :func:`subject_hash`'s
    rules value by value (distinct values only), so both give the same hash.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    seen: set[str] = set()
    for batch in batches:
        values = batch.column(batch.schema.get_field_index(column))
        if pa.types.is_integer(values.type):
            seen.update(pc.unique(pc.cast(values.drop_null(), pa.string())).to_pylist())
            continue
        for value in pc.unique(values).to_pylist():
            text = _id_text(value)
            if text is not None:
                seen.add(text)
    keyed = hmac.new(key, digestmod=hashlib.sha256)  # the key's pads, computed once
    out = set()
    for text in seen:
        h = keyed.copy()
        h.update(text.encode("utf-8"))
        out.add(h.hexdigest())
    return out


def read_subject_ids(path: str | os.PathLike[str]) -> list[str]:
    """The ids in a text file, one a line (blank lines and ``#`` comments skipped).

    A malformed line is an error naming its number, never its content.
    """
    path = Path(path)
    try:
        lines = path.read_text("utf-8").splitlines()
    except FileNotFoundError:
        raise InputError(f"subject-id file {path} does not exist") from None
    except UnicodeDecodeError:
        raise InputError(f"subject-id file {path} is not UTF-8 text") from None
    ids: list[str] = []
    for number, line in enumerate(lines, 1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        if not ID_PATTERN.fullmatch(text):
            raise InputError(
                f"{path}, line {number}: not a subject id",
                hint="one id a line: letters, digits and . _ : @ + / - (at most 200, no spaces)",
            )
        ids.append(text)
    if not ids:
        raise InputError(f"subject-id file {path} holds no ids")
    return list(dict.fromkeys(ids))


def subject_index(registry: Registry, dataset: DatasetVersion) -> dict[str, Any] | None:
    """The subject index of a dataset version (column, key id, subjects), or None."""
    si = t.subject_indexes.c
    with registry.db.read() as conn:
        row = conn.execute(
            sa.select(si.column, si.key_id, si.subjects).where(si.dataset_version_id == dataset.id)
        ).first()
    return None if row is None else dict(row._mapping)


def erasures_of(registry: Registry, dataset: DatasetVersion) -> list[dict[str, Any]]:
    """The erasure requests that found subjects in a dataset version: request id, reference,
    when, how many subjects it held, the step recorded (oldest first)."""
    er, ei = t.erasure_requests.c, t.erasure_impacts.c
    with registry.db.read() as conn:
        rows = conn.execute(
            sa.select(er.id, er.reference, er.created_at, ei.matched, ei.action)
            .join(t.erasure_impacts, ei.request_id == er.id)
            .where(ei.subject_type == "dataset_version", ei.subject_id == dataset.id)
            .order_by(er.id)
        ).all()
    return [dict(r._mapping) for r in rows]
