"""Adverse-action notices: a model file, applicants and a reason-code dictionary in, one
stored record per applicant out. The library behind ``trustops explain`` and ``trustops reasons``.

A notice holds what an examiner asks for: the model file's SHA-256, the
explainer and its version, the baseline (background) hash, the applicant's
score, the threshold and the decision, the raw attributions, the principal
reasons chosen from them (:func:`trustops.core.explain.reasons.principal_reasons`)
and the reasons withheld (prohibited bases and proxies), and the time.

The attributions are measured from a baseline, documented in each notice by its hash
and size: the background rows (``baseline="all"``), or only those the model approves at the
decision threshold (``baseline="approved"``), so each reason is a way the applicant differs
from approved applicants.

The score is the model's probability of the favourable class (``classes_[1]``)
and the attributions are those of :func:`trustops.explain`: of the probability
(tree models with a background, permutation, kernel, LIME) or of the log-odds
(linear models); both are monotone in the probability, so a negative attribution
pushes toward denial either way (``Explanation.output`` says which).

Loading a model file (joblib or pickle) runs code from the file: load only your
own files. trustops never loads a model uploaded to it.

Example:
    >>> decide(0.42, threshold=0.5, favourable="high")
    'denied'
    >>> decide(0.42, threshold=0.5, favourable="low")
    'approved'
"""

from __future__ import annotations

import hashlib
import pickle
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from trustops.core.explain.reasons import ReasonDictionary, principal_reasons
from trustops.engines.model_inputs import (
    feature_matrix,
    model_feature_names,
    model_input_count,
    positive_probability,
)
from trustops.errors import InputError, UsageError

__all__ = [
    "BASELINES",
    "PROHIBITED_BASES",
    "Features",
    "adverse_action_notices",
    "check_inputs",
    "decide",
    "file_sha256",
    "load_model",
    "model_features",
]

PROHIBITED_BASES = (
    "race",
    "color",
    "religion",
    "national_origin",
    "sex",
    "marital_status",
)
"""Regulation B's prohibited bases (12 CFR 1002.2(z)) checked by default, by column name.

Age is a prohibited basis too, but Regulation B lets an empirically derived
credit scoring system use it (1002.6(b)(2)); list it with ``prohibited=`` when
your system must not.
"""

APPROVED = "approved, no adverse action"
BASELINES = ("all", "approved")
"""Which background rows the attributions are measured from (``adverse_action_notices``)."""


def file_sha256(path: str | Path) -> str:
    """SHA-256 of a file's bytes (the registry hashes a model artifact the same way)."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def load_model(path: str | Path) -> Any:
    """Load a model saved with joblib or pickle. This runs code from the file: load only yours."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"model file {path} is not a file")
    try:
        import joblib
    except ImportError:  # pragma: no cover - joblib comes with scikit-learn
        joblib = None
    try:
        if joblib is not None:
            return joblib.load(path)
        with open(path, "rb") as f:
            return pickle.load(f)
    except Exception as exc:  # any unpickling failure is a bad file, not a bug of ours
        raise InputError(
            f"cannot load model file {path.name}: {type(exc).__name__}: {exc}",
            hint="save the model with joblib.dump or pickle.dump",
        ) from None


@dataclass(frozen=True, slots=True)
class Features:
    """The model's input columns, and whether the model named them itself."""

    names: tuple[str, ...]
    from_model: bool


def model_features(model: Any, columns: Sequence[str], *, exclude: Sequence[str] = ()) -> Features:
    """The model's feature names when it knows them (matched by name), else ``columns``
    minus ``exclude`` (matched by position: their count must be the model's number of inputs).

    Raises an :class:`InputError` naming the first feature the data lacks, or the
    counts and the first column more than the model takes.
    """
    named = model_feature_names(model)
    if named is not None:
        missing = [n for n in named if n not in columns]
        if missing:
            raise InputError(
                f"the model's feature {missing[0]!r} is not in the data"
                + (f" ({len(missing)} missing)" if len(missing) > 1 else "")
            )
        return Features(named, True)
    skip = set(exclude)
    names = tuple(c for c in columns if c not in skip)
    expected = model_input_count(model)
    if expected is not None and len(names) != expected:
        extra = f"; the first extra is {names[expected]!r}" if len(names) > expected else ""
        raise InputError(
            f"the data has {len(names)} feature columns for the model's {expected} inputs"
            f"{extra} (the model names no features, so columns are matched by position)",
            hint="leave columns out with --drop (and the label with --target)"
            if extra
            else "pass the columns the model was trained on, in its order",
        )
    if not names:
        raise InputError("no feature columns are left in the data")
    return Features(names, False)


def _norm(name: str) -> str:
    return name.strip().lower().replace(" ", "_")


def check_inputs(
    features: Sequence[str],
    *,
    dictionary: ReasonDictionary,
    concepts: Mapping[str, str],
    prohibited: Sequence[str],
    proxies: Sequence[str],
    allow: Sequence[str] = (),
) -> None:
    """Before any explaining: no prohibited basis among the inputs (unless allowed), and a
    dictionary entry for every concept that may be given as a reason."""
    unknown = sorted(set(concepts) - set(features))
    if unknown:
        raise UsageError(f"--concept names {unknown[0]!r}, which is not a feature of the model")
    allowed = {_norm(a) for a in allow}
    barred_names = {_norm(p) for p in prohibited}
    for feature in features:
        concept = concepts.get(feature, feature)
        hit = {_norm(feature), _norm(concept)} & barred_names
        if hit and not hit <= allowed:
            raise InputError(
                f"feature {feature!r} is a prohibited basis ({sorted(hit)[0]}) and an input "
                "of the model",
                hint="retrain without it, or --allow-input it to explain anyway "
                "(it is never given as a reason)",
            )
    never = barred_names | {_norm(p) for p in proxies}
    members: dict[str, list[str]] = {}
    for feature in features:
        members.setdefault(concepts.get(feature, feature), []).append(feature)
    barred = {
        c for c, fs in members.items() if _norm(c) in never or any(_norm(f) in never for f in fs)
    }
    dictionary.check_covers(members, never=barred)


def decide(score: float, *, threshold: float, favourable: str) -> str:
    """``"approved"`` when the score is on the favourable side of the threshold, else ``"denied"``.

    ``favourable="high"``: approved when ``score >= threshold``; ``"low"``: when
    ``score < threshold``.
    """
    if favourable == "high":
        return "approved" if score >= threshold else "denied"
    if favourable == "low":
        return "denied" if score >= threshold else "approved"
    raise UsageError(f"favourable must be 'high' or 'low', not {favourable!r}")


def adverse_action_notices(
    model: Any,
    applicants: Any,
    *,
    features: Sequence[str],
    dictionary: ReasonDictionary,
    background: Any,
    model_sha256: str,
    time: str,
    ids: Sequence[Any] | None = None,
    threshold: float = 0.5,
    favourable: str = "high",
    max_reasons: int = 4,
    concepts: Mapping[str, str] | None = None,
    prohibited: Sequence[str] = PROHIBITED_BASES,
    proxies: Sequence[str] = (),
    allow: Sequence[str] = (),
    method: str = "auto",
    budget: int = 2000,
    seed: int = 0,
    model_version: str | None = None,
    baseline: str = "all",
) -> list[dict[str, Any]]:
    """One notice per applicant (rows of ``applicants``, a frame, Arrow table or dict of
    columns); only denied applicants are explained. See the module docstring.

    ``baseline`` picks the rows of ``background`` the attributions are measured from:
    ``"all"`` of them, or ``"approved"``: only those the model approves at ``threshold``,
    so the reasons explain the gap between the applicant and approved applicants.
    """
    from trustops.explain import explain

    if not 0.0 < threshold < 1.0:
        raise UsageError(f"threshold must be between 0 and 1, not {threshold}")
    if baseline not in BASELINES:
        raise UsageError(f"baseline must be one of {', '.join(BASELINES)}, not {baseline!r}")
    concepts = dict(concepts or {})
    matrix = feature_matrix(applicants, model, features, "applicants")
    check_inputs(
        features,
        dictionary=dictionary,
        concepts=concepts,
        prohibited=prohibited,
        proxies=proxies,
        allow=allow,
    )
    scores = positive_probability(model, matrix.names, matrix.backend)(matrix.values)
    ids = list(range(len(scores))) if ids is None else list(ids)
    decisions = [decide(float(s), threshold=threshold, favourable=favourable) for s in scores]
    denied = [i for i, d in enumerate(decisions) if d == "denied"]
    row_of = {applicant: k for k, applicant in enumerate(denied)}  # its explanation row
    explanation = None
    if denied:
        if baseline == "approved":
            background = _approved_rows(model, background, matrix.names, threshold, favourable)
        rows = {n: matrix.values[denied, j] for j, n in enumerate(matrix.names)}
        explanation = explain(
            model,
            rows,
            background=background,
            method=method,
            budget=budget,
            seed=seed,
            feature_names=list(matrix.names),
        )
    model_info: dict[str, Any] = {"sha256": model_sha256}
    if model_version is not None:
        model_info["version"] = model_version
    notices = []
    for i, (score, decision) in enumerate(zip(scores.tolist(), decisions, strict=True)):
        notice: dict[str, Any] = {
            "applicant": ids[i],
            "decision": decision,
            "score": score,
            "threshold": threshold,
            "favourable": favourable,
            "model": model_info,
            "time": time,
        }
        if decision == "approved" or explanation is None:
            notice["message"] = APPROVED
            notices.append(notice)
            continue
        k = row_of[i]
        attributions = explanation.attributions(k)
        found = principal_reasons(
            attributions,
            dictionary=dictionary,
            concepts=concepts,
            prohibited=[*prohibited],
            proxies=proxies,
            max_reasons=max_reasons,
            favourable=favourable,
        )
        notice.update(
            {
                "explainer": explanation.explainer,
                "explainer_version": explanation.explainer_version,
                "method": explanation.method,
                "output": explanation.output,
                "baseline_hash": explanation.baseline_hash,
                "baseline": baseline,
                "background_rows": explanation.background_rows,
                "base_value": float(explanation.base_values[k]),
                "attributions": attributions,
                "reasons": [r.to_dict() for r in found.reasons],
                "withheld": list(found.withheld),
                "dictionary_version": found.dictionary_version,
                "max_reasons": found.max_reasons,
            }
        )
        notices.append(notice)
    return notices


def _approved_rows(
    model: Any, background: Any, names: Sequence[str], threshold: float, favourable: str
) -> Any:
    """The rows of ``background`` the model approves, as a dict of columns."""
    if background is None:
        raise UsageError("baseline='approved' needs background rows to choose from")
    rows = feature_matrix(background, model, names, "background")
    scores = positive_probability(model, rows.names, rows.backend)(rows.values)
    approved = [
        i for i, s in enumerate(scores.tolist())
        if decide(s, threshold=threshold, favourable=favourable) == "approved"
    ]  # fmt: skip
    if not approved:
        raise InputError(
            f"none of the {len(scores)} background rows is approved at threshold {threshold}",
            hint="give a background with approved applicants, or use the baseline of all rows",
        )
    return {n: rows.values[approved, j] for j, n in enumerate(rows.names)}
