"""asyncio-guest sample on plain Win32 (ctypes only): asyncio runs as a guest of a GetMessage loop.

UNTESTED ON WINDOWS (written on Linux against the documented API; its logic is exercised on
Linux with a fake user32 by tests/hosts/test_win32_queue.py).

A counter with a progress bar, a download from a local HTTP server (progress bar and Cancel),
a live timer-latency readout, and a button that opens a modal ``MessageBoxW`` through
``await asyncio_guest.modal(...)`` while the counter keeps counting (MessageBox runs its own
modal message loop; the guest's wake-ups are window messages, which that loop dispatches).
Closing the window cancels the guest; the host loop ends after teardown.

    python -m asyncio_guest.samples.win32_app
    python -m asyncio_guest demo --host win32
"""

from __future__ import annotations

import argparse
import ctypes
import sys
from types import SimpleNamespace
from typing import Any, Optional

import asyncio_guest
from asyncio_guest.hosts import _win32_api as api
from asyncio_guest.hosts import win32 as win32_host
from asyncio_guest.samples import _common as common

WS_OVERLAPPEDWINDOW = 0x00CF0000
WS_VISIBLE = 0x10000000
WS_CHILD = 0x40000000
CW_USEDEFAULT = -0x80000000
SW_SHOW = 5
BN_CLICKED = 0
PBM_SETPOS = api.WM_USER + 2
PBM_SETRANGE32 = api.WM_USER + 6
ICC_PROGRESS_CLASS = 0x20
DEFAULT_GUI_FONT = 17
COLOR_BTNFACE = 15
IDC_ARROW = 32512
MB_OKCANCEL = 0x1
MB_ICONINFORMATION = 0x40
IDOK = 1

ID_DOWNLOAD, ID_CANCEL, ID_DIALOG = 101, 102, 103
TIMER_DEMO_DOWNLOAD, TIMER_DEMO_DIALOG, TIMER_QUIT = 11, 12, 13


class Win32App:
    """The sample window; implements :class:`asyncio_guest.samples._common.SampleView`.

    ``dlls`` (``user32``, ``kernel32``, ``gdi32``, ``comctl32``) defaults to the real DLLs;
    the Linux tests pass fakes.
    """

    def __init__(self, dlls: Optional[SimpleNamespace] = None, **controller_kwargs: Any) -> None:
        self.dlls = dlls if dlls is not None else api.load()
        self.user32 = user32 = self.dlls.user32
        self.controller = common.SampleController(self, **controller_kwargs)
        self.dialog_open = False
        self.dialog_result: Optional[str] = None
        self.closed = False
        self.demo_timers: dict[int, Any] = {}
        icc = api.INITCOMMONCONTROLSEX(ctypes.sizeof(api.INITCOMMONCONTROLSEX), ICC_PROGRESS_CLASS)
        self.dlls.comctl32.InitCommonControlsEx(ctypes.byref(icc))
        hinstance = self.dlls.kernel32.GetModuleHandleW(None)
        self._hinstance = hinstance
        # Kept on self: Windows calls through this pointer while the class is registered.
        self._wndproc = api.WNDPROC(self._window_proc)
        self._class_name = "asyncio_guest.Win32Sample"
        wc = api.WNDCLASSEXW()
        wc.cbSize = ctypes.sizeof(api.WNDCLASSEXW)
        wc.lpfnWndProc = self._wndproc
        wc.hInstance = hinstance
        wc.hCursor = user32.LoadCursorW(None, ctypes.c_void_p(IDC_ARROW))
        wc.hbrBackground = user32.GetSysColorBrush(COLOR_BTNFACE)
        wc.lpszClassName = self._class_name
        if not user32.RegisterClassExW(ctypes.byref(wc)):
            raise api.last_error()
        self.hwnd = user32.CreateWindowExW(
            0, self._class_name, "asyncio-guest on Win32", WS_OVERLAPPEDWINDOW,
            CW_USEDEFAULT, CW_USEDEFAULT, 460, 250, None, None, hinstance, None,
        )  # fmt: skip
        if not self.hwnd:
            raise api.last_error()
        self._font = self.dlls.gdi32.GetStockObject(DEFAULT_GUI_FONT)
        self.count_label = self._child("STATIC", "counter: 0", 12, 10, 420, 22)
        self.count_bar = self._child("msctls_progress32", "", 12, 36, 420, 16)
        self.status_label = self._child("STATIC", "starting...", 12, 62, 420, 20)
        self.download_bar = self._child("msctls_progress32", "", 12, 86, 420, 16)
        self.download_button = self._child("BUTTON", "Download", 12, 112, 100, 28, ID_DOWNLOAD)
        self.cancel_button = self._child("BUTTON", "Cancel", 120, 112, 100, 28, ID_CANCEL)
        self.dialog_button = self._child(
            "BUTTON", "Open modal dialog", 282, 112, 150, 28, ID_DIALOG
        )
        self.latency_label = self._child("STATIC", "timer latency: -", 12, 152, 420, 20)
        user32.SendMessageW(self.count_bar, PBM_SETRANGE32, 0, 100)
        user32.SendMessageW(self.download_bar, PBM_SETRANGE32, 0, 1000)
        user32.EnableWindow(self.cancel_button, False)
        user32.ShowWindow(self.hwnd, SW_SHOW)
        user32.UpdateWindow(self.hwnd)

    def _child(self, cls: str, text: str, x: int, y: int, w: int, h: int, ident: int = 0) -> Any:
        hwnd = self.user32.CreateWindowExW(
            0, cls, text, WS_CHILD | WS_VISIBLE, x, y, w, h,
            self.hwnd, ctypes.c_void_p(ident), self._hinstance, None,
        )  # fmt: skip
        if not hwnd:
            raise api.last_error()
        self.user32.SendMessageW(hwnd, api.WM_SETFONT, self._font or 0, 1)
        return hwnd

    # -- window procedure (GUI thread; also runs inside MessageBox's modal loop)
    def _window_proc(self, hwnd: Any, msg: int, wparam: int, lparam: int) -> int:
        if msg == api.WM_COMMAND and (wparam >> 16) & 0xFFFF == BN_CLICKED:
            ident = wparam & 0xFFFF
            if ident == ID_DOWNLOAD:
                self.controller.start_download()
            elif ident == ID_CANCEL:
                self.controller.cancel_download()
            elif ident == ID_DIALOG:
                self.open_dialog()
            return 0
        if msg == api.WM_TIMER and wparam in self.demo_timers:
            self.user32.KillTimer(hwnd, wparam)
            self.demo_timers.pop(wparam)()
            return 0
        if msg == api.WM_CLOSE:
            # Cancel the guest and destroy the window; the message loop ends from the
            # host's done_callback after guest teardown (not from WM_DESTROY).
            self.close()
            return 0
        return int(self.user32.DefWindowProcW(hwnd, msg, wparam, lparam))

    def after(self, ms: int, ident: int, fn: Any) -> None:
        """A one-shot host timer on the window (for --demo / --quit-after)."""
        self.demo_timers[ident] = fn
        self.user32.SetTimer(self.hwnd, ident, ms, None)

    # -- SampleView
    def show_count(self, n: int) -> None:
        self.user32.SetWindowTextW(self.count_label, f"counter: {n}")
        self.user32.SendMessageW(self.count_bar, PBM_SETPOS, n % 100, 0)

    def show_progress(self, received: int, total: int) -> None:
        self.user32.SendMessageW(self.download_bar, PBM_SETPOS, received * 1000 // max(total, 1), 0)

    def show_status(self, text: str, downloading: bool) -> None:
        self.status_text = text
        self.user32.SetWindowTextW(self.status_label, text)
        self.user32.EnableWindow(self.cancel_button, downloading)
        self.user32.EnableWindow(self.download_button, not downloading)

    def show_latency(self, stats: common.LatencyStats) -> None:
        self.user32.SetWindowTextW(self.latency_label, common.format_latency(stats))

    # -- modal dialog
    def open_dialog(self) -> None:
        if not self.dialog_open:
            self.dialog_open = True
            self.controller.spawn(self._dialog_task())

    async def _dialog_task(self) -> None:
        # MessageBoxW blocks in its own modal message loop; through modal() it runs from the
        # host, outside any guest tick, and that loop keeps dispatching the guest's wake-ups.
        try:
            code = await asyncio_guest.modal(
                self.user32.MessageBoxW,
                self.hwnd,
                "A modal dialog (MessageBox).\nThe counter keeps counting.",
                "Modal dialog",
                MB_OKCANCEL | MB_ICONINFORMATION,
            )
        finally:
            self.dialog_open = False
        self.dialog_result = "OK" if code == IDOK else "closed"
        if not self.closed:
            self.user32.SetWindowTextW(self.status_label, f"dialog closed: {self.dialog_result}")

    def close(self) -> None:
        """Window close: cancel the guest and destroy the window (loop ends after teardown)."""
        if self.closed:
            return
        self.closed = True
        self.controller.close()
        self.user32.DestroyWindow(self.hwnd)
        self.user32.UnregisterClassW(self._class_name, self._hinstance)


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--demo", action="store_true", help="start a download and open the dialog")
    parser.add_argument("--quit-after", type=float, default=0, help="close after N seconds")
    args = parser.parse_args(argv)
    if sys.platform != "win32":
        print(f"the Win32 sample needs Windows (this is {sys.platform}); see docs/hosts.md")
        return 2
    app = Win32App()
    if args.demo:
        app.after(300, TIMER_DEMO_DOWNLOAD, app.controller.start_download)
        app.after(900, TIMER_DEMO_DIALOG, app.open_dialog)
    if args.quit_after:
        app.after(int(args.quit_after * 1000), TIMER_QUIT, app.close)
    try:
        win32_host.run(app.controller.main, user32=app.user32, kernel32=app.dlls.kernel32)
    finally:
        app.close()
    print(f"guest finished cleanly; counter reached {app.controller.count}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
