"""The code in the docs and the README stays in step with the package.

Every ```python block of README.md and docs/**/*.md must parse, and every name it takes from
asyncio-guest must exist: ``from asyncio_guest.hosts import tk as tk_host`` needs the module,
and ``tk_host.run(...)`` needs ``run`` in it. The check reads the package's sources, so it needs
no toolkit and no display; it catches a renamed module or function that a page still uses.
The examples themselves are run by hand under Xvfb when a page changes (they open windows).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Iterator, Optional

import pytest

ROOT = Path(__file__).resolve().parents[2]
SOURCES = {
    "asyncio_guest": ROOT / "python" / "asyncio_guest",
    "asyncio_guest_webview": ROOT / "webview" / "python" / "asyncio_guest_webview",
}
FENCE = re.compile(r"^([ \t]*)```python[^\n]*\n(.*?)^\1```", re.S | re.M)


def _pages() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


def _blocks() -> Iterator[tuple[str, str]]:
    for page in _pages():
        text = page.read_text(encoding="utf-8")
        for number, match in enumerate(FENCE.finditer(text), 1):
            indent, body = match.group(1), match.group(2)
            if "--8<--" in body:
                continue  # an included sample: a file of the package, checked by ruff/mypy
            lines = [
                line[len(indent) :] if line.startswith(indent) else line
                for line in body.splitlines()
            ]
            yield f"{page.relative_to(ROOT)}#{number}", "\n".join(lines) + "\n"


BLOCKS = list(_blocks())


def _module_path(name: str) -> Optional[Path]:
    top, _, rest = name.partition(".")
    base = SOURCES.get(top)
    if base is None:
        return None
    path = base.joinpath(*rest.split(".")) if rest else base
    if path.is_dir():
        return path / "__init__.py"
    for suffix in (".py", ".pyi"):
        if path.with_suffix(suffix).exists():
            return path.with_suffix(suffix)
    return None


def _top_level_names(module: str) -> set[str]:
    """What ``module`` defines at its top level (and its submodules, for a package)."""
    path = _module_path(module)
    assert path is not None, f"no module {module}"
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
    if path.name == "__init__.py":
        names.update(p.stem for p in path.parent.glob("*.py"))
        names.update(p.name for p in path.parent.iterdir() if (p / "__init__.py").exists())
    return names


def test_the_pages_have_examples() -> None:
    assert len(BLOCKS) > 30
    assert any("getting-started" in where for where, _ in BLOCKS)


@pytest.mark.parametrize("where,code", BLOCKS, ids=[where for where, _ in BLOCKS])
def test_example_uses_existing_names(where: str, code: str) -> None:
    tree = ast.parse(code, filename=where)
    aliases: dict[str, str] = {}  # local name -> asyncio_guest module it stands for
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in SOURCES:
                    assert _module_path(alias.name), f"{where}: no module {alias.name}"
                    if alias.asname:
                        aliases[alias.asname] = alias.name
                    else:
                        aliases[alias.name.split(".")[0]] = alias.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom) and node.module:
            if node.module.split(".")[0] not in SOURCES:
                continue
            assert _module_path(node.module), f"{where}: no module {node.module}"
            defined = _top_level_names(node.module)
            for alias in node.names:
                assert alias.name in defined, f"{where}: {node.module} has no {alias.name}"
                submodule = f"{node.module}.{alias.name}"
                if _module_path(submodule):
                    aliases[alias.asname or alias.name] = submodule
    for node in ast.walk(tree):
        # alias.attr and dotted paths such as asyncio_guest.hosts.tk.TkHost
        if isinstance(node, ast.Attribute):
            parts: list[str] = [node.attr]
            value = node.value
            while isinstance(value, ast.Attribute):
                parts.insert(0, value.attr)
                value = value.value
            if not isinstance(value, ast.Name) or value.id not in aliases:
                continue
            module = aliases[value.id]
            for attr in parts:
                if not _module_path(module):
                    break  # an object inside a module: its attributes are not checked
                assert attr in _top_level_names(module), f"{where}: {module} has no {attr}"
                module = f"{module}.{attr}"
