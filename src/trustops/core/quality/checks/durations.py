"""Durations as people write them: ``90m``, ``24h``, ``7d``, ``1d12h`` in, ``1d 2h`` out."""

from __future__ import annotations

import datetime as dt
import re

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_DURATION = re.compile(r"(\d+(?:\.\d+)?)([smhdw])")


def parse_duration(text: str) -> dt.timedelta:
    """``"90m"``, ``"24h"``, ``"7d"``, ``"1d12h"`` … as a timedelta (units s, m, h, d, w).

    >>> parse_duration("1d12h")
    datetime.timedelta(days=1, seconds=43200)
    """
    compact = text.replace(" ", "").lower()
    parts = _DURATION.findall(compact)
    if not compact or "".join(a + u for a, u in parts) != compact:
        raise ValueError(f"not a duration: {text!r}")
    return dt.timedelta(seconds=sum(float(a) * _UNITS[u] for a, u in parts))


def format_duration(seconds: float) -> str:
    """A duration for people, in its two largest units: ``1d 2h``, ``3h 5m``, ``42s``.

    >>> format_duration(93_900)
    '1d 2h'
    """
    sign, s = ("-" if seconds < 0 else ""), abs(seconds)
    parts: list[str] = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if s >= size or (unit == "s" and not parts):
            n = int(s // size)
            s -= n * size
            parts.append(f"{n}{unit}")
    return sign + " ".join(parts[:2])
