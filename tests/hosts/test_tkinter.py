"""tkinter host under Xvfb: real Tk, real sockets, the real sample window.

Run by pytest, this file starts itself as a child (``python test_tkinter.py``) that drives
``examples/tkinter_app.py`` through the scenarios of ``conftest.py``; see there.  Clicks are
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


def test_bad_root_is_rejected() -> None:
    from asyncio_guest.hosts.tkinter import TkHost

    with pytest.raises(TypeError):
        TkHost(root="not a Tk")  # type: ignore[arg-type]


# --------------------------------------------------------------------------- child


def _driver() -> Any:
    import tkinter

    import tkinter_app
    from conftest import Driver

    from asyncio_guest.hosts import tkinter as tk_host

    class TkDriver(Driver):
        name = "tkinter"

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
    sys.path.insert(0, str(HERE.parents[2] / "examples"))
    from conftest import child_main

    child_main(_driver(), sys.argv[1:] or None)
