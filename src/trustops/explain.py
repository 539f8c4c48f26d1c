"""Explanations of a model's predictions: adapters over SHAP and LIME (in progress)."""

from __future__ import annotations

__all__: list[str] = []
