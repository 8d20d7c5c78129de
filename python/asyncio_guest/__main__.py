"""Command line: ``python -m asyncio_guest demo --host NAME`` and ``python -m asyncio_guest bench``.

``demo`` runs a sample shipped in the package (``asyncio_guest.samples.<host>_app``, the
webview one in ``asyncio_guest_webview.sample``); arguments it does not know go to the
sample (``--demo``, ``--quit-after SECONDS``).  ``bench`` runs ``benchmarks/run.py``, which
is part of the source checkout only.

Exit codes: 0 success, 1 the environment cannot run it (toolkit not installed, no display,
wrong OS, no checkout), 2 bad command line; a sample's own exit code otherwise.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import runpy
import sys
from pathlib import Path
from typing import NamedTuple, Optional


class Demo(NamedTuple):
    module: str
    #: Top-level modules the sample imports (missing -> install hint, not a traceback).
    requires: tuple[str, ...]
    #: Opens a window, so it needs a display on X11/Wayland systems.
    needs_display: bool = True
    #: ``sys.platform`` values it runs on (empty: everywhere).
    platforms: tuple[str, ...] = ()


DEMOS = {
    "tkinter": Demo("asyncio_guest.samples.tkinter_app", ("tkinter", "_tkinter")),
    "gtk3": Demo("asyncio_guest.samples.gtk3_app", ("gi",)),
    "gtk4": Demo("asyncio_guest.samples.gtk4_app", ("gi",)),
    "pyqt5": Demo("asyncio_guest.samples.pyqt5_app", ("PyQt5",)),
    "pyqt6": Demo("asyncio_guest.samples.pyqt6_app", ("PyQt6",)),
    "pyside6": Demo("asyncio_guest.samples.pyside6_app", ("PySide6",)),
    "pygame": Demo("asyncio_guest.samples.pygame_app", ("pygame",)),
    "wx": Demo("asyncio_guest.samples.wx_app", ("wx",)),
    "tornado": Demo("asyncio_guest.samples.tornado_app", ("tornado",), needs_display=False),
    "asyncio": Demo("asyncio_guest.samples.asyncio_app", (), needs_display=False),
    "win32": Demo("asyncio_guest.samples.win32_app", (), platforms=("win32",)),
    "webview": Demo("asyncio_guest_webview.sample", ("asyncio_guest_webview",)),
}
#: Other spellings accepted by --host ("qt" is resolved to an installed binding).
ALIASES = {"tk": "tkinter", "gtk": "gtk3", "wxpython": "wx"}
QT_DEMOS = ("pyside6", "pyqt6", "pyqt5")
_PLATFORM_NAMES = {"win32": "Windows", "darwin": "macOS", "linux": "Linux"}

#: Host or demo name -> the extra that installs its toolkit (None: nothing to pip install).
EXTRAS = {
    "tk": None,
    "tkinter": None,
    "qt": "qt6",
    "pyqt5": "qt5",
    "pyqt6": "qt6",
    "pyside6": "pyside6",
    "gtk": "gtk",
    "gtk3": "gtk",
    "gtk4": "gtk",
    "pygame": "pygame",
    "tornado": "tornado",
    "wx": "wx",
    "webview": "webview",
    "asyncio": None,
    "win32": None,
}


def install_hint(host: str) -> str:
    """One line telling the user how to get the toolkit behind ``host``."""
    extra = EXTRAS.get(host)
    if host in ("tk", "tkinter"):
        return (
            "Tk comes with Python; if your Python lacks it, install your system's package "
            "(Debian/Ubuntu: sudo apt install python3-tk)"
        )
    if extra is None:
        return "no extra toolkit is needed for this host"
    hint = f'install it with: pip install "asyncio-guest[{extra}]"'
    if extra == "gtk":
        hint += " (builds against the system's GTK and GObject introspection packages)"
    return hint


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def _resolve(name: str) -> Optional[str]:
    name = name.lower()
    if name == "qt":
        return next((d for d in QT_DEMOS if all(map(_installed, DEMOS[d].requires))), "pyqt6")
    name = ALIASES.get(name, name)
    return name if name in DEMOS else None


def _has_display() -> bool:
    if sys.platform in ("win32", "darwin"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def _display_chosen(name: str) -> bool:
    """The user picked a windowing backend that needs no X server (offscreen, dummy...)."""
    if name == "pygame":
        return bool(os.environ.get("SDL_VIDEODRIVER"))
    if name in QT_DEMOS:
        return bool(os.environ.get("QT_QPA_PLATFORM"))
    return False


def _exit_code(exc: SystemExit) -> int:
    code = exc.code
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1


def _platforms(demo: Demo) -> str:
    return " / ".join(_PLATFORM_NAMES.get(p, p) for p in demo.platforms)


def _error(message: str, code: int = 1) -> int:
    print(f"asyncio_guest: {message}", file=sys.stderr)
    return code


def list_demos() -> int:
    print("demos (python -m asyncio_guest demo --host NAME):")
    for name, demo in DEMOS.items():
        if demo.platforms and sys.platform not in demo.platforms:
            state = f"{_platforms(demo)} only"
        elif all(map(_installed, demo.requires)):
            state = "ready"
        else:
            extra = EXTRAS.get(name)
            state = (
                f'not installed: pip install "asyncio-guest[{extra}]"'
                if extra
                else ("not installed")
            )
        print(f"  {name:<9} {state}")
    print("aliases: tk, gtk (gtk3), qt (the installed Qt binding), wxpython")
    return 0


def demo(name: str, sample_args: list[str]) -> int:
    resolved = _resolve(name)
    if resolved is None:
        return _error(
            f"unknown host {name!r}; choose one of: {', '.join(DEMOS)} (see --list)", code=2
        )
    sample = DEMOS[resolved]
    if sample.platforms and sys.platform not in sample.platforms:
        return _error(f"the {resolved} demo runs on {_platforms(sample)} only")
    missing = [module for module in sample.requires if not _installed(module)]
    if missing:
        return _error(f"the {resolved} demo needs {missing[0]}; {install_hint(resolved)}")
    if sample.needs_display and not _has_display() and not _display_chosen(resolved):
        return _error(
            "no display (DISPLAY and WAYLAND_DISPLAY are unset): run it in a desktop session "
            f"or under a virtual X server: xvfb-run -a python -m asyncio_guest demo --host "
            f"{resolved}"
        )
    sys.argv = [sample.module, *sample_args]
    try:
        runpy.run_module(sample.module, run_name="__main__", alter_sys=True)
    except SystemExit as exc:
        return _exit_code(exc)
    except ImportError as exc:
        # A toolkit that is installed but broken (e.g. PyGObject without the GTK typelib).
        if exc.name is not None and exc.name.split(".")[0] in sample.requires:
            return _error(f"the {resolved} demo cannot import {exc.name}: {exc}")
        raise
    return 0


def _checkout_root() -> Optional[Path]:
    """The source checkout: the package's grandparent (editable install) or the cwd."""
    here = Path(__file__).resolve().parent
    for candidate in (here.parent.parent, Path.cwd()):
        if (candidate / "benchmarks" / "run.py").is_file():
            return candidate
    return None


def bench(bench_args: list[str]) -> int:
    root = _checkout_root()
    if root is None:
        return _error(
            "bench is not part of the installed package: it needs benchmarks/run.py from the "
            "asyncio-guest source checkout; run it there (python -m asyncio_guest bench) or "
            "from the checkout's directory"
        )
    script = root / "benchmarks" / "run.py"
    sys.argv = [str(script), *bench_args]
    sys.path.insert(0, str(script.parent))
    try:
        runpy.run_path(str(script), run_name="__main__")
    except SystemExit as exc:
        return _exit_code(exc)
    return 0


def _parser() -> argparse.ArgumentParser:
    from asyncio_guest import __version__

    parser = argparse.ArgumentParser(
        prog="python -m asyncio_guest",
        allow_abbrev=False,
        description="asyncio guest mode: run the shipped demos or the benchmarks.",
    )
    parser.add_argument("--version", action="version", version=f"asyncio-guest {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    demo_parser = commands.add_parser(
        "demo",
        help="run a sample app with asyncio as a guest of a GUI toolkit",
        allow_abbrev=False,
        description="Run a sample app shipped in the package. Other arguments go to the "
        "sample, e.g. --demo (start a download and open a dialog) and --quit-after SECONDS.",
    )
    demo_parser.add_argument(
        "--host", default="tkinter", metavar="NAME", help="toolkit to host asyncio (default: tk)"
    )
    demo_parser.add_argument(
        "--list", action="store_true", help="list the demos and whether each can run here"
    )
    commands.add_parser(
        "bench",
        help="run the benchmarks (source checkout only)",
        description="Run benchmarks/run.py from the source checkout; other arguments go to it.",
        add_help=False,
    )
    return parser


def main(argv: Optional[list[str]] = None) -> int:
    args = sys.argv[1:] if argv is None else list(argv)
    parser = _parser()
    if args[:1] == ["bench"]:
        return bench(args[1:])  # every argument, --help included, belongs to run.py
    try:
        options, rest = parser.parse_known_args(args)
    except SystemExit as exc:
        return _exit_code(exc)
    if options.command is None:
        if rest:
            return _error(f"unknown arguments: {' '.join(rest)} (see --help)", code=2)
        parser.print_help()
        return 2
    if options.list:
        return list_demos()
    return demo(options.host, rest)


if __name__ == "__main__":
    sys.exit(main())
