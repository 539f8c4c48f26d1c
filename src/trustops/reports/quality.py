"""Render a :class:`~trustops.core.quality.checks.ValidationReport`: Rich table, JSON, Markdown.

Every renderer lists the results in declaration order with the status, the
severity, the column, the rule and the one-line message (which carries the
observed and expected values); JSON is the evidence record itself.

Example:
    >>> from trustops.core.quality.checks import CheckResult, ValidationReport
    >>> r = ValidationReport((CheckResult("max_null_rate", "income", "fail", 0.153, 0.05,
    ...     "null rate of 'income' is 0.153 > 0.05"),), rows=1000)
    >>> print(to_markdown(r).splitlines()[0])
    **Data quality: FAILED** (1,000 rows; 1 checks: 0 pass, 1 fail, 0 error, 0 not evaluable)
"""

from __future__ import annotations

import json

from rich.markup import escape
from rich.table import Table

from trustops.core.quality.checks import CheckResult, ValidationReport

__all__ = ["STATUS_LABELS", "rich_table", "summary", "to_json", "to_markdown"]

STATUS_LABELS = {
    "pass": "PASS",
    "fail": "FAIL",
    "error": "ERROR",
    "not_evaluable": "N/A",
}
_STYLES = {"pass": "green", "fail": "red", "error": "red", "not_evaluable": "yellow"}


def _label(r: CheckResult) -> str:
    """The status as shown: a failing ``warn`` rule reads WARN."""
    if r.severity == "warn" and r.status in ("fail", "error"):
        return "WARN"
    return STATUS_LABELS[r.status]


def _details(report: ValidationReport) -> str:
    c = report.counts
    rows = f"{report.rows:,} rows; " if report.rows is not None else ""
    warned = f", {c['warnings']} warning(s)" if c["warnings"] else ""
    return (
        f"{rows}{c['total']} checks: {c['pass']} pass, {c['fail']} fail, "
        f"{c['error']} error, {c['not_evaluable']} not evaluable{warned}"
    )


def _verdict(report: ValidationReport) -> str:
    return "passed" if report.passed else "FAILED"


def summary(report: ValidationReport) -> str:
    """One line: the verdict, rows and the count of each status."""
    return f"Data quality: {_verdict(report)} ({_details(report)})"


def rich_table(report: ValidationReport) -> Table:
    """The results as a Rich table, titled with the summary line."""
    table = Table(title=escape(summary(report)), title_justify="left")
    for name in ("status", "column", "rule", "result"):
        table.add_column(name, no_wrap=name != "result")
    for r in report.results:
        label = _label(r)
        style = "yellow" if label == "WARN" else _STYLES[r.status]
        table.add_row(
            f"[{style}]{label}[/]",
            escape(r.column) if r.column is not None else "(table)",
            r.rule,
            escape(r.message),
        )
    return table


def to_json(report: ValidationReport) -> str:
    """The evidence record (``report.to_dict()``) as indented JSON."""
    return json.dumps(report.to_dict(), indent=2, ensure_ascii=False) + "\n"


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def to_markdown(report: ValidationReport) -> str:
    """A summary line and a results table in GitHub-flavoured Markdown."""
    lines = [
        f"**Data quality: {_verdict(report)}** ({_details(report)})",
        "",
        "| status | column | rule | result |",
        "|---|---|---|---|",
    ]
    for r in report.results:
        column = _md(r.column) if r.column is not None else "(table)"
        lines.append(f"| {_label(r)} | {column} | {r.rule} | {_md(r.message)} |")
    return "\n".join(lines) + "\n"
