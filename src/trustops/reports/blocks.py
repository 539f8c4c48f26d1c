"""The pieces a document is made of, and the record of what went into it.

A document builder (:mod:`trustops.reports.model_documents`,
:mod:`trustops.reports.data_documents`) turns registry records and evidence
into *blocks* — facts, tables, bullet lists, paragraphs, charts and
``MISSING`` markers — grouped by section; the Jinja2 templates in
``reports/templates/`` lay the sections out in Markdown or HTML. Builders
never format for one output: a block is rendered by the ``_blocks`` macro of
each format.

:class:`Sources` keeps what a document used: the evidence records (their
content hashes become the report's ``inputs``), the registry times (the
newest is the document's date unless one is given) and each ``MISSING`` item.

Example:
    >>> sources = Sources()
    >>> block = sources.missing("a risk register (evidence kind risk_management)")
    >>> block.text
    'MISSING: a risk register (evidence kind risk_management)'
    >>> sources.missing_items
    ['a risk register (evidence kind risk_management)']
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from trustops.governance import Evidence

__all__ = [
    "Block",
    "Bullets",
    "Chart",
    "Facts",
    "Missing",
    "Sources",
    "Table",
    "Text",
    "cite",
    "humanise",
    "plain",
]


@dataclass(frozen=True, slots=True)
class Text:
    """A paragraph."""

    text: str
    block: ClassVar[str] = "text"


@dataclass(frozen=True, slots=True)
class Facts:
    """Label / value pairs."""

    rows: tuple[tuple[str, str], ...]
    block: ClassVar[str] = "facts"


@dataclass(frozen=True, slots=True)
class Table:
    """A table with a header row; every cell is text already formatted."""

    head: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    caption: str = ""
    block: ClassVar[str] = "table"


@dataclass(frozen=True, slots=True)
class Bullets:
    """A bullet list."""

    items: tuple[str, ...]
    block: ClassVar[str] = "bullets"


@dataclass(frozen=True, slots=True)
class Missing:
    """Evidence the document needs and the registry does not hold."""

    what: str
    block: ClassVar[str] = "missing"

    @property
    def text(self) -> str:
        return f"MISSING: {self.what}"


@dataclass(frozen=True, slots=True)
class Chart:
    """An inline SVG (HTML only; Markdown says where to find it)."""

    svg: str
    caption: str
    block: ClassVar[str] = "chart"


Block = Text | Facts | Table | Bullets | Missing | Chart


def humanise(key: str) -> str:
    """A JSON key as words: ``out_of_scope`` → ``out of scope``."""
    return str(key).replace("_", " ").replace("-", " ").strip()


def plain(value: Any) -> str:
    """Any JSON value as one line of text (lists joined with ``; ``)."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, Mapping):
        return "; ".join(f"{humanise(k)}: {plain(v)}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return "; ".join(plain(v) for v in value)
    return " ".join(str(value).split())


@dataclass
class Sources:
    """What one document used: evidence, registry times, and what it had to mark missing."""

    evidence: dict[int, Evidence] = field(default_factory=dict)
    times: set[str] = field(default_factory=set)
    missing_items: list[str] = field(default_factory=list)

    def use(self, record: Evidence) -> Evidence:
        """Note that the document used ``record`` (and its time)."""
        self.evidence[record.id] = record
        self.times.add(record.created_at)
        return record

    def seen(self, *times: str | None) -> None:
        """Note registry times the document depends on (a record's creation, a transition)."""
        self.times.update(t for t in times if t)

    def missing(self, what: str) -> Missing:
        """A ``MISSING`` block, counted for the report's completeness."""
        if what not in self.missing_items:
            self.missing_items.append(what)
        return Missing(what)

    @property
    def newest(self) -> str | None:
        return max(self.times) if self.times else None

    @property
    def inputs(self) -> list[str]:
        """Content hashes of the evidence used, in the order it was recorded."""
        return [self.evidence[i].content_hash for i in sorted(self.evidence)]

    def declared(
        self,
        record: Evidence | None,
        *,
        only: Sequence[str] | None = None,
        exclude: Iterable[str] = (),
    ) -> list[Block]:
        """A declared record's content as blocks, after a line naming the record.

        Scalars and lists of scalars become facts, lists of objects tables.
        ``only`` keeps those keys (in that order); ``exclude`` drops keys.
        Empty when there is no record or none of the keys.
        """
        if record is None:
            return []
        content = record.content
        keys = [k for k in (only if only is not None else content) if k in content]
        keys = [k for k in keys if k not in set(exclude)]
        if not keys:
            return []
        self.use(record)
        facts: list[tuple[str, str]] = []
        tables: list[Block] = []
        for key in keys:
            value = content[key]
            if isinstance(value, list) and value and all(isinstance(v, Mapping) for v in value):
                head = list(dict.fromkeys(k for row in value for k in row))
                tables.append(
                    Table(
                        tuple(humanise(h) for h in head),
                        tuple(tuple(plain(row.get(h)) for h in head) for row in value),
                        caption=humanise(key),
                    )
                )
            else:
                facts.append((humanise(key), plain(value)))
        blocks: list[Block] = [Text(cite(record))]
        if facts:
            blocks.append(Facts(tuple(facts)))
        return blocks + tables


def cite(record: Evidence) -> str:
    """How a document names the evidence a passage comes from."""
    return (
        f"From evidence #{record.id} ({record.kind} about {record.subject}, sha256 "
        f"{record.content_hash}), recorded {record.created_at} by {record.created_by}."
    )
