"""Inline SVG charts for the HTML documents: no scripts, no fonts to fetch, stable bytes.

Two shapes, both horizontal so that long group labels fit:

- :func:`interval_chart`: one dot per group with its confidence interval as a
  whisker, and the overall value as a dashed line (a metric by group);
- :func:`impact_ratio_chart`: one bar per group's impact ratio with the
  four-fifths line; bars under the line are red.

Numbers are written with fixed decimals, so the same inputs give the same bytes.

Example:
    >>> svg = interval_chart([("race=A", 0.4, 0.35, 0.45)], title="selection rate")
    >>> svg.startswith("<svg") and 'data-value="0.400000"' in svg
    True
"""

from __future__ import annotations

import html
from collections.abc import Sequence

__all__ = ["impact_ratio_chart", "interval_chart"]

_LEFT, _WIDTH, _ROW = 200, 380, 24


def _domain(values: Sequence[float]) -> tuple[float, float]:
    """[0, 1] for rates; otherwise from the smallest value (or 0) to the largest."""
    if not values or all(0 <= v <= 1 for v in values):
        return 0.0, 1.0
    lo, hi = min(0.0, *values), max(values)
    return (lo, hi) if hi > lo else (lo, lo + 1.0)


def _head(height: int, label: str) -> str:
    return (
        f'<svg role="img" aria-label="{html.escape(label)}" width="{_LEFT + _WIDTH + 70}" '
        f'height="{height}" viewBox="0 0 {_LEFT + _WIDTH + 70} {height}" '
        'xmlns="http://www.w3.org/2000/svg" font-family="sans-serif" font-size="12">'
    )


def _axis(lo: float, hi: float, top: int, bottom: int) -> list[str]:
    """Grid lines and tick labels at five even steps."""
    parts = []
    for i in range(5):
        value = lo + (hi - lo) * i / 4
        x = _LEFT + _WIDTH * i / 4
        parts.append(
            f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{bottom}" stroke="#ddd"/>'
            f'<text x="{x:.1f}" y="{bottom + 14}" text-anchor="middle" fill="#555">'
            f"{value:.2f}</text>"
        )
    return parts


def interval_chart(
    rows: Sequence[tuple[str, float | None, float | None, float | None]],
    *,
    title: str,
    overall: float | None = None,
) -> str:
    """Dots with whiskers: ``rows`` are ``(label, value, low, high)``; ``None`` is left out."""
    numbers = [v for _, *vals in rows for v in vals if v is not None]
    if overall is not None:
        numbers.append(overall)
    lo, hi = _domain(numbers)

    def x(v: float) -> float:
        return _LEFT + _WIDTH * (v - lo) / (hi - lo)

    top, bottom = 8, 8 + _ROW * len(rows)
    parts = [_head(bottom + 24, title), *_axis(lo, hi, top, bottom)]
    for i, (label, value, low, high) in enumerate(rows):
        y = top + _ROW * i + _ROW / 2
        parts.append(
            f'<text x="{_LEFT - 8}" y="{y + 4:.1f}" text-anchor="end">{html.escape(label)}</text>'
        )
        if low is not None and high is not None:
            parts.append(
                f'<line x1="{x(low):.1f}" y1="{y:.1f}" x2="{x(high):.1f}" y2="{y:.1f}" '
                'stroke="#2e86c1" stroke-width="2"/>'
            )
        if value is None:
            parts.append(f'<text x="{_LEFT + 4}" y="{y + 4:.1f}" fill="#777">undefined</text>')
        else:
            parts.append(
                f'<circle class="dot" cx="{x(value):.1f}" cy="{y:.1f}" r="4" fill="#1b4f72" '
                f'data-value="{value:.6f}"/>'
            )
    if overall is not None:
        parts.append(
            f'<line class="overall" x1="{x(overall):.1f}" y1="{top}" x2="{x(overall):.1f}" '
            f'y2="{bottom}" stroke="#000" stroke-dasharray="4,3"/>'
        )
    parts.append("</svg>")
    return "".join(parts)


def impact_ratio_chart(rows: Sequence[tuple[str, float | None]], *, threshold: float) -> str:
    """Bars of impact ratios (``(label, ratio)``) against the ``threshold`` line."""
    hi = max([1.0, *(r for _, r in rows if r is not None)])

    def x(v: float) -> float:
        return _LEFT + _WIDTH * v / hi

    top, bottom = 8, 8 + _ROW * len(rows)
    parts = [_head(bottom + 24, "Impact ratio by group"), *_axis(0.0, hi, top, bottom)]
    for i, (label, ratio) in enumerate(rows):
        y = top + _ROW * i
        parts.append(
            f'<text x="{_LEFT - 8}" y="{y + 16}" text-anchor="end">{html.escape(label)}</text>'
        )
        if ratio is None:
            parts.append(f'<text x="{_LEFT + 4}" y="{y + 16}" fill="#777">undefined</text>')
            continue
        colour = "#c0392b" if ratio < threshold else "#2e86c1"
        parts.append(
            f'<rect class="bar" x="{_LEFT}" y="{y + 4}" width="{max(1.0, x(ratio) - _LEFT):.1f}" '
            f'height="{_ROW - 8}" fill="{colour}" data-ratio="{ratio:.6f}"/>'
            f'<text x="{x(ratio) + 4:.1f}" y="{y + 16}">{ratio:.2f}</text>'
        )
    parts.append(
        f'<line class="threshold" x1="{x(threshold):.1f}" y1="{top}" x2="{x(threshold):.1f}" '
        f'y2="{bottom}" stroke="#000" stroke-dasharray="5,4"/>'
    )
    parts.append("</svg>")
    return "".join(parts)
