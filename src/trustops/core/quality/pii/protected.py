"""Protected attributes: columns that look like sex, race, age, religion … by name or by values.

A column name points at an attribute when one of its words (``applicant_gender``)
or phrases (``country_of_birth``) is in the vocabulary; parts of words do not
count (``usage`` is not ``age``). Values point at one when at least
:data:`VALUE_SHARE` of them are that attribute's terms or neutral answers
(``unknown``, ``prefer not to say``), with at least two distinct terms of which
one is not ambiguous on its own (``white``, ``single`` and ``none`` are).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import pyarrow as pa
import pyarrow.compute as pc

from trustops.core.quality.pii.report import ProtectedAttribute
from trustops.core.quality.pii.tallies import ColumnScan


def _by_attribute(table: Mapping[str, str], sep: str | None = None) -> dict[str, str]:
    return {term: attribute for attribute, terms in table.items() for term in terms.split(sep)}


# Column-name words (whole tokens) and phrases (consecutive tokens) per protected attribute.
_NAME_TERMS = _by_attribute(
    {
        "sex": "sex sexe sexo geschlecht",
        "gender": "gender genders genero",
        "race": "race races racial",
        "ethnicity": "ethnicity ethnicities ethnic ethnie",
        "age": "age ages edad dob birth birthday birthdate dateofbirth birthyear yob born bday "
        "geburtsdatum geburtstag nacimiento naissance",
        "religion": "religion religions religious faith denomination",
        "disability": "disability disabilities disabled handicap handicapped impairment",
        "marital_status": "marital married maritalstatus familienstand",
        "nationality": "nationality citizenship citizen nationalorigin birthplace "
        "staatsangehörigkeit staatsangehoerigkeit nacionalidad",
        "pregnancy": "pregnancy pregnant maternity",
        "sexual_orientation": "sexuality sexualorientation lgbt lgbtq lgbtqia",
        "veteran_status": "veteran veterans",
        "color": "color colour",
        "genetic_information": "genetic genetics genotype dna",
        "union_membership": "unionized unionised",
        "political_opinion": "political politics",
    }
)
_NAME_PHRASES = {
    tuple(phrase.split()): attribute
    for phrase, attribute in _by_attribute(
        {
            "nationality": "country of birth|place of birth|birth place|birth country|"
            "national origin",
            "sexual_orientation": "sexual orientation",
            "union_membership": "union member|union membership|trade union|labor union|"
            "labour union",
        },
        "|",
    ).items()
}
_BIRTH_HINTS = frozenset(t for t, a in _NAME_TERMS.items() if a == "age") - {"age", "ages", "edad"}


def name_tokens(name: str) -> tuple[str, ...]:
    """A column name as lower-case words: camelCase, snake_case, kebab-case and digits split.

    >>> name_tokens("applicantDateOfBirth"), name_tokens("MARITAL_STATUS-2")
    (('applicant', 'date', 'of', 'birth'), ('marital', 'status', '2'))
    """
    spaced = re.sub(r"(?<=[^\W_])(?=[A-Z][a-z])|(?<=[a-z0-9])(?=[A-Z])", " ", str(name))
    return tuple(re.findall(r"[^\W\d_]+|\d+", spaced.lower()))


def protected_attribute_from_name(name: str) -> ProtectedAttribute | None:
    """The protected attribute a column name points at (whole words and phrases only).

    >>> protected_attribute_from_name("applicant_gender").attribute
    'gender'
    >>> protected_attribute_from_name("usage") is None, protected_attribute_from_name("page_age")
    (True, ProtectedAttribute(attribute='age', reason='name', detail="column name has 'age'"))
    """
    tokens = name_tokens(name)
    for size in (3, 2):
        for i in range(len(tokens) - size + 1):
            attribute = _NAME_PHRASES.get(tokens[i : i + size])
            if attribute:
                words = " ".join(tokens[i : i + size])
                return ProtectedAttribute(attribute, "name", f"column name has {words!r}")
    for t in tokens:
        if t in _NAME_TERMS:
            return ProtectedAttribute(_NAME_TERMS[t], "name", f"column name has {t!r}")
    return None


# Values that give a column away (compared lower-case, with runs of space, '_' and '-' as
# one space). Ambiguous terms count towards the share but are not enough on their own.
_TERM_ATTRIBUTE = _by_attribute(
    {
        "gender": "male|female|m|f|man|woman|men|women|boy|girl|non binary|nonbinary|"
        "genderqueer|genderfluid|agender|transgender|trans man|trans woman|intersex|two spirit|"
        "mann|frau|männlich|weiblich|divers",
        "race": "white|black|asian|caucasian|african american|black or african american|"
        "hispanic|latino|latina|latinx|hispanic or latino|not hispanic or latino|non hispanic|"
        "american indian|american indian or alaska native|alaska native|native american|"
        "native hawaiian|pacific islander|native hawaiian or other pacific islander|"
        "asian pac islander|amer indian eskimo|middle eastern|two or more races|multiracial|"
        "mixed race|biracial|indigenous|arab",
        "religion": "christian|christianity|muslim|islam|jewish|judaism|hindu|hinduism|"
        "buddhist|buddhism|sikh|atheist|agnostic|catholic|roman catholic|protestant|orthodox|"
        "evangelical|mormon|jain|no religion|none",
        "marital_status": "single|married|divorced|widowed|widow|widower|separated|"
        "never married|married civ spouse|married spouse absent|married af spouse|"
        "domestic partnership|civil partnership|civil union|cohabiting",
        "sexual_orientation": "heterosexual|straight|gay|lesbian|bisexual|asexual|pansexual|"
        "queer|homosexual",
    },
    "|",
)
_VALUE_ATTRIBUTES = tuple(dict.fromkeys(_TERM_ATTRIBUTE.values()))
# Values that count towards the share but, alone, do not give a column away.
_AMBIGUOUS_TERMS = frozenset({"white", "black", "single", "separated", "straight", "none"})
_NEUTRAL_TERMS = frozenset((
    "other", "unknown", "prefer not to say", "prefer not to answer", "declined", "not stated",
    "not specified", "not disclosed", "undisclosed", "n/a",
))  # fmt: skip
_ALL_TERMS = pa.array(sorted({*_TERM_ATTRIBUTE, *_NEUTRAL_TERMS}))
VALUE_SHARE = 0.9  # of non-null values in one attribute's vocabulary (or neutral)


def _value_terms(values: pa.Array) -> dict[str, int]:
    norm = pc.replace_substring_regex(
        pc.utf8_trim_whitespace(pc.utf8_lower(values)), r"[\s_-]+", " "
    )
    known = norm.filter(pc.is_in(norm, value_set=_ALL_TERMS))
    counts = pc.value_counts(known)
    terms = counts.field("values").to_pylist()
    return dict(zip(terms, counts.field("counts").to_pylist(), strict=True))


def _protected_by_values(scan: ColumnScan) -> ProtectedAttribute | None:
    if not scan.non_null:
        return None
    neutral = sum(scan.terms.get(t, 0) for t in _NEUTRAL_TERMS)
    for attribute in _VALUE_ATTRIBUTES:
        seen = [t for t in scan.terms if _TERM_ATTRIBUTE.get(t) == attribute]
        share = (sum(scan.terms[t] for t in seen) + neutral) / scan.non_null
        if len(seen) >= 2 and set(seen) - _AMBIGUOUS_TERMS and share >= VALUE_SHARE:
            terms = ", ".join(sorted(seen)[:6])
            return ProtectedAttribute(
                attribute, "values", f"{share:.0%} of values are {attribute} terms ({terms})"
            )
    return None
