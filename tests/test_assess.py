"""The Python entry point on every input backend, and its refusals of bad input."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

import trustops
from trustops.errors import (
    EmptyDataError,
    InputError,
    LabelError,
    MissingColumnError,
    MissingValuesError,
    TrustOpsError,
    UnknownMetricError,
    UsageError,
)

BACKENDS = ["pandas", "polars", "polars-lazy", "pyarrow", "dict", "numpy"]
DATA_BACKENDS = [b for b in BACKENDS if b != "numpy"]

# role -> column name in the data (numpy: the argument is the array itself)
ROLES = {"y_true": "y", "y_pred": "p", "score": "s", "sample_weight": "w"}


def assert_same(a: Any, b: Any, path: str = "$") -> None:
    """Deep equality; floats to 1e-12; None, bools, ints and strings exactly."""
    if a is None or b is None:
        assert a is b, f"{path}: {a!r} != {b!r}"
    elif isinstance(a, bool) or isinstance(b, bool):
        assert type(a) is type(b) and a == b, f"{path}: {a!r} != {b!r}"
    elif isinstance(a, dict):
        assert isinstance(b, dict) and list(a) == list(b), f"{path}: {a!r} != {b!r}"
        for k in a:
            assert_same(a[k], b[k], f"{path}.{k}")
    elif isinstance(a, (list, tuple)):
        assert isinstance(b, (list, tuple)) and len(a) == len(b), f"{path}: {a!r} != {b!r}"
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            assert_same(x, y, f"{path}[{i}]")
    elif isinstance(a, float) or isinstance(b, float):
        assert math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-12), f"{path}: {a!r} != {b!r}"
    else:
        assert a == b and type(a) is type(b), f"{path}: {a!r} != {b!r}"


def make_frame(backend: str, data: dict[str, list[Any]]) -> Any:
    if backend == "pandas":
        return pd.DataFrame(data)
    if backend == "polars":
        return pl.DataFrame(data, strict=False)
    if backend == "polars-lazy":
        return pl.DataFrame(data, strict=False).lazy()
    if backend == "pyarrow":
        return pa.table(data)
    if backend == "dict":
        return dict(data)
    raise AssertionError(backend)


def run(
    backend: str,
    data: dict[str, list[Any]],
    *,
    sensitive: str | list[str] = "g",
    fn: Callable[..., Any] = trustops.assess_fairness,
    **kwargs: Any,
) -> Any:
    """Call ``fn`` on ``data`` held by ``backend``; role arguments name the columns."""
    roles = {
        role: kwargs.pop(role, ROLES[role] if role in ("y_true", "y_pred") else None)
        for role in ROLES
    }
    roles = {k: v for k, v in roles.items() if v is not None}
    if backend == "numpy":
        arrays = {role: np.asarray(data[name]) for role, name in roles.items()}
        names = [sensitive] if isinstance(sensitive, str) else sensitive
        return fn(None, sensitive={n: np.asarray(data[n]) for n in names}, **arrays, **kwargs)
    return fn(make_frame(backend, data), sensitive=sensitive, **roles, **kwargs)


def column(backend: str, role: str) -> str:
    """The name a message gives the column of ``role``."""
    return role if backend == "numpy" else ROLES[role]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(params=DATA_BACKENDS)
def data_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


BASE = {
    "y": [0, 1, 0, 1, 1, 0, 1, 1, 0, 1, 0, 0],
    "p": [0, 0, 0, 1, 1, 0, 1, 1, 1, 1, 0, 1],
    "g": ["a", "a", "a", "a", "b", "b", "b", "b", "c", "c", "c", "c"],
    "h": ["x", "y", "x", "y", "x", "y", "x", "y", "x", "x", "y", "y"],
    "w": [1.0, 2.0, 0.5, 1.0, 1.0, 3.0, 1.0, 1.0, 2.0, 1.0, 1.0, 0.25],
    "s": [0.1, 0.4, 0.2, 0.9, 0.8, 0.3, 0.7, 0.6, 0.55, 0.95, 0.05, 0.5],
}

SCENARIOS: dict[str, tuple[dict[str, list[Any]], dict[str, Any]]] = {
    "binary": (BASE, {}),
    "weights-scores": (BASE, {"sample_weight": "w", "score": "s"}),
    "two-attributes": (BASE, {"sensitive": ["g", "h"], "sample_weight": "w"}),
    "intersectional-privileged": (
        BASE,
        {"sensitive": ["g", "h"], "intersectional": True, "privileged": {"g": "b"}},
    ),
    "bootstrap": (BASE, {"bootstrap": 20, "seed": 3, "reference": {"g": "c"}}),
    "string-labels": (
        {
            **BASE,
            "y": ["yes" if v else "no" for v in BASE["y"]],
            "p": ["yes" if v else "no" for v in BASE["p"]],
        },
        {"pos_label": "yes"},
    ),
    "bool-labels": (
        {**BASE, "y": [bool(v) for v in BASE["y"]], "p": [bool(v) for v in BASE["p"]]},
        {},
    ),
    "pos-label-0": (BASE, {"pos_label": 0}),
    "numeric-sensitive": ({**BASE, "g": [18, 18, 18, 18, 30, 30, 30, 30, 65, 65, 65, 65]}, {}),
    "multiclass": ({**BASE, "y": list("ABCABCABCABC"), "p": list("ABBACCABCCBA")}, {}),
    "regression": (
        {**BASE, "y": [float(v) for v in range(12)], "p": [v + 0.5 * (v % 3) for v in range(12)]},
        {"sample_weight": "w"},
    ),
}


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_same_numbers_on_every_backend(backend: str, scenario: str) -> None:
    data, kwargs = SCENARIOS[scenario]
    expected = run("dict", data, **kwargs).to_dict()
    got = run(backend, data, **kwargs).to_dict()
    assert_same(got, expected)


def test_known_numbers_on_every_backend(backend: str) -> None:
    report = run(backend, BASE)
    # selection rate: a 1/4, b 3/4, c 3/4; overall 7/12
    assert [g.group for g in report.by_group] == [{"g": "a"}, {"g": "b"}, {"g": "c"}]
    assert [g.count for g in report.by_group] == [4, 4, 4]
    assert report.overall["selection_rate"] == pytest.approx(7 / 12)
    assert report.difference("selection_rate") == pytest.approx(0.5)
    assert report.ratio("selection_rate") == pytest.approx(1 / 3)
    weighted = run(backend, BASE, sample_weight="w")
    # a: selected row 3 (w 1) of weight 4.5
    assert weighted.by_group[0].metrics["selection_rate"] == pytest.approx(1 / 4.5)
    assert weighted.counts.weighted is True


def test_count_groups_on_every_backend(backend: str) -> None:
    counts = run(backend, BASE, fn=trustops.count_groups, sensitive=["g", "h"])
    assert isinstance(counts, trustops.GroupCounts)
    assert counts.attributes == ("g", "h")
    assert counts.levels == (("a", "b", "c"), ("x", "y"))
    assert counts.rows.shape == (3, 2, 2, 2)
    assert counts.n_rows == 12


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(
            lambda v: pd.Series(pd.Categorical(v, categories=["c", "b", "a", "zz"])),
            id="pandas-category",
        ),
        pytest.param(lambda v: pl.Series(v, dtype=pl.Categorical), id="polars-categorical"),
        pytest.param(
            lambda v: pl.Series(v, dtype=pl.Enum(["c", "b", "a", "zz"])), id="polars-enum"
        ),
        pytest.param(
            lambda v: pa.array(pd.Categorical(v, categories=["c", "b", "a", "zz"])),
            id="pyarrow-dictionary",
        ),
        pytest.param(
            lambda v: pa.chunked_array(
                [pa.array(v[:6]).dictionary_encode(), pa.array(v[6:]).dictionary_encode()]
            ),
            id="pyarrow-dictionary-chunks",
        ),
    ],
)
def test_categorical_sensitive_columns_give_the_same_groups(make: Callable[[list], Any]) -> None:
    expected = run("dict", BASE).to_dict()
    col = make(BASE["g"])
    if isinstance(col, pd.Series):
        frame: Any = pd.DataFrame({"y": BASE["y"], "p": BASE["p"]}).assign(g=col)
    elif isinstance(col, pl.Series):
        frame = pl.DataFrame({"y": BASE["y"], "p": BASE["p"]}).with_columns(col.alias("g"))
    else:
        frame = pa.table({"y": BASE["y"], "p": BASE["p"], "g": col})
    report = trustops.assess_fairness(frame, y_true="y", y_pred="p", sensitive="g")
    got = report.to_dict()
    assert got["small_groups"] == []  # no phantom groups from unused categories
    assert_same(got, expected)


def test_arrays_without_data_name_the_sensitive_feature() -> None:
    y, p = np.asarray(BASE["y"]), np.asarray(BASE["p"])
    report = trustops.assess_fairness(y_true=y, y_pred=p, sensitive=np.asarray(BASE["g"]))
    assert report.attributes == ("sensitive_feature_0",)
    named = trustops.assess_fairness(
        y_true=pd.Series(y), y_pred=list(BASE["p"]), sensitive=pd.Series(BASE["g"], name="g")
    )
    assert named.attributes == ("g",)
    frame = trustops.assess_fairness(
        y_true=y, y_pred=p, sensitive=pd.DataFrame({"g": BASE["g"], "h": BASE["h"]})
    )
    assert frame.attributes == ("g", "h")
    assert_same(named.to_dict(), run("dict", BASE).to_dict())


# --- bad input ------------------------------------------------------------------


def _raises(expected: type[TrustOpsError], call: Callable[[], Any], *names: str) -> TrustOpsError:
    with pytest.raises(expected) as info:
        call()
    err = info.value
    assert isinstance(err, TrustOpsError)
    for name in names:
        assert name in str(err), f"{name!r} not in {str(err)!r}"
    return err


@pytest.mark.parametrize("role", ["y_true", "y_pred", "sensitive", "score", "sample_weight"])
def test_missing_column(data_backend: str, role: str) -> None:
    kwargs = {"sensitive": "nope"} if role == "sensitive" else {role: "nope"}
    err = _raises(MissingColumnError, lambda: run(data_backend, BASE, **kwargs), "'nope'")
    assert isinstance(err, KeyError) and isinstance(err, InputError)
    assert err.column == "nope"  # type: ignore[attr-defined]
    assert "available: y, p, g" in str(err)


def test_non_binary_labels_with_binary_task(backend: str) -> None:
    data = {**BASE, "y": [0, 1, 2] * 4}
    err = _raises(
        LabelError,
        lambda: run(backend, data, task="binary"),
        repr(column(backend, "y_true")),
        "found 3",
    )
    assert err.column == column(backend, "y_true")  # type: ignore[attr-defined]
    pred = {**BASE, "p": ["u", "v", "w"] * 4}
    _raises(LabelError, lambda: run(backend, pred, task="binary"), repr(column(backend, "y_pred")))


@pytest.mark.parametrize("missing", [None, math.nan], ids=["None", "NaN"])
@pytest.mark.parametrize("role", ["y_true", "y_pred"])
def test_missing_values_in_labels(backend: str, role: str, missing: Any) -> None:
    key = ROLES[role]
    values = [float(v) for v in BASE[key]]
    values[2] = values[7] = missing
    err = _raises(
        MissingValuesError,
        lambda: run(backend, {**BASE, key: values}),
        repr(column(backend, role)),
        "2 missing",
    )
    assert err.column == column(backend, role)  # type: ignore[attr-defined]
    assert err.count == 2  # type: ignore[attr-defined]


def test_null_in_sensitive_is_an_error_or_a_group(backend: str) -> None:
    g = list(BASE["g"])
    g[0] = None
    data = {**BASE, "g": g}
    err = _raises(MissingValuesError, lambda: run(backend, data), "'g'", "1 missing")
    assert err.hint is not None and "missing='group'" in err.hint
    report = run(backend, data, missing="group")
    assert [g.group for g in report.by_group] == [{"g": "a"}, {"g": "b"}, {"g": "c"}, {"g": None}]
    assert [g.count for g in report.by_group] == [3, 4, 4, 1]
    assert report.by_group[3].metrics["selection_rate"] == 0.0
    with pytest.raises(UsageError, match="missing"):
        run(backend, data, missing="drop")


def test_nan_in_numeric_sensitive_with_missing_group(backend: str) -> None:
    g = [1.0, 1.0, 1.0, 1.0, 2.0, 2.0, 2.0, 2.0, math.nan, math.nan, 2.0, 1.0]
    report = run(backend, {**BASE, "g": g}, missing="group")
    assert [r.group["g"] for r in report.by_group] == [1.0, 2.0, None]
    assert [r.count for r in report.by_group] == [5, 5, 2]


def test_empty_data(backend: str) -> None:
    empty = {"y": [], "p": [], "g": []}
    _raises(EmptyDataError, lambda: run(backend, empty), "no rows")


def test_single_group_gives_explicit_none_disparities(backend: str) -> None:
    report = run(backend, {**BASE, "g": ["a"] * 12})
    assert len(report.by_group) == 1
    assert report.difference("selection_rate") is None
    assert report.ratio("true_positive_rate") is None
    assert report.aggregates["demographic_parity_difference"] is None
    assert any(
        u.scope == "disparity" and u.metric == "selection_rate" and "only one group" in u.reason
        for u in report.undefined
    )


def test_unknown_metric(backend: str) -> None:
    report = run(backend, BASE)
    err = _raises(UnknownMetricError, lambda: report.difference("nope"), "'nope'")
    assert isinstance(err, KeyError)
    assert "selection_rate" in str(err)  # lists the known metrics


@pytest.mark.parametrize("pos_label", ["maybe", 1])
def test_pos_label_not_among_string_labels(backend: str, pos_label: Any) -> None:
    data = {
        **BASE,
        "y": ["yes" if v else "no" for v in BASE["y"]],
        "p": ["yes" if v else "no" for v in BASE["p"]],
    }
    err = _raises(
        LabelError,
        lambda: run(backend, data, pos_label=pos_label),
        repr(column(backend, "y_true")),
        repr(pos_label),
    )
    assert err.hint is not None and "pos_label" in err.hint


def test_negative_or_non_finite_weights(backend: str) -> None:
    name = repr(column(backend, "sample_weight"))
    for bad in (-1.0, math.inf):
        w = list(BASE["w"])
        w[4] = bad
        err = _raises(
            InputError, lambda w=w: run(backend, {**BASE, "w": w}, sample_weight="w"), name
        )
        assert "non-negative" in str(err)


def test_score_outside_unit_interval(backend: str) -> None:
    name = repr(column(backend, "score"))
    for bad in (1.5, -0.1):
        s = list(BASE["s"])
        s[0] = bad
        err = _raises(InputError, lambda s=s: run(backend, {**BASE, "s": s}, score="s"), name)
        assert "[0, 1]" in str(err)


def test_unknown_privileged_value(backend: str) -> None:
    err = _raises(UsageError, lambda: run(backend, BASE, privileged={"g": "zz"}), "'zz'", "'g'")
    assert err.hint is not None and "a, b, c" in err.hint
    _raises(UsageError, lambda: run(backend, BASE, privileged={"nope": "a"}), "'nope'")


def test_unknown_task_and_lengths() -> None:
    _raises(UsageError, lambda: run("dict", BASE, task="ranking"), "'ranking'")
    _raises(InputError, lambda: run("dict", {**BASE, "p": BASE["p"][:-1]}), "'y_pred'", "11")
    _raises(
        InputError,
        lambda: trustops.assess_fairness([[0, 1]], y_true="y", y_pred="p", sensitive="g"),
        "list",
    )
    _raises(
        UsageError,
        lambda: trustops.assess_fairness(BASE, y_true=[0, 1], y_pred="p", sensitive="g"),
        "y_true",
    )
