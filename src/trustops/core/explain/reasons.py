"""Adverse-action reason codes: the principal reasons a model denied an applicant.

ECOA / Regulation B (12 CFR 1002.9(b)(2)) requires the *specific principal
reasons* for adverse action; the CFPB (Circular 2022-03, 2023-03) holds that a
complex model is no excuse, and that generic or checklist reasons that do not
reflect the actual factors are not enough. Regulation B's sample forms list
up to four reasons (Appendix C; "disclosure of more than four reasons is not
likely to be helpful").

Given the model's attributions for one applicant — contributions of each
feature to the score relative to a documented baseline (e.g. SHAP values
against a background sample, so ``score = baseline + Σ attributions``) — the
reasons are chosen as follows:

1. **Concepts.** Related features form one concept (the one-hot columns of
   ``purpose``, or ``income`` and ``log_income``): a concept's attribution is
   the sum of its features' attributions, so one concept gives one reason.
2. **Direction.** A concept is a reason toward denial when its attribution
   pushes the score to the unfavourable side: negative when a high score is
   favourable (``favourable="high"``, e.g. the probability of repayment),
   positive when a low score is (``"low"``, e.g. a probability of default).
3. **Never reasons.** Prohibited bases (race, sex, age, ...) and listed proxies
   are never given as reasons, whatever their attribution (they are reported
   as withheld, so an auditor sees it happened).
4. **Ranking.** By the size of the contribution toward denial, largest
   first; ties broken by the concept's name, so the ranking is deterministic.
5. **Cap.** At most ``max_reasons`` (default 4; 1 to 10).
6. **Dictionary.** Every concept of the model must have an entry in the
   versioned reason-code dictionary (code and text); a concept without one is
   an error when the dictionary is checked, never an "other" reason.

Example:
    >>> d = ReasonDictionary("2026-11", {
    ...     "income": ("R01", "Income insufficient for amount of credit requested"),
    ...     "late_payments": ("R02", "Delinquent past or present credit obligations"),
    ...     "purpose": ("R03", "Purpose of credit"),
    ... })
    >>> concepts = {"purpose=car": "purpose", "purpose=home": "purpose"}
    >>> reasons = principal_reasons(
    ...     {"income": -0.20, "late_payments": -0.05, "purpose=car": -0.04,
    ...      "purpose=home": -0.03, "race": -0.30},
    ...     dictionary=d, concepts=concepts, prohibited=["race"])
    >>> [(r.code, r.concept, round(r.contribution, 2)) for r in reasons.reasons]
    [('R01', 'income', -0.2), ('R03', 'purpose', -0.07), ('R02', 'late_payments', -0.05)]
    >>> reasons.withheld
    ('race',)
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from trustops.errors import InputError

__all__ = [
    "DEFAULT_MAX_REASONS",
    "Reason",
    "ReasonDictionary",
    "ReasonSet",
    "principal_reasons",
]

DEFAULT_MAX_REASONS = 4


@dataclass(frozen=True)
class ReasonDictionary:
    """A versioned map from concept to ``(code, text)``; check it covers the model's concepts."""

    version: str
    entries: Mapping[str, tuple[str, str]]

    def __post_init__(self) -> None:
        if not isinstance(self.version, str) or not self.version:
            raise InputError("a reason-code dictionary needs a version")
        for concept, entry in self.entries.items():
            if (
                not isinstance(entry, tuple | list)
                or len(entry) != 2
                or not all(isinstance(x, str) and x for x in entry)
            ):
                raise InputError(
                    f"reason-code dictionary entry {concept!r} must be (code, text), not {entry!r}"
                )

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ReasonDictionary:
        """``{"version": ..., "reasons": {concept: {"code": ..., "text": ...}}}``."""
        if not isinstance(data, Mapping) or "version" not in data or "reasons" not in data:
            raise InputError("a reason-code dictionary has 'version' and 'reasons'")
        reasons = data["reasons"]
        if not isinstance(reasons, Mapping):
            raise InputError("'reasons' must map each concept to {code, text}")
        entries = {}
        for concept, entry in reasons.items():
            if not isinstance(entry, Mapping) or not {"code", "text"} <= set(entry):
                raise InputError(f"reason {concept!r} needs a 'code' and a 'text'")
            entries[str(concept)] = (str(entry["code"]), str(entry["text"]))
        return cls(str(data["version"]), entries)

    def check_covers(self, concepts: Iterable[str], *, never: Iterable[str] = ()) -> None:
        """Raise naming every concept (other than those never given) the dictionary lacks."""
        skipped = set(never)
        missing = sorted({c for c in concepts if c not in self.entries and c not in skipped})
        if missing:
            raise InputError(
                f"the reason-code dictionary (version {self.version}) has no entry for "
                f"{', '.join(repr(m) for m in missing)}",
                hint="add a code and text for each, or list them as prohibited/proxies",
            )


@dataclass(frozen=True)
class Reason:
    """One principal reason: the concept, its code and text, its contribution toward denial."""

    rank: int
    concept: str
    code: str
    text: str
    contribution: float
    features: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "features": list(self.features)}


@dataclass(frozen=True)
class ReasonSet:
    """The reasons for one applicant, with what was withheld and the settings used."""

    reasons: tuple[Reason, ...]
    withheld: tuple[str, ...]
    dictionary_version: str
    max_reasons: int
    favourable: str
    concept_attributions: Mapping[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "reasons": [r.to_dict() for r in self.reasons],
            "withheld": list(self.withheld),
            "dictionary_version": self.dictionary_version,
            "max_reasons": self.max_reasons,
            "favourable": self.favourable,
            "concept_attributions": dict(self.concept_attributions),
        }


def _norm(name: str) -> str:
    return name.strip().lower().replace(" ", "_")


def principal_reasons(
    attributions: Mapping[str, float],
    *,
    dictionary: ReasonDictionary,
    concepts: Mapping[str, str] | None = None,
    prohibited: Sequence[str] = (),
    proxies: Sequence[str] = (),
    max_reasons: int = DEFAULT_MAX_REASONS,
    favourable: str = "high",
) -> ReasonSet:
    """The principal reasons toward denial for one applicant (see the module docstring).

    Args:
        attributions: feature → contribution to the score (relative to the baseline).
        dictionary: the versioned reason-code dictionary; it must cover every concept.
        concepts: feature → concept for grouped features (others are their own concept).
        prohibited: prohibited bases, by concept or feature name: never given as reasons.
        proxies: listed proxies of prohibited bases: never given as reasons.
        max_reasons: the cap (1 to 10; Regulation B's forms use up to 4).
        favourable: ``"high"`` when a high score favours the applicant, else ``"low"``.
    """
    if favourable not in ("high", "low"):
        raise InputError(f"favourable must be 'high' or 'low', not {favourable!r}")
    if not isinstance(max_reasons, int) or not 1 <= max_reasons <= 10:
        raise InputError(f"max_reasons must be a whole number from 1 to 10, not {max_reasons!r}")
    concepts = dict(concepts or {})
    unknown = sorted(set(concepts) - set(attributions))
    if unknown:
        raise InputError(f"grouped features not among the attributions: {', '.join(unknown)}")
    never = {_norm(p) for p in [*prohibited, *proxies]}
    totals: dict[str, float] = {}
    members: dict[str, list[str]] = {}
    for feature in sorted(attributions):
        value = float(attributions[feature])
        if not math.isfinite(value):
            raise InputError(f"the attribution of feature {feature!r} is {value}")
        concept = concepts.get(feature, feature)
        totals[concept] = totals.get(concept, 0.0) + value
        members.setdefault(concept, []).append(feature)
    barred = {c for c in totals if _norm(c) in never or any(_norm(f) in never for f in members[c])}
    dictionary.check_covers(totals, never=barred)
    sign = -1.0 if favourable == "high" else 1.0  # toward denial
    toward = [(sign * v, c) for c, v in totals.items() if c not in barred and sign * v > 0]
    toward.sort(key=lambda p: (-p[0], p[1]))
    reasons = tuple(
        Reason(
            rank=i + 1,
            concept=c,
            code=dictionary.entries[c][0],
            text=dictionary.entries[c][1],
            contribution=totals[c],
            features=tuple(members[c]),
        )
        for i, (_, c) in enumerate(toward[:max_reasons])
    )
    withheld = tuple(sorted(c for c in barred if sign * totals[c] > 0))
    return ReasonSet(reasons, withheld, dictionary.version, max_reasons, favourable, totals)
