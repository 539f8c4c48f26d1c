"""The LL144 bias-audit core: the rule's worked example, rates, exclusion, unknowns, properties."""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from trustops.core.ll144 import (
    RULE,
    LL144Audit,
    above_median,
    bias_audit,
    count_cells,
    race_rank,
)
from trustops.errors import EmptyDataError, UsageError
from trustops.ll144 import ll144_audit

# The worked example of 6 RCNY §5-301 (a scoring AEDT, "culture fit"), as the rule
# prints it: category, applicants, scoring rate (percent, one decimal), impact ratio.
RULE_SEX = [("Male", 92, "54.3", "1.00"), ("Female", 76, "44.7", "0.82")]
RULE_RACE = [
    ("Hispanic or Latino", 28, "64.2", "1.00"),
    ("White", 40, "37.5", "0.58"),
    ("Black", 32, "50.0", "0.78"),
    ("Native Hawaiian or Pacific Islander", 8, "62.5", "0.97"),
    ("Asian", 24, "41.7", "0.65"),
]
# The rule prints 64.2% for Hispanic or Latino, which no whole number of its 28
# applicants gives (64.2% of 28 is 17.98): 18 of 28 is 64.29%, 64.3% to one decimal.
# Every impact ratio the rule prints for race/ethnicity (0.58, 0.78, 0.97, 0.65) agrees
# with 18/28 as the reference rate. Truncating instead of rounding would print 64.2% but
# also 41.6% for Asian (10/24 = 41.67%), where the rule prints 41.7%: no one convention
# prints both.
RULE_ERRATA = {"Hispanic or Latino": "64.3"}

# A dataset with those marginals: (sex, race, applicants, scoring above the median).
# The rule gives no cell counts, so the split by sex within each race is ours; 36
# individuals of known sex have no race/ethnicity recorded (the rule's race table
# sums to 132 applicants, its sex table to 168).
WORKED_CELLS: list[tuple[str, str | None, int, int]] = [
    ("Male", "Hispanic or Latino", 16, 12),
    ("Female", "Hispanic or Latino", 12, 6),
    ("Male", "White", 20, 10),
    ("Female", "White", 20, 5),
    ("Male", "Black", 20, 10),
    ("Female", "Black", 12, 6),
    ("Male", "Native Hawaiian or Pacific Islander", 4, 3),
    ("Female", "Native Hawaiian or Pacific Islander", 4, 2),
    ("Male", "Asian", 12, 7),
    ("Female", "Asian", 12, 3),
    ("Male", None, 20, 8),
    ("Female", None, 16, 12),
]


def worked_example_rows(seed: int = 5) -> dict[str, list[Any]]:
    """One row per applicant: scores above the median are 60-100, the others 10-50."""
    rows: list[tuple[Any, ...]] = []
    for sex, race, n, above in WORKED_CELLS:
        for j in range(n):
            rows.append((sex, race, j < above))
    rng = random.Random(seed)
    rng.shuffle(rows)
    return {
        "sex": [r[0] for r in rows],
        "race": [r[1] for r in rows],
        "score": [(60 if r[2] else 10) + rng.randint(0, 40) for r in rows],
        "selected": [int(r[2]) for r in rows],
    }


@pytest.fixture(scope="module")
def worked() -> LL144Audit:
    return ll144_audit(worked_example_rows(), sex="sex", race="race", score="score")


def _printed(audit: LL144Audit, table: str, attribute: str, value: str) -> tuple[int, str, str]:
    row = getattr(audit, table).row(**{attribute: value})
    assert row.impact_ratio is not None
    return row.applicants, f"{row.rate * 100:.1f}", f"{row.impact_ratio:.2f}"


@pytest.mark.parametrize(("category", "applicants", "rate", "ratio"), RULE_SEX)
def test_worked_example_sex(
    worked: LL144Audit, category: str, applicants: int, rate: str, ratio: str
) -> None:
    assert _printed(worked, "sex", "sex", category) == (applicants, rate, ratio)


@pytest.mark.parametrize(("category", "applicants", "rate", "ratio"), RULE_RACE)
def test_worked_example_race(
    worked: LL144Audit, category: str, applicants: int, rate: str, ratio: str
) -> None:
    n, printed_rate, printed_ratio = _printed(worked, "race", "race", category)
    assert (n, printed_ratio) == (applicants, ratio)
    assert printed_rate == RULE_ERRATA.get(category, rate)
    # within the last printed digit of the rule's figure either way
    assert abs(worked.race.row(race=category).rate * 100 - float(rate)) < 0.1


def test_worked_example_references_and_unrounded_ratios(worked: LL144Audit) -> None:
    assert worked.method == "scoring" and worked.rate_name == "scoring_rate"
    assert worked.sex.reference == {"sex": "Male"}
    assert worked.race.reference == {"race": "Hispanic or Latino"}
    # 0.82 from the unrounded rates (34/76) / (50/92); the rounded ones give 0.823 too,
    # but e.g. White's 0.58 is 0.375 / 0.642857…, not 0.375 / 0.643 (0.5832 either way)
    assert worked.sex.row(sex="Female").impact_ratio == pytest.approx((34 / 76) / (50 / 92))
    assert worked.race.row(race="White").impact_ratio == pytest.approx(0.375 / (18 / 28))
    assert (worked.sex.unknown, worked.race.unknown, worked.intersectional.unknown) == (0, 36, 36)
    assert worked.individuals == 168
    assert 50 < worked.median < 60  # no score sits between the two halves
    assert [r.excluded for t in worked.tables for r in t.rows] == [False] * 17


def test_worked_example_as_selection_gives_the_same_tables(worked: LL144Audit) -> None:
    selection = ll144_audit(worked_example_rows(), sex="sex", race="race", selected="selected")
    assert selection.method == "selection" and selection.median is None
    for a, b in zip(worked.tables, selection.tables, strict=True):
        assert a.to_dict() == b.to_dict()


def test_intersectional_rows_follow_the_rule_order(worked: LL144Audit) -> None:
    rows = [(r.category["sex"], r.category["race"]) for r in worked.intersectional.rows]
    assert rows[:2] == [("Male", "Hispanic or Latino"), ("Female", "Hispanic or Latino")]
    assert rows[2:4] == [("Male", "White"), ("Male", "Black")]
    assert rows[-1] == ("Female", "Asian")
    assert worked.intersectional.row(sex="Male", race="Asian").applicants == 12


@pytest.mark.parametrize(
    ("scores", "median", "above"),
    [
        ([1.0, 2.0, 3.0], 2.0, [False, False, True]),
        ([1.0, 2.0, 2.0, 3.0], 2.0, [False, False, False, True]),  # ties at the median
        ([1.0, 2.0, 3.0, 4.0], 2.5, [False, False, True, True]),  # even n: mean of the middle
        ([5.0, 5.0, 5.0], 5.0, [False, False, False]),  # nobody strictly above
        ([-1.0], -1.0, [False]),
    ],
)
def test_above_median_is_strictly_above_the_whole_sample_median(
    scores: list[float], median: float, above: list[bool]
) -> None:
    m, mask = above_median(np.array(scores))
    assert m == median and mask.tolist() == above


def test_scoring_median_is_over_the_whole_sample_not_per_category() -> None:
    # group a scores 1..4, group b 5..8: per-group medians would give both a rate of 1/2
    data = {
        "sex": ["F"] * 4 + ["M"] * 4,
        "race": ["x"] * 8,
        "score": [1, 2, 3, 4, 5, 6, 7, 8],
    }
    audit = ll144_audit(data, sex="sex", race="race", score="score", exclude_below=None)
    assert audit.median == 4.5
    assert audit.sex.row(sex="F").rate == 0.0 and audit.sex.row(sex="M").rate == 1.0
    assert audit.sex.row(sex="F").impact_ratio == 0.0


def test_median_includes_individuals_of_unknown_category() -> None:
    data = {"sex": ["F", "M", None, None], "race": ["x"] * 4, "score": [1, 2, 9, 9]}
    audit = ll144_audit(data, sex="sex", race="race", score="score", exclude_below=None)
    assert audit.median == 5.5
    assert [r.selected for r in audit.sex.rows] == [0, 0]
    assert audit.sex.reference is None  # no category has a positive rate
    assert [r.impact_ratio for r in audit.sex.rows] == [None, None]


def test_unknown_counts_per_table() -> None:
    cells = {
        ("M", "a"): (10, 5),
        ("F", "a"): (10, 5),
        (None, "a"): (3, 1),
        ("M", None): (4, 2),
        (None, None): (2, 0),
    }
    audit = bias_audit(cells, exclude_below=None)
    assert audit.sex.unknown == 5  # sex null, race known or not
    assert audit.race.unknown == 6
    assert audit.intersectional.unknown == 9
    assert audit.individuals == 29
    for t in audit.tables:
        assert t.known + t.unknown == audit.individuals
        assert sum(r.applicants for r in t.rows) == t.known


# 200 individuals: 60 of unknown race, C is 3 of the 140 known (2.14%) but 3 of 200 (1.5%),
# D is 1 of 140 (0.71%); C and D select everyone.
EXCLUSION_CELLS = {
    ("M", "A"): (60, 30),
    ("F", "A"): (40, 10),
    ("M", "B"): (20, 12),
    ("F", "B"): (16, 6),
    ("M", "C"): (3, 3),
    ("F", "D"): (1, 1),
    ("M", None): (30, 10),
    ("F", None): (30, 10),
}


@pytest.mark.parametrize(
    ("denominator", "excluded", "reference"),
    [("known", {"D"}, "C"), ("all", {"C", "D"}, "B")],
)
def test_exclusion_by_denominator_and_never_the_reference(
    denominator: str, excluded: set[str], reference: str
) -> None:
    audit = bias_audit(EXCLUSION_CELLS, exclude_below=0.02, exclusion_denominator=denominator)
    race = audit.race
    assert {r.category["race"] for r in race.excluded} == excluded
    assert race.reference == {"race": reference}
    assert race.row(race=reference).impact_ratio == 1.0
    for r in race.excluded:
        assert r.impact_ratio is None and r.rate == 1.0  # the highest rate, yet not the reference
        assert r.justification is not None and str(r.applicants) in r.justification
        assert "2%" in r.justification
    shares = {r.category["race"]: r.share for r in race.rows}
    total = 140 if denominator == "known" else 200
    assert shares["C"] == 3 / total
    assert audit.to_dict()["exclusion"] == {"below": 0.02, "denominator": denominator}


def test_exclusion_justification_names_the_denominator() -> None:
    known = bias_audit(EXCLUSION_CELLS).race.row(race="D").justification
    everyone = bias_audit(EXCLUSION_CELLS, exclusion_denominator="all").race.row(race="D")
    assert known == (
        "1 of 140 individuals of known race/ethnicity (0.71%), under the 2% threshold: "
        "excluded from the impact ratios as 6 RCNY §5-301 permits"
    )
    assert everyone.justification is not None
    assert "1 of 200 individuals in the audit data (0.50%)" in everyone.justification


def test_intersectional_exclusion_uses_its_own_known_count() -> None:
    audit = bias_audit(EXCLUSION_CELLS)
    # 140 known on both; M-C is 3/140, F-D 1/140
    assert {tuple(r.category.values()) for r in audit.intersectional.excluded} == {("F", "D")}
    assert audit.intersectional.reference == {"sex": "M", "race": "C"}


@pytest.mark.parametrize("exclude_below", [None, 0, 0.0])
def test_no_exclusion(exclude_below: float | None) -> None:
    audit = bias_audit(EXCLUSION_CELLS, exclude_below=exclude_below)
    assert not any(r.excluded for t in audit.tables for r in t.rows)
    assert audit.race.reference == {"race": "C"}  # ties with D go to the first in order


def test_a_category_at_exactly_the_threshold_is_kept() -> None:
    cells = {("M", "a"): (98, 49), ("M", "b"): (2, 2)}  # b is exactly 2%
    assert not bias_audit(cells).race.row(race="b").excluded
    assert bias_audit(cells, exclude_below=0.021).race.row(race="b").excluded


def test_every_category_excluded_leaves_no_reference() -> None:
    cells = {("M", "a"): (1, 1), ("F", "b"): (1, 0)}
    audit = bias_audit(cells, exclude_below=0.6)
    assert audit.race.reference is None
    assert all(r.excluded and r.impact_ratio is None for r in audit.race.rows)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"method": "ranking"}, "method must be one of selection, scoring"),
        ({"exclusion_denominator": "some"}, "exclusion_denominator must be one of known, all"),
        ({"exclude_below": 1.0}, "exclude_below must be a share in [0, 1)"),
        ({"exclude_below": -0.1}, "exclude_below must be a share in [0, 1)"),
        ({"exclude_below": float("nan")}, "exclude_below must be a share in [0, 1)"),
        ({"exclude_below": True}, "exclude_below must be a share in [0, 1)"),
    ],
)
def test_bad_settings(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(UsageError, match=message.replace("[", r"\[").replace(")", r"\)")):
        bias_audit({("M", "a"): (1, 1)}, **kwargs)


def test_no_individuals_and_impossible_cells() -> None:
    with pytest.raises(EmptyDataError):
        bias_audit({})
    with pytest.raises(UsageError, match="3 selected of 2 applicants"):
        bias_audit({("M", "a"): (2, 3)})


def test_count_cells_counts_each_observed_cell() -> None:
    cells = count_cells(
        np.array([0, 1, 1, 0, 2]),
        ["M", "F", None],
        np.array([0, 0, 1, 1, 1]),
        ["x", None],
        np.array([True, True, False, False, True]),
    )
    assert cells == {
        ("M", "x"): (1, 1),
        ("F", "x"): (1, 1),
        ("F", None): (1, 0),
        ("M", None): (1, 0),
        (None, None): (1, 1),
    }


@pytest.mark.parametrize(
    ("label", "rank"),
    [
        ("Hispanic or Latino", 0),
        ("HISPANIC OR LATINO", 0),
        ("White (Not Hispanic or Latino)", 1),
        ("Black or African American", 2),
        ("black", 2),
        ("Native Hawaiian or Other Pacific Islander", 3),
        ("Asian", 4),
        ("American Indian or Alaska Native", 5),
        ("Two or More Races", 6),
        ("Other", 7),
        (3, 7),
    ],
)
def test_eeo1_order(label: Any, rank: int) -> None:
    assert race_rank(label) == rank


def test_to_dict_shape_and_round_trip(worked: LL144Audit) -> None:
    d = worked.to_dict()
    assert d["rule"] == RULE and d["method"] == "scoring" and d["rate"] == "scoring_rate"
    assert d["median"] == worked.median and d["individuals"] == 168
    assert d["columns"] == {"sex": "sex", "race": "race", "score": "score"}
    for name in ("sex", "race", "intersectional"):
        table = d[name]
        assert set(table) == {"attributes", "rows", "known", "unknown", "reference"}
        for row in table["rows"]:
            assert {"category", "applicants", "rate", "impact_ratio", "excluded"} <= set(row)
    assert d["race"]["unknown"] == 36
    assert d["race"]["reference"] == {"race": "Hispanic or Latino"}
    assert LL144Audit.from_dict(d) == worked


# --- properties ---------------------------------------------------------------------------

cell_key = st.tuples(
    st.sampled_from(["Male", "Female", "X", None]),
    st.sampled_from(["Hispanic or Latino", "White", "Asian", "Q", None]),
)
cell_value = st.integers(1, 30).flatmap(lambda n: st.tuples(st.just(n), st.integers(0, n)))
cells_strategy = st.dictionaries(cell_key, cell_value, min_size=1, max_size=12)


@given(
    cells_strategy,
    st.sampled_from([None, 0.02, 0.1, 0.3]),
    st.sampled_from(["known", "all"]),
)
def test_reference_has_ratio_one_and_is_never_excluded(
    cells: dict[Any, tuple[int, int]], exclude_below: float | None, denominator: str
) -> None:
    audit = bias_audit(cells, exclude_below=exclude_below, exclusion_denominator=denominator)
    for t in audit.tables:
        assert t.known + t.unknown == audit.individuals
        included = [r for r in t.rows if not r.excluded]
        if t.reference is None:
            assert all(r.rate == 0 for r in included)
            continue
        ref = t.row(**t.reference)
        assert not ref.excluded and ref.impact_ratio == 1.0
        assert ref.rate == max(r.rate for r in included)
        for r in included:
            assert r.impact_ratio is not None and 0 <= r.impact_ratio <= 1
            assert r.impact_ratio == pytest.approx(r.rate / ref.rate)
        for r in t.excluded:
            assert r.impact_ratio is None and r.justification


@given(cells_strategy, st.randoms(use_true_random=False))
def test_row_order_does_not_matter(cells: dict[Any, tuple[int, int]], rnd: random.Random) -> None:
    rows = []
    for (sex, race), (n, k) in cells.items():
        rows += [(sex, race, i < k) for i in range(n)]
    shuffled = rows[:]
    rnd.shuffle(shuffled)

    def audit(rs: list[tuple[Any, Any, bool]]) -> dict[str, Any]:
        data = {
            "sex": [r[0] for r in rs],
            "race": [r[1] for r in rs],
            "selected": [r[2] for r in rs],
        }
        return ll144_audit(data, sex="sex", race="race", selected="selected").to_dict()

    expected = bias_audit(cells, columns={"sex": "sex", "race": "race", "selected": "selected"})
    assert audit(rows) == audit(shuffled) == expected.to_dict()
