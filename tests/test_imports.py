"""Importing trustops is cheap, and its public names are tidy."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import trustops

HEAVY = ["pandas", "polars", "scipy", "sklearn"]


def _modules_after(code: str) -> dict[str, bool]:
    script = (
        f"import sys\n{code}\nimport json\n"
        f"print(json.dumps({{m: m in sys.modules for m in {HEAVY!r}}}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_import_pulls_in_no_heavy_dependency() -> None:
    loaded = _modules_after("import trustops")
    assert loaded == {m: False for m in HEAVY}


def test_the_check_sees_heavy_modules_when_they_are_imported() -> None:
    # guards the test above against a subprocess that never reports anything
    assert _modules_after("import trustops, scipy")["scipy"] is True


def test_all_is_sorted_and_resolves() -> None:
    assert trustops.__all__ == sorted(trustops.__all__)
    assert len(set(trustops.__all__)) == len(trustops.__all__)
    for name in trustops.__all__:
        assert getattr(trustops, name) is not None, name
    assert sorted(dir(trustops)) == sorted(trustops.__all__)


@pytest.mark.parametrize(
    "name", ["assess_fairness", "count_groups", "FairnessReport", "GroupCounts", "errors"]
)
def test_lazy_names_are_the_real_objects(name: str) -> None:
    target = {
        "assess_fairness": "trustops.assess",
        "count_groups": "trustops.assess",
        "FairnessReport": "trustops.core.fairness",
        "GroupCounts": "trustops.core.fairness",
    }
    value = getattr(trustops, name)
    if name == "errors":
        assert value is sys.modules["trustops.errors"]
    else:
        assert value is getattr(sys.modules[target[name]], name)


def test_unknown_attribute_raises_attribute_error() -> None:
    with pytest.raises(AttributeError, match="nope"):
        trustops.nope  # noqa: B018
