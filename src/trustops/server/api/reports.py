"""Report downloads: model card, EU AI Act Annex IV, EEOC, NYC LL144, datasheet, GDPR Art. 30.

The documents of :mod:`trustops.reports.documents`, rendered from the
registry (nothing is recorded: a download is a read), and the LL144
bias-audit summary of the model version's newest ``ll144`` evidence. Every
download is an attachment; an HTML one also carries a ``sandbox``
Content-Security-Policy, so nothing in it runs with the server's origin.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

from fastapi import Depends, Query
from fastapi.responses import Response

from trustops.core.access import Permission
from trustops.errors import InputError
from trustops.server.api import api_router
from trustops.server.api.models import model_ref
from trustops.server.api.schemas import Ref, SystemName
from trustops.server.api.systems import dataset_ref
from trustops.server.security import Caller, requires

__all__ = ["router"]

router = api_router("reports")

Reader = Annotated[Caller, Depends(requires(Permission.SYSTEM_READ))]


class ModelReport(StrEnum):
    model_card = "model-card"
    annex_iv = "annex-iv"
    eeoc = "eeoc"
    ll144 = "ll144"


class ReportFormat(StrEnum):
    markdown = "markdown"
    html = "html"


Format = Annotated[ReportFormat, Query(description="markdown or html.")]
_MEDIA = {"markdown": "text/markdown; charset=utf-8", "html": "text/html; charset=utf-8"}
_SUFFIX = {"markdown": "md", "html": "html"}
_DOWNLOAD: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/markdown": {}, "text/html": {}}}
}


def _download(data: bytes, fmt: str, stem: str) -> Response:
    headers = {
        "Content-Disposition": f'attachment; filename="{stem}.{_SUFFIX[fmt]}"',
        "X-Content-Type-Options": "nosniff",
    }
    if fmt == "html":
        headers["Content-Security-Policy"] = (
            "sandbox; default-src 'none'; style-src 'unsafe-inline'"
        )
    return Response(data, media_type=_MEDIA[fmt], headers=headers)


def _stem(*parts: str) -> str:
    return "-".join(p.replace("@", "-v") for p in parts)


@router.get(
    "/systems/{system}/models/{ref}/reports/{kind}",
    summary="Download a model version's report (model card, Annex IV, EEOC, LL144)",
    response_class=Response,
    responses=_DOWNLOAD,
)
def model_report(
    system: SystemName,
    ref: Ref,
    kind: ModelReport,
    caller: Reader,
    format: Format = ReportFormat.markdown,
) -> Response:
    registry = caller.registry
    version = registry.model(model_ref(system, ref))
    stem = _stem(system, version.ref, kind.value)
    if kind is ModelReport.ll144:
        from trustops.core.ll144 import LL144Audit
        from trustops.reports.ll144 import to_html, to_markdown

        found = registry.evidence(subject=version, kind="ll144")
        if not found:
            raise InputError(
                f"no ll144 evidence is recorded for {version.ref}",
                hint="record an LL144 bias audit as evidence of kind ll144 first",
            )
        try:
            audit = LL144Audit.from_dict(found[-1].content)
        except (KeyError, TypeError, ValueError):
            raise InputError(f"ll144 evidence #{found[-1].id} is not an LL144 audit") from None
        render = to_html if format is ReportFormat.html else to_markdown
        text = render(audit, data_source=f"ll144 evidence #{found[-1].id} of {version.ref}")
        return _download(text.encode("utf-8"), format.value, stem)
    from trustops.reports.documents import render_document

    doc = render_document(
        registry, kind.value.replace("-", "_"), model=version, fmt=format.value, record=False
    )
    return _download(doc.data, format.value, stem)


@router.get(
    "/systems/{system}/datasets/{ref}/reports/datasheet",
    summary="Download a dataset version's datasheet",
    response_class=Response,
    responses=_DOWNLOAD,
)
def datasheet(
    system: SystemName, ref: Ref, caller: Reader, format: Format = ReportFormat.markdown
) -> Response:
    from trustops.reports.documents import render_document

    registry = caller.registry
    dv = registry.dataset(dataset_ref(registry, system, ref), system=system)
    doc = render_document(registry, "datasheet", dataset=dv, fmt=format.value, record=False)
    return _download(doc.data, format.value, _stem(system, dv.ref, "datasheet"))


@router.get(
    "/systems/{system}/reports/gdpr-art30",
    summary="Download the system's GDPR Art. 30 record of processing activities",
    response_class=Response,
    responses=_DOWNLOAD,
)
def gdpr_art30(
    system: SystemName, caller: Reader, format: Format = ReportFormat.markdown
) -> Response:
    from trustops.reports.documents import render_document

    registry = caller.registry
    registry.system(system)
    doc = render_document(registry, "gdpr_art30", system=system, fmt=format.value, record=False)
    return _download(doc.data, format.value, _stem(system, "gdpr-art30"))
