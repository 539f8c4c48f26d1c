"""Adverse-action reason codes: cap, grouping, dictionary, prohibited bases, determinism."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trustops.core.explain import ReasonDictionary, principal_reasons
from trustops.errors import InputError

DICTIONARY = ReasonDictionary(
    "2026-11",
    {
        "income": ("R01", "Income insufficient for amount of credit requested"),
        "debt_ratio": ("R02", "Excessive obligations in relation to income"),
        "late_payments": ("R03", "Delinquent past or present credit obligations"),
        "credit_history_years": ("R04", "Length of credit history"),
        "purpose": ("R05", "Purpose of credit"),
        "zip_score": ("R06", "Location"),
    },
)
ATTRIBUTIONS = {
    "income": -0.30,
    "debt_ratio": -0.10,
    "late_payments": -0.20,
    "credit_history_years": 0.15,
    "purpose=car": -0.04,
    "purpose=home": -0.03,
    "zip_score": -0.25,
    "age": -0.40,
}
PURPOSE = {"purpose=car": "purpose", "purpose=home": "purpose"}


def reasons(**kw: object) -> list[tuple[str, str]]:
    args: dict = {"dictionary": DICTIONARY, "concepts": PURPOSE, "prohibited": ["age"]}
    args.update(kw)
    found = principal_reasons(ATTRIBUTIONS, **args)
    return [(r.code, r.concept) for r in found.reasons]


def test_the_largest_contributions_toward_denial_in_order_capped_at_four() -> None:
    assert reasons() == [("R01", "income"), ("R06", "zip_score"), ("R03", "late_payments"),
                         ("R02", "debt_ratio")]  # fmt: skip


@pytest.mark.parametrize("cap", [1, 2, 3, 6, 10])
def test_the_cap_is_configurable(cap: int) -> None:
    assert len(reasons(max_reasons=cap)) == min(cap, 5)  # five concepts push toward denial


def test_related_features_give_one_reason_with_their_summed_contribution() -> None:
    found = principal_reasons(
        ATTRIBUTIONS, dictionary=DICTIONARY, concepts=PURPOSE, prohibited=["age"], max_reasons=10
    )
    purpose = next(r for r in found.reasons if r.concept == "purpose")
    assert math.isclose(purpose.contribution, -0.07) and purpose.features == (
        "purpose=car",
        "purpose=home",
    )
    assert [r.rank for r in found.reasons] == list(range(1, len(found.reasons) + 1))


def test_features_pushing_toward_approval_are_never_reasons() -> None:
    assert "credit_history_years" not in {c for _, c in reasons(max_reasons=10)}


def test_prohibited_bases_and_proxies_are_withheld_not_given() -> None:
    found = principal_reasons(
        ATTRIBUTIONS, dictionary=DICTIONARY, concepts=PURPOSE, prohibited=["Age"],
        proxies=["zip_score"], max_reasons=10,
    )  # fmt: skip
    given_ = {r.concept for r in found.reasons}
    assert "age" not in given_ and "zip_score" not in given_
    assert found.withheld == ("age", "zip_score")


def test_a_prohibited_feature_inside_a_group_bars_the_whole_concept() -> None:
    found = principal_reasons(
        {"income": -0.1, "race=B": -0.3, "race=C": 0.0},
        dictionary=DICTIONARY,
        concepts={"race=B": "race_group", "race=C": "race_group"},
        prohibited=["race=B"],
    )
    assert [r.concept for r in found.reasons] == ["income"]
    assert found.withheld == ("race_group",)


def test_a_concept_missing_from_the_dictionary_is_an_error_naming_it() -> None:
    with pytest.raises(InputError, match="no entry for 'savings'"):
        principal_reasons({"income": -0.1, "savings": 0.2}, dictionary=DICTIONARY)


def test_prohibited_concepts_need_no_dictionary_entry() -> None:
    found = principal_reasons({"income": -0.1, "sex": -0.2}, dictionary=DICTIONARY,
                              prohibited=["sex"])  # fmt: skip
    assert [r.code for r in found.reasons] == ["R01"]


def test_ties_are_broken_by_name_so_the_order_is_deterministic() -> None:
    found = principal_reasons(
        {"late_payments": -0.1, "debt_ratio": -0.1, "income": -0.1}, dictionary=DICTIONARY
    )
    assert [r.concept for r in found.reasons] == ["debt_ratio", "income", "late_payments"]


def test_a_low_favourable_score_reverses_the_direction() -> None:
    found = principal_reasons(
        {"income": 0.3, "debt_ratio": -0.2}, dictionary=DICTIONARY, favourable="low"
    )
    assert [r.concept for r in found.reasons] == ["income"]


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"max_reasons": 0}, "max_reasons"),
        ({"max_reasons": 11}, "max_reasons"),
        ({"favourable": "up"}, "favourable"),
        ({"concepts": {"nope": "x"}}, "grouped features not among"),
    ],
)
def test_bad_settings_are_refused(kw: dict, message: str) -> None:
    with pytest.raises(InputError, match=message):
        principal_reasons({"income": -0.1}, dictionary=DICTIONARY, **kw)


def test_a_non_finite_attribution_is_refused_naming_the_feature() -> None:
    with pytest.raises(InputError, match="'income'"):
        principal_reasons({"income": float("nan")}, dictionary=DICTIONARY)


def test_dictionary_from_dict_and_its_errors() -> None:
    d = ReasonDictionary.from_dict(
        {"version": "1", "reasons": {"income": {"code": "A", "text": "t"}}}
    )
    assert d.entries == {"income": ("A", "t")}
    with pytest.raises(InputError, match="'version' and 'reasons'"):
        ReasonDictionary.from_dict({"reasons": {}})
    with pytest.raises(InputError, match="needs a 'code' and a 'text'"):
        ReasonDictionary.from_dict({"version": "1", "reasons": {"income": {"code": "A"}}})


NAMES = ["income", "debt_ratio", "late_payments", "credit_history_years", "zip_score"]


@given(
    st.lists(st.floats(-1, 1, allow_nan=False), min_size=5, max_size=5),
    st.permutations(NAMES),
    st.integers(1, 6),
)
def test_properties_order_free_capped_sorted_and_toward_denial(
    values: list[float], order: list[str], cap: int
) -> None:
    attributions = dict(zip(NAMES, values, strict=True))
    shuffled = {name: attributions[name] for name in order}
    a = principal_reasons(attributions, dictionary=DICTIONARY, max_reasons=cap)
    b = principal_reasons(shuffled, dictionary=DICTIONARY, max_reasons=cap)
    assert a == b
    assert len(a.reasons) <= cap
    contributions = [r.contribution for r in a.reasons]
    assert all(c < 0 for c in contributions) and contributions == sorted(contributions)
    assert len(a.reasons) == min(cap, sum(v < 0 for v in values))
