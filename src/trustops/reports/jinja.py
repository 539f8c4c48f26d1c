"""The one Jinja2 environment every report template renders in.

Templates live in ``trustops/reports/templates/``; ``*.html.j2`` are
autoescaped, Markdown templates are not. Undefined names are errors
(``StrictUndefined``), so a template can never print an empty value silently.
Filters: ``cell`` (one line, safe in a Markdown table cell: whitespace folded,
``\\`` and ``|`` escaped) and ``slug`` (an HTML anchor).

Example:
    >>> environment().from_string("{{ 'a | b\\nc' | cell }}").render()
    'a \\\\| b c'
"""

from __future__ import annotations

import functools
import re
from typing import Any

import jinja2

__all__ = ["environment", "markdown_cell"]


def markdown_cell(value: Any) -> str:
    """``value`` on one line, safe inside a Markdown table cell."""
    text = " ".join(str(value).split())
    return text.replace("\\", "\\\\").replace("|", "\\|")


@functools.cache
def environment() -> jinja2.Environment:
    """The shared environment (cached)."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("trustops.reports", "templates"),
        autoescape=jinja2.select_autoescape(
            enabled_extensions=("html.j2",), default_for_string=False
        ),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["cell"] = markdown_cell
    env.filters["md"] = markdown_cell
    env.filters["slug"] = lambda text: re.sub(r"[^a-z0-9]+", "-", str(text).lower()).strip("-")
    return env
