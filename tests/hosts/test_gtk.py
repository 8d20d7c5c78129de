"""GTK 3 and GTK 4 (PyGObject) hosts under Xvfb: real GTK, real sockets, the real samples.

GTK 3 and GTK 4 cannot be loaded into one process, so each version runs in its own child
(this file as a script: ``python test_gtk.py 3``) through the scenarios of ``conftest.py``.
Clicks emit the buttons' ``clicked`` signal (what a pointer click emits); the dialog is
answered with ``response(OK)`` (what its OK button does); closing uses ``Gtk.Window.close()``,
which goes through the same ``delete-event`` / ``close-request`` path as the title bar's
close button.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from typing import Any, Awaitable, Callable

import pytest

HERE = Path(__file__).resolve()
SCENARIOS = ["download", "cancel", "modal", "cadence", "close"]
_cache: dict[str, dict[str, Any]] = {}


def _results(version: str) -> dict[str, Any]:
    from conftest import run_child

    if version not in _cache:
        _cache[version] = run_child(HERE, version)
    return _cache[version]


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_gtk3(scenario: str) -> None:
    from conftest import check_scenario

    check_scenario(_results("3"), scenario)


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_gtk4(scenario: str) -> None:
    from conftest import check_scenario

    check_scenario(_results("4"), scenario)


# --------------------------------------------------------------------------- child


def _driver(version: str) -> Any:
    import gi

    gi.require_version("Gtk", f"{version}.0")
    from gi.repository import GLib, Gtk

    from asyncio_guest.hosts import gtk as gtk_host

    sample = importlib.import_module(f"asyncio_guest.samples.gtk{version}_app")
    from conftest import Driver

    def iterate() -> None:
        context = GLib.MainContext.default()
        while context.pending():
            context.iteration(False)

    class GtkDriver(Driver):
        name = f"gtk{version}"

        def make_app(self, **kw: Any) -> Any:
            cls = sample.Gtk3App if version == "3" else sample.Gtk4App
            return cls(**kw)

        def click(self, app: Any, which: str) -> None:
            if which == "dialog_ok":
                app.dialog.response(Gtk.ResponseType.OK)
                return
            button = {
                "download": app.download_button,
                "cancel": app.cancel_button,
                "dialog": app.dialog_button,
            }[which]
            assert button.get_sensitive(), f"{which} button is disabled"
            button.emit("clicked")

        def dialog_open(self, app: Any) -> bool:
            return app.dialog is not None and bool(app.dialog.get_visible())

        def status_text(self, app: Any) -> str:
            return str(app.status_label.get_text())

        def close_window(self, app: Any) -> None:
            app.window.close()

        def destroy_app(self, app: Any) -> None:
            app.window.destroy()
            iterate()

        def run_guest(self, app: Any, async_fn: Callable[[], Awaitable[Any]]) -> Any:
            return gtk_host.run(async_fn)

        def call_later(self, app: Any, seconds: float, fn: Callable[[], object]) -> None:
            GLib.timeout_add(int(seconds * 1000), lambda: fn() and False)

        def start_timer(self, app: Any, ms: int, fn: Callable[[], object]) -> Callable[[], None]:
            source = GLib.timeout_add(ms, lambda: fn() or True)
            return lambda: GLib.source_remove(source)

        def warm_up(self, app: Any) -> None:
            iterate()

    return GtkDriver()


if __name__ == "__main__":
    sys.path.insert(0, str(HERE.parent))
    from conftest import child_main

    child_main(_driver(sys.argv[1]), sys.argv[2:] or None)


# --------------------------------------------------------------------------- GLib host unit tests
# (GLib only, no GTK and no display: these run in the pytest process)


def test_glib_host_threadsafe_post_wakes_a_blocked_loop() -> None:
    import threading

    from asyncio_guest.hosts.gtk import GLibHost

    host = GLibHost()
    ran: list[str] = []

    def from_thread() -> None:
        host.run_sync_soon_threadsafe(lambda: (ran.append("a"), host.stop()))

    timer = threading.Timer(0.05, from_thread)
    timer.start()
    host.mainloop()  # blocks until the posted callable stops it
    timer.join()
    host.close()
    assert ran == ["a"]


def test_glib_host_posts_run_in_order_never_inline() -> None:
    from asyncio_guest.hosts.gtk import GLibHost

    host = GLibHost()
    ran: list[int] = []

    def first() -> None:
        ran.append(1)
        host.run_sync_soon_not_threadsafe(lambda: (ran.append(3), host.stop()))
        ran.append(2)  # the post above must not have run inline

    host.run_sync_soon_not_threadsafe(first)
    host.mainloop()
    host.close()
    assert ran == [1, 2, 3]


def test_glib_host_nothing_runs_after_close() -> None:
    from gi.repository import GLib

    from asyncio_guest.hosts.gtk import GLibHost

    host = GLibHost()
    ran: list[str] = []
    host.run_sync_soon_threadsafe(lambda: ran.append("late"))
    host.close()
    context = GLib.MainContext.default()
    while context.pending():
        context.iteration(False)
    assert ran == []
    with pytest.raises(RuntimeError, match="closed"):
        host.run_sync_soon_threadsafe(lambda: None)


def test_glib_host_bad_priority() -> None:
    from asyncio_guest.hosts.gtk import GLibHost

    with pytest.raises(TypeError):
        GLibHost(priority="high")  # type: ignore[arg-type]
