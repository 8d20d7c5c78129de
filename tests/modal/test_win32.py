"""Win32's blocking modal calls made directly from a task: ``MessageBoxW`` and
``DialogBoxParamW``, against the fake ``user32`` of tests/hosts/test_win32_queue.py (Linux:
there is no real user32 here), extended with the two modal loops as Windows runs them.

The task calls them exactly as it would call the real functions; the guest's ticks run
inside their ``GetMessage``/``DispatchMessage`` loops because the host posts to a
message-only window (thread messages would be dropped by modal loops).  Win32 has only the
worker wait mode (the IOCP poller has no descriptor a message loop could watch).
"""

from __future__ import annotations

import ctypes
from typing import Any, Callable, Optional

import pytest

from asyncio_guest.hosts import _win32_api as api
from asyncio_guest.hosts import win32
from tests.hosts.test_win32_queue import FakeKernel32, FakeUser32
from tests.modal._toolkit import Control, Kit, check, run_all

pytestmark = pytest.mark.timeout(120)

WM_INITDIALOG = 0x0110
WM_COMMAND = 0x0111
WM_QUIT = 0x0012
IDOK = 1
IDCANCEL = 2
IDC_START = 1001
TIMER_WINDOW = 0xA000


class ModalUser32(FakeUser32):
    """The fake user32 plus ``MessageBoxW``/``DialogBoxParamW`` modal loops that run until
    closed (``EndDialog``, or the test's close), and app timers for the scenario."""

    def __init__(self) -> None:
        super().__init__()
        #: Open modal loops, innermost last: [hwnd, result or None].
        self.modals: list[list[Any]] = []
        self.app_timers: dict[int, Callable[[], None]] = {}
        self.windows[TIMER_WINDOW] = self._on_app_timer
        self._timer_ids = iter(range(1, 1 << 30))

    def _on_app_timer(self, hwnd: int, msg: int, wparam: int, lparam: int) -> int:
        self.KillTimer(hwnd, wparam)
        fn = self.app_timers.pop(wparam, None)
        if fn is not None:
            fn()
        return 0

    def call_later(self, ms: int, fn: Callable[[], None]) -> None:
        ident = next(self._timer_ids)
        self.app_timers[ident] = fn
        self.SetTimer(TIMER_WINDOW, ident, ms, None)

    def _modal_loop(self, entry: list[Any]) -> int:
        """Windows' modal loop: GetMessage/DispatchMessage until the dialog ends; WM_QUIT
        ends it and is re-posted."""
        msg = api.MSG()
        while entry[1] is None:
            m = self._next(block=False)
            if m is None:
                with self.cond:
                    self.cond.wait(0.002)
                continue
            if m[1] == WM_QUIT:
                self.PostQuitMessage(m[2])
                return 0
            msg.hWnd, msg.message, msg.wParam, msg.lParam = m
            self.DispatchMessageW(ctypes.byref(msg))
        return int(entry[1])

    def MessageBoxW(self, hwnd: int, text: str, title: str, flags: int) -> int:
        self.message_boxes += 1
        self._next_hwnd += 4
        entry = [self._next_hwnd, None]
        self.modals.append(entry)
        try:
            return self._modal_loop(entry)
        finally:
            self.modals.remove(entry)

    def DialogBoxParamW(
        self, hinstance: Any, template: Any, parent: int, dialog_proc: Any, param: int
    ) -> int:
        self._next_hwnd += 4
        hdlg = self._next_hwnd
        entry = [hdlg, None]
        self.modals.append(entry)
        self.windows[hdlg] = dialog_proc
        try:
            dialog_proc(hdlg, WM_INITDIALOG, 0, param)
            return self._modal_loop(entry)
        finally:
            self.modals.remove(entry)
            self.windows.pop(hdlg, None)

    def EndDialog(self, hdlg: int, result: int) -> int:
        for entry in self.modals:
            if entry[0] == hdlg:
                entry[1] = result
                return 1
        return 0

    def close_modal(self, hwnd: int) -> None:
        """What the user clicking OK does."""
        self.EndDialog(hwnd, IDOK)


class Win32Kit(Kit):
    name = "win32"
    kinds = ("MessageBoxW", "DialogBoxParamW")
    modes = (False,)

    def __init__(self) -> None:
        self.user32 = ModalUser32()

    def run(self, async_fn: Callable[[], Any], thread_free: bool) -> Any:
        return win32.run(async_fn, user32=self.user32, kernel32=FakeKernel32())

    def call_later(self, ms: int, fn: Callable[[], None]) -> None:
        self.user32.call_later(ms, fn)

    def modal(self, kind: str, on_open: Callable[[Control], None]) -> Any:
        user32 = self.user32
        if kind == "MessageBoxW":
            holder: list[Optional[int]] = [None]

            def opened() -> None:
                holder[0] = user32.modals[-1][0]
                on_open(Control(close=lambda: user32.close_modal(holder[0]), click=None))

            user32.call_later(20, opened)
            return user32.MessageBoxW(0, "Go on?", "Question", 0)
        if kind == "DialogBoxParamW":

            def dialog_proc(hdlg: int, msg: int, wparam: int, lparam: int) -> int:
                if msg == WM_INITDIALOG:
                    ctl = Control(
                        close=lambda: user32.EndDialog(hdlg, IDOK),
                        # A click on the dialog's button arrives as WM_COMMAND.
                        click=lambda: user32.PostMessageW(hdlg, WM_COMMAND, IDC_START, 0),
                    )
                    user32.call_later(20, lambda: on_open(ctl))
                    dialog_state[hdlg] = ctl
                    return 1
                if msg == WM_COMMAND and wparam == IDC_START:
                    dialog_state[hdlg].on_button()
                    return 1
                return 0

            dialog_state: dict[int, Control] = {}
            # Kept alive for the dialog's lifetime, as a ctypes DLGPROC would have to be.
            return user32.DialogBoxParamW(0x400000, 100, 0, dialog_proc, 0)
        raise ValueError(kind)


def test_win32_modal_calls_made_directly_keep_the_guest_running() -> None:
    kit = Win32Kit()
    results = run_all(kit)
    check(results, kit.kinds, kit.modes)
    assert not kit.user32.violations, kit.user32.violations
