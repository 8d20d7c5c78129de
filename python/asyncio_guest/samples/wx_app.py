"""asyncio-guest sample on wxPython: asyncio runs as a guest of wx's own event loop.

A counter with a progress bar, a download from a local HTTP server (progress bar and Cancel),
a live timer-latency readout, and a button that opens a modal ``wx.Dialog`` (``ShowModal()``)
through ``await asyncio_guest.modal(...)`` while the counter keeps counting.  Closing the
window cancels the guest; the host loop ends after teardown.

    python -m asyncio_guest.samples.wx_app
    python -m asyncio_guest demo --host wx
    xvfb-run -a python -m asyncio_guest.samples.wx_app --demo --quit-after 3    (no display)
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any, Optional

import asyncio_guest
from asyncio_guest.samples import _common as common

try:
    import wx
except ImportError as exc:  # pragma: no cover - depends on the machine
    wx = None
    _WX_IMPORT_ERROR: Optional[ImportError] = exc
else:
    _WX_IMPORT_ERROR = None


class WxApp:
    """The sample window; implements :class:`asyncio_guest.samples._common.SampleView`."""

    def __init__(self, **controller_kwargs: Any) -> None:
        self.app = wx.GetApp() or wx.App(False, clearSigInt=False)
        self.controller = common.SampleController(self, **controller_kwargs)
        self.dialog: Optional[wx.Dialog] = None
        self.dialog_result: Optional[str] = None
        self.frame = frame = wx.Frame(None, title="asyncio-guest on wxPython", pos=(20, 20))
        panel = wx.Panel(frame)
        box = wx.BoxSizer(wx.VERTICAL)

        self.count_label = wx.StaticText(panel, label="counter: 0")
        font = self.count_label.GetFont()
        font.SetPointSize(14)
        self.count_label.SetFont(font)
        box.Add(self.count_label, 0, wx.LEFT | wx.RIGHT | wx.TOP, 12)
        self.count_bar = wx.Gauge(panel, range=100, size=(400, 18))
        box.Add(self.count_bar, 0, wx.EXPAND | wx.ALL, 12)

        self.status_label = wx.StaticText(panel, label="starting...")
        box.Add(self.status_label, 0, wx.LEFT | wx.RIGHT, 12)
        # wx.Gauge takes a C int: progress is scaled to per-mille.
        self.download_bar = wx.Gauge(panel, range=1000, size=(400, 18))
        box.Add(self.download_bar, 0, wx.EXPAND | wx.ALL, 12)

        row = wx.BoxSizer(wx.HORIZONTAL)
        self.download_button = wx.Button(panel, label="Download")
        self.download_button.Bind(wx.EVT_BUTTON, lambda e: self.controller.start_download())
        self.cancel_button = wx.Button(panel, label="Cancel")
        self.cancel_button.Bind(wx.EVT_BUTTON, lambda e: self.controller.cancel_download())
        self.cancel_button.Disable()
        self.dialog_button = wx.Button(panel, label="Open modal dialog")
        self.dialog_button.Bind(wx.EVT_BUTTON, lambda e: self.open_dialog())
        row.Add(self.download_button, 0, wx.RIGHT, 6)
        row.Add(self.cancel_button, 0)
        row.AddStretchSpacer()
        row.Add(self.dialog_button, 0)
        box.Add(row, 0, wx.EXPAND | wx.LEFT | wx.RIGHT, 12)

        self.latency_label = wx.StaticText(panel, label="timer latency: -")
        self.latency_label.SetFont(
            wx.Font(10, wx.FONTFAMILY_TELETYPE, wx.FONTSTYLE_NORMAL, wx.FONTWEIGHT_NORMAL)
        )
        # Room for the widest readout: the sizer sizes the frame from the initial labels.
        widest = common.format_latency(common.LatencyStats(99.9, 99.9, 999.9, 0))
        self.latency_label.SetMinSize((self.latency_label.GetTextExtent(widest)[0] + 4, -1))
        box.Add(self.latency_label, 0, wx.LEFT | wx.RIGHT | wx.TOP, 12)
        # Which toolkit this is (the screenshots have no title bar: no window manager).
        box.Add(wx.StaticText(panel, label=f"host: wxPython {wx.version()}"), 0, wx.ALL, 12)
        panel.SetSizer(box)
        outer = wx.BoxSizer(wx.VERTICAL)
        outer.Add(panel, 1, wx.EXPAND)
        frame.SetSizerAndFit(outer)  # the frame takes the panel's full best size
        frame.Show()

    # -- SampleView
    def show_count(self, n: int) -> None:
        self.count_label.SetLabel(f"counter: {n}")
        self.count_bar.SetValue(n % 100)

    def show_progress(self, received: int, total: int) -> None:
        self.download_bar.SetValue(received * 1000 // max(total, 1))

    def show_status(self, text: str, downloading: bool) -> None:
        self.status_label.SetLabel(text)
        self.cancel_button.Enable(downloading)
        self.download_button.Enable(not downloading)

    def show_latency(self, stats: common.LatencyStats) -> None:
        self.latency_label.SetLabel(common.format_latency(stats))

    # -- modal dialog
    def open_dialog(self) -> None:
        if self.dialog is None:
            self.controller.spawn(self._dialog_task())

    async def _dialog_task(self) -> None:
        # ShowModal() runs a nested wx event loop; through modal() it runs from the host,
        # outside any guest tick, and that nested loop keeps running the guest's ticks.
        self.dialog_result = await asyncio_guest.modal(self.run_dialog)
        if self.frame:  # the frame may be gone if the window was closed meanwhile
            self.status_label.SetLabel(f"dialog closed: {self.dialog_result}")

    def run_dialog(self) -> str:
        """Blocking: show a modal wx.Dialog and wait until it is closed; returns the choice."""
        dialog = self.dialog = wx.Dialog(self.frame, title="Modal dialog")
        box = wx.BoxSizer(wx.VERTICAL)
        box.Add(
            wx.StaticText(dialog, label="A modal dialog (ShowModal).\nThe counter keeps counting."),
            0,
            wx.ALL,
            12,
        )
        row = wx.BoxSizer(wx.HORIZONTAL)
        self.dialog_ok = wx.Button(dialog, wx.ID_OK, "OK")
        row.Add(self.dialog_ok, 0, wx.RIGHT, 12)
        row.Add(wx.Button(dialog, wx.ID_CANCEL, "Cancel"), 0)
        box.Add(row, 0, wx.ALL, 12)
        dialog.SetSizerAndFit(box)
        # Below the main window, so both stay visible (and in screenshots).  Moved after
        # creation: GTK would otherwise centre a transient dialog on its parent.
        rect = self.frame.GetScreenRect()
        dialog.Move(rect.x + 40, rect.y + rect.height + 20)
        try:
            code = dialog.ShowModal()
        finally:
            self.dialog = None
            dialog.Destroy()
        return "OK" if code == wx.ID_OK else "closed"

    def close(self) -> None:
        """Quit from code: cancel the guest (the close button needs no handler: the last
        frame going away cancels it).  An open dialog is ended when the run ends."""
        self.controller.close()


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--demo", action="store_true", help="start a download and open the dialog")
    parser.add_argument("--quit-after", type=float, default=0, help="close after N seconds")
    args = parser.parse_args(argv)
    if wx is None:
        print(
            f"wxPython is not installed ({_WX_IMPORT_ERROR}); pip install 'asyncio-guest[wx]' "
            "(on Linux pip builds it: Debian's python3-wxgtk4.0 is the quicker way)"
        )
        return 2
    if sys.platform.startswith("linux") and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    ):
        print("cannot open a wx window (no display); try: xvfb-run -a python -m asyncio_guest demo")
        return 2
    from asyncio_guest.hosts import wx_host

    app = WxApp()
    if args.demo:
        wx.CallLater(300, app.controller.start_download)
        wx.CallLater(900, app.open_dialog)
    if args.quit_after:
        wx.CallLater(int(args.quit_after * 1000), app.frame.Close)
    try:
        wx_host.run(app.controller.main)
    finally:
        if app.frame:
            app.frame.Destroy()
    print(f"guest finished cleanly; counter reached {app.controller.count}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
