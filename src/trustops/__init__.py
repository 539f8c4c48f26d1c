"""trustops: ethical-AI compliance embedded in MLOps.

Importing ``trustops`` is cheap: the public names below load on first use.

Example:
    >>> import trustops
    >>> report = trustops.assess_fairness(
    ...     {"y": [1, 0, 1, 0], "p": [1, 0, 0, 0], "g": ["a", "a", "b", "b"]},
    ...     y_true="y", y_pred="p", sensitive="g")
    >>> report.difference("selection_rate")
    0.5
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = [
    "Baseline",
    "DatasetProfile",
    "DriftReport",
    "FairnessReport",
    "GroupCounts",
    "LL144Audit",
    "PiiReport",
    "Registry",
    "ValidationReport",
    "WindowSeries",
    "__version__",
    "assess_fairness",
    "count_groups",
    "cusum",
    "detect_drift",
    "detect_proxies",
    "errors",
    "explain",
    "init_workspace",
    "ll144_audit",
    "load_profile",
    "p_chart",
    "profile",
    "render_document",
    "reweighing_weights",
    "save_profile",
    "scan_pii",
    "validate",
    "verify_export",
    "xbar_chart",
]

_LAZY = {
    "assess_fairness": "trustops.assess",
    "count_groups": "trustops.assess",
    "FairnessReport": "trustops.core.fairness",
    "GroupCounts": "trustops.core.fairness",
    "errors": "trustops.errors",
    "profile": "trustops.profiling",
    "load_profile": "trustops.profiling",
    "save_profile": "trustops.profiling",
    "DatasetProfile": "trustops.core.profiles",
    "detect_drift": "trustops.drift",
    "DriftReport": "trustops.core.drift.report",
    "Baseline": "trustops.core.anomalies",
    "WindowSeries": "trustops.core.anomalies",
    "cusum": "trustops.core.anomalies",
    "p_chart": "trustops.core.anomalies",
    "xbar_chart": "trustops.core.anomalies",
    "scan_pii": "trustops.scan",
    "PiiReport": "trustops.core.quality.pii",
    "validate": "trustops.validation",
    "ValidationReport": "trustops.core.quality.checks",
    "Registry": "trustops.governance",
    "render_document": "trustops.reports.documents",
    "init_workspace": "trustops.governance",
    "verify_export": "trustops.governance",
    "ll144_audit": "trustops.ll144",
    "LL144Audit": "trustops.core.ll144",
    "reweighing_weights": "trustops.mitigation.reweighing",
    "detect_proxies": "trustops.proxies",
    "explain": "trustops.explain",
}

if TYPE_CHECKING:
    from trustops import errors
    from trustops.assess import assess_fairness, count_groups
    from trustops.core.anomalies import Baseline, WindowSeries, cusum, p_chart, xbar_chart
    from trustops.core.drift.report import DriftReport
    from trustops.core.fairness import FairnessReport, GroupCounts
    from trustops.core.profiles import DatasetProfile
    from trustops.core.quality.checks import ValidationReport
    from trustops.core.quality.pii import PiiReport
    from trustops.drift import detect_drift
    from trustops.explain import explain
    from trustops.governance import Registry, init_workspace, verify_export
    from trustops.ll144 import LL144Audit, ll144_audit
    from trustops.mitigation.reweighing import reweighing_weights
    from trustops.profiling import load_profile, profile, save_profile
    from trustops.proxies import detect_proxies
    from trustops.reports.documents import render_document
    from trustops.scan import scan_pii
    from trustops.validation import validate


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'trustops' has no attribute {name!r}")
    mod = importlib.import_module(module)
    value = mod if name == "errors" else getattr(mod, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
