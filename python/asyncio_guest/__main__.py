"""Command line: ``python -m asyncio_guest demo [--host NAME]`` and ``... bench [args]``.

``demo`` runs the shipped sample ``asyncio_guest.samples.<NAME>_app`` (default: tkinter);
``bench`` forwards its arguments to ``benchmarks/run.py``.
"""

from __future__ import annotations

import os
import runpy
import sys
from pathlib import Path
from typing import Optional

#: --host NAME -> the sample module it runs; aliases accepted for convenience.
DEMOS = {
    "tkinter": "asyncio_guest.samples.tkinter_app",
    "gtk3": "asyncio_guest.samples.gtk3_app",
    "gtk4": "asyncio_guest.samples.gtk4_app",
    "pygame": "asyncio_guest.samples.pygame_app",
    "tornado": "asyncio_guest.samples.tornado_app",
    "asyncio": "asyncio_guest.samples.asyncio_app",
    "pyqt5": "asyncio_guest.samples.pyqt5_app",
    "pyqt6": "asyncio_guest.samples.pyqt6_app",
    "pyside6": "asyncio_guest.samples.pyside6_app",
    "wx": "asyncio_guest.samples.wx_app",
    "win32": "asyncio_guest.samples.win32_app",
    "webview": "asyncio_guest_webview.sample",
}
ALIASES = {"tk": "tkinter", "gtk": "gtk3", "qt": "pyqt6", "wxpython": "wx"}
#: Demos that open a window and so need a display (pygame unless SDL_VIDEODRIVER says
#: otherwise: without one SDL silently falls back to an invisible offscreen window).
NEEDS_DISPLAY = {"tkinter", "gtk3", "gtk4", "pygame", "pyqt5", "pyqt6", "pyside6", "wx", "webview"}

USAGE = """usage: python -m asyncio_guest demo [--host NAME] [sample args...]
       python -m asyncio_guest bench [benchmark args...]

hosts: """ + ", ".join(DEMOS)


def _checkout_root() -> Optional[Path]:
    """The source checkout this package lives in (python/asyncio_guest -> repo root)."""
    here = Path(__file__).resolve().parent
    for candidate in (here.parent.parent, Path.cwd()):
        if (candidate / "examples").is_dir() or (candidate / "benchmarks").is_dir():
            return candidate
    return None


def _has_display() -> bool:
    if sys.platform in ("win32", "darwin"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def _run_script(path: Path, argv: list[str]) -> int:
    sys.argv = [str(path), *argv]
    sys.path.insert(0, str(path.parent))
    try:
        runpy.run_path(str(path), run_name="__main__")
    except SystemExit as exc:
        code = exc.code
        if code is None:
            return 0
        if isinstance(code, int):
            return code
        print(code, file=sys.stderr)
        return 1
    return 0


def _run_module(module: str, argv: list[str]) -> int:
    sys.argv = [module, *argv]
    try:
        runpy.run_module(module, run_name="__main__", alter_sys=True)
    except SystemExit as exc:
        code = exc.code
        if code is None:
            return 0
        if isinstance(code, int):
            return code
        print(code, file=sys.stderr)
        return 1
    return 0


def demo(argv: list[str]) -> int:
    host = "tkinter"
    rest: list[str] = []
    it = iter(argv)
    for arg in it:
        if arg == "--host":
            host = next(it, "")
        elif arg.startswith("--host="):
            host = arg.split("=", 1)[1]
        else:
            rest.append(arg)
    host = ALIASES.get(host.lower(), host.lower())
    if host not in DEMOS:
        print(f"unknown host {host!r}; choose one of: {', '.join(DEMOS)}", file=sys.stderr)
        return 2
    if host == "pygame" and os.environ.get("SDL_VIDEODRIVER"):
        pass  # the user chose SDL's video driver explicitly (e.g. dummy, kmsdrm)
    elif host in ("pyqt5", "pyqt6", "pyside6") and os.environ.get("QT_QPA_PLATFORM"):
        pass  # likewise Qt's platform plugin (e.g. offscreen)
    elif host in NEEDS_DISPLAY and not _has_display():
        print(
            "no display: run it under a virtual X server, e.g. "
            f"`xvfb-run -a python -m asyncio_guest demo --host {host}`"
        )
        return 2
    return _run_module(DEMOS[host], rest)


def bench(argv: list[str]) -> int:
    root = _checkout_root()
    script = root / "benchmarks" / "run.py" if root is not None else None
    if script is None or not script.is_file():
        print(
            "bench needs benchmarks/run.py from the asyncio-guest source checkout; run this "
            "from the checkout",
            file=sys.stderr,
        )
        return 2
    return _run_script(script, argv)


def main(argv: Optional[list[str]] = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] in ("-h", "--help"):
        print(USAGE)
        return 0 if args else 2
    command, rest = args[0], args[1:]
    if command == "demo":
        return demo(rest)
    if command == "bench":
        return bench(rest)
    print(f"unknown command {command!r}\n{USAGE}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
