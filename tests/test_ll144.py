"""trustops.ll144_audit over every input kind, and every bad input named by its column."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

import trustops
from tests.core.test_ll144 import worked_example_rows
from trustops.errors import (
    EmptyDataError,
    InputError,
    LabelError,
    MissingColumnError,
    MissingValuesError,
    UsageError,
)

ROLES = {"sex": "sex", "race": "race", "score": "score"}


@pytest.fixture(scope="module")
def expected() -> dict[str, Any]:
    return trustops.ll144_audit(worked_example_rows(), **ROLES).to_dict()


@pytest.mark.parametrize("kind", ["dict", "pandas", "polars", "polars-lazy", "arrow"])
def test_every_frame_gives_the_same_audit(kind: str, expected: dict[str, Any]) -> None:
    rows = worked_example_rows()
    data: Any = {
        "dict": lambda: rows,
        "pandas": lambda: pd.DataFrame(rows),
        "polars": lambda: pl.DataFrame(rows),
        "polars-lazy": lambda: pl.DataFrame(rows).lazy(),
        "arrow": lambda: pa.table(rows),
    }[kind]()
    assert trustops.ll144_audit(data, **ROLES).to_dict() == expected


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_files_give_the_same_audit(suffix: str, tmp_path: Path, expected: dict[str, Any]) -> None:
    path = tmp_path / f"applicants{suffix}"
    table = pa.table(worked_example_rows())
    if suffix == ".csv":
        pacsv.write_csv(table, path)
    else:
        pq.write_table(table, path)
    assert trustops.ll144_audit(path, **ROLES).to_dict() == expected
    assert trustops.ll144_audit(str(path), **ROLES).to_dict() == expected


def test_pandas_nan_and_categorical_columns_are_unknown_categories() -> None:
    df = pd.DataFrame(
        {
            "sex": pd.Categorical(["Male", "Female", None, "Female"]),
            "race": ["White", float("nan"), "Asian", "Asian"],
            "hired": [True, False, True, False],
        }
    )
    audit = trustops.ll144_audit(df, sex="sex", race="race", selected="hired", exclude_below=None)
    assert (audit.sex.unknown, audit.race.unknown, audit.intersectional.unknown) == (1, 1, 2)
    assert audit.race.reference == {"race": "White"}
    assert audit.race.row(race="Asian").impact_ratio == 0.5


@pytest.mark.parametrize(
    "selected", [[1, 0, 1, 0], [True, False, True, False], [1.0, 0.0, 1.0, 0.0]]
)
def test_selected_may_be_bool_int_or_float(selected: list[Any]) -> None:
    data = {"s": ["M", "M", "F", "F"], "r": ["a", "b", "a", "b"], "y": selected}
    audit = trustops.ll144_audit(data, sex="s", race="r", selected="y", exclude_below=None)
    assert [r.rate for r in audit.sex.rows] == [0.5, 0.5]


BASE = {"sex": ["M", "F"], "race": ["a", "b"], "hired": [1, 0], "score": [0.1, 0.2]}


def _audit(data: Any = None, **kwargs: Any) -> trustops.LL144Audit:
    args = {"sex": "sex", "race": "race", "selected": "hired"} | kwargs
    return trustops.ll144_audit(BASE if data is None else data, **args)


@pytest.mark.parametrize(
    ("data", "kwargs", "error", "message"),
    [
        (None, {"sex": "gender"}, MissingColumnError, "sex column 'gender' not found"),
        (None, {"race": "ethnicity"}, MissingColumnError, "race column 'ethnicity' not found"),
        (None, {"selected": "chosen"}, MissingColumnError, "selected column 'chosen' not found"),
        (
            None,
            {"selected": None, "score": "rank"},
            MissingColumnError,
            "score column 'rank' not found",
        ),
        (BASE | {"hired": [1, 2]}, {}, LabelError, "column 'hired': must be binary.*found 2"),
        (
            BASE | {"hired": ["yes", "no"]},
            {},
            LabelError,
            "column 'hired': must be binary.*found 'yes'",
        ),
        (BASE | {"hired": [1, None]}, {}, MissingValuesError, "column 'hired' has 1 missing"),
        (
            BASE | {"score": [0.5, float("nan")]},
            {"selected": None, "score": "score"},
            MissingValuesError,
            "column 'score' has 1 missing",
        ),
        (
            BASE | {"score": ["high", "low"]},
            {"selected": None, "score": "score"},
            InputError,
            "column 'score' must hold numeric scores",
        ),
        (
            BASE | {"score": [1.0, float("inf")]},
            {"selected": None, "score": "score"},
            InputError,
            "column 'score' holds infinite scores",
        ),
        (None, {"score": "score"}, UsageError, "pass selected .*or score .*not both"),
        (None, {"selected": None}, UsageError, "pass selected=COLUMN .*or score=COLUMN"),
        (None, {"race": "sex"}, UsageError, "column 'sex' is given as both sex and race"),
        (None, {"exclude_below": 2}, UsageError, "exclude_below must be a share"),
        (None, {"exclusion_denominator": "x"}, UsageError, "exclusion_denominator must be one"),
        ({"sex": [], "race": [], "hired": []}, {}, EmptyDataError, "no rows"),
    ],
)
def test_bad_input_names_the_column(
    data: Any, kwargs: dict[str, Any], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        _audit(data, **kwargs)


def test_missing_column_in_a_file_names_its_role(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    pacsv.write_csv(pa.table(BASE), path)
    with pytest.raises(MissingColumnError, match="race column 'ethnicity' not found"):
        trustops.ll144_audit(path, sex="sex", race="ethnicity", selected="hired")
    with pytest.raises(InputError, match="not found"):
        trustops.ll144_audit(tmp_path / "nope.csv", sex="sex", race="race", selected="hired")


def test_an_empty_file_is_empty_data(tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_text("sex,race,hired\n")
    with pytest.raises(EmptyDataError):
        trustops.ll144_audit(path, sex="sex", race="race", selected="hired")
