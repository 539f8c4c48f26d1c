"""The evidence of a PII scan: per column, the detectors that fired and a protected-attribute flag.

Frozen dataclasses with ``to_dict()`` / ``from_dict()``; :meth:`PiiScan.report
<trustops.core.quality.pii.PiiScan.report>` builds them from the tallies.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from trustops.errors import InputError, MissingColumnError


@dataclass(frozen=True, slots=True)
class ProtectedAttribute:
    """A column that looks like a protected attribute, and why (``"name"`` or ``"values"``)."""

    attribute: str
    reason: str
    detail: str

    def to_dict(self) -> dict[str, Any]:
        return {"attribute": self.attribute, "reason": self.reason, "detail": self.detail}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ProtectedAttribute:
        return cls(d["attribute"], d["reason"], d["detail"])


@dataclass(frozen=True, slots=True)
class DetectorFinding:
    """A detector that fired on a column: values matched, rate among non-null values."""

    detector: str
    matches: int
    candidates: int
    match_rate: float
    examples: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "detector": self.detector,
            "matches": self.matches,
            "candidates": self.candidates,
            "match_rate": self.match_rate,
            "examples": list(self.examples),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> DetectorFinding:
        return cls(
            d["detector"], d["matches"], d["candidates"], d["match_rate"], tuple(d["examples"])
        )


@dataclass(frozen=True, slots=True)
class ColumnFindings:
    """What one column holds."""

    column: str
    type: str
    rows: int
    non_null: int
    detectors: tuple[DetectorFinding, ...]
    protected_attribute: ProtectedAttribute | None

    def to_dict(self) -> dict[str, Any]:
        p = self.protected_attribute
        return {
            "column": self.column,
            "type": self.type,
            "rows": self.rows,
            "non_null": self.non_null,
            "detectors": [f.to_dict() for f in self.detectors],
            "protected_attribute": p.to_dict() if p is not None else None,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ColumnFindings:
        p = d["protected_attribute"]
        return cls(
            d["column"],
            d["type"],
            d["rows"],
            d["non_null"],
            tuple(DetectorFinding.from_dict(f) for f in d["detectors"]),
            ProtectedAttribute.from_dict(p) if p is not None else None,
        )


@dataclass(frozen=True, slots=True)
class PiiReport:
    """Evidence of a PII scan: per column the detectors that fired and protected-attribute
    flags. ``rows`` is the number of rows scanned (at most ``sample_limit``; ``sampled``
    says the data had more)."""

    kind: ClassVar[str] = "pii_scan"
    version: ClassVar[int] = 1

    rows: int
    columns: tuple[ColumnFindings, ...]
    reference_date: dt.date
    sample_limit: int | None = None
    sampled: bool = False

    @property
    def pii_columns(self) -> list[str]:
        return [c.column for c in self.columns if c.detectors]

    @property
    def protected_columns(self) -> list[str]:
        return [c.column for c in self.columns if c.protected_attribute is not None]

    def column(self, name: str) -> ColumnFindings:
        for c in self.columns:
            if c.column == name:
                return c
        raise MissingColumnError(name, available=[c.column for c in self.columns])

    def findings_above(self, min_rate: float) -> list[tuple[str, DetectorFinding]]:
        """``(column, finding)`` for every detector whose match rate exceeds ``min_rate``."""
        return [(c.column, f) for c in self.columns for f in c.detectors if f.match_rate > min_rate]

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "version": self.version,
            "reference_date": self.reference_date.isoformat(),
            "rows": self.rows,
            "sample_limit": self.sample_limit,
            "sampled": self.sampled,
            "columns": [c.to_dict() for c in self.columns],
            "pii_columns": self.pii_columns,
            "protected_columns": self.protected_columns,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> PiiReport:
        if d.get("kind") != cls.kind:
            raise InputError(f"not a PII scan: kind is {d.get('kind')!r}, not {cls.kind!r}")
        return cls(
            d["rows"],
            tuple(ColumnFindings.from_dict(c) for c in d["columns"]),
            dt.date.fromisoformat(d["reference_date"]),
            d["sample_limit"],
            d["sampled"],
        )
