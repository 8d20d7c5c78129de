"""wxPython host under Xvfb: real wxGTK, real sockets, the real sample window.

Run by pytest, this file starts itself as a child (``python test_wx.py``) that drives the wx
sample through the shared scenarios of ``tests/_support/gui_scenarios.py`` (download, Cancel,
modal dialog, host-timer cadence, closing the window), plus the wx-specific ones below.
Clicks are real pointer clicks through the X server (XTest), falling back to a synthesized
button event where XTest is unavailable.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from typing import Any, Awaitable, Callable

import pytest

HERE = Path(__file__).resolve()
SHARED = ("download", "cancel", "modal", "cadence", "close")
_cache: dict[str, dict[str, Any]] = {}


def _results() -> dict[str, Any]:
    if importlib.util.find_spec("wx") is None or not sys.platform.startswith("linux"):
        # wx is installed for Python 3.11 only (PyPI has no Linux wheels; make install links
        # Debian's python3-wxgtk4.0, built for 3.11): in CI on 3.11 it must be there.
        if os.environ.get("CI") and sys.version_info[:2] == (3, 11):
            raise AssertionError("wxPython is not importable (make install)")
        pytest.skip("wxPython does not import in this interpreter (Debian's build is for 3.11)")
    if "wx" not in _cache:
        from conftest import run_child

        _cache["wx"] = run_child(HERE, extra_env={"WAYLAND_DISPLAY": ""})
    data = _cache["wx"]
    assert "Task was destroyed" not in data["_stderr"], data["_stderr"]
    assert "Exception in callback" not in data["_stderr"], data["_stderr"]
    return data


@pytest.mark.parametrize("scenario", SHARED)
def test_wx(scenario: str) -> None:
    from conftest import check_scenario

    check_scenario(_results(), scenario)


def test_last_window_closed_cancels_guest_not_app() -> None:
    from conftest import check_common

    data = check_common(_results(), "last_window")
    assert data["result"] == "None", data  # a quit, not an error
    assert data["second_run"] == "again", data


def test_threadsafe_posts_queue_in_order() -> None:
    from conftest import check_common

    data = check_common(_results(), "threadsafe")
    assert data["count"] == 800, data
    assert data["ran_inline"] is False, data
    assert data["per_thread_ordered"] is True, data
    assert data["closed_raises"] is True, data


def test_direct_blocking_show_modal_in_a_task_keeps_the_guest_running() -> None:
    from conftest import check_common

    results = _results()
    data = check_common(results, "direct_show_modal")
    assert data["ok"] is True, data
    assert data["counted_during"] >= 10, data  # the guest kept running inside ShowModal()
    assert data["counted_after"] >= 3, data
    assert "nested host event loop" not in results["_stderr"]  # a debug log only


@pytest.mark.skipif(sys.platform == "win32", reason="os.kill(pid, SIGINT) ends the process there")
def test_ctrl_c_cancels_the_guest() -> None:
    from conftest import check_common

    data = check_common(_results(), "sigint")
    assert data["raised"] == "KeyboardInterrupt", data
    assert data["seconds"] < 5, data
    assert data["handler_restored"] is True, data


def test_modal_dialog_ends_when_main_returns() -> None:
    """The run ends while a ShowModal() opened through modal() is up: the host ends it."""
    from conftest import check_common

    data = check_common(_results(), "modal_at_exit")
    assert data["result"] == "'returned'", data
    assert data["dialog_code"] == "ID_CANCEL", data
    assert data["seconds"] < 3, data


def test_bad_input_raises_clear_errors() -> None:
    from conftest import check_common

    data = check_common(_results(), "bad_input")
    assert data["errors"] == {
        "app": "TypeError: app must be a wx.App, got int",
        "not_async": "TypeError: hosts.wx_host.run() expects an async function; ",
    }, data


# --------------------------------------------------------------------------- child


def _driver() -> Any:
    import asyncio
    import signal
    import threading
    import time

    import wx
    from conftest import Driver

    import asyncio_guest
    from asyncio_guest.hosts import wx_host
    from asyncio_guest.samples import wx_app

    # clearSigInt=False: wx.App() would otherwise reset SIGINT to SIG_DFL (see wx_host.run).
    app = wx.App(False, clearSigInt=False)
    sim = wx.UIActionSimulator()

    def settle(seconds: float = 0.3) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            wx.Yield()
            time.sleep(0.01)

    def last_window(d: Driver) -> dict[str, Any]:
        frame = wx.Frame(None, title="last window")
        frame.Show()
        settle()
        wx.CallLater(300, frame.Close)

        async def forever() -> None:
            await asyncio.sleep(30)

        out: dict[str, Any] = {"result": repr(wx_host.run(forever))}
        # No window left at all: the host still runs a guest (wxPython's own MainLoop would
        # return at once here).
        out["second_run"] = wx_host.run(asyncio.sleep, 0.01, "again")
        return out

    def threadsafe(d: Driver) -> dict[str, Any]:
        host = wx_host.WxHost(app)
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

    def direct_show_modal(d: Driver) -> dict[str, Any]:
        # A task calls ShowModal() itself, inside a loop iteration: guest ticks run inside the
        # dialog's nested loop (a probe delivered there starts them), so the counter keeps
        # going, and the task continues when the dialog closes.
        frame = wx.Frame(None, title="main")
        frame.Show()
        settle()

        async def direct() -> tuple[int, int, int]:
            counts: list[int] = []

            async def count() -> None:
                while True:
                    await asyncio.sleep(0.02)
                    counts.append(1)

            counter = asyncio.ensure_future(count())
            await asyncio.sleep(0.1)
            dialog = wx.Dialog(frame, title="direct")
            wx.CallLater(1200, dialog.EndModal, wx.ID_OK)
            before = len(counts)
            code = dialog.ShowModal()
            dialog.Destroy()
            frozen = len(counts) - before
            await asyncio.sleep(0.2)
            counter.cancel()
            return code, frozen, len(counts) - before - frozen

        code, during, after = wx_host.run(direct)
        frame.Destroy()
        settle(0.05)
        return {"ok": code == wx.ID_OK, "counted_during": during, "counted_after": after}

    def sigint(d: Driver) -> dict[str, Any]:
        signal.signal(signal.SIGINT, signal.default_int_handler)  # whatever started us
        frame = wx.Frame(None, title="main")
        frame.Show()
        settle()
        out: dict[str, Any] = {}

        async def sleeper() -> None:
            threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGINT)).start()
            await asyncio.sleep(20)

        started = time.monotonic()
        try:
            wx_host.run(sleeper)
        except KeyboardInterrupt:
            out["raised"] = "KeyboardInterrupt"
        out["seconds"] = time.monotonic() - started
        out["handler_restored"] = signal.getsignal(signal.SIGINT) is signal.default_int_handler
        frame.Destroy()
        settle(0.05)
        return out

    def modal_at_exit(d: Driver) -> dict[str, Any]:
        frame = wx.Frame(None, title="main")
        frame.Show()
        settle()
        codes: list[int] = []

        def show() -> int:
            dialog = wx.Dialog(frame, title="modal")
            codes.append(dialog.ShowModal())
            dialog.Destroy()
            return codes[-1]

        async def main() -> str:
            dialog_task = asyncio.ensure_future(asyncio_guest.modal(show))
            await asyncio.sleep(0.3)
            assert not dialog_task.done()
            return "returned"

        started = time.monotonic()
        result = wx_host.run(main)
        seconds = time.monotonic() - started
        frame.Destroy()
        settle(0.05)
        code = {wx.ID_CANCEL: "ID_CANCEL", wx.ID_OK: "ID_OK"}.get(codes[0]) if codes else None
        return {"result": repr(result), "dialog_code": code, "seconds": seconds}

    def bad_input(d: Driver) -> dict[str, Any]:
        errors = {}
        for name, call in {
            "app": lambda: wx_host.WxHost(app=3),  # type: ignore[arg-type]
            "not_async": lambda: wx_host.run(lambda: 1),
        }.items():
            try:
                call()
            except Exception as exc:
                errors[name] = f"{type(exc).__name__}: {str(exc).split('<function')[0]}"
        return {"errors": errors}

    class WxDriver(Driver):
        name = "wx"
        extra_scenarios = {
            "last_window": last_window,
            "threadsafe": threadsafe,
            "direct_show_modal": direct_show_modal,
            "sigint": sigint,
            "modal_at_exit": modal_at_exit,
            "bad_input": bad_input,
        }

        def make_app(self, **kw: Any) -> Any:
            return wx_app.WxApp(**kw)

        def click(self, app: Any, which: str) -> None:
            button = {
                "download": app.download_button,
                "cancel": app.cancel_button,
                "dialog": app.dialog_button,
            }.get(which)
            if which == "dialog_ok":
                button = app.dialog_ok
            pos = button.GetScreenRect()
            if sim.MouseMove(pos.x + pos.width // 2, pos.y + pos.height // 2) and sim.MouseClick():
                return
            button.Command(wx.CommandEvent(wx.EVT_BUTTON.typeId, button.GetId()))

        def dialog_open(self, app: Any) -> bool:
            return app.dialog is not None and bool(app.dialog.IsShown())

        def status_text(self, app: Any) -> str:
            return str(app.status_label.GetLabel())

        def close_window(self, app: Any) -> None:
            app.frame.Close()  # what the title bar's close button does

        def destroy_app(self, app: Any) -> None:
            if app.frame:
                app.frame.Destroy()
            settle(0.05)

        def run_guest(self, app: Any, async_fn: Callable[[], Awaitable[Any]]) -> Any:
            return wx_host.run(async_fn)

        def call_later(self, app: Any, seconds: float, fn: Callable[[], object]) -> None:
            wx.CallLater(int(seconds * 1000), fn)

        def start_timer(self, app: Any, ms: int, fn: Callable[[], object]) -> Callable[[], None]:
            timer = wx.Timer()
            timer.Bind(wx.EVT_TIMER, lambda e: fn())
            timer.Start(ms)
            return timer.Stop

        def warm_up(self, app: Any) -> None:
            settle(0.3 if app is not None else 0.05)

    return WxDriver()


if __name__ == "__main__":
    sys.path.insert(0, str(HERE.parent))
    from conftest import child_main

    child_main(_driver(), sys.argv[1:] or None)
