"""tkinter host under Xvfb: real Tk, real sockets, the real sample window.

Run by pytest, this file starts itself as a child (``python test_tkinter.py``) that drives
the Tk sample through the scenarios of ``conftest.py``; see there.  Clicks are
``ttk.Button.invoke()`` (what a mouse click on the button runs, including its state check),
window close is the window manager's ``WM_DELETE_WINDOW`` protocol handler.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Awaitable, Callable

import pytest

HERE = Path(__file__).resolve()


@pytest.fixture(scope="module")
def results() -> dict[str, Any]:
    from conftest import run_child

    return run_child(HERE)


@pytest.mark.parametrize("scenario", ["download", "cancel", "modal", "cadence", "close"])
def test_tkinter(results: dict[str, Any], scenario: str) -> None:
    from conftest import check_scenario

    check_scenario(results, scenario)


def test_tk_posting_rules(results: dict[str, Any]) -> None:
    """FIFO order, never inline, and nothing runs (posts raise) once the host is closed."""
    from conftest import check_common

    data = check_common(results, "posting_rules")
    assert data["order"] == [1, 2, 3, 4], data
    assert data["after_close_ran"] is False, data
    assert "closed" in data["post_after_close"], data


def test_bad_root_is_rejected() -> None:
    from asyncio_guest.hosts.tk import TkHost

    with pytest.raises(TypeError):
        TkHost(root="not a Tk")  # type: ignore[arg-type]


# --------------------------------------------------------------------------- child


def _driver() -> Any:
    import tkinter

    from conftest import Driver

    from asyncio_guest.hosts import tk as tk_host
    from asyncio_guest.samples import tkinter_app

    def posting_rules(d: Driver) -> dict[str, Any]:
        import threading

        root = tkinter.Tk()
        host = tk_host.TkHost(root)
        order: list[int] = []
        out: dict[str, Any] = {}

        def first() -> None:
            order.append(1)
            host.run_sync_soon_not_threadsafe(lambda: order.append(3))
            order.append(2)  # not run inline
            # Cross-thread post while mainloop runs (the only time it is allowed).
            thread = threading.Thread(
                target=host.run_sync_soon_threadsafe,
                args=(lambda: (order.append(4), host.stop()),),
            )
            thread.start()
            out["thread"] = thread

        host.run_sync_soon_not_threadsafe(first)
        host.mainloop()
        out.pop("thread").join()
        late: list[str] = []
        host.run_sync_soon_not_threadsafe(lambda: late.append("late"))
        host.close()
        root.update()
        try:
            host.run_sync_soon_threadsafe(lambda: None)
            out["post_after_close"] = "no error"
        except RuntimeError as exc:
            out["post_after_close"] = str(exc)
        root.destroy()
        out.update(order=order, after_close_ran=bool(late))
        return out

    class TkDriver(Driver):
        name = "tkinter"
        extra_scenarios = {"posting_rules": posting_rules}

        def make_app(self, **kw: Any) -> Any:
            return tkinter_app.TkApp(tkinter.Tk(), **kw)

        def click(self, app: Any, which: str) -> None:
            button = {
                "download": app.download_button,
                "cancel": app.cancel_button,
                "dialog": app.dialog_button,
            }.get(which)
            if which == "dialog_ok":
                button = app.dialog_ok
            button.invoke()

        def dialog_open(self, app: Any) -> bool:
            return app.dialog is not None and bool(app.dialog.winfo_viewable())

        def status_text(self, app: Any) -> str:
            return str(app.status_label.cget("text"))

        def close_window(self, app: Any) -> None:
            # What the window manager's close button runs.
            app.root.tk.call(app.root.protocol("WM_DELETE_WINDOW"))

        def destroy_app(self, app: Any) -> None:
            try:
                app.root.destroy()
            except tkinter.TclError:
                pass

        def run_guest(self, app: Any, async_fn: Callable[[], Awaitable[Any]]) -> Any:
            return tk_host.run(async_fn, root=app.root)

        def run_sample(self, app: Any) -> Any:
            return tk_host.run(app.controller.main, root=app.root)

        def call_later(self, app: Any, seconds: float, fn: Callable[[], object]) -> None:
            app.root.after(int(seconds * 1000), fn)

        def start_timer(self, app: Any, ms: int, fn: Callable[[], object]) -> Callable[[], None]:
            state = {"id": ""}

            def fire() -> None:
                fn()
                state["id"] = app.root.after(ms, fire)

            state["id"] = app.root.after(ms, fire)
            return lambda: app.root.after_cancel(state["id"])

        def warm_up(self, app: Any) -> None:
            if app is not None:
                app.root.update()

    return TkDriver()


if __name__ == "__main__":
    sys.path.insert(0, str(HERE.parent))
    from conftest import child_main

    child_main(_driver(), sys.argv[1:] or None)
