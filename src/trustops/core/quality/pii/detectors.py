"""Text detectors: a prefilter, a finder, a validator and a mask per kind of personal data.

Validators go past the shape of a value: payment cards pass Luhn and have a
known issuer prefix and length, IBANs their country's length and ISO 7064
mod-97, SSNs the area/group/serial rules; phone numbers are told apart from
dates, decimals and thousands; IP addresses go through :mod:`ipaddress`.
A match is only ever shown masked (``a***@e***.com``, ``****-****-****-1111``).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace

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
