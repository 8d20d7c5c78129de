"""The quit contract and the run() misuse rows, on every windowed host, in both wait modes.

Each (host, mode) runs in one child interpreter (this file as a script) with a real headless
GUI; every row there records what ``hosts.<name>.run`` returned or raised, whether the main
task's ``finally`` ran, and what the run left behind (tests/_support/leaks.py).  The parent
asserts the contract: a quit returns None, a caught cancellation returns its value, other
exceptions propagate, bad arguments fail with the message naming the adapter's API before
any window exists, and nothing leaks (no fd, thread, signal handler, wakeup fd, asyncgen
hook or running loop; no ResourceWarning; no "Task was destroyed").
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import sys
import traceback
import warnings
from pathlib import Path
from typing import Any, Callable, Optional

HERE = Path(__file__).resolve()
sys.path.insert(0, str(HERE.parents[2]))

import pytest  # noqa: E402

from tests._support.child import run_child  # noqa: E402

HOSTS = ["tk", "gtk3", "gtk4", "pygame", "PySide6", "PyQt6", "PyQt5"]
MODES = ["thread_free", "worker"]
QUIT_ROWS = ["close_button", "destroy_from_callback", "quit_from_callback", "destroy_from_task",
             "quit_from_task"]  # fmt: skip
MISUSE = {
    "coroutine_object": "{api}() expects an async function and its arguments, not a coroutine "
    "object: use {api}(fn, arg) instead of {api}(fn(arg))",
    "sync_callable": "{api}() expects an async function; ",
    "keyword_argument": "{api}() got unexpected keyword argument(s) 'x': it passes only "
    "positional arguments to the async function; for keyword arguments use functools.partial",
}
API = {"tk": "hosts.tk.run", "gtk3": "hosts.gtk.run", "gtk4": "hosts.gtk.run",
       "pygame": "hosts.pygame_host.run", "PySide6": "hosts.qt.run", "PyQt6": "hosts.qt.run",
       "PyQt5": "hosts.qt.run"}  # fmt: skip
MODULE = {"tk": "tkinter", "gtk3": "gi", "gtk4": "gi", "pygame": "pygame", "PySide6": "PySide6",
          "PyQt6": "PyQt6", "PyQt5": "PyQt5"}  # fmt: skip

#: Qt and SDL without a window system of their own (Tk, GTK and wx use the Xvfb display).
HEADLESS = {"QT_QPA_PLATFORM": "offscreen", "SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy"}
_cache: dict[tuple[str, str], dict[str, Any]] = {}


def _results(host: str, mode: str) -> dict[str, Any]:
    if importlib.util.find_spec(MODULE[host]) is None:
        if os.environ.get("CI"):
            raise AssertionError(f"{MODULE[host]} is not installed (CI installs every toolkit)")
        pytest.skip(f"{MODULE[host]} is not installed in this Python")
    if (host, mode) not in _cache:
        _cache[host, mode] = run_child(HERE, host, mode, timeout=200, extra_env=HEADLESS)
    return _cache[host, mode]


def _row(host: str, mode: str, row: str) -> dict[str, Any]:
    data = _results(host, mode)
    assert "Task was destroyed" not in data["_stderr"], data["_stderr"]
    assert "ResourceWarning" not in data["_stderr"], data["_stderr"]
    if row not in data:
        pytest.fail(f"row {row} did not run: {data}")
    got: dict[str, Any] = data[row]
    assert "crash" not in got, got["crash"]
    assert not got["left"], f"{row} left behind: {got['left']}"
    assert not got["warnings"], got["warnings"]
    return got


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("host", HOSTS)
@pytest.mark.parametrize("row", QUIT_ROWS)
def test_quit_ends_the_run_cleanly(host: str, mode: str, row: str) -> None:
    got = _row(host, mode, row)
    if got.get("not_applicable"):
        return  # see the child: the toolkit has no such call
    assert got["raised"] is None, got
    assert got["result"] == "None", got  # a quit is not an error
    assert got["finally_ran"], got


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("host", HOSTS)
def test_caught_cancellation_returns_its_value(host: str, mode: str) -> None:
    got = _row(host, mode, "caught_cancellation")
    assert got["raised"] is None and got["result"] == "'caught'", got


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("host", HOSTS)
def test_other_exceptions_propagate(host: str, mode: str) -> None:
    got = _row(host, mode, "error")
    assert got["raised"] == "ValueError: boom", got
    assert got["finally_ran"], got


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("host", HOSTS)
@pytest.mark.parametrize("row", sorted(MISUSE))
def test_bad_arguments_fail_before_any_window(host: str, mode: str, row: str) -> None:
    got = _row(host, mode, row)
    assert got["raised"] is not None and got["raised"].startswith("TypeError: "), got
    assert MISUSE[row].format(api=API[host]) in got["raised"], got
    assert got["windows_before_error"] == 0, got


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("host", ["tk", "gtk3", "gtk4", "PySide6", "PyQt6", "PyQt5"])
def test_main_returning_under_a_modal_dialog_ends_promptly(host: str, mode: str) -> None:
    got = _row(host, mode, "modal_open_at_exit")
    assert got["raised"] is None and got["result"] == "'returned'", got
    assert got["seconds"] < 3, got  # the dialog would otherwise wait for a human


# --------------------------------------------------------------------------- child


class Kit:
    """How one toolkit opens a window, closes it, destroys it, quits, and runs a callback."""

    api = ""

    def run(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any: ...
    def open_window(self) -> Any: ...
    def windows(self) -> int: ...
    def close_button(self, w: Any) -> None: ...
    def destroy(self, w: Any) -> None: ...
    def quit(self) -> Optional[bool]: ...
    def call_later(self, ms: int, fn: Callable[[], object]) -> Optional[bool]: ...
    def modal(self, w: Any) -> Optional[Callable[[], Any]]:
        return None

    def settle(self) -> None:
        """Bring the toolkit back to its running state before the next row is counted."""


def _tk_kit(thread_free: bool) -> Kit:
    import tkinter

    from asyncio_guest.hosts import tk as tk_host

    class TkKit(Kit):
        def run(self, fn: Any, *a: Any, **kw: Any) -> Any:
            return tk_host.run(fn, *a, thread_free=thread_free, **kw)

        def open_window(self) -> Any:
            return tkinter._default_root  # type: ignore[attr-defined]

        def windows(self) -> int:
            return 0 if tkinter._default_root is None else 1  # type: ignore[attr-defined]

        def close_button(self, w: Any) -> None:
            # What the window manager does: run the WM_DELETE_WINDOW protocol handler.
            w.tk.call(w.protocol("WM_DELETE_WINDOW"))

        def destroy(self, w: Any) -> None:
            w.destroy()

        def quit(self) -> bool:
            tkinter._default_root.quit()  # type: ignore[attr-defined]
            return True

        def call_later(self, ms: int, fn: Callable[[], object]) -> bool:
            tkinter._default_root.after(ms, fn)  # type: ignore[attr-defined]
            return True

        def modal(self, w: Any) -> Callable[[], Any]:
            def dialog() -> str:
                top = tkinter.Toplevel(w)
                top.wait_visibility()
                top.grab_set()
                w.wait_window(top)
                return "closed"

            return dialog

    return TkKit()


def _gtk_kit(version: str, thread_free: bool) -> Kit:
    import gi

    gi.require_version("Gtk", version)
    from gi.repository import GLib, Gtk

    from asyncio_guest.hosts import gtk as gtk_host

    gtk3 = version == "3.0"

    class GtkKit(Kit):
        def run(self, fn: Any, *a: Any, **kw: Any) -> Any:
            return gtk_host.run(fn, *a, thread_free=thread_free, **kw)

        def open_window(self) -> Any:
            w = Gtk.Window(title="quit contract")
            w.show_all() if gtk3 else w.present()
            return w

        def windows(self) -> int:
            if gtk3:
                return sum(1 for w in Gtk.Window.list_toplevels() if w.get_visible())
            model = Gtk.Window.get_toplevels()
            return sum(1 for i in range(model.get_n_items()) if model.get_item(i).get_visible())

        def close_button(self, w: Any) -> None:
            w.close()  # what the title bar's close button does (delete-event / close-request)

        def destroy(self, w: Any) -> None:
            w.destroy()

        def quit(self) -> None:
            return None  # GTK has no app-wide quit call outside Gtk.Application

        def call_later(self, ms: int, fn: Callable[[], object]) -> bool:
            GLib.timeout_add(ms, lambda: fn() and False)
            return True

        def modal(self, w: Any) -> Callable[[], Any]:
            def dialog() -> str:
                d = Gtk.MessageDialog(transient_for=w, modal=True, text="modal")
                if gtk3:
                    d.run()
                else:
                    loop = GLib.MainLoop()
                    d.connect("response", lambda *_: loop.quit())
                    d.present()
                    loop.run()
                d.destroy()
                return "closed"

            return dialog

    return GtkKit()


def _pygame_kit(thread_free: bool) -> Kit:
    import pygame

    from asyncio_guest.hosts import pygame_host

    class PygameKit(Kit):
        def run(self, fn: Any, *a: Any, **kw: Any) -> Any:
            return pygame_host.run(fn, *a, **kw)  # no fd watch in pygame: always the worker

        def open_window(self) -> Any:
            return pygame.display.set_mode((120, 80))

        def windows(self) -> int:
            return int(pygame.display.get_init() and pygame.display.get_surface() is not None)

        def close_button(self, w: Any) -> None:
            pygame.event.post(pygame.event.Event(pygame.QUIT))

        def destroy(self, w: Any) -> None:
            pygame.display.quit()

        def quit(self) -> bool:
            pygame.quit()
            return True

        def call_later(self, ms: int, fn: Callable[[], object]) -> None:
            return None  # pygame has no host timers; its loop is the app's own

        def settle(self) -> None:
            # A quit row ended SDL: start it again (its X connection and threads are SDL's).
            if not pygame.display.get_init():
                pygame.init()
                pygame.display.set_mode((120, 80))

    return PygameKit()


def _qt_kit(binding: str, thread_free: bool) -> Kit:
    import importlib

    QtCore = importlib.import_module(binding + ".QtCore")
    QtWidgets = importlib.import_module(binding + ".QtWidgets")
    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication([])
    _keep.append(app)

    from asyncio_guest.hosts import qt as qt_host

    class QtKit(Kit):
        def run(self, fn: Any, *a: Any, **kw: Any) -> Any:
            return qt_host.run(fn, *a, binding=binding, thread_free=thread_free, **kw)

        def open_window(self) -> Any:
            w = QtWidgets.QWidget()
            w.show()
            return w

        def windows(self) -> int:
            return sum(1 for w in app.topLevelWidgets() if w.isVisible())

        def close_button(self, w: Any) -> None:
            w.close()

        def destroy(self, w: Any) -> None:
            w.close()
            w.deleteLater()

        def quit(self) -> bool:
            app.quit()
            return True

        def call_later(self, ms: int, fn: Callable[[], object]) -> bool:
            QtCore.QTimer.singleShot(ms, fn)
            return True

        def modal(self, w: Any) -> Callable[[], Any]:
            d = QtWidgets.QDialog(w)
            return getattr(d, "exec", None) or d.exec_

    return QtKit()


_keep: list[Any] = []


def _child(host: str, mode: str) -> None:
    import faulthandler
    import time

    from tests._support.leaks import snapshot

    faulthandler.dump_traceback_later(150, exit=True)
    thread_free = mode == "thread_free"
    if host == "tk":
        kit = _tk_kit(thread_free)
    elif host.startswith("gtk"):
        kit = _gtk_kit(host[-1] + ".0", thread_free)
    elif host == "pygame":
        kit = _pygame_kit(thread_free)
    else:
        kit = _qt_kit(host, thread_free)
    import asyncio_guest

    results: dict[str, Any] = {}
    flags: dict[str, Any] = {}

    async def quitting(how: str) -> str:
        w = kit.open_window()
        try:
            await asyncio.sleep(0.1)
            if how == "close_button":
                kit.close_button(w)
            elif how == "destroy_from_callback":
                kit.call_later(20, lambda: kit.destroy(w))
            elif how == "quit_from_callback":
                kit.call_later(20, kit.quit)
            elif how == "destroy_from_task":
                kit.destroy(w)
            elif how == "quit_from_task":
                kit.quit()
            await asyncio.sleep(30)
            return "not quit"
        finally:
            flags["finally"] = True

    async def caught() -> str:
        w = kit.open_window()
        await asyncio.sleep(0.1)
        kit.close_button(w)
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            return "caught"
        return "not quit"

    async def error() -> None:
        w = kit.open_window()  # kept: a collected Qt window counts as closed
        try:
            await asyncio.sleep(0.05)
            raise ValueError("boom")
        finally:
            flags["finally"] = True
            del w

    async def modal_open_at_exit() -> str:
        w = kit.open_window()
        dialog = kit.modal(w)
        if dialog is None:
            return "returned"
        dialog_task = asyncio.ensure_future(asyncio_guest.modal(dialog))
        await asyncio.sleep(0.3)
        assert not dialog_task.done()
        return "returned"

    async def fine() -> None:
        pass

    def applicable(row: str) -> bool:
        if row.startswith("quit") and host.startswith("gtk"):
            return False  # GTK has no app-wide quit call outside Gtk.Application
        if row.endswith("from_callback") and host == "pygame":
            return False
        return True

    # The toolkit's quit call comes last: it ends an app, and Qt 5 stops emitting
    # lastWindowClosed for the rest of the process once QApplication.quit() ran.
    closing = [r for r in QUIT_ROWS if not r.startswith("quit")]
    quitting_rows = [r for r in QUIT_ROWS if r.startswith("quit")]
    rows: dict[str, Callable[[], Any]] = {
        **{r: (lambda r=r: kit.run(quitting, r)) for r in closing},
        "caught_cancellation": lambda: kit.run(caught),
        "error": lambda: kit.run(error),
        "coroutine_object": lambda: kit.run(fine()),
        "sync_callable": lambda: kit.run(lambda: 1),
        "keyword_argument": lambda: kit.run(fine, x=1),
        "modal_open_at_exit": lambda: kit.run(modal_open_at_exit),
        **{r: (lambda r=r: kit.run(quitting, r)) for r in quitting_rows},
    }
    # Warm-up: fonts, X connections and toolkit threads open lazily and are not leaks.
    kit.run(fine)
    kit.run(quitting, "close_button")
    for name, call in rows.items():
        flags.clear()
        if name in QUIT_ROWS and not applicable(name):
            results[name] = {"not_applicable": True, "left": [], "warnings": []}
            continue
        kit.settle()
        before = snapshot()
        windows = kit.windows()
        started = time.monotonic()
        row: dict[str, Any] = {"result": None, "raised": None}
        with warnings.catch_warnings(record=True) as caught_warnings:
            warnings.simplefilter("always")
            try:
                row["result"] = repr(call())
            except BaseException as exc:
                row["raised"] = f"{type(exc).__name__}: {exc}"
                row["windows_before_error"] = kit.windows() - windows
                if not isinstance(exc, (TypeError, ValueError)):
                    row["crash"] = traceback.format_exc()
                exc = None  # type: ignore[assignment]
        row["seconds"] = round(time.monotonic() - started, 3)
        row["finally_ran"] = bool(flags.get("finally"))
        row["warnings"] = [
            str(w.message)
            for w in caught_warnings
            if not (name == "coroutine_object" and "was never awaited" in str(w.message))
        ]
        row["left"] = before.diff(snapshot())
        results[name] = row
    print("RESULT " + json.dumps(results), flush=True)
    faulthandler.cancel_dump_traceback_later()


if __name__ == "__main__":
    _child(sys.argv[1], sys.argv[2])
