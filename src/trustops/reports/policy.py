"""A policy decision for people and for CI: a Rich table, JSON, JUnit XML, Markdown.

JUnit XML follows the format CI systems read (Jenkins, GitLab, GitHub
Actions reporters): one ``testsuite`` per policy, one ``testcase`` per rule;
a rule whose effect fails the decision is a ``failure``, a rule that does not
apply is ``skipped``, warnings and information go to ``system-out``. The
Markdown is meant for a pull-request summary. Every output is a function of
the decision alone, so the same decision gives the same bytes.

Example:
    >>> from trustops.core.policy import Context, EvidenceItem, build_policy, evaluate
    >>> policy = build_policy({"policy": "p", "rules": [{"id": "dp", "evidence": "fairness",
    ...     "metric": "aggregates.demographic_parity_difference", "op": "<=", "threshold": 0.1}]})
    >>> d = evaluate(policy, [EvidenceItem("fairness",
    ...     {"aggregates": {"demographic_parity_difference": 0.2}})], Context())
    >>> print(to_markdown(d).splitlines()[0])
    ### ❌ Policy `p` v1: **FAIL**
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

from rich.table import Table
from rich.text import Text

from trustops.core.policy import Decision

__all__ = ["rich_table", "to_json", "to_junit", "to_markdown"]

_ICON = {"pass": "✅", "warn": "⚠️", "fail": "❌", "info": "ℹ️", "skip": "➖"}
_STYLE = {"pass": "green", "warn": "yellow", "fail": "bold red", "info": "cyan", "skip": "dim"}


def to_json(decision: Decision) -> str:
    """The decision as indented JSON (``Decision.to_dict``)."""
    return json.dumps(decision.to_dict(), indent=2, ensure_ascii=False) + "\n"


def rich_table(decision: Decision) -> Table:
    """A terminal table: one row per rule, its effect, outcome and reasons."""
    title = f"policy {decision.policy} v{decision.version}: {decision.outcome.upper()}"
    if decision.subject:
        title += f" ({decision.subject})"
    table = Table(title=title, title_style=_STYLE[decision.outcome])
    table.add_column("rule")
    table.add_column("severity")
    table.add_column("result")
    table.add_column("why", overflow="fold")
    if not decision.applicable:
        table.add_row(
            "(policy)", "", Text("not applicable", style="dim"), Text(decision.reason or "")
        )
    for r in decision.rules:
        result = r.effect if r.outcome in ("pass", "fail") else f"{r.effect} ({r.outcome})"
        why = Text("\n".join(r.messages))  # Text: "[race=C]" is not Rich markup
        table.add_row(r.id, r.severity, Text(result, style=_STYLE[r.effect]), why)
    return table


def to_markdown(decision: Decision) -> str:
    """A pull-request summary: the verdict, then one table row per rule."""
    head = (
        f"### {_ICON[decision.outcome]} Policy `{decision.policy}` v{decision.version}: "
        f"**{decision.outcome.upper()}**"
    )
    lines = [head, ""]
    if decision.subject:
        lines += [f"Subject: `{decision.subject}`", ""]
    if not decision.applicable:
        lines += [f"Not applicable: {decision.reason}", ""]
    lines += ["| | rule | severity | outcome | why |", "|---|---|---|---|---|"]
    for r in decision.rules:
        why = "<br>".join(m.replace("|", "\\|") for m in r.messages)
        lines.append(f"| {_ICON[r.effect]} | `{r.id}` | {r.severity} | {r.outcome} | {why} |")
    lines += [
        "",
        f"Policy hash `{decision.policy_hash[:16]}…`; evidence "
        + (", ".join(f"`{h[:12]}…`" for h in decision.evidence_hashes) or "none")
        + (f"; evaluated {decision.evaluated_at}" if decision.evaluated_at else ""),
        "",
    ]
    return "\n".join(lines)


def to_junit(decision: Decision) -> str:
    """JUnit XML: a testsuite for the policy, a testcase per rule (see the module docstring)."""
    failures = sum(r.effect == "fail" for r in decision.rules)
    skipped = sum(r.effect == "skip" for r in decision.rules)
    counts = {
        "tests": str(len(decision.rules)),
        "failures": str(failures),
        "errors": "0",
        "skipped": str(skipped),
    }
    root = ET.Element("testsuites", {"name": "trustops check", **counts})
    suite = ET.SubElement(root, "testsuite", {"name": decision.policy, **counts})
    props = ET.SubElement(suite, "properties")
    for name, value in (
        ("policy_version", decision.version),
        ("policy_hash", decision.policy_hash),
        ("outcome", decision.outcome),
        ("subject", decision.subject or ""),
        ("evidence_hashes", " ".join(decision.evidence_hashes)),
    ):
        ET.SubElement(props, "property", {"name": name, "value": value})
    for r in decision.rules:
        case = ET.SubElement(
            suite, "testcase", {"name": r.id, "classname": f"trustops.policy.{decision.policy}"}
        )
        text = "\n".join(r.messages)
        if r.effect == "fail":
            failure = ET.SubElement(
                case, "failure", {"message": r.messages[0] if r.messages else r.outcome,
                                  "type": r.severity},
            )  # fmt: skip
            failure.text = text
        elif r.effect == "skip":
            ET.SubElement(case, "skipped", {"message": text})
        else:
            out = ET.SubElement(case, "system-out")
            out.text = f"{r.effect.upper()} ({r.outcome}): {text}"
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"
