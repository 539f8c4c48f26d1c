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
    "FairnessReport",
    "GroupCounts",
    "__version__",
    "assess_fairness",
    "count_groups",
    "errors",
]

_LAZY = {
    "assess_fairness": "trustops.assess",
    "count_groups": "trustops.assess",
    "FairnessReport": "trustops.core.fairness",
    "GroupCounts": "trustops.core.fairness",
    "errors": "trustops.errors",
}

if TYPE_CHECKING:
    from trustops import errors
    from trustops.assess import assess_fairness, count_groups
    from trustops.core.fairness import FairnessReport, GroupCounts


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
