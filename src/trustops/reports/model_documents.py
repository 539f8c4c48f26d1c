"""What goes into the documents about a model version: model card, Annex IV, EEOC report.

Each builder reads the registry (the version, its system, lineage, stage
history) and the evidence recorded about the version, and returns the
template's context: one list of blocks per section. Facts only people can
state (intended use, a risk register, the declaration of conformity …) come
from *declared* evidence kinds (:data:`DECLARED`); where a section has
neither registry facts nor evidence it gets a ``MISSING`` block saying what
would fill it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from trustops.reports.blocks import Block, Bullets, Facts, Sources, Table, Text, plain
from trustops.reports.evidence_views import (
    KINDS,
    FairnessView,
    dataset_evidence,
    dataset_table,
    model_facts,
    newest,
    subject_evidence,
)

if TYPE_CHECKING:
    from trustops.governance import Evidence, ModelVersion, Registry, System

__all__ = ["DECLARED", "annex_iv", "eeoc", "model_card"]

# Evidence kinds that people record about a model version, and what each holds; a section
# without its kind says MISSING. Also read, never marked missing: data_governance (Art. 10,
# in Annex IV 2(d)) and robustness (Art. 15, in 2(h)), the kinds of the eu-ai-act-high-risk pack.
DECLARED = {
    "intended_use": "intended uses, users and out-of-scope uses (keys intended_uses, users, "
    "out_of_scope)",
    "considerations": "ethical considerations, caveats and recommendations (keys "
    "ethical_considerations, caveats, recommendations)",
    "system_description": "how the system interacts with other hardware and software, the "
    "forms it is placed on the market in, the hardware it runs on, its user interface",
    "instructions_for_use": "the instructions for use given to deployers (Art. 13)",
    "design": "design specifications: general logic, key choices and their rationale, "
    "assumptions about the persons it is used on, what it optimises, trade-offs, architecture, "
    "compute",
    "human_oversight": "human-oversight measures and their assessment (Art. 14)",
    "predetermined_changes": "changes to the system and its performance determined in advance",
    "cybersecurity": "cybersecurity and robustness measures and tests (Art. 15)",
    "performance_metrics": "why the performance and fairness metrics chosen are appropriate "
    "(key rationale)",
    "risk_management": "the risk-management system (Art. 9): a risk register (key risks: "
    "hazard, affected, likelihood, severity, mitigation, residual, owner, review)",
    "standards": "the harmonised standards applied, or the other solutions used",
    "declaration_of_conformity": "the EU declaration of conformity (Art. 47)",
    "post_market_monitoring_plan": "the post-market monitoring plan (Art. 72): metrics, "
    "thresholds, cadence, data sources, escalation",
}


def _need(kind: str) -> str:
    return f"{DECLARED[kind]} (evidence kind {kind})"


class _Model:
    """The records every model document reads, fetched once."""

    def __init__(self, registry: Registry, model: ModelVersion, sources: Sources) -> None:
        self.registry = registry
        self.model = model
        self.sources = sources
        self.system: System = registry.system(model.system)
        self.records = subject_evidence(registry, model)
        record = newest(self.records, *KINDS["fairness"])
        self.fairness = FairnessView(sources.use(record)) if record is not None else None
        self.lineage = registry.lineage(f"{model.system}/{model.ref}")
        # the stage shown depends on this version's transitions: their times date the document
        sources.seen(self.system.created_at, model.created_at)
        sources.seen(
            *(h["time"] for h in registry.history(model.system) if h["version"] == model.ref)
        )

    def declared(self, kind: str) -> Evidence | None:
        """The newest record of ``kind`` about this version, else about its nearest ancestor
        (what people declare about a model usually holds for its retrained versions)."""
        found = newest(self.records, kind)
        for ancestor in self.lineage.ancestors:
            if found is not None:
                break
            found = newest(subject_evidence(self.registry, ancestor), kind)
        return found

    def section(
        self, kind: str, *, what: str | None = None, only: tuple[str, ...] | None = None
    ) -> list[Block]:
        """The declared record of ``kind`` (its keys ``only``), or a MISSING block."""
        found = self.sources.declared(self.declared(kind), only=only)
        if found:
            return found
        if what is None:
            return [self.sources.missing(_need(kind))]
        keys = f", key{'s' if only and len(only) > 1 else ''} {', '.join(only or ())}"
        return [self.sources.missing(f"{what} (evidence kind {kind}{keys if only else ''})")]

    def purpose(self) -> list[Block]:
        s = self.system
        rows = [
            ("intended purpose", s.purpose or "—"),
            ("use case", s.use_case or "—"),
            ("EU AI Act risk category", s.risk or "—"),
            ("jurisdictions", ", ".join(s.jurisdictions) or "—"),
        ]
        declared = self.sources.declared(self.declared("intended_use"), exclude=("out_of_scope",))
        if not s.purpose and not declared:
            return [Facts(tuple(rows)), self.sources.missing(_need("intended_use"))]
        return [Facts(tuple(rows)), *declared]

    def training_data(self) -> list[Block]:
        if not self.lineage.datasets:
            return [
                self.sources.missing(
                    "the training data: dataset versions registered and named in the model's "
                    "trained_on"
                )
            ]
        blocks: list[Block] = [dataset_table(self.lineage.datasets, self.sources)]
        lines = dataset_evidence(self.registry, self.lineage.datasets, self.sources)
        if lines:
            blocks.append(Bullets(tuple(lines)))
        return blocks

    def evaluation(self) -> list[Block]:
        blocks: list[Block] = []
        if self.lineage.evaluated_on:
            blocks.append(dataset_table(self.lineage.evaluated_on, self.sources))
        if self.fairness is not None:
            c = self.fairness.content
            blocks.append(
                Text(
                    f"The fairness assessment (evidence #{self.fairness.record.id}, recorded "
                    f"{self.fairness.record.created_at}) covers {c.get('n_rows', 0):,} rows "
                    f"broken down by {', '.join(c.get('sensitive') or []) or 'no attribute'}."
                )
            )
        return blocks or [
            self.sources.missing(
                "the evaluation data: dataset versions named in the model's evaluated_on, or a "
                "fairness assessment (evidence kind fairness)"
            )
        ]

    def metrics(self) -> list[Block]:
        if self.fairness is None:
            blocks: list[Block] = []
            if self.model.metrics:
                rows = tuple((k, str(v), "model registry") for k, v in self.model.metrics.items())
                blocks.append(Table(("metric", "value", "from"), rows, caption="Overall"))
            return [
                *blocks,
                self.sources.missing(
                    "metrics by group with intervals: a fairness assessment of the model's "
                    "predictions (evidence kind fairness, from trustops.assess_fairness)"
                ),
            ]
        f = self.fairness
        return [
            Text(f"From {cite_short(f.record)}."),
            f.overall_table(self.model.metrics),
            f.group_table(),
            *f.charts(),
            f.disparity_table(),
        ]

    def drift_lines(self) -> list[str]:
        """The newest drift evidence about each dataset version of the system."""
        datasets = self.registry.datasets(system=self.system.name)
        out = []
        for d in datasets:
            record = newest(subject_evidence(self.registry, d), *KINDS["drift"])
            if record is not None:
                self.sources.use(record)
                c = record.content
                drifted = c.get("drifted_columns") or []
                out.append(
                    f"{d.ref}: {len(drifted)} column(s) drifted"
                    f"{' (' + ', '.join(drifted) + ')' if drifted else ''}, dataset drift "
                    f"{'detected' if c.get('dataset_drift') else 'not detected'} "
                    f"(evidence #{record.id}, {record.created_at})"
                )
        return out

    def lifecycle(self) -> list[Block]:
        versions = [
            m for m in self.registry.models(system=self.system.name) if m.name == self.model.name
        ]
        rows = []
        for m in versions:
            self.sources.seen(m.created_at)
            rows.append(
                (
                    m.ref,
                    m.created_at,
                    m.created_by,
                    m.parent or "—",
                    m.stage,
                    m.artifact_hash[:16],
                    ", ".join(m.trained_on) or "—",
                )
            )
        head = ("version", "registered", "by", "derived from", "stage now", "sha256")
        blocks: list[Block] = [Table((*head, "trained on"), tuple(rows), caption="Versions")]
        names = {m.ref for m in versions}
        history = [h for h in self.registry.history(self.system.name) if h["version"] in names]
        if history:
            self.sources.seen(*(h["time"] for h in history))
            blocks.append(
                Table(
                    ("time", "version", "from", "to", "action", "reason", "by", "audit seq"),
                    tuple(
                        (
                            h["time"],
                            h["version"],
                            h["from"],
                            h["to"],
                            h["action"],
                            h["reason"] or "—",
                            h["actor"],
                            str(h["audit_seq"]),
                        )
                        for h in history
                    ),
                    caption="Stage history (each change has its entry in the audit log)",
                )
            )
        else:
            blocks.append(Text("No stage transition is recorded: every version is in development."))
        return blocks


def cite_short(record: Evidence) -> str:
    when = f"recorded {record.created_at} by {record.created_by}"
    return f"evidence #{record.id} ({record.kind}, {when})"


def model_card(registry: Registry, model: ModelVersion, sources: Sources) -> dict[str, Any]:
    """Model card sections after Mitchell et al. (2019) and the Hugging Face card."""
    m = _Model(registry, model, sources)
    f = m.fairness
    ethical: list[Block] = []
    if f is not None:
        ethical.append(Bullets(tuple(f.findings()) or ("No group is under the four-fifths line.",)))
    personal = [d for d in m.lineage.datasets if d.personal_data]
    if personal:
        ethical.append(
            Bullets(
                tuple(
                    f"{d.ref} holds personal data; lawful basis: "
                    f"{d.lawful_basis or 'not recorded'}; purposes: "
                    f"{', '.join(d.permitted_purposes) or 'not recorded'}."
                    for d in personal
                )
            )
        )
    ethical += m.section(
        "considerations",
        only=("ethical_considerations",),
        what="ethical considerations reviewed by people",
    )
    caveats: list[Block] = []
    drift = m.drift_lines()
    if drift:
        caveats.append(Text("Drift measured on the system's data:"))
        caveats.append(Bullets(tuple(drift)))
    if model.stage != "production":
        caveats.append(Text(f"This version is in stage {model.stage}, not in production."))
    caveats += m.section(
        "considerations",
        only=("caveats", "recommendations"),
        what="caveats and recommendations",
    )
    return {
        "model": model,
        "system": m.system,
        "sections": {
            "details": [model_facts(model, m.system, sources)],
            "intended_use": m.purpose(),
            "out_of_scope": m.section(
                "intended_use", only=("out_of_scope",), what="out-of-scope uses"
            ),
            "factors": [f.factors()]
            if f is not None
            else [
                sources.missing(
                    "the factors evaluated: a fairness assessment by sensitive attribute "
                    "(evidence kind fairness)"
                )
            ],
            "training_data": m.training_data(),
            "evaluation_data": m.evaluation(),
            "metrics": m.metrics(),
            "ethical": ethical,
            "caveats": caveats,
        },
    }


def annex_iv(registry: Registry, model: ModelVersion, sources: Sources) -> dict[str, Any]:
    """EU AI Act Annex IV technical documentation, its nine headings."""
    m = _Model(registry, model, sources)
    f = m.fairness
    provider: list[Block] = [
        Facts((("provider (system owner)", m.system.owner or "—"),)),
    ]
    if not m.system.owner:
        provider.append(sources.missing("the provider: the system's owner (system create --owner)"))
    software: list[Block] = [model_facts(model, m.system, sources)]
    if m.lineage.ancestors:
        software.append(
            Text(
                "Previous versions it derives from: "
                + ", ".join(a.ref for a in m.lineage.ancestors)
                + "."
            )
        )
    testing: list[Block] = []
    if f is not None:
        testing += [Text(f"From {cite_short(f.record)}."), f.overall_table(model.metrics)]
        testing.append(f.disparity_table())
        testing.append(Text("Discriminatory impact (four-fifths rule):"))
        testing.append(Bullets(tuple(f.findings()) or ("No group is under the four-fifths line.",)))
        testing.append(
            Text(
                "Each evidence record is dated and attributed, and its content hash is in the "
                "audit log, whose signed checkpoints sign it (trustops audit verify)."
            )
        )
    else:
        testing.append(
            sources.missing(
                "validation and testing results, including discriminatory impacts: a fairness "
                "assessment (evidence kind fairness)"
            )
        )
    cyber: list[Block] = [
        Text(
            "The model artifact is pinned by its SHA-256 in a content-addressed store and "
            "re-hashed before each promotion and rollback; trustops never loads the model file."
        ),
        *m.section("cybersecurity"),
        *sources.declared(m.declared("robustness")),
    ]
    capabilities: list[Block] = []
    outcomes: list[Block] = []
    if f is not None:
        capabilities += [Text(f"From {cite_short(f.record)}."), f.group_table(), *f.charts()]
        outcomes.append(
            Bullets(tuple(f.findings()) or ("No group is under the four-fifths line.",))
        )
    else:
        capabilities.append(
            sources.missing(
                "the accuracy for the persons or groups the system is used on: a fairness "
                "assessment (evidence kind fairness)"
            )
        )
    drift = m.drift_lines()
    if drift:
        outcomes.append(Bullets(tuple(drift)))
    outcomes += sources.declared(m.declared("intended_use"), only=("out_of_scope",))
    if not outcomes:
        outcomes.append(
            sources.missing(
                "foreseeable unintended outcomes and sources of risk: fairness or drift evidence, "
                "or out-of-scope uses (evidence kind intended_use)"
            )
        )
    inputs: list[Block] = []
    for d in m.lineage.datasets:
        inputs.append(
            Table(
                ("column", "type"),
                tuple((c["name"], c["type"]) for c in d.schema),
                caption=f"Columns of the training data {d.ref}",
            )
        )
    if not inputs:
        inputs.append(sources.missing("input-data specifications: the training data's schema"))
    measured: list[Block] = []
    if f is not None:
        names = [k for k in (f.content.get("overall") or {}) if k != "count"]
        measured.append(Facts((("measured (fairness evidence)", ", ".join(names)),)))
    if model.metrics:
        measured.append(Facts((("declared at registration", ", ".join(model.metrics)),)))
    if not measured:
        measured.append(
            sources.missing("performance metrics: metrics at registration or fairness evidence")
        )
    monitoring: list[Block] = m.section("post_market_monitoring_plan")
    if drift:
        monitoring += [Text("Monitoring results recorded so far:"), Bullets(tuple(drift))]
    return {
        "model": model,
        "system": m.system,
        "sections": {
            "purpose": m.purpose(),
            "provider": provider,
            "software": software,
            "system_description": m.section("system_description"),
            "instructions": m.section("instructions_for_use"),
            "methods": [
                Facts(
                    (
                        ("framework", model.framework or "—"),
                        ("parameters", plain(model.parameters) if model.parameters else "—"),
                        ("code commit", model.code_commit or "—"),
                        ("derived from", model.parent or "—"),
                    )
                )
            ],
            "design": m.section("design"),
            "data": [*m.training_data(), *sources.declared(m.declared("data_governance"))],
            "evaluation_data": m.evaluation(),
            "oversight": m.section("human_oversight"),
            "changes": m.section("predetermined_changes"),
            "testing": testing,
            "cybersecurity": cyber,
            "capabilities": capabilities,
            "outcomes": outcomes,
            "oversight_measures": sources.declared(m.declared("human_oversight"))
            or [sources.missing(_need("human_oversight"))],
            "inputs": inputs,
            "metrics_measured": measured,
            "metrics_rationale": m.section("performance_metrics"),
            "risk": m.section("risk_management"),
            "lifecycle": m.lifecycle(),
            "standards": m.section("standards"),
            "conformity": m.section("declaration_of_conformity"),
            "monitoring": monitoring,
        },
    }


def eeoc(registry: Registry, model: ModelVersion, sources: Sources) -> dict[str, Any]:
    """The adverse-impact report: the four-fifths table of each attribute, never a bare verdict."""
    m = _Model(registry, model, sources)
    f = m.fairness
    summary = Facts(
        (
            ("system", m.system.name),
            ("use case", m.system.use_case or "—"),
            ("model version", f"{model.ref} ({model.stage})"),
            ("threshold", "—" if f is None else f"{f.threshold:g} (four-fifths rule)"),
            ("significance level", "0.05 (Fisher's exact test; the z-test beside it)"),
        )
    )
    attributes: list[dict[str, Any]] = []
    if f is None:
        missing = [
            sources.missing(
                "selection rates by group: a fairness assessment of the model's selections "
                "(evidence kind fairness, from trustops.assess_fairness)"
            )
        ]
    elif not f.four_fifths():
        missing = [
            sources.missing(
                f"four-fifths rows: the fairness evidence (#{f.record.id}, task {f.task}) has "
                "none; the rule needs the selections of a binary task, as recorded from "
                "trustops.assess_fairness"
            )
        ]
    else:
        missing = []
        for name, rows in f.four_fifths().items():
            adverse = [r for r in rows if r in f.adverse()]
            attributes.append(
                {
                    "name": name,
                    "blocks": [f.four_fifths_table(rows), f.impact_chart(rows)],
                    "adverse": len(adverse),
                }
            )
    return {
        "model": model,
        "system": m.system,
        "fairness": f,
        "sections": {
            "summary": [summary, *([Text(f"From {cite_short(f.record)}.")] if f else [])],
            "findings": [Bullets(tuple(f.findings()) or ("No group is under the threshold.",))]
            if f is not None and not missing
            else missing,
        },
        "attributes": attributes,
    }
