"""The contenders: one module per way of running asyncio (or Trio) code.

Every contender answers the same questions so the workloads can stay generic:

* ``unavailable()``: ``None`` if it can run here, else the reason it cannot.
* ``run(async_fn)``: run ``async_fn()`` to completion the contender's way and
  return its result (the GUI contenders create their toolkit objects first).
* ``post_host(fn)``: from code running on the host thread (inside the run),
  schedule ``fn()`` as an ordinary *host* callback with the host's own
  "run soon" primitive (``root.after(0)``, ``QTimer.singleShot(0)``,
  ``GLib.idle_add``; for the plain loops the loop itself is the host).
* ``call_later_host(delay, fn)``: a one-shot *host* timer.

The registry below is in the order the table and the chart show them.
"""

from __future__ import annotations

import importlib
from typing import Optional

from contenders._base import Contender

#: name -> "module:Class"
REGISTRY: dict[str, str] = {
    "stock": "contenders.plain:Stock",
    "uvloop": "contenders.plain:UVLoop",
    "ours-minimal": "contenders.ours:OursMinimal",
    "ours-tk": "contenders.ours:OursTk",
    "ours-qt": "contenders.ours:OursQt",
    "ours-gtk": "contenders.ours:OursGtk",
    "qasync": "contenders.qt:QAsync",
    "qtasyncio": "contenders.qt:QtAsyncio",
    "gi-events": "contenders.glib:GiEvents",
    "async-tkinter-loop": "contenders.tk:AsyncTkinterLoop",
    "trio-run": "contenders.trio_:TrioRun",
    "trio-guest-tk": "contenders.trio_:TrioGuestTk",
    # Design-lever variants, run only when named with --contenders (see ours_fd.py).
    "ours-minimal-plain": "contenders.ours_fd:OursMinimalPlain",
    "ours-tk-plain": "contenders.ours_fd:OursTkPlain",
    "ours-tk-fd": "contenders.ours_fd:OursTkFd",
    "ours-minimal-thread": "contenders.ours_fd:OursMinimalThread",
    "ours-tk-thread": "contenders.ours_fd:OursTkThread",
    "ours-qt-thread": "contenders.ours_fd:OursQtThread",
    "ours-gtk-thread": "contenders.ours_fd:OursGtkThread",
    "ours-qt-fd": "contenders.ours_fd:OursQtFd",
    "ours-gtk-fd": "contenders.ours_fd:OursGtkFd",
}

#: What a run without --contenders measures: every alternative, not the lever variants.
DEFAULT: list[str] = list(REGISTRY)[: list(REGISTRY).index("trio-guest-tk") + 1]


def load(name: str) -> Contender:
    """Instantiate a contender by name (imports only its module, not its toolkit)."""
    try:
        spec = REGISTRY[name]
    except KeyError:
        raise ValueError(f"unknown contender {name!r}; choose from {', '.join(REGISTRY)}") from None
    module_name, _, cls_name = spec.partition(":")
    cls = getattr(importlib.import_module(module_name), cls_name)
    contender: Contender = cls()
    return contender


def unavailable(name: str) -> Optional[str]:
    """Why ``name`` cannot run here, or None (imports its toolkit in this process)."""
    try:
        return load(name).unavailable()
    except Exception as exc:  # a broken install is a reason, not a crash
        return f"{type(exc).__name__}: {exc}"
