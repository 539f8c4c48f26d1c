"""PDF from a report's self-contained HTML, with WeasyPrint (the ``pdf`` extra).

WeasyPrint lays the HTML, its inline CSS and inline SVG charts out on A4 pages
through the system's Pango; nothing is fetched. It is imported only when a PDF
is asked for: without it (or without Pango) :func:`html_to_pdf` raises
:class:`~trustops.errors.UnsupportedError` saying ``pip install 'trustops[pdf]'``.

The bytes are reproducible: the PDF's creation and modification dates are the
document's own date (``date``), never the clock; its file identifier is a hash
of the HTML; and the embedded font subsets, whose ``head`` table fontTools
stamps with the time it writes them, are stamped with that date too (through
``SOURCE_DATE_EPOCH``, the reproducible-builds convention fontTools reads, set
only while a PDF is written; 1970-01-01 without a date). So the same HTML and
date give the same PDF with the same WeasyPrint and fonts. Without a date the
PDF carries no dates in its metadata.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from trustops.errors import UnsupportedError

__all__ = ["PRINT_CSS", "html_to_pdf"]

INSTALL = "pip install 'trustops[pdf]'"

PRINT_CSS = """
@page { size: A4; margin: 16mm 14mm; }
body { margin: 0; max-width: none; padding: 0; font-size: 10pt; }
table { max-width: 100%; }
th, td, code, dd { overflow-wrap: anywhere; }
svg { max-width: 100%; height: auto; }
h2, h3 { break-after: avoid; }
tr, figure { break-inside: avoid; }
"""
"""Added to the page's own CSS for print: A4 pages, full width, long hashes wrapped."""


def _weasyprint() -> Any:
    try:
        import weasyprint
    except ImportError as exc:
        raise UnsupportedError(
            f"PDF output needs WeasyPrint, which is not installed: {INSTALL}"
        ) from exc
    except OSError as exc:  # WeasyPrint is there but cannot load Pango
        raise UnsupportedError(
            f"PDF output needs WeasyPrint and the Pango library: {str(exc).splitlines()[0]}",
            hint=f"{INSTALL}, and install Pango (Debian: apt-get install libpango-1.0-0)",
        ) from exc
    return weasyprint


def _w3c_date(date: str | dt.date | None) -> str | None:
    """``date`` as a W3C date-time in UTC to the second (``None`` if there is none)."""
    if date is None or date == "":
        return None
    if isinstance(date, dt.datetime):
        when = date
    elif isinstance(date, dt.date):
        return date.isoformat()
    else:
        text = str(date)
        try:
            when = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            return None
        if "T" not in text and " " not in text:
            return when.date().isoformat()
    if when.tzinfo is not None:
        when = when.astimezone(dt.UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


_EPOCH_LOCK = threading.Lock()


@contextmanager
def _source_date_epoch(stamp: str | None) -> Iterator[None]:
    """``SOURCE_DATE_EPOCH`` set to ``stamp`` (or 0) while the block runs, then restored."""
    if stamp is None:
        seconds = 0
    else:
        when = dt.datetime.fromisoformat(stamp.replace("Z", "+00:00"))
        if when.tzinfo is None:
            when = when.replace(tzinfo=dt.UTC)
        seconds = max(0, int(when.timestamp()))
    with _EPOCH_LOCK:
        before = os.environ.get("SOURCE_DATE_EPOCH")
        os.environ["SOURCE_DATE_EPOCH"] = str(seconds)
        try:
            yield
        finally:
            if before is None:
                del os.environ["SOURCE_DATE_EPOCH"]
            else:
                os.environ["SOURCE_DATE_EPOCH"] = before


def html_to_pdf(html: str, *, date: str | dt.date | None = None) -> bytes:
    """The PDF of a self-contained HTML page, dated ``date`` (the document's date).

    Args:
        html: the page (inline CSS and SVG; nothing is fetched).
        date: the creation and modification date written in the PDF (ISO date or
            date-time); ``None`` writes no date.

    Raises:
        UnsupportedError: WeasyPrint (``trustops[pdf]``) or Pango is not installed.
    """
    weasyprint = _weasyprint()
    document = weasyprint.HTML(string=html).render(stylesheets=[weasyprint.CSS(string=PRINT_CSS)])
    stamp = _w3c_date(date)
    document.metadata.created = stamp
    document.metadata.modified = stamp
    identifier = hashlib.sha256(html.encode("utf-8")).hexdigest()[:32].encode("ascii")
    with _source_date_epoch(stamp):
        data: bytes = document.write_pdf(pdf_identifier=identifier)
    return data
