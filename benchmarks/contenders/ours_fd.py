"""Variants of our contenders, for measuring the design levers (not shown by default).

* ``*-fd``: the core's thread-free mode. The host watches the poller's file descriptor
  itself (Tk ``createfilehandler``, a GLib unix-fd source, a Qt ``QSocketNotifier``), so
  no worker thread and no cross-thread post are involved. The adapters in
  ``asyncio_guest.hosts`` do not offer ``wait_readable`` (yet); these benchmark-only
  subclasses add it, to show what it would buy.
* ``*-thread``: the adapter forced to the worker-thread mode (``wait_readable=None``), for
  adapters that default to the thread-free mode.
* ``*-plain``: time-sliced batching and the inline wait switched off (one loop iteration
  per host callback; the wait mode stays the adapter's default).

``wait_readable(fd, timeout, fn) -> cancel`` calls ``fn()`` once, on the host thread,
when ``fd`` is readable or ``timeout`` seconds have passed (None: no timeout).
"""

from __future__ import annotations

import asyncio
import math
from typing import Any, Callable, Optional

from contenders._base import AsyncFn
from contenders.ours import OursGtk, OursMinimal, OursQt, OursTk
from contenders.qt import qt_app

Cancel = Callable[[], None]


def _timeout_ms(timeout: Optional[float]) -> Optional[int]:
    # Round up: a toolkit timer that fires before the asyncio deadline would only
    # cost an extra empty iteration and a re-arm.
    return None if timeout is None else max(0, math.ceil(timeout * 1000))


def _with_options(async_fn: AsyncFn, options: dict[str, Any]) -> AsyncFn:
    async def wrapped() -> Any:
        loop = asyncio.get_running_loop()
        for key, value in options.items():
            setattr(loop, f"guest_{key}", value)
        return await async_fn()

    return wrapped


PLAIN = {"time_slice": 0.0, "inline_wait": 0.0}


class OursMinimalPlain(OursMinimal):
    name = "ours-minimal-plain"

    def run(self, async_fn: AsyncFn) -> Any:
        return super().run(_with_options(async_fn, PLAIN))


class OursTkPlain(OursTk):
    name = "ours-tk-plain"

    def run(self, async_fn: AsyncFn) -> Any:
        return super().run(_with_options(async_fn, PLAIN))


class OursMinimalThread(OursMinimal):
    name = "ours-minimal-thread"
    thread_free = False


class OursTkThread(OursTk):
    name = "ours-tk-thread"
    run_kwargs = {"wait_readable": None}


class OursQtThread(OursQt):
    name = "ours-qt-thread"
    run_kwargs = {"wait_readable": None}


class OursGtkThread(OursGtk):
    name = "ours-gtk-thread"
    run_kwargs = {"wait_readable": None}


class OursTkFd(OursTk):
    name = "ours-tk-fd"

    def run(self, async_fn: AsyncFn) -> Any:
        import tkinter

        from asyncio_guest.hosts import tk as tk_host
        from contenders.tk import new_root

        self.root = root = new_root()
        tk = root.tk

        def wait_readable(fd: int, timeout: Optional[float], fn: Callable[[], object]) -> Cancel:
            state: dict[str, Any] = {"done": False, "after": None}

            def fire(*_: object) -> None:
                if state["done"]:
                    return
                state["done"] = True
                tk.deletefilehandler(fd)
                if state["after"] is not None:
                    root.after_cancel(state["after"])
                fn()

            def cancel() -> None:
                if not state["done"]:
                    state["done"] = True
                    tk.deletefilehandler(fd)
                    if state["after"] is not None:
                        root.after_cancel(state["after"])

            tk.createfilehandler(fd, tkinter.READABLE, fire)
            ms = _timeout_ms(timeout)
            if ms is not None:
                state["after"] = root.after(ms, fire)
            return cancel

        host = tk_host.TkHost(root)
        host.wait_readable = wait_readable  # type: ignore[attr-defined]
        from asyncio_guest.hosts._base import run_on_host

        try:
            return run_on_host(host, async_fn)
        finally:
            host.close()
            root.destroy()
            self.root = None


class OursGtkFd(OursGtk):
    name = "ours-gtk-fd"

    def run(self, async_fn: AsyncFn) -> Any:
        from gi.repository import GLib

        from asyncio_guest.hosts import gtk as gtk_host
        from asyncio_guest.hosts._base import run_on_host
        from contenders.glib import gtk_window

        def wait_readable(fd: int, timeout: Optional[float], fn: Callable[[], object]) -> Cancel:
            ids: list[int] = []

            def fire(*_: object) -> bool:
                for source_id in ids:
                    GLib.source_remove(source_id)
                ids.clear()
                fn()
                return GLib.SOURCE_REMOVE

            def cancel() -> None:
                for source_id in ids:
                    GLib.source_remove(source_id)
                ids.clear()

            # Idle priority like the adapter's posts: input and redraws come first.
            ids.append(GLib.unix_fd_add_full(gtk_host.PRIORITY, fd, GLib.IOCondition.IN, fire))
            ms = _timeout_ms(timeout)
            if ms is not None:
                ids.append(GLib.timeout_add(ms, fire, priority=gtk_host.PRIORITY))
            return cancel

        window = gtk_window()
        host = gtk_host.GLibHost()
        host.wait_readable = wait_readable  # type: ignore[attr-defined]
        try:
            return run_on_host(host, async_fn)
        finally:
            host.close()
            window.destroy()


class OursQtFd(OursQt):
    name = "ours-qt-fd"

    def run(self, async_fn: AsyncFn) -> Any:
        from PySide6.QtCore import QSocketNotifier, Qt, QTimer

        from asyncio_guest.hosts import qt as qt_host
        from asyncio_guest.hosts._base import run_on_host

        qt_app()
        # One notifier and one timer, re-armed for every wait (the poller fd never changes
        # during a run); creating Qt objects per wait would cost more than the wait.
        notifiers: dict[int, Any] = {}
        timer = QTimer()
        timer.setSingleShot(True)
        timer.setTimerType(Qt.TimerType.PreciseTimer)
        current: list[Optional[Callable[[], object]]] = [None]

        def fire(*_: object) -> None:
            fn = current[0]
            if fn is None:
                return
            current[0] = None
            for notifier in notifiers.values():
                notifier.setEnabled(False)
            timer.stop()
            fn()

        timer.timeout.connect(fire)

        def wait_readable(fd: int, timeout: Optional[float], fn: Callable[[], object]) -> Cancel:
            notifier = notifiers.get(fd)
            if notifier is None:
                notifier = notifiers[fd] = QSocketNotifier(fd, QSocketNotifier.Type.Read)
                notifier.activated.connect(fire)
            current[0] = fn
            notifier.setEnabled(True)
            ms = _timeout_ms(timeout)
            if ms is not None:
                timer.start(ms)

            def cancel() -> None:
                if current[0] is fn:
                    current[0] = None
                    notifier.setEnabled(False)
                    timer.stop()

            return cancel

        host = qt_host.QtHost("PySide6")
        host.wait_readable = wait_readable  # type: ignore[attr-defined]
        try:
            return run_on_host(host, async_fn)
        finally:
            host.close()
            for notifier in notifiers.values():
                notifier.setEnabled(False)
            timer.stop()
