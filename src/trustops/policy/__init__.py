r"""Policies from YAML: load with file, line and column in every error; the shipped packs.

``load_policy(SOURCE)`` takes a YAML file or the name of a regulation pack
(``trustops policy packs`` lists them: ``eeoc-four-fifths``, ``nyc-ll144``,
``eu-ai-act-high-risk``, ``ecoa-adverse-action``, ``gdpr``) and returns a
:class:`~trustops.core.policy.Policy`. The YAML is parsed here, at the edge;
the rules are built and checked by the pure :func:`~trustops.core.policy.build_policy`,
whose errors name the path in the document (``rules[2].threshold``), which
this module turns into ``policy.yaml:14:16``.

The JSON Schema of the language is ``policy.schema.json`` beside this module
(``schema_path()``), for editor completion.

Example:
    >>> policy = load_policy("eeoc-four-fifths")
    >>> policy.name, [r.id for r in policy.rules][:2]
    ('eeoc-four-fifths', ['impact-ratio', 'fairness-evidence-is-fresh'])
    >>> bad = ("policy: p\nrules:\n  - id: x\n    evidence: fairness\n"
    ...        "    metric: four_fifths.impact_ratio\n    op: '>='\n    threshold: -1\n")
    >>> try:
    ...     load_policy_text(bad, where="p.yaml")
    ... except PolicyError as exc:
    ...     print(exc.message.split(" is impossible")[0])
    p.yaml:7:5: rules[0].threshold: threshold -1
"""

from __future__ import annotations

import os
from pathlib import Path

import yaml

from trustops.core.policy import Policy, PolicyError, build_policy

__all__ = ["load_policy", "load_policy_text", "pack_names", "pack_path", "schema_path"]

_PACKS = Path(__file__).with_name("packs")


def schema_path() -> Path:
    """The published JSON Schema of the policy language."""
    return Path(__file__).with_name("policy.schema.json")


def pack_names() -> list[str]:
    """The regulation packs shipped with trustops."""
    return sorted(p.stem for p in _PACKS.glob("*.yaml"))


def pack_path(name: str) -> Path:
    """The YAML file of pack ``name`` (copy it to adapt it)."""
    path = _PACKS / f"{name}.yaml"
    if name not in pack_names():
        raise PolicyError(f"no policy pack {name!r}", hint=f"packs: {', '.join(pack_names())}")
    return path


def _marks(node: yaml.Node, path: tuple, out: dict[tuple, yaml.Mark], where: str) -> None:
    out[path] = node.start_mark
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key, value in node.value:
            name = key.value if isinstance(key, yaml.ScalarNode) else str(key.value)
            if name in seen:
                m = key.start_mark
                raise PolicyError(f"{where}:{m.line + 1}:{m.column + 1}: duplicate key {name!r}")
            seen.add(name)
            _marks(value, (*path, name), out, where)
            out[(*path, name)] = key.start_mark
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _marks(item, (*path, i), out, where)


def load_policy_text(text: str, *, where: str = "<text>") -> Policy:
    """A policy from YAML text; errors start with ``where:line:column``."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        at = f"{where}:{mark.line + 1}:{mark.column + 1}" if mark else where
        raise PolicyError(f"{at}: YAML syntax error: {problem}") from None
    marks: dict[tuple, yaml.Mark] = {}
    if node is not None:
        _marks(node, (), marks, where)
    try:
        return build_policy(document)
    except PolicyError as exc:
        path = exc.path
        while path and path not in marks:
            path = path[:-1]
        mark = marks.get(path)
        at = f"{where}:{mark.line + 1}:{mark.column + 1}" if mark else where
        located = PolicyError(f"{at}: {exc.message}", hint=exc.hint)
        located.path = exc.path
        raise located from None


def load_policy(source: str | os.PathLike[str]) -> Policy:
    """The policy in a YAML file, or the shipped pack of that name."""
    path = Path(source)
    if not path.exists() and isinstance(source, str) and "/" not in source and "." not in source:
        path = pack_path(source)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PolicyError(
            f"policy file {str(source)!r} not found", hint=f"or a pack: {', '.join(pack_names())}"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyError(f"cannot read {source}: {exc}") from None
    return load_policy_text(text, where=str(source))
