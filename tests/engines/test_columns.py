"""Encoding sensitive columns: every path gives the same groups as a plain factorize."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from trustops.engines import columns
from trustops.engines.columns import encode_groups


def _as_groups(enc: columns.EncodedGroups) -> list[object]:
    return [enc.levels[c] for c in enc.codes]


def _shared_objects(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    pool = np.array(["White", "Black", "Asian", None, "Other"], dtype=object)
    return pool[rng.integers(0, len(pool), n)]


@pytest.mark.parametrize("n", [columns.IDENTITY_MIN_ROWS, columns.IDENTITY_MIN_ROWS + 12_345])
def test_identity_path_equals_value_path(n: int) -> None:
    values = _shared_objects(n, seed=n)
    # equal strings held in distinct objects, and NaN as a null, late in the column
    values[-3] = "".join(["Wh", "ite"])
    values[-2] = float("nan")
    values[-1] = "Late"
    fast = columns._factorize_by_identity(values)
    assert fast is not None  # the path under test was taken
    codes, levels = pd.factorize(pd.Series(values), use_na_sentinel=True)
    expected = [None if c < 0 else levels[c] for c in codes]
    got = [None if c < 0 else fast[1][c] for c in fast[0]]
    assert got == expected
    enc = encode_groups(pd.Series(values), "race", missing="group")
    assert _as_groups(enc) == expected
    assert sorted(str(v) for v in enc.levels) == sorted(
        ["Asian", "Black", "Late", "Other", "White", "None"]
    )


def test_identity_path_declines_distinct_objects() -> None:
    n = columns.IDENTITY_MIN_ROWS
    values = np.array([f"id{i % 7}" + "" for i in range(n)], dtype=object)
    values = np.array(["".join(["x", str(v)]) for v in values], dtype=object)  # all distinct
    assert columns._factorize_by_identity(values) is None
    enc = encode_groups(pd.Series(values), "g")
    assert len(enc.levels) == 7


def test_small_columns_use_the_plain_path() -> None:
    assert columns._factorize_by_identity(_shared_objects(1000, 0)) is None


@pytest.mark.parametrize(
    "column",
    [
        pd.Series(["b", "a", None, "b"]),
        pd.Series(["b", "a", None, "b"], dtype="category"),
        pa.array(["b", "a", None, "b"]),
        pa.array(["b", "a", None, "b"]).dictionary_encode(),
        np.array(["b", "a", None, "b"], dtype=object),
    ],
    ids=["pandas", "pandas-category", "arrow", "arrow-dictionary", "numpy-object"],
)
def test_every_backend_gives_the_same_groups(column: object) -> None:
    enc = encode_groups(column, "g", missing="group")
    assert _as_groups(enc) == ["b", "a", None, "b"]


def test_mixed_types_and_integer_column_names() -> None:
    import trustops

    y = np.array([1, 0, 1, 0, 1, 0])
    mixed = np.array([1, "a", None, 1, "a", None], dtype=object)
    r = trustops.assess_fairness(y_true=y, y_pred=y, sensitive=mixed, missing="group")
    assert [g.group["sensitive_feature_0"] for g in r.by_group] == [1, "a", None]
    frame = pd.DataFrame(np.array([[0], [0], [1], [1], [2], [2]]))  # column named 0 (an int)
    r2 = trustops.assess_fairness(y_true=y, y_pred=y, sensitive=frame)
    assert [g.group["0"] for g in r2.by_group] == [0, 1, 2]


def test_nested_values_and_identifier_columns_are_input_errors() -> None:
    import trustops
    from trustops.errors import InputError

    y = np.array([1, 0] * 3)
    nested = pa.table({"y": y, "g": pa.array([[1], [2], [1], [2], [1], [2]])})
    with pytest.raises(InputError, match="nested"):
        trustops.assess_fairness(nested, y_true="y", y_pred="y", sensitive="g")
    n = 8000
    ids = {"y": np.arange(n) % 2, "a": np.arange(n), "b": np.arange(n)[::-1]}
    with pytest.raises(InputError, match="count table would have 256,000,000 cells"):
        trustops.assess_fairness(ids, y_true="y", y_pred="y", sensitive=["a", "b"])
