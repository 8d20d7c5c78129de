"""GTK 3's blocking modal call made directly from a task: ``Gtk.Dialog.run()`` (a custom
dialog with a button, and a ``Gtk.MessageDialog``); see tests/modal/_toolkit.py.

GTK 4 removed ``Gtk.Dialog.run()`` (and every nested main loop in its API): GTK 4 code
shows the dialog and awaits its ``response`` signal instead (docs/modal.md), which is not
a nested loop and needs nothing from this mechanism.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Callable

if __name__ == "__main__":
    sys.path[:0] = [str(Path(__file__).resolve().parents[2])]

from tests.modal._toolkit import Control, Kit, check, child_main, run_child

KINDS = ("Dialog.run", "MessageDialog.run")
MODES = (True, False)


class GtkKit(Kit):
    name = "gtk3"
    kinds = KINDS
    modes = MODES

    def __init__(self) -> None:
        import gi

        gi.require_version("Gtk", "3.0")
        from gi.repository import GLib, Gtk

        self.GLib = GLib
        self.Gtk = Gtk
        self.window = Gtk.Window(title="main")
        self.window.show_all()

    def run(self, async_fn: Callable[[], Any], thread_free: bool) -> Any:
        from asyncio_guest.hosts import gtk

        return gtk.run(async_fn, thread_free=thread_free)

    def call_later(self, ms: int, fn: Callable[[], None]) -> None:
        def once() -> bool:
            fn()
            return False

        self.GLib.timeout_add(ms, once)

    def modal(self, kind: str, on_open: Callable[[Control], None]) -> Any:
        Gtk = self.Gtk
        if kind == "Dialog.run":
            dialog = Gtk.Dialog(title="Dialog", transient_for=self.window, modal=True)
            button = Gtk.Button(label="Start")
            dialog.get_content_area().add(button)
        else:
            dialog = Gtk.MessageDialog(
                transient_for=self.window,
                modal=True,
                message_type=Gtk.MessageType.QUESTION,
                buttons=Gtk.ButtonsType.OK_CANCEL,
                text="Go on?",
            )
            button = None
        ctl = Control(close=lambda: dialog.response(Gtk.ResponseType.OK), click=None)
        if button is not None:
            button.connect("clicked", lambda *_: ctl.on_button())
            ctl.click = button.clicked
        dialog.show_all()
        self.call_later(20, lambda: on_open(ctl))
        try:
            return int(dialog.run())
        finally:
            dialog.destroy()


def _has_gtk3() -> bool:
    try:
        import gi

        gi.require_version("Gtk", "3.0")
        from gi.repository import Gtk  # noqa: F401
    except (ImportError, ValueError):
        return False
    return True


def test_gtk3_dialog_run_made_directly_keeps_the_guest_running() -> None:
    import pytest

    if not _has_gtk3():
        pytest.skip("GTK 3 (PyGObject) is not installed")
    results = run_child(__file__)
    check(results, KINDS, MODES)


if __name__ == "__main__":
    child_main(GtkKit())
