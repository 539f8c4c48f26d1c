"""NYC Local Law 144 bias audit straight from data: the Python entry point.

:func:`ll144_audit` validates the columns at the edge (names, selected
flags, scores), encodes sex and race/ethnicity (nulls are the unknown
category), counts the (sex, race) cells once and hands them to the pure core
(:mod:`trustops.core.ll144`, which holds the formulas and the rule).

Example:
    >>> import trustops
    >>> data = {"sex": ["Male", "Male", "Female", "Female", None],
    ...         "race": ["Asian", "White", "Asian", "White", "White"],
    ...         "hired": [1, 1, 1, 0, 0]}
    >>> audit = trustops.ll144_audit(data, sex="sex", race="race", selected="hired",
    ...                              exclude_below=None)
    >>> [(r.category["sex"], r.rate, r.impact_ratio) for r in audit.sex.rows]
    [('Male', 1.0, 1.0), ('Female', 0.5, 0.5)]
    >>> audit.sex.unknown, audit.race.reference
    (1, {'race': 'Asian'})
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from trustops.core.ll144 import (
    DEFAULT_EXCLUDE_BELOW,
    LL144Audit,
    above_median,
    bias_audit,
    check_settings,
    count_cells,
)
from trustops.engines.columns import check_lengths, encode_groups, get_column, to_numpy
from trustops.engines.sources import open_source
from trustops.errors import (
    InputError,
    LabelError,
    MissingColumnError,
    MissingValuesError,
    UsageError,
)

__all__ = ["LL144Audit", "ll144_audit"]


def _shown(value: Any) -> str:
    return repr(value.item() if isinstance(value, np.generic) else value)


def _selected(column: Any, name: str) -> np.ndarray:
    """A 0/1 or true/false column as booleans; the column is named in every error."""
    values, nulls = to_numpy(column, name)
    if nulls.any():
        raise MissingValuesError(
            name,
            int(nulls.sum()),
            hint="every individual must be marked selected (1/true) or not (0/false)",
        )
    if values.dtype.kind == "b":
        return values.astype(bool)
    if values.dtype.kind == "O" and all(
        isinstance(v, bool | int | float | np.bool_ | np.number) for v in values
    ):
        values = np.asarray([float(v) for v in values], dtype=np.float64)
    if values.dtype.kind in "iuf":
        bad = ~((values == 0) | (values == 1))
        if not bad.any():
            return np.asarray(values == 1)
        found = _shown(values[np.flatnonzero(bad)[0]])
    else:
        found = _shown(values[0])
    raise LabelError(
        name,
        f"must be binary, 0/1 or true/false (selected or not), found {found}",
        hint="map the tool's outcome to selected (1) or not (0) first, "
        "or pass scores with score=… for a scoring rate",
    )


def _scores(column: Any, name: str) -> np.ndarray:
    """Numeric, finite scores; the column is named in every error."""
    values, nulls = to_numpy(column, name)
    if nulls.any():
        raise MissingValuesError(
            name,
            int(nulls.sum()),
            hint="the median is over every individual's score: drop or score those rows",
        )
    if values.dtype.kind == "O" and all(
        isinstance(v, int | float | np.number) and not isinstance(v, bool | np.bool_)
        for v in values
    ):
        values = np.asarray(values, dtype=np.float64)
    if values.dtype.kind not in "iuf":
        raise InputError(f"column {name!r} must hold numeric scores, got {values.dtype}")
    scores = values.astype(np.float64)
    if not np.isfinite(scores).all():
        raise InputError(f"column {name!r} holds infinite scores")
    return scores


def _from_path(path: str | Path, roles: dict[str, str]) -> pa.Table:
    """Only the audit's columns of a CSV/Parquet file, a Parquet folder or glob, a duckdb: query."""
    source = open_source(path)
    names = source.schema.names
    for role, column in roles.items():
        if column not in names:
            raise MissingColumnError(column, available=names, role=role)
    source = source.select(list(dict.fromkeys(roles.values())))
    return pa.Table.from_batches(list(source.batches()), schema=source.schema)


def _roles(sex: Any, race: Any, selected: Any, score: Any) -> dict[str, str]:
    if selected is None and score is None:
        raise UsageError(
            "pass selected=COLUMN (a selection rate) or score=COLUMN (a scoring rate)",
            hint="selected marks who the tool selected; score holds the tool's scores",
        )
    if selected is not None and score is not None:
        raise UsageError(
            f"pass selected ({selected!r}) or score ({score!r}), not both",
            hint="an audit is of selection rates or of scoring rates",
        )
    roles = {"sex": sex, "race": race}
    roles |= {"selected": selected} if selected is not None else {"score": score}
    for role, column in roles.items():
        if not isinstance(column, str) or not column:
            raise UsageError(f"{role} must name a column of data, got {column!r}")
    seen: dict[str, str] = {}
    for role, column in roles.items():
        if column in seen:
            raise UsageError(f"column {column!r} is given as both {seen[column]} and {role}")
        seen[column] = role
    return roles


def ll144_audit(
    data: Any,
    *,
    sex: str,
    race: str,
    selected: str | None = None,
    score: str | None = None,
    exclude_below: float | None = DEFAULT_EXCLUDE_BELOW,
    exclusion_denominator: str = "known",
) -> LL144Audit:
    """A NYC Local Law 144 bias audit (6 RCNY §5-301) of an AEDT's outcomes in ``data``.

    Selection rates from ``selected`` (0/1 or true/false), or scoring rates
    from ``score`` (the share of a category scoring strictly above the median
    score of the whole sample); impact ratios against the category with the
    highest rate; separately for sex, race/ethnicity and their intersection.
    Null sex or race/ethnicity is the unknown category, counted per table.

    Args:
        data: a pandas/Polars/PyArrow table, a dict of columns, or a path: a
            CSV or Parquet file, a Parquet folder or glob, a ``duckdb:`` query.
        sex, race: columns of the EEO-1 sex and race/ethnicity categories.
        selected: column of the AEDT's selection (a selection rate) …
        score: … or column of its scores (a scoring rate); exactly one.
        exclude_below: categories under this share of the data are left out of
            the impact ratios and listed with a justification (default 0.02,
            the 2% the rule allows); ``None`` or 0 keeps every category.
        exclusion_denominator: the share is of the individuals of known
            category in the table (``"known"``, default) or of all (``"all"``).

    Raises:
        UsageError: neither or both of ``selected`` and ``score``; a column given
            twice; bad exclusion settings.
        MissingColumnError: a named column is not in the data.
        MissingValuesError: null selected flags or scores.
        LabelError: ``selected`` is not binary.
        InputError: non-numeric or infinite scores; unreadable data.
        EmptyDataError: the data has no rows.
    """
    roles = _roles(sex, race, selected, score)
    check_settings("selection", exclude_below, exclusion_denominator)
    if isinstance(data, str | Path):
        data = _from_path(data, roles)
    cols = {role: get_column(data, column, role) for role, column in roles.items()}
    check_lengths({roles[role]: col for role, col in cols.items()})
    sex_groups = encode_groups(cols["sex"], sex, missing="group")
    race_groups = encode_groups(cols["race"], race, missing="group")
    median: float | None = None
    if selected is not None:
        chosen = _selected(cols["selected"], selected)
    else:
        median, chosen = above_median(_scores(cols["score"], roles["score"]))
    cells = count_cells(
        sex_groups.codes, sex_groups.levels, race_groups.codes, race_groups.levels, chosen
    )
    return bias_audit(
        cells,
        method="selection" if selected is not None else "scoring",
        median=median,
        exclude_below=exclude_below,
        exclusion_denominator=exclusion_denominator,
        columns=roles,
    )
