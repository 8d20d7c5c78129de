"""GLib host for GTK 3 and GTK 4 (PyGObject): guest ticks run as GLib idle sources.

Posting (see docs/hosts.md): both hooks use ``GLib.idle_add`` at
``GLib.PRIORITY_DEFAULT_IDLE`` (200).  ``g_idle_add`` is thread-safe (it attaches the source
to the default main context and wakes that context up), and idle priority is below input
events, timers (``PRIORITY_DEFAULT`` = 0) and GTK's redraw/layout (``PRIORITY_HIGH_IDLE`` +
10/20), so a busy guest can never starve the GUI; the GUI yields to the guest whenever it has
nothing more urgent.  There is no cheaper same-thread path: ``MainContext.invoke`` would run
the callable *inline* when called on the owning thread (recursion), so it is never used.

Thread-free mode (default): GLib watches the guest poller's descriptor itself
(``GLib.unix_fd_add_full``) and a timeout source covers the next guest timer, so the guest's
I/O wait never goes to the worker thread.  ``GLibHost(thread_free=False)`` keeps the worker.

The host loop is a ``GLib.MainLoop`` on the default context, which works the same for GTK 3
and GTK 4 (GTK 4 has no ``Gtk.main``).  Import and ``gi.require_version("Gtk", ...)`` GTK
yourself before using it; this module only needs GLib.  PyGObject's ``MainLoop.run`` (and
``Gtk.main``, ``Gtk.Dialog.run``) install their own ``signal.set_wakeup_fd`` for the
duration, so ``host_uses_signal_set_wakeup_fd`` is True.
"""

from __future__ import annotations

import math
import threading
from typing import Any, Awaitable, Callable, Optional, TypeVar

from gi.repository import GLib

from asyncio_guest.hosts._base import run_on_host, wait_readable_once

__all__ = ["PRIORITY", "GLibHost", "run"]

T = TypeVar("T")

#: Priority of guest ticks: below input, timers and redraws (see the module docstring).
PRIORITY = GLib.PRIORITY_DEFAULT_IDLE


class GLibHost:
    """Host adapter for the GLib default main context (GTK 3 or GTK 4)."""

    host_uses_signal_set_wakeup_fd = True

    def __init__(self, priority: int = PRIORITY, thread_free: bool = True) -> None:
        if not isinstance(priority, int):
            raise TypeError("priority must be an int (a GLib priority)")
        if not thread_free:
            # No wait_readable: the guest's I/O wait runs on its worker thread.
            self.wait_readable = None  # type: ignore[method-assign,assignment]
        self.priority = priority
        self.loop = GLib.MainLoop()
        self._lock = threading.Lock()
        self._pending: set[int] = set()
        self._closed = False

    def _call(self, fn: Callable[[], object], box: list[int]) -> bool:
        with self._lock:
            self._pending.discard(box[0])
        if not self._closed:
            fn()
        # Always remove the source: an idle source that returns True would run forever.
        return GLib.SOURCE_REMOVE

    def run_sync_soon_threadsafe(self, fn: Callable[[], object]) -> None:
        box: list[int] = [0]
        with self._lock:
            # Under the lock so _call (which takes it first) sees the id it must discard.
            if self._closed:
                raise RuntimeError("the GLib host is closed; the callback cannot run")
            box[0] = GLib.idle_add(self._call, fn, box, priority=self.priority)
            self._pending.add(box[0])

    run_sync_soon_not_threadsafe = run_sync_soon_threadsafe

    def wait_readable(
        self, fd: int, timeout: Optional[float], fn: Callable[[], object]
    ) -> Callable[[], None]:
        """Thread-free mode: a unix-fd source on the guest poller's descriptor, plus
        a timeout source, both at the ticks' priority (so they yield to the GUI)."""

        def watch_fd(cb: Callable[[], None]) -> Callable[[], None]:
            source = GLib.unix_fd_add_full(
                self.priority, fd, GLib.IOCondition.IN, lambda *_: cb() or GLib.SOURCE_REMOVE
            )
            return lambda: GLib.source_remove(source)

        def call_later(delay: float, cb: Callable[[], None]) -> Callable[[], None]:
            # Milliseconds, rounded up: a timer that fires early only costs a re-wait.
            ms = max(0, math.ceil(delay * 1000))
            source = GLib.timeout_add(
                ms, lambda: cb() or GLib.SOURCE_REMOVE, priority=self.priority
            )
            return lambda: GLib.source_remove(source)

        return wait_readable_once(fn, timeout, watch_fd, call_later)

    def mainloop(self) -> None:
        self.loop.run()

    def stop(self) -> None:
        self.loop.quit()

    def close(self) -> None:
        """Remove still-queued callables so none runs in a later loop of this process."""
        with self._lock:
            self._closed = True
            pending, self._pending = self._pending, set()
        for source_id in pending:
            GLib.source_remove(source_id)


def run(
    async_fn: Callable[..., Awaitable[T]],
    *args: Any,
    priority: int = PRIORITY,
    host: Optional[GLibHost] = None,
    **kwargs: Any,
) -> T:
    """Run ``async_fn(*args)`` as a guest of the GLib default main loop and return its result.

    Create your GTK windows inside ``async_fn`` (or before); connect their close signal to
    cancelling the main task (``asyncio.current_task()``) so the guest ends cleanly.
    """
    host = host if host is not None else GLibHost(priority)
    try:
        return run_on_host(host, async_fn, *args, **kwargs)
    finally:
        host.close()
