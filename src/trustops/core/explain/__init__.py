"""Explanations, pure: reason codes from attributions (the SHAP and LIME adapters sit above)."""

from __future__ import annotations

from trustops.core.explain.reasons import (
    DEFAULT_MAX_REASONS,
    Reason,
    ReasonDictionary,
    ReasonSet,
    principal_reasons,
)

__all__ = ["DEFAULT_MAX_REASONS", "Reason", "ReasonDictionary", "ReasonSet", "principal_reasons"]
