"""What goes into the documents about data: the datasheet and the GDPR Art. 30 record.

A datasheet (after Gebru et al., "Datasheets for Datasets") describes one
dataset version from what the registry holds — purposes, schema, rows, the
stored profile, provenance, retention, personal data and lawful basis — the
evidence recorded about it (quality, PII, drift), and what people declared
in a ``datasheet`` record. The Art. 30 record lists a system's processing
activities (its dataset versions, and the models trained on them) with items
(a)–(g), the ones the registry cannot know taken from a ``processing_record``.
Where neither holds an answer, a ``MISSING`` block says what would.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from trustops.governance.subjects import erasures_of, subject_index
from trustops.governance.usage import uses
from trustops.reports.blocks import Block, Bullets, Facts, Sources, Table, Text
from trustops.reports.evidence_views import (
    KINDS,
    dataset_facts,
    evidence_summary,
    newest,
    profile_blocks,
    subject_evidence,
)

if TYPE_CHECKING:
    from trustops.governance import DatasetVersion, Evidence, Registry

__all__ = ["DECLARED", "datasheet", "gdpr_art30"]

DECLARED = {
    "datasheet": "what people know about a dataset version (keys motivation, composition, "
    "collection, preprocessing, labelling, uses, distribution, maintenance)",
    "processing_record": "the Art. 30 facts about a dataset version's processing (keys "
    "controller, representative, dpo, data_subjects, personal_data_categories, recipients, "
    "transfers, security_measures)",
}


def _declared(registry: Registry, dataset: DatasetVersion, kind: str) -> Evidence | None:
    """The newest record of ``kind`` about this version, else about its latest earlier version."""
    found = newest(subject_evidence(registry, dataset), kind)
    if found is not None:
        return found
    earlier = [
        d
        for d in registry.datasets(system=dataset.system)
        if d.name == dataset.name and d.version < dataset.version
    ]
    for d in reversed(earlier):
        found = newest(subject_evidence(registry, d), kind)
        if found is not None:
            return found
    return None


def _part(sources: Sources, record: Evidence | None, key: str, what: str) -> list[Block]:
    """Key ``key`` of a declared record, or a MISSING block (``what``, the kind and key)."""
    kind = "datasheet" if record is None else record.kind
    return sources.declared(record, only=(key,)) or [
        sources.missing(f"{what} (evidence kind {kind}, key {key})")
    ]


def _pii_findings(registry: Registry, dataset: DatasetVersion, sources: Sources) -> list[Block]:
    record = newest(subject_evidence(registry, dataset), *KINDS["pii"])
    if record is None:
        return []
    sources.use(record)
    blocks: list[Block] = [Bullets((evidence_summary(record),))]
    if record.content.get("pii_columns") and not dataset.personal_data:
        blocks.append(
            Text(
                "Warning: the PII scan found personal data, but the dataset version is not "
                "recorded as holding personal data."
            )
        )
    return blocks


def datasheet(registry: Registry, dataset: DatasetVersion, sources: Sources) -> dict[str, Any]:
    """Datasheet sections after Gebru et al.: motivation … maintenance, then personal data."""
    system = registry.system(dataset.system)
    sources.seen(system.created_at, dataset.created_at)
    sheet = _declared(registry, dataset, "datasheet")
    records = subject_evidence(registry, dataset)

    motivation: list[Block] = [
        Facts(
            (
                ("permitted purposes", ", ".join(dataset.permitted_purposes) or "—"),
                ("system", f"{system.name}: {system.purpose or 'purpose not recorded'}"),
                ("registered by", dataset.created_by),
            )
        )
    ]
    declared = sources.declared(sheet, only=("motivation",))
    if not declared and not dataset.permitted_purposes:
        declared = [
            sources.missing("why the dataset was created (evidence kind datasheet, key motivation)")
        ]
    motivation += declared

    composition: list[Block] = [dataset_facts(dataset, sources)]
    if dataset.profile_hash:
        composition += profile_blocks(registry, dataset)
    else:
        composition.append(
            sources.missing("column statistics: the stored profile (register with profile=True)")
        )
    composition += sources.declared(sheet, only=("composition",))

    collection: list[Block] = [
        Facts(
            (
                ("source", dataset.source or "—"),
                ("content hash", f"{dataset.content_hash} ({dataset.hash_method})"),
                ("registered", f"{dataset.created_at} by {dataset.created_by}"),
            )
        )
    ]
    declared = sources.declared(sheet, only=("collection",))
    if not declared and not dataset.source:
        declared = [
            sources.missing(
                "how and where the data was collected (evidence kind datasheet, key collection)"
            )
        ]
    collection += declared

    preprocessing: list[Block] = []
    if dataset.parents:
        preprocessing.append(Text(f"Derived from {', '.join(dataset.parents)}."))
    quality = newest(records, *KINDS["quality"])
    if quality is not None:
        sources.use(quality)
        preprocessing.append(Bullets((evidence_summary(quality),)))
    preprocessing += sources.declared(sheet, only=("preprocessing", "labelling"))
    if not preprocessing:
        preprocessing.append(
            sources.missing(
                "preprocessing, cleaning and labelling: derived_from links, quality evidence "
                "(evidence kind quality) or evidence kind datasheet, key preprocessing"
            )
        )

    users = registry.used_by(dataset.ref, system=dataset.system)
    uses: list[Block] = [
        Facts(
            (
                ("permitted purposes", ", ".join(dataset.permitted_purposes) or "—"),
                ("used by model versions", ", ".join(m.ref for m in users) or "none"),
            )
        ),
        *_recorded_uses(registry, dataset, sources),
    ]
    declared = sources.declared(sheet, only=("uses",))
    if not declared and not dataset.permitted_purposes:
        declared = [
            sources.missing(
                "the uses the data is fit for: permitted purposes (register with purposes=) or "
                "evidence kind datasheet, key uses"
            )
        ]
    uses += declared

    versions = [d for d in registry.datasets(system=dataset.system) if d.name == dataset.name]
    sources.seen(*(d.created_at for d in versions))
    maintenance: list[Block] = [
        Facts(
            (
                (
                    "retention",
                    "—" if dataset.retention_days is None else f"{dataset.retention_days:,} days",
                ),
            )
        ),
        Table(
            ("version", "registered", "rows", "sha256"),
            tuple((d.ref, d.created_at, f"{d.row_count:,}", d.content_hash[:16]) for d in versions),
            caption="Versions of this dataset",
        ),
    ]
    declared = sources.declared(sheet, only=("maintenance",))
    if not declared and dataset.retention_days is None:
        declared = [
            sources.missing(
                "who maintains the data and how long it is kept: retention_days, or evidence "
                "kind datasheet, key maintenance"
            )
        ]
    maintenance += declared

    personal: list[Block] = [
        Facts(
            (
                ("personal data", "yes" if dataset.personal_data else "no"),
                ("lawful basis", dataset.lawful_basis or "—"),
            )
        )
    ]
    if dataset.personal_data and not dataset.lawful_basis:
        personal.append(
            sources.missing("the lawful basis for the personal data (register with lawful_basis=)")
        )
    if dataset.personal_data and dataset.retention_days is None:
        personal.append(
            sources.missing("the erasure time limit for the personal data (retention_days=)")
        )
    personal += _pii_findings(registry, dataset, sources)

    evidence = [e for e in records if e.kind not in ("datasheet", "processing_record")]
    for e in evidence:
        sources.use(e)
    return {
        "dataset": dataset,
        "system": system,
        "sections": {
            "motivation": motivation,
            "composition": composition,
            "collection": collection,
            "preprocessing": preprocessing,
            "uses": uses,
            "distribution": _part(sources, sheet, "distribution", "how the data is distributed"),
            "maintenance": maintenance,
            "personal_data": personal,
            "evidence": [Bullets(tuple(evidence_summary(e) for e in evidence))]
            if evidence
            else [Text("No evidence is recorded about this dataset version.")],
        },
    }


def _activity(registry: Registry, dataset: DatasetVersion, sources: Sources) -> dict[str, Any]:
    """Items (a)–(g) for the processing of one dataset version holding personal data."""
    from trustops.core.quality.pii.protected import protected_attribute_from_name

    system = registry.system(dataset.system)
    record = _declared(registry, dataset, "processing_record")
    kind = "processing_record"

    def declared(*keys: str) -> list[Block]:
        return sources.declared(record, only=keys)

    def missing(what: str, key: str) -> Block:
        return sources.missing(f"{what} (evidence kind {kind}, key {key})")

    controller = declared("controller", "representative", "dpo")
    if record is None or "controller" not in record.content:
        controller.append(missing("the controller's name and contact details", "controller"))
    controller.append(Facts((("accountable owner in the registry", system.owner or "—"),)))

    purposes: list[Block] = [
        Facts(
            (
                ("permitted purposes", ", ".join(dataset.permitted_purposes) or "—"),
                ("system purpose", system.purpose or "—"),
                ("lawful basis (Art. 6)", dataset.lawful_basis or "—"),
            )
        )
    ]
    if not dataset.permitted_purposes:
        purposes.append(
            sources.missing(f"the purposes of processing {dataset.ref} (register with purposes=)")
        )
    users = registry.used_by(dataset.ref, system=dataset.system)
    if users:
        purposes.append(Text("Used to train or evaluate: " + ", ".join(m.ref for m in users) + "."))
    purposes += _recorded_uses(registry, dataset, sources)

    categories = declared("data_subjects", "personal_data_categories")
    if record is None or "data_subjects" not in record.content:
        categories.append(missing("the categories of data subjects", "data_subjects"))
    protected = [
        f"{c['name']} ({found.attribute})"
        for c in dataset.schema
        if (found := protected_attribute_from_name(c["name"])) is not None
    ]
    categories.append(
        Facts(
            (
                ("columns", ", ".join(c["name"] for c in dataset.schema)),
                ("named like protected attributes", ", ".join(protected) or "none"),
            )
        )
    )
    categories += _pii_findings(registry, dataset, sources)

    recipients = declared("recipients") or [
        missing("the categories of recipients, in third countries too", "recipients")
    ]
    transfers = declared("transfers") or [
        missing("transfers to third countries and their safeguards (or 'none')", "transfers")
    ]
    if dataset.retention_days is not None:
        erasure: list[Block] = [Facts((("retention", f"{dataset.retention_days:,} days"),
                                       ("retention ends", _retention_end(dataset))))]  # fmt: skip
    else:
        erasure = [
            sources.missing(
                f"the erasure time limit for {dataset.ref} (register with retention_days=)"
            )
        ]
    erasure += _erasure_requests(registry, dataset, sources)
    security = declared("security_measures") or [
        missing("a general description of the security measures (Art. 32)", "security_measures")
    ]
    security.append(
        Text(
            "Recorded by trustops: the data's content hash, and every registry change in an "
            "append-only audit log with signed checkpoints."
        )
    )
    index = subject_index(registry, dataset)
    if index is not None:
        security.append(
            Text(
                f"Subject ids (column {index['column']}, {index['subjects']:,} subjects) are "
                "indexed by keyed hash (HMAC-SHA256, key outside the store), never stored."
            )
        )
    sources.seen(dataset.created_at)
    return {
        "dataset": dataset,
        "items": [
            (
                "(a) controller, joint controller, representative, data protection officer",
                controller,
            ),
            ("(b) purposes of the processing", purposes),
            ("(c) categories of data subjects and of personal data", categories),
            ("(d) categories of recipients", recipients),
            ("(e) transfers to third countries or international organisations", transfers),
            ("(f) envisaged time limits for erasure", erasure),
            ("(g) technical and organisational security measures", security),
        ],
    }


def _retention_end(dataset: DatasetVersion) -> str:
    from datetime import datetime, timedelta

    start = datetime.fromisoformat(dataset.created_at.replace("Z", "+00:00"))
    return (start + timedelta(days=dataset.retention_days or 0)).date().isoformat()


def _recorded_uses(registry: Registry, dataset: DatasetVersion, sources: Sources) -> list[Block]:
    """The recorded reads of this version (trustops.governance.usage), by use and purpose."""
    found = uses(registry, dataset=dataset)
    if not found:
        return [Text("No read of this version is recorded (trustops.governance.usage).")]
    groups: dict[tuple[str, str, str], list[Any]] = {}
    for u in found:
        sources.seen(u.created_at)
        groups.setdefault((u.use, u.purpose or "—", u.outcome), []).append(u)
    rows = tuple(
        (use, purpose, outcome, str(len(g)), ", ".join(sorted({u.created_by for u in g})),
         max(u.created_at for u in g))
        for (use, purpose, outcome), g in sorted(groups.items())
    )  # fmt: skip
    blocks: list[Block] = [
        Table(
            ("use", "purpose", "outcome", "reads", "by", "last"),
            rows,
            caption="Recorded reads of this version (data.used in the audit log)",
        )
    ]
    outside = sorted({u.purpose for u in found if u.outcome == "warned" and u.purpose})
    if outside:
        blocks.append(
            Text("Warning: read for purposes it does not permit: " + ", ".join(outside) + ".")
        )
    return blocks


def _erasure_requests(registry: Registry, dataset: DatasetVersion, sources: Sources) -> list[Block]:
    found = erasures_of(registry, dataset)
    if not found:
        return []
    for r in found:
        sources.seen(r["created_at"])
    return [
        Table(
            ("request", "reference", "received", "subjects held", "step"),
            tuple(
                (
                    str(r["id"]),
                    r["reference"] or "—",
                    r["created_at"],
                    "—" if r["matched"] is None else str(r["matched"]),
                    r["action"],
                )
                for r in found
            ),
            caption="Erasure requests (Art. 17) that touched this version",
        )
    ]


def gdpr_art30(registry: Registry, system_name: str, sources: Sources) -> dict[str, Any]:
    """The record of processing activities of one system (GDPR Art. 30(1))."""
    system = registry.system(system_name)
    sources.seen(system.created_at)
    datasets = registry.datasets(system=system_name)
    personal = [d for d in datasets if d.personal_data]
    other = [d for d in datasets if not d.personal_data]
    overview = Facts(
        (
            ("system", system.name),
            ("owner", system.owner or "—"),
            ("purpose", system.purpose or "—"),
            ("use case", system.use_case or "—"),
            ("jurisdictions", ", ".join(system.jurisdictions) or "—"),
            ("dataset versions holding personal data", str(len(personal))),
        )
    )
    not_personal: list[Block] = []
    if other:
        rows = []
        for d in other:
            sources.seen(d.created_at)
            record = newest(subject_evidence(registry, d), *KINDS["pii"])
            if record is not None:
                sources.use(record)
            found = (record.content.get("pii_columns") or []) if record is not None else []
            note = f"PII scan found personal data in {', '.join(found)}" if found else "—"
            rows.append((d.ref, f"{d.row_count:,}", note))
        not_personal.append(Table(("version", "rows", "warning"), tuple(rows)))
    return {
        "system": system,
        "datasets": datasets,
        "sections": {"overview": [overview], "not_personal": not_personal},
        "activities": [_activity(registry, d, sources) for d in personal],
    }
