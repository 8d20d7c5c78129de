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

Quitting: :func:`run` cancels the main task when the last GTK window is destroyed (the close
button's default, ``Gtk.Window.close()`` or ``destroy()``), and :meth:`GLibHost.stop` ends
the modal dialogs still up (``Dialog.run()`` and dialogs waited on by a nested loop: they get
a ``DELETE_EVENT`` response), so a run that ends while one is open ends at once.
"""

from __future__ import annotations

import contextlib
import math
import sys
import threading
from typing import Any, Awaitable, Callable, Iterator, Optional, TypeVar

from gi.repository import GLib, GObject

from asyncio_guest.hosts._base import HostBase, run_adapter, wait_readable_once

__all__ = ["PRIORITY", "GLibHost", "run"]

T = TypeVar("T")

#: Priority of guest ticks: below input, timers and redraws (see the module docstring).
PRIORITY = GLib.PRIORITY_DEFAULT_IDLE


class GLibHost(HostBase):
    """Host adapter for the GLib default main context (GTK 3 or GTK 4)."""

    host_uses_signal_set_wakeup_fd = True

    def __init__(self, priority: int = PRIORITY, thread_free: bool = True) -> None:
        if not isinstance(priority, int):
            raise TypeError("priority must be an int (a GLib priority)")
        if not isinstance(thread_free, bool):
            raise TypeError(f"thread_free must be a bool, got {thread_free!r}")
        if thread_free:
            self.wait_readable = self._wait_readable
        self.end_nested_loops = _end_modal_dialogs
        self.priority = priority
        self.loop = GLib.MainLoop()
        # GLib's idle sources are the FIFO (same priority: run in order of addition); the
        # ids are kept only so close() can remove what has not run yet.
        self._lock = threading.Lock()
        self._pending: set[int] = set()
        self._closed = False

    def _dispatch(self, fn: Callable[[], object], box: list[int]) -> bool:
        with self._lock:
            self._pending.discard(box[0])
        if not self._closed:
            self.call(fn)
        # Always remove the source: an idle source that returns True would run forever.
        return False  # GLib.SOURCE_REMOVE

    def run_sync_soon_threadsafe(self, fn: Callable[[], object]) -> None:
        box: list[int] = [0]
        with self._lock:
            # Under the lock so _dispatch (which takes it first) sees the id it must discard.
            if self._closed:
                raise RuntimeError("the GLib host is closed; the callback cannot run")
            box[0] = GLib.idle_add(self._dispatch, fn, box, priority=self.priority)
            self._pending.add(box[0])

    run_sync_soon_not_threadsafe = run_sync_soon_threadsafe

    def _wait_readable(
        self, fd: int, timeout: Optional[float], fn: Callable[[], object]
    ) -> Callable[[], None]:
        """Thread-free mode: a unix-fd source on the guest poller's descriptor, plus
        a timeout source, both at the ticks' priority (so they yield to the GUI)."""

        def once(cb: Callable[[], None]) -> Callable[..., bool]:
            def callback(*_: object) -> bool:
                self.call(cb)
                return False  # GLib.SOURCE_REMOVE: the wait is one-shot

            return callback

        def watch_fd(cb: Callable[[], None]) -> Callable[[], None]:
            source = GLib.unix_fd_add_full(self.priority, fd, GLib.IOCondition.IN, once(cb))
            return lambda: GLib.source_remove(source)

        def call_later(delay: float, cb: Callable[[], None]) -> Callable[[], None]:
            # Milliseconds, rounded up: a timer that fires early only costs a re-wait.
            ms = max(0, math.ceil(delay * 1000))
            source = GLib.timeout_add(ms, once(cb), priority=self.priority)
            return lambda: GLib.source_remove(source)

        return wait_readable_once(fn, timeout, watch_fd, call_later)

    def mainloop(self) -> None:
        self.loop.run()
        self.raise_pending_error()

    def stop(self) -> None:
        self.loop.quit()
        if GLib.main_depth() > 1:
            _end_modal_dialogs()

    def close(self) -> None:
        """Remove still-queued callables so none runs in a later loop of this process."""
        with self._lock:
            self._closed = True
            pending, self._pending = self._pending, set()
        for source_id in pending:
            GLib.source_remove(source_id)


def _gtk() -> Any:
    return sys.modules.get("gi.repository.Gtk")


def _toplevels(Gtk: Any) -> list[Any]:
    if hasattr(Gtk.Window, "list_toplevels"):  # GTK 3
        return list(Gtk.Window.list_toplevels())
    model = Gtk.Window.get_toplevels()  # GTK 4: a GListModel
    return [model.get_item(i) for i in range(model.get_n_items())]


def _end_modal_dialogs() -> None:
    """Answer every modal dialog with DELETE_EVENT (what closing it does), which ends
    ``Dialog.run()`` and the nested loops that wait for a response; other modal windows
    are closed."""
    Gtk = _gtk()
    if Gtk is None:
        return
    for window in _toplevels(Gtk):
        if not window.get_modal():
            continue
        if isinstance(window, Gtk.Dialog):
            window.response(Gtk.ResponseType.DELETE_EVENT)
        else:
            window.close()


def run(
    async_fn: Callable[..., Awaitable[T]],
    *args: Any,
    priority: int = PRIORITY,
    host: Optional[GLibHost] = None,
    thread_free: bool = True,
    **kwargs: Any,
) -> Optional[T]:
    """Run ``async_fn(*args)`` as a guest of the GLib default main loop and return its result.

    Create your GTK windows inside ``async_fn`` (or before).  Quitting follows the contract
    of :mod:`asyncio_guest.hosts`: when the last GTK window is destroyed (its close button,
    ``close()``, ``destroy()``) the main task is cancelled, and a quit returns ``None``.

    Raises:
        TypeError: ``async_fn`` is a coroutine object or not an async function, or a
            keyword argument other than the documented ones was given (pass keyword
            arguments to ``async_fn`` with ``functools.partial``). Raised before any
            window is created.
        KeyboardInterrupt: Ctrl+C ended the run (after the guest's cleanup).
        Exception: whatever the main task raised, other than the cancellation of a quit.

    Example:
        ```python
        async def main() -> None:
            label = Gtk.Label(label="0")
            Gtk.Window(child=label).present()  # GTK 4
            for n in range(100):
                await asyncio.sleep(0.1)
                label.set_text(str(n))

        asyncio_guest.hosts.gtk.run(main)  # None if the window was closed
        ```
    """
    return run_adapter(
        "hosts.gtk.run",
        async_fn,
        args,
        kwargs,
        lambda: host if host is not None else GLibHost(priority, thread_free),
        watch_quit=_last_window_quits,
    )


@contextlib.contextmanager
def _last_window_quits(host: GLibHost, cancel: Callable[[], None]) -> Iterator[None]:
    """While the main task runs, the last GTK window leaving the screen cancels it."""
    Gtk = _gtk()
    if Gtk is None:  # GLib without GTK: no windows
        yield
        return

    def check_last_window(*_: Any) -> bool:
        # The last window going away is the app quitting: none is left on screen.
        if not any(w.get_visible() for w in _toplevels(Gtk)):
            cancel()
        return False

    # A window leaving the screen ("destroy" takes no emission hooks), checked once the
    # destroy or hide that unmapped it is complete.  The class must exist for its signal
    # to be found (GTK 4 creates it with the first window).
    GObject.type_class_ref(Gtk.Window.__gtype__)
    hook = GObject.add_emission_hook(
        Gtk.Widget, "unmap", lambda *_: GLib.idle_add(check_last_window) > 0
    )
    try:
        yield
    finally:
        GObject.remove_emission_hook(Gtk.Widget, "unmap", hook)
