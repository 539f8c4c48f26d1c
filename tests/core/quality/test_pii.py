"""PII detectors: each detector's positives and negatives, false-positive guards, masks,
protected attributes, birth dates, and the monoid laws of the tallies."""

from __future__ import annotations

import datetime as dt
import itertools
import json

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

from trustops.core.quality.pii import (
    DETECTOR_NAMES,
    DETECTORS,
    ColumnScan,
    PiiReport,
    PiiScan,
    ScanSettings,
    iban_valid,
    logical_type,
    luhn_valid,
    name_tokens,
    protected_attribute_from_name,
    scan_batch,
    scan_column,
)
from trustops.errors import InputError, MissingColumnError, UsageError

REF = dt.date(2025, 6, 15)
SETTINGS = ScanSettings(reference_date=REF)


def report_of(**columns: object) -> PiiReport:
    return scan_batch(pa.table(columns), SETTINGS).report()


def detectors_of(values: list, name: str = "value") -> dict[str, int]:
    """Detector → matches reported for one column."""
    findings = report_of(**{name: values}).column(name)
    return {f.detector: f.matches for f in findings.detectors}


# ---------------------------------------------------------------- detectors on text

POSITIVE = [
    ("email", "john.doe@example.com", "j***@e***.com"),
    ("email", "a@b.co", "a***@b***.co"),
    ("email", "write to ann+news@mail.example.co.uk today", "a***@m***.uk"),
    ("phone", "+1 415-555-0132", "+* ***-***-**32"),
    ("phone", "+14155550132", "+*********32"),
    ("phone", "(415) 555-0132", "(***) ***-**32"),
    ("phone", "415.555.0132", "***.***.**32"),
    ("phone", "1-800-555-0199", "*-***-***-**99"),
    ("phone", "+44 20 7946 0958", "+** ** **** **58"),
    ("phone", "020 7946 0958", "*** **** **58"),
    ("phone", "call 555-0132 after six", "***-**32"),
    ("ssn", "123-45-6789", "***-**-6789"),
    ("ssn", "SSN: 123 45 6789.", "***-**-6789"),
    ("card_number", "4111 1111 1111 1111", "**** **** **** 1111"),
    ("card_number", "4111111111111111", "************1111"),
    ("card_number", "5500-0000-0000-0004", "****-****-****-0004"),
    ("card_number", "Amex 378282246310005 ok", "***********0005"),
    ("card_number", "6011111111111117", "************1117"),
    ("iban", "DE89 3704 0044 0532 0130 00", "DE89 **** **** **** **30 00"),
    ("iban", "DE89370400440532013000", "DE89 **** **** **** **30 00"),
    ("iban", "pay to GB82 WEST 1234 5698 7654 32 now", "GB82 **** **** **** **54 32"),
    ("ip_address", "192.168.1.1", "192.*.*.*"),
    ("ip_address", "from 10.0.0.1.", "10.*.*.*"),
    ("ip_address", "2001:db8::1", "2001:*:*:*:*:*:*:*"),
    ("ip_address", "2001:0db8:85a3:0000:0000:8a2e:0370:7334", "2001:*:*:*:*:*:*:*"),
]

NEGATIVE = [
    ("email", "x@y"),
    ("email", "bad..dots@example.com"),
    ("email", ".lead@example.com"),
    ("email", "me@-bad-.com"),
    ("email", "user@example.c"),
    ("email", "not an address @ all"),
    ("phone", "1234567"),  # a plain number: an identifier
    ("phone", "4155550132"),
    ("phone", "2024-01-02"),  # dates
    ("phone", "12/31/2023"),
    ("phone", "2024-01-02 12:30:00"),  # a timestamp
    ("phone", "1700000000000"),  # epoch milliseconds
    ("phone", "3.14159265"),  # plain floats
    ("phone", "-122.4194"),
    ("phone", "1234567.89"),
    ("phone", "ORD-2024-000123"),  # order ids
    ("phone", "INV 2024 0001234"),
    ("phone", "1 234 567"),  # thousands
    ("phone", "192.168.1.1"),  # an IP address
    ("phone", "123-45-6789"),  # an SSN
    ("phone", "123-456-7890"),  # no NANP area code starts with 1
    ("phone", "+0 123 4567"),
    ("ssn", "000-12-3456"),
    ("ssn", "666-12-3456"),
    ("ssn", "900-12-3456"),
    ("ssn", "123-00-6789"),
    ("ssn", "123-45-0000"),
    ("ssn", "078-05-1120"),  # published in an advertisement, never valid
    ("ssn", "123456789"),  # no separators: only in columns named so
    ("ssn", "123-45 6789"),  # mixed separators
    ("ssn", "1123-45-6789"),
    ("card_number", "4111111111111112"),  # Luhn fails (last digit off by one)
    ("card_number", "4111111111111121"),  # the last two digits swapped
    ("card_number", "1234567812345670"),  # Luhn-valid but no card prefix
    ("card_number", "4111-1111 1111-1111"),  # mixed separators
    ("card_number", "1700000000000"),  # epoch milliseconds
    ("card_number", "41111111111111111111111"),  # longer digit run
    ("iban", "DE89 3704 0044 0532 0130 01"),  # bad checksum
    ("iban", "DE8937040044053201300"),  # one character short for DE
    ("iban", "XX89370400440532013000"),  # unknown country
    ("iban", "de89370400440532013000"),  # IBANs are upper case
    ("ip_address", "256.1.1.1"),
    ("ip_address", "192.168.01.1"),  # leading zero
    ("ip_address", "1.2.3.4.5"),
    ("ip_address", "v1.2.3.4"),  # a version
    ("ip_address", "12:30:45"),  # a time
    ("ip_address", "00:1A:2B:3C:4D:5E"),  # a MAC address
    ("ip_address", "std::vector"),
    ("ip_address", "::"),
]


@pytest.mark.parametrize(("detector", "text", "masked"), POSITIVE)
def test_detector_finds_and_masks(detector: str, text: str, masked: str) -> None:
    assert DETECTORS[detector].find(text) == masked


@pytest.mark.parametrize(("detector", "text"), NEGATIVE)
def test_detector_rejects(detector: str, text: str) -> None:
    assert DETECTORS[detector].find(text) is None


@pytest.mark.parametrize(("detector", "text", "masked"), POSITIVE)
def test_a_column_scan_agrees_with_the_detector(detector: str, text: str, masked: str) -> None:
    # whole values in common layouts are judged in bulk, the rest in Python: same answer
    for value in (text, f"  {text} "):
        finding = {f.detector: f for f in report_of(v=[value]).column("v").detectors}
        assert finding[detector].matches == 1
        assert finding[detector].examples == (DETECTORS[detector].find(value),)


@pytest.mark.parametrize(("detector", "text"), NEGATIVE)
def test_a_column_scan_rejects_what_the_detector_rejects(detector: str, text: str) -> None:
    assert detector not in detectors_of([text, f" {text} "])


def test_masks_never_hold_a_whole_value() -> None:
    texts = [t for _, t, _ in POSITIVE]
    report = report_of(v=texts)
    doc = json.dumps(report.to_dict())
    for _, text, masked in POSITIVE:
        assert text not in doc and text not in masked
        assert text.replace(" ", "") not in masked.replace(" ", "")


def test_luhn_and_iban_checks() -> None:
    assert luhn_valid("79927398713") and not luhn_valid("79927398710")
    assert not luhn_valid("") and not luhn_valid("12a4")
    for valid in ("GB82WEST12345698765432", "FR1420041010050500013M02606", "NO9386011117947"):
        assert iban_valid(valid)
        assert not iban_valid(valid[:-1] + str((int(valid[-1]) + 1) % 10))


# ---------------------------------------------------------------- columns and guards


def test_card_columns_pass_luhn_and_identifier_columns_do_not() -> None:
    rng = np.random.default_rng(1)
    order_ids = 4_000_000_000_000_000 + rng.integers(0, 10**15, 2_000)
    assert detectors_of(order_ids.tolist()) == {}  # about 1 in 10 passes Luhn by chance
    assert detectors_of([str(x) for x in order_ids]) == {}
    cards = [4111111111111111, 5500000000000004, 378282246310005]
    assert detectors_of(cards) == {"card_number": 3}
    # in free text a few cards among many numbers still stand out (far above chance)
    notes = [f"ref {x}" for x in order_ids] + ["card 4111 1111 1111 1111"] * 200
    assert "card_number" in detectors_of(notes)


def test_integer_ssns_only_in_columns_named_so() -> None:
    values = [123456789, 78051120, 1234567, 666123456]
    assert detectors_of(values, "customer_ssn") == {"ssn": 2}
    assert detectors_of(values, "socialSecurityNumber") == {"ssn": 2}
    assert detectors_of(values, "account") == {}
    assert detectors_of(["123456789", "987654321"], "ssn") == {"ssn": 1}
    assert detectors_of(["123456789", "987654321"], "code") == {}


def test_floats_booleans_and_nulls_hold_nothing() -> None:
    report = report_of(
        x=[4111111111111111.0, 3.5], b=[True, False], n=pa.array([None, None], pa.string())
    )
    assert report.pii_columns == []
    assert report.column("n").non_null == 0


def test_match_rate_is_over_non_null_values_and_counts_rows_not_occurrences() -> None:
    values = ["a@example.com b@example.com", "c@example.com", None, "nothing"]
    (finding,) = report_of(v=values).column("v").detectors
    assert (finding.matches, finding.candidates, finding.match_rate) == (2, 2, 2 / 3)


def test_examples_are_the_smallest_distinct_masks() -> None:
    values = ["zed@x.org", "amy@b.com", "al@b.com", "bo@c.net", "zed@x.org"]
    settings = ScanSettings(REF, max_examples=2)
    (finding,) = scan_batch(pa.table({"v": values}), settings).report().column("v").detectors
    assert finding.examples == ("a***@b***.com", "b***@c***.net")
    none = scan_batch(pa.table({"v": values}), ScanSettings(REF, max_examples=0)).report()
    assert none.column("v").detectors[0].examples == ()


def test_dictionary_large_and_view_strings_scan_alike() -> None:
    values = ["ann@example.com", None, "x", "ann@example.com"]
    plain = scan_column(pa.array(values), "v", SETTINGS)
    assert plain.detectors["email"].matches == 2
    for arr in (
        pa.array(values).dictionary_encode(),
        pa.array(values, pa.large_string()),
        pa.array(values, pa.string_view()),
        pa.chunked_array([values[:2], values[2:]]),
    ):
        assert scan_column(arr, "v", SETTINGS) == plain


# ---------------------------------------------------------------- dates of birth


def dates(start: str, count: int, step: int = 97) -> np.ndarray:
    return np.datetime64(start) + np.arange(count) * step


def test_birth_dates_by_name_in_date_timestamp_and_text_columns() -> None:
    births = dates("1950-01-01", 200)
    for values in (
        pa.array(births),
        pa.array(births.astype("datetime64[us]")),
        pa.array(births.astype("datetime64[ms]")).cast(pa.timestamp("ms", tz="UTC")),
        pa.array(births.astype(str)),
        pa.array([f"{d.day:02d}/{d.month:02d}/{d.year}" for d in births.tolist()]),
    ):
        finding = report_of(DateOfBirth=values).column("DateOfBirth")
        assert [f.detector for f in finding.detectors] == ["date_of_birth"]
        assert finding.detectors[0].matches == 200
        assert finding.protected_attribute is not None
        assert finding.protected_attribute.attribute == "age"
        assert all(e.endswith("*-**-**") for e in finding.detectors[0].examples)


def test_birth_dates_by_values_need_nearly_all_plausible_and_spread() -> None:
    births = pa.array(dates("1940-03-01", 300).astype(str))
    report = report_of(d=births)
    assert report.pii_columns == ["d"]
    assert report.column("d").protected_attribute.reason == "values"
    # recent dates (orders, events): plausible ages, but children only, in a short span
    assert report_of(d=pa.array(dates("2023-01-01", 300, 2))).pii_columns == []
    # event timestamps with a time of day are not birth dates
    events = dates("1960-01-01", 300).astype("datetime64[s]") + np.int64(3600)
    assert report_of(d=pa.array(events)).pii_columns == []
    # under 95 % plausible: a column with other text
    mixed = [*dates("1940-03-01", 90).astype(str).tolist(), *["n/a"] * 10]
    assert report_of(d=mixed).pii_columns == []


def test_birth_dates_are_0_to_120_years_before_the_reference_date() -> None:
    values = ["2025-06-15", "1904-06-16", "1904-06-15", "2025-06-16", "1999-02-30", "31.12.1980"]
    finding = report_of(birthday=values).column("birthday").detectors[0]
    # age 0 today, age 120, the 121st birthday (too old), tomorrow, 30 February, D.M.Y
    assert (finding.matches, finding.candidates) == (3, 5)


# ---------------------------------------------------------------- protected attributes

BY_NAME = [
    ("sex", "sex"),
    ("Gender", "gender"),
    ("applicantRace", "race"),
    ("ethnic_group", "ethnicity"),
    ("age", "age"),
    ("AGE_BAND", "age"),
    ("date_of_birth", "age"),
    ("dob", "age"),
    ("Geburtsdatum", "age"),
    ("religious-affiliation", "religion"),
    ("is_disabled", "disability"),
    ("marital_status", "marital_status"),
    ("maritalStatus", "marital_status"),
    ("nationality", "nationality"),
    ("national_origin", "nationality"),
    ("country_of_birth", "nationality"),
    ("sexual_orientation", "sexual_orientation"),
    ("pregnant", "pregnancy"),
    ("veteran_flag", "veteran_status"),
    ("skin_colour", "color"),
    ("color", "color"),
    ("genetic_marker", "genetic_information"),
    ("union_membership", "union_membership"),
    ("trade union", "union_membership"),
    ("political_party", "political_opinion"),
]


@pytest.mark.parametrize(("name", "attribute"), BY_NAME)
def test_protected_attribute_by_name(name: str, attribute: str) -> None:
    found = protected_attribute_from_name(name)
    assert found is not None and (found.attribute, found.reason) == (attribute, "name")


@pytest.mark.parametrize(
    "name",
    ["usage", "page", "stage", "average_wage", "message", "racecar", "colorful", "national_id",
     "essex", "sexton", "orientation", "union", "id", ""],
)  # fmt: skip
def test_only_whole_words_flag_a_name(name: str) -> None:
    assert protected_attribute_from_name(name) is None


def test_name_tokens() -> None:
    assert name_tokens("HTTPStatusCode") == ("http", "status", "code")
    assert name_tokens("age2") == ("age", "2")
    assert name_tokens("Staatsangehörigkeit") == ("staatsangehörigkeit",)


@pytest.mark.parametrize(
    ("values", "attribute"),
    [
        (["M", "F", "F", "m"], "gender"),
        (["Male", "Female", "Non-binary", "Prefer not to say", None], "gender"),
        (["White", "Black", "Asian-Pac-Islander", "Other"], "race"),
        (["Married-civ-spouse", "Never-married", "Divorced", "Widowed"], "marital_status"),
        (["Christian", "Muslim", "None", "Hindu"], "religion"),
    ],
)
def test_protected_attribute_by_values(values: list, attribute: str) -> None:
    found = report_of(c=values).column("c").protected_attribute
    assert found is not None and (found.attribute, found.reason) == (attribute, "values")


@pytest.mark.parametrize(
    "values",
    [
        ["black", "white", "black"],  # colours: only ambiguous terms
        ["S", "M", "L", "XL"],  # sizes
        ["T", "F", "T"],  # booleans
        ["male", "female", "x", "y", "z"],  # too much else
        ["female", "female"],  # one term only
    ],
)
def test_values_that_do_not_give_an_attribute_away(values: list) -> None:
    assert report_of(c=values).column("c").protected_attribute is None


def test_empty_and_null_columns_keep_their_name_flags() -> None:
    report = scan_batch(pa.table({"gender": pa.array([], pa.string())}), SETTINGS).report()
    assert report.rows == 0 and report.protected_columns == ["gender"]
    assert report.column("gender").detectors == ()


# ---------------------------------------------------------------- monoid and evidence

POOL = [
    "ann@example.com", "bob@mail.example.org", "+1 415-555-0132", "123-45-6789",
    "4111 1111 1111 1111", "4111111111111112", "DE89 3704 0044 0532 0130 00", "10.0.0.1",
    "256.1.1.1", "1985-03-02", "01/02/1970", "female", "male", "n/a", "", None,
    "note: ann@example.com, 10.0.0.2", "ORD-2024-000123",
]  # fmt: skip


@given(
    st.lists(st.sampled_from(POOL), max_size=40),
    st.lists(st.integers(0, 40), max_size=4),
    st.integers(0, 3),
)
def test_scanning_parts_and_merging_equals_scanning_the_whole(
    values: list, cuts: list[int], k: int
) -> None:
    settings = ScanSettings(REF, max_examples=k)
    table = pa.table({"v": pa.array(values, pa.string()), "n": pa.array(range(len(values)))})
    whole = scan_batch(table, settings)
    bounds = sorted({0, len(values), *(min(c, len(values)) for c in cuts)})
    parts = [scan_batch(table.slice(a, b - a), settings) for a, b in itertools.pairwise(bounds)]
    merged = PiiScan.zero(table.schema, settings)
    for part in parts:
        merged = merged + part
    assert merged == whole
    backwards = PiiScan.zero(table.schema, settings)
    for part in reversed(parts):
        backwards = part.merge(backwards)
    assert backwards == whole
    assert merged.report() == whole.report()


def test_merge_refuses_scans_that_do_not_belong_together() -> None:
    a = ColumnScan.zero("a", "string", SETTINGS)
    with pytest.raises(UsageError):
        a.merge(ColumnScan.zero("b", "string", SETTINGS))
    with pytest.raises(UsageError):
        a.merge(ColumnScan.zero("a", "string", ScanSettings(REF, max_examples=1)))
    with pytest.raises(UsageError):
        PiiScan.zero(pa.schema({"a": pa.string()}), SETTINGS).merge(
            PiiScan.zero(pa.schema({"b": pa.string()}), SETTINGS)
        )
    with pytest.raises(UsageError):
        ScanSettings(REF, max_examples=-1)


def test_report_dict_has_stable_keys_and_round_trips() -> None:
    report = report_of(email=["ann@example.com", None], sex=["f", "m"], n=[1, 2])
    doc = report.to_dict()
    assert list(doc) == [
        "kind", "version", "reference_date", "rows", "sample_limit", "sampled", "columns",
        "pii_columns", "protected_columns",
    ]  # fmt: skip
    assert doc["kind"] == "pii_scan" and doc["rows"] == 2 and doc["reference_date"] == "2025-06-15"
    email = doc["columns"][0]
    assert list(email) == ["column", "type", "rows", "non_null", "detectors", "protected_attribute"]
    assert email["detectors"] == [
        {
            "detector": "email",
            "matches": 1,
            "candidates": 1,
            "match_rate": 1.0,
            "examples": ["a***@e***.com"],
        }
    ]
    assert doc["columns"][1]["protected_attribute"] == {
        "attribute": "sex",
        "reason": "name",
        "detail": "column name has 'sex'",
    }
    assert (doc["pii_columns"], doc["protected_columns"]) == (["email"], ["sex"])
    assert PiiReport.from_dict(json.loads(json.dumps(doc))) == report
    with pytest.raises(InputError):
        PiiReport.from_dict({"kind": "fairness"})
    with pytest.raises(MissingColumnError):
        report.column("nope")


def test_detector_names_and_logical_types() -> None:
    assert set(DETECTORS) | {"date_of_birth"} == set(DETECTOR_NAMES)
    assert logical_type(pa.dictionary(pa.int8(), pa.string())) == "string"
    assert logical_type(pa.list_(pa.int8())) == "nested"
    assert logical_type(pa.decimal128(5, 2)) == "decimal"
