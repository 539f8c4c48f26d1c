"""PII detectors: personal data and protected attributes found per column, as mergeable tallies.

A scan reads record batches. In each string column, RE2 prefilters
(:func:`pyarrow.compute.match_substring_regex`) pick the candidate values in
bulk; only the distinct candidates go through the Python validators (Luhn, IBAN
mod-97, SSN area/group/serial rules, :mod:`ipaddress`, …). Integer columns are
checked for card numbers (13–19 digits, Luhn) and, when the column name says
SSN, for SSNs; date, timestamp and date-like string columns for birth dates.

The result of one batch is a :class:`PiiScan` of per-column
:class:`ColumnScan` tallies: counts, bounded sets of *masked* examples and
birth-date statistics. Tallies are a monoid (``zero`` / ``merge``), so scanning
batches or partitions and merging them, in any order, gives the same result as
scanning the whole. Decisions that need the whole column (is this a card
column or one of identifiers? is this a birth-date column?) are taken in
:meth:`PiiScan.report`, which returns the :class:`PiiReport` evidence.

Raw values never leave a batch: tallies and reports hold masked forms only.
The reference date for ages is passed in (this module never reads the clock).

Example:
    >>> import datetime, pyarrow as pa
    >>> settings = ScanSettings(reference_date=datetime.date(2025, 1, 1))
    >>> batch = pa.record_batch({"contact": ["ann@example.com", "n/a"], "sex": ["f", "m"]})
    >>> report = scan_batch(batch, settings).report()
    >>> report.pii_columns, report.protected_columns
    (['contact'], ['sex'])
    >>> report.column("contact").detectors[0].examples
    ('a***@e***.com',)
"""

from __future__ import annotations

import datetime as dt
import heapq
import ipaddress
import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from trustops.errors import InputError, MissingColumnError, UsageError

__all__ = [
    "DETECTORS",
    "DETECTOR_NAMES",
    "BirthDateTally",
    "ColumnFindings",
    "ColumnScan",
    "Detector",
    "DetectorFinding",
    "DetectorTally",
    "PiiReport",
    "PiiScan",
    "ProtectedAttribute",
    "ScanSettings",
    "iban_valid",
    "logical_type",
    "luhn_valid",
    "name_tokens",
    "protected_attribute_from_name",
    "scan_batch",
    "scan_column",
]

DETECTOR_NAMES = (
    "email",
    "phone",
    "ssn",
    "card_number",
    "iban",
    "ip_address",
    "date_of_birth",
)

# ---------------------------------------------------------------------------- validators


def luhn_valid(digits: str) -> bool:
    """The Luhn checksum of a digit string (payment cards): doubled every second digit from
    the right, digits summed, total divisible by 10.

    >>> luhn_valid("4111111111111111"), luhn_valid("4111111111111112")
    (True, False)
    """
    if len(digits) < 2 or not digits.isascii() or not digits.isdigit():
        return False
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


# (first prefix, last prefix, prefix digits, allowed lengths): Visa, Amex, Mastercard,
# Discover, UnionPay, JCB, Diners Club, Maestro, Mir.
_CARD_RANGES: tuple[tuple[int, int, int, tuple[int, ...]], ...] = (
    (4, 4, 1, (13, 16, 19)),
    (34, 34, 2, (15,)),
    (37, 37, 2, (15,)),
    (51, 55, 2, (16,)),
    (2221, 2720, 4, (16,)),
    (6011, 6011, 4, (16, 17, 18, 19)),
    (644, 649, 3, (16, 17, 18, 19)),
    (65, 65, 2, (16, 17, 18, 19)),
    (62, 62, 2, (16, 17, 18, 19)),
    (3528, 3589, 4, (16, 17, 18, 19)),
    (300, 305, 3, (14, 15, 16, 17, 18, 19)),
    (36, 36, 2, (14, 15, 16, 17, 18, 19)),
    (38, 39, 2, (16, 17, 18, 19)),
    (5018, 5018, 4, (13, 14, 15, 16, 17, 18, 19)),
    (5020, 5020, 4, (13, 14, 15, 16, 17, 18, 19)),
    (5038, 5038, 4, (13, 14, 15, 16, 17, 18, 19)),
    (5893, 5893, 4, (13, 14, 15, 16, 17, 18, 19)),
    (6304, 6304, 4, (13, 14, 15, 16, 17, 18, 19)),
    (6759, 6759, 4, (13, 14, 15, 16, 17, 18, 19)),
    (6761, 6763, 4, (13, 14, 15, 16, 17, 18, 19)),
    (2200, 2204, 4, (16, 17, 18, 19)),
)


def _card_shaped(digits: str) -> bool:
    return any(
        len(digits) in lengths and lo <= int(digits[:k]) <= hi
        for lo, hi, k, lengths in _CARD_RANGES
    )


def _check_card(s: str) -> bool | None:
    if len({c for c in s if not c.isdigit()}) > 1:  # mixed separators: not one number
        return None
    digits = re.sub(r"\D", "", s)
    if not _card_shaped(digits):
        return None
    return luhn_valid(digits)


IBAN_LENGTHS: Mapping[str, int] = dict(
    AD=24, AE=23, AL=28, AT=20, AZ=28, BA=20, BE=16, BG=22, BH=22, BI=27, BR=29, BY=28,
    CH=21, CR=22, CY=28, CZ=24, DE=22, DJ=27, DK=18, DO=28, EE=20, EG=29, ES=24, FI=18,
    FK=18, FO=18, FR=27, GB=22, GE=22, GI=23, GL=18, GR=27, GT=28, HR=21, HU=28, IE=22,
    IL=23, IQ=23, IS=26, IT=27, JO=30, KW=30, KZ=20, LB=28, LC=32, LI=21, LT=20, LU=20,
    LV=21, LY=25, MC=27, MD=24, ME=22, MK=19, MN=20, MR=27, MT=31, MU=30, NI=28, NL=18,
    NO=15, OM=23, PK=24, PL=28, PS=29, PT=25, QA=29, RO=24, RS=22, RU=33, SA=24, SC=31,
    SD=18, SE=24, SI=19, SK=24, SM=27, SO=23, ST=25, SV=28, TL=23, TN=24, TR=26, UA=29,
    VA=22, VG=24, XK=20, YE=30,
)  # fmt: skip


def iban_valid(text: str) -> bool:
    """An IBAN: a known country, that country's length, and ISO 7064 mod-97 = 1.

    >>> iban_valid("DE89 3704 0044 0532 0130 00"), iban_valid("DE89 3704 0044 0532 0130 01")
    (True, False)
    """
    return _check_iban(text) is True


def _check_iban(s: str) -> bool | None:
    compact = s.replace(" ", "").upper()
    if IBAN_LENGTHS.get(compact[:2]) != len(compact) or not compact.isalnum():
        return None
    rearranged = compact[4:] + compact[:4]
    return int("".join(str(int(ch, 36)) for ch in rearranged)) % 97 == 1


_SSN_NEVER_ISSUED = {"078051120", "219099999"}  # published in advertising, invalid


def _check_ssn(s: str) -> bool:
    d = re.sub(r"\D", "", s)
    area, group, serial = int(d[:3]), d[3:5], d[5:]
    return (
        area not in (0, 666)
        and area < 900
        and group != "00"
        and serial != "0000"
        and d not in _SSN_NEVER_ISSUED
    )


_A = re.ASCII  # RE2's \d and \w are ASCII: the Python finders must agree
_DATE_LIKE = re.compile(
    r"\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.](?:\d{2}|\d{4})", _A
)
_SSN_SHAPE = re.compile(r"\d{3}-\d{2}-\d{4}", _A)
_DECIMAL = re.compile(r"\d+\.\d+", _A)
_THOUSANDS = re.compile(r"[1-9]\d{0,2}([ .])\d{3}(?:\1\d{3})*", _A)
_PHONE_SHAPES = (
    re.compile(r"\+[1-9]\d{0,2}(?:[ .-]?(?:\(\d{1,4}\)|\d{1,4}))+", _A),  # E.164, international
    re.compile(r"(?:1[ .-]?)?(?:\([2-9]\d{2}\) ?|[2-9]\d{2}[ .-])\d{3}[ .-]\d{4}", _A),  # NANP
    re.compile(r"(?:\(0\d{1,4}\)|0\d{1,4})[ /.-]?\d{2,}(?:[ .-]\d{2,})*", _A),  # trunk prefix 0
    re.compile(r"[2-9]\d{2}[-.]\d{4}", _A),  # local 7 digits
)


def _check_phone(s: str) -> bool | None:
    digits = re.sub(r"\D", "", s)
    if not 7 <= len(digits) <= 15:
        return None
    if s.startswith("+"):
        return len(digits) >= 8 and bool(_PHONE_SHAPES[0].fullmatch(s))
    if not re.search(r"[ ()./-]", s):  # a plain number is an identifier, not a phone
        return None
    for guard in (_DATE_LIKE, _SSN_SHAPE, _DECIMAL):
        if guard.fullmatch(s):
            return None
    if _THOUSANDS.fullmatch(s):
        return None
    return any(p.fullmatch(s) for p in _PHONE_SHAPES[1:])


def _check_email(s: str) -> bool:
    local, domain = s.rsplit("@", 1)
    if local.startswith(".") or local.endswith(".") or ".." in local:
        return False
    return all(label and label[0] != "-" and label[-1] != "-" for label in domain.split("."))


def _check_ip(s: str) -> bool | None:
    if not s.strip(":"):
        return None
    try:
        ipaddress.ip_address(s)
    except ValueError:
        return False
    return True


# ---------------------------------------------------------------------------- masks


def _mask_digits(s: str, keep_last: int) -> str:
    """Every digit but the last ``keep_last`` becomes ``*``; separators stay."""
    total = sum(c.isdigit() for c in s)
    seen, out = 0, []
    for c in s:
        if c.isdigit():
            seen += 1
            out.append(c if seen > total - keep_last else "*")
        else:
            out.append(c)
    return "".join(out)


def _mask_email(s: str) -> str:
    local, domain = s.rsplit("@", 1)
    labels = domain.split(".")
    return f"{local[0]}***@{labels[0][0]}***.{labels[-1]}"


def _mask_iban(s: str) -> str:
    c = s.replace(" ", "").upper()
    masked = c[:4] + "*" * (len(c) - 8) + c[-4:]
    return " ".join(masked[i : i + 4] for i in range(0, len(masked), 4))


def _mask_ip(s: str) -> str:
    addr = ipaddress.ip_address(s)
    if addr.version == 4:
        return s.split(".")[0] + ".*.*.*"
    return addr.exploded.split(":")[0] + ":*" * 7


def _mask_ssn(s: str) -> str:
    return "***-**-" + re.sub(r"\D", "", s)[-4:]


# ---------------------------------------------------------------------------- detectors


@dataclass(frozen=True, slots=True)
class Detector:
    """One kind of personal data in text.

    Attributes:
        name: the detector's name in reports.
        prefilter: an RE2 pattern that every value holding a match contains (run in bulk).
        finder: the Python pattern of a candidate substring.
        check: ``None`` (not a candidate after all), ``False`` (a candidate that fails
            validation, e.g. a bad checksum) or ``True`` (a match).
        mask: the masked form of a match, shown as an example.
    """

    name: str
    prefilter: str
    finder: re.Pattern[str]
    check: Callable[[str], bool | None]
    mask: Callable[[str], str]

    def classify(self, text: str) -> tuple[bool, str | None]:
        """Whether ``text`` holds a candidate, and the masked form of its first match."""
        candidate = False
        for hit in self.finder.finditer(text):
            ok = self.check(hit.group())
            if ok:
                return True, self.mask(hit.group())
            candidate = candidate or ok is not None
        return candidate, None

    def find(self, text: str) -> str | None:
        """The masked form of the first match in ``text``, or ``None``.

        >>> DETECTORS["card_number"].find("paid with 4111-1111-1111-1111")
        '****-****-****-1111'
        """
        return self.classify(text)[1]


_IPV4 = r"(?<![\w.])\d{1,3}(?:\.\d{1,3}){3}(?!\w|\.\d)"
_IPV6 = (
    r"(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9A-Fa-f]{1,4})?"
    r"(?![\w:]|\.\w)"
)
DETECTORS: Mapping[str, Detector] = {
    d.name: d
    for d in (
        Detector(
            "email",
            r"[A-Za-z0-9._%+-]@[A-Za-z0-9-]+\.",
            re.compile(
                r"(?<![\w.%+-])[A-Za-z0-9._%+-]{1,64}@(?:[A-Za-z0-9-]{1,63}\.)+[A-Za-z]{2,24}"
                r"(?![\w-])",
                _A,
            ),
            _check_email,
            _mask_email,
        ),
        Detector(
            "phone",
            r"\d[\d ()./-]{5,}\d",
            re.compile(r"(?<![\w+])[+(]?\d[\d ()./-]{5,}\d(?!\w)", _A),
            _check_phone,
            lambda s: _mask_digits(s, 2),
        ),
        Detector(
            "ssn",
            r"\d{3}[- ]\d{2}[- ]\d{4}",
            re.compile(r"(?<!\d)(?<!\d-)\d{3}([- ])\d{2}\1\d{4}(?!\d|-\d)", _A),
            _check_ssn,
            _mask_ssn,
        ),
        Detector(
            "card_number",
            r"\d(?:[ -]?\d){12,18}",
            re.compile(r"(?<!\d)(?<!\d-)\d(?:[ -]?\d){12,18}(?!\d|-\d)", _A),
            _check_card,
            lambda s: _mask_digits(s, 4),
        ),
        Detector(
            "iban",
            r"[A-Z]{2}\d{2} ?[A-Z0-9]{4}",
            re.compile(
                r"(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?"
                r"(?![A-Za-z0-9])",
                _A,
            ),
            _check_iban,
            _mask_iban,
        ),
        Detector(
            "ip_address",
            r"\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}|[0-9A-Fa-f]{0,4}:[0-9A-Fa-f]{0,4}:",
            re.compile(f"{_IPV4}|{_IPV6}", _A),
            _check_ip,
            _mask_ip,
        ),
    )
}
# Without separators nine digits are any identifier: SSNs written so are looked for only
# in columns whose name says SSN.
_SSN_PLAIN = replace(
    DETECTORS["ssn"],
    prefilter=r"\d{3}[- ]?\d{2}[- ]?\d{4}",
    finder=re.compile(r"(?<!\d)(?<!\d-)\d{3}([- ]?)\d{2}\1\d{4}(?!\d|-\d)", _A),
)

# ---------------------------------------------------------------------------- column names


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
_SSN_HINTS = frozenset({"ssn", "ssns", "socialsecurity"})


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

# ---------------------------------------------------------------------------- tallies


@dataclass(frozen=True, slots=True)
class ScanSettings:
    """What every tally of one scan shares; tallies merge only under equal settings.

    Attributes:
        reference_date: ages are taken on this day (the caller's today).
        max_examples: masked examples kept per detector and column.
    """

    reference_date: dt.date
    max_examples: int = 3

    def __post_init__(self) -> None:
        if self.max_examples < 0:
            raise UsageError(f"max_examples must be at least 0, got {self.max_examples}")


def _smallest(examples: Iterable[str], k: int) -> tuple[str, ...]:
    # the k smallest distinct masked forms: independent of row order and partitioning
    return tuple(heapq.nsmallest(k, set(examples)))


@dataclass(frozen=True, slots=True)
class DetectorTally:
    """Values holding a candidate, values holding a match, and masked examples."""

    candidates: int = 0
    matches: int = 0
    examples: tuple[str, ...] = ()

    def merge(self, other: DetectorTally, max_examples: int) -> DetectorTally:
        return DetectorTally(
            self.candidates + other.candidates,
            self.matches + other.matches,
            _smallest((*self.examples, *other.examples), max_examples),
        )


@dataclass(frozen=True, slots=True)
class BirthDateTally:
    """Date values and how many are plausible birth dates (days since 1970-01-01).

    ``plausible``: age 0–120 on the reference date; ``adults``: of them, age 18 or more;
    ``timed``: of them, with a time of day other than midnight.
    """

    dates: int = 0
    plausible: int = 0
    adults: int = 0
    timed: int = 0
    earliest: int | None = None
    latest: int | None = None
    examples: tuple[str, ...] = ()

    def merge(self, other: BirthDateTally, max_examples: int) -> BirthDateTally:
        def pick(f: Callable[..., int], a: int | None, b: int | None) -> int | None:
            return b if a is None else a if b is None else f(a, b)

        return BirthDateTally(
            self.dates + other.dates,
            self.plausible + other.plausible,
            self.adults + other.adults,
            self.timed + other.timed,
            pick(min, self.earliest, other.earliest),
            pick(max, self.latest, other.latest),
            _smallest((*self.examples, *other.examples), max_examples),
        )


@dataclass(frozen=True, slots=True)
class ColumnScan:
    """One column's tallies; :meth:`zero` and :meth:`merge` make it a monoid."""

    column: str
    type: str
    settings: ScanSettings
    rows: int = 0
    non_null: int = 0
    detectors: Mapping[str, DetectorTally] = field(default_factory=dict)
    birth_dates: BirthDateTally = BirthDateTally()
    terms: Mapping[str, int] = field(default_factory=dict)

    @classmethod
    def zero(cls, column: str, type: str, settings: ScanSettings) -> ColumnScan:
        return cls(column, type, settings)

    def merge(self, other: ColumnScan) -> ColumnScan:
        """The tallies of both parts; the column, its type and the settings must agree."""
        if (self.column, self.type, self.settings) != (other.column, other.type, other.settings):
            raise UsageError(
                f"cannot merge scans of {self.column!r} ({self.type}) and "
                f"{other.column!r} ({other.type}) or with different settings"
            )
        k = self.settings.max_examples
        names = sorted({*self.detectors, *other.detectors}, key=DETECTOR_NAMES.index)
        empty = DetectorTally()
        return ColumnScan(
            self.column,
            self.type,
            self.settings,
            self.rows + other.rows,
            self.non_null + other.non_null,
            {
                n: self.detectors.get(n, empty).merge(other.detectors.get(n, empty), k)
                for n in names
            },
            self.birth_dates.merge(other.birth_dates, k),
            {
                t: self.terms.get(t, 0) + other.terms.get(t, 0)
                for t in sorted({*self.terms, *other.terms})
            },
        )

    __add__ = merge


def logical_type(arrow_type: pa.DataType) -> str:
    """The kind of column, the same for every backend (pandas ``string`` and Polars
    ``large_string`` are both ``"string"``).

    >>> logical_type(pa.large_string()), logical_type(pa.timestamp("ns")), logical_type(pa.int8())
    ('string', 'timestamp', 'integer')
    """
    t = pa.types
    if t.is_dictionary(arrow_type):
        return logical_type(arrow_type.value_type)
    for kind, test in (
        ("string", lambda x: t.is_string(x) or t.is_large_string(x) or _is_string_view(x)),
        ("integer", t.is_integer),
        ("float", t.is_floating),
        ("decimal", t.is_decimal),
        ("boolean", t.is_boolean),
        ("date", t.is_date),
        ("timestamp", t.is_timestamp),
        ("time", t.is_time),
        ("duration", t.is_duration),
        ("binary", lambda x: t.is_binary(x) or t.is_large_binary(x) or t.is_fixed_size_binary(x)),
        ("nested", t.is_nested),
        ("null", t.is_null),
    ):
        if test(arrow_type):
            return kind
    return "other"


def _is_string_view(arrow_type: pa.DataType) -> bool:
    return bool(getattr(pa.types, "is_string_view", lambda _: False)(arrow_type))


# ---------------------------------------------------------------------------- scanning


_POW10 = np.array([10**i for i in range(19)], dtype=np.int64)


def _luhn_int(v: np.ndarray) -> np.ndarray:
    total, x = np.zeros(len(v), dtype=np.int64), v.copy()
    for i in range(19):
        x, d = np.divmod(x, 10)
        if i % 2:
            d = np.where(d > 4, 2 * d - 9, 2 * d)
        total += d
    return total % 10 == 0


def _card_status(v: np.ndarray) -> np.ndarray:
    """0: not card-shaped, 1: card-shaped (known prefix and length), 2: that and Luhn-valid."""
    n = np.searchsorted(_POW10, v, side="right")  # number of digits
    shaped = np.zeros(len(v), dtype=bool)
    for lo, hi, p, lengths in _CARD_RANGES:
        ok = np.isin(n, lengths)
        prefix = v[ok] // _POW10[n[ok] - p]
        shaped[np.flatnonzero(ok)[(prefix >= lo) & (prefix <= hi)]] = True
    return shaped.astype(np.int8) + (shaped & _luhn_int(v))


def _ssn_status(v: np.ndarray) -> np.ndarray:
    """1: nine digits (or fewer, zero-padded), 2: and a valid SSN (see :func:`_check_ssn`)."""
    area, group, serial = v // 1_000_000, v // 10_000 % 100, v % 10_000
    valid = (area != 0) & (area != 666) & (area < 900) & (group != 0) & (serial != 0)
    return 1 + (valid & ~np.isin(v, [78_051_120, 219_099_999])).astype(np.int8)


# Whole values in the commonest layouts are judged in bulk; the judgement is the one the
# Python finder and check give the same text (tests hold the two paths to each other).
_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
_STRICT = {
    "email": r"^[A-Za-z0-9_%+-]+(?:\.[A-Za-z0-9_%+-]+)*@"
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}$",
    "ip_address": rf"^{_OCTET}(?:\.{_OCTET}){{3}}$",
    "card_number": r"^[1-8]\d{12,18}$|^\d{4}(?:-\d{4}){3}$|^\d{4}(?: \d{4}){3}$",
    "ssn": r"^\d{3}-\d{2}-\d{4}$|^\d{3} \d{2} \d{4}$",
    "ssn_plain": r"^\d{3}-\d{2}-\d{4}$|^\d{3} \d{2} \d{4}$|^\d{9}$",
}


def _join(*parts: pa.Array | str) -> pa.Array:
    kind = next(p.type for p in parts if isinstance(p, pa.Array))  # string or large_string
    return pc.binary_join_element_wise(
        *(pa.scalar(p, kind) if isinstance(p, str) else p for p in parts), pa.scalar("", kind)
    )


def _part(values: pa.Array, sep: str, index: int) -> pa.Array:
    return pc.list_element(pc.split_pattern(values, sep, max_splits=1), index)


def _pair_masks(a: pa.Array, b: pa.Array, fmt: Callable[[str, str], str]) -> list[str]:
    """``fmt`` of every distinct pair (a, b): few, since masks keep a few characters."""
    ea, eb = a.dictionary_encode(), b.dictionary_encode()
    da, db = ea.dictionary.to_pylist(), eb.dictionary.to_pylist()
    keys = ea.indices.to_numpy().astype(np.int64) * len(db) + eb.indices.to_numpy()
    return [fmt(da[k // len(db)], db[k % len(db)]) for k in np.unique(keys).tolist()]


def _bulk(name: str, values: pa.Array) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Which values are judged in bulk, their status (0, 1, 2) and the masks of matches."""
    handled = pc.match_substring_regex(values, _STRICT[name])
    if name == "email":
        handled = pc.and_(handled, pc.less_equal(pc.find_substring(values, "@"), 64))
    mask = handled.to_numpy(zero_copy_only=False)
    whole = values.filter(handled)
    status = np.zeros(len(values), dtype=np.int8)
    if name == "email":
        status[mask] = 2
        first, domain = pc.utf8_slice_codeunits(whole, 0, 1), _part(whole, "@", 1)
        return mask, status, _pair_masks(first, domain, lambda a, d: _mask_email(f"{a}@{d}"))
    if name == "ip_address":
        status[mask] = 2
        return mask, status, [f"{a}.*.*.*" for a in pc.unique(_part(whole, ".", 0)).to_pylist()]
    digits = pc.replace_substring_regex(whole, r"\D", "").cast(pa.int64()).to_numpy()
    judged = _card_status(digits) if name == "card_number" else _ssn_status(digits)
    status[mask] = judged
    matched = whole.filter(judged == 2)
    last = pc.utf8_slice_codeunits(matched, -4)
    if name == "card_number":
        stars = pc.replace_substring_regex(matched, r"\d", "*")
        masks = _join(pc.utf8_slice_codeunits(stars, 0, -4), last)
    else:
        masks = _join("***-**-", last)
    return mask, status, pc.unique(masks).to_pylist()


def _scan_text(
    values: pa.Array, detector: Detector, k: int, bulk: str | None
) -> DetectorTally | None:
    candidates = values.filter(pc.match_substring_regex(values, detector.prefilter))
    if not len(candidates):
        return None
    examples: list[str] = []
    status = np.zeros(len(candidates), dtype=np.int8)
    handled = np.zeros(len(candidates), dtype=bool)
    if bulk is not None:
        handled, status, examples = _bulk(bulk, candidates)
    rest = candidates.filter(pa.array(~handled)) if handled.any() else candidates
    if len(rest):
        encoded = rest.dictionary_encode()
        distinct = np.zeros(len(encoded.dictionary), dtype=np.int8)
        for i, text in enumerate(encoded.dictionary.to_pylist()):  # each distinct value once
            is_candidate, masked = detector.classify(text)
            distinct[i] = 2 if masked is not None else int(is_candidate)
            if masked is not None:
                examples.append(masked)
        status[~handled] = distinct[encoded.indices.to_numpy(zero_copy_only=False)]
    found = int(np.count_nonzero(status))
    if not found:
        return None
    return DetectorTally(found, int(np.count_nonzero(status == 2)), _smallest(examples, k))


def _example_strings(values: np.ndarray, k: int, fmt: Callable[[int], str]) -> tuple[str, ...]:
    return _smallest((fmt(int(x)) for x in np.unique(values)[:k]), k)


def _card_key_mask(key: int) -> str:
    return "*" * (15 - key // 10_000) + f"{key % 10_000:04d}"


def _scan_integers(values: np.ndarray, ssn_hint: bool, k: int) -> dict[str, DetectorTally]:
    out = {}
    v = values[(values > 0) & (values <= np.iinfo(np.int64).max)].astype(np.int64)
    cards = _card_status(v)
    if cards.any():
        hits = v[cards == 2]
        # the smallest masks: the most digits (stars) first, then the last four digits
        keys = (19 - np.searchsorted(_POW10, hits, side="right")) * 10_000 + hits % 10_000
        examples = _example_strings(keys, k, _card_key_mask)
        out["card_number"] = DetectorTally(int(np.count_nonzero(cards)), len(hits), examples)
    if ssn_hint:
        ssn = v[v < 1_000_000_000]
        if len(ssn):
            status = _ssn_status(ssn)
            serials = ssn[status == 2] % 10_000
            examples = _example_strings(serials, k, lambda x: f"***-**-{x:04d}")
            out["ssn"] = DetectorTally(len(ssn), int(np.count_nonzero(status == 2)), examples)
    return out


_ISO_DATE = (
    r"^\s*(?P<y>\d{4})[-/.](?P<m>\d{1,2})[-/.](?P<d>\d{1,2})"
    r"(?:[T ]00:00(?::00(?:\.0+)?)?(?:Z|[+-]00:?00)?)?\s*$"
)
_DMY_DATE = r"^\s*(?P<a>\d{1,2})[-/.](?P<b>\d{1,2})[-/.](?P<y>\d{4})\s*$"


def _to_days(y: np.ndarray, m: np.ndarray, d: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Days since 1970-01-01 of year/month/day arrays, and which of them are real dates."""
    ok = (m >= 1) & (m <= 12) & (d >= 1)
    months = ((y - 1970) * 12 + np.where(ok, m, 1) - 1).astype("datetime64[M]")
    start = months.astype("datetime64[D]").astype(np.int64)
    length = (months + 1).astype("datetime64[D]").astype(np.int64) - start
    return start + d - 1, ok & (d <= length)


def _string_dates(values: pa.Array) -> np.ndarray:
    days = []
    iso = pc.extract_regex(values, _ISO_DATE).drop_null()
    if len(iso):
        y, m, d = (iso.field(f).cast(pa.int64()).to_numpy() for f in "ymd")
        got, ok = _to_days(y, m, d)
        days.append(got[ok])
    dmy = pc.extract_regex(values, _DMY_DATE).drop_null()
    if len(dmy):
        a, b, y = (dmy.field(f).cast(pa.int64()).to_numpy() for f in ("a", "b", "y"))
        day_first, ok1 = _to_days(y, b, a)
        month_first, ok2 = _to_days(y, a, b)
        days.append(np.where(ok1, day_first, month_first)[ok1 | ok2])
    return np.concatenate(days) if days else np.zeros(0, dtype=np.int64)


_PER_DAY = {"s": 86_400, "ms": 86_400_000, "us": 86_400_000_000, "ns": 86_400_000_000_000}


def _temporal_days(values: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    if pa.types.is_date32(values.type):
        days = values.cast(pa.int32()).to_numpy().astype(np.int64)
        return days, np.zeros(len(days), dtype=bool)
    if pa.types.is_date64(values.type):
        ms = values.cast(pa.int64()).to_numpy()
        return ms // _PER_DAY["ms"], ms % _PER_DAY["ms"] != 0
    if values.type.tz is not None:  # the birth date is the local calendar day
        values = pc.local_timestamp(values)
    raw = values.cast(pa.int64()).to_numpy()
    per_day = _PER_DAY[values.type.unit]
    return raw // per_day, raw % per_day != 0


def _years_before(day: dt.date, years: int) -> int:
    try:
        shifted = day.replace(year=day.year - years)
    except ValueError:  # 29 February
        shifted = day.replace(year=day.year - years, day=28)
    return (shifted - dt.date(1970, 1, 1)).days


def _birth_tally(days: np.ndarray, timed: np.ndarray, settings: ScanSettings) -> BirthDateTally:
    ref = settings.reference_date
    hi, adult, lo = _years_before(ref, 0), _years_before(ref, 18), _years_before(ref, 121) + 1
    ok = (days >= lo) & (days <= hi)
    plausible = days[ok]
    if not len(plausible):
        return BirthDateTally(dates=len(days))
    years = plausible.astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970
    return BirthDateTally(
        len(days),
        len(plausible),
        int((plausible <= adult).sum()),
        int(timed[ok].sum()),
        int(plausible.min()),
        int(plausible.max()),
        tuple(f"{d:03d}*-**-**" for d in np.unique(years // 10)[: settings.max_examples].tolist()),
    )


def _value_terms(values: pa.Array) -> dict[str, int]:
    norm = pc.replace_substring_regex(
        pc.utf8_trim_whitespace(pc.utf8_lower(values)), r"[\s_-]+", " "
    )
    known = norm.filter(pc.is_in(norm, value_set=_ALL_TERMS))
    counts = pc.value_counts(known)
    terms = counts.field("values").to_pylist()
    return dict(zip(terms, counts.field("counts").to_pylist(), strict=True))


def scan_column(
    array: pa.Array | pa.ChunkedArray, column: str, settings: ScanSettings
) -> ColumnScan:
    """Tallies of one column of one batch (see the module docstring)."""
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks() if array.num_chunks else pa.array([], array.type)
    kind = logical_type(array.type)
    scan = ColumnScan(column, kind, settings, len(array), len(array) - array.null_count)
    if pa.types.is_dictionary(array.type):
        array = array.dictionary_decode()
    if _is_string_view(array.type):  # few kernels take views yet
        array = array.cast(pa.string())
    values = array.drop_null()
    if not len(values):
        return scan
    tokens = set(name_tokens(column))
    ssn_hint = bool(tokens & _SSN_HINTS) or {"social", "security"} <= tokens
    k = settings.max_examples
    if kind == "string":
        found = {}
        for detector in DETECTORS.values():
            bulk = detector.name if detector.name in _STRICT else None
            if detector.name == "ssn" and ssn_hint:
                detector, bulk = _SSN_PLAIN, "ssn_plain"
            tally = _scan_text(values, detector, k, bulk)
            if tally is not None:
                found[detector.name] = tally
        days = _string_dates(values)
        births = _birth_tally(days, np.zeros(len(days), dtype=bool), settings)
        return replace(scan, detectors=found, birth_dates=births, terms=_value_terms(values))
    if kind == "integer":
        return replace(scan, detectors=_scan_integers(values.to_numpy(), ssn_hint, k))
    if kind in ("date", "timestamp"):
        return replace(scan, birth_dates=_birth_tally(*_temporal_days(values), settings))
    return scan


@dataclass(frozen=True, slots=True)
class PiiScan:
    """The tallies of every column of a table (or of a part of it); a monoid."""

    settings: ScanSettings
    rows: int = 0
    columns: tuple[ColumnScan, ...] = ()

    @classmethod
    def zero(cls, schema: pa.Schema, settings: ScanSettings) -> PiiScan:
        return cls(
            settings,
            0,
            tuple(ColumnScan.zero(f.name, logical_type(f.type), settings) for f in schema),
        )

    def merge(self, other: PiiScan) -> PiiScan:
        if [c.column for c in self.columns] != [c.column for c in other.columns]:
            raise UsageError("cannot merge scans of tables with different columns")
        return PiiScan(
            self.settings,
            self.rows + other.rows,
            tuple(a.merge(b) for a, b in zip(self.columns, other.columns, strict=True)),
        )

    __add__ = merge

    def report(self, *, sample_limit: int | None = None, sampled: bool = False) -> PiiReport:
        """The findings: detectors past their column-level guards, protected attributes."""
        return PiiReport(
            self.rows,
            tuple(_findings(c) for c in self.columns),
            self.settings.reference_date,
            sample_limit,
            sampled,
        )


def scan_batch(batch: pa.RecordBatch | pa.Table, settings: ScanSettings) -> PiiScan:
    """The tallies of one batch, every column."""
    return PiiScan(
        settings,
        batch.num_rows,
        tuple(
            scan_column(batch.column(i), name, settings)
            for i, name in enumerate(batch.schema.names)
        ),
    )


# ---------------------------------------------------------------------------- findings

LUHN_SHARE = 0.5  # of card-shaped values that must pass Luhn (chance: 1 in 10) ...
LUHN_EXCESS_SD = 4.0  # ... unless the passes exceed chance by this many standard deviations
BIRTH_SHARE = 0.95  # of non-null values, for a birth-date column not named so
BIRTH_SPAN_DAYS = 3653  # ten years between the earliest and latest birth date


def _card_column(t: DetectorTally) -> bool:
    n, k = t.candidates, t.matches
    return k >= LUHN_SHARE * n or (k - 0.1 * n) > LUHN_EXCESS_SD * math.sqrt(0.09 * n)


def _birth_column(scan: ColumnScan) -> bool:
    b = scan.birth_dates
    if not b.plausible:
        return False
    if set(name_tokens(scan.column)) & _BIRTH_HINTS:
        return True
    assert b.earliest is not None and b.latest is not None
    return (
        b.plausible >= BIRTH_SHARE * scan.non_null
        and b.timed == 0
        and b.adults >= 0.5 * b.plausible
        and b.latest - b.earliest >= BIRTH_SPAN_DAYS
    )


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


def _findings(scan: ColumnScan) -> ColumnFindings:
    found = []
    for name, t in scan.detectors.items():
        if t.matches and (name != "card_number" or _card_column(t)):
            found.append(
                DetectorFinding(
                    name, t.matches, t.candidates, t.matches / scan.non_null, t.examples
                )
            )
    births = _birth_column(scan)
    if births:
        b = scan.birth_dates
        found.append(
            DetectorFinding(
                "date_of_birth", b.plausible, b.dates, b.plausible / scan.non_null, b.examples
            )
        )
    protected = protected_attribute_from_name(scan.column) or _protected_by_values(scan)
    if protected is None and births:
        protected = ProtectedAttribute("age", "values", "values are dates of birth")
    return ColumnFindings(scan.column, scan.type, scan.rows, scan.non_null, tuple(found), protected)


@dataclass(frozen=True, slots=True)
class ProtectedAttribute:
    """A column that looks like a protected attribute, and why (``"name"`` or ``"values"``)."""

    attribute: str
    reason: str
    detail: str

    def to_dict(self) -> dict[str, Any]:
        return {"attribute": self.attribute, "reason": self.reason, "detail": self.detail}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ProtectedAttribute:
        return cls(d["attribute"], d["reason"], d["detail"])


@dataclass(frozen=True, slots=True)
class DetectorFinding:
    """A detector that fired on a column: values matched, rate among non-null values."""

    detector: str
    matches: int
    candidates: int
    match_rate: float
    examples: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "detector": self.detector,
            "matches": self.matches,
            "candidates": self.candidates,
            "match_rate": self.match_rate,
            "examples": list(self.examples),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> DetectorFinding:
        return cls(
            d["detector"], d["matches"], d["candidates"], d["match_rate"], tuple(d["examples"])
        )


@dataclass(frozen=True, slots=True)
class ColumnFindings:
    """What one column holds."""

    column: str
    type: str
    rows: int
    non_null: int
    detectors: tuple[DetectorFinding, ...]
    protected_attribute: ProtectedAttribute | None

    def to_dict(self) -> dict[str, Any]:
        p = self.protected_attribute
        return {
            "column": self.column,
            "type": self.type,
            "rows": self.rows,
            "non_null": self.non_null,
            "detectors": [f.to_dict() for f in self.detectors],
            "protected_attribute": p.to_dict() if p is not None else None,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ColumnFindings:
        p = d["protected_attribute"]
        return cls(
            d["column"],
            d["type"],
            d["rows"],
            d["non_null"],
            tuple(DetectorFinding.from_dict(f) for f in d["detectors"]),
            ProtectedAttribute.from_dict(p) if p is not None else None,
        )


@dataclass(frozen=True, slots=True)
class PiiReport:
    """Evidence of a PII scan: per column the detectors that fired and protected-attribute
    flags. ``rows`` is the number of rows scanned (at most ``sample_limit``; ``sampled``
    says the data had more)."""

    kind: ClassVar[str] = "pii_scan"
    version: ClassVar[int] = 1

    rows: int
    columns: tuple[ColumnFindings, ...]
    reference_date: dt.date
    sample_limit: int | None = None
    sampled: bool = False

    @property
    def pii_columns(self) -> list[str]:
        return [c.column for c in self.columns if c.detectors]

    @property
    def protected_columns(self) -> list[str]:
        return [c.column for c in self.columns if c.protected_attribute is not None]

    def column(self, name: str) -> ColumnFindings:
        for c in self.columns:
            if c.column == name:
                return c
        raise MissingColumnError(name, available=[c.column for c in self.columns])

    def findings_above(self, min_rate: float) -> list[tuple[str, DetectorFinding]]:
        """``(column, finding)`` for every detector whose match rate exceeds ``min_rate``."""
        return [(c.column, f) for c in self.columns for f in c.detectors if f.match_rate > min_rate]

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "version": self.version,
            "reference_date": self.reference_date.isoformat(),
            "rows": self.rows,
            "sample_limit": self.sample_limit,
            "sampled": self.sampled,
            "columns": [c.to_dict() for c in self.columns],
            "pii_columns": self.pii_columns,
            "protected_columns": self.protected_columns,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> PiiReport:
        if d.get("kind") != cls.kind:
            raise InputError(f"not a PII scan: kind is {d.get('kind')!r}, not {cls.kind!r}")
        return cls(
            d["rows"],
            tuple(ColumnFindings.from_dict(c) for c in d["columns"]),
            dt.date.fromisoformat(d["reference_date"]),
            d["sample_limit"],
            d["sampled"],
        )
