"""Win32 host (plain ctypes, no pywin32): guest ticks are messages to a message-only window.

UNTESTED ON WINDOWS: this machine runs Linux.  The queueing logic below is unit-tested with a
fake ``user32`` (tests/hosts/test_win32_queue.py), including a real guest run with real
sockets over the fake message queue; the ctypes declarations follow the documented API.

Posting (see docs/hosts.md):

* Both hooks append the callable to a FIFO *first*, then ``PostMessageW(hwnd, WM_GUEST)`` to a
  hidden message-only window (parent ``HWND_MESSAGE``) owned by the GUI thread, unless a
  wake-up for that window is already pending (one message in flight at most).  Appending
  first means the window procedure can never find the FIFO empty for its message.
* A window, not ``PostThreadMessage``: thread messages have no window, so the modal loops of
  window dragging/resizing, menus, ``MessageBox`` and ``DialogBox`` drop them and the guest
  would stall for good; messages to a window are dispatched by every message loop, modal or
  not, so the guest keeps running in all of them.
* The window procedure runs at most :data:`MAX_PER_MESSAGE` callables per message and posts
  a new wake-up if more remain, so a long queue never keeps the thread in one message.
* Fairness: ``GetMessage`` returns posted messages before input, ``WM_PAINT`` and
  ``WM_TIMER``, so a guest that always has its next tick posted would starve them.  When a
  wake-up arrives while input or paint is pending (``GetQueueStatus``), the drain is deferred
  to a one-shot ``USER_TIMER_MINIMUM`` timer instead: timer messages come after input and
  paint, so the GUI catches up first, then the guest continues.
* ``PostMessageW`` fails when the thread's posted-message queue is full (10,000 by default).
  The callable is already queued, so nothing is lost: the failure clears the pending flag
  and a periodic retry timer (:data:`RETRY_MS`, running while :meth:`Win32Host.mainloop`
  runs; ``SetTimer`` only works on the window's own thread, so the worker cannot arm one on
  failure) drains any callables that have no wake-up pending.

``mainloop()`` is a ``GetMessageW`` loop; ``stop()`` is ``PostQuitMessage`` (a modal loop that
sees ``WM_QUIT`` ends and re-posts it, so the outer loop ends too).
"""

from __future__ import annotations

import ctypes
import sys
import threading
from collections import deque
from typing import Any, Awaitable, Callable, Optional, TypeVar

from asyncio_guest.hosts import _win32_api as api
from asyncio_guest.hosts._base import run_on_host

__all__ = ["MAX_PER_MESSAGE", "RETRY_MS", "WM_GUEST", "Win32Host", "run"]

T = TypeVar("T")

#: The wake-up message (WM_APP range: WM_USER+n collides with controls' own messages).
WM_GUEST = api.WM_APP + 1
#: Callables run per wake-up message at most.
MAX_PER_MESSAGE = 8
#: Period of the safety-net timer that drains callables whose PostMessage failed.
RETRY_MS = 50
RETRY_TIMER_ID = 1
YIELD_TIMER_ID = 2
#: SetTimer clamps anything shorter to USER_TIMER_MINIMUM (10 ms).
YIELD_MS = 0


class Win32Host:
    """Host adapter for the calling thread's Win32 message loop.

    ``user32``/``kernel32`` default to the real DLLs (Windows only); tests pass fakes.
    Create it on the GUI thread: the window, and so every callable, belongs to that thread.
    """

    host_uses_signal_set_wakeup_fd = False

    def __init__(self, user32: Any = None, kernel32: Any = None) -> None:
        if user32 is None or kernel32 is None:
            dlls = api.load()
            user32 = user32 if user32 is not None else dlls.user32
            kernel32 = kernel32 if kernel32 is not None else dlls.kernel32
        self._user32 = user32
        self._queue: deque[Callable[[], object]] = deque()
        self._lock = threading.Lock()
        #: True while a WM_GUEST message (or the yield timer) is on its way.
        self._wake_pending = False
        self._closed = False
        self._error: Optional[BaseException] = None
        self._thread = threading.get_ident()
        #: PostMessage failures survived (for tests and diagnostics).
        self.post_failures = 0
        # Kept on self: Windows calls this pointer for as long as the class is registered.
        self._wndproc = api.WNDPROC(self._window_proc)
        self._hinstance = kernel32.GetModuleHandleW(None)
        self._class_name = f"asyncio_guest.Win32Host.{id(self):x}"
        wc = api.WNDCLASSEXW()
        wc.cbSize = ctypes.sizeof(api.WNDCLASSEXW)
        wc.lpfnWndProc = self._wndproc
        wc.hInstance = self._hinstance
        wc.lpszClassName = self._class_name
        if not user32.RegisterClassExW(ctypes.byref(wc)):
            raise api.last_error()
        self.hwnd = user32.CreateWindowExW(
            0,
            self._class_name,
            "asyncio_guest",
            0,
            0,
            0,
            0,
            0,
            api.HWND_MESSAGE,
            None,
            self._hinstance,
            None,
        )
        if not self.hwnd:
            error = api.last_error()
            user32.UnregisterClassW(self._class_name, self._hinstance)
            raise error

    # -- posting (any thread)

    def run_sync_soon_threadsafe(self, fn: Callable[[], object]) -> None:
        with self._lock:
            if self._closed:
                raise RuntimeError("the Win32 host is closed; the callback cannot run")
            self._queue.append(fn)  # first: the message must never find the FIFO empty
            if not self._wake_pending:
                self._wake_pending = True
                self._post_wake_locked()

    run_sync_soon_not_threadsafe = run_sync_soon_threadsafe

    def _post_wake_locked(self) -> None:
        if not self._user32.PostMessageW(self.hwnd, WM_GUEST, 0, 0):
            # Queue full: the callable stays queued; the retry timer drains it.
            self._wake_pending = False
            self.post_failures += 1

    # -- the window procedure (GUI thread, also inside modal loops)

    def _window_proc(self, hwnd: Any, msg: int, wparam: int, lparam: int) -> int:
        if msg == WM_GUEST:
            self._on_wake()
            return 0
        if msg == api.WM_TIMER and wparam == YIELD_TIMER_ID:
            self._user32.KillTimer(hwnd, YIELD_TIMER_ID)
            self._drain()
            return 0
        if msg == api.WM_TIMER and wparam == RETRY_TIMER_ID:
            with self._lock:
                stalled = bool(self._queue) and not self._wake_pending
            if stalled:
                self._drain()
            return 0
        return int(self._user32.DefWindowProcW(hwnd, msg, wparam, lparam))

    def _on_wake(self) -> None:
        busy = self._user32.GetQueueStatus(api.QS_INPUT | api.QS_PAINT) >> 16
        if busy and self._user32.SetTimer(self.hwnd, YIELD_TIMER_ID, YIELD_MS, None):
            # Input or paint waits behind us: let it go first (see the module docstring).
            # _wake_pending stays True: the timer is the pending wake-up now.
            return
        self._drain()

    def _drain(self) -> None:
        with self._lock:
            # This wake-up is consumed: callables appended from now on post a new one.
            self._wake_pending = False
        for _ in range(MAX_PER_MESSAGE):
            with self._lock:
                if self._closed or not self._queue:
                    break
                fn = self._queue.popleft()
            try:
                fn()  # may run a modal loop, which re-enters this window procedure
            except Exception:
                sys.excepthook(*sys.exc_info())
            except BaseException as exc:
                # KeyboardInterrupt / SystemExit: end the loop, re-raise from mainloop().
                self._error = exc
                self._user32.PostQuitMessage(1)
                break
        with self._lock:
            if self._queue and not self._wake_pending and not self._closed:
                self._wake_pending = True
                self._post_wake_locked()

    # -- loop control (GUI thread)

    def mainloop(self) -> None:
        if threading.get_ident() != self._thread:
            raise RuntimeError("mainloop() must run on the thread that created the Win32Host")
        user32 = self._user32
        if not user32.SetTimer(self.hwnd, RETRY_TIMER_ID, RETRY_MS, None):
            raise api.last_error()
        msg = api.MSG()
        try:
            while True:
                got = user32.GetMessageW(ctypes.byref(msg), None, 0, 0)
                if got == 0:  # WM_QUIT
                    break
                if got == -1:
                    raise api.last_error()
                user32.TranslateMessage(ctypes.byref(msg))
                user32.DispatchMessageW(ctypes.byref(msg))
        finally:
            user32.KillTimer(self.hwnd, RETRY_TIMER_ID)
        if self._error is not None:
            error, self._error = self._error, None
            raise error

    def stop(self) -> None:
        self._user32.PostQuitMessage(0)

    def close(self) -> None:
        """Drop queued callables and destroy the window (its pending messages go with it)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._queue.clear()
        self._user32.DestroyWindow(self.hwnd)
        self._user32.UnregisterClassW(self._class_name, self._hinstance)


def run(
    async_fn: Callable[..., Awaitable[T]],
    *args: Any,
    user32: Any = None,
    kernel32: Any = None,
    **kwargs: Any,
) -> T:
    """Run ``async_fn(*args)`` as a guest of a Win32 message loop on this thread.

    Windows the guest creates belong to this thread's loop; have their ``WM_CLOSE`` cancel
    the main task (``asyncio.current_task()``) so the guest ends cleanly.
    """
    host = Win32Host(user32, kernel32)
    try:
        return run_on_host(host, async_fn, *args, **kwargs)
    finally:
        host.close()
