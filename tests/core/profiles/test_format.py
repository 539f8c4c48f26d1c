"""The profile file format: JSON and binary round trips, and corrupt files named as such."""

from __future__ import annotations

import base64
import json
import math
import zlib
from collections.abc import Callable
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from trustops.core.fairness import GroupCounts
from trustops.core.profiles import (
    DatasetProfile,
    ProfileFormatError,
    ProfilePlan,
    from_bytes,
    from_dict,
    from_json,
    to_bytes,
    to_dict,
    to_json,
)
from trustops.core.profiles.format import MAGIC, VERSION


def sample() -> DatasetProfile:
    rng = np.random.default_rng(5)
    n = 2000
    x = rng.normal(size=n)
    x[:3] = [math.nan, math.inf, -math.inf]
    table = pa.table(
        {
            "x": pa.array(x, mask=rng.random(n) < 0.1),
            "i": pa.array(rng.integers(0, 9, n), pa.int32()),
            "s": pa.array(rng.choice(["a", "b", "c"], n)),
            "many": pa.array([f"v{i % 700}" for i in range(n)]),  # past the cap: sketches
            "b": pa.array(rng.random(n) < 0.3),
            "t": pa.array(rng.integers(0, 10**15, n), pa.timestamp("us", tz="UTC")),
            "nothing": pa.nulls(n),
            "blob": pa.array([b"x"] * n),
        }
    )
    plan = ProfilePlan(max_categories=500, edges={"x": np.array([-1.0, 0.0, 1.0])})
    p = DatasetProfile.zero(plan, table.schema).update(table)
    rows = np.arange(8, dtype=np.int64).reshape(2, 2, 2)
    outcomes = GroupCounts(("g",), (("a", None),), "binary", (0, 1), rows, rows * 0.5)
    return p.with_outcomes(outcomes)


def test_json_and_binary_round_trips() -> None:
    p = sample()
    assert not p.columns["many"].exact  # type: ignore[union-attr]
    for back in (from_json(to_json(p)), from_bytes(to_bytes(p)), from_dict(to_dict(p))):
        assert back == p
        assert back.types == p.types and back.kinds == p.kinds
        assert back.plan.edges.keys() == p.plan.edges.keys()
        x, y = back.columns["x"], p.columns["x"]
        assert x.mean == y.mean and x.m2 == y.m2  # type: ignore[union-attr]  # bit for bit
        assert x.quantiles(np.array([0.5])) == y.quantiles(np.array([0.5]))  # type: ignore[union-attr]
    assert from_bytes(to_json(p).encode()) == p  # JSON bytes are read too
    assert len(to_bytes(p)) < len(to_json(p)) / 2


@pytest.mark.filterwarnings("ignore:overflow:RuntimeWarning")
def test_non_finite_moments_and_edges_round_trip() -> None:
    # Moments overflow at the edge of the float range; the file must still hold them.
    table = pa.table({"x": [-1e300, 1e300, np.finfo(np.float64).max]})
    p = DatasetProfile.zero(ProfilePlan(), table.schema).update(table)
    p = DatasetProfile.zero(p.fitted_plan(), table.schema).update(table)
    col = p.columns["x"]
    assert math.isinf(col.m2) and np.isinf(col.histogram.edges[-1])  # type: ignore[union-attr]
    assert from_json(to_json(p)) == p and from_bytes(to_bytes(p)) == p
    json.loads(to_json(p), parse_constant=lambda c: pytest.fail(f"non-JSON constant {c}"))


def doc() -> dict[str, Any]:
    return json.loads(to_json(sample()))


def column(d: dict[str, Any], name: str) -> dict[str, Any]:
    return next(c for c in d["columns"] if c["name"] == name)


def edit(change: Callable[[dict[str, Any]], None]) -> bytes:
    d = doc()
    change(d)
    return json.dumps(d).encode()


def binary(body: bytes, version: int = VERSION) -> bytes:
    return MAGIC + bytes([version]) + zlib.compress(body)


CORRUPT: dict[str, tuple[Callable[[], bytes], str]] = {
    "truncated binary": (lambda: to_bytes(sample())[:-20], "does not inflate"),
    "truncated JSON": (lambda: to_json(sample()).encode()[:-20], "not valid JSON"),
    "only the magic": (lambda: MAGIC, "truncated"),
    "bad magic": (lambda: b"PROF!" + to_bytes(sample())[5:], "bad magic"),
    "empty file": (lambda: b"", "bad magic"),
    "garbage zlib": (lambda: MAGIC + bytes([VERSION]) + b"\x78\x9c garbage", "does not inflate"),
    "binary version": (lambda: binary(b"{}", VERSION + 1), f"version {VERSION + 1}"),
    "JSON version": (lambda: edit(lambda d: d.update(version=99)), "version 99"),
    "foreign JSON": (lambda: b'{"hello": 1}', "not a trustops profile"),
    "JSON list": (lambda: b"[1, 2]", "not a trustops profile"),
    "inflates to garbage": (lambda: binary(b"\xff\xfe nope"), "not valid JSON"),
    "bad base64": (
        lambda: edit(lambda d: column(d, "x").update(sketch="@@not base64@@")),
        "base64",
    ),
    "base64 of garbage": (
        lambda: edit(lambda d: column(d, "x").update(sketch=base64.b64encode(b"junk").decode())),
        "'x' has a corrupt sketch",
    ),
    "corrupt frequent items": (
        lambda: edit(lambda d: column(d, "many").update(frequent="AAAA")),
        "'many' has a corrupt sketch",
    ),
    "rows as text": (lambda: edit(lambda d: d.update(rows="2000")), "'rows' has the wrong type"),
    "count as bool": (
        lambda: edit(lambda d: column(d, "x").update(count=True)),
        "'columns[x].count' has the wrong type",
    ),
    "mean as text": (
        lambda: edit(lambda d: column(d, "x").update(mean="big")),
        "'columns[x].mean' must be a number",
    ),
    "columns not a list": (lambda: edit(lambda d: d.update(columns={})), "'columns'"),
    "missing rows": (lambda: edit(lambda d: d.pop("rows")), "missing the field 'rows'"),
    "missing plan": (lambda: edit(lambda d: d.pop("plan")), "missing the field 'plan'"),
    "missing name": (
        lambda: edit(lambda d: column(d, "x").pop("name")),
        "missing the field 'columns[].name'",
    ),
    "missing nans": (
        lambda: edit(lambda d: column(d, "x").pop("nans")),
        "missing the field 'columns[x].nans'",
    ),
    "unknown kind": (lambda: edit(lambda d: column(d, "x").update(kind="vector")), "'vector'"),
    "bad histogram": (
        lambda: edit(lambda d: column(d, "x")["histogram"].update(counts=[1, 2])),
        "inconsistent histogram",
    ),
    "unsorted edges": (
        lambda: edit(lambda d: column(d, "x")["histogram"].update(edges=[1.0, 0.0, 2.0])),
        "inconsistent histogram",
    ),
    "bad category pair": (
        lambda: edit(lambda d: column(d, "s").update(categories=[["a"]])),
        "malformed category count",
    ),
    "bad outcomes": (
        lambda: edit(lambda d: d["outcomes"].update(rows=[1, 2, 3])),
        "'outcomes' is inconsistent",
    ),
    "bad plan": (
        lambda: edit(lambda d: d["plan"].update(bins=0)),
        "plan",
    ),
}


@pytest.mark.parametrize("case", list(CORRUPT))
def test_corrupt_files_are_named(case: str) -> None:
    make, message = CORRUPT[case]
    with pytest.raises(ProfileFormatError, match=message.replace("[", r"\[").replace("]", r"\]")):
        from_bytes(make())
