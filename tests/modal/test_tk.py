"""Tk's blocking modal calls made directly from a task: ``wait_window``, ``messagebox``,
``filedialog`` (see tests/modal/_toolkit.py for the scenario)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Callable

if __name__ == "__main__":
    sys.path[:0] = [str(Path(__file__).resolve().parents[2])]

from tests.modal._toolkit import Control, Kit, check, child_main, run_child

KINDS = ("wait_window", "messagebox", "filedialog")
MODES = (True, False)


class TkKit(Kit):
    name = "tk"
    kinds = KINDS
    modes = MODES

    def __init__(self) -> None:
        import tkinter

        self.tkinter = tkinter
        self.root = tkinter.Tk()

    def run(self, async_fn: Callable[[], Any], thread_free: bool) -> Any:
        from asyncio_guest.hosts import tk

        return tk.run(async_fn, root=self.root, thread_free=thread_free)

    def call_later(self, ms: int, fn: Callable[[], None]) -> None:
        self.root.after(ms, fn)

    def modal(self, kind: str, on_open: Callable[[Control], None]) -> Any:
        tkinter = self.tkinter
        tk = self.root.tk
        if kind == "wait_window":
            top = tkinter.Toplevel(self.root)
            ctl = Control(close=top.destroy, click=None)
            button = tkinter.Button(top, text="Start", command=lambda: ctl.on_button())
            button.pack()
            ctl.click = button.invoke
            top.grab_set()  # modal: what end_nested_loops looks for
            self.root.after(20, lambda: on_open(ctl))
            self.root.wait_window(top)
            return "closed"
        if kind == "messagebox":
            from tkinter import messagebox

            ctl = Control(close=lambda: tk.call("set", "::tk::Priv(button)", "ok"), click=None)
            self.root.after(20, lambda: on_open(ctl))
            return messagebox.askokcancel("Question", "Go on?", parent=self.root)
        if kind == "filedialog":
            from tkinter import filedialog

            ctl = Control(
                close=lambda: tk.call("::tk::dialog::file::CancelCmd", ".__tk_filedialog"),
                click=None,
            )
            self.root.after(20, lambda: on_open(ctl))
            return filedialog.askopenfilename(parent=self.root)
        raise ValueError(kind)


def test_tk_modal_calls_made_directly_keep_the_guest_running() -> None:
    import pytest

    pytest.importorskip("tkinter")
    results = run_child(__file__)
    check(results, KINDS, MODES)


if __name__ == "__main__":
    child_main(TkKit())
