"""Figures measured by the stress tests, summed over a session and printed at its end.

``record(name, **values)`` adds each value to the running total of ``name``
(or keeps the maximum for keys listed in ``_max``); ``conftest.py`` prints the
totals in pytest's terminal summary and writes them to
``target/stress-figures.json`` for docs/conformance.md.
"""

from __future__ import annotations

import json
import os
from typing import Any

FIGURES: dict[str, dict[str, float]] = {}


def record(name: str, _max: tuple[str, ...] = (), **values: float) -> None:
    entry = FIGURES.setdefault(name, {})
    for key, value in values.items():
        if key in _max:
            entry[key] = max(entry.get(key, value), value)
        else:
            entry[key] = entry.get(key, 0) + value


def dump(path: str) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(FIGURES, f, indent=1, sort_keys=True)


def render() -> list[str]:
    lines = []
    for name, entry in sorted(FIGURES.items()):
        parts = []
        for key, value in sorted(entry.items()):
            shown: Any = round(value, 3) if isinstance(value, float) else value
            parts.append(f"{key}={shown}")
        lines.append(f"{name}: " + ", ".join(parts))
    return lines
