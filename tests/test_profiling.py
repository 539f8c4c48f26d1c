"""trustops.profiling: reference then current, errors, progress, and profile files."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import trustops
from trustops.core.profiles import (
    CategoricalProfile,
    DatasetProfile,
    NumericProfile,
    ProfileFormatError,
    TypeChangedError,
    to_bytes,
)
from trustops.errors import InputError, MissingColumnError, UnsupportedError, UsageError
from trustops.profiling import (
    OutcomeSpec,
    is_profile_file,
    load_profile,
    profile,
    save_profile,
    source_rows,
)


@pytest.fixture(scope="module")
def ref_table() -> pa.Table:
    rng = np.random.default_rng(0)
    n = 2000
    return pa.table(
        {
            "age": rng.integers(18, 80, n),
            "income": rng.lognormal(10, 1, n),
            "city": rng.choice(["Oslo", "Lima", "Pune"], n),
            "race": rng.choice(["A", "B"], n),
            "y": rng.integers(0, 2, n),
            "p": rng.integers(0, 2, n),
        }
    )


@pytest.fixture(scope="module")
def ref(ref_table: pa.Table) -> DatasetProfile:
    return profile(ref_table)


def numeric(p: DatasetProfile, name: str) -> NumericProfile:
    col = p.columns[name]
    assert isinstance(col, NumericProfile)
    return col


def test_a_reference_has_histograms_on_its_own_quantiles(ref: DatasetProfile) -> None:
    age = numeric(ref, "age")
    assert age.histogram is not None and ref.plan.edges["age"] is age.histogram.edges
    assert age.histogram.below == age.histogram.above == 0
    assert age.histogram.counts.sum() == age.count == 2000
    assert age.histogram.edges[0] == 18 and age.histogram.edges[-2] == 79
    assert set(ref.plan.edges) == {"age", "income", "y", "p"}
    assert ref.plan.kinds["city"] == "categorical"


def test_the_current_profile_bins_on_the_reference_edges(
    ref: DatasetProfile, ref_table: pa.Table
) -> None:
    older = ref_table.set_column(0, "age", pa.compute.add(ref_table.column("age"), 30))
    cur = profile(older, reference=ref)
    age = numeric(cur, "age")
    assert age.histogram is not None
    assert np.array_equal(age.histogram.edges, ref.plan.edges["age"])
    above = int(np.sum(older.column("age").to_numpy() > 79))
    assert age.histogram.above == above > 0 and age.histogram.below == 0
    younger = profile(pa.table({"age": [1, 2, 18, 79, 80]}), reference=ref, columns=["age"])
    hist = numeric(younger, "age").histogram
    assert hist is not None and (hist.below, hist.above, hist.in_range.sum()) == (2, 1, 2)
    # The reference's maximum is in range, anything above it is out.
    assert profile(ref_table, reference=ref) == ref


def test_a_reference_given_as_data_is_profiled_with_the_same_settings(
    ref_table: pa.Table,
) -> None:
    cur = profile(ref_table, reference=ref_table, max_categories=2, bins=5)
    city = cur.columns["city"]
    assert isinstance(city, CategoricalProfile) and not city.exact  # the cap reached the reference
    assert cur.plan.max_categories == 2 and cur.plan.bins == 5
    assert len(cur.plan.edges["age"]) <= 7


def test_a_changed_type_is_named(ref: DatasetProfile, ref_table: pa.Table) -> None:
    as_text = ref_table.set_column(0, "age", pa.compute.cast(ref_table.column("age"), pa.string()))
    with pytest.raises(TypeChangedError, match="'age' changed type: numeric in the reference"):
        profile(as_text, reference=ref)


def test_missing_columns(ref: DatasetProfile, ref_table: pa.Table) -> None:
    with pytest.raises(MissingColumnError, match="'nope'"):
        profile(ref_table, columns=["age", "nope"])
    with pytest.raises(MissingColumnError, match="reference profile's column 'nope'"):
        profile(ref_table, reference=ref, columns=["nope"])
    with pytest.raises(MissingColumnError, match="'city'"):
        profile(ref_table.drop_columns(["city"]), reference=ref)
    only = profile(ref_table, reference=ref, columns=["age"])
    assert list(only.columns) == ["age"] and only.columns["age"] == ref.columns["age"]


def test_an_all_null_column() -> None:
    table = pa.table({"x": pa.array([None] * 5, pa.float64()), "n": pa.nulls(5), "s": [None] * 5})
    p = profile(table)
    assert p.rows == 5 and p.kinds == {"x": "numeric", "n": "null", "s": "null"}
    assert all((c.count, c.nulls) == (0, 5) for c in p.columns.values())
    assert "x" not in p.plan.edges  # nothing to place edges on
    cur = profile(pa.table({"x": [1.0, None], "n": [2.0, 3.0], "s": ["a", "b"]}), reference=p)
    assert cur.kinds == {"x": "numeric", "n": "numeric", "s": "categorical"}
    assert numeric(cur, "x").histogram is None


def test_an_empty_table(ref: DatasetProfile, ref_table: pa.Table) -> None:
    empty = ref_table.slice(0, 0)
    p = profile(empty)
    assert p.rows == 0 and p.kinds == ref.kinds and not p.plan.edges
    assert all(c.total == 0 for c in p.columns.values())
    cur = profile(empty, reference=ref)
    assert cur.rows == 0 and numeric(cur, "age").histogram is not None
    assert profile(pd.DataFrame({"x": pd.Series([], dtype=float)})).rows == 0


def test_progress_counts_every_row_of_every_read(ref: DatasetProfile, ref_table: pa.Table) -> None:
    seen: list[int] = []
    profile(ref_table, batch_size=300, progress=seen.append)
    # Sketches, the edge grid, its refinement (integer columns: repeated values), histograms.
    assert sum(seen) == 4 * 2000 and max(seen) <= 300
    seen.clear()
    profile(ref_table, reference=ref, batch_size=300, progress=seen.append)
    assert sum(seen) == 2000  # one read on the reference's edges
    seen.clear()
    profile(ref_table.select(["city"]), progress=seen.append)
    assert sum(seen) == 2000  # no numeric column: no second read


def test_outcomes(ref: DatasetProfile, ref_table: pa.Table) -> None:
    spec = {"sensitive": ["race"], "y_true": "y", "y_pred": "p"}
    p = profile(ref_table, reference=ref, columns=["age"], outcomes=spec, batch_size=700)
    assert list(p.columns) == ["age"]  # outcome columns are read, not profiled
    expected = trustops.count_groups(ref_table, sensitive="race", y_true="y", y_pred="p")
    assert p.outcomes is not None
    assert np.array_equal(p.outcomes.sorted_levels().rows, expected.sorted_levels().rows)
    with pytest.raises(UsageError, match="'y_pred'"):
        profile(ref_table, outcomes={"sensitive": "race", "y_true": "y"})
    assert OutcomeSpec.of({"sensitive": "race", "y_true": "y", "y_pred": "p"}) == OutcomeSpec(
        ("race",), "y", "p"
    )


def test_a_profile_is_returned_as_is(ref: DatasetProfile) -> None:
    assert profile(ref) is ref
    assert source_rows(ref) is None and source_rows(pa.table({"a": [1, 2]})) == 2
    assert source_rows(object()) is None


# --- files -------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["ref.json", "ref.tprof", "nested/dir/ref.bin"])
def test_save_and_load(ref: DatasetProfile, tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    save_profile(ref, path)
    assert load_profile(path) == ref and is_profile_file(path)
    assert list(path.parent.iterdir()) == [path]  # no temporary file left
    assert not is_profile_file(tmp_path) and not is_profile_file(tmp_path / "missing")


def test_a_failed_save_leaves_the_old_file_and_no_other(
    ref: DatasetProfile, tmp_path: Path
) -> None:
    path = tmp_path / "ref.tprof"
    save_profile(ref, path)
    before = path.read_bytes()
    # Fails before writing: the outcome table of a regression cannot be saved yet.
    regression = trustops.count_groups(
        pa.table({"g": ["a", "b"], "y": [1.0, 2.0], "p": [1.5, 2.5]}),
        sensitive="g",
        y_true="y",
        y_pred="p",
        task="regression",
    )
    with pytest.raises(UnsupportedError):
        save_profile(ref.with_outcomes(regression), path)
    assert path.read_bytes() == before
    # Fails at the rename: the target is a directory.
    target = tmp_path / "taken"
    (target / "inside").mkdir(parents=True)
    with pytest.raises(InputError, match="cannot write"):
        save_profile(ref, target)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ref.tprof", "taken"]
    assert [p.name for p in target.iterdir()] == ["inside"]
    # Fails at the folder: a file stands where a folder should be.
    with pytest.raises(InputError, match="cannot write"):
        save_profile(ref, path / "under-a-file.json")
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ref.tprof", "taken"]


def test_load_errors_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not found"):
        load_profile(tmp_path / "missing.tprof")
    bad = tmp_path / "bad.tprof"
    bad.write_bytes(b"TPROF\x01 not zlib")
    with pytest.raises(ProfileFormatError, match=r"^bad\.tprof: profile file is corrupt"):
        load_profile(bad)
    bad.write_bytes(to_bytes(profile(pa.table({"a": [1]})))[:-5])
    with pytest.raises(ProfileFormatError, match=r"bad\.tprof"):
        load_profile(bad)


def test_saved_file_permissions_follow_the_umask(ref: DatasetProfile, tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        save_profile(ref, tmp_path / "ref.tprof")
    finally:
        os.umask(old)
    assert (tmp_path / "ref.tprof").stat().st_mode & 0o777 == 0o644
