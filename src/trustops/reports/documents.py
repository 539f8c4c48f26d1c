"""Documents for people and regulators, generated from the registry and its evidence alone.

Five documents, each in Markdown, self-contained HTML (inline CSS and SVG), or PDF
(that HTML on A4 pages, with WeasyPrint: the ``pdf`` extra, ``pip install 'trustops[pdf]'``):

=============  =========  ===================================================
kind           about      what it is
=============  =========  ===================================================
model_card     model      model card (Mitchell et al. 2019; Hugging Face card)
datasheet      dataset    datasheet for a dataset version (Gebru et al.)
annex_iv       model      EU AI Act Annex IV technical documentation
eeoc           model      EEOC adverse-impact report (four-fifths rule)
gdpr_art30     system     GDPR Art. 30 record of processing activities
=============  =========  ===================================================

A document is a function of the registry state: it reads no clock (its date
is the newest time among the records it used, or the ``date`` passed in),
and generated reports are never inputs, so the same state gives the same
bytes (a PDF is dated with the document's date, not the clock, so it too is
reproducible with the same WeasyPrint and fonts). Where evidence is absent a
document says ``MISSING: <what would fill it>``. With ``record=True`` the bytes
(the PDF's, for ``pdf``) go to the artifact store and an evidence record of
kind ``report`` names them::

    {"document": "annex_iv", "format": "markdown", "sha256": "…", "size": 1234,
     "subject": "model:credit/scorer@1", "as_of": "…", "inputs": [evidence content hashes],
     "evidence_ids": [...], "missing": [...], "complete": false, "generator": "trustops 0.1.0"}

Example:
    >>> import tempfile, pyarrow as pa
    >>> from trustops.governance import Registry, init_workspace
    >>> reg = Registry.open(init_workspace(tempfile.mkdtemp(), actor="alice").project)
    >>> _ = reg.create_system("credit", owner="risk team", purpose="credit decisions")
    >>> _ = reg.register_dataset(pa.table({"x": [1, 2]}), system="credit", name="train")
    >>> _ = reg.register_model(b"w", system="credit", name="scorer", trained_on=["train"],
    ...                        code_commit=None)
    >>> doc = render_document(reg, "annex_iv", model="scorer@1")
    >>> "MISSING: the risk-management system" in doc.text, doc.evidence[0].kind
    (True, 'report')
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from trustops.errors import UsageError
from trustops.reports import data_documents, model_documents
from trustops.reports.blocks import Sources
from trustops.reports.jinja import environment

if TYPE_CHECKING:
    from trustops.governance import DatasetVersion, Evidence, ModelVersion, Registry

__all__ = ["DOCUMENTS", "FORMATS", "RenderedDocument", "render_document"]

FORMATS = {"markdown": "md", "html": "html", "pdf": "pdf"}
"""Each format and its file suffix."""

_TEMPLATES = {"markdown": "md", "html": "html", "pdf": "html"}  # a PDF is its HTML, printed


@dataclass(frozen=True, slots=True)
class _Kind:
    title: str
    about: str  # "model", "dataset" or "system"
    build: Callable[..., dict[str, Any]]


DOCUMENTS: dict[str, _Kind] = {
    "model_card": _Kind("Model card", "model", model_documents.model_card),
    "datasheet": _Kind("Datasheet", "dataset", data_documents.datasheet),
    "annex_iv": _Kind(
        "EU AI Act Annex IV technical documentation", "model", model_documents.annex_iv
    ),
    "eeoc": _Kind("EEOC adverse-impact report", "model", model_documents.eeoc),
    "gdpr_art30": _Kind("GDPR Art. 30 record of processing activities", "system",
                        data_documents.gdpr_art30),
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class RenderedDocument:
    """A generated document, its hash, and the evidence records that store it.

    Attributes:
        kind: ``model_card``, ``datasheet``, ``annex_iv``, ``eeoc`` or ``gdpr_art30``.
        format: ``markdown``, ``html`` or ``pdf``.
        text: the document; for ``pdf``, the HTML the PDF was printed from.
        data: the document's bytes: ``text`` in UTF-8, or the PDF.
        sha256: SHA-256 of ``data`` (the artifact's name in the store).
        subject: ``model:SYSTEM/NAME@V``, ``dataset:SYSTEM/NAME@V`` or ``system:NAME``.
        as_of: the date the document speaks for (the newest record it used, or the one given).
        inputs: content hashes of the evidence records used, oldest first.
        missing: what each ``MISSING`` marker asks for.
        evidence: the ``report`` evidence records (none with ``record=False``; one per
            dataset version described for ``gdpr_art30``).
    """

    kind: str
    format: str
    text: str
    data: bytes
    sha256: str
    subject: str
    as_of: str
    inputs: tuple[str, ...]
    missing: tuple[str, ...]
    evidence: tuple[Evidence, ...]


def _tidy(text: str) -> str:
    """No trailing spaces, at most one blank line in a row, one final newline."""
    lines = [line.rstrip() for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip("\n") + "\n"


def _kind(kind: str) -> str:
    name = kind.replace("-", "_")
    if name not in DOCUMENTS:
        raise UsageError(
            f"unknown document {kind!r}",
            hint=f"one of {', '.join(k.replace('_', '-') for k in DOCUMENTS)}",
        )
    return name


def _as_of(date: dt.date | str | None, sources: Sources) -> str:
    if date is None:
        return sources.newest or ""
    if isinstance(date, dt.datetime):
        return date.isoformat()
    if isinstance(date, dt.date):
        return date.isoformat()
    try:
        return dt.date.fromisoformat(str(date)).isoformat()
    except ValueError:
        raise UsageError(f"invalid date {date!r}", hint="write YYYY-MM-DD") from None


def _dataset(registry: Registry, dataset: Any, system: str | None) -> DatasetVersion:
    from trustops.governance import DatasetVersion

    if isinstance(dataset, DatasetVersion):
        return dataset
    if not isinstance(dataset, str) or not dataset:
        raise UsageError("a datasheet needs dataset= (SYSTEM/NAME@VERSION)")
    ref = dataset.removeprefix("dataset:")
    if "/" in ref:
        system, ref = ref.split("/", 1)
    if not system:
        raise UsageError(f"dataset {dataset!r}: say which system", hint="write SYSTEM/NAME@VERSION")
    return registry.dataset(ref, system=system)


def render_document(
    registry: Registry,
    kind: str,
    *,
    model: ModelVersion | str | None = None,
    dataset: DatasetVersion | str | None = None,
    system: str | None = None,
    fmt: str = "markdown",
    date: dt.date | str | None = None,
    record: bool = True,
) -> RenderedDocument:
    """Render document ``kind`` from the registry and, with ``record``, store it as evidence.

    Args:
        registry: an open :class:`~trustops.governance.Registry`.
        kind: ``model_card``, ``datasheet``, ``annex_iv``, ``eeoc`` or ``gdpr_art30``
            (``-`` for ``_`` is fine).
        model: the model version (``NAME@V``, ``SYSTEM/NAME@V``) for the model documents.
        dataset: the dataset version (``SYSTEM/NAME@V``, or ``NAME@V`` with ``system``).
        system: the system, for ``gdpr_art30`` (and a dataset given without one).
        fmt: ``markdown``, ``html`` or ``pdf`` (needs WeasyPrint: ``trustops[pdf]``).
        date: the date the document speaks for (default: the newest record it used).
        record: store the bytes in the artifact store and record ``report`` evidence.

    Raises:
        UsageError: an unknown kind or format, or the subject it needs not given.
        NotFoundError: the model, dataset or system is not registered.
        UnsupportedError: ``pdf`` without WeasyPrint (``pip install 'trustops[pdf]'``).
    """
    name = _kind(kind)
    if fmt not in FORMATS:
        raise UsageError(f"unknown format {fmt!r}", hint=f"one of {', '.join(FORMATS)}")
    spec = DOCUMENTS[name]
    sources = Sources()
    subjects: list[ModelVersion | DatasetVersion]
    cli = name.replace("_", "-")
    if spec.about == "model":
        if model is None:
            raise UsageError(f"the {name} document needs model= (NAME@VERSION)")
        mv = registry.model(model) if isinstance(model, str) else model
        label = f"model:{mv.system}/{mv.ref}"
        context = spec.build(registry, mv, sources)
        subjects, command = [mv], f"trustops report {cli} --model {mv.system}/{mv.ref}"
    elif spec.about == "dataset":
        dv = _dataset(registry, dataset, system)
        label = f"dataset:{dv.system}/{dv.ref}"
        context = spec.build(registry, dv, sources)
        subjects, command = [dv], f"trustops report {cli} --dataset {dv.system}/{dv.ref}"
    else:
        if not system:
            raise UsageError(f"the {name} document needs system=")
        label = f"system:{system}"
        context = spec.build(registry, system, sources)
        subjects, command = list(context["datasets"]), f"trustops report {cli} --system {system}"
    as_of = _as_of(date, sources)
    if date is not None:
        command += f" --date {as_of}"
    if fmt != "markdown":
        command += f" --format {fmt}"
    used = [sources.evidence[i] for i in sorted(sources.evidence)]
    text = (
        environment()
        .get_template(f"{name}.{_TEMPLATES[fmt]}.j2")
        .render(
            **context,
            title=spec.title,
            subject=label,
            as_of=as_of,
            command=command,
            missing=sources.missing_items,
            inputs=used,
        )
    )
    text = _tidy(text)
    if fmt == "pdf":
        from trustops.reports.pdf import html_to_pdf

        data = html_to_pdf(text, date=as_of)
    else:
        data = text.encode("utf-8")
    digest = hashlib.sha256(data).hexdigest()
    records: tuple[Evidence, ...] = ()
    if record:
        records = _record(registry, subjects, name, fmt, data, label, as_of, sources)
    return RenderedDocument(
        kind=name,
        format=fmt,
        text=text,
        data=data,
        sha256=digest,
        subject=label,
        as_of=as_of,
        inputs=tuple(sources.inputs),
        missing=tuple(sources.missing_items),
        evidence=records,
    )


def _record(
    registry: Registry,
    subjects: list[ModelVersion | DatasetVersion],
    kind: str,
    fmt: str,
    data: bytes,
    label: str,
    as_of: str,
    sources: Sources,
) -> tuple[Evidence, ...]:
    """Store the bytes and a ``report`` record per subject (the same content is not re-recorded)."""
    from trustops import __version__

    digest, size = registry.artifacts.put_bytes(data)
    content = {
        "document": kind,
        "format": fmt,
        "sha256": digest,
        "size": size,
        "subject": label,
        "as_of": as_of,
        "inputs": sources.inputs,
        "evidence_ids": sorted(sources.evidence),
        "missing": list(sources.missing_items),
        "complete": not sources.missing_items,
        "generator": f"trustops {__version__}",
    }
    out = []
    for subject in subjects:
        same = [
            e for e in registry.evidence(subject=subject, kind="report") if e.content == content
        ]
        out.append(same[-1] if same else registry.record_evidence("report", subject, content))
    return tuple(out)
