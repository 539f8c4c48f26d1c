"""Registry records and stored evidence seen as document blocks, shared by every document.

Evidence is read as stored (its JSON content), never recomputed: a fairness
record gives the group metrics with their intervals, the disparities and the
four-fifths rows; drift, quality and PII records give one-line summaries; a
dataset version's stored profile gives its column statistics and the counts
of its protected-attribute columns.

Which evidence kinds are read for what is listed in ``docs/reports.md``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from trustops.reports.blocks import Block, Chart, Facts, Sources, Table, Text, plain
from trustops.reports.charts import impact_ratio_chart, interval_chart
from trustops.reports.fairness import SUMMARY_METRICS, fmt, group_label

if TYPE_CHECKING:
    from trustops.governance import DatasetVersion, Evidence, ModelVersion, Registry, System

__all__ = [
    "KINDS",
    "SIGNIFICANCE",
    "FairnessView",
    "dataset_evidence",
    "dataset_facts",
    "dataset_table",
    "evidence_summary",
    "model_facts",
    "newest",
    "p_value",
    "profile_blocks",
    "subject_evidence",
]

# Evidence kinds read for each purpose (the first is the one trustops writes).
KINDS: dict[str, tuple[str, ...]] = {
    "fairness": ("fairness",),
    "drift": ("drift",),
    "quality": ("quality", "data_quality"),
    "pii": ("pii", "pii_scan"),
}
SIGNIFICANCE = 0.05  # the level at which a four-fifths finding is called significant


def p_value(p: float | None) -> str:
    """Three significant digits (so 0.0496 is not shown as 0.05), scientific when small."""
    if p is None:
        return "—"
    return f"{p:.3g}" if p >= 1e-3 else f"{p:.2e}"


def subject_evidence(registry: Registry, subject: ModelVersion | DatasetVersion) -> list[Evidence]:
    """Evidence about ``subject``, oldest first, without generated reports (which would make
    a document depend on the documents generated before it)."""
    return [e for e in registry.evidence(subject=subject) if e.kind != "report"]


def newest(records: Sequence[Evidence], *kinds: str) -> Evidence | None:
    """The most recently recorded of ``records`` whose kind is one of ``kinds``."""
    chosen = [e for e in records if e.kind in kinds]
    return chosen[-1] if chosen else None


def model_facts(model: ModelVersion, system: System, sources: Sources) -> Facts:
    sources.seen(model.created_at, system.created_at)
    return Facts(
        (
            ("system", system.name),
            ("model", model.name),
            ("version", str(model.version)),
            ("stage", model.stage),
            ("framework", model.framework or "—"),
            ("parameters", plain(model.parameters) if model.parameters else "—"),
            ("artifact", f"sha256 {model.artifact_hash} ({model.artifact_size:,} bytes)"),
            ("code commit", model.code_commit or "—"),
            ("derived from", model.parent or "—"),
            ("registered", f"{model.created_at} by {model.created_by}"),
            ("owner", system.owner or "—"),
        )
    )


def dataset_facts(dataset: DatasetVersion, sources: Sources) -> Facts:
    sources.seen(dataset.created_at)
    return Facts(
        (
            ("dataset", f"{dataset.system}/{dataset.ref}"),
            ("rows", f"{dataset.row_count:,}"),
            ("columns", str(len(dataset.schema))),
            ("content", f"sha256 {dataset.content_hash} ({dataset.hash_method})"),
            ("source", dataset.source or "—"),
            ("derived from", ", ".join(dataset.parents) or "—"),
            ("registered", f"{dataset.created_at} by {dataset.created_by}"),
        )
    )


def dataset_table(datasets: Sequence[DatasetVersion], sources: Sources) -> Table:
    """One row per dataset version: what a model or system used."""
    rows = []
    for d in datasets:
        sources.seen(d.created_at)
        rows.append(
            (
                d.ref,
                f"{d.row_count:,}",
                d.content_hash[:16],
                d.source or "—",
                ", ".join(d.permitted_purposes) or "—",
                "yes" if d.personal_data else "no",
                d.lawful_basis or "—",
                "—" if d.retention_days is None else f"{d.retention_days:,} days",
            )
        )
    head = ("version", "rows", "sha256", "source", "purposes", "personal data", "lawful basis")
    return Table((*head, "retention"), tuple(rows))


def evidence_summary(record: Evidence) -> str:
    """One line about a drift, quality, PII or other evidence record."""
    c = record.content
    when = f"(evidence #{record.id}, {record.created_at})"
    if record.kind in KINDS["drift"]:
        drifted = c.get("drifted_columns") or []
        verdict = "dataset drift" if c.get("dataset_drift") else "no dataset drift"
        return (
            f"drift against {fmt(c.get('reference_rows'))} reference rows: {verdict}; "
            f"{len(drifted)} drifted column(s){': ' + ', '.join(drifted) if drifted else ''} "
            f"{when}"
        )
    if record.kind in KINDS["quality"]:
        results = c.get("results") or []
        failed = [r for r in results if r.get("status") == "fail"]
        names = ", ".join(f"{r.get('rule')}({r.get('column') or ''})" for r in failed[:8])
        verdict = "passed" if c.get("passed") else f"failed: {names}"
        return f"data quality, {len(results)} checks {verdict} {when}"
    if record.kind in KINDS["pii"]:
        pii = c.get("pii_columns") or []
        protected = c.get("protected_columns") or []
        return (
            f"PII scan of {fmt(c.get('rows'))} rows: personal data in "
            f"{', '.join(pii) or 'no column'}; protected attributes in "
            f"{', '.join(protected) or 'no column'} {when}"
        )
    if record.kind in KINDS["fairness"]:
        return f"fairness assessment of {fmt(c.get('n_rows'))} rows {when}"
    return f"{record.kind} {when}"


def _interval(kinds: Mapping[str, Any] | None) -> tuple[float | None, float | None]:
    """The bootstrap interval if there is one, else Wilson's."""
    if not kinds:
        return None, None
    pair = kinds.get("bootstrap") or kinds.get("wilson") or [None, None]
    return pair[0], pair[1]


def _key(group: Mapping[str, Any]) -> str:
    return json.dumps(group, sort_keys=True, default=str)


@dataclass(frozen=True)
class FairnessView:
    """A stored fairness report (``FairnessReport.to_dict()``) seen as document blocks."""

    record: Evidence

    @property
    def content(self) -> Mapping[str, Any]:
        return self.record.content

    @property
    def task(self) -> str:
        return str(self.content.get("task") or "unknown")

    @property
    def threshold(self) -> float:
        return float(self.content.get("four_fifths_threshold", 0.8))

    @property
    def confidence(self) -> float | None:
        value = (self.content.get("intervals") or {}).get("confidence")
        return None if value is None else float(value)

    @property
    def metrics(self) -> list[str]:
        """The summary metrics of the task that the report has."""
        overall = self.content.get("overall") or {}
        return [m for m in SUMMARY_METRICS.get(self.task, ()) if m in overall]

    def _intervals(self) -> dict[str, Mapping[str, Any]]:
        found = (self.content.get("intervals") or {}).get("by_group") or []
        return {_key(row.get("group") or {}): row.get("metrics") or {} for row in found}

    def overall_table(self, model_metrics: Mapping[str, Any] | None = None) -> Table:
        overall = self.content.get("overall") or {}
        rows = [(m, fmt(overall.get(m)), "fairness evidence") for m in self.metrics]
        shown = set(self.metrics)
        rows += [
            (k, fmt(overall[k]), "fairness evidence")
            for k in ("roc_auc", "balanced_accuracy", "f1")
            if k in overall and k not in shown
        ]
        for k, v in sorted((model_metrics or {}).items()):
            rows.append((k, fmt(v) if isinstance(v, int | float) else plain(v), "model registry"))
        return Table(("metric", "value", "from"), tuple(rows), caption="Overall")

    def group_table(self) -> Table:
        """Each group's count and summary metrics, each with its interval."""
        intervals = self._intervals()
        level = f"{self.confidence:.0%} " if self.confidence is not None else ""
        rows = []
        for g in self.content.get("by_group") or []:
            group = g.get("group") or {}
            its = intervals.get(_key(group), {})
            cells = [group_label(group) + ("" if g.get("included", True) else " (small)")]
            cells.append(fmt(g.get("count")))
            for m in self.metrics:
                lo, hi = _interval(its.get(m))
                ci = "" if lo is None or hi is None else f" [{lo:.3f}, {hi:.3f}]"
                cells.append(fmt(g.get(m)) + ci)
            rows.append(tuple(cells))
        return Table(
            ("group", "count", *self.metrics),
            tuple(rows),
            caption=f"By group (value [{level}interval])",
        )

    def charts(self) -> list[Chart]:
        """One dot-and-interval chart per summary metric, the overall value dashed."""
        intervals = self._intervals()
        overall = self.content.get("overall") or {}
        out = []
        for m in self.metrics:
            rows = []
            for g in self.content.get("by_group") or []:
                if not g.get("count"):
                    continue
                group = g.get("group") or {}
                lo, hi = _interval(intervals.get(_key(group), {}).get(m))
                rows.append((group_label(group), g.get(m), lo, hi))
            if rows:
                svg = interval_chart(rows, title=m, overall=overall.get(m))
                out.append(Chart(svg, f"{m} by group, with intervals; dashed: overall"))
        return out

    def disparity_table(self) -> Table:
        aggregates = self.content.get("aggregates") or {}
        rows = tuple((k, fmt(v)) for k, v in aggregates.items())
        return Table(("aggregate", "value"), rows, caption="Disparities (worst over attributes)")

    def four_fifths(self) -> dict[str, list[Mapping[str, Any]]]:
        """Four-fifths rows by breakdown name (``race``, ``race × sex``)."""
        out: dict[str, list[Mapping[str, Any]]] = {}
        for row in self.content.get("four_fifths") or []:
            name = " × ".join(row.get("attributes") or sorted(row.get("group") or {}))
            out.setdefault(name, []).append(row)
        return out

    def four_fifths_table(self, rows: Sequence[Mapping[str, Any]]) -> Table:
        body = []
        for r in rows:
            ratio = r.get("impact_ratio")
            if r.get("is_reference"):
                verdict = "reference"
            elif ratio is None:
                verdict = r.get("reason") or "undefined"
            else:
                verdict = self.verdict(r)
            body.append(
                (
                    group_label(r.get("group") or {}),
                    fmt(r.get("count")),
                    fmt(r.get("selected")),
                    fmt(r.get("selection_rate")),
                    fmt(ratio),
                    fmt(r.get("z_statistic")),
                    p_value(r.get("z_p_value")),
                    p_value(r.get("fisher_p_value")),
                    fmt(r.get("shortfall")),
                    verdict,
                )
            )
        head = ("group", "applicants", "selected", "selection rate", "impact ratio", "z")
        return Table((*head, "p (z)", "p (Fisher)", "shortfall", "finding"), tuple(body))

    def verdict(self, row: Mapping[str, Any]) -> str:
        """Under or over the threshold, and whether the difference is significant."""
        ratio = row.get("impact_ratio")
        if ratio is None:
            return "undefined"
        p = row.get("fisher_p_value")
        if p is None:
            p = row.get("z_p_value")
        sig = (
            "significance unknown"
            if p is None
            else ("significant" if p < SIGNIFICANCE else "not significant")
        )
        side = f"< {self.threshold:g}" if ratio < self.threshold else f"≥ {self.threshold:g}"
        return f"IR {side}, {sig} at {SIGNIFICANCE:g}"

    def impact_chart(self, rows: Sequence[Mapping[str, Any]]) -> Chart:
        svg = impact_ratio_chart(
            [(group_label(r.get("group") or {}), r.get("impact_ratio")) for r in rows],
            threshold=self.threshold,
        )
        return Chart(svg, f"impact ratio by group; dashed: the {self.threshold:g} threshold")

    def adverse(self) -> list[Mapping[str, Any]]:
        """Four-fifths rows under the threshold."""
        return [
            r
            for rows in self.four_fifths().values()
            for r in rows
            if r.get("impact_ratio") is not None and r["impact_ratio"] < self.threshold
        ]

    def findings(self) -> list[str]:
        """Sentences about groups under the threshold, small groups and undefined values."""
        out = []
        for r in self.adverse():
            out.append(
                f"{group_label(r.get('group') or {})}: impact ratio {fmt(r.get('impact_ratio'))} "
                f"(n={fmt(r.get('count'))}, Fisher p={p_value(r.get('fisher_p_value'))}, "
                f"shortfall {fmt(r.get('shortfall'))} selections) — {self.verdict(r)}."
            )
        small = self.content.get("small_groups") or []
        if small:
            out.append(
                f"{len(small)} group(s) smaller than the minimum size "
                f"{fmt(self.content.get('min_group_size'))} were reported but not compared: "
                + ", ".join(group_label(g) for g in small)
                + "."
            )
        undefined = self.content.get("undefined") or []
        if undefined:
            names = sorted({u.get("metric", "?") for u in undefined})
            out.append(
                f"{len(undefined)} value(s) are undefined on this data (metrics: "
                f"{', '.join(names)}); see the fairness evidence for each reason."
            )
        return out

    def factors(self) -> Facts:
        c = self.content
        groups = [g for g in c.get("by_group") or [] if g.get("count")]
        return Facts(
            (
                ("sensitive attributes", ", ".join(c.get("sensitive") or []) or "—"),
                ("intersectional", "yes" if c.get("intersectional") else "no"),
                ("groups", f"{len(groups)} with rows"),
                ("rows assessed", fmt(c.get("n_rows"))),
                ("task", self.task),
                ("minimum group size", fmt(c.get("min_group_size"))),
            )
        )


def profile_blocks(registry: Registry, dataset: DatasetVersion) -> list[Block]:
    """Column statistics from the stored profile, and counts of protected-attribute columns.

    Protected columns are found by name (``trustops.core.quality.pii``); the
    counts are exact while a column has at most the profile's category limit.
    """
    from trustops.core.profiles import CategoricalProfile, NumericProfile, from_bytes, null_rate
    from trustops.core.quality.pii.protected import protected_attribute_from_name

    profile = from_bytes(registry.artifacts.read(dataset.profile_hash or ""))
    rows = []
    for col in dataset.schema:
        name = col["name"]
        p = profile.columns.get(name)
        if p is None:
            rows.append((name, col["type"], "—", "—", "—", "—", "—"))
            continue
        rate = null_rate(p)
        distinct = str(p.distinct) if isinstance(p, CategoricalProfile) else "—"
        if isinstance(p, NumericProfile) and p.count:
            low, high, mean = fmt(p.minimum), fmt(p.maximum), fmt(p.mean)
        else:
            low = high = mean = "—"
        rows.append((name, col["type"], fmt(rate), distinct, low, high, mean))
    blocks: list[Block] = [
        Table(
            ("column", "type", "null rate", "distinct", "min", "max", "mean"),
            tuple(rows),
            caption=f"Columns (stored profile sha256 {dataset.profile_hash})",
        )
    ]
    for col in dataset.schema:
        found = protected_attribute_from_name(col["name"])
        p = profile.columns.get(col["name"])
        if found is None or not isinstance(p, CategoricalProfile):
            continue
        total = p.total or 1
        counts = [(plain(v), fmt(n), f"{n / total:.1%}") for v, n in p.top()]
        if p.nulls:
            counts.append(("(missing)", fmt(p.nulls), f"{p.nulls / total:.1%}"))
        exact = "" if p.exact else " (estimated: more categories than the profile keeps)"
        blocks.append(
            Table(
                ("value", "rows", "share"),
                tuple(counts),
                caption=f"Representation: {col['name']} ({found.attribute}){exact}",
            )
        )
    if len(blocks) == 1:
        blocks.append(Text("No column is named like a protected attribute."))
    return blocks


def dataset_evidence(
    registry: Registry, datasets: Sequence[DatasetVersion], sources: Sources
) -> list[str]:
    """The newest drift, quality and PII evidence about each of ``datasets``, one line each."""
    lines = []
    for d in datasets:
        records = subject_evidence(registry, d)
        for purpose in ("quality", "pii", "drift"):
            record = newest(records, *KINDS[purpose])
            if record is not None:
                sources.use(record)
                lines.append(f"{d.ref}: {evidence_summary(record)}")
    return lines
