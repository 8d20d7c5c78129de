"""The misuse matrix, per host and wait mode, with real headless GUIs.

One row per misuse; each asserts the exact message a user sees and that the row left nothing
behind (fds, threads, SIGINT handler, wakeup fd, asyncgen hooks, running loop) and that the
thread can host the next run.  Rows run in one child interpreter per (host, mode) (this file as
a script); ``run()``-level rows (bad arguments, quitting) are in test_quit_contract.py.
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
from typing import Any, Callable

HERE = Path(__file__).resolve()
sys.path.insert(0, str(HERE.parents[2]))

import pytest  # noqa: E402

from tests._support.child import run_child  # noqa: E402

HOSTS = ["tk", "gtk3", "gtk4", "pygame", "PySide6", "PyQt6", "PyQt5", "asyncio", "tornado",
         "win32"]  # fmt: skip
MODES = ["thread_free", "worker"]
MODULE = {"tk": "tkinter", "gtk3": "gi", "gtk4": "gi", "pygame": "pygame", "PySide6": "PySide6",
          "PyQt6": "PyQt6", "PyQt5": "PyQt5", "asyncio": "asyncio", "tornado": "tornado",
          "win32": "ctypes"}  # fmt: skip

#: row -> (exception type and the message a user sees, or None when the row must succeed).
ROWS: dict[str, tuple[str, str]] = {
    "inline_hook": ("RuntimeError", "never call it inline"),
    "already_active": ("RuntimeError", "a guest run is already active on this thread"),
    "loop_after_run": ("RuntimeError", "Event loop is closed"),
    "asyncio_run_inside": ("RuntimeError", "asyncio.run() cannot be called from a running"),
    "run_until_complete_inside": ("RuntimeError", "This event loop is already running"),
    "host_callback_raises": ("reported", "ValueError: host callback failed"),
    "done_callback_raises": ("reported", "ValueError: done_callback failed"),
    "host_stopped_from_task": ("returned", "None"),
    "hook_raises": ("OSError", "host queue is full"),
    "hook_drops": ("warned", "abandoned without properly finishing"),
    "selector_argument": ("TypeError", "GuestEventLoop always uses its own poller"),
    "selector_none": ("returned", "'ok'"),
    "trio_style_hook": ("returned", "'ok'"),
}
#: Rows whose run cannot finish (the host failed it): the core drops its pending tasks, and
#: asyncio prints "Task was destroyed but it is pending!" for them besides the error.
RUN_DIES = {"hook_raises", "hook_drops"}
#: Rows that do not apply to a host, with the reason.
NOT_APPLICABLE = {
    ("PyQt5", "host_callback_raises"): "PyQt aborts the process on an exception in a slot",
    ("PyQt6", "host_callback_raises"): "PyQt aborts the process on an exception in a slot",
    ("pygame", "host_callback_raises"): "pygame has no host timers: the app owns its loop",
    ("win32", "host_callback_raises"): "covered by test_win32_queue (fake window procedure)",
}
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


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("host", HOSTS)
@pytest.mark.parametrize("row", sorted(ROWS))
def test_misuse(host: str, mode: str, row: str) -> None:
    data = _results(host, mode)
    got = data[row]
    assert "ResourceWarning" not in got["stderr"], got["stderr"]
    assert "'_closed'" not in got["stderr"], got["stderr"]
    if row not in RUN_DIES:
        assert "Task was destroyed" not in got["stderr"], got["stderr"]
    if (host, row) in NOT_APPLICABLE or got.get("not_applicable"):
        return
    assert "crash" not in got, got["crash"]
    kind, message = ROWS[row]
    if kind == "returned":
        assert got["result"] == message, got
    elif kind == "reported":
        assert any(message in r for r in got["reported"]), got
    elif kind == "warned":
        assert any(message in w for w in got["warnings"]), got
    else:
        assert got["raised"] is not None and got["raised"].startswith(kind + ": "), got
        assert message in got["raised"], got
    assert not got["left"], f"{row} left behind: {got['left']}"
    assert got["next_run"] == "'usable'", got


# --------------------------------------------------------------------------- child


class Kit:
    """A host of one toolkit: ``make()`` a Host, run a guest on it, arm a host timer."""

    asyncio_host = False

    def make(self) -> Any: ...
    def timer(self, host: Any, ms: int, fn: Callable[[], object]) -> None: ...


def _kit(name: str, thread_free: bool) -> Kit:
    if name == "tk":
        import tkinter

        from asyncio_guest.hosts.tk import TkHost

        root = tkinter.Tk()
        _keep.append(root)

        class TkKit(Kit):
            def make(self) -> Any:
                return TkHost(root, thread_free)

            def timer(self, host: Any, ms: int, fn: Callable[[], object]) -> None:
                root.after(ms, fn)

        return TkKit()
    if name.startswith("gtk"):
        import gi

        gi.require_version("Gtk", name[-1] + ".0")
        from gi.repository import GLib, Gtk  # noqa: F401

        from asyncio_guest.hosts.gtk import GLibHost

        class GtkKit(Kit):
            def make(self) -> Any:
                return GLibHost(thread_free=thread_free)

            def timer(self, host: Any, ms: int, fn: Callable[[], object]) -> None:
                GLib.timeout_add(ms, lambda: fn() and False)

        return GtkKit()
    if name == "pygame":
        import pygame

        from asyncio_guest.hosts.pygame_host import PygameHost

        pygame.init()
        pygame.display.set_mode((100, 60))

        class PygameKit(Kit):
            def make(self) -> Any:
                return PygameHost()

        return PygameKit()
    if name in ("PySide6", "PyQt6", "PyQt5"):
        import importlib

        QtCore = importlib.import_module(name + ".QtCore")
        QtWidgets = importlib.import_module(name + ".QtWidgets")
        _keep.append(QtWidgets.QApplication.instance() or QtWidgets.QApplication([]))
        from asyncio_guest.hosts.qt import QtHost

        class QtKit(Kit):
            def make(self) -> Any:
                return QtHost(name, thread_free=thread_free)

            def timer(self, host: Any, ms: int, fn: Callable[[], object]) -> None:
                QtCore.QTimer.singleShot(ms, fn)

        return QtKit()
    if name in ("asyncio", "tornado"):

        class AsyncioKit(Kit):
            asyncio_host = True

            def make(self) -> Any:
                if name == "tornado":
                    from asyncio_guest.hosts.tornado_host import TornadoHost

                    return TornadoHost(thread_free=thread_free)
                from asyncio_guest.hosts.asyncio_host import AsyncioHost

                return AsyncioHost(thread_free=thread_free)

            def timer(self, host: Any, ms: int, fn: Callable[[], object]) -> None:
                host.loop.call_later(ms / 1000, fn)

        return AsyncioKit()
    # Win32 against the fake user32 of test_win32_queue.
    sys.path.insert(0, str(HERE.parent))
    from test_win32_queue import FakeKernel32, FakeUser32

    from asyncio_guest.hosts.win32 import Win32Host

    class Win32Kit(Kit):
        def make(self) -> Any:
            return Win32Host(user32=FakeUser32(), kernel32=FakeKernel32())

    return Win32Kit()


_keep: list[Any] = []


def _child(name: str, mode: str) -> None:
    import contextlib
    import faulthandler
    import functools
    import gc
    import logging
    import tempfile
    import threading
    from typing import Iterator

    import outcome

    import asyncio_guest
    from asyncio_guest.hosts._base import quit_outcome, start_on_host
    from tests._support.leaks import snapshot

    faulthandler.dump_traceback_later(150, exit=True)
    kit = _kit(name, mode == "thread_free")
    reported: list[str] = []
    sys.excepthook = lambda t, v, tb: reported.append(f"{t.__name__}: {v}")
    current_host: list[Any] = []

    class Reported(logging.Handler):
        # Tornado logs a failing callback ("Exception in callback ...") on tornado.application.
        def emit(self, record: logging.LogRecord) -> None:
            if record.exc_info and record.exc_info[1] is not None:
                exc = record.exc_info[1]
                reported.append(f"{type(exc).__name__}: {exc}")

    logging.getLogger("tornado").addHandler(Reported())
    tk_root = _keep[0] if name == "tk" else None
    if tk_root is not None:
        tk_root.report_callback_exception = lambda t, v, tb: reported.append(f"{t.__name__}: {v}")

    def run_guest(
        fn: Callable[..., Any],
        *args: Any,
        done: Any = None,
        same_thread_hook: Any = None,
        **kw: Any,
    ) -> Any:
        """Start fn as a guest of a new host and run that host until done; close it.
        ``same_thread_hook(host_hook)`` replaces the host's same-thread posting hook."""
        host = kit.make()
        current_host[:] = [host]
        if same_thread_hook is not None:
            host.run_sync_soon_not_threadsafe = same_thread_hook(host.run_sync_soon_not_threadsafe)
        tasks: list[asyncio.Task[Any]] = []
        if kit.asyncio_host:
            # An asyncio host reports a failing callback through its exception handler.
            host.loop.set_exception_handler(
                lambda loop, ctx: reported.append(
                    f"{type(ctx.get('exception')).__name__}: {ctx.get('exception')}"
                )
            )
        results: list[outcome.Outcome] = []

        def done_callback(result: outcome.Outcome) -> None:
            results.append(result)
            host.stop()
            if done is not None:
                done(result)

        try:
            if kit.asyncio_host:

                async def inside() -> None:
                    tasks.append(start_on_host(host, fn, *args, done_callback=done_callback, **kw))
                    await asyncio.get_running_loop().create_future()  # until stopped

                host.loop.create_task(inside())
                host.mainloop()
                for task in asyncio.all_tasks(host.loop):
                    task.cancel()
                    host.loop.run_until_complete(asyncio.gather(task, return_exceptions=True))
            else:
                tasks.append(start_on_host(host, fn, *args, done_callback=done_callback, **kw))
                host.mainloop()
            if not results and tasks:
                from asyncio_guest._run import finish_run_here

                results.append(finish_run_here(tasks[0]))
        finally:
            host.close()
        assert results, "the run did not finish"
        return quit_outcome(results[0])

    def raises_after_first(hook: Callable[[Callable[[], object]], None]) -> Any:
        calls = [0]

        def fails_later(fn: Callable[[], object]) -> None:
            calls[0] += 1
            if calls[0] > 1:
                raise OSError("host queue is full")
            hook(fn)

        return fails_later

    def drops_after_first(hook: Callable[[Callable[[], object]], None]) -> Any:
        calls = [0]

        def drops(fn: Callable[[], object]) -> None:
            calls[0] += 1
            if calls[0] == 1:
                hook(fn)
            elif calls[0] == 2:
                # The host "stops posting": let the test end its loop a moment later.
                host = current_host[0]
                threading.Timer(0.3, host.run_sync_soon_threadsafe, (host.stop,)).start()

        return drops

    async def spins() -> None:
        while True:
            await asyncio.sleep(0)

    async def ok() -> str:
        return "ok"

    async def usable() -> str:
        await asyncio.sleep(0.01)
        return "usable"

    def inline_hook() -> Any:
        return asyncio_guest.start_guest_run(
            ok, run_sync_soon_threadsafe=lambda fn: fn(), done_callback=lambda r: None
        )

    async def already_active_main() -> None:
        asyncio_guest.start_guest_run(
            ok, run_sync_soon_threadsafe=lambda fn: None, done_callback=lambda r: None
        )

    def loop_after_run() -> Any:
        loops = []

        async def grab() -> None:
            loops.append(asyncio.get_running_loop())

        run_guest(grab)
        return loops[0].call_soon(print)

    async def asyncio_run_inside() -> None:
        coro = asyncio.sleep(0)
        try:
            asyncio.run(coro)
        finally:
            coro.close()

    async def run_until_complete_inside() -> None:
        coro = asyncio.sleep(0)
        try:
            asyncio.get_running_loop().run_until_complete(coro)
        finally:
            coro.close()

    async def host_callback_raises() -> str:
        def boom() -> None:
            raise ValueError("host callback failed")

        kit.timer(current_host[0], 10, boom)
        await asyncio.sleep(0.2)
        return "ok"

    def done_callback_raises() -> Any:
        def raise_(result: object) -> None:
            raise ValueError("done_callback failed")

        return run_guest(ok, done=raise_)

    async def host_stopped_from_task() -> str:
        # The host loop ends under the live guest: run_on_host finishes the run (quit).
        host_of_run[0].stop()
        await asyncio.sleep(10)
        return "not stopped"

    host_of_run: list[Any] = []

    def stopped_from_task() -> Any:
        from asyncio_guest.hosts._base import run_on_host

        if kit.asyncio_host:
            return "not_applicable"
        host = kit.make()
        host_of_run.append(host)
        try:
            return run_on_host(host, host_stopped_from_task)
        finally:
            host.close()
            host_of_run.clear()

    def selector_argument() -> Any:
        import selectors

        return asyncio_guest.GuestEventLoop(selector=selectors.DefaultSelector())  # type: ignore[arg-type]

    def selector_none() -> Any:
        loop = asyncio_guest.GuestEventLoop(selector=None)
        try:
            return loop.run_until_complete(ok())
        finally:
            loop.close()

    def trio_style_hook() -> Any:
        if tk_root is None:
            return "not_applicable"
        from asyncio_guest.hosts._base import quit_outcome as unwrap

        results: list[outcome.Outcome] = []

        def done(result: outcome.Outcome) -> None:
            results.append(result)
            tk_root.quit()

        # Host code written for Trio: tkinter's after() reads func.__name__ (3.9).
        asyncio_guest.start_guest_run(
            ok, run_sync_soon_threadsafe=lambda fn: tk_root.after(0, fn), done_callback=done
        )
        tk_root.mainloop()
        return unwrap(results[0])

    rows: dict[str, Callable[[], Any]] = {
        "inline_hook": inline_hook,
        "already_active": lambda: run_guest(already_active_main),
        "loop_after_run": loop_after_run,
        "asyncio_run_inside": lambda: run_guest(asyncio_run_inside),
        "run_until_complete_inside": lambda: run_guest(run_until_complete_inside),
        "host_callback_raises": lambda: run_guest(host_callback_raises),
        "done_callback_raises": done_callback_raises,
        "host_stopped_from_task": stopped_from_task,
        "hook_raises": lambda: run_guest(spins, same_thread_hook=raises_after_first, time_slice=0),
        "hook_drops": lambda: run_guest(spins, same_thread_hook=drops_after_first, time_slice=0),
        "selector_argument": selector_argument,
        "selector_none": selector_none,
        "trio_style_hook": trio_style_hook,
    }
    run_guest(functools.partial(asyncio.sleep, 0.05))  # warm-up: toolkits open lazily

    @contextlib.contextmanager
    def stderr_of(row: dict[str, Any]) -> Iterator[None]:
        """What the row printed to stderr (fd 2, so the C level too) goes to row["stderr"]."""
        sys.stderr.flush()
        saved = os.dup(2)
        with tempfile.TemporaryFile(mode="w+") as capture:
            os.dup2(capture.fileno(), 2)
            try:
                yield
            finally:
                sys.stderr.flush()
                os.dup2(saved, 2)
                os.close(saved)
                capture.seek(0)
                row["stderr"] = capture.read()
        sys.stderr.write(row["stderr"])

    results: dict[str, Any] = {}
    for row_name, call in rows.items():
        reported.clear()
        before = snapshot()
        row: dict[str, Any] = {"result": None, "raised": None}
        with warnings.catch_warnings(record=True) as caught, stderr_of(row):
            warnings.simplefilter("always")
            try:
                row["result"] = repr(call())
            except BaseException as exc:
                row["raised"] = f"{type(exc).__name__}: {exc}"
                if not isinstance(exc, (RuntimeError, TypeError, OSError)):
                    row["crash"] = traceback.format_exc()
            gc.collect()  # what the row dropped is reported within the row
        if row["result"] == "'not_applicable'":
            row["not_applicable"] = True
        row["reported"] = list(reported)
        row["warnings"] = [str(w.message) for w in caught]
        try:
            row["next_run"] = repr(run_guest(usable))
        except BaseException:
            row["next_run"] = traceback.format_exc()
        row["left"] = before.diff(snapshot())
        results[row_name] = row
    print("RESULT " + json.dumps(results), flush=True)
    faulthandler.cancel_dump_traceback_later()


if __name__ == "__main__":
    _child(sys.argv[1], sys.argv[2])
