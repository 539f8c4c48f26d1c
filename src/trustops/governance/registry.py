"""The governance registry: the one place that changes governance state, each change audited.

Every method that changes something runs in one write transaction that
also appends its audit entry (:mod:`trustops.governance.auditlog`): both
commit or neither does, so a crash, a refused input or a lost race leaves
no action without its entry and no entry without its action. Reads use
their own snapshot transaction.

What it records: AI systems (owner, purpose, use case, EU AI Act risk
category, jurisdictions); datasets and their versions (content hash, schema,
rows, a stored profile, provenance, permitted purposes, lawful basis,
personal-data flag, retention); models and their versions (an artifact in
the content-addressed store, framework, parameters, metrics, training and
evaluation dataset versions, the git commit, a parent version); evidence
(immutable JSON from assessments); stage transitions (the pure table of
:mod:`trustops.core.lifecycle`), promotion and rollback.

References: ``NAME@VERSION`` (``credit@2``), ``NAME`` (the latest version),
and for models ``SYSTEM/NAME@VERSION`` when a name is used in two systems.

Example:
    >>> import tempfile, pyarrow as pa
    >>> reg = Registry.open(init_workspace(tempfile.mkdtemp(), actor="alice").project)
    >>> _ = reg.create_system("credit", owner="risk team", risk="high", use_case="credit")
    >>> dv = reg.register_dataset(pa.table({"x": [1, 2, 3]}), system="credit", name="train")
    >>> dv.ref, dv.row_count
    ('train@1', 3)
    >>> mv = reg.register_model(b"weights", system="credit", name="scorer", trained_on=["train"])
    >>> [t.action for t in reg.promote("scorer@1", "staging")]
    ['stage']
    >>> [d.ref for d in reg.lineage("scorer@1").datasets]
    ['train@1']
    >>> reg.audit.verify().ok
    True
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import subprocess
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from trustops.core.audit import canonical_json
from trustops.core.lifecycle import STAGES, Transition, plan_rollback, plan_transition
from trustops.core.policy import Context, Decision, EvidenceItem, Policy, check_scopes, evaluate
from trustops.errors import InputError, UsageError
from trustops.governance import schema as t
from trustops.governance.artifacts import ArtifactStore
from trustops.governance.auditlog import AuditLog, Pending, Receipt, utc_now
from trustops.governance.database import Database, insert_id, open_database
from trustops.governance.workspace import (
    Settings,
    find_workspace,
    init_workspace,
    load_settings,
    load_signing_key,
)

__all__ = [
    "RISK_CATEGORIES",
    "ConflictError",
    "DatasetVersion",
    "Evidence",
    "Lineage",
    "ModelVersion",
    "NotFoundError",
    "Registry",
    "System",
    "init_workspace",
]

RISK_CATEGORIES = ("prohibited", "high", "limited", "minimal")
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,199}")
_KIND = re.compile(r"[a-z][a-z0-9_.-]{0,49}")
_ACTIONS = {
    "stage": "model.staged",
    "promote": "model.promoted",
    "demote": "model.demoted",
    "archive": "model.archived",
}


class NotFoundError(InputError):
    """A system, dataset, model, version or evidence record that is not registered."""

    status = 404


class ConflictError(InputError):
    """The action conflicts with what is registered (a name taken, a stage already held)."""

    status = 409


def _check_name(what: str, name: str) -> str:
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise InputError(
            f"invalid {what} name {name!r}",
            hint="use letters, digits, '.', '_' or '-' (at most 200), starting with a letter "
            "or digit",
        )
    return name


def _json(value: Any, what: str) -> str:
    try:
        return canonical_json(value).decode("utf-8")
    except (TypeError, ValueError) as exc:
        raise InputError(f"{what} is not JSON-serialisable: {exc}") from None


class _Record:
    """A stored record: ``to_dict`` gives its fields but the database id, plus ``ref``."""

    def to_dict(self) -> dict[str, Any]:
        d = {k: v for k, v in self.__dict__.items() if k != "id"}
        ref = getattr(self, "ref", None)
        if ref is not None:
            d["ref"] = ref
        return d


class _Versioned(_Record):
    name: str
    version: int

    @property
    def ref(self) -> str:
        """``NAME@VERSION``."""
        return f"{self.name}@{self.version}"


@dataclass(frozen=True)
class System(_Record):
    """An AI system: the unit that models, datasets and approvals belong to."""

    id: int
    name: str
    owner: str | None
    purpose: str | None
    use_case: str | None
    risk: str | None
    jurisdictions: list[str]
    single_production: bool
    created_at: str
    created_by: str


@dataclass(frozen=True)
class DatasetVersion(_Versioned):
    """One version of a dataset, identified by the hash of its content."""

    id: int
    system: str
    name: str
    version: int
    content_hash: str
    hash_method: str
    schema: list[dict[str, str]]
    row_count: int
    profile_hash: str | None
    source: str | None
    permitted_purposes: list[str]
    lawful_basis: str | None
    personal_data: bool
    retention_days: int | None
    created_at: str
    created_by: str
    parents: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ModelVersion(_Versioned):
    """One version of a model: an artifact by hash, its data, its stage."""

    id: int
    system: str
    name: str
    version: int
    artifact_hash: str
    artifact_size: int
    framework: str | None
    parameters: dict[str, Any]
    metrics: dict[str, Any]
    code_commit: str | None
    parent: str | None
    stage: str
    created_at: str
    created_by: str
    trained_on: list[str] = field(default_factory=list)
    evaluated_on: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Evidence:
    """An immutable assessment record about a model or dataset version."""

    id: int
    kind: str
    subject: str
    content: dict[str, Any]
    content_hash: str
    created_at: str
    created_by: str

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class Lineage:
    """What (transitively) went into a model version."""

    model: ModelVersion
    datasets: list[DatasetVersion]  # training data, with what it was derived from
    evaluated_on: list[DatasetVersion]
    ancestors: list[ModelVersion]  # parent, grandparent, ...

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model.to_dict(),
            "datasets": [d.to_dict() for d in self.datasets],
            "evaluated_on": [d.to_dict() for d in self.evaluated_on],
            "ancestors": [m.to_dict() for m in self.ancestors],
        }


def git_commit(directory: str | os.PathLike[str] | None = None) -> str | None:
    """The git revision checked out at ``directory`` (default: here), or None outside git.

    None, without error, outside a work tree, before the first commit, or
    when git is not installed.
    """
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--verify", "--quiet", "HEAD^{commit}"],
            cwd=directory,
            capture_output=True,
            text=True,
            timeout=10,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    text = out.stdout.strip()
    return text if out.returncode == 0 and re.fullmatch(r"[0-9a-f]{40,64}", text) else None


def _canonical_array(array: Any) -> Any:
    """``array`` rebuilt so that its buffers hold its values and nothing else.

    Arrow leaves whatever a producer wrote under a null slot, in the unused
    bits of a bitmap's last byte, and outside a slice of a larger buffer
    (pandas puts NaN under a null float, Polars sets spare validity bits),
    and the IPC stream copies those bytes. Here the bitmaps are packed
    afresh, the bytes under nulls are zeros, and variable-length data holds
    exactly the values, so equal values give equal bytes.
    """
    import numpy as np
    import pyarrow as pa

    kind, n = array.type, len(array)
    if n == 0 or pa.types.is_null(kind):
        return pa.array([None] * n, type=kind)
    valid = array.is_valid().to_numpy(zero_copy_only=False)
    nulls = n - int(valid.sum())

    def bits(flags: Any) -> Any:
        return pa.py_buffer(np.packbits(flags, bitorder="little").tobytes())

    bitmap = bits(valid) if nulls else None
    buffers = array.buffers()
    if pa.types.is_boolean(kind):
        values = array.fill_null(False).to_numpy(zero_copy_only=False)
        return pa.Array.from_buffers(kind, n, [bitmap, bits(values)], null_count=nulls)
    if pa.types.is_large_string(kind) or pa.types.is_large_binary(kind):
        offsets = np.frombuffer(buffers[1], np.int64)[array.offset : array.offset + n + 1]
        lengths = np.where(valid, np.diff(offsets), 0)
        new_offsets = np.zeros(n + 1, np.int64)
        np.cumsum(lengths, out=new_offsets[1:])
        raw = np.frombuffer(buffers[2], np.uint8) if buffers[2] is not None else np.empty(0)
        index = np.repeat(offsets[:-1] - new_offsets[:-1], lengths) + np.arange(new_offsets[-1])
        data = pa.py_buffer(raw[index].astype(np.uint8).tobytes())
        return pa.Array.from_buffers(
            kind, n, [bitmap, pa.py_buffer(new_offsets.tobytes()), data], null_count=nulls
        )
    try:
        width = kind.bit_width
    except ValueError:  # not a fixed-width type
        width = 0
    if width and width % 8 == 0 and len(buffers) == 2 and buffers[1] is not None:
        size = width // 8
        raw = np.frombuffer(buffers[1], np.uint8)[array.offset * size : (array.offset + n) * size]
        raw = raw.reshape(n, size).copy()
        raw[~valid] = 0
        return pa.Array.from_buffers(
            kind, n, [bitmap, pa.py_buffer(raw.tobytes())], null_count=nulls
        )
    return pa.array(array.to_pylist(), type=kind)  # nested types: rebuilt value by value


def _normalise_arrow(table: Any) -> Any:
    """A table whose IPC bytes depend only on its values and logical types."""
    import pyarrow as pa
    import pyarrow.compute as pc

    columns = []
    for column in table.columns:
        kind = column.type
        if pa.types.is_dictionary(kind):
            column = pc.cast(column, kind.value_type)
            kind = column.type
        if pa.types.is_string(kind) or pa.types.is_large_string(kind) or str(kind) == "string_view":
            column = pc.cast(column, pa.large_string())
        elif pa.types.is_binary(kind) or str(kind) == "binary_view":
            column = pc.cast(column, pa.large_binary())
        columns.append(_canonical_array(column.combine_chunks()))
    return pa.table(columns, names=table.column_names)


def content_hash_of(data: Any) -> tuple[str, str, Any]:
    """``(sha256 hex, method, Arrow table or path)`` for a file path or an in-memory frame.

    A file is hashed by its bytes (``method="file"``); a frame by the IPC
    stream of its canonical Arrow form (``method="arrow"``: one chunk per
    column, dictionaries decoded, strings as large strings, no metadata,
    zeros under nulls and in spare bitmap bits), so
    the same values give the same hash from pandas, Polars or Arrow.
    """
    if isinstance(data, str | os.PathLike):
        path = Path(data)
        if not path.is_file():
            raise InputError(f"{path} is not a file", hint="register a CSV or Parquet file")
        hasher = hashlib.sha256()
        with open(path, "rb") as f:
            while chunk := f.read(1 << 20):
                hasher.update(chunk)
        return hasher.hexdigest(), "file", path
    import pyarrow as pa

    from trustops.engines.sources import open_source

    source = open_source(data)
    table = _normalise_arrow(pa.Table.from_batches(list(source.batches()), schema=source.schema))
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table, max_chunksize=max(table.num_rows, 1))
    return hashlib.sha256(sink.getvalue().to_pybytes()).hexdigest(), "arrow", table


class Registry:
    """Systems, datasets, models, evidence, stages and the audit log of one store.

    Open one with :meth:`open` (the workspace found from a directory, with
    the usual settings precedence) or build it from parts for a server.
    """

    def __init__(
        self,
        db: Database,
        artifacts: ArtifactStore,
        *,
        actor: str,
        audit: AuditLog,
        settings: Settings | None = None,
    ) -> None:
        self.db = db
        self.artifacts = artifacts
        self.actor = actor
        self.audit = audit
        self.settings = settings  # privacy defaults: purpose, purpose_mismatch, subject_key
        self.warnings: list[str] = []
        self.last_receipt: Receipt | None = None  # of the latest action, for the caller

    @classmethod
    def open(
        cls,
        directory: str | os.PathLike[str] | None = None,
        *,
        settings: Settings | None = None,
        **overrides: Any,
    ) -> Registry:
        """The registry of the workspace at or above ``directory`` (flags in ``overrides``).

        Without ``directory``: ``TRUSTOPS_WORKSPACE`` if set, else the current directory.
        """
        if settings is None:
            where = directory if directory is not None else os.environ.get("TRUSTOPS_WORKSPACE")
            settings = load_settings(find_workspace(where), overrides=overrides)
        db = open_database(settings.database_url)
        try:
            origin = _origin(db)
            key = load_signing_key(settings.signing_key) if settings.signing_key else None
            audit = AuditLog(
                db,
                origin,
                key,
                checkpoint_every=settings.checkpoint_every,
                checkpoint_copy=settings.checkpoint_copy,
            )
            keyring = None
            if settings.encryption_key:  # artifacts at rest encrypted (governance.encryption)
                from trustops.governance.encryption import Keyring, load_key

                keyring = Keyring(load_key(settings.encryption_key))
            store = ArtifactStore(settings.artifacts, keyring=keyring)
            return cls(db, store, actor=settings.actor, audit=audit, settings=settings)
        except BaseException:
            db.close()
            raise

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Registry:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- transactions ----------------------------------------------------------

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Change]:
        """One write transaction and its audit entries, for governance modules beside this one.

        Identity, approvals, monitoring and privacy keep their own modules but
        write through here, so every change is audited in the same transaction.
        """
        pending = Pending()
        with self.db.write() as conn:
            if self.db.dialect == "postgresql":
                # One writer at a time, as SQLite's BEGIN IMMEDIATE gives: the checks
                # below (names taken, next version numbers) then see every earlier commit.
                head = t.audit_head.c
                conn.execute(sa.select(head.id).where(head.id == 1).with_for_update())
            yield Change(self, conn, pending)
        self.warnings += self.audit.publish(pending)

    # -- systems ---------------------------------------------------------------

    def create_system(
        self,
        name: str,
        *,
        owner: str | None = None,
        purpose: str | None = None,
        use_case: str | None = None,
        risk: str | None = None,
        jurisdictions: Sequence[str] = (),
        single_production: bool = True,
    ) -> System:
        """Register an AI system (``risk``: prohibited, high, limited or minimal)."""
        _check_name("system", name)
        if risk is not None and risk not in RISK_CATEGORIES:
            raise InputError(
                f"unknown risk category {risk!r}", hint=f"use one of {', '.join(RISK_CATEGORIES)}"
            )
        if isinstance(jurisdictions, str):
            jurisdictions = [jurisdictions]
        row = {
            "name": name,
            "owner": owner,
            "purpose": purpose,
            "use_case": use_case,
            "risk": risk,
            "jurisdictions": _json(sorted(set(jurisdictions)), "jurisdictions"),
            "single_production": bool(single_production),
            "created_at": utc_now(),
            "created_by": self.actor,
        }
        with self.transaction() as change:
            if change.conn.execute(
                sa.select(t.systems.c.id).where(t.systems.c.name == name)
            ).first():
                raise ConflictError(f"system {name!r} already exists")
            sid = insert_id(change.conn, t.systems.insert().values(**row))
            system = self._system_row(change.conn, sid)
            change.audit("system.created", f"system:{name}", system.to_dict())
        return system

    def _system_row(self, conn: Connection, sid: int) -> System:
        r = conn.execute(sa.select(t.systems).where(t.systems.c.id == sid)).one()._mapping
        return System(**{**r, "jurisdictions": json.loads(r["jurisdictions"])})

    def _system_id(self, conn: Connection, name: str) -> int:
        sid = conn.execute(sa.select(t.systems.c.id).where(t.systems.c.name == name)).scalar()
        if sid is None:
            raise NotFoundError(
                f"system {name!r} is not registered",
                hint=f"create it with `trustops system create {name}`",
            )
        return int(sid)

    def system(self, name: str) -> System:
        with self.db.read() as conn:
            return self._system_row(conn, self._system_id(conn, name))

    def systems(self) -> list[System]:
        with self.db.read() as conn:
            ids = conn.execute(sa.select(t.systems.c.id).order_by(t.systems.c.name)).scalars()
            return [self._system_row(conn, i) for i in ids]

    # -- datasets --------------------------------------------------------------

    def register_dataset(
        self,
        data: Any,
        *,
        system: str,
        name: str | None = None,
        source: str | None = None,
        purposes: Sequence[str] = (),
        lawful_basis: str | None = None,
        personal_data: bool = False,
        retention_days: int | None = None,
        derived_from: Sequence[str] = (),
        profile: bool = True,
        progress: Callable[[int], None] | None = None,
        subject_column: str | None = None,
    ) -> DatasetVersion:
        """Register ``data`` (a CSV/Parquet path, or a frame) as the next version of a dataset.

        The name defaults to the file's stem. Content already registered under
        that dataset returns the existing version (nothing new is recorded).
        The profile is computed before the transaction and stored in the
        artifact store; only the row naming it is written in the transaction.
        ``progress`` is called with the rows read so far while profiling.
        ``subject_column`` names the column identifying people: its ids are
        indexed by keyed hash (:mod:`trustops.governance.subjects`) for erasure.
        """
        if name is None:
            if not isinstance(data, str | os.PathLike):
                raise UsageError("name= is required when registering an in-memory dataset")
            name = Path(data).stem
        _check_name("dataset", name)
        if isinstance(purposes, str):  # one purpose, not its characters
            purposes = [purposes]
        if isinstance(derived_from, str):
            derived_from = [derived_from]
        if retention_days is not None and retention_days < 0:
            raise InputError(f"retention_days must be positive, not {retention_days}")
        digest, method, loaded = content_hash_of(data)
        with self.db.read() as conn:
            sid = self._system_id(conn, system)
            existing = self._dataset_by_hash(conn, sid, name, digest)
            if existing is not None:
                return existing
            parents = [self._dataset_ref(conn, sid, ref).id for ref in derived_from]
        from trustops.engines.sources import open_source

        src = open_source(loaded)
        schema = [{"name": f.name, "type": str(f.type)} for f in src.schema]
        index = None
        if subject_column is not None:
            from trustops.governance import subjects

            key = subjects.load_subject_key(self.settings.subject_key if self.settings else None)
            hashes = subjects.column_hashes(
                src.select([subject_column]).batches(), subject_column, key
            )
            index = (subject_column, subjects.key_id(key), hashes)
        profile_hash = None
        if profile:
            from trustops.core.profiles import to_bytes
            from trustops.profiling import profile as make_profile

            prof = make_profile(src, progress=progress)
            rows = prof.rows
            profile_hash = self.artifacts.put_bytes(to_bytes(prof))[0]
        else:
            rows = (
                src.num_rows if src.num_rows is not None else sum(b.num_rows for b in src.batches())
            )
        if source is None and method == "file":
            source = str(Path(data).resolve())
        with self.transaction() as change:
            conn = change.conn
            sid = self._system_id(conn, system)
            again = self._dataset_by_hash(conn, sid, name, digest)
            if again is not None:  # registered by someone else meanwhile
                return again
            did = conn.execute(
                sa.select(t.datasets.c.id).where(
                    t.datasets.c.system_id == sid, t.datasets.c.name == name
                )
            ).scalar()
            if did is None:
                did = insert_id(
                    conn, t.datasets.insert().values(system_id=sid, name=name, created_at=utc_now())
                )
            version = 1 + (
                conn.execute(
                    sa.select(sa.func.max(t.dataset_versions.c.version)).where(
                        t.dataset_versions.c.dataset_id == did
                    )
                ).scalar()
                or 0
            )
            vid = insert_id(
                conn,
                t.dataset_versions.insert().values(
                    dataset_id=did,
                    version=version,
                    content_hash=digest,
                    hash_method=method,
                    schema=_json(schema, "schema"),
                    row_count=int(rows),
                    profile_hash=profile_hash,
                    source=source,
                    permitted_purposes=_json(sorted(set(purposes)), "purposes"),
                    lawful_basis=lawful_basis,
                    personal_data=bool(personal_data),
                    retention_days=retention_days,
                    created_at=utc_now(),
                    created_by=self.actor,
                ),
            )
            for pid in parents:
                conn.execute(t.dataset_parents.insert().values(child_id=vid, parent_id=pid))
            dv = self._dataset_row(conn, vid)
            entry = dv.to_dict()
            if index is not None:
                column, kid, hashes = index
                conn.execute(
                    t.subject_indexes.insert().values(
                        dataset_version_id=vid, column=column, key_id=kid,
                        subjects=len(hashes), created_at=utc_now(),
                    )
                )  # fmt: skip
                if hashes:
                    conn.execute(
                        t.subject_hashes.insert(),
                        [{"dataset_version_id": vid, "subject_hash": h} for h in sorted(hashes)],
                    )
                entry["subject_index"] = {"column": column, "key_id": kid, "subjects": len(hashes)}
            change.audit("dataset.registered", f"dataset:{system}/{dv.ref}", entry)
        return dv

    def _dataset_by_hash(
        self, conn: Connection, sid: int, name: str, digest: str
    ) -> DatasetVersion | None:
        v, d = t.dataset_versions.c, t.datasets.c
        vid = conn.execute(
            sa.select(v.id)
            .join(t.datasets, d.id == v.dataset_id)
            .where(d.system_id == sid, d.name == name, v.content_hash == digest)
        ).scalar()
        return None if vid is None else self._dataset_row(conn, vid)

    def _dataset_row(self, conn: Connection, vid: int) -> DatasetVersion:
        v, d, s = t.dataset_versions.c, t.datasets.c, t.systems.c
        r = (
            conn.execute(
                sa.select(t.dataset_versions, d.name.label("dname"), s.name.label("sname"))
                .join(t.datasets, d.id == v.dataset_id)
                .join(t.systems, s.id == d.system_id)
                .where(v.id == vid)
            )
            .one()
            ._mapping
        )
        parents = conn.execute(
            sa.select(t.dataset_parents.c.parent_id).where(t.dataset_parents.c.child_id == vid)
        ).scalars()
        return DatasetVersion(
            id=r["id"],
            system=r["sname"],
            name=r["dname"],
            version=r["version"],
            content_hash=r["content_hash"],
            hash_method=r["hash_method"],
            schema=json.loads(r["schema"]),
            row_count=r["row_count"],
            profile_hash=r["profile_hash"],
            source=r["source"],
            permitted_purposes=json.loads(r["permitted_purposes"]),
            lawful_basis=r["lawful_basis"],
            personal_data=bool(r["personal_data"]),
            retention_days=r["retention_days"],
            created_at=r["created_at"],
            created_by=r["created_by"],
            parents=sorted(self._dataset_label(conn, p) for p in parents),
        )

    def _dataset_label(self, conn: Connection, vid: int) -> str:
        v, d = t.dataset_versions.c, t.datasets.c
        r = conn.execute(
            sa.select(d.name, v.version).join(t.datasets, d.id == v.dataset_id).where(v.id == vid)
        ).one()
        return f"{r.name}@{r.version}"

    def _dataset_ref(self, conn: Connection, sid: int, ref: str) -> DatasetVersion:
        """``NAME@VERSION``, ``NAME`` (latest) or the path of a registered file."""
        v, d = t.dataset_versions.c, t.datasets.c
        if not isinstance(ref, str) or not ref:
            raise InputError(f"not a dataset reference: {ref!r}")
        if os.path.isfile(ref) and "@" not in os.path.basename(ref):
            digest = content_hash_of(ref)[0]
            vid = conn.execute(
                sa.select(v.id)
                .join(t.datasets, d.id == v.dataset_id)
                .where(d.system_id == sid, v.content_hash == digest)
                .order_by(v.id.desc())
            ).scalar()
            if vid is None:
                raise NotFoundError(
                    f"the file {ref} is not a registered dataset version of this system",
                    hint=f"register it first: trustops dataset register {ref} --system ...",
                )
            return self._dataset_row(conn, vid)
        name, _, version = ref.partition("@")
        query = sa.select(v.id).join(t.datasets, d.id == v.dataset_id)
        query = query.where(d.system_id == sid, d.name == name)
        if version:
            if not version.isdigit():
                raise InputError(f"dataset reference {ref!r}: the version must be a number")
            query = query.where(v.version == int(version))
        vid = conn.execute(query.order_by(v.version.desc())).scalar()
        if vid is None:
            raise NotFoundError(f"dataset version {ref!r} is not registered in this system")
        return self._dataset_row(conn, vid)

    def dataset(self, ref: str, *, system: str) -> DatasetVersion:
        """The dataset version ``ref`` (``NAME@V``, ``NAME`` or a registered file's path)."""
        with self.db.read() as conn:
            return self._dataset_ref(conn, self._system_id(conn, system), ref)

    def datasets(self, *, system: str | None = None) -> list[DatasetVersion]:
        v, d, s = t.dataset_versions.c, t.datasets.c, t.systems.c
        query = sa.select(v.id).join(t.datasets, d.id == v.dataset_id)
        query = query.join(t.systems, s.id == d.system_id)
        if system:
            query = query.where(s.name == system)
        with self.db.read() as conn:
            ids = conn.execute(query.order_by(s.name, d.name, v.version)).scalars().all()
            return [self._dataset_row(conn, i) for i in ids]

    # -- models ----------------------------------------------------------------

    def register_model(
        self,
        artifact: str | os.PathLike[str] | bytes,
        *,
        system: str,
        name: str | None = None,
        trained_on: Sequence[str] = (),
        evaluated_on: Sequence[str] = (),
        framework: str | None = None,
        parameters: Mapping[str, Any] | None = None,
        metrics: Mapping[str, Any] | None = None,
        parent: str | None = None,
        code_commit: str | None = "auto",
        purpose: str | None = None,
        triggered_by: int | None = None,
    ) -> ModelVersion:
        """Register an artifact (a file path or bytes) as the next version of a model.

        The artifact is copied into the content-addressed store first (an
        orphan file if the transaction then fails, never a row without its
        file). ``code_commit="auto"`` records the git revision of the current
        directory when there is one; ``None`` records none. The model
        file is never loaded or executed. Each training and evaluation dataset
        version is a data use for ``purpose`` (default: the workspace's), checked
        and recorded by :mod:`trustops.governance.usage`. ``triggered_by`` is the
        evidence id of a monitoring window whose breach started this retraining: the
        version's lineage then leads to it (``trustops.monitoring.store.retrained_from``).
        """
        from trustops.governance.usage import plan_use, write_use

        if name is None:
            if isinstance(artifact, bytes):
                raise UsageError("name= is required when registering a model from bytes")
            name = Path(artifact).stem
        _check_name("model", name)
        if isinstance(trained_on, str):
            trained_on = [trained_on]
        if isinstance(evaluated_on, str):
            evaluated_on = [evaluated_on]
        params = _json(dict(parameters or {}), "parameters")
        mets = _json(dict(metrics or {}), "metrics")
        commit = git_commit() if code_commit == "auto" else code_commit
        with self.db.read() as conn:  # refuse unknown references before copying anything
            sid = self._system_id(conn, system)
            planned = {}  # one use per dataset version and role, as model_datasets holds them
            for use, refs in (("training", trained_on), ("evaluation", evaluated_on)):
                for ref in refs:
                    dv = self._dataset_ref(conn, sid, ref)
                    planned[use, dv.id] = plan_use(self, dv, use=use, purpose=purpose)
            if triggered_by is not None:
                e = t.evidence.c
                if conn.execute(sa.select(e.id).where(e.id == triggered_by)).scalar() is None:
                    raise NotFoundError(f"evidence {triggered_by!r} is not recorded")
            if parent is not None:
                found = self._model_ref(conn, parent, system=system)
                if found.system != system:  # lineage follows a parent within its system
                    raise InputError(
                        f"parent {parent!r} is a model of system {found.system!r}, not {system!r}",
                        hint="a parent version must belong to the same system",
                    )
        if isinstance(artifact, bytes):
            digest, size = self.artifacts.put_bytes(artifact)
        else:
            if not Path(artifact).is_file():
                raise InputError(f"model artifact {artifact} is not a file")
            digest, size = self.artifacts.put_file(artifact)
        with self.transaction() as change:
            conn = change.conn
            sid = self._system_id(conn, system)
            training = [self._dataset_ref(conn, sid, r).id for r in trained_on]
            evaluation = [self._dataset_ref(conn, sid, r).id for r in evaluated_on]
            parent_id = None if parent is None else self._model_ref(conn, parent, system).id
            mid = conn.execute(
                sa.select(t.models.c.id).where(t.models.c.system_id == sid, t.models.c.name == name)
            ).scalar()
            if mid is None:
                mid = insert_id(
                    conn, t.models.insert().values(system_id=sid, name=name, created_at=utc_now())
                )
            mv = t.model_versions.c
            version = 1 + (
                conn.execute(sa.select(sa.func.max(mv.version)).where(mv.model_id == mid)).scalar()
                or 0
            )
            vid = insert_id(
                conn,
                t.model_versions.insert().values(
                    model_id=mid,
                    version=version,
                    artifact_hash=digest,
                    artifact_size=size,
                    framework=framework,
                    parameters=params,
                    metrics=mets,
                    code_commit=commit,
                    parent_id=parent_id,
                    stage="development",
                    created_at=utc_now(),
                    created_by=self.actor,
                ),
            )
            for role, ids in (("training", training), ("evaluation", evaluation)):
                for did in dict.fromkeys(ids):
                    conn.execute(
                        t.model_datasets.insert().values(
                            model_version_id=vid, dataset_version_id=did, role=role
                        )
                    )
            if triggered_by is not None:
                conn.execute(
                    t.retraining_lineage.insert().values(
                        model_version_id=vid, evidence_id=triggered_by, created_at=utc_now(),
                        created_by=self.actor,
                    )
                )  # fmt: skip
            model = self._model_row(conn, vid)
            label = f"model:{system}/{model.ref}"
            for read in planned.values():  # before the model's entry, which stays the last
                if read.purpose is not None:
                    write_use(change, read, used_by=label)
            entry = model.to_dict()
            if triggered_by is not None:
                entry["triggered_by"] = triggered_by
            receipt = change.audit("model.registered", label, entry)
            for read in planned.values():  # data read with no purpose: that entry records it
                if read.purpose is None:
                    write_use(change, read, used_by=label, entry=receipt)
        return model

    def _model_row(self, conn: Connection, vid: int) -> ModelVersion:
        v, m, s = t.model_versions.c, t.models.c, t.systems.c
        r = (
            conn.execute(
                sa.select(t.model_versions, m.name.label("mname"), s.name.label("sname"))
                .join(t.models, m.id == v.model_id)
                .join(t.systems, s.id == m.system_id)
                .where(v.id == vid)
            )
            .one()
            ._mapping
        )
        md = t.model_datasets.c
        used = conn.execute(
            sa.select(md.dataset_version_id, md.role).where(md.model_version_id == vid)
        ).all()
        parent = None
        if r["parent_id"] is not None:
            p = conn.execute(
                sa.select(m.name, v.version)
                .join(t.models, m.id == v.model_id)
                .where(v.id == r["parent_id"])
            ).one()
            parent = f"{p.name}@{p.version}"
        return ModelVersion(
            id=r["id"],
            system=r["sname"],
            name=r["mname"],
            version=r["version"],
            artifact_hash=r["artifact_hash"],
            artifact_size=r["artifact_size"],
            framework=r["framework"],
            parameters=json.loads(r["parameters"]),
            metrics=json.loads(r["metrics"]),
            code_commit=r["code_commit"],
            parent=parent,
            stage=r["stage"],
            created_at=r["created_at"],
            created_by=r["created_by"],
            trained_on=sorted(
                self._dataset_label(conn, d) for d, role in used if role == "training"
            ),
            evaluated_on=sorted(
                self._dataset_label(conn, d) for d, role in used if role == "evaluation"
            ),
        )

    def _model_ref(self, conn: Connection, ref: str, system: str | None = None) -> ModelVersion:
        """``NAME@VERSION``, ``NAME`` (latest) or ``SYSTEM/NAME[@VERSION]``."""
        if isinstance(ref, ModelVersion):
            ref = f"{ref.system}/{ref.ref}"
        if not isinstance(ref, str) or not ref:
            raise InputError(f"not a model reference: {ref!r}")
        if "/" in ref:
            system, ref = ref.split("/", 1)
        name, _, version = ref.partition("@")
        v, m, s = t.model_versions.c, t.models.c, t.systems.c
        query = sa.select(v.id, s.name).join(t.models, m.id == v.model_id)
        query = query.join(t.systems, s.id == m.system_id).where(m.name == name)
        if system:
            query = query.where(s.name == system)
        if version:
            if not version.isdigit():
                raise InputError(f"model reference {ref!r}: the version must be a number")
            query = query.where(v.version == int(version))
        rows = conn.execute(query.order_by(v.version.desc())).all()
        if not rows:
            raise NotFoundError(f"model version {ref!r} is not registered")
        if len({r[1] for r in rows}) > 1:
            raise UsageError(
                f"model {name!r} exists in several systems",
                hint=f"say which: SYSTEM/{ref} ({', '.join(sorted({r[1] for r in rows}))})",
            )
        return self._model_row(conn, rows[0][0])

    def model(self, ref: str) -> ModelVersion:
        """The model version ``ref`` (``NAME@V``, ``NAME`` for the latest, or ``SYSTEM/...``)."""
        with self.db.read() as conn:
            return self._model_ref(conn, ref)

    def models(self, *, system: str | None = None) -> list[ModelVersion]:
        v, m, s = t.model_versions.c, t.models.c, t.systems.c
        query = sa.select(v.id).join(t.models, m.id == v.model_id)
        query = query.join(t.systems, s.id == m.system_id)
        if system:
            query = query.where(s.name == system)
        with self.db.read() as conn:
            ids = conn.execute(query.order_by(s.name, m.name, v.version)).scalars().all()
            return [self._model_row(conn, i) for i in ids]

    # -- evidence --------------------------------------------------------------

    def record_evidence(
        self,
        kind: str,
        subject: ModelVersion | DatasetVersion | str,
        content: Mapping[str, Any] | Any,
        *,
        system: str | None = None,
    ) -> Evidence:
        """Store an immutable evidence record about a model or dataset version.

        ``content`` is a JSON object, or any object with ``to_dict()`` (a
        fairness report, a drift report, ...). ``subject`` is a version or a
        reference: ``model:NAME@V`` / ``dataset:NAME@V`` (``system=`` for a
        dataset), or a plain model reference.
        """
        if not isinstance(kind, str) or not _KIND.fullmatch(kind):
            raise InputError(
                f"invalid evidence kind {kind!r}", hint="lower-case letters, digits, '.', '_', '-'"
            )
        if hasattr(content, "to_dict") and not isinstance(content, Mapping):
            content = content.to_dict()
        if not isinstance(content, Mapping):
            raise InputError("evidence content must be a JSON object")
        body = _json(dict(content), "the evidence content")
        digest = hashlib.sha256(body.encode("utf-8")).hexdigest()
        with self.transaction() as change:
            conn = change.conn
            subject_type, sid, label = self._subject(conn, subject, system)
            eid = insert_id(
                conn,
                t.evidence.insert().values(
                    kind=kind,
                    subject_type=subject_type,
                    subject_id=sid,
                    content=body,
                    content_hash=digest,
                    created_at=utc_now(),
                    created_by=self.actor,
                ),
            )
            record = self._evidence_row(conn, eid)
            change.audit(
                "evidence.recorded",
                label,
                {"id": eid, "kind": kind, "content_hash": digest},
            )
        return record

    def _subject(self, conn: Connection, subject: Any, system: str | None) -> tuple[str, int, str]:
        if isinstance(subject, ModelVersion):
            return "model_version", subject.id, f"model:{subject.system}/{subject.ref}"
        if isinstance(subject, DatasetVersion):
            return "dataset_version", subject.id, f"dataset:{subject.system}/{subject.ref}"
        if not isinstance(subject, str):
            raise InputError(f"not an evidence subject: {subject!r}")
        if subject.startswith("dataset:"):
            ref = subject.removeprefix("dataset:")
            if "/" in ref:
                system, ref = ref.split("/", 1)
            if not system:
                raise UsageError("a dataset subject needs its system (dataset:SYSTEM/NAME@V)")
            dv = self._dataset_ref(conn, self._system_id(conn, system), ref)
            return "dataset_version", dv.id, f"dataset:{dv.system}/{dv.ref}"
        mv = self._model_ref(conn, subject.removeprefix("model:"), system)
        return "model_version", mv.id, f"model:{mv.system}/{mv.ref}"

    def _evidence_row(self, conn: Connection, eid: int) -> Evidence:
        r = conn.execute(sa.select(t.evidence).where(t.evidence.c.id == eid)).one()._mapping
        return self._evidence_from(conn, r, {})

    def _evidence_from(
        self, conn: Connection, r: Any, labels: dict[tuple[str, int], str]
    ) -> Evidence:
        """An evidence row as a record; ``labels`` caches subject labels across rows."""
        key = (r["subject_type"], r["subject_id"])
        label = labels.get(key)
        if label is None:
            if r["subject_type"] == "model_version":
                mv = self._model_row(conn, r["subject_id"])
                label = f"model:{mv.system}/{mv.ref}"
            else:
                dv = self._dataset_row(conn, r["subject_id"])
                label = f"dataset:{dv.system}/{dv.ref}"
            labels[key] = label
        return Evidence(
            id=r["id"],
            kind=r["kind"],
            subject=label,
            content=json.loads(r["content"]),
            content_hash=r["content_hash"],
            created_at=r["created_at"],
            created_by=r["created_by"],
        )

    def evidence(
        self,
        *,
        subject: ModelVersion | DatasetVersion | str | None = None,
        kind: str | None = None,
        system: str | None = None,
    ) -> list[Evidence]:
        """Evidence records, oldest first, optionally for one subject and of one kind."""
        e = t.evidence.c
        query = sa.select(t.evidence).order_by(e.id)
        with self.db.read() as conn:
            if subject is not None:
                subject_type, sid, _ = self._subject(conn, subject, system)
                query = query.where(e.subject_type == subject_type, e.subject_id == sid)
            if kind:
                query = query.where(e.kind == kind)
            labels: dict[tuple[str, int], str] = {}  # one subject lookup, not one per record
            return [self._evidence_from(conn, r._mapping, labels) for r in conn.execute(query)]

    # -- policies and decisions --------------------------------------------------

    def record_decision(
        self,
        decision: Any,
        policy: Any,
        subject: ModelVersion | DatasetVersion | str,
        *,
        system: str | None = None,
    ) -> Evidence:
        """Store a policy decision as evidence (kind ``policy_decision``) about ``subject``.

        The policy itself is stored once per hash (``policy.registered`` in the
        audit log); the decision records that hash and the hashes of the
        evidence it used, so it can be re-evaluated and checked later.
        """
        content = decision.to_dict()
        body = _json(content, "the decision")
        digest = hashlib.sha256(body.encode("utf-8")).hexdigest()
        source = _json(dict(policy.source), "the policy")
        with self.transaction() as change:
            conn = change.conn
            p = t.policies.c
            known = conn.execute(sa.select(p.id).where(p.hash == policy.hash)).scalar()
            if known is None:
                insert_id(
                    conn,
                    t.policies.insert().values(
                        name=policy.name, version=policy.version, hash=policy.hash,
                        content=source, created_at=utc_now(), created_by=self.actor,
                    ),
                )  # fmt: skip
                change.audit(
                    "policy.registered",
                    f"policy:{policy.name}@{policy.version}",
                    {"name": policy.name, "version": policy.version, "hash": policy.hash},
                )
            subject_type, sid, label = self._subject(conn, subject, system)
            eid = insert_id(
                conn,
                t.evidence.insert().values(
                    kind="policy_decision", subject_type=subject_type, subject_id=sid,
                    content=body, content_hash=digest, created_at=utc_now(),
                    created_by=self.actor,
                ),
            )  # fmt: skip
            record = self._evidence_row(conn, eid)
            change.audit(
                "policy.evaluated",
                label,
                {
                    "evidence_id": eid,
                    "policy": policy.name,
                    "policy_hash": policy.hash,
                    "outcome": decision.outcome,
                    "content_hash": digest,
                    "evidence_hashes": list(decision.evidence_hashes),
                },
            )
        return record

    def policy_inputs(self, ref: str) -> tuple[ModelVersion, list[EvidenceItem], dict[str, Any]]:
        """What a policy sees for model version ``ref``: the version, the evidence about it
        and about its training and evaluation data (decisions and reports left out), and
        the context parts (system, model with its ``features`` parameter, datasets)."""
        mv = self.model(ref)
        refs = dict.fromkeys([*mv.trained_on, *mv.evaluated_on])
        datasets = [self.dataset(d, system=mv.system) for d in refs]
        records = self.evidence(subject=mv)
        for d in datasets:
            records += self.evidence(subject=d)
        items = [
            EvidenceItem(e.kind, e.content, e.content_hash, e.created_at, e.subject)
            for e in records
            if e.kind not in ("policy_decision", "report")
        ]
        if not any(e.kind == "erasure" for e in items):
            items.append(self._erasure_state(mv))
        model = mv.to_dict()
        features = mv.parameters.get("features")
        if isinstance(features, list):
            model["features"] = features
        parts = {
            "system": self.system(mv.system).to_dict(),
            "model": model,
            "datasets": [_policy_facts(d, records) for d in datasets],
        }
        return mv, items, parts

    def _erasure_state(self, mv: ModelVersion) -> EvidenceItem:
        """Kind ``erasure`` for a version no request marked (:mod:`trustops.privacy.erasure`):
        retraining is still required when its training data, or data that data came from,
        holds people an erasure request named (a version registered after the request)."""
        held = {d.id for d in self.lineage(f"{mv.system}/{mv.ref}").datasets}
        ei = t.erasure_impacts.c
        with self.db.read() as conn:
            requests = conn.execute(
                sa.select(ei.request_id)
                .where(ei.subject_type == "dataset_version", ei.subject_id.in_(held))
                .distinct()
            ).scalars().all()  # fmt: skip
        content = {"retraining_required": bool(requests), "requests": sorted(requests)}
        return EvidenceItem("erasure", content, hashlib.sha256(canonical_json(content)).hexdigest())

    def evaluate_policy(
        self,
        policy: Policy,
        ref: str,
        *,
        now: datetime | None = None,
        extra_evidence: Sequence[EvidenceItem] = (),
        record: bool = True,
    ) -> Decision:
        """Evaluate ``policy`` on model version ``ref`` (see :meth:`policy_inputs`), and record
        the decision unless ``record`` is false.

        ``extra_evidence`` joins the recorded evidence (e.g. fairness computed from a file).
        A scope naming an attribute the evidence lacks is an error before evaluation.
        """
        mv, evidence, parts = self.policy_inputs(ref)
        evidence = [*evidence, *extra_evidence]
        check_scopes(policy, evidence)
        context = Context(
            **parts, now=now or datetime.now(UTC), subject=f"model:{mv.system}/{mv.ref}"
        )
        decision = evaluate(policy, evidence, context)
        if record:
            self.record_decision(decision, policy, mv)
        return decision

    def policies(self) -> list[dict[str, Any]]:
        """Every policy version used in a decision: name, version, hash, when, by whom."""
        p = t.policies.c
        with self.db.read() as conn:
            rows = conn.execute(
                sa.select(p.name, p.version, p.hash, p.created_at, p.created_by).order_by(p.id)
            ).all()
        return [dict(r._mapping) for r in rows]

    # -- stages ----------------------------------------------------------------

    def _stages(self, conn: Connection, system: str) -> dict[str, tuple[int, str]]:
        v, m, s = t.model_versions.c, t.models.c, t.systems.c
        rows = conn.execute(
            sa.select(v.id, m.name, v.version, v.stage)
            .join(t.models, m.id == v.model_id)
            .join(t.systems, s.id == m.system_id)
            .where(s.name == system)
        ).all()
        return {f"{r.name}@{r.version}": (r.id, r.stage) for r in rows}

    def _production_history(self, conn: Connection, system: str) -> list[str]:
        """Versions that entered production, as a stack: a rollback pops the top."""
        st, v, m, s = t.stage_transitions.c, t.model_versions.c, t.models.c, t.systems.c
        rows = conn.execute(
            sa.select(m.name, v.version, st.source, st.target, st.action)
            .join(t.model_versions, v.id == st.model_version_id)
            .join(t.models, m.id == v.model_id)
            .join(t.systems, s.id == m.system_id)
            .where(s.name == system)
            .order_by(st.id)
        ).all()
        stack: list[str] = []
        for r in rows:
            label = f"{r.name}@{r.version}"
            if r.target == "production" and r.action != "rollback":
                stack = [x for x in stack if x != label] + [label]
            elif r.source == "production" and r.action in ("rollback", "archive", "demote"):
                stack = [x for x in stack if x != label]
        return stack

    def _apply(
        self, change: Change, system: str, plan: list[Transition], action: str, reason: str | None
    ) -> None:
        stages = self._stages(change.conn, system)
        rolled_back = action == "model.rolled_back"
        subject = f"system:{system}" if rolled_back else f"model:{system}/{plan[-1].version}"
        receipt = change.audit(
            action,
            subject,
            {"system": system, "transitions": [p.to_dict() for p in plan]},
            reason=reason,
        )
        now = utc_now()
        for p in plan:
            vid = stages[p.version][0]
            change.conn.execute(
                t.model_versions.update().where(t.model_versions.c.id == vid).values(stage=p.target)
            )
            change.conn.execute(
                t.stage_transitions.insert().values(
                    model_version_id=vid,
                    source=p.source,
                    target=p.target,
                    action=p.action,
                    reason=reason,
                    audit_seq=receipt.seq,
                    created_at=now,
                    created_by=self.actor,
                )
            )
        self.audit.checkpoint_in(change.conn, change.pending)
        change.receipt = receipt

    def promote(
        self, ref: str, to: str, *, reason: str | None = None, require_gate: bool = False
    ) -> list[Transition]:
        """Move a model version to stage ``to`` (see :mod:`trustops.core.lifecycle`).

        The artifact is re-hashed first: a corrupted file is never promoted.
        Promotion to production archives the version it replaces (one per
        system unless the system allows several). A checkpoint is signed in
        the same transaction. A system with an approval gate enters production
        only through it (:mod:`trustops.governance.approvals`); ``require_gate``
        applies the default gate to a system without one (the server does).
        """
        if to not in STAGES:
            raise InputError(f"unknown stage {to!r}", hint=f"stages: {', '.join(STAGES)}")
        with self.db.read() as conn:
            mv = self._model_ref(conn, ref)
        self.artifacts.verify(mv.artifact_hash)
        with self.transaction() as change:
            conn = change.conn
            mv = self._model_ref(conn, f"{mv.system}/{mv.ref}")  # re-read under the lock
            single = conn.execute(
                sa.select(t.systems.c.single_production).where(t.systems.c.name == mv.system)
            ).scalar_one()
            stages = {k: s for k, (_, s) in self._stages(conn, mv.system).items()}
            plan = plan_transition(stages, mv.ref, to, single_production=bool(single))
            if to == "production":
                from trustops.governance.approvals import enforce_gate

                enforce_gate(conn, mv.id, require=require_gate)
            self._apply(change, mv.system, plan, _ACTIONS[plan[-1].action], reason)
        return plan

    def rollback(self, system: str, *, reason: str | None = None) -> list[Transition]:
        """Put back the version that was in production before the current one."""
        with self.db.read() as conn:
            self._system_id(conn, system)
        with self.transaction() as change:
            conn = change.conn
            stages = {k: s for k, (_, s) in self._stages(conn, system).items()}
            plan = plan_rollback(stages, self._production_history(conn, system))
            restored = self._model_ref(conn, f"{system}/{plan[-1].version}")
            self.artifacts.verify(restored.artifact_hash)
            self._apply(change, system, plan, "model.rolled_back", reason)
        return plan

    def history(self, system: str) -> list[dict[str, Any]]:
        """Every stage transition of a system's model versions, oldest first."""
        st, v, m, s = t.stage_transitions.c, t.model_versions.c, t.models.c, t.systems.c
        with self.db.read() as conn:
            self._system_id(conn, system)
            rows = conn.execute(
                sa.select(m.name, v.version, st.source, st.target, st.action, st.reason,
                          st.audit_seq, st.created_at, st.created_by)
                .join(t.model_versions, v.id == st.model_version_id)
                .join(t.models, m.id == v.model_id)
                .join(t.systems, s.id == m.system_id)
                .where(s.name == system)
                .order_by(st.id)
            ).all()  # fmt: skip
        return [
            {"version": f"{r.name}@{r.version}", "from": r.source, "to": r.target,
             "action": r.action, "reason": r.reason, "audit_seq": r.audit_seq,
             "time": r.created_at, "actor": r.created_by}
            for r in rows
        ]  # fmt: skip

    # -- lineage ---------------------------------------------------------------

    def lineage(self, ref: str) -> Lineage:
        """The model version, its ancestors, and every dataset version that trained it.

        Transitively: the datasets its training data were derived from, and the
        training data of its parent versions.
        """
        with self.db.read() as conn:
            model = self._model_ref(conn, ref)
            ancestors: list[ModelVersion] = []
            seen_models = {model.id}
            current = model
            while current.parent is not None:
                nxt = self._model_ref(conn, f"{current.system}/{current.parent}")
                if nxt.id in seen_models:
                    break
                seen_models.add(nxt.id)
                ancestors.append(nxt)
                current = nxt
            md = t.model_datasets.c
            direct = conn.execute(
                sa.select(md.dataset_version_id)
                .where(md.model_version_id.in_(seen_models), md.role == "training")
            ).scalars().all()  # fmt: skip
            evaluation = (
                conn.execute(
                    sa.select(md.dataset_version_id).where(
                        md.model_version_id == model.id, md.role == "evaluation"
                    )
                )
                .scalars()
                .all()
            )
            found: dict[int, None] = {}
            queue = list(direct)
            while queue:
                vid = queue.pop(0)
                if vid in found:
                    continue
                found[vid] = None
                queue += (
                    conn.execute(
                        sa.select(t.dataset_parents.c.parent_id).where(
                            t.dataset_parents.c.child_id == vid
                        )
                    )
                    .scalars()
                    .all()
                )
            datasets = [self._dataset_row(conn, i) for i in found]
            evaluated = [self._dataset_row(conn, i) for i in dict.fromkeys(evaluation)]
        return Lineage(model, datasets, evaluated, ancestors)

    def used_by(self, ref: str, *, system: str) -> list[ModelVersion]:
        """Model versions that used a dataset version: directly, through data derived from
        it, or as descendants of a model trained on it."""
        with self.db.read() as conn:
            start = self._dataset_ref(conn, self._system_id(conn, system), ref).id
            dp, md, v = t.dataset_parents.c, t.model_datasets.c, t.model_versions.c
            datasets, queue = set(), [start]
            while queue:
                vid = queue.pop()
                if vid in datasets:
                    continue
                datasets.add(vid)
                queue += (
                    conn.execute(sa.select(dp.child_id).where(dp.parent_id == vid)).scalars().all()
                )
            used = conn.execute(
                sa.select(md.model_version_id, md.role).where(md.dataset_version_id.in_(datasets))
            ).all()
            # a child inherits what its parent was trained on, not what it was evaluated on
            trained = {mid for mid, role in used if role == "training"}
            queue = list(trained)
            while queue:
                children = (
                    conn.execute(sa.select(v.id).where(v.parent_id == queue.pop())).scalars().all()
                )
                queue += [c for c in children if c not in trained]
                trained.update(children)
            models = trained | {mid for mid, _ in used}
            return [self._model_row(conn, i) for i in sorted(models)]


def _policy_facts(dataset: DatasetVersion, records: Sequence[Evidence]) -> dict[str, Any]:
    """What a ``datasets...`` policy field sees: the version's record, plus what its newest PII
    scan found (``pii_columns``, ``pii_detected``) and ``personal_data_basis`` (the lawful
    basis of data declared personal, else None): the ``gdpr`` pack asks that data the scan
    finds personal is declared personal with a basis."""
    label = f"dataset:{dataset.system}/{dataset.ref}"
    scans = [e for e in records if e.subject == label and e.kind in ("pii_scan", "pii")]
    found = scans[-1].content.get("pii_columns") if scans else None
    facts = dataset.to_dict()
    facts["pii_columns"] = list(found) if isinstance(found, list) else []
    facts["pii_detected"] = bool(facts["pii_columns"])
    facts["personal_data_basis"] = dataset.lawful_basis if dataset.personal_data else None
    return facts


@dataclass
class Change:
    """One write transaction of the registry: its connection and its audit helper."""

    registry: Registry
    conn: Connection
    pending: Pending
    receipt: Receipt | None = None

    def audit(
        self, action: str, subject: str, payload: dict[str, Any], *, reason: str | None = None
    ) -> Receipt:
        receipt = self.registry.audit.append(
            self.conn,
            self.pending,
            actor=self.registry.actor,
            action=action,
            subject=subject,
            payload=payload,
            reason=reason,
        )
        self.registry.last_receipt = receipt
        return receipt


def _origin(db: Database) -> str:
    """The log's origin (a name fixed when the store is created): ``trustops/<uuid>``."""
    with db.read() as conn:
        value = conn.execute(sa.select(t.meta.c.value).where(t.meta.c.key == "origin")).scalar()
    if value is not None:
        return str(value)
    with db.write() as conn:
        value = conn.execute(sa.select(t.meta.c.value).where(t.meta.c.key == "origin")).scalar()
        if value is None:
            if db.dialect == "postgresql":  # serialise with other writers
                conn.execute(sa.select(t.audit_head.c.id).with_for_update())
                value = conn.execute(
                    sa.select(t.meta.c.value).where(t.meta.c.key == "origin")
                ).scalar()
            if value is None:
                value = f"trustops/{uuid.uuid4()}"
                conn.execute(t.meta.insert().values(key="origin", value=value))
    return str(value)
