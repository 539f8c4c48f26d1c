"""Prediction and label records: their layout, and reading a batch of them from a body.

A batch arrives as JSON (an array of records, or ``{"predictions": [...]}``),
NDJSON (one record a line), an Arrow IPC stream or a Parquet file. Whatever
the format, it becomes one flat Arrow table: ``prediction_id``,
``timestamp`` (microseconds, UTC), ``prediction``, ``score``,
``sensitive_ref``, then one column per feature and sensitive attribute (the
names of the latter in the schema's metadata, see :func:`sensitive_columns`).
Anything that cannot be stored is refused as a whole, with an error naming
the record's index and the field (:class:`RecordError`).

Example:
    >>> table = predictions_table(
    ...     b'[{"prediction_id": "a1", "timestamp": "2026-11-27T11:00:00+01:00",'
    ...     b' "prediction": 1, "features": {"income": 52000}, "sensitive": {"sex": "F"}}]',
    ...     JSON,
    ... )
    >>> table.column_names[5:], sensitive_columns(table)
    (['income', 'sex'], ['sex'])
    >>> utc_text(table.column("timestamp")[0].as_py())
    '2026-11-27T10:00:00.000000Z'
    >>> bad = b'[{"prediction_id": "a1", "timestamp": "noon"}]'
    >>> predictions_table(bad, JSON)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    trustops.monitoring.records.RecordError: record 0, field 'timestamp': 'noon' is not ...
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from trustops.errors import InputError, UsageError

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = [
    "ARROW",
    "FIELDS",
    "JSON",
    "MAX_RECORDS",
    "MAX_UPLOAD_BYTES",
    "MAX_UPLOAD_ROWS",
    "MEDIA_TYPES",
    "NDJSON",
    "PARQUET",
    "SENSITIVE_META",
    "LabelRecords",
    "RecordError",
    "as_body",
    "ipc_bytes",
    "label_records",
    "predictions_table",
    "sensitive_columns",
    "times_text",
    "utc_text",
    "utc_time",
    "value_column",
    "with_sensitive",
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
_VALUE_TYPES = frozenset((*_SCALARS, type(None)))
MAX_RECORDS = 100_000  # per JSON or NDJSON batch
MAX_UPLOAD_ROWS = 1_000_000  # per Arrow or Parquet upload
MAX_UPLOAD_BYTES = 256 * 2**20  # an upload's decoded size
_MAX_NAME = 200
SENSITIVE_META = b"trustops.sensitive"


class RecordError(InputError):
    """A record of a batch that cannot be stored: ``index`` and ``field`` say which."""

    def __init__(self, index: int, field: str | None, message: str) -> None:
        where = f"record {index}" + (f", field {field!r}" if field else "")
        super().__init__(f"{where}: {message}")
        self.index = index
        self.field = field


def as_body(data: Any, media_type: str) -> tuple[bytes, str]:
    """``(body, media type)`` of a request body, a list of records (JSON) or an Arrow table."""
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
        return ipc_bytes(data), ARROW
    raise UsageError(f"cannot log {type(data).__name__}: give records, an Arrow table or bytes")


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


def utc_time(value: Any, index: int, field: str = "timestamp") -> datetime:
    """An ISO-8601 time with a UTC offset, in UTC (else :class:`RecordError` for ``index``)."""
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


def predictions_table(body: bytes, media_type: str, sensitive: Sequence[str] = ()) -> pa.Table:
    """A batch of predictions as one flat Arrow table (``sensitive``: an upload's columns)."""
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
    seen: dict[str, int] = {}
    head: dict[str, Any] = records[0] if type(records[0]) is dict else {}
    heads: list[dict[str, Any]] = [
        head[role] if type(head.get(role)) is dict else {} for role in _ROLES
    ]
    first = (heads[0].keys(), heads[1].keys())
    uniform = True  # every record has the same feature and attribute names (the usual batch)
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
        times.append(utc_time(record.get("timestamp"), i))
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
        features, attributes = record.get("features"), record.get("sensitive")
        if type(features) is not dict:
            raise RecordError(i, "features", "must be an object of name: value")
        if attributes is not None and type(attributes) is not dict:
            raise RecordError(i, "sensitive", "must be an object of name: value")
        if uniform and (features.keys() != first[0] or (attributes or {}).keys() != first[1]):
            uniform = False
    columns, roles = (_uniform_columns if uniform else _columns)(records)
    import pyarrow as pa

    arrays = {
        "prediction_id": pa.array(ids, pa.string()),
        "timestamp": pa.array(times, pa.timestamp("us", "UTC")),
        "prediction": value_column(outputs, "prediction", records),
        "score": pa.array(scores, pa.float64()),
        "sensitive_ref": pa.array(refs, pa.string()),
    }
    for name, values in columns.items():
        arrays[name] = value_column(values, f"{roles[name]}.{name}", records)
    names = sorted(n for n in columns if roles[n] == "sensitive")
    return pa.table(arrays, metadata={SENSITIVE_META: json.dumps(names).encode()})


_ROLES = ("features", "sensitive")
_NOT_SCALAR = "must be a number, string, boolean or null"


def _columns(records: list[Any]) -> tuple[dict[str, list[Any]], dict[str, str]]:
    """Feature and attribute columns, record by record (names may differ between records)."""
    columns: dict[str, list[Any]] = {}
    roles: dict[str, str] = {}
    for i, record in enumerate(records):
        for role in _ROLES:
            for name, value in (record.get(role) or {}).items():
                if value is not None and type(value) not in _SCALARS:
                    raise RecordError(i, f"{role}.{name}", _NOT_SCALAR)
                column = columns.get(name)
                if column is None:
                    _name(name, i, role)
                    roles[name] = role
                    column = columns[name] = [None] * i
                elif roles[name] != role:
                    raise RecordError(
                        i, f"{role}.{name}", "is both a feature and a sensitive attribute"
                    )
                column.append(value)
        for column in columns.values():
            if len(column) <= i:
                column.append(None)
    return columns, roles


def _uniform_columns(records: list[Any]) -> tuple[dict[str, list[Any]], dict[str, str]]:
    """The columns of records that all name the same features and attributes, column by column.

    The same checks as :func:`_columns`, and the same first fault reported.
    """
    columns: dict[str, list[Any]] = {}
    roles: dict[str, str] = {}
    for role in _ROLES:
        for name in records[0].get(role) or {}:
            if name in roles:
                raise RecordError(
                    0, f"{role}.{name}", "is both a feature and a sensitive attribute"
                )
            _name(name, 0, role)
            roles[name] = role
            columns[name] = [r[role][name] for r in records]
    faults = []
    for name, column in columns.items():
        if not set(map(type, column)) <= _VALUE_TYPES:
            index = next(i for i, v in enumerate(column) if type(v) not in _VALUE_TYPES)
            faults.append((index, f"{roles[name]}.{name}"))
    if faults:
        index, field = min(faults, key=lambda fault: fault[0])  # the first record at fault
        raise RecordError(index, field, _NOT_SCALAR)
    return columns, roles


def value_column(values: list[Any], field: str, records: Sequence[Any] = ()) -> pa.Array:
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
    meta = {SENSITIVE_META: json.dumps(sorted(sensitive)).encode()}
    return pa.table(columns, metadata=meta)


@dataclass(frozen=True, slots=True)
class LabelRecords:
    """A batch of labels: prediction ids, labels as JSON scalars, observation times."""

    ids: list[str]
    labels: list[str]  # JSON scalars
    times: list[str | None]


def label_records(body: bytes, media_type: str) -> LabelRecords:
    """A batch of labels: ``{"prediction_id", "label", "timestamp"?}`` per record."""
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
        times.append(None if when is None else utc_text(utc_time(when, i)))
    return LabelRecords(ids, labels, times)


def _read_table(body: bytes, media_type: str) -> pa.Table:
    """An uploaded table, refused before it is decoded past the upload limits.

    A compressed upload can expand a thousandfold: a Parquet file's rows and
    decoded size are read from its footer first, an Arrow stream is read batch
    by batch, and either stops at ``MAX_UPLOAD_ROWS`` rows or
    ``MAX_UPLOAD_BYTES`` decoded bytes.
    """
    import pyarrow as pa

    kind = "an Arrow IPC stream" if media_type == ARROW else "a Parquet file"
    try:
        if media_type == ARROW:
            reader = pa.ipc.open_stream(body)
            batches, rows, size = [], 0, 0
            for batch in reader:
                rows, size = rows + batch.num_rows, size + batch.nbytes
                _check_upload(rows, size)
                batches.append(batch)
            return pa.Table.from_batches(batches, schema=reader.schema)
        import pyarrow.parquet as pq

        parquet = pq.ParquetFile(pa.BufferReader(body))
        meta = parquet.metadata
        size = sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))
        _check_upload(meta.num_rows, size)
        return parquet.read()
    except (pa.ArrowException, OSError) as exc:
        raise InputError(f"the body is not {kind}: {exc}") from None


def _check_upload(rows: int, size: int) -> None:
    if rows > MAX_UPLOAD_ROWS or size > MAX_UPLOAD_BYTES:
        raise InputError(
            f"the upload holds more than {MAX_UPLOAD_ROWS:,} rows or "
            f"{MAX_UPLOAD_BYTES // 2**20} MiB once decoded",
            hint="send it in smaller batches",
        )


def ipc_bytes(table: pa.Table) -> bytes:
    """``table`` as an Arrow IPC stream."""
    import pyarrow as pa

    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return bytes(sink.getvalue().to_pybytes())


def utc_text(when: datetime) -> str:
    """A UTC time as the store writes it: ``2026-11-27T10:00:00.000000Z``."""
    return when.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def times_text(column: Any) -> list[str]:
    """Arrow UTC timestamps as the store writes times (fixed width, so text order is time order)."""
    import pyarrow.compute as pc

    # Arrow prints a microsecond timestamp's seconds with their six decimals.
    return list(pc.strftime(column, format="%Y-%m-%dT%H:%M:%SZ").to_pylist())


def sensitive_columns(table: pa.Table) -> list[str]:
    """The sensitive-attribute columns of a table of predictions (from its metadata)."""
    meta = table.schema.metadata or {}
    return list(json.loads(meta.get(SENSITIVE_META, b"[]")))


def with_sensitive(table: pa.Table, names: Sequence[str]) -> pa.Table:
    """``table`` whose metadata names ``names`` as its sensitive-attribute columns."""
    return table.replace_schema_metadata({SENSITIVE_META: json.dumps(sorted(names)).encode()})
