"""The profile file format: versioned JSON, and a compact binary form of the same document.

JSON (``to_json``) is for people and other tools::

    {"format": "trustops-profile", "version": 1, "rows": ..., "plan": {...},
     "columns": [{"name", "kind", "type", "count", "nulls", ...}], "outcomes": ...}

Numbers are written so they read back bit for bit (Python's shortest
round-trip repr); sketches are their DataSketches serialisations in base64.
The binary form (``to_bytes``) is the magic ``b"TPROF"``, one format-version
byte, then the JSON document compressed with zlib; it is several times
smaller and loads as fast. Reading checks the magic, the version and every
field, and names what is wrong in a corrupt or foreign file.

Example:
    >>> import pyarrow as pa
    >>> from trustops.core.profiles.dataset import DatasetProfile, ProfilePlan
    >>> t = pa.table({"x": [1.0, 2.0, 3.0], "c": ["a", "b", None]})
    >>> p = DatasetProfile.zero(ProfilePlan(), t.schema).update(t)
    >>> from_bytes(to_bytes(p)) == p, from_json(to_json(p)) == p
    (True, True)
"""

from __future__ import annotations

import base64
import json
import math
import zlib
from typing import Any

import numpy as np
from datasketches import frequent_strings_sketch, hll_sketch, kll_doubles_sketch

from trustops.core.fairness.counts import GroupCounts, ScoreHistogram
from trustops.core.profiles.categorical import CategoricalProfile
from trustops.core.profiles.dataset import (
    KINDS,
    ColumnProfile,
    CountsProfile,
    DatasetProfile,
    ProfilePlan,
)
from trustops.core.profiles.numeric import Histogram, NumericProfile
from trustops.errors import InputError, UnsupportedError, UsageError

__all__ = [
    "FORMAT",
    "MAGIC",
    "VERSION",
    "ProfileFormatError",
    "from_bytes",
    "from_dict",
    "from_json",
    "to_bytes",
    "to_dict",
    "to_json",
]

FORMAT = "trustops-profile"
VERSION = 1
MAGIC = b"TPROF"


class ProfileFormatError(InputError):
    """A profile file that is corrupt, of another format, or of an unknown version."""


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: Any, what: str) -> bytes:
    if not isinstance(text, str):
        raise ProfileFormatError(f"profile field {what!r} must be base64 text")
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except ValueError:
        raise ProfileFormatError(f"profile field {what!r} is not valid base64") from None


def _num(x: float | None) -> float | str | None:
    """JSON has no inf/NaN: write them as strings."""
    if x is None or math.isfinite(x):
        return x
    return "nan" if math.isnan(x) else ("inf" if x > 0 else "-inf")


def _unnum(x: Any, what: str) -> float | None:
    if x is None:
        return None
    if isinstance(x, str) and x in ("nan", "inf", "-inf"):
        return float(x)
    if isinstance(x, bool) or not isinstance(x, int | float):
        raise ProfileFormatError(f"profile field {what!r} must be a number, got {x!r}")
    return float(x)


def _column_dict(name: str, kind: str, type_: str, col: ColumnProfile) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": name,
        "kind": kind,
        "type": type_,
        "count": col.count,
        "nulls": col.nulls,
    }
    if isinstance(col, NumericProfile):
        out.update(
            nans=col.nans,
            pos_inf=col.pos_inf,
            neg_inf=col.neg_inf,
            min=col.minimum,
            max=col.maximum,
            mean=_num(col.mean),
            m2=_num(col.m2),
            sketch_k=col.sketch_k,
            sketch=_b64(col.sketch.serialize()) if col.sketch is not None else None,
            histogram=None
            if col.histogram is None
            else {
                "edges": [_num(float(e)) for e in col.histogram.edges],
                "counts": [int(c) for c in col.histogram.counts],
            },
        )
    elif isinstance(col, CategoricalProfile):
        out["max_categories"] = col.max_categories
        if col.counts is not None:
            out["categories"] = [[k, v] for k, v in col.counts.items()]
        else:
            assert col.frequent is not None and col.distinct_sketch is not None
            out["frequent"] = _b64(col.frequent.serialize())
            out["distinct"] = _b64(col.distinct_sketch.serialize_compact())
    return out


def _outcomes_dict(counts: GroupCounts | None) -> dict[str, Any] | None:
    if counts is None:
        return None
    if counts.regression is not None:
        raise UnsupportedError("regression outcome tables cannot be saved in a profile yet")
    out: dict[str, Any] = {
        "attributes": list(counts.attributes),
        "levels": [list(lv) for lv in counts.levels],
        "task": counts.task,
        "classes": list(counts.classes),
        "shape": list(counts.rows.shape),
        "rows": counts.rows.ravel().tolist(),
        "weights": counts.weights.ravel().tolist(),
        "weighted": counts.weighted,
        "squared_weights": None
        if counts.squared_weights is None
        else counts.squared_weights.ravel().tolist(),
        "scores": None,
    }
    if counts.scores is not None:
        s = counts.scores
        out["scores"] = {
            "group": s.group.tolist(),
            "value": s.value.tolist(),
            "weight": s.weight.tolist(),
            "rows": s.rows.tolist(),
        }
    return out


def to_dict(profile: DatasetProfile) -> dict[str, Any]:
    """The profile as a JSON-ready dictionary (see the module docstring)."""
    plan = profile.plan
    return {
        "format": FORMAT,
        "version": VERSION,
        "rows": profile.rows,
        "plan": {
            "columns": list(plan.columns) if plan.columns is not None else None,
            "bins": plan.bins,
            "sketch_k": plan.sketch_k,
            "max_categories": plan.max_categories,
        },
        "columns": [
            _column_dict(name, profile.kinds[name], profile.types[name], col)
            for name, col in profile.columns.items()
        ],
        "outcomes": _outcomes_dict(profile.outcomes),
    }


def to_json(profile: DatasetProfile, *, indent: int | None = None) -> str:
    """The profile as JSON text."""
    return json.dumps(to_dict(profile), indent=indent, allow_nan=False, default=_num)


def to_bytes(profile: DatasetProfile) -> bytes:
    """The compact binary form: magic, version byte, zlib-compressed JSON."""
    body = json.dumps(to_dict(profile), separators=(",", ":"), allow_nan=False).encode("utf-8")
    return MAGIC + bytes([VERSION]) + zlib.compress(body, 6)


def _get(d: Any, key: str, types: type | tuple[type, ...], where: str) -> Any:
    if not isinstance(d, dict) or key not in d:
        raise ProfileFormatError(f"profile is missing the field {where + key!r}")
    value = d[key]
    if not isinstance(value, types) or (isinstance(value, bool) and bool not in _tuple(types)):
        raise ProfileFormatError(
            f"profile field {where + key!r} has the wrong type ({type(value).__name__})"
        )
    return value


def _tuple(types: type | tuple[type, ...]) -> tuple[type, ...]:
    return types if isinstance(types, tuple) else (types,)


def _column_from(d: dict[str, Any], plan_k: int) -> tuple[str, str, str, ColumnProfile]:
    name = _get(d, "name", str, "columns[].")
    where = f"columns[{name}]."
    kind = _get(d, "kind", str, where)
    if kind not in KINDS:
        raise ProfileFormatError(f"column {name!r} has an unknown kind {kind!r}")
    type_ = _get(d, "type", str, where)
    count = _get(d, "count", int, where)
    nulls = _get(d, "nulls", int, where)
    col: ColumnProfile
    try:
        if kind in ("numeric", "datetime"):
            hist = d.get("histogram")
            histogram = None
            if hist is not None:
                edges = np.asarray(
                    [
                        _unnum(e, where + "histogram.edges")
                        for e in _get(hist, "edges", list, where + "histogram.")
                    ],
                    np.float64,
                )
                counts = np.asarray(_get(hist, "counts", list, where + "histogram."), np.int64)
                if len(counts) != len(edges) + 1 or np.any(np.diff(edges) <= 0):
                    raise ProfileFormatError(f"column {name!r} has an inconsistent histogram")
                histogram = Histogram(edges, counts)
            raw_sketch = d.get("sketch")
            sketch = (
                kll_doubles_sketch.deserialize(_unb64(raw_sketch, where + "sketch"))
                if raw_sketch is not None
                else None
            )
            col = NumericProfile(
                count,
                nulls,
                _get(d, "nans", int, where),
                _get(d, "pos_inf", int, where),
                _get(d, "neg_inf", int, where),
                _unnum(d.get("min"), where + "min"),
                _unnum(d.get("max"), where + "max"),
                _unnum(_get(d, "mean", (int, float, str), where), where + "mean") or 0.0,
                _unnum(_get(d, "m2", (int, float, str), where), where + "m2") or 0.0,
                histogram,
                sketch,
                int(d.get("sketch_k", plan_k)),
            )
        elif kind in ("categorical", "boolean"):
            cap = _get(d, "max_categories", int, where)
            if "categories" in d:
                pairs = _get(d, "categories", list, where)
                counts_map = {}
                for pair in pairs:
                    if not isinstance(pair, list) or len(pair) != 2 or not isinstance(pair[1], int):
                        raise ProfileFormatError(f"column {name!r} has a malformed category count")
                    counts_map[pair[0]] = pair[1]
                col = CategoricalProfile(count, nulls, counts_map, max_categories=cap)
            else:
                col = CategoricalProfile(
                    count,
                    nulls,
                    None,
                    frequent_strings_sketch.deserialize(
                        _unb64(d.get("frequent"), where + "frequent")
                    ),
                    hll_sketch.deserialize(_unb64(d.get("distinct"), where + "distinct")),
                    cap,
                )
        else:
            col = CountsProfile(count, nulls)
    except (RuntimeError, ValueError, TypeError, IndexError) as exc:
        if isinstance(exc, ProfileFormatError):
            raise
        raise ProfileFormatError(f"column {name!r} has a corrupt sketch: {exc}") from None
    return name, kind, type_, col


def _outcomes_from(d: Any) -> GroupCounts | None:
    if d is None:
        return None
    where = "outcomes."
    shape = tuple(_get(d, "shape", list, where))
    try:
        rows = np.asarray(_get(d, "rows", list, where), np.int64).reshape(shape)
        weights = np.asarray(_get(d, "weights", list, where), np.float64).reshape(shape)
        sq = d.get("squared_weights")
        squared = None if sq is None else np.asarray(sq, np.float64).reshape(shape)
        scores = None
        if d.get("scores") is not None:
            s = d["scores"]
            scores = ScoreHistogram(
                np.asarray(s["group"], np.int64),
                np.asarray(s["value"], np.float64),
                np.asarray(s["weight"], np.float64).reshape(-1, 2),
                np.asarray(s["rows"], np.int64).reshape(-1, 2),
            )
    except (ValueError, TypeError, KeyError):
        raise ProfileFormatError("profile field 'outcomes' is inconsistent") from None
    return GroupCounts(
        attributes=tuple(_get(d, "attributes", list, where)),
        levels=tuple(tuple(lv) for lv in _get(d, "levels", list, where)),
        task=_get(d, "task", str, where),
        classes=tuple(_get(d, "classes", list, where)),
        rows=rows,
        weights=weights,
        scores=scores,
        weighted=bool(d.get("weighted", False)),
        squared_weights=squared,
    )


def from_dict(d: Any) -> DatasetProfile:
    """Read a profile dictionary, checking its format, version and fields."""
    if not isinstance(d, dict) or d.get("format") != FORMAT:
        raise ProfileFormatError("not a trustops profile (the 'format' field is missing or wrong)")
    version = d.get("version")
    if version != VERSION:
        raise ProfileFormatError(
            f"profile format version {version!r} is not supported (this trustops reads {VERSION})",
            hint="re-create the profile with this version of trustops",
        )
    p = _get(d, "plan", dict, "")
    cols = p.get("columns")
    plan_k = _get(p, "sketch_k", int, "plan.")
    columns: dict[str, ColumnProfile] = {}
    kinds: dict[str, str] = {}
    types: dict[str, str] = {}
    edges: dict[str, np.ndarray] = {}
    for item in _get(d, "columns", list, ""):
        name, kind, type_, col = _column_from(item, plan_k)
        columns[name], kinds[name], types[name] = col, kind, type_
        if isinstance(col, NumericProfile) and col.histogram is not None:
            edges[name] = col.histogram.edges
    try:
        plan = ProfilePlan(
            columns=tuple(cols) if cols is not None else None,
            bins=_get(p, "bins", int, "plan."),
            sketch_k=plan_k,
            max_categories=_get(p, "max_categories", int, "plan."),
            edges=edges,
            kinds=dict(kinds),
        )
    except UsageError as exc:
        raise ProfileFormatError(f"profile field 'plan' is invalid: {exc.message}") from None
    return DatasetProfile(
        _get(d, "rows", int, ""), columns, kinds, types, plan, _outcomes_from(d.get("outcomes"))
    )


def from_json(text: str | bytes) -> DatasetProfile:
    """Read a profile from JSON text."""
    try:
        d = json.loads(text)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ProfileFormatError(f"profile is not valid JSON: {exc}") from None
    return from_dict(d)


def from_bytes(data: bytes) -> DatasetProfile:
    """Read a profile from its binary form, or from JSON bytes."""
    if data[:1] == b"{" or data.lstrip()[:1] == b"{":
        return from_json(data)
    if data[: len(MAGIC)] != MAGIC:
        raise ProfileFormatError("not a trustops profile (bad magic bytes)")
    if len(data) < len(MAGIC) + 1:
        raise ProfileFormatError("profile file is truncated")
    version = data[len(MAGIC)]
    if version != VERSION:
        raise ProfileFormatError(
            f"profile format version {version} is not supported (this trustops reads {VERSION})",
            hint="re-create the profile with this version of trustops",
        )
    try:
        body = zlib.decompress(data[len(MAGIC) + 1 :])
    except zlib.error:
        raise ProfileFormatError(
            "profile file is corrupt (its compressed body does not inflate)"
        ) from None
    return from_json(body)
