"""Prediction logging: batches of predictions and, later, their labels, stored idempotently.

A batch is validated as a whole (an error names the record's index and the
field), then stored in one write transaction with one audit entry
(``predictions.logged`` or ``labels.logged``) — never one per record. Its
records are kept once, as an Arrow IPC blob (``prediction_batches``), and
each record's id and time are indexed (``predictions``) so that an id is
unique per model version, labels find their prediction and a window finds
its batches.

Idempotency (draft-ietf-httpapi-idempotency-key-header): every batch carries
a key, scoped to the principal that sends it. The key, the sha256 of the
request (kind, model, media type, body) and the response are stored in the
same transaction as the records, so:

- the same key and body again: nothing stored, the stored response returned;
- the same key with another body: refused (422), nothing stored;
- the same key while the first request is still being stored: 409, retry later.

Record layout (JSON, NDJSON)::

    {"prediction_id": "a-17", "timestamp": "2026-11-27T10:00:00Z",
     "prediction": 1, "score": 0.82, "features": {"income": 52000, ...},
     "sensitive": {"sex": "F"}, "sensitive_ref": "hr-db:applicant/17"}

``score``, ``sensitive`` and ``sensitive_ref`` (where sensitive attributes
are held when they are not sent) are optional. An Arrow IPC stream or a
Parquet file holds the same fields as columns, each feature and sensitive
attribute a column of its own (``sensitive=`` names the latter).

:meth:`Ingestion.predictions` returns logged predictions as one flat Arrow
table, the layout that ``trustops monitor run`` reads from Parquet logs:
``prediction_id``, ``timestamp`` (UTC), ``prediction``, ``score``,
``sensitive_ref``, one column per feature and sensitive attribute,
``received_at`` (when the server stored the batch) and ``label``.

Example:
    >>> import tempfile, pyarrow as pa
    >>> from trustops.governance import Registry, init_workspace
    >>> reg = Registry.open(init_workspace(tempfile.mkdtemp(), actor="alice").project)
    >>> _ = reg.create_system("credit")
    >>> _ = reg.register_model(b"weights", system="credit", name="scorer")
    >>> log = Ingestion(reg)
    >>> records = [{"prediction_id": "a1", "timestamp": "2026-11-27T10:00:00Z",
    ...             "prediction": 1, "score": 0.8, "features": {"income": 52000},
    ...             "sensitive": {"sex": "F"}}]
    >>> log.log_predictions("scorer@1", records, key="batch-1").body["accepted"]
    1
    >>> log.log_predictions("scorer@1", records, key="batch-1").replayed
    True
    >>> _ = log.log_labels("scorer@1", [{"prediction_id": "a1", "label": 0}], key="labels-1")
    >>> log.predictions("scorer@1").select(["prediction_id", "sex", "label"]).to_pylist()
    [{'prediction_id': 'a1', 'sex': 'F', 'label': 0}]
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import threading
import weakref
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from trustops.core.audit import canonical_json
from trustops.errors import InputError, TrustOpsError, UsageError
from trustops.governance import schema as t
from trustops.governance.auditlog import utc_now
from trustops.governance.database import insert_id
from trustops.governance.registry import ConflictError, Registry
from trustops.monitoring.records import (
    JSON,
    SENSITIVE_META,
    LabelRecords,
    RecordError,
    as_body,
    ipc_bytes,
    label_records,
    predictions_table,
    sensitive_columns,
    times_text,
    utc_text,
    utc_time,
    value_column,
)

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = [
    "DuplicateRecordError",
    "IdempotencyError",
    "InFlightError",
    "IngestResponse",
    "Ingestion",
]

_MAX_KEY = 200


class IdempotencyError(InputError):
    """An Idempotency-Key already used for a different request (HTTP 422)."""


class InFlightError(ConflictError):
    """A request with this Idempotency-Key is still being stored (HTTP 409): retry later."""


class DuplicateRecordError(ConflictError):
    """A prediction id already logged, or a prediction already labelled (HTTP 409)."""


@dataclass(frozen=True, slots=True)
class IngestResponse:
    """What the API answers: ``status``, the JSON ``body``, and whether it is a replay."""

    status: int
    body: dict[str, Any]
    replayed: bool


@dataclass(frozen=True, slots=True)
class _Version:
    id: int
    ref: str  # SYSTEM/NAME@VERSION


# Model versions never change once registered: a reference with its version is resolved once.
_versions: dict[tuple[str, str], _Version] = {}

# Keys being stored by this process: a duplicate arriving meanwhile gets 409.
_in_flight: set[tuple[str, str, str]] = set()
_in_flight_lock = threading.Lock()


class Ingestion:
    """Log predictions and labels for model versions of ``registry``, and read them back.

    The key's owner is ``registry.actor`` (the server opens a registry per
    request whose actor is the authenticated user).
    """

    def __init__(self, registry: Registry) -> None:
        self.registry = registry

    # -- writing -----------------------------------------------------------------

    def log_predictions(
        self,
        model: str,
        data: bytes | Sequence[Mapping[str, Any]] | pa.Table,
        *,
        key: str,
        media_type: str = JSON,
        sensitive: Sequence[str] = (),
    ) -> IngestResponse:
        """Store a batch of predictions for ``model`` (``NAME@V`` or ``SYSTEM/NAME@V``).

        ``data`` is a request body in ``media_type``, a list of records, or an
        Arrow table (``sensitive`` names its sensitive-attribute columns).
        """
        body, media_type = as_body(data, media_type)
        request = _request_hash("predictions", model, media_type, sorted(sensitive), body)
        with self._claim(key) as principal:
            version = self._version(model)
            table = predictions_table(body, media_type, sensitive)
            store = functools.partial(
                self._store_predictions, principal=principal, key=key, request=request,
                mv=version, table=table,
            )  # fmt: skip
            return _stored_together(self.registry, key, store)

    def log_labels(
        self,
        model: str,
        data: bytes | Sequence[Mapping[str, Any]] | pa.Table,
        *,
        key: str,
        media_type: str = JSON,
    ) -> IngestResponse:
        """Store ground-truth labels for predictions of ``model``, joined by prediction id.

        A record is ``{"prediction_id", "label", "timestamp"?}`` (when the
        outcome was observed; the time of storing if absent).
        """
        body, media_type = as_body(data, media_type)
        request = _request_hash("labels", model, media_type, [], body)
        with self._claim(key) as principal:
            version = self._version(model)
            records = label_records(body, media_type)
            store = functools.partial(
                self._store_labels, principal=principal, key=key, request=request,
                mv=version, records=records,
            )  # fmt: skip
            return _stored_together(self.registry, key, store)

    @contextlib.contextmanager
    def _claim(self, key: str) -> Iterator[str]:
        if not isinstance(key, str) or not key or len(key) > _MAX_KEY or not key.isprintable():
            raise UsageError(
                "an Idempotency-Key is required: 1 to 200 printable characters",
                hint="send a new UUID per batch, and the same one when retrying it",
            )
        principal = self.registry.actor
        claim = (str(self.registry.db.engine.url), principal, key)
        with _in_flight_lock:
            if claim in _in_flight:
                raise InFlightError(
                    f"a request with Idempotency-Key {key!r} is still being stored",
                    hint="retry it later with the same key",
                )
            _in_flight.add(claim)
        try:
            yield principal
        finally:
            with _in_flight_lock:
                _in_flight.discard(claim)

    def _version(self, model: str) -> _Version:
        """The model version ``model`` names (an explicit version is looked up once)."""
        cache_key = (str(self.registry.db.engine.url), model)
        found = _versions.get(cache_key)
        if found is None:
            mv = self.registry.model(model)
            found = _Version(mv.id, f"{mv.system}/{mv.ref}")
            if "@" in model:  # NAME alone means the latest, which changes
                _versions[cache_key] = found
        return found

    def _audit(self, change: Any, action: str, subject: str, payload: dict[str, Any]) -> Any:
        """The batch's audit entry, by this registry's actor (the transaction may be shared)."""
        return self.registry.audit.append(
            change.conn, change.pending, actor=self.registry.actor, action=action,
            subject=subject, payload=payload,
        )  # fmt: skip

    @staticmethod
    def _request_row(
        change: Any, principal: str, key: str, request: str, kind: str, mv: _Version, n: int,
        response: dict[str, Any],
    ) -> int:  # fmt: skip
        """Store the request's key, hash and response (in the transaction of its records)."""
        row = {
            "principal": principal,
            "idempotency_key": key,
            "request_hash": request,
            "kind": kind,
            "model_version_id": mv.id,
            "record_count": n,
            "response": canonical_json(response).decode(),
            "created_at": utc_now(),
        }
        return insert_id(change.conn, t.ingest_requests.insert(), row)

    def _store_predictions(
        self, change: Any, principal: str, key: str, request: str, mv: _Version, table: pa.Table
    ) -> IngestResponse:
        ids = table.column("prediction_id").to_pylist()
        times = times_text(table.column("timestamp"))
        ref = mv.ref
        stored = _replay(change.conn, principal, key, request)
        if stored is not None:
            return stored
        conn = change.conn
        taken = conn.execute(_TAKEN, {"mv": mv.id, "ids": ids}).scalar()
        if taken is not None:
            raise DuplicateRecordError(
                f"record {ids.index(taken)}: prediction id {taken!r} is already logged for {ref}"
            )
        first, last = min(times), max(times)
        payload = {
            "model": ref,
            "accepted": len(ids),
            "first": first,
            "last": last,
            "idempotency_key": key,
            "request_sha256": request,
        }
        receipt = self._audit(change, "predictions.logged", f"model:{ref}", payload)
        body = {**payload, "audit_seq": receipt.seq}
        del body["request_sha256"]
        request_id = self._request_row(
            change, principal, key, request, "predictions", mv, len(ids), body
        )
        batch = insert_id(
            conn,
            t.prediction_batches.insert(),
            {
                "request_id": request_id,
                "model_version_id": mv.id,
                "row_count": len(ids),
                "first_time": first,
                "last_time": last,
                "data": ipc_bytes(table),
            },
        )
        conn.execute(
            t.predictions.insert(),
            [
                {
                    "model_version_id": mv.id,
                    "prediction_id": pid,
                    "batch_id": batch,
                    "position": i,
                    "time": when,
                }
                for i, (pid, when) in enumerate(zip(ids, times, strict=True))
            ],
        )
        return IngestResponse(201, body, replayed=False)

    def _store_labels(
        self,
        change: Any,
        principal: str,
        key: str,
        request: str,
        mv: _Version,
        records: LabelRecords,
    ) -> IngestResponse:
        ref = mv.ref
        now = utc_now()
        stored = _replay(change.conn, principal, key, request)
        if stored is not None:
            return stored
        conn = change.conn
        p, lab = t.predictions.c, t.labels.c
        rows = dict(
            conn.execute(
                sa.select(p.prediction_id, p.id).where(
                    p.model_version_id == mv.id, p.prediction_id.in_(records.ids)
                )
            ).all()
        )
        for i, pid in enumerate(records.ids):
            if pid not in rows:
                raise RecordError(i, "prediction_id", f"prediction {pid!r} is not logged for {ref}")
        labelled = conn.execute(
            sa.select(lab.prediction_row).where(lab.prediction_row.in_(rows.values())).limit(1)
        ).scalar()
        if labelled is not None:
            pid = next(k for k, v in rows.items() if v == labelled)
            raise DuplicateRecordError(
                f"record {records.ids.index(pid)}: prediction {pid!r} of {ref} already has a label"
            )
        payload = {
            "model": ref,
            "accepted": len(records.ids),
            "idempotency_key": key,
            "request_sha256": request,
        }
        receipt = self._audit(change, "labels.logged", f"model:{ref}", payload)
        body = {**payload, "audit_seq": receipt.seq}
        del body["request_sha256"]
        request_id = self._request_row(
            change, principal, key, request, "labels", mv, len(records.ids), body
        )
        conn.execute(
            t.labels.insert(),
            [
                {
                    "prediction_row": rows[pid],
                    "request_id": request_id,
                    "label": label,
                    "time": when or now,
                }
                for pid, label, when in zip(records.ids, records.labels, records.times, strict=True)
            ],
        )
        return IngestResponse(201, body, replayed=False)

    # -- reading -----------------------------------------------------------------

    def predictions(
        self,
        model: str,
        *,
        start: str | datetime | None = None,
        end: str | datetime | None = None,
        received_before: str | datetime | None = None,
    ) -> pa.Table:
        """The predictions of ``model`` with ``start <= timestamp < end``, labels joined.

        ``received_before`` leaves out batches stored at or after that time,
        so that a window evaluated again later sees the same records (late
        data arrives in later batches). Rows are in the order they were
        stored. Columns: see the module's docstring.
        """
        import pyarrow as pa
        import pyarrow.compute as pc

        low = _time_bound(start, "start")
        high = _time_bound(end, "end")
        received = _time_bound(received_before, "received_before")
        mv = self.registry.model(model)
        b, r, p, lab = t.prediction_batches.c, t.ingest_requests.c, t.predictions.c, t.labels.c
        query = (
            sa.select(b.data, r.created_at)
            .join(t.ingest_requests, r.id == b.request_id)
            .where(b.model_version_id == mv.id)
        )
        labels_query = (
            sa.select(p.prediction_id, lab.label)
            .join(t.labels, lab.prediction_row == p.id)
            .join(t.ingest_requests, r.id == lab.request_id)
            .where(p.model_version_id == mv.id)
        )
        if low is not None:
            query = query.where(b.last_time >= low)
            labels_query = labels_query.where(p.time >= low)
        if high is not None:
            query = query.where(b.first_time < high)
            labels_query = labels_query.where(p.time < high)
        if received is not None:
            query = query.where(r.created_at < received)
            labels_query = labels_query.where(r.created_at < received)
        with self.registry.db.read() as conn:
            batches = conn.execute(query.order_by(b.id)).all()
            labelled = conn.execute(labels_query).all()
        tables = []
        for blob, created_at in batches:
            batch = pa.ipc.open_stream(blob).read_all()
            arrived = pa.scalar(_parse_bound(created_at), pa.timestamp("us", "UTC"))
            tables.append(batch.append_column("received_at", pa.repeat(arrived, batch.num_rows)))
        sensitive = sorted({n for tb in tables for n in sensitive_columns(tb)})
        table = _concat(tables) if tables else _empty_predictions()
        keep = None
        stamps = table.column("timestamp")
        if low is not None:
            keep = pc.greater_equal(stamps, pa.scalar(_parse_bound(low), stamps.type))
        if high is not None:
            below = pc.less(stamps, pa.scalar(_parse_bound(high), stamps.type))
            keep = below if keep is None else pc.and_(keep, below)
        if keep is not None:
            table = table.filter(keep)
        found = {pid: json.loads(label) for pid, label in labelled}
        label_values = [found.get(pid) for pid in table.column("prediction_id").to_pylist()]
        table = table.append_column("label", value_column(label_values, "label"))
        meta = {SENSITIVE_META: json.dumps(sensitive).encode()}
        return table.replace_schema_metadata(meta)


# -- requests and responses ------------------------------------------------------


# -- group commit ------------------------------------------------------------------


@dataclass(eq=False)
class _Job:
    registry: Registry
    store: Callable[[Any], IngestResponse]  # runs in the (shared) write transaction
    ready: threading.Event = field(default_factory=threading.Event)
    lead: bool = False
    response: IngestResponse | None = None
    error: BaseException | None = None


@dataclass(eq=False)
class _Group:
    lock: threading.Lock = field(default_factory=threading.Lock)
    waiting: list[_Job] = field(default_factory=list)
    busy: bool = False


# By audit log (the registries of one store share theirs); gone with it.
_groups: weakref.WeakKeyDictionary[Any, _Group] = weakref.WeakKeyDictionary()
_groups_lock = threading.Lock()


def _stored_together(
    registry: Registry, key: str, store: Callable[[Any], IngestResponse]
) -> IngestResponse:
    """Run ``store`` in a write transaction shared with the batches waiting beside it.

    Group commit: while one thread writes, batches that arrive queue up; the
    next writer stores them all in one transaction — each in a savepoint of
    its own, with its own audit entry and idempotency row — and one commit,
    so concurrent posts share a write lock and an fsync. A batch refused for
    its content fails alone; a failure of the transaction fails them all,
    with the 409 a retry resolves.
    """
    with _groups_lock:
        group = _groups.setdefault(registry.audit, _Group())
    job = _Job(registry, store)
    with group.lock:
        group.waiting.append(job)
        if not group.busy:
            group.busy = job.lead = True
    if not job.lead:
        job.ready.wait()
    if job.lead:  # the first to come, or promoted by the previous writer
        _write(group)
    if job.error is not None:
        raise job.error
    assert job.response is not None
    return job.response


def _write(group: _Group) -> None:
    with group.lock:
        jobs, group.waiting = group.waiting, []
    try:
        with jobs[0].registry.transaction() as change:
            for job in jobs:
                if len(jobs) == 1:
                    job.response = job.store(change)
                    continue
                savepoint = change.conn.begin_nested()
                try:
                    job.response = job.store(change)
                except TrustOpsError as exc:  # refused before it wrote: it fails alone
                    savepoint.rollback()
                    job.error = exc
                else:
                    savepoint.commit()
    except TrustOpsError as exc:
        for job in jobs:
            job.error = job.error or exc
    except sa.exc.IntegrityError:  # a key or id stored by another process meanwhile
        for job in jobs:
            job.error = InFlightError(
                "the batch raced another one for the same key or prediction ids",
                hint="retry it later with the same key",
            )
    except BaseException as exc:
        for job in jobs:
            job.error = exc
    finally:
        for job in jobs:
            if job.error is not None:
                job.response = None
            job.lead = False
            job.ready.set()
        with group.lock:
            if group.waiting:
                following = group.waiting[0]
                following.lead = True
                following.ready.set()
            else:
                group.busy = False


# -- requests and responses ------------------------------------------------------


def _request_hash(kind: str, model: str, media_type: str, extra: list[str], body: bytes) -> str:
    head = canonical_json([kind, model, media_type, extra])
    return hashlib.sha256(head + b"\n" + body).hexdigest()


# The statements of every batch, built once (a request only binds their parameters).
_p, _r = t.predictions.c, t.ingest_requests.c
_TAKEN = (
    sa.select(_p.prediction_id)
    .where(
        _p.model_version_id == sa.bindparam("mv"),
        _p.prediction_id.in_(sa.bindparam("ids", expanding=True)),
    )
    .limit(1)
)
_STORED = sa.select(_r.request_hash, _r.response).where(
    _r.principal == sa.bindparam("principal"), _r.idempotency_key == sa.bindparam("key")
)


def _replay(conn: Any, principal: str, key: str, request: str) -> IngestResponse | None:
    row = conn.execute(_STORED, {"principal": principal, "key": key}).first()
    if row is None:
        return None
    if row.request_hash != request:
        raise IdempotencyError(
            f"Idempotency-Key {key!r} was used for a different request",
            hint="use a new key for a new batch",
        )
    return IngestResponse(201, json.loads(row.response), replayed=True)


# -- storage helpers ---------------------------------------------------------------


def _time_bound(value: str | datetime | None, field: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise UsageError(f"{field}: a time needs a time zone")
        return utc_text(value.astimezone(UTC))
    try:
        return utc_text(utc_time(value, 0, field))
    except RecordError as exc:
        raise UsageError(f"{field}: {exc.message.split(': ', 1)[1]}") from None


def _parse_bound(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def _concat(tables: list[pa.Table]) -> pa.Table:
    """Batches as one table: a column missing from a batch is null there, ints widen to floats."""
    import pyarrow as pa

    try:
        return pa.concat_tables(tables, promote_options="permissive")
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        kinds: dict[str, pa.DataType] = {}
        for table in tables:
            for column in table.schema:
                seen = kinds.setdefault(column.name, column.type)
                if seen != column.type and not pa.types.is_null(column.type):
                    raise InputError(
                        f"column {column.name!r} holds {seen} in one batch and {column.type} "
                        "in another",
                        hint="log each feature with one type",
                    ) from None
        raise


def _empty_predictions() -> pa.Table:
    import pyarrow as pa

    return pa.table(
        {
            "prediction_id": pa.array([], pa.string()),
            "timestamp": pa.array([], pa.timestamp("us", "UTC")),
            "prediction": pa.array([], pa.null()),
            "score": pa.array([], pa.float64()),
            "sensitive_ref": pa.array([], pa.string()),
            "received_at": pa.array([], pa.timestamp("us", "UTC")),
        }
    )
