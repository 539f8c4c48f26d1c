"""Whole values judged in bulk with Arrow kernels and NumPy.

Values in the commonest layouts (a bare e-mail address, IPv4 address, card
number or SSN) are judged without Python per value; integer columns are judged
as numbers (digits, issuer prefix and Luhn by arithmetic). Each judgement is
the one the Python finder and validator of :mod:`.detectors` give the same text.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from trustops.core.quality.pii.detectors import _CARD_RANGES, _mask_email

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
