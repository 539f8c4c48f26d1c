"""trustops.detect_drift: every mode, any source, bad input named."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import trustops
from trustops.core.drift.compat import evidently_drift, nannyml_drift
from trustops.errors import InputError, MissingColumnError, UsageError


@pytest.fixture(scope="module")
def frames() -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(42)
    n = 4000
    ref = pd.DataFrame(
        {
            "num": rng.normal(size=n),
            "steady": rng.uniform(size=n),
            "cat": rng.choice(["a", "b", "c"], n, p=[0.6, 0.3, 0.1]),
            "pred": rng.integers(0, 2, n),
        }
    )
    cur = pd.DataFrame(
        {
            "num": rng.normal(0.8, 1.0, size=n),
            "steady": rng.uniform(size=n),
            "cat": rng.choice(["a", "b", "c"], n, p=[0.2, 0.3, 0.5]),
            "pred": rng.integers(0, 2, n),
        }
    )
    return ref, cur


def test_profile_mode_any_source_same_answer(frames, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    ref, cur = frames
    expected = trustops.detect_drift(ref, cur).to_dict()
    assert expected["drifted_columns"] == ["num", "cat"]
    pq.write_table(pa.Table.from_pandas(cur), tmp_path / "cur.parquet")
    sources = [
        pl.from_pandas(cur),
        pl.from_pandas(cur).lazy(),
        pa.Table.from_pandas(cur),
        str(tmp_path / "cur.parquet"),
    ]
    for source in sources:
        got = trustops.detect_drift(ref, source).to_dict()
        assert got["columns"] == expected["columns"], type(source)


def test_stored_reference_profile_gives_the_same_report(frames, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    ref, cur = frames
    reference = trustops.profile(ref)
    trustops.save_profile(reference, tmp_path / "ref.tprof")
    again = trustops.load_profile(tmp_path / "ref.tprof")
    assert trustops.detect_drift(again, cur).to_dict() == trustops.detect_drift(ref, cur).to_dict()
    current = trustops.profile(cur, reference=again)
    assert trustops.detect_drift(again, current).drifted_columns == ["num", "cat"]


def test_prediction_and_target_roles(frames) -> None:  # type: ignore[no-untyped-def]
    ref, cur = frames
    r = trustops.detect_drift(ref, cur, prediction="pred")
    assert r.prediction_drift is not None and r.prediction_drift.column == "pred"
    assert [c.column for c in r.features] == ["num", "steady", "cat"]
    d = r.to_dict()
    assert d["prediction_drift"]["column"] == "pred" and d["target_drift"] is None


def test_exact_mode_equals_scipy(frames) -> None:  # type: ignore[no-untyped-def]
    from scipy import stats

    ref, cur = frames
    r = trustops.detect_drift(ref, cur, exact=True, method="ks", columns=["num", "steady"])
    for c in r.columns:
        expected = stats.ks_2samp(ref[c.column], cur[c.column])
        assert (c.statistic, c.p_value) == (expected.statistic, expected.pvalue)
    assert r.mode == "exact"


def test_compat_modes_match_the_core_compat_functions(frames) -> None:  # type: ignore[no-untyped-def]
    ref, cur = frames
    ev = trustops.detect_drift(ref, cur, compat="evidently", columns=["num", "cat"])
    direct = evidently_drift(ref["num"].to_numpy(), cur["num"].to_numpy(), kind="numeric")
    assert ev.column("num").statistic == direct.statistic
    assert ev.column("num").method == direct.method == "wasserstein"  # n_ref > 1000
    nm = trustops.detect_drift(ref, cur, compat="nannyml", method="ks", columns=["num"])
    direct = nannyml_drift(
        ref["num"].to_numpy(), cur["num"].to_numpy(), kind="numeric", method="kolmogorov_smirnov"
    )
    assert nm.column("num").statistic == direct.statistic
    assert nm.mode == "nannyml"
    with pytest.raises(UsageError, match="NannyML has no 'psi'"):
        trustops.detect_drift(ref, cur, compat="nannyml", method="psi")


def test_datetime_columns_are_compared_only_when_named() -> None:
    t1 = pd.DataFrame(
        {"x": np.arange(3000.0), "t": pd.date_range("2024-01-01", periods=3000, freq="h")}
    )
    t2 = pd.DataFrame(
        {"x": np.arange(3000.0), "t": pd.date_range("2025-01-01", periods=3000, freq="h")}
    )
    assert [c.column for c in trustops.detect_drift(t1, t2).columns] == ["x"]
    named = trustops.detect_drift(t1, t2, columns=["t"])
    assert named.column("t").kind == "datetime" and named.column("t").drift_detected


def test_bad_input_is_named(frames, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    ref, cur = frames
    with pytest.raises(MissingColumnError, match="'nope'"):
        trustops.detect_drift(ref, cur, columns=["nope"])
    with pytest.raises(MissingColumnError, match="'num'"):
        trustops.detect_drift(ref, cur.drop(columns=["num"]))
    changed = cur.assign(num=cur["num"].astype(str))
    with pytest.raises(InputError, match="'num' changed type"):
        trustops.detect_drift(ref, changed)
    with pytest.raises(InputError, match="'num' changed type"):
        trustops.detect_drift(ref, changed, exact=True)
    with pytest.raises(UsageError, match="unknown drift method"):
        trustops.detect_drift(ref, cur, method="nope")
    with pytest.raises(UsageError, match="unknown compatibility mode"):
        trustops.detect_drift(ref, cur, compat="whylogs")
    with pytest.raises(UsageError, match="need raw data"):
        trustops.detect_drift(trustops.profile(ref), cur, exact=True)
    (tmp_path / "broken.tprof").write_bytes(b"TPROF\x01garbage")
    with pytest.raises(InputError, match=r"broken\.tprof"):
        trustops.load_profile(tmp_path / "broken.tprof")
    (tmp_path / "future.tprof").write_bytes(b"TPROF\x09")
    with pytest.raises(InputError, match="version 9"):
        trustops.load_profile(tmp_path / "future.tprof")


def test_all_null_and_empty_inputs_are_explicit() -> None:
    ref = pa.table({"x": [1.0, 2.0, 3.0] * 100, "y": [1.0] * 300})
    cur = pa.table({"x": pa.array([None] * 50, pa.float64()), "y": [1.0] * 50})
    r = trustops.detect_drift(ref, cur)
    assert r.column("x").drift_detected is None and "missing" in (r.column("x").note or "")
    empty = pa.table({"x": pa.array([], pa.float64()), "y": pa.array([], pa.float64())})
    e = trustops.detect_drift(ref, empty)
    assert e.current_rows == 0 and all(c.drift_detected is None for c in e.columns)
    assert json.loads(json.dumps(e.to_dict()))["share_drifted"] == 0.0


def test_domain_classifier_sees_a_broken_correlation() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=6000)
    ref = pd.DataFrame(
        {"a": x, "b": x + rng.normal(0, 0.2, 6000), "g": rng.choice(["u", "v"], 6000)}
    )
    y = rng.normal(size=6000)
    cur = pd.DataFrame(
        {"a": y, "b": -y + rng.normal(0, 0.2, 6000), "g": rng.choice(["u", "v"], 6000)}
    )
    report = trustops.detect_drift(ref, cur, multivariate=True)
    assert report.drifted_columns == []  # every marginal is unchanged
    m = report.to_dict()["details"]["multivariate"]
    assert m["drift_detected"] and m["auc"] > 0.9
    assert {f["column"] for f in m["top_features"][:2]} == {"a", "b"}
    same = trustops.detect_drift(ref, ref.sample(frac=1.0, random_state=1), multivariate=True)
    assert not same.details["multivariate"]["drift_detected"]
    with pytest.raises(UsageError, match="needs raw rows"):
        trustops.detect_drift(trustops.profile(ref), cur, multivariate=True)
