"""asyncio_guest on its minimal built-in host, on Tk, on Qt (PySide6) and on GTK (GLib)."""

from __future__ import annotations

import asyncio
import importlib
from typing import Any, Callable, Optional

from contenders._base import AsyncFn, Contender, ms
from contenders.qt import qt_app, qt_call_later
from contenders.tk import new_root


class _Ours(Contender):
    requires = ("asyncio_guest",)
    #: Extra keyword arguments for the adapter's run() (start_guest_run options).
    run_kwargs: dict[str, Any] = {}

    def stats(self) -> dict[str, int]:
        loop = asyncio.get_running_loop()
        guest_stats = getattr(loop, "guest_stats", None)
        return dict(guest_stats()) if guest_stats is not None else {}


class OursMinimal(_Ours):
    """The built-in queue host: exactly what ``asyncio_guest.run`` runs on.

    We build the :class:`QueueHost` ourselves (``run_on_host``, the same path
    ``asyncio_guest.run`` takes) only so the benchmark can post host callbacks
    and set host timers (``QueueHost.call_later``).
    """

    name = "ours-minimal"
    thread_free = True

    def __init__(self) -> None:
        self._host: Any = None

    def run(self, async_fn: AsyncFn) -> Any:
        from asyncio_guest.hosts._base import run_on_host
        from asyncio_guest.hosts.builtin import QueueHost

        self._host = QueueHost(thread_free=self.thread_free)
        try:
            return run_on_host(self._host, async_fn)
        finally:
            self._host = None

    def post_host(self, fn: Callable[[], object]) -> None:
        self._host.run_sync_soon_not_threadsafe(fn)

    def call_later_host(self, delay: float, fn: Callable[[], object]) -> None:
        self._host.call_later(delay, fn)


def tk_host_module() -> Any:
    """The Tk adapter: ``hosts.tk``, or ``hosts.tkinter`` in a checkout from before the
    adapters' rename (``run.py --baseline-tree`` measures older checkouts too)."""
    try:
        return importlib.import_module("asyncio_guest.hosts.tk")
    except ModuleNotFoundError:
        return importlib.import_module("asyncio_guest.hosts.tkinter")


class OursTk(_Ours):
    name = "ours-tk"
    needs_display = True
    requires = ("asyncio_guest", "tkinter")

    def __init__(self) -> None:
        self.root: Any = None

    def run(self, async_fn: AsyncFn) -> Any:
        tk_host = tk_host_module()
        self.root = new_root()
        try:
            return tk_host.run(async_fn, root=self.root, **self.run_kwargs)
        finally:
            self.root.destroy()
            self.root = None

    def post_host(self, fn: Callable[[], object]) -> None:
        self.root.after(0, fn)

    def call_later_host(self, delay: float, fn: Callable[[], object]) -> None:
        self.root.after(ms(delay), fn)


def _find_qt_host() -> Optional[Any]:
    """The Qt adapter module."""
    for name in ("asyncio_guest.hosts.qt",):
        try:
            return importlib.import_module(name)
        except ImportError:
            continue
    return None


class OursQt(_Ours):
    name = "ours-qt"
    requires = ("asyncio_guest", "PySide6.QtWidgets")

    def unavailable(self) -> Optional[str]:
        reason = super().unavailable()
        if reason is None and _find_qt_host() is None:
            reason = "asyncio_guest.hosts.qt is not in the tree yet"
        return reason

    def run(self, async_fn: AsyncFn) -> Any:
        qt_app()
        module = _find_qt_host()
        assert module is not None
        return module.run(async_fn, binding="PySide6", **self.run_kwargs)

    def post_host(self, fn: Callable[[], object]) -> None:
        qt_call_later(0, fn)

    def call_later_host(self, delay: float, fn: Callable[[], object]) -> None:
        qt_call_later(delay, fn)


class OursGtk(_Ours):
    name = "ours-gtk"
    needs_display = True
    requires = ("asyncio_guest", "gi", "asyncio_guest.hosts.gtk")

    def run(self, async_fn: AsyncFn) -> Any:
        from asyncio_guest.hosts import gtk as gtk_host
        from contenders.glib import gtk_window

        window = gtk_window()
        try:
            return gtk_host.run(async_fn, **self.run_kwargs)
        finally:
            window.destroy()

    def post_host(self, fn: Callable[[], object]) -> None:
        from contenders.glib import glib_call_later

        glib_call_later(None, fn)

    def call_later_host(self, delay: float, fn: Callable[[], object]) -> None:
        from contenders.glib import glib_call_later

        glib_call_later(delay, fn)
