"""NYC Local Law 144 bias audit: rates and impact ratios by sex, race/ethnicity and both.

The computation the rules of the NYC Department of Consumer and Worker
Protection (DCWP) prescribe for a bias audit of an automated employment
decision tool (AEDT): 6 RCNY §5-301, under NYC Admin. Code §§20-870–20-874
(Local Law 144 of 2021), enforced since 5 July 2023. Definitions from
6 RCNY §5-300:

- **selection rate** of a category ``g`` (an AEDT that selects or classifies):
  ``SR_g = selected_g / n_g``;
- **scoring rate** (an AEDT that scores): the share of the category scoring
  strictly above the median score of the whole sample,
  ``ScR_g = |{i ∈ g : score_i > median(score)}| / n_g``. The median is taken
  once, over every individual in the data (those of unknown category too),
  never per category;
- **impact ratio**: ``IR_g = rate_g / max_h rate_h``, against the most
  selected (highest-scoring) category ``h``, which gets 1. Ratios come from
  the unrounded rates; only reports round them.

Each is computed separately for sex, for race/ethnicity, and for the
intersection sex × race/ethnicity. An auditor may exclude a category that is
under 2% of the data from the impact ratios (``exclude_below``); the share's
denominator is, by default, the individuals whose category in that table is
known (``exclusion_denominator="known"``), or every individual in the data
(``"all"``), and the choice is recorded. An excluded category is never the
reference and has no impact ratio, but is still listed with its number of
applicants, its rate and the justification the summary must publish.
Individuals with an unknown (null) sex or race/ethnicity are counted per
table and left out of it.

Rows follow the EEO-1 Component 1 order the rule's tables use (Male, Female;
Hispanic or Latino, White, Black or African American, Native Hawaiian or
Pacific Islander, Asian, Native American or Alaska Native, Two or More
Races), matched on the label with any "(Not Hispanic or Latino)" suffix and
case ignored; other labels follow in sorted order. Intersectional rows go
Hispanic or Latino first, then by sex, then by race, as in the rule's table.
Ties for the highest rate go to the first row in that order.

Everything here is pure: :func:`count_cells` and :func:`above_median` turn
encoded columns into the (sex, race) cell counts, and :func:`bias_audit`
turns the counts into an :class:`LL144Audit`.

Example:
    >>> cells = {("Male", "White"): (10, 6), ("Female", "White"): (10, 3),
    ...          ("Female", None): (5, 1)}
    >>> audit = bias_audit(cells)
    >>> [(r.category["sex"], r.applicants, r.rate, r.impact_ratio) for r in audit.sex.rows]
    [('Male', 10, 0.6, 1.0), ('Female', 15, 0.26666666666666666, 0.4444444444444445)]
    >>> audit.race.unknown, audit.intersectional.reference
    (5, {'sex': 'Male', 'race': 'White'})
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from trustops.core.fairness.counts import level_sort_key
from trustops.errors import EmptyDataError, UsageError

__all__ = [
    "DEFAULT_EXCLUDE_BELOW",
    "EXCLUSION_DENOMINATORS",
    "METHODS",
    "RACE_CATEGORIES",
    "RULE",
    "SEX_CATEGORIES",
    "TABLES",
    "CategoryResult",
    "CategoryTable",
    "LL144Audit",
    "above_median",
    "bias_audit",
    "check_settings",
    "count_cells",
]

RULE = "6 RCNY §5-301 (NYC DCWP rules for Local Law 144 of 2021)"
"""The rule the computation follows, as cited in results and reports."""

METHODS = ("selection", "scoring")
EXCLUSION_DENOMINATORS = ("known", "all")
DEFAULT_EXCLUDE_BELOW = 0.02
TABLES = ("sex", "race", "intersectional")
ATTRIBUTES: dict[str, tuple[str, ...]] = {
    "sex": ("sex",),
    "race": ("race",),
    "intersectional": ("sex", "race"),
}

SEX_CATEGORIES = ("Male", "Female")
RACE_CATEGORIES = (
    "Hispanic or Latino",
    "White",
    "Black or African American",
    "Native Hawaiian or Pacific Islander",
    "Asian",
    "Native American or Alaska Native",
    "Two or More Races",
)
"""EEO-1 Component 1 race/ethnicity categories in the rule's order; all but the
first are "(Not Hispanic or Latino)"."""

_ALIASES = {
    alias: RACE_CATEGORIES.index(name)
    for alias, name in (
        ("hispanic", "Hispanic or Latino"),
        ("latino", "Hispanic or Latino"),
        ("hispanic/latino", "Hispanic or Latino"),
        ("black", "Black or African American"),
        ("african american", "Black or African American"),
        ("native hawaiian or other pacific islander", "Native Hawaiian or Pacific Islander"),
        ("american indian or alaska native", "Native American or Alaska Native"),
        ("two or more", "Two or More Races"),
    )
}
_SEX_RANK = {name.lower(): i for i, name in enumerate(SEX_CATEGORIES)}
_RACE_RANK = {name.lower(): i for i, name in enumerate(RACE_CATEGORIES)} | _ALIASES
_OTHER = len(RACE_CATEGORIES)
_SUFFIX = "(not hispanic or latino)"

_KNOWN_WHAT = {
    "sex": "individuals of known sex",
    "race": "individuals of known race/ethnicity",
    "intersectional": "individuals of known sex and race/ethnicity",
}

Cells = Mapping[tuple[Any, Any], tuple[int, int]]
"""``(sex, race) → (applicants, selected)``; ``None`` is an unknown category."""


def _label(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    text = " ".join(value.lower().split())
    if text.endswith(_SUFFIX):
        text = text[: -len(_SUFFIX)].strip()
    return text


def race_rank(value: Any) -> int:
    """The position of an EEO-1 race/ethnicity label in the rule's order (others last).

    Example:
        >>> race_rank("Hispanic or Latino"), race_rank("white (Not Hispanic or Latino)")
        (0, 1)
        >>> race_rank("Martian")
        7
    """
    return _RACE_RANK.get(_label(value) or "", _OTHER)


def _sex_key(value: Any) -> tuple[int, Any]:
    return (_SEX_RANK.get(_label(value) or "", len(SEX_CATEGORIES)), level_sort_key(value))


def _race_key(value: Any) -> tuple[int, Any]:
    return (race_rank(value), level_sort_key(value))


def _order_key(name: str, sex: Any, race: Any) -> tuple[Any, ...]:
    if name == "sex":
        return _sex_key(sex)
    if name == "race":
        return _race_key(race)
    return (race_rank(race) != 0, _sex_key(sex), _race_key(race))


@dataclass(frozen=True, slots=True)
class CategoryResult:
    """One row of a table: a category, its rate and its impact ratio.

    Attributes:
        category: attribute → value, e.g. ``{"sex": "Female", "race": "Asian"}``.
        applicants: individuals in the category (the rule's "# of applicants").
        selected: of those, selected (or, for a scoring rate, scoring above the median).
        rate: ``selected / applicants``, unrounded.
        share: ``applicants`` over the exclusion denominator of the table.
        impact_ratio: ``rate / reference rate``, unrounded; ``None`` if excluded
            or if no category has a positive rate.
        excluded: under ``exclude_below`` of the data: left out of the impact ratios.
        justification: why it is excluded, for the published summary.
    """

    category: dict[str, Any]
    applicants: int
    selected: int
    rate: float
    share: float
    impact_ratio: float | None
    excluded: bool = False
    justification: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "category": dict(self.category),
            "applicants": self.applicants,
            "selected": self.selected,
            "rate": self.rate,
            "share": self.share,
            "impact_ratio": self.impact_ratio,
            "excluded": self.excluded,
            "justification": self.justification,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> CategoryResult:
        return cls(
            category=dict(d["category"]),
            applicants=int(d["applicants"]),
            selected=int(d["selected"]),
            rate=float(d["rate"]),
            share=float(d["share"]),
            impact_ratio=None if d["impact_ratio"] is None else float(d["impact_ratio"]),
            excluded=bool(d["excluded"]),
            justification=d.get("justification"),
        )


@dataclass(frozen=True, slots=True)
class CategoryTable:
    """The rates and impact ratios of one breakdown: ``sex``, ``race`` or ``intersectional``.

    Attributes:
        name: which breakdown.
        attributes: the attributes a category has (``("sex", "race")`` for the
            intersection).
        rows: every observed category, in the rule's order, excluded ones included.
        known: individuals whose category is known (the rows' applicants summed).
        unknown: individuals left out because their category is unknown.
        reference: the category with the highest rate among those not
            excluded (impact ratio 1), or ``None`` if no such category has a
            positive rate.
    """

    name: str
    attributes: tuple[str, ...]
    rows: tuple[CategoryResult, ...]
    known: int
    unknown: int
    reference: dict[str, Any] | None

    def row(self, **category: Any) -> CategoryResult:
        """The row of a category, e.g. ``audit.sex.row(sex="Female")``.

        Raises:
            KeyError: no such category in this table.
        """
        for r in self.rows:
            if r.category == category:
                return r
        raise KeyError(f"no category {category!r} in the {self.name} table")

    @property
    def excluded(self) -> tuple[CategoryResult, ...]:
        return tuple(r for r in self.rows if r.excluded)

    def to_dict(self) -> dict[str, Any]:
        return {
            "attributes": list(self.attributes),
            "rows": [r.to_dict() for r in self.rows],
            "known": self.known,
            "unknown": self.unknown,
            "reference": None if self.reference is None else dict(self.reference),
        }

    @classmethod
    def from_dict(cls, name: str, d: Mapping[str, Any]) -> CategoryTable:
        return cls(
            name=name,
            attributes=tuple(d["attributes"]),
            rows=tuple(CategoryResult.from_dict(r) for r in d["rows"]),
            known=int(d["known"]),
            unknown=int(d["unknown"]),
            reference=None if d["reference"] is None else dict(d["reference"]),
        )


@dataclass(frozen=True, slots=True)
class LL144Audit:
    """A bias audit as 6 RCNY §5-301 defines it: three tables and how they were made.

    Attributes:
        method: ``"selection"`` (selection rates) or ``"scoring"`` (scoring rates).
        individuals: every individual in the data, of known category or not.
        sex, race, intersectional: the three tables.
        exclude_below: categories under this share of the data are excluded
            from the impact ratios (``None``: no exclusion).
        exclusion_denominator: ``"known"`` (individuals of known category in
            the table) or ``"all"`` (every individual).
        median: the sample's median score when ``method == "scoring"``.
        columns: role → column name the data came from (for the record).
    """

    method: str
    individuals: int
    sex: CategoryTable
    race: CategoryTable
    intersectional: CategoryTable
    exclude_below: float | None = DEFAULT_EXCLUDE_BELOW
    exclusion_denominator: str = "known"
    median: float | None = None
    columns: dict[str, str] = field(default_factory=dict)

    @property
    def rate_name(self) -> str:
        """``"selection_rate"`` or ``"scoring_rate"``."""
        return f"{self.method}_rate"

    @property
    def tables(self) -> tuple[CategoryTable, CategoryTable, CategoryTable]:
        return (self.sex, self.race, self.intersectional)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: the method, the exclusion settings and the three tables."""
        return {
            "rule": RULE,
            "method": self.method,
            "rate": self.rate_name,
            "median": self.median,
            "individuals": self.individuals,
            "exclusion": {"below": self.exclude_below, "denominator": self.exclusion_denominator},
            "columns": dict(self.columns),
            **{t.name: t.to_dict() for t in self.tables},
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> LL144Audit:
        """The inverse of :meth:`to_dict`."""
        exclusion = d["exclusion"]
        return cls(
            method=d["method"],
            individuals=int(d["individuals"]),
            sex=CategoryTable.from_dict("sex", d["sex"]),
            race=CategoryTable.from_dict("race", d["race"]),
            intersectional=CategoryTable.from_dict("intersectional", d["intersectional"]),
            exclude_below=None if exclusion["below"] is None else float(exclusion["below"]),
            exclusion_denominator=exclusion["denominator"],
            median=None if d["median"] is None else float(d["median"]),
            columns=dict(d.get("columns") or {}),
        )


def count_cells(
    sex_codes: np.ndarray,
    sex_levels: Sequence[Any],
    race_codes: np.ndarray,
    race_levels: Sequence[Any],
    selected: np.ndarray,
) -> dict[tuple[Any, Any], tuple[int, int]]:
    """Applicants and selected per observed (sex, race) cell, in one pass.

    ``*_codes`` index ``*_levels`` (a level ``None`` is an unknown category);
    ``selected`` is a boolean per individual.

    Example:
        >>> import numpy as np
        >>> count_cells(np.array([0, 0, 1]), ["M", "F"], np.array([0, 1, 1]), ["A", None],
        ...             np.array([True, False, True]))
        {('M', 'A'): (1, 1), ('M', None): (1, 0), ('F', None): (1, 1)}
    """
    width = len(race_levels)
    cell = np.asarray(sex_codes, dtype=np.int64) * width + np.asarray(race_codes, dtype=np.int64)
    size = len(sex_levels) * width
    applicants = np.bincount(cell, minlength=size)
    chosen = np.bincount(cell[np.asarray(selected, dtype=bool)], minlength=size)
    return {
        (sex_levels[i // width], race_levels[i % width]): (int(applicants[i]), int(chosen[i]))
        for i in np.flatnonzero(applicants).tolist()
    }


def above_median(scores: np.ndarray) -> tuple[float, np.ndarray]:
    """The sample's median score and who scores strictly above it.

    Example:
        >>> import numpy as np
        >>> median, above = above_median(np.array([1.0, 2.0, 2.0, 3.0]))
        >>> median, above.tolist()
        (2.0, [False, False, False, True])
    """
    values = np.asarray(scores, dtype=np.float64)
    if values.size == 0:
        raise EmptyDataError("there are no scores to take the median of")
    median = float(np.median(values))
    return median, values > median


def check_settings(method: str, exclude_below: float | None, denominator: str) -> None:
    """:class:`UsageError` for an unknown method or denominator, or a share outside [0, 1)."""
    if method not in METHODS:
        raise UsageError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
    if denominator not in EXCLUSION_DENOMINATORS:
        raise UsageError(
            f"exclusion_denominator must be one of {', '.join(EXCLUSION_DENOMINATORS)}, "
            f"got {denominator!r}"
        )
    if exclude_below is not None and (
        isinstance(exclude_below, bool)
        or not isinstance(exclude_below, int | float)
        or not 0 <= exclude_below < 1
        or math.isnan(exclude_below)
    ):
        raise UsageError(
            f"exclude_below must be a share in [0, 1), got {exclude_below!r}",
            hint="the rule allows excluding categories under 2% of the data: 0.02",
        )


def _percent(share: float) -> str:
    """A share as a percentage without trailing zeros: 0.02 → '2%', 0.025 → '2.5%'."""
    return f"{share * 100:.4g}%"


def _justification(
    name: str, applicants: int, share: float, denominator: int, exclude_below: float, kind: str
) -> str:
    what = _KNOWN_WHAT[name] if kind == "known" else "individuals in the audit data"
    return (
        f"{applicants} of {denominator} {what} ({share:.2%}), under the "
        f"{_percent(exclude_below)} threshold: excluded from the impact ratios "
        "as 6 RCNY §5-301 permits"
    )


def _table(
    name: str,
    groups: Mapping[tuple[Any, Any], list[int]],
    unknown: int,
    individuals: int,
    exclude_below: float | None,
    denominator_kind: str,
) -> CategoryTable:
    attributes = ATTRIBUTES[name]
    known = sum(n for n, _ in groups.values())
    denominator = known if denominator_kind == "known" else individuals
    order = sorted(groups, key=lambda key: _order_key(name, *key))
    staged = []
    for key in order:
        n, k = groups[key]
        share = n / denominator if denominator else 0.0
        excluded = bool(exclude_below) and share < (exclude_below or 0.0)
        staged.append((key, n, k, k / n, share, excluded))
    included = [s for s in staged if not s[5]]
    top = max((s[3] for s in included), default=0.0)
    reference_key = next((s[0] for s in included if s[3] == top), None) if top > 0 else None
    rows = []
    for key, n, k, rate, share, excluded in staged:
        category = _category(name, key)
        rows.append(
            CategoryResult(
                category=category,
                applicants=n,
                selected=k,
                rate=rate,
                share=share,
                impact_ratio=None if excluded or top <= 0 else rate / top,
                excluded=excluded,
                justification=(
                    _justification(
                        name, n, share, denominator, exclude_below or 0.0, denominator_kind
                    )
                    if excluded
                    else None
                ),
            )
        )
    return CategoryTable(
        name=name,
        attributes=attributes,
        rows=tuple(rows),
        known=known,
        unknown=unknown,
        reference=None if reference_key is None else _category(name, reference_key),
    )


def _category(name: str, key: tuple[Any, Any]) -> dict[str, Any]:
    sex, race = key
    if name == "sex":
        return {"sex": sex}
    if name == "race":
        return {"race": race}
    return {"sex": sex, "race": race}


def _grouped(cells: Cells, name: str) -> tuple[dict[tuple[Any, Any], list[int]], int]:
    """Cells summed into a table's categories, and the individuals of unknown category."""
    groups: dict[tuple[Any, Any], list[int]] = {}
    unknown = 0
    for (sex, race), (n, k) in cells.items():
        key = (sex if name != "race" else None, race if name != "sex" else None)
        if (name != "race" and sex is None) or (name != "sex" and race is None):
            unknown += n
            continue
        total = groups.setdefault(key, [0, 0])
        total[0] += n
        total[1] += k
    return groups, unknown


def _check_cells(cells: Cells) -> None:
    for key, (n, k) in cells.items():
        if not 0 <= k <= n or n == 0:
            raise UsageError(f"cell {key!r} has {k} selected of {n} applicants")


def bias_audit(
    cells: Cells | Iterable[tuple[tuple[Any, Any], tuple[int, int]]],
    *,
    method: str = "selection",
    median: float | None = None,
    exclude_below: float | None = DEFAULT_EXCLUDE_BELOW,
    exclusion_denominator: str = "known",
    columns: Mapping[str, str] | None = None,
) -> LL144Audit:
    """The three tables of a bias audit from (sex, race) cell counts.

    Args:
        cells: ``(sex, race) → (applicants, selected)``; ``None`` for an
            unknown sex or race. With ``method="scoring"``, "selected" counts
            those scoring strictly above the sample's median (:func:`above_median`).
        method: ``"selection"`` or ``"scoring"``: which rate the tables hold.
        median: the sample's median score, recorded with a scoring audit.
        exclude_below: exclude categories under this share of the data from
            the impact ratios (the rule allows 2%: 0.02); ``None`` or 0 keeps all.
        exclusion_denominator: ``"known"``: the share is of the individuals of
            known category in that table; ``"all"``: of every individual.
        columns: role → column name, recorded in the result.

    Raises:
        UsageError: an unknown method or denominator, a share outside [0, 1).
        EmptyDataError: there are no individuals.
    """
    check_settings(method, exclude_below, exclusion_denominator)
    cells = dict(cells)
    _check_cells(cells)
    individuals = sum(n for n, _ in cells.values())
    if individuals == 0:
        raise EmptyDataError("the data has no individuals to audit")
    tables = {}
    for name in TABLES:
        groups, unknown = _grouped(cells, name)
        tables[name] = _table(
            name, groups, unknown, individuals, exclude_below, exclusion_denominator
        )
    return LL144Audit(
        method=method,
        individuals=individuals,
        sex=tables["sex"],
        race=tables["race"],
        intersectional=tables["intersectional"],
        exclude_below=exclude_below,
        exclusion_denominator=exclusion_denominator,
        median=median if method == "scoring" else None,
        columns=dict(columns or {}),
    )
