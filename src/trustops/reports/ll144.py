"""The NYC Local Law 144 bias-audit summary: JSON, Markdown, a self-contained HTML page, PDF.

The layout follows what 6 RCNY §5-303 requires a published summary to hold
and the tables of the rule's worked example (§5-301): the date of the most
recent bias audit, the source and explanation of the data, the number of
individuals of unknown category, the number of applicants with their
selection or scoring rates and impact ratios for sex, race/ethnicity and the
intersectional categories, excluded categories with their number of
applicants, rate and justification, and the AEDT's distribution date.

Rates are printed to one decimal of a percent and impact ratios to two
decimals, both from the unrounded values. The output depends on nothing but
the audit and the arguments (no clock, no locale, no version), so the same
inputs give the same bytes. The HTML page has inline CSS and an inline SVG
chart of each table's impact ratios, no scripts and nothing to fetch. The PDF
is that page printed by WeasyPrint (the ``pdf`` extra), dated with the audit
date (no date if none is given), so it too is reproducible.

Example:
    >>> import trustops
    >>> audit = trustops.ll144_audit({"sex": ["Male", "Female"], "race": ["Asian", "White"],
    ...     "hired": [1, 0]}, sex="sex", race="race", selected="hired", exclude_below=None)
    >>> "| Male | 1 | 100.0% | 1.00 |" in to_markdown(audit, audit_date="2026-11-27")
    True
"""

from __future__ import annotations

import datetime as dt
import json
import math
from typing import Any

from trustops.core.ll144 import (
    RACE_CATEGORIES,
    RULE,
    CategoryResult,
    CategoryTable,
    LL144Audit,
    race_rank,
)
from trustops.errors import UsageError
from trustops.reports.jinja import environment

__all__ = [
    "FOUR_FIFTHS",
    "format_impact_ratio",
    "format_rate",
    "to_html",
    "to_json",
    "to_markdown",
    "to_pdf",
]

FOUR_FIFTHS = 0.8
"""Drawn on the charts for orientation: the EEOC's four-fifths guideline (LL144 sets no
threshold)."""

DateLike = dt.date | str | None

_TITLES = {
    "sex": "Sex categories",
    "race": "Race/ethnicity categories",
    "intersectional": "Intersectional categories",
}
_UNKNOWN_WHAT = {
    "sex": "unknown sex",
    "race": "unknown race/ethnicity",
    "intersectional": "unknown sex or race/ethnicity",
}


def format_rate(rate: float) -> str:
    """A rate to one decimal of a percent, as the rule prints it.

    Example:
        >>> format_rate(34 / 76), format_rate(0.5)
        ('44.7%', '50.0%')
    """
    return f"{rate * 100:.1f}%"


def format_impact_ratio(ratio: float | None) -> str:
    """An impact ratio to two decimals (``—`` when undefined).

    Example:
        >>> format_impact_ratio((34 / 76) / (50 / 92)), format_impact_ratio(None)
        ('0.82', '—')
    """
    return "—" if ratio is None else f"{ratio:.2f}"


def _date(value: DateLike, name: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        return value.isoformat()
    try:
        return dt.date.fromisoformat(str(value)).isoformat()
    except ValueError:
        raise UsageError(f"{name} must be a date as YYYY-MM-DD, got {value!r}") from None


def _metadata(
    audit_date: DateLike, distribution_date: DateLike, data_source: str | None
) -> dict[str, str | None]:
    return {
        "audit_date": _date(audit_date, "audit_date"),
        "distribution_date": _date(distribution_date, "distribution_date"),
        "data_source": data_source or None,
    }


def _jsonable(value: Any) -> Any:
    """Category labels may be any value: non-finite floats become text, never invalid JSON."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def to_json(
    audit: LL144Audit,
    *,
    audit_date: DateLike = None,
    distribution_date: DateLike = None,
    data_source: str | None = None,
) -> str:
    """The audit's :meth:`~LL144Audit.to_dict` with the summary's dates and data source."""
    doc = audit.to_dict() | _metadata(audit_date, distribution_date, data_source)
    return json.dumps(_jsonable(doc), indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def _text(value: Any) -> str:
    return "(missing)" if value is None else str(value)


def _intersection_cells(row: CategoryResult) -> list[str]:
    """Sex, ethnicity and race, as the rule's intersectional table splits them."""
    sex, race = row.category["sex"], row.category["race"]
    rank = race_rank(race)
    if rank == 0:
        return [_text(sex), _text(race), "any race"]
    ethnicity = "Not Hispanic or Latino" if rank < len(RACE_CATEGORIES) else "—"
    return [_text(sex), ethnicity, _text(race)]


def _row_cells(table: CategoryTable, row: CategoryResult) -> list[str]:
    if table.name == "intersectional":
        return _intersection_cells(row)
    return [_text(row.category[table.name])]


def _category_text(table: CategoryTable, category: dict[str, Any] | None) -> str:
    if category is None:
        return "none"
    return " ".join(_text(category[a]) for a in reversed(table.attributes))


def _chart(table: CategoryTable) -> dict[str, Any]:
    """Bar geometry of a table's impact ratios, fixed decimals for stable bytes."""
    left, width, bar, gap, top = 300, 360, 18, 6, 10
    scale = width / 1.2
    bars = []
    for i, row in enumerate(table.rows):
        y = top + i * (bar + gap)
        ratio = row.impact_ratio
        bars.append(
            {
                "label": _category_text(table, row.category),
                "y": y,
                "text_y": y + bar - 4,
                "width": None if ratio is None else f"{max(1.0, min(ratio, 1.2) * scale):.1f}",
                "value_x": None if ratio is None else f"{left + min(ratio, 1.2) * scale + 6:.1f}",
                "ratio": format_impact_ratio(ratio),
                "data_ratio": None if ratio is None else f"{ratio:.6f}",
                "below": ratio is not None and ratio < FOUR_FIFTHS,
                "note": "excluded" if row.excluded else "undefined",
            }
        )
    height = top + len(bars) * (bar + gap) + 30
    return {
        "left": left,
        "bar": bar,
        "width": left + width + 70,
        "height": height,
        "line_x": f"{left + FOUR_FIFTHS * scale:.1f}",
        "line_bottom": height - 22,
        "label_y": height - 6,
        "bars": bars,
    }


def _context(audit: LL144Audit, meta: dict[str, str | None], title: str) -> dict[str, Any]:
    rate_label = "Selection rate" if audit.method == "selection" else "Scoring rate"
    tables = []
    for table in audit.tables:
        head = (
            ["Sex", "Ethnicity", "Race"]
            if table.name == "intersectional"
            else ["Sex category" if table.name == "sex" else "Race/ethnicity category"]
        )
        rows = [
            {
                "cells": _row_cells(table, r),
                "applicants": f"{r.applicants:,}",
                "rate": format_rate(r.rate),
                "impact_ratio": "excluded" if r.excluded else format_impact_ratio(r.impact_ratio),
                "excluded": r.excluded,
                "below": r.impact_ratio is not None and r.impact_ratio < FOUR_FIFTHS,
            }
            for r in table.rows
        ]
        tables.append(
            {
                "name": table.name,
                "title": _TITLES[table.name],
                "head": head,
                "rows": rows,
                "unknown": f"{table.unknown:,}",
                "unknown_what": _UNKNOWN_WHAT[table.name],
                "reference": _category_text(table, table.reference),
                "chart": _chart(table),
            }
        )
    excluded = [
        {
            "table": _TITLES[t.name].removesuffix(" categories"),
            "category": _category_text(t, r.category),
            "applicants": f"{r.applicants:,}",
            "rate": format_rate(r.rate),
            "justification": r.justification or "",
        }
        for t in audit.tables
        for r in t.excluded
    ]
    if audit.method == "scoring":
        method = (
            "Scoring rate: the share of a category scoring above the median score of the "
            f"whole sample ({audit.median:g}); impact ratio: a category's scoring rate over "
            "the highest scoring rate."
        )
    else:
        method = (
            "Selection rate: the share of a category selected to move forward or "
            "assigned the classification; impact ratio: a category's selection rate over "
            "the highest selection rate."
        )
    if audit.exclude_below:
        of = (
            "the individuals of known category in each table"
            if audit.exclusion_denominator == "known"
            else "all individuals in the audit data"
        )
        exclusion = f"Categories under {audit.exclude_below * 100:.4g}% of {of} are excluded."
    else:
        exclusion = "No category is excluded."
    return {
        "title": title,
        "rule": RULE,
        "rate_label": rate_label,
        "method": method,
        "exclusion": exclusion,
        "individuals": f"{audit.individuals:,}",
        "unknown": f"{audit.intersectional.unknown:,}",
        "audit_date": meta["audit_date"] or "not given",
        "distribution_date": meta["distribution_date"] or "not given",
        "data_source": meta["data_source"] or "not given",
        "tables": tables,
        "excluded": excluded,
        "four_fifths": f"{FOUR_FIFTHS:.1f}",
    }


def _render(
    template: str,
    audit: LL144Audit,
    audit_date: DateLike,
    distribution_date: DateLike,
    data_source: str | None,
    title: str,
) -> str:
    meta = _metadata(audit_date, distribution_date, data_source)
    return environment().get_template(template).render(**_context(audit, meta, title))


def to_markdown(
    audit: LL144Audit,
    *,
    audit_date: DateLike = None,
    distribution_date: DateLike = None,
    data_source: str | None = None,
    title: str = "Bias audit summary (NYC Local Law 144)",
) -> str:
    """The summary as Markdown, in the published layout."""
    return _render("ll144.md.j2", audit, audit_date, distribution_date, data_source, title)


def to_html(
    audit: LL144Audit,
    *,
    audit_date: DateLike = None,
    distribution_date: DateLike = None,
    data_source: str | None = None,
    title: str = "Bias audit summary (NYC Local Law 144)",
) -> str:
    """The summary as one self-contained HTML page, with an impact-ratio chart per table."""
    return _render("ll144.html.j2", audit, audit_date, distribution_date, data_source, title)


def to_pdf(
    audit: LL144Audit,
    *,
    audit_date: DateLike = None,
    distribution_date: DateLike = None,
    data_source: str | None = None,
    title: str = "Bias audit summary (NYC Local Law 144)",
) -> bytes:
    """The HTML summary as a PDF, dated ``audit_date`` (needs ``pip install 'trustops[pdf]'``).

    Raises:
        UnsupportedError: WeasyPrint or Pango is not installed.
    """
    from trustops.reports.pdf import html_to_pdf

    html = to_html(
        audit,
        audit_date=audit_date,
        distribution_date=distribution_date,
        data_source=data_source,
        title=title,
    )
    return html_to_pdf(html, date=_date(audit_date, "audit_date"))
