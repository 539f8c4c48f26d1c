"""Declared checks against a profile: every rule's pass/fail/error/not_evaluable, parsing errors."""

from __future__ import annotations

import datetime as dt
import json
import math
from typing import Any

import pyarrow as pa
import pytest

from trustops.core.profiles import DatasetProfile, ProfilePlan, from_bytes, from_json, to_bytes
from trustops.core.profiles import to_json as profile_json
from trustops.core.quality.checks import (
    COLUMN_RULES,
    TABLE_RULES,
    CheckResult,
    ChecksError,
    ValidationReport,
    evaluate,
    format_duration,
    parse_checks,
    parse_duration,
)
from trustops.errors import InputError, UsageError

UTC = dt.UTC
NOW = dt.datetime(2025, 1, 10, 12, 0, tzinfo=UTC)
NEWEST = dt.datetime(2025, 1, 10, 0, 0, tzinfo=UTC)


def _table() -> pa.Table:
    times = [NEWEST - dt.timedelta(days=i) for i in range(10)]
    return pa.table(
        {
            "id": pa.array(range(10), pa.int64()),
            "dup_int": pa.array([1, 1, 2, 2, 3, 3, 4, 4, 5, 5], pa.int64()),
            "spread_int": pa.array([0, 10, 20, 30, 40, 50, 60, 70, 80, 80], pa.int64()),
            "f": pa.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, math.nan, None]),
            "inf": pa.array([1.0, math.inf, -math.inf, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]),
            "two_inf": pa.array([math.inf, math.inf, 0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]),
            "cat": pa.array(["a", "b", "a", "c", None, "a", "b", "b", "a", "z"]),
            "key": pa.array([f"k{i}" for i in range(9)] + [None]),
            "flag": pa.array([True, False] * 5),
            "ts": pa.array(times, pa.timestamp("us", tz="UTC")),
            "day": pa.array([d.date() for d in times], pa.date32()),
            "empty": pa.nulls(10),
            "lst": pa.array([[1]] * 10),
        }
    )


@pytest.fixture(scope="module")
def prof() -> DatasetProfile:
    t = _table()
    return DatasetProfile.zero(ProfilePlan(), t.schema).update(t)


def check(prof: DatasetProfile, spec: dict[str, Any], now: dt.datetime = NOW) -> CheckResult:
    report = evaluate(parse_checks(spec), prof, now=now)
    assert len(report.results) == 1
    return report.results[0]


def col(name: str, **rules: Any) -> dict[str, Any]:
    return {"columns": {name: rules}}


# (spec, rule, column, status, observed)
CASES: list[tuple[dict[str, Any], str, str | None, str, Any]] = [
    # required_columns
    ({"required_columns": ["id", "cat"]}, "required_columns", None, "pass", []),
    (
        {"required_columns": ["id", "nope", "gone"]},
        "required_columns",
        None,
        "fail",
        ["nope", "gone"],
    ),
    # row_count
    ({"row_count": {"min": 10, "max": 10}}, "row_count", None, "pass", 10),
    ({"row_count": {"min": 11}}, "row_count", None, "fail", 10),
    ({"row_count": {"max": 9}}, "row_count", None, "fail", 10),
    # freshness (newest ts is 12 hours before NOW)
    ({"freshness": {"column": "ts", "max_age": "24h"}}, "freshness", "ts", "pass", 43200.0),
    ({"freshness": {"column": "ts", "max_age": "6h"}}, "freshness", "ts", "fail", 43200.0),
    ({"freshness": {"column": "day", "max_age": "1d"}}, "freshness", "day", "pass", 43200.0),
    ({"freshness": {"column": "empty", "max_age": "1d"}}, "freshness", "empty", "fail", None),
    ({"freshness": {"column": "f", "max_age": "1d"}}, "freshness", "f", "error", None),
    ({"freshness": {"column": "nope", "max_age": "1d"}}, "freshness", "nope", "error", None),
    # type: kinds and Arrow names
    (col("id", type="numeric"), "type", "id", "pass", "int64"),
    (col("id", type="int64"), "type", "id", "pass", "int64"),
    (col("id", type="categorical"), "type", "id", "fail", "int64"),
    (col("f", type="float64"), "type", "f", "pass", "double"),
    (col("f", type="double"), "type", "f", "pass", "double"),
    (col("cat", type="string"), "type", "cat", "pass", "string"),
    (col("cat", type="utf8"), "type", "cat", "pass", "string"),
    (col("flag", type="boolean"), "type", "flag", "pass", "bool"),
    (col("ts", type="timestamp"), "type", "ts", "pass", "timestamp[us, tz=UTC]"),
    (col("ts", type="timestamp[us, tz=UTC]"), "type", "ts", "pass", "timestamp[us, tz=UTC]"),
    (col("ts", type="timestamp[ns]"), "type", "ts", "fail", "timestamp[us, tz=UTC]"),
    (col("day", type="datetime"), "type", "day", "pass", "date32[day]"),
    (col("empty", type="numeric"), "type", "empty", "fail", "null"),
    (col("nope", type="numeric"), "type", "nope", "error", None),
    # max_null_rate: NaN is missing, as null_rate
    (col("f", max_null_rate=0.2), "max_null_rate", "f", "pass", 0.2),
    (col("f", max_null_rate=0.1), "max_null_rate", "f", "fail", 0.2),
    (col("cat", max_null_rate=0.1), "max_null_rate", "cat", "pass", 0.1),
    (col("empty", max_null_rate=0.5), "max_null_rate", "empty", "fail", 1.0),
    (col("lst", max_null_rate=0), "max_null_rate", "lst", "pass", 0.0),
    (col("nope", max_null_rate=0.5), "max_null_rate", "nope", "error", None),
    # max_nan_rate
    (col("f", max_nan_rate=0.1), "max_nan_rate", "f", "pass", 0.1),
    (col("f", max_nan_rate=0.05), "max_nan_rate", "f", "fail", 0.1),
    (col("cat", max_nan_rate=0.05), "max_nan_rate", "cat", "error", None),
    # no_infinite
    (col("f", no_infinite=True), "no_infinite", "f", "pass", 0),
    (col("inf", no_infinite=True), "no_infinite", "inf", "fail", 2),
    (col("cat", no_infinite=True), "no_infinite", "cat", "error", None),
    # min / max: infinities count, NaN does not
    (col("f", min=1), "min", "f", "pass", 1.0),
    (col("f", min=1.5), "min", "f", "fail", 1.0),
    (col("f", max=8), "max", "f", "pass", 8.0),
    (col("f", max=7.5), "max", "f", "fail", 8.0),
    (col("inf", min=-1e300), "min", "inf", "fail", -math.inf),
    (col("inf", max=1e300), "max", "inf", "fail", math.inf),
    (col("empty", min=0), "min", "empty", "pass", None),
    (col("cat", min=0), "min", "cat", "error", None),
    (col("ts", min="2025-01-01"), "min", "ts", "pass", "2025-01-01T00:00:00Z"),
    (col("ts", min="2025-01-02T00:00:00+00:00"), "min", "ts", "fail", "2025-01-01T00:00:00Z"),
    (col("ts", max=dt.date(2025, 1, 10)), "max", "ts", "pass", "2025-01-10T00:00:00Z"),
    (col("ts", max="2025-01-09T23:59:59"), "max", "ts", "fail", "2025-01-10T00:00:00Z"),
    (col("ts", min=0), "min", "ts", "error", None),
    (col("f", min="2025-01-01"), "min", "f", "error", None),
    # allowed: exact category counts; text and booleans compared as text
    (col("cat", allowed=["a", "b", "c", "z"]), "allowed", "cat", "pass", []),
    (col("cat", allowed=["a", "b"]), "allowed", "cat", "fail", ["c", "z"]),
    (col("flag", allowed=[True, False]), "allowed", "flag", "pass", []),
    (col("flag", allowed=["true"]), "allowed", "flag", "fail", [False]),
    (col("empty", allowed=["a"]), "allowed", "empty", "pass", []),
    (col("f", allowed=[1, 2]), "allowed", "f", "not_evaluable", None),
    (col("nope", allowed=[1]), "allowed", "nope", "error", None),
    # unique: exact for text; integers by pigeonhole; other numerics not evaluable
    (col("key", unique=True), "unique", "key", "pass", 0),
    (col("cat", unique=True), "unique", "cat", "fail", 5),
    (col("flag", unique=True), "unique", "flag", "fail", 8),
    (col("dup_int", unique=True), "unique", "dup_int", "fail", None),
    (col("spread_int", unique=True), "unique", "spread_int", "not_evaluable", None),
    (col("id", unique=True), "unique", "id", "not_evaluable", None),
    (col("two_inf", unique=True), "unique", "two_inf", "fail", None),
    (col("empty", unique=True), "unique", "empty", "pass", 0),
    (col("lst", unique=True), "unique", "lst", "not_evaluable", None),
]


@pytest.mark.parametrize(
    ("spec", "rule", "column", "status", "observed"),
    CASES,
    ids=[f"{c[1]}-{c[2]}-{c[3]}-{i}" for i, c in enumerate(CASES)],
)
def test_rule(
    prof: DatasetProfile,
    spec: dict[str, Any],
    rule: str,
    column: str | None,
    status: str,
    observed: Any,
) -> None:
    r = check(prof, spec)
    assert (r.rule, r.column, r.status) == (rule, column, status), r.message
    if isinstance(observed, float) and math.isfinite(observed):
        assert r.observed == pytest.approx(observed)
    else:
        assert r.observed == observed
    assert r.message and "\n" not in r.message
    if column is not None and status != "error":
        assert repr(column) in r.message  # the message names the column
    json.dumps(r.to_dict())  # evidence is JSON-ready


def test_every_rule_is_covered() -> None:
    covered = {c[1] for c in CASES}
    for rule in (*TABLE_RULES, *COLUMN_RULES):
        for status in ("pass", "fail"):
            assert any(c[1] == rule and c[3] == status for c in CASES), (rule, status)
    assert covered == {*TABLE_RULES, *COLUMN_RULES}


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (col("f", max_null_rate=0.05), "null rate of 'f' is 0.2 > 0.05"),
        (col("f", min=2), "min of 'f' is 1 < 2"),
        (col("cat", allowed=["a", "b"]), "'cat' has 2 value(s) outside the allowed set in 2 rows"),
        ({"row_count": {"min": 100}}, "10 rows < 100"),
        ({"freshness": {"column": "ts", "max_age": "90m"}}, "is 12h old > 1h 30m"),
        (col("nope", min=0), "column 'nope' not in the data"),
        (col("id", type="string"), "'id' is int64 (numeric), expected string"),
    ],
)
def test_messages(prof: DatasetProfile, spec: dict[str, Any], message: str) -> None:
    assert message in check(prof, spec).message


def test_sketch_mode_categories() -> None:
    t = pa.table(
        {
            "many": [f"v{i}" for i in range(40)] + ["v1", "v1"],
            "distinct": [f"d{i}" for i in range(42)],
        }
    )
    p = DatasetProfile.zero(ProfilePlan(max_categories=5), t.schema).update(t)
    assert not p.columns["many"].exact  # type: ignore[union-attr]
    # more distinct values than the cap: a set no larger than the cap cannot hold them all
    r = check(p, col("many", allowed=["v1", "v2"]))
    assert r.status == "fail" and "more than 5 distinct" in r.message
    r = check(p, col("many", allowed=[f"v{i}" for i in range(40)]))
    assert r.status == "not_evaluable" and "more than 5 distinct" in r.message
    # a frequent-items lower bound of 2 proves a repeat; without one, undecided
    r = check(p, col("many", unique=True))
    assert r.status == "fail" and "'v1'" in r.message
    assert check(p, col("distinct", unique=True)).status == "not_evaluable"


def test_freshness_uses_the_injected_clock(prof: DatasetProfile) -> None:
    spec = {"freshness": {"column": "ts", "max_age": "1d"}}
    assert check(prof, spec, now=NEWEST + dt.timedelta(hours=23)).status == "pass"
    late = check(prof, spec, now=NEWEST + dt.timedelta(days=2, hours=3))
    assert late.status == "fail" and late.observed == 2 * 86400 + 3 * 3600
    assert late.expected == 86400 and "2d 3h old > 1d" in late.message
    # the same instant in another zone is the same age
    other = NEWEST.astimezone(dt.timezone(dt.timedelta(hours=-5))) + dt.timedelta(hours=2)
    assert check(prof, spec, now=other).observed == 7200


def test_now_must_be_aware(prof: DatasetProfile) -> None:
    with pytest.raises(UsageError, match="timezone-aware"):
        evaluate(parse_checks({"row_count": {"min": 1}}), prof, now=dt.datetime(2025, 1, 1))


def test_severity_and_report(prof: DatasetProfile) -> None:
    suite = parse_checks(
        {
            "row_count": {"min": 1},
            "columns": {
                "f": {"severity": "warn", "max_null_rate": 0.1, "min": {"value": 0}},
                "cat": {"allowed": {"value": ["a"], "severity": "warn"}, "unique": True},
                "id": {"unique": True},
            },
        }
    )
    report = evaluate(suite, prof, now=NOW)
    by = {(r.column, r.rule): r for r in report.results}
    assert by["f", "max_null_rate"].severity == "warn"
    assert by["f", "min"].severity == "warn"
    assert by["cat", "allowed"].severity == "warn"
    assert by["cat", "unique"].severity == "error"
    assert not report.passed  # cat is not unique, an error-severity rule
    assert [r.rule for r in report.failures] == ["unique"]
    assert [r.rule for r in report.warnings] == ["max_null_rate", "allowed"]
    d = report.to_dict()
    assert list(d) == ["kind", "passed", "rows", "evaluated_at", "results", "counts"]
    assert d["kind"] == "data_quality" and d["passed"] is False and d["rows"] == 10
    assert d["evaluated_at"] == "2025-01-10T12:00:00Z"
    assert d["counts"] == {
        "total": 6,
        "pass": 2,
        "fail": 3,
        "error": 0,
        "not_evaluable": 1,
        "blocking": 1,
        "warnings": 2,
    }
    assert list(d["results"][0]) == [
        "rule",
        "column",
        "status",
        "severity",
        "observed",
        "expected",
        "message",
    ]
    assert ValidationReport.from_dict(json.loads(json.dumps(d))).to_dict() == d


def test_warnings_alone_pass(prof: DatasetProfile) -> None:
    suite = parse_checks({"columns": {"nope": {"severity": "warn", "min": 0}}})
    report = evaluate(suite, prof, now=NOW)
    assert report.passed and report.results[0].status == "error"


def test_infinite_values_serialise_as_text(prof: DatasetProfile) -> None:
    r = check(prof, col("inf", max=0))
    assert r.to_dict()["observed"] == "inf"


def test_saved_and_reloaded_profile_gives_the_same_report(prof: DatasetProfile) -> None:
    spec = {
        "required_columns": ["id", "nope"],
        "row_count": {"min": 5},
        "freshness": {"column": "ts", "max_age": "1d"},
        "columns": {
            name: {"max_null_rate": 0.1}
            for name in ("id", "dup_int", "f", "cat", "key", "flag", "ts", "empty", "lst")
        }
        | {
            "cat": {"allowed": ["a", "b"], "unique": True},
            "flag": {"allowed": [True]},
            "f": {"min": 0, "max": 5, "max_nan_rate": 0},
            "ts": {"min": "2025-01-05"},
            "dup_int": {"unique": True},
        },
    }
    suite = parse_checks(spec)
    want = evaluate(suite, prof, now=NOW).to_dict()
    assert evaluate(suite, from_bytes(to_bytes(prof)), now=NOW).to_dict() == want
    assert evaluate(suite, from_json(profile_json(prof)), now=NOW).to_dict() == want


def test_merged_partitions_give_the_same_report(prof: DatasetProfile) -> None:
    t = _table()
    zero = DatasetProfile.zero(ProfilePlan(), t.schema)
    merged = zero.update(t.slice(6)).merge(zero.update(t.slice(0, 6)))
    suite = parse_checks(
        {
            "columns": {
                "cat": {"allowed": ["a"], "unique": True, "max_null_rate": 0},
                "f": {"min": 2, "max_nan_rate": 0},
                "ts": {"max": "2025-01-09"},
            }
        }
    )
    assert evaluate(suite, merged, now=NOW) == evaluate(suite, prof, now=NOW)


# ---------------------------------------------------------------------------- parsing

BAD: list[tuple[Any, str]] = [
    ([], "checks.yaml: must be a mapping, not a list"),
    ({"rowcount": {"min": 1}}, "checks.yaml: unknown key 'rowcount'"),
    ({"version": 2}, "checks.yaml: version must be 1"),
    ({"required_columns": "id"}, "required_columns must be a list of column names"),
    ({"required_columns": ["id", 3]}, "required_columns[1] must be a column name, not 3"),
    ({"row_count": {"min": -1}}, "row_count.min must be a whole number ≥ 0, not -1"),
    ({"row_count": {"min": 1.5}}, "row_count.min must be a whole number ≥ 0"),
    ({"row_count": {"min": 5, "max": 1}}, "row_count has min 5 above max 1"),
    ({"row_count": {}}, "row_count needs min, max or both"),
    ({"row_count": {"minimum": 1}}, "row_count: unknown key 'minimum'"),
    ({"row_count": {"min": 1, "severity": "fatal"}}, "row_count must be 'error' or 'warn'"),
    ({"freshness": {"column": "ts"}}, "freshness needs 'max_age'"),
    ({"freshness": {"column": "ts", "max_age": "soon"}}, "freshness.max_age must be a duration"),
    ({"freshness": {"column": "ts", "max_age": 24}}, "freshness.max_age must be a duration"),
    ({"columns": ["age"]}, "columns must be a mapping, not a list"),
    ({"columns": {"age": None}}, "columns.age must be a mapping, not empty"),
    ({"columns": {True: {"min": 0}}}, "columns has the key True, which is not text"),
    (
        {"columns": {"age": {"max_null_rate": 1.5}}},
        "checks.yaml: columns.age.max_null_rate must be a number between 0 and 1",
    ),
    (
        {"columns": {"age": {"max_null_rate": "low"}}},
        "columns.age.max_null_rate must be a number between 0 and 1, not 'low'",
    ),
    ({"columns": {"age": {"maxx": 1}}}, "checks.yaml: columns.age: unknown rule 'maxx'"),
    ({"columns": {"age": {"min": True}}}, "columns.age.min must be a number or an ISO 8601"),
    ({"columns": {"age": {"min": "yesterday"}}}, "columns.age.min must be a number or an ISO"),
    ({"columns": {"age": {"min": 5, "max": 1}}}, "columns.age has min 5 above max 1"),
    ({"columns": {"age": {"type": "int46"}}}, "columns.age.type names an unknown type 'int46'"),
    ({"columns": {"age": {"type": 3}}}, "columns.age.type must be a kind or an Arrow type"),
    ({"columns": {"age": {"allowed": []}}}, "columns.age.allowed must be a non-empty list"),
    ({"columns": {"age": {"allowed": [1, None]}}}, "columns.age.allowed[1] must be text"),
    ({"columns": {"age": {"unique": "yes"}}}, "columns.age.unique must be true or false"),
    ({"columns": {"age": {"severity": "high"}}}, "columns.age.severity must be 'error' or 'warn'"),
    (
        {"columns": {"age": {"min": {"value": 1, "level": "warn"}}}},
        "columns.age.min: unknown key 'level'",
    ),
    (
        {"columns": {"age": {"min": {"value": 1, "severity": "x"}}}},
        "columns.age.min.severity must be 'error' or 'warn'",
    ),
]


@pytest.mark.parametrize(("spec", "message"), BAD, ids=[b[1][:40] for b in BAD])
def test_parse_errors_name_the_path(spec: Any, message: str) -> None:
    with pytest.raises(ChecksError) as info:
        parse_checks(spec, source="checks.yaml")
    assert message in str(info.value)
    assert isinstance(info.value, InputError) and info.value.exit_code == 2
    assert str(info.value).startswith("checks.yaml: ")


def test_unknown_names_get_a_suggestion() -> None:
    with pytest.raises(ChecksError) as info:
        parse_checks({"columns": {"age": {"max_nul_rate": 0.1}}})
    assert info.value.hint == "did you mean 'max_null_rate'?"


def test_parse_accepts_yaml_quirks() -> None:
    suite = parse_checks(
        {
            "row_count": {"max": "1e6"},  # YAML 1.1 reads 1e6 as text
            "columns": {"ts": {"min": dt.date(2024, 1, 1), "max": "2025-01-01T00:00:00Z"}},
            "description": "anything",
        }
    )
    assert suite.rules[0].max == 1_000_000  # type: ignore[union-attr]
    assert suite.rules[1].value == dt.datetime(2024, 1, 1, tzinfo=UTC)  # type: ignore[union-attr]
    assert suite.columns == ["ts"]


def test_false_flags_declare_nothing() -> None:
    assert parse_checks({"columns": {"x": {"unique": False, "no_infinite": False}}}).rules == ()


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("90m", 5400),
        ("24h", 86400),
        ("7d", 604800),
        ("1d12h", 129600),
        ("1.5h", 5400),
        ("2w", 1209600),
        ("30s", 30),
    ],
)
def test_parse_duration(text: str, seconds: float) -> None:
    assert parse_duration(text).total_seconds() == seconds


@pytest.mark.parametrize("text", ["", "h", "24", "24x", "1d-2h", "-1d"])
def test_parse_duration_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "0s"), (42, "42s"), (5400, "1h 30m"), (86400, "1d"), (93900, "1d 2h"), (-3600, "-1h")],
)
def test_format_duration(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text
