"""Qt host (PyQt5, PyQt6, PySide6) under the ``offscreen`` platform: real Qt, real sockets,
the real sample window, in both wait modes.

Run by pytest, this file starts itself as a child (``python test_qt.py BINDING MODE``) per
binding and mode that drives the Qt sample through the shared scenarios of
``tests/_support/gui_scenarios.py`` (download, Cancel, modal dialog, host-timer cadence,
closing the window), plus the Qt-specific ones below.  Clicks are ``QTest.mouseClick``.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from typing import Any, Awaitable, Callable

import pytest

HERE = Path(__file__).resolve()
BINDINGS = ("PyQt5", "PyQt6", "PySide6")
MODES = ("thread_free", "worker")
SHARED = ("download", "cancel", "modal", "cadence", "close")
_cache: dict[tuple[str, str], dict[str, Any]] = {}


def _results(binding: str, mode: str) -> dict[str, Any]:
    if importlib.util.find_spec(binding) is None:
        if os.environ.get("CI"):  # in CI everything is installed: missing must fail
            raise AssertionError(f"{binding} is not installed (make install)")
        pytest.skip(f"{binding} not installed (make install)")
    if (binding, mode) not in _cache:
        from conftest import run_child

        env = {"QT_QPA_PLATFORM": "offscreen", "QT_API": ""}
        _cache[binding, mode] = run_child(HERE, binding, mode, extra_env=env)
    data = _cache[binding, mode]
    assert "Task was destroyed" not in data["_stderr"], data["_stderr"]
    assert "Exception in callback" not in data["_stderr"], data["_stderr"]
    return data


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("binding", BINDINGS)
@pytest.mark.parametrize("scenario", SHARED)
def test_qt(binding: str, mode: str, scenario: str) -> None:
    from conftest import check_scenario

    check_scenario(_results(binding, mode), scenario)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("binding", BINDINGS)
def test_wait_mode_is_the_one_asked_for(binding: str, mode: str) -> None:
    from conftest import check_common

    data = check_common(_results(binding, mode), "wait_mode")
    if mode == "thread_free":
        assert data["worker_waits"] == 0, data  # no wait went to the worker thread
    else:
        assert data["worker_waits"] >= 1, data


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("binding", BINDINGS)
def test_last_window_closed_cancels_guest_not_app(binding: str, mode: str) -> None:
    from conftest import check_common

    data = check_common(_results(binding, mode), "last_window")
    assert data["result"] == "None", data  # a quit, not an error
    assert data["quit_on_last_window_closed"] is True, data  # restored after the run
    assert data["second_run"] == "again", data


@pytest.mark.parametrize("binding", BINDINGS)
def test_threadsafe_posts_queue_in_order(binding: str) -> None:
    from conftest import check_common

    data = check_common(_results(binding, "thread_free"), "threadsafe")
    assert data["count"] == 800, data
    assert data["ran_inline"] is False, data
    assert data["per_thread_ordered"] is True, data
    assert data["closed_raises"] is True, data


@pytest.mark.parametrize("binding", BINDINGS)
def test_direct_blocking_exec_in_a_task_keeps_the_guest_running(binding: str) -> None:
    from conftest import check_common

    results = _results(binding, "thread_free")
    data = check_common(results, "direct_exec")
    assert data["code"] == 1, data
    assert data["counted_during"] >= 10, data  # the guest kept running inside exec()
    assert data["counted_after"] >= 3, data  # and runs normally afterwards
    assert "nested host event loop" not in results["_stderr"]  # a debug log only


@pytest.mark.parametrize("binding", BINDINGS)
def test_many_posts_keep_none_refcount(binding: str) -> None:
    from conftest import check_common

    data = check_common(_results(binding, "thread_free"), "many_posts")
    assert data["ran"] == 20_000, data
    # Before 3.12 a lost reference per post would show as about -20,000 (and crash).
    assert data["none_refcount_delta"] > -100, data


@pytest.mark.skipif(sys.platform == "win32", reason="os.kill(pid, SIGINT) ends the process there")
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("binding", BINDINGS)
def test_ctrl_c_cancels_the_guest(binding: str, mode: str) -> None:
    from conftest import check_common

    data = check_common(_results(binding, mode), "sigint")
    assert data["raised"] == "KeyboardInterrupt", data
    assert data["seconds"] < 5, data
    assert data["handler_restored"] is True, data


@pytest.mark.parametrize("binding", BINDINGS)
def test_bad_input_raises_clear_errors(binding: str) -> None:
    from conftest import check_common

    data = check_common(_results(binding, "thread_free"), "bad_input")
    assert data["errors"] == {
        "binding": "ValueError: binding must be one of ('PySide6', 'PyQt6', 'PyQt5'), got 'Tk'",
        "priority": "TypeError: priority must be an int (a Qt event priority), got 'low'",
        "not_async": "TypeError: hosts.qt.run() expects an async function; ",
    }, data
    assert data["quit_on_last_window_closed"] is True, data


# --------------------------------------------------------------------------- child


def _driver(binding: str, thread_free: bool) -> Any:
    import asyncio
    import importlib
    import signal
    import threading
    import time

    from conftest import Driver, fd_count, thread_count

    from asyncio_guest.hosts import qt as qt_host
    from asyncio_guest.samples import _qt as qt_sample

    QtCore = importlib.import_module(binding + ".QtCore")
    QtTest = importlib.import_module(binding + ".QtTest")
    QtWidgets = importlib.import_module(binding + ".QtWidgets")
    left = getattr(QtCore.Qt, "MouseButton", QtCore.Qt).LeftButton
    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication([])

    def run(fn: Callable[..., Awaitable[Any]], *args: Any) -> Any:
        return qt_host.run(fn, *args, binding=binding, thread_free=thread_free)

    def settle(seconds: float = 0.3) -> None:
        # Let Qt open what it opens lazily (fonts, platform plugin) before counting fds.
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            app.processEvents()
            time.sleep(0.01)

    async def counting(counts: list[int]) -> None:
        while True:
            counts.append(1)
            await asyncio.sleep(0.05)

    def wait_mode(d: Driver) -> dict[str, Any]:
        async def idle() -> int:
            await asyncio.sleep(0.2)
            stats: dict[str, int] = asyncio.get_running_loop().guest_stats()  # type: ignore[attr-defined]
            return stats["worker_waits"]

        return {"worker_waits": run(idle)}

    def last_window(d: Driver) -> dict[str, Any]:
        window = QtWidgets.QWidget()
        window.show()
        settle()
        QtCore.QTimer.singleShot(300, window.close)

        async def forever() -> None:
            await asyncio.sleep(30)

        out: dict[str, Any] = {"result": repr(run(forever))}
        out["quit_on_last_window_closed"] = app.quitOnLastWindowClosed()
        # The application survived: a second run on the same app still works.
        out["second_run"] = run(asyncio.sleep, 0.01, "again")
        window.deleteLater()
        settle(0.05)
        return out

    def threadsafe(d: Driver) -> dict[str, Any]:
        # Posts from many foreign threads at once: each callable runs exactly once, in the
        # order each thread posted them, and never inline.
        host = qt_host.QtHost(binding)
        seen: list[tuple[int, int]] = []

        def poster(k: int) -> None:
            for i in range(200):
                host.run_sync_soon_threadsafe(lambda k=k, i=i: seen.append((k, i)))

        workers = [threading.Thread(target=poster, args=(k,)) for k in range(4)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        ran: list[int] = []
        host.run_sync_soon_not_threadsafe(lambda: ran.append(1))
        out: dict[str, Any] = {"ran_inline": bool(ran)}
        host.run_sync_soon_not_threadsafe(host.stop)
        host.mainloop()
        host.close()
        out["count"] = len(seen)
        out["per_thread_ordered"] = all(
            [i for k2, i in seen if k2 == k] == list(range(200)) for k in range(4)
        )
        try:
            host.run_sync_soon_threadsafe(lambda: None)
        except RuntimeError:
            out["closed_raises"] = True
        return out

    def direct_exec(d: Driver) -> dict[str, Any]:
        # A task calls dialog.exec() itself, inside a loop iteration: guest ticks run inside
        # the dialog's nested loop (a probe our host delivers there starts them), so the
        # counter keeps going, and the task continues when the dialog closes.
        window = QtWidgets.QWidget()  # a main window, so closing the dialog is not the last
        window.show()
        settle()

        async def direct() -> tuple[int, int, int]:
            counts: list[int] = []
            counter = asyncio.ensure_future(counting(counts))
            await asyncio.sleep(0.1)
            dialog = QtWidgets.QDialog(window)
            QtCore.QTimer.singleShot(1200, dialog.accept)
            before = len(counts)
            code = qt_sample._exec(dialog)
            frozen = len(counts) - before
            await asyncio.sleep(0.2)  # and afterwards everything runs again
            counter.cancel()
            return code, frozen, len(counts) - before - frozen

        code, during, after = run(direct)
        window.close()
        window.deleteLater()
        settle(0.05)
        return {"code": code, "counted_during": during, "counted_after": after}

    def many_posts(d: Driver) -> dict[str, Any]:
        # 20,000 posts (half from another thread): all run, and the binding's post path does
        # not eat references to None (PySide6 6.12.0's postEvent does: fatal before 3.12).
        host = qt_host.QtHost(binding)
        ran = [0]

        def bump() -> None:
            ran[0] += 1

        none_refs = sys.getrefcount(None)
        worker = threading.Thread(
            target=lambda: [host.run_sync_soon_threadsafe(bump) for _ in range(10_000)]
        )
        worker.start()
        for _ in range(10_000):
            host.run_sync_soon_not_threadsafe(bump)
        worker.join()
        host.run_sync_soon_threadsafe(host.stop)
        host.mainloop()
        host.close()
        return {
            "ran": ran[0],
            "post_path": host.post_path,
            "none_refcount_delta": sys.getrefcount(None) - none_refs,
        }

    def sigint(d: Driver) -> dict[str, Any]:
        # Ctrl+C while Qt's C++ loop runs: the guest's wakeup fd gets Python to run the
        # handler, which cancels the main task; the run ends with KeyboardInterrupt.
        signal.signal(signal.SIGINT, signal.default_int_handler)  # whatever started us
        out: dict[str, Any] = {}

        async def sleeper() -> None:
            threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGINT)).start()
            await asyncio.sleep(20)

        started = time.monotonic()
        try:
            run(sleeper)
        except KeyboardInterrupt:
            out["raised"] = "KeyboardInterrupt"
        out["seconds"] = time.monotonic() - started
        out["handler_restored"] = signal.getsignal(signal.SIGINT) is signal.default_int_handler
        return out

    def bad_input(d: Driver) -> dict[str, Any]:
        errors = {}
        for name, call in {
            "binding": lambda: qt_host.QtHost("Tk"),
            "priority": lambda: qt_host.QtHost(binding, priority="low"),  # type: ignore[arg-type]
            "not_async": lambda: qt_host.run(lambda: 1, binding=binding),
        }.items():
            try:
                call()
            except Exception as exc:
                text = str(exc)
                # The repr of the lambda differs per run: keep the fixed part of the message.
                errors[name] = f"{type(exc).__name__}: {text.split('<function')[0]}"
        # A failed start leaves the application as it was.
        return {"errors": errors, "quit_on_last_window_closed": app.quitOnLastWindowClosed()}

    class QtDriver(Driver):
        name = binding
        extra_scenarios = {
            "wait_mode": wait_mode,
            "last_window": last_window,
            "threadsafe": threadsafe,
            "direct_exec": direct_exec,
            "many_posts": many_posts,
            "sigint": sigint,
            "bad_input": bad_input,
        }

        def make_app(self, **kw: Any) -> Any:
            sample = qt_sample.QtApp(binding, **kw)
            sample.window.show()
            return sample

        def click(self, app: Any, which: str) -> None:
            button = {
                "download": app.download_button,
                "cancel": app.cancel_button,
                "dialog": app.dialog_button,
            }.get(which)
            if which == "dialog_ok":
                button = app.dialog_ok
            QtTest.QTest.mouseClick(button, left)

        def dialog_open(self, app: Any) -> bool:
            return app.dialog is not None and bool(app.dialog.isVisible())

        def status_text(self, app: Any) -> str:
            return str(app.status_label.text())

        def close_window(self, app: Any) -> None:
            app.window.close()  # what the title bar's close button does

        def destroy_app(self, app: Any) -> None:
            app.window.close()
            app.window.deleteLater()
            settle(0.05)

        def run_guest(self, app: Any, async_fn: Callable[[], Awaitable[Any]]) -> Any:
            return run(async_fn)

        def call_later(self, app: Any, seconds: float, fn: Callable[[], object]) -> None:
            QtCore.QTimer.singleShot(int(seconds * 1000), fn)

        def start_timer(self, app: Any, ms: int, fn: Callable[[], object]) -> Callable[[], None]:
            timer = QtCore.QTimer()
            timer.setInterval(ms)
            timer.timeout.connect(fn)
            timer.start()
            return timer.stop

        def warm_up(self, app: Any) -> None:
            if app is not None:
                # Every widget path a scenario uses, once: painting progress text and the
                # first click on a button (focus, input method) make Qt start threads and
                # descriptors lazily; let that happen before anything is counted.
                app.show_count(1)
                app.show_progress(1, 2)
                app.show_status("warming up", True)
                app.show_status("warming up", False)
                button = QtWidgets.QPushButton("warm-up")
                button.show()
                QtTest.QTest.mouseClick(button, left)
                settle(0.1)
                button.close()
                button.deleteLater()
            settle(0.3 if app is not None else 0.05)
            # Qt starts "Thread (pooled)" threads (fonts, input) a moment after it needs them:
            # wait (bounded) until the counts hold still, so a scenario is charged only with
            # what it left itself.
            counts, still_since = (-1, -1), time.monotonic()
            deadline = time.monotonic() + 3
            while time.monotonic() < deadline:
                now = (thread_count(), fd_count())
                if now != counts:
                    counts, still_since = now, time.monotonic()
                elif time.monotonic() - still_since > 0.3:
                    break
                settle(0.02)

    return QtDriver()


if __name__ == "__main__":
    sys.path.insert(0, str(HERE.parent))
    from conftest import child_main

    child_main(_driver(sys.argv[1], sys.argv[2] == "thread_free"), sys.argv[3:] or None)
