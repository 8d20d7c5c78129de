"""PyGObject's own asyncio loop (``gi.events``), plus GLib/GTK helpers."""

from __future__ import annotations

import asyncio
import os
from typing import Any, Callable, Optional

from contenders._base import AsyncFn, Contender, ms


def gtk_window() -> Any:
    """A small shown GTK 3 window, so the GLib loop runs a real GUI."""
    import gi

    gi.require_version("Gtk", "3.0")
    from gi.repository import Gtk

    if not os.environ.get("DISPLAY") or not Gtk.init_check()[0]:
        raise RuntimeError("GTK needs a display (run under xvfb-run)")
    window = Gtk.Window(title="asyncio-guest benchmark")
    window.add(Gtk.Label(label="asyncio-guest benchmark"))
    window.show_all()
    return window


def glib_call_later(delay: Optional[float], fn: Callable[[], object]) -> None:
    """``delay=None``: ``GLib.idle_add`` (GLib's "run soon"); else a timeout source."""
    from gi.repository import GLib

    def once() -> bool:
        fn()
        return GLib.SOURCE_REMOVE

    if delay is None:
        GLib.idle_add(once)
    else:
        GLib.timeout_add(ms(delay), once)


class GiEvents(Contender):
    name = "gi-events"
    needs_display = True
    requires = ("gi", "gi.events")

    def run(self, async_fn: AsyncFn) -> Any:
        from gi.events import GLibEventLoop
        from gi.repository import GLib

        window = gtk_window()
        # The main thread's loop is the one of the default GLib main context: what
        # GLibEventLoopPolicy().get_event_loop() returns there, built without the event-loop
        # policy system (deprecated in Python 3.14). asyncio.run's new_event_loop() would
        # make a loop on a new context, which the GTK window does not use.
        loop = GLibEventLoop(GLib.MainContext.default())
        try:
            asyncio.set_event_loop(loop)
            try:
                return loop.run_until_complete(async_fn())
            finally:
                loop.run_until_complete(loop.shutdown_asyncgens())
                asyncio.set_event_loop(None)
                loop.close()
        finally:
            window.destroy()

    def post_host(self, fn: Callable[[], object]) -> None:
        glib_call_later(None, fn)

    def call_later_host(self, delay: float, fn: Callable[[], object]) -> None:
        glib_call_later(delay, fn)
