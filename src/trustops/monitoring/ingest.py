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
import hashlib
import json
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from trustops.core.audit import canonical_json
from trustops.errors import InputError, UsageError
from trustops.governance import schema as t
from trustops.governance.auditlog import utc_now
from trustops.governance.registry import ConflictError, Registry

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = [
    "FIELDS",
    "MEDIA_TYPES",
    "IdempotencyError",
    "InFlightError",
    "IngestResponse",
    "Ingestion",
    "RecordError",
]

JSON = "application/json"
NDJSON = "application/x-ndjson"
ARROW = "application/vnd.apache.arrow.stream"
PARQUET = "application/vnd.apache.parquet"
MEDIA_TYPES = (JSON, NDJSON, ARROW, PARQUET)
FIELDS = ("prediction_id", "timestamp", "prediction", "score", "sensitive_ref")
"""The record's own columns; every other column is a feature or a sensitive attribute."""
_RESERVED = frozenset((*FIELDS, "label", "features", "sensitive", "model"))
_RECORD_KEYS = frozenset((*FIELDS, "features", "sensitive"))
_LABEL_KEYS = frozenset(("prediction_id", "label", "timestamp"))
_SCALARS = (str, int, float, bool)
MAX_RECORDS = 100_000
_MAX_NAME = 200
_SENSITIVE_META = b"trustops.sensitive"


class RecordError(InputError):
    """A record of a batch that cannot be stored: ``index`` and ``field`` say which."""

    def __init__(self, index: int, field: str | None, message: str) -> None:
        where = f"record {index}" + (f", field {field!r}" if field else "")
        super().__init__(f"{where}: {message}")
        self.index = index
        self.field = field


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
        body, media_type = _as_body(data, media_type)
        request = _request_hash("predictions", model, media_type, sorted(sensitive), body)
        with self._claim(key) as principal:
            stored = self._stored(principal, key, request)
            if stored is not None:
                return stored
            version = self._version(model)
            table = _predictions_table(body, media_type, sensitive)
            with _lost_race(key):
                return self._store_predictions(principal, key, request, version, table)

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
        body, media_type = _as_body(data, media_type)
        request = _request_hash("labels", model, media_type, [], body)
        with self._claim(key) as principal:
            stored = self._stored(principal, key, request)
            if stored is not None:
                return stored
            version = self._version(model)
            records = _label_records(body, media_type)
            with _lost_race(key):
                return self._store_labels(principal, key, request, version, records)

    @contextlib.contextmanager
    def _claim(self, key: str) -> Iterator[str]:
        if not isinstance(key, str) or not key or len(key) > _MAX_NAME or not key.isprintable():
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

    def _stored(self, principal: str, key: str, request: str) -> IngestResponse | None:
        with self.registry.db.read() as conn:
            return _replay(conn, principal, key, request)

    def _begin(
        self, change: Any, principal: str, key: str, request: str, kind: str, mv: _Version, n: int
    ) -> tuple[int | None, IngestResponse | None]:
        """Insert the request's row, unless another process stored the key meanwhile."""
        stored = _replay(change.conn, principal, key, request)
        if stored is not None:
            return None, stored
        row = {
            "principal": principal,
            "idempotency_key": key,
            "request_hash": request,
            "kind": kind,
            "model_version_id": mv.id,
            "record_count": n,
            "response": "",
            "created_at": utc_now(),
        }
        return _insert(change.conn, t.ingest_requests.insert().values(**row)), None

    def _store_predictions(
        self, principal: str, key: str, request: str, mv: _Version, table: pa.Table
    ) -> IngestResponse:
        ids = table.column("prediction_id").to_pylist()
        times = _times_text(table.column("timestamp"))
        ref = mv.ref
        with self.registry.transaction() as change:
            request_id, stored = self._begin(
                change, principal, key, request, "predictions", mv, len(ids)
            )
            if stored is not None:
                return stored
            conn = change.conn
            p = t.predictions.c
            taken = conn.execute(
                sa.select(p.prediction_id)
                .where(p.model_version_id == mv.id, p.prediction_id.in_(ids))
                .limit(1)
            ).scalar()
            if taken is not None:
                raise DuplicateRecordError(
                    f"record {ids.index(taken)}: prediction id {taken!r} is already logged "
                    f"for {ref}"
                )
            first, last = min(times), max(times)
            batch = _insert(
                conn,
                t.prediction_batches.insert().values(
                    request_id=request_id,
                    model_version_id=mv.id,
                    row_count=len(ids),
                    first_time=first,
                    last_time=last,
                    data=_ipc_bytes(table),
                ),
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
            payload = {
                "model": ref,
                "accepted": len(ids),
                "first": first,
                "last": last,
                "idempotency_key": key,
                "request_sha256": request,
            }
            receipt = change.audit("predictions.logged", f"model:{ref}", payload)
            body = {**payload, "audit_seq": receipt.seq}
            del body["request_sha256"]
            _respond(conn, request_id, body)
        return IngestResponse(201, body, replayed=False)

    def _store_labels(
        self, principal: str, key: str, request: str, mv: _Version, records: _Labels
    ) -> IngestResponse:
        ref = mv.ref
        now = utc_now()
        with self.registry.transaction() as change:
            request_id, stored = self._begin(
                change, principal, key, request, "labels", mv, len(records.ids)
            )
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
                    raise RecordError(
                        i, "prediction_id", f"prediction {pid!r} is not logged for {ref}"
                    )
            labelled = conn.execute(
                sa.select(lab.prediction_row).where(lab.prediction_row.in_(rows.values())).limit(1)
            ).scalar()
            if labelled is not None:
                pid = next(k for k, v in rows.items() if v == labelled)
                raise DuplicateRecordError(
                    f"record {records.ids.index(pid)}: prediction {pid!r} of {ref} "
                    "already has a label"
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
                    for pid, label, when in zip(
                        records.ids, records.labels, records.times, strict=True
                    )
                ],
            )
            payload = {
                "model": ref,
                "accepted": len(records.ids),
                "idempotency_key": key,
                "request_sha256": request,
            }
            receipt = change.audit("labels.logged", f"model:{ref}", payload)
            body = {**payload, "audit_seq": receipt.seq}
            del body["request_sha256"]
            _respond(conn, request_id, body)
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
        sensitive = sorted({n for tb in tables for n in _sensitive_names(tb)})
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
        table = table.append_column("label", _column(label_values, "label"))
        meta = {_SENSITIVE_META: json.dumps(sensitive).encode()}
        return table.replace_schema_metadata(meta)


def sensitive_columns(table: pa.Table) -> list[str]:
    """The sensitive-attribute columns of a table read by :meth:`Ingestion.predictions`."""
    return _sensitive_names(table)


# -- requests and responses ------------------------------------------------------


@contextlib.contextmanager
def _lost_race(key: str) -> Iterator[None]:
    """A unique key or id stored by another process meanwhile: 409, and a retry will tell."""
    try:
        yield
    except sa.exc.IntegrityError:
        raise InFlightError(
            f"a request with Idempotency-Key {key!r} raced another one",
            hint="retry it later with the same key",
        ) from None


def _as_body(data: Any, media_type: str) -> tuple[bytes, str]:
    media_type = media_type.split(";", 1)[0].strip().lower()
    if isinstance(data, bytes | bytearray | memoryview):
        if media_type not in MEDIA_TYPES:
            raise UsageError(
                f"unsupported media type {media_type!r}",
                hint=f"send one of {', '.join(MEDIA_TYPES)}",
            )
        return bytes(data), media_type
    if isinstance(data, Sequence) and not isinstance(data, str):
        try:
            return json.dumps(list(data), separators=(",", ":")).encode(), JSON
        except (TypeError, ValueError) as exc:
            raise InputError(f"the records are not JSON: {exc}") from None
    if type(data).__module__.startswith("pyarrow"):
        return _ipc_bytes(data), ARROW
    raise UsageError(f"cannot log {type(data).__name__}: give records, an Arrow table or bytes")


def _request_hash(kind: str, model: str, media_type: str, extra: list[str], body: bytes) -> str:
    head = canonical_json([kind, model, media_type, extra])
    return hashlib.sha256(head + b"\n" + body).hexdigest()


def _replay(conn: Any, principal: str, key: str, request: str) -> IngestResponse | None:
    r = t.ingest_requests.c
    row = conn.execute(
        sa.select(r.request_hash, r.response).where(
            r.principal == principal, r.idempotency_key == key
        )
    ).first()
    if row is None:
        return None
    if row.request_hash != request:
        raise IdempotencyError(
            f"Idempotency-Key {key!r} was used for a different request",
            hint="use a new key for a new batch",
        )
    return IngestResponse(201, json.loads(row.response), replayed=True)


def _respond(conn: Any, request_id: int | None, body: dict[str, Any]) -> None:
    r = t.ingest_requests.c
    conn.execute(
        t.ingest_requests.update()
        .where(r.id == request_id)
        .values(response=canonical_json(body).decode())
    )


# -- parsing and validation --------------------------------------------------------


def _records(body: bytes, media_type: str, what: str) -> list[Any]:
    """The JSON records of a JSON (array, or object holding ``what``) or NDJSON body."""
    if media_type == NDJSON:
        records = []
        for line_no, line in enumerate(body.splitlines(), 1):
            if line.strip():
                try:
                    records.append(json.loads(line))
                except ValueError as exc:
                    raise InputError(f"line {line_no} is not JSON: {exc}") from None
    else:
        try:
            parsed = json.loads(body)
        except ValueError as exc:
            raise InputError(f"the body is not JSON: {exc}") from None
        if isinstance(parsed, dict) and set(parsed) == {what}:
            parsed = parsed[what]
        if not isinstance(parsed, list):
            raise InputError(f'the body must be a JSON array of records or {{"{what}": [...]}}')
        records = parsed
    if not records:
        raise InputError("the batch holds no records")
    if len(records) > MAX_RECORDS:
        raise InputError(f"the batch holds {len(records)} records; at most {MAX_RECORDS}")
    return records


def _timestamp(value: Any, index: int, field: str = "timestamp") -> datetime:
    if not isinstance(value, str):
        raise RecordError(index, field, "must be an ISO-8601 time with a UTC offset")
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        raise RecordError(index, field, f"{value!r} is not an ISO-8601 time") from None
    if when.tzinfo is None:
        raise RecordError(index, field, f"{value!r} has no UTC offset (add 'Z' or '+00:00')")
    return when.astimezone(UTC)


def _name(name: Any, index: int, field: str) -> str:
    if not isinstance(name, str) or not name or len(name) > _MAX_NAME:
        raise RecordError(index, field, f"column names are 1 to {_MAX_NAME} characters")
    if name in _RESERVED:
        raise RecordError(index, field, f"{name!r} is reserved for the record's own fields")
    return name


def _predictions_table(body: bytes, media_type: str, sensitive: Sequence[str]) -> pa.Table:
    if media_type in (ARROW, PARQUET):
        return _table_upload(body, media_type, sensitive)
    if sensitive:
        raise UsageError("sensitive= names columns of an Arrow or Parquet upload only")
    records = _records(body, media_type, "predictions")
    ids: list[str] = []
    times: list[datetime] = []
    outputs: list[Any] = []
    scores: list[Any] = []
    refs: list[Any] = []
    columns: dict[str, list[Any]] = {}
    roles: dict[str, str] = {}
    seen: dict[str, int] = {}
    for i, record in enumerate(records):
        if type(record) is not dict:
            raise RecordError(i, None, "must be a JSON object")
        extra = record.keys() - _RECORD_KEYS
        if extra:
            raise RecordError(i, sorted(extra)[0], "is not a field of a prediction record")
        pid = record.get("prediction_id")
        if type(pid) is not str or not pid or len(pid) > _MAX_NAME:
            raise RecordError(
                i, "prediction_id", f"must be a string of 1 to {_MAX_NAME} characters"
            )
        if pid in seen:
            raise RecordError(i, "prediction_id", f"{pid!r} repeats record {seen[pid]}")
        seen[pid] = i
        ids.append(pid)
        times.append(_timestamp(record.get("timestamp"), i))
        output = record.get("prediction")
        if type(output) not in _SCALARS or output != output:  # NaN is not a prediction
            raise RecordError(i, "prediction", "must be a number, string or boolean")
        outputs.append(output)
        score = record.get("score")
        if score is not None and (type(score) not in (int, float) or not -1e308 < score < 1e308):
            raise RecordError(i, "score", "must be a finite number or null")
        scores.append(score)
        ref = record.get("sensitive_ref")
        if ref is not None and (type(ref) is not str or len(ref) > 500):
            raise RecordError(i, "sensitive_ref", "must be a string of at most 500 characters")
        refs.append(ref)
        for role in ("features", "sensitive"):
            values = record.get(role)
            if values is None and role == "sensitive":
                continue
            if type(values) is not dict:
                raise RecordError(i, role, "must be an object of name: value")
            for name, value in values.items():
                if value is not None and type(value) not in _SCALARS:
                    raise RecordError(
                        i, f"{role}.{name}", "must be a number, string, boolean or null"
                    )
                column = columns.get(name)
                if column is None:
                    _name(name, i, role)
                    roles[name] = role
                    column = columns[name] = [None] * i
                elif roles[name] != role:
                    raise RecordError(
                        i, f"{role}.{name}", "is both a feature and a sensitive attribute"
                    )
                elif len(column) > i:
                    raise RecordError(i, f"{role}.{name}", "appears twice")
                column.append(value)
        for column in columns.values():
            if len(column) <= i:
                column.append(None)
    import pyarrow as pa

    arrays = {
        "prediction_id": pa.array(ids, pa.string()),
        "timestamp": pa.array(times, pa.timestamp("us", "UTC")),
        "prediction": _column(outputs, "prediction", records),
        "score": pa.array(scores, pa.float64()),
        "sensitive_ref": pa.array(refs, pa.string()),
    }
    for name, values in columns.items():
        arrays[name] = _column(values, f"{roles[name]}.{name}", records)
    names = sorted(n for n in columns if roles[n] == "sensitive")
    return pa.table(arrays, metadata={_SENSITIVE_META: json.dumps(names).encode()})


def _column(values: list[Any], field: str, records: Sequence[Any] = ()) -> pa.Array:
    """One Arrow column of ``values``; a mix of kinds is an error naming the first misfit."""
    import pyarrow as pa

    try:
        return pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
        kinds = [_kind(v) for v in values]
        first = next(k for k in kinds if k is not None)
        index = next(i for i, k in enumerate(kinds) if k not in (None, first))
        raise RecordError(
            index, field, f"is a {kinds[index]} where earlier records hold a {first}"
        ) from None


def _kind(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "boolean"
    return "number" if isinstance(value, int | float) else "string"


def _table_upload(body: bytes, media_type: str, sensitive: Sequence[str]) -> pa.Table:
    import pyarrow as pa
    import pyarrow.compute as pc

    table = _read_table(body, media_type)
    if table.num_rows == 0:
        raise InputError("the batch holds no records")
    names = table.column_names
    for name in ("prediction_id", "timestamp", "prediction"):
        if name not in names:
            raise InputError(
                f"column {name!r} is missing", hint="see the record layout in the docs"
            )
    if len(set(names)) != len(names):
        raise InputError("the table repeats a column name")
    for name in names:
        if name not in FIELDS:
            _name(name, 0, name)
    for name in sensitive:
        if name not in names or name in FIELDS:
            raise InputError(f"sensitive column {name!r} is not a feature column of the table")
    table = table.combine_chunks()
    ids = table.column("prediction_id")
    if not pa.types.is_string(ids.type) and not pa.types.is_large_string(ids.type):
        raise InputError("column 'prediction_id' must hold strings")
    lengths = pc.utf8_length(ids.fill_null(""))
    bad = pc.or_(pc.equal(lengths, 0), pc.greater(lengths, _MAX_NAME))
    if pc.any(bad).as_py():
        index = pc.index(bad, True).as_py()
        raise RecordError(
            index, "prediction_id", f"must be a string of 1 to {_MAX_NAME} characters"
        )
    if pc.count_distinct(ids).as_py() != len(ids):
        values = ids.to_pylist()
        seen: dict[str, int] = {}
        for i, pid in enumerate(values):
            if pid in seen:
                raise RecordError(i, "prediction_id", f"{pid!r} repeats record {seen[pid]}")
            seen[pid] = i
    stamps = table.column("timestamp")
    if not pa.types.is_timestamp(stamps.type) or stamps.type.tz is None:
        raise InputError(
            "column 'timestamp' must be a timestamp with a time zone",
            hint="e.g. pandas: df['timestamp'] = df['timestamp'].dt.tz_localize('UTC')",
        )
    for name in ("timestamp", "prediction"):
        column = table.column(name)
        if column.null_count:
            raise RecordError(pc.index(column.is_null(), True).as_py(), name, "is missing")
    columns = {
        "prediction_id": pc.cast(ids, pa.string()),
        "timestamp": pc.cast(stamps, pa.timestamp("us", "UTC")),
        "prediction": table.column("prediction"),
        "score": pc.cast(table.column("score"), pa.float64())
        if "score" in names
        else pa.nulls(table.num_rows, pa.float64()),
        "sensitive_ref": pc.cast(table.column("sensitive_ref"), pa.string())
        if "sensitive_ref" in names
        else pa.nulls(table.num_rows, pa.string()),
    }
    for name in names:
        if name not in FIELDS:
            columns[name] = table.column(name)
    meta = {_SENSITIVE_META: json.dumps(sorted(sensitive)).encode()}
    return pa.table(columns, metadata=meta)


@dataclass(frozen=True, slots=True)
class _Labels:
    ids: list[str]
    labels: list[str]  # JSON scalars
    times: list[str | None]


def _label_records(body: bytes, media_type: str) -> _Labels:
    if media_type in (ARROW, PARQUET):
        table = _read_table(body, media_type)
        for name in ("prediction_id", "label"):
            if name not in table.column_names:
                raise InputError(f"column {name!r} is missing")
        records: list[Any] = table.to_pylist()
        for record in records:
            if isinstance(record.get("timestamp"), datetime):
                record["timestamp"] = record["timestamp"].isoformat()
    else:
        records = _records(body, media_type, "labels")
    ids: list[str] = []
    labels: list[str] = []
    times: list[str | None] = []
    seen: dict[str, int] = {}
    for i, record in enumerate(records):
        if type(record) is not dict:
            raise RecordError(i, None, "must be a JSON object")
        extra = record.keys() - _LABEL_KEYS
        if extra:
            raise RecordError(i, sorted(extra)[0], "is not a field of a label record")
        pid = record.get("prediction_id")
        if type(pid) is not str or not pid or len(pid) > _MAX_NAME:
            raise RecordError(
                i, "prediction_id", f"must be a string of 1 to {_MAX_NAME} characters"
            )
        if pid in seen:
            raise RecordError(i, "prediction_id", f"{pid!r} repeats record {seen[pid]}")
        seen[pid] = i
        label = record.get("label")
        if type(label) not in _SCALARS or label != label:
            raise RecordError(i, "label", "must be a number, string or boolean")
        when = record.get("timestamp")
        ids.append(pid)
        labels.append(json.dumps(label))
        times.append(None if when is None else _text(_timestamp(when, i)))
    return _Labels(ids, labels, times)


def _read_table(body: bytes, media_type: str) -> pa.Table:
    import pyarrow as pa

    try:
        if media_type == ARROW:
            return pa.ipc.open_stream(body).read_all()
        import pyarrow.parquet as pq

        return pq.read_table(pa.BufferReader(body))
    except (pa.ArrowException, OSError) as exc:
        kind = "an Arrow IPC stream" if media_type == ARROW else "a Parquet file"
        raise InputError(f"the body is not {kind}: {exc}") from None


# -- storage helpers ---------------------------------------------------------------


def _insert(conn: Any, statement: Any) -> int:
    """Run an INSERT and return the new row's id."""
    return int(conn.execute(statement).inserted_primary_key[0])


def _ipc_bytes(table: pa.Table) -> bytes:
    import pyarrow as pa

    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return bytes(sink.getvalue().to_pybytes())


def _text(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _times_text(column: Any) -> list[str]:
    """Arrow UTC timestamps as the store writes times (fixed width, so text order is time order)."""
    import pyarrow.compute as pc

    # Arrow prints a microsecond timestamp's seconds with their six decimals.
    return list(pc.strftime(column, format="%Y-%m-%dT%H:%M:%SZ").to_pylist())


def _time_bound(value: str | datetime | None, field: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise UsageError(f"{field}: a time needs a time zone")
        return _text(value.astimezone(UTC))
    try:
        return _text(_timestamp(value, 0, field))
    except RecordError as exc:
        raise UsageError(f"{field}: {exc.message.split(': ', 1)[1]}") from None


def _parse_bound(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def _sensitive_names(table: pa.Table) -> list[str]:
    meta = table.schema.metadata or {}
    return list(json.loads(meta.get(_SENSITIVE_META, b"[]")))


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
