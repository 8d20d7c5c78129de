"""wx's blocking modal calls made directly from a task: ``ShowModal`` (a custom ``wx.Dialog``
with a button, a ``wx.TextEntryDialog``) and ``wx.MessageBox`` (native on wxGTK); see
tests/modal/_toolkit.py."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any, Callable

if __name__ == "__main__":
    sys.path[:0] = [str(Path(__file__).resolve().parents[2])]

from tests.modal._toolkit import Control, Kit, check, child_main, run_child

# wx.MessageBox on wxGTK is a native GtkMessageDialog run by gtk_dialog_run(): the guest
# runs inside it too, but EndModal() cannot end it (the test answers it through GTK, which
# the quit contract cannot do: see docs/modal.md).
KINDS = ("Dialog.ShowModal", "TextEntryDialog.ShowModal", "MessageBox")
#: WxHost has no thread-free mode: the worker thread waits for I/O.
MODES = (False,)


class WxKit(Kit):
    name = "wx"
    kinds = KINDS
    modes = MODES

    def __init__(self) -> None:
        import wx

        self.wx = wx
        self.app = wx.App(False)
        self.frame = wx.Frame(None, title="main")
        self.frame.Show()

    def run(self, async_fn: Callable[[], Any], thread_free: bool) -> Any:
        from asyncio_guest.hosts import wx_host

        return wx_host.run(async_fn, app=self.app)

    def call_later(self, ms: int, fn: Callable[[], None]) -> None:
        self.wx.CallLater(ms, fn)

    def modal(self, kind: str, on_open: Callable[[Control], None]) -> Any:
        wx = self.wx
        if kind == "Dialog.ShowModal":
            dialog = wx.Dialog(self.frame, title="Dialog")
            button = wx.Button(dialog, label="Start")
            ctl = Control(close=lambda: dialog.EndModal(wx.ID_OK), click=None)

            def click() -> None:
                event = wx.CommandEvent(wx.wxEVT_BUTTON, button.GetId())
                event.SetEventObject(button)
                button.GetEventHandler().ProcessEvent(event)

            button.Bind(wx.EVT_BUTTON, lambda event: ctl.on_button())
            ctl.click = click
        elif kind == "TextEntryDialog.ShowModal":
            dialog = wx.TextEntryDialog(self.frame, "Name?", "Question")
            ctl = Control(close=lambda: dialog.EndModal(wx.ID_OK), click=None)
        else:
            ctl = Control(close=self._answer_native_dialog, click=None)
            self.call_later(20, lambda: on_open(ctl))
            return wx.MessageBox("Go on?", "Question", wx.OK | wx.CANCEL, self.frame)
        self.call_later(20, lambda: on_open(ctl))
        try:
            return int(dialog.ShowModal())
        finally:
            dialog.Destroy()

    @staticmethod
    def _answer_native_dialog() -> None:
        import gi

        gi.require_version("Gtk", "3.0")
        from gi.repository import Gtk

        for window in reversed(Gtk.Window.list_toplevels()):
            if isinstance(window, Gtk.MessageDialog) and window.get_visible():
                window.response(Gtk.ResponseType.OK)
                return


def test_wx_show_modal_made_directly_keeps_the_guest_running() -> None:
    import pytest

    if importlib.util.find_spec("wx") is None:
        pytest.skip("wxPython is not installed")
    results = run_child(__file__)
    check(results, KINDS, MODES)


if __name__ == "__main__":
    child_main(WxKit())
