"""Inline SVG charts for the HTML documents: no scripts, no fonts to fetch, stable bytes.

Two shapes, both horizontal so that long group labels fit:

- :func:`interval_chart`: one dot per group with its confidence interval as a
  whisker, and the overall value as a dashed line (a metric by group);
- :func:`impact_ratio_chart`: one bar per group's impact ratio with the
  four-fifths line; bars under the line are red.

And one over time, :func:`band_chart`: a value per window with its interval
as a shaded band and the threshold as a dashed line (a disparity monitored
window after window); breaching points are red.

Numbers are written with fixed decimals, so the same inputs give the same bytes.

Example:
    >>> svg = interval_chart([("race=A", 0.4, 0.35, 0.45)], title="selection rate")
    >>> svg.startswith("<svg") and 'data-value="0.400000"' in svg
    True
"""

from __future__ import annotations

import html
from collections.abc import Sequence

__all__ = ["band_chart", "impact_ratio_chart", "interval_chart"]

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


def band_chart(
    points: Sequence[tuple[str, float | None, float | None, float | None, bool]],
    *,
    title: str,
    threshold: float | None = None,
) -> str:
    """A series over windows: ``points`` are ``(label, value, low, high, breach)``.

    The band joins the intervals of consecutive windows with values; a
    window without a value leaves a gap. Breaching points are red.

    Example:
        >>> svg = band_chart([("d1", 0.9, 0.85, 0.95, False), ("d2", 0.7, 0.6, 0.78, True)],
        ...                  title="selection_rate.ratio[race]", threshold=0.8)
        >>> svg.count('class="point"'), 'class="threshold"' in svg
        (2, True)
    """
    numbers = [v for _, *vals, _ in points for v in vals if v is not None]
    if threshold is not None:
        numbers.append(threshold)
    lo, hi = _domain(numbers)
    top, height, left, width = 24, 180, 50, _LEFT + _WIDTH - 30
    step = width / max(1, len(points) - 1) if len(points) > 1 else 0.0

    def x(i: int) -> float:
        return left + step * i if len(points) > 1 else left + width / 2

    def y(v: float) -> float:
        return top + height * (1 - (v - lo) / (hi - lo))

    parts = [_head(top + height + 40, title)]
    parts.append(f'<text x="{left}" y="14" font-weight="bold">{html.escape(title)}</text>')
    for i in range(5):
        tick = lo + (hi - lo) * i / 4
        parts.append(
            f'<line x1="{left}" y1="{y(tick):.1f}" x2="{left + width}" y2="{y(tick):.1f}" '
            f'stroke="#ddd"/><text x="{left - 6}" y="{y(tick) + 4:.1f}" text-anchor="end" '
            f'fill="#555">{tick:.2f}</text>'
        )
    runs: list[list[int]] = [[]]
    for i, (_, _, low, high, _) in enumerate(points):
        if low is None or high is None:
            runs.append([])
        else:
            runs[-1].append(i)
    for run in runs:
        if not run:
            continue
        upper = [f"{x(i):.1f},{y(points[i][3]):.1f}" for i in run]  # type: ignore[arg-type]
        lower = [f"{x(i):.1f},{y(points[i][2]):.1f}" for i in reversed(run)]  # type: ignore[arg-type]
        parts.append(
            f'<polygon class="band" points="{" ".join(upper + lower)}" fill="#aed6f1" '
            'fill-opacity="0.6" stroke="none"/>'
        )
    if threshold is not None:
        parts.append(
            f'<line class="threshold" x1="{left}" y1="{y(threshold):.1f}" x2="{left + width}" '
            f'y2="{y(threshold):.1f}" stroke="#c0392b" stroke-dasharray="5,4"/>'
            f'<text x="{left + width + 4}" y="{y(threshold) + 4:.1f}" fill="#c0392b">'
            f"{threshold:g}</text>"
        )
    line = [f"{x(i):.1f},{y(v):.1f}" for i, (_, v, _, _, _) in enumerate(points) if v is not None]
    if len(line) > 1:
        parts.append(
            f'<polyline points="{" ".join(line)}" fill="none" stroke="#1b4f72" stroke-width="1.5"/>'
        )
    for i, (label, value, _, _, breach) in enumerate(points):
        parts.append(
            f'<text x="{x(i):.1f}" y="{top + height + 16}" text-anchor="middle" fill="#555">'
            f"{html.escape(label)}</text>"
        )
        if value is not None:
            colour = "#c0392b" if breach else "#1b4f72"
            parts.append(
                f'<circle class="point" cx="{x(i):.1f}" cy="{y(value):.1f}" r="3.5" '
                f'fill="{colour}" data-value="{value:.6f}"/>'
            )
    parts.append("</svg>")
    return "".join(parts)
