"""Griffe extension: render reStructuredText roles of the package's docstrings as code.

The package's docstrings use Sphinx roles (``:func:`run```, ``:class:`~a.B```) so that they
read well in ``help()`` and in editors. The docs site renders docstrings as Markdown, where a
role would show up literally; this turns each into an inline code span, keeping only the last
component when the target starts with ``~`` (Sphinx's own convention).
"""

from __future__ import annotations

import re
from typing import Any

import griffe

_ROLE = re.compile(r":(?:py:)?(?:func|class|mod|meth|attr|exc|data|obj|const):`([^`]+)`")


def _as_code(match: re.Match[str]) -> str:
    target = match.group(1)
    if target.startswith("~"):
        target = target[1:].rsplit(".", 1)[-1]
    return f"`{target}`"


class RstRoles(griffe.Extension):
    """Rewrite Sphinx roles in every docstring of a loaded package into Markdown code spans."""

    def on_package(self, *, pkg: griffe.Module, **kwargs: Any) -> None:
        self._rewrite(pkg, set())

    def _rewrite(self, obj: griffe.Object, seen: set[str]) -> None:
        if obj.path in seen:
            return
        seen.add(obj.path)
        if obj.docstring is not None:
            obj.docstring.value = _ROLE.sub(_as_code, obj.docstring.value)
        for member in obj.members.values():
            if not member.is_alias:
                self._rewrite(member, seen)  # type: ignore[arg-type]
