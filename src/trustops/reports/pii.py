"""Render a :class:`PiiReport` for people (a Rich table, Markdown) and machines (JSON).

Every renderer shows only what the report holds: counts, rates and masked
examples, never a raw value.

Example:
    >>> import datetime
    >>> from trustops.scan import scan_pii
    >>> r = scan_pii({"mail": ["bo@example.org"], "sex": ["m"]},
    ...              reference_date=datetime.date(2025, 1, 1))
    >>> print(to_markdown(r).splitlines()[4])
    | mail | string | 1 | email | 1 | 100.0% | `b***@e***.org` | — |
"""

from __future__ import annotations

import json

from rich import box
from rich.markup import escape
from rich.table import Table

from trustops.core.quality.pii import ColumnFindings, PiiReport

__all__ = ["rich_table", "to_json", "to_markdown"]

HEADERS = ("column", "type", "non-null", "detector", "matches", "rate", "examples", "protected")


Row = tuple[ColumnFindings, list[str], tuple[str, ...]]


def _rows(report: PiiReport) -> list[Row]:
    """One row per column and detector (a column without findings gets one row): the
    cells but the examples, and the examples."""
    out: list[Row] = []
    for c in report.columns:
        p = c.protected_attribute
        first = [c.column, c.type, f"{c.non_null:,}"]
        last = f"{p.attribute} ({p.reason})" if p is not None else "—"
        if not c.detectors:
            out.append((c, [*first, "—", "", "", last], ()))
        for f in c.detectors:
            counts = [f.detector, f"{f.matches:,}", f"{f.match_rate:.1%}"]
            out.append((c, [*first, *counts, last], f.examples))
            first, last = ["", "", ""], ""
    return out


def _title(report: PiiReport) -> str:
    sample = f", first {report.rows:,} scanned" if report.sampled else ""
    return (
        f"PII scan ({report.rows:,} rows{sample}): {len(report.pii_columns)} column(s) with "
        f"personal data, {len(report.protected_columns)} protected attribute(s)"
    )


def rich_table(report: PiiReport) -> Table:
    """The report as a terminal table: one row per column and detector, columns with findings
    in bold (types and non-null counts are in the Markdown and JSON output)."""
    table = Table(title=escape(_title(report)), box=box.SIMPLE_HEAD)
    table.add_column("column", overflow="fold")
    table.add_column("detector", no_wrap=True)
    table.add_column("matches", justify="right", no_wrap=True)
    table.add_column("rate", justify="right", no_wrap=True)
    table.add_column("examples", overflow="fold")
    table.add_column("protected", overflow="fold")
    for column, cells, examples in _rows(report):
        name, _, _, detector, matches, rate, protected = map(escape, cells)
        style = "bold" if column.detectors or column.protected_attribute else None
        examples_text = escape("\n".join(examples))
        table.add_row(name, detector, matches, rate, examples_text, protected, style=style)
    return table


def to_json(report: PiiReport) -> str:
    """``report.to_dict()`` as JSON (see docs/pii.md for the keys)."""
    return json.dumps(report.to_dict(), indent=2, allow_nan=False, ensure_ascii=False) + "\n"


def _md(text: str) -> str:
    return text.replace("|", "\\|")


def to_markdown(report: PiiReport) -> str:
    """The report as a Markdown table; masked examples in code spans (``*`` is markup)."""
    lines = [f"# {_title(report)}", "", "| " + " | ".join(HEADERS) + " |"]
    lines.append("|" + "---|" * len(HEADERS))
    for _, cells, examples in _rows(report):
        cells = [_md(c) for c in cells]
        cells.insert(6, ", ".join(f"`{_md(e)}`" for e in examples))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
