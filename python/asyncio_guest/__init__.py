"""asyncio guest mode: run unmodified asyncio on top of another event loop.

The host loop (Tk, Qt, GTK, pygame, wx, Win32, a webview, another asyncio loop)
keeps its thread; asyncio runs on that same thread in short *ticks* that the
host schedules. Only the blocking I/O wait happens on a worker thread (in Rust),
which asks the host for the next tick when the wait ends.

Start here: :func:`start_guest_run`, or a ready adapter in
:mod:`asyncio_guest.hosts`.
"""

from __future__ import annotations

import atexit

from asyncio_guest import _core
from asyncio_guest._driver import GuestRunAbandoned
from asyncio_guest._loop import GuestEventLoop
from asyncio_guest._run import modal, new_event_loop, run, start_guest_run

__all__ = [
    "GuestEventLoop",
    "GuestRunAbandoned",
    "modal",
    "new_event_loop",
    "run",
    "start_guest_run",
]

__version__: str = _core.__version__
"""The package version (the wheel's), e.g. ``"0.1.0"``."""

# A worker thread that is still waiting when the interpreter shuts down must not
# try to take the GIL during finalization: stop them all first.
atexit.register(_core.shutdown_workers)
