"""``python -m asyncio_guest_webview``: tools for pages that call bound Python functions.

    python -m asyncio_guest_webview dts myapp.api:BINDINGS -o api.d.ts

``dts`` writes the TypeScript declaration of the functions named by ``module:attribute``:
a mapping of JS names to functions, a list of functions (bound under their own names),
or anything with a ``typescript()`` method (a :class:`~asyncio_guest_webview.Webview`).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import Any, Callable, Optional

from asyncio_guest_webview._typescript import typescript


def _load(spec: str) -> Any:
    module_name, sep, attribute = spec.partition(":")
    if not sep or not module_name or not attribute:
        raise SystemExit(f"dts: expected module:attribute, got {spec!r}")
    try:
        obj: Any = importlib.import_module(module_name)
    except ImportError as exc:
        raise SystemExit(f"dts: cannot import {module_name!r}: {exc}") from exc
    for part in attribute.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise SystemExit(f"dts: {module_name!r} has no attribute {attribute!r}") from None
    return obj


def declarations(obj: Any) -> str:
    """The ``.d.ts`` text for a mapping, a list of functions, or a webview."""
    if hasattr(obj, "typescript") and callable(obj.typescript):
        return str(obj.typescript())
    if hasattr(obj, "items"):
        return typescript(dict(obj.items()))
    if isinstance(obj, (list, tuple)):
        functions: dict[str, Callable[..., Any]] = {}
        for fn in obj:
            name = getattr(fn, "__name__", None)
            if not callable(fn) or not isinstance(name, str):
                raise SystemExit(f"dts: {fn!r} is not a named function")
            functions[name] = fn
        return typescript(functions)
    raise SystemExit(
        f"dts: expected a mapping of names to functions, a list of functions or a webview, "
        f"got {type(obj).__name__}"
    )


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m asyncio_guest_webview")
    commands = parser.add_subparsers(dest="command", required=True)
    dts = commands.add_parser("dts", help="write a TypeScript .d.ts of bound functions")
    dts.add_argument("target", help="module:attribute (a dict name -> function, or a list)")
    dts.add_argument("-o", "--output", help="file to write (default: standard output)")
    args = parser.parse_args(argv)
    text = declarations(_load(args.target))
    if args.output:
        with open(args.output, "w", encoding="utf-8") as f:
            f.write(text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
