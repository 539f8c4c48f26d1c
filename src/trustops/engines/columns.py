"""Columns out of any frame: pandas, Polars, PyArrow, NumPy, or plain sequences.

This is the edge where user data becomes NumPy arrays and integer group
codes for the core. Backends are recognised by their module name and never
imported unless the user already passed one of their objects (so importing
trustops pulls in neither pandas nor Polars).

Sensitive columns are encoded to integer codes into their distinct values
(hash-based, one pass); nulls are an error or, with ``missing="group"``, their
own group whose value is ``None``.

Example:
    >>> import pyarrow as pa
    >>> enc = encode_groups(pa.array(["b", "a", "b", None]), "sex", missing="group")
    >>> enc.codes.tolist(), enc.levels
    ([0, 1, 0, 2], ('b', 'a', None))
"""

from __future__ import annotations

import ctypes
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from trustops.errors import (
    EmptyDataError,
    InputError,
    MissingColumnError,
    MissingValuesError,
    UsageError,
)

__all__ = ["EncodedGroups", "column_names", "encode_groups", "get_column", "to_numpy"]

MISSING_MODES = ("error", "group")


def _backend(obj: Any) -> str:
    module = type(obj).__module__.split(".")[0]
    return module if module in ("pandas", "polars", "pyarrow", "numpy") else "other"


def column_names(data: Any) -> list[str]:
    """Column names of a dataframe-like object."""
    kind = _backend(data)
    if kind == "pandas":
        return [str(c) for c in data.columns]
    if kind == "polars":
        if type(data).__name__ == "LazyFrame":
            return list(data.collect_schema().names())
        return list(data.columns)
    if kind == "pyarrow":
        return list(data.schema.names)
    if isinstance(data, Mapping):
        return [str(k) for k in data]
    raise InputError(
        f"unsupported data type {type(data).__name__}",
        hint="pass a pandas, Polars or PyArrow table, or a dict of arrays",
    )


def get_column(data: Any, name: str, role: str) -> Any:
    """The column ``name`` of ``data``, or :class:`MissingColumnError` naming its role."""
    names = column_names(data)
    if name not in names:
        raise MissingColumnError(name, available=names, role=role)
    kind = _backend(data)
    if kind == "pandas":
        return data[next(c for c in data.columns if str(c) == name)]  # names may be non-str
    if kind == "polars":
        if type(data).__name__ == "LazyFrame":
            return data.select(name).collect().to_series()
        return data.get_column(name)
    if kind == "pyarrow":
        return data.column(name)
    return data[name]


def to_numpy(col: Any, name: str) -> tuple[np.ndarray, np.ndarray]:
    """Values and a null mask (null, None or NaN) of a 1-D column."""
    kind = _backend(col)
    if kind == "pandas":
        mask = col.isna().to_numpy()
        values = col.to_numpy() if not mask.any() else col.to_numpy(dtype=object)
        if str(col.dtype) == "category":
            values = np.asarray(col.astype(object).to_numpy())
        return np.asarray(values), np.asarray(mask, dtype=bool)
    if kind == "polars":
        col = col.to_arrow()
        kind = "pyarrow"
    if kind == "pyarrow":
        if isinstance(col, pa.ChunkedArray):
            col = col.combine_chunks()
        if pa.types.is_dictionary(col.type):
            col = col.dictionary_decode()
        mask = np.asarray(pc.is_null(col, nan_is_null=True).to_numpy(zero_copy_only=False), bool)
        values = col.to_numpy(zero_copy_only=False)
        return np.asarray(values), mask
    arr = np.asarray(col)
    if arr.ndim != 1:
        raise InputError(f"column {name!r} must be one-dimensional, got shape {arr.shape}")
    if arr.dtype.kind == "f":
        mask = np.isnan(arr)
    elif arr.dtype.kind == "O":
        mask = np.fromiter(
            (v is None or (isinstance(v, float) and v != v) for v in arr),
            dtype=bool,
            count=len(arr),
        )
    else:
        mask = np.zeros(len(arr), dtype=bool)
    return arr, mask


@dataclass(frozen=True, slots=True)
class EncodedGroups:
    """Integer codes into ``levels``, in order of first appearance.

    Codes are not remapped to sorted order (a pass over every row): the count
    table is sorted afterwards, which touches only its cells
    (:meth:`trustops.core.fairness.GroupCounts.sorted_levels`). With
    ``missing="group"``, nulls get the last code and the level ``None``.
    """

    codes: np.ndarray
    levels: tuple[Any, ...]


def _finish(codes: np.ndarray, uniques: Sequence[Any], name: str, missing: str) -> EncodedGroups:
    """Turn null codes (−1) into an error or the missing group."""
    levels = [u.item() if isinstance(u, np.generic) else u for u in uniques]
    null_mask = codes < 0
    n_null = int(np.count_nonzero(null_mask))
    if n_null:
        if missing == "error":
            raise MissingValuesError(
                name,
                n_null,
                hint="pass missing='group' (CLI: --missing group) to report them "
                "as their own group, or drop those rows",
            )
        codes = np.where(null_mask, len(levels), codes)
        levels.append(None)
    return EncodedGroups(codes, tuple(levels))


IDENTITY_MIN_ROWS = 100_000
IDENTITY_PROBE_ROWS = 20_000
IDENTITY_MAX_OBJECTS = 1024


def _factorize_by_identity(values: np.ndarray) -> tuple[np.ndarray, list[Any]] | None:
    """Factorize an object column by object address first, then by value.

    Columns read from files share one ``str`` object per distinct value (pandas'
    CSV reader, Arrow's ``to_pandas``), so hashing the 8-byte addresses is ~4×
    faster than hashing the strings. Only the few distinct objects are then
    factorized by value, which merges equal values held in different objects
    and turns ``None``/NaN into −1. Returns ``None`` (use the ordinary path)
    for small columns or when most objects are distinct.
    """
    import pandas as pd

    n = len(values)
    if n < IDENTITY_MIN_ROWS or sys.implementation.name != "cpython":
        return None
    values = np.ascontiguousarray(values)
    addresses = np.ctypeslib.as_array((ctypes.c_ssize_t * n).from_address(values.ctypes.data))
    if len(np.unique(addresses[:IDENTITY_PROBE_ROWS])) > IDENTITY_MAX_OBJECTS:
        return None  # a probe of the first rows already sees many distinct objects
    address_codes, distinct = pd.factorize(addresses)
    if len(distinct) > max(IDENTITY_MAX_OBJECTS, n // 100):
        return None
    objects = np.empty(len(distinct), dtype=object)
    # Each address is a live object: ``values`` holds a reference to every one of them.
    objects[:] = [ctypes.cast(int(a), ctypes.py_object).value for a in distinct]
    value_codes, uniques = pd.factorize(objects, use_na_sentinel=True)
    if len(uniques) == len(distinct) and bool((value_codes == np.arange(len(distinct))).all()):
        return address_codes, list(uniques)
    return value_codes[address_codes], list(uniques)


def encode_groups(col: Any, name: str, *, missing: str = "error") -> EncodedGroups:
    """Encode a sensitive column to codes in first-appearance order (hashing, O(n))."""
    if missing not in MISSING_MODES:
        raise UsageError(f"missing must be one of {', '.join(MISSING_MODES)}, got {missing!r}")
    kind = _backend(col)
    if kind == "pandas":
        import pandas as pd

        fast = _factorize_by_identity(col.to_numpy()) if col.dtype == object else None
        try:
            codes, uniques = fast if fast is not None else pd.factorize(col, use_na_sentinel=True)
        except TypeError:  # unhashable values: lists, dicts
            raise InputError(f"column {name!r} holds nested values, not group labels") from None
        return _finish(np.asarray(codes, dtype=np.int64), list(uniques), name, missing)
    if kind == "polars":
        col = col.to_arrow()
    if kind not in ("polars", "pyarrow"):
        arr, nulls = to_numpy(col, name)
        if arr.dtype.kind in "biu" or (arr.dtype.kind == "f" and not nulls.any()):
            uniques, codes = np.unique(arr, return_inverse=True)
            return _finish(codes.astype(np.int64), list(uniques), name, missing)
        if nulls.any():
            arr = arr.astype(object)
            arr[nulls] = None
        try:
            col = pa.array(arr, from_pandas=True)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            return _encode_python_objects(arr, name, missing)
    if isinstance(col, pa.ChunkedArray):
        col = col.combine_chunks()
    if pa.types.is_floating(col.type):
        col = pc.if_else(pc.is_nan(col), pa.scalar(None, col.type), col)
    if pa.types.is_nested(col.type):
        raise InputError(f"column {name!r} holds nested values ({col.type}), not group labels")
    enc = col if pa.types.is_dictionary(col.type) else pc.dictionary_encode(col)
    # Dictionary indices may be unsigned (Polars Categorical/Enum): widen before filling nulls.
    indices = pc.fill_null(enc.indices.cast(pa.int64()), -1)
    codes = np.asarray(indices.to_numpy(zero_copy_only=False), dtype=np.int64)
    levels = enc.dictionary.to_pylist()
    if pa.types.is_dictionary(col.type):
        codes, levels = _drop_unused(codes, levels)
    return _finish(codes, levels, name, missing)


def _drop_unused(codes: np.ndarray, levels: list[Any]) -> tuple[np.ndarray, list[Any]]:
    """Keep only dictionary entries that occur: unused categories are not groups."""
    used = np.bincount(codes[codes >= 0], minlength=len(levels)) > 0
    if used.all():
        return codes, levels
    remap = np.full(len(levels) + 1, -1, dtype=np.int64)
    remap[np.flatnonzero(used)] = np.arange(int(used.sum()))
    return remap[codes], [lv for lv, u in zip(levels, used, strict=True) if u]


def _encode_python_objects(values: np.ndarray, name: str, missing: str) -> EncodedGroups:
    """Mixed-type object columns (``[1, "a", None]``) that Arrow cannot type: a dict pass."""
    index: dict[Any, int] = {}

    def code(v: Any) -> int:
        if v is None or (isinstance(v, float) and v != v):
            return -1
        return index.setdefault(v, len(index))

    try:
        codes = np.fromiter((code(v) for v in values), dtype=np.int64, count=len(values))
    except TypeError:
        raise InputError(f"column {name!r} holds nested values, not group labels") from None
    return _finish(codes, list(index), name, missing)


def check_lengths(columns: Mapping[str, Any]) -> int:
    """The common length of ``columns``; :class:`InputError` naming the odd one out."""
    lengths = {name: len(col) for name, col in columns.items()}
    n = next(iter(lengths.values()))
    for name, length in lengths.items():
        if length != n:
            raise InputError(f"column {name!r} has {length} rows, expected {n}")
    if n == 0:
        raise EmptyDataError("the data has no rows")
    return n
