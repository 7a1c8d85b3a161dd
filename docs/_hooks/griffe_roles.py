"""Griffe extension: show the docstrings' Sphinx roles (:class:`~a.B`) as inline code.

The package's docstrings use reStructuredText roles; mkdocstrings renders Markdown, where a
role would show as raw text.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

_ROLE = re.compile(r":(?:class|meth|func|mod|attr|data|exc|obj):`(~?)([^`]+)`")


def _short(match: re.Match[str]) -> str:
    # ~a.b.C shows as C, as Sphinx does
    target = match.group(2).rsplit(".", 1)[-1] if match.group(1) else match.group(2)
    return f"`{target}`"


class SphinxRoles(griffe.Extension):
    """Rewrite roles in every docstring griffe loads."""

    def on_instance(self, *, obj: griffe.Object, **_kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = _ROLE.sub(_short, obj.docstring.value)
