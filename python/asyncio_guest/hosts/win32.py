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
  ``WM_TIMER`` (``WM_PAINT`` and ``WM_TIMER`` are only synthesized when nothing else waits),
  so a guest that always has its next tick posted would starve them.  When a wake-up arrives
  while input, paint or an expired timer is pending (``GetQueueStatus`` with ``QS_INPUT |
  QS_PAINT | QS_TIMER``), the drain is deferred to a one-shot ``USER_TIMER_MINIMUM`` timer
  instead: timer messages come after input and paint, and in turn with the application's own
  ``WM_TIMER``s, so the GUI catches up first, then the guest continues.
* ``PostMessageW`` fails when the thread's posted-message queue is full (10,000 by default).
  The callable is already queued, so nothing is lost.  On the GUI thread the failure arms a
  one-shot retry timer (:data:`RETRY_MS`) that drains what has no wake-up pending; another
  thread (the worker) cannot arm a timer (``SetTimer`` belongs to the window's thread), so it
  retries ``PostMessageW`` itself, backing off, until the post succeeds or the host closes.
  Nothing runs while nothing failed: an idle host has no timer and no wake-up.
* The window procedure catches everything (ctypes would print and swallow it): an
  ``Exception`` from a callable is reported with ``sys.excepthook``, a ``KeyboardInterrupt``
  or ``SystemExit`` ends the loop and is re-raised from :meth:`Win32Host.mainloop`.

``mainloop()`` is a ``GetMessageW`` loop; ``stop()`` is ``PostQuitMessage`` (a modal loop that
sees ``WM_QUIT`` ends and re-posts it, so the outer loop ends too).
"""

from __future__ import annotations

import ctypes
import threading
import time
from typing import Any, Awaitable, Callable, Optional, TypeVar

from asyncio_guest.hosts import _win32_api as api
from asyncio_guest.hosts._base import CallQueue, HostBase, run_adapter

__all__ = ["MAX_PER_MESSAGE", "RETRY_MS", "WM_GUEST", "Win32Host", "run"]

T = TypeVar("T")

#: The wake-up message (WM_APP range: WM_USER+n collides with controls' own messages).
WM_GUEST = api.WM_APP + 1
#: Callables run per wake-up message at most.
MAX_PER_MESSAGE = 8
#: Delay of the one-shot timer that drains callables whose PostMessage failed (GUI thread).
RETRY_MS = 50
RETRY_TIMER_ID = 1
YIELD_TIMER_ID = 2
#: SetTimer clamps anything shorter to USER_TIMER_MINIMUM (10 ms).
YIELD_MS = 0


class Win32Host(HostBase):
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
        self._queue = CallQueue("Win32")
        self.end_nested_loops = self._end_nested_loops
        self._lock = self._queue.lock
        #: True while a WM_GUEST message (or the yield timer) is on its way.
        self._wake_pending = False
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
            self._queue.push_locked(fn)  # first: the message must never find the FIFO empty
            if self._wake_pending:
                return
            self._wake_pending = True
            if self._post_wake_locked():
                return
        # Another thread, and the queue is full: retry the post here (this thread is not the
        # one that drains the queue, so waiting cannot deadlock the host).
        delay = 0.0005
        while True:
            time.sleep(delay)
            delay = min(delay * 2, 0.01)
            with self._lock:
                if self._queue.closed or self._wake_pending or not len(self._queue):
                    return  # closed, or someone else's wake-up now covers our callable
                self._wake_pending = True
                if self._post_wake_locked():
                    return

    run_sync_soon_not_threadsafe = run_sync_soon_threadsafe

    def _post_wake_locked(self) -> bool:
        """Post a wake-up (``_wake_pending`` is already set).  False only when the post
        failed on another thread, which must then retry."""
        if self._user32.PostMessageW(self.hwnd, WM_GUEST, 0, 0):
            return True
        # The thread's message queue is full; the callable stays queued.
        self._wake_pending = False
        self.post_failures += 1
        if threading.get_ident() != self._thread:
            return False
        # On the GUI thread: a one-shot timer drains it once the queue has room again.
        self._wake_pending = bool(self._user32.SetTimer(self.hwnd, RETRY_TIMER_ID, RETRY_MS, None))
        return True

    # -- the window procedure (GUI thread, also inside modal loops)

    def _window_proc(self, hwnd: Any, msg: int, wparam: int, lparam: int) -> int:
        # WindowProc (winuser.h): nothing may escape into ctypes, which would print the
        # exception and return 0, losing a KeyboardInterrupt.
        try:
            if msg == WM_GUEST:
                self._on_wake()
                return 0
            if msg == api.WM_TIMER and wparam in (YIELD_TIMER_ID, RETRY_TIMER_ID):
                self._user32.KillTimer(hwnd, wparam)  # both are one-shot
                self._drain()
                return 0
            return int(self._user32.DefWindowProcW(hwnd, msg, wparam, lparam))
        except BaseException as exc:
            self.report(exc)
            return 0

    def _on_wake(self) -> None:
        busy = self._user32.GetQueueStatus(api.QS_INPUT | api.QS_PAINT | api.QS_TIMER) >> 16
        if busy and self._user32.SetTimer(self.hwnd, YIELD_TIMER_ID, YIELD_MS, None):
            # Input, paint or a due timer waits behind us: let it go first (module docstring).
            # _wake_pending stays True: the timer is the pending wake-up now.
            return
        self._drain()

    def _drain(self) -> None:
        with self._lock:
            # This wake-up is consumed: callables appended from now on post a new one.
            self._wake_pending = False
        for _ in range(MAX_PER_MESSAGE):
            fn = self._queue.pop()
            if fn is None:
                break
            self.call(fn)  # may run a modal loop, which re-enters this window procedure
            if self._pending_error is not None:
                break
        with self._lock:
            if len(self._queue) and not self._wake_pending and not self._queue.closed:
                self._wake_pending = True
                self._post_wake_locked()

    # -- loop control (GUI thread)

    def mainloop(self) -> None:
        if threading.get_ident() != self._thread:
            raise RuntimeError("mainloop() must run on the thread that created the Win32Host")
        user32 = self._user32
        msg = api.MSG()
        while True:
            got = user32.GetMessageW(ctypes.byref(msg), None, 0, 0)
            if got == 0:  # WM_QUIT
                break
            if got == -1:
                raise api.last_error()
            user32.TranslateMessage(ctypes.byref(msg))
            user32.DispatchMessageW(ctypes.byref(msg))
        self.raise_pending_error()

    def stop(self) -> None:
        # PostQuitMessage: a modal loop (MessageBox, DialogBox, menus, window dragging) that
        # sees WM_QUIT ends and re-posts it, so nested loops end first, then mainloop().
        self._user32.PostQuitMessage(0)

    def _end_nested_loops(self) -> None:
        """End the modal loops (MessageBox, DialogBox, menus) the thread is inside.

        Win32 has one way that reaches every modal loop: ``WM_QUIT``, which each of them
        ends on and re-posts, so ``mainloop`` ends too and the run is finished on the
        built-in host (the quit contract).  Only called when the run is ending anyway.
        """
        self._user32.PostQuitMessage(0)

    def close(self) -> None:
        """Drop queued callables and destroy the window (its pending messages go with it)."""
        if self._queue.closed:
            return
        self._queue.close()
        self._user32.DestroyWindow(self.hwnd)
        self._user32.UnregisterClassW(self._class_name, self._hinstance)


def run(
    async_fn: Callable[..., Awaitable[T]],
    *args: Any,
    user32: Any = None,
    kernel32: Any = None,
    **kwargs: Any,
) -> Optional[T]:
    """Run ``async_fn(*args)`` as a guest of a Win32 message loop on this thread.

    Windows the guest creates belong to this thread's loop.  Quitting follows the contract
    of :mod:`asyncio_guest.hosts`: have a window's ``WM_CLOSE`` cancel the main task
    (``asyncio.current_task()``), or call ``PostQuitMessage`` from a window procedure or a
    task (the loop ends and the run is finished on the built-in host); a quit returns
    ``None``.  Win32 has no "last window closed" event: the app decides when it quits.

    Raises:
        TypeError: ``async_fn`` is a coroutine object or not an async function, or a
            keyword argument other than the documented ones was given (pass keyword
            arguments to ``async_fn`` with ``functools.partial``). Raised before any
            window is created.
        KeyboardInterrupt: Ctrl+C ended the run (after the guest's cleanup).
        Exception: whatever the main task raised, other than the cancellation of a quit.

    Example:
        ```python
        async def main() -> int:
            await asyncio.sleep(0.5)
            user32 = ctypes.windll.user32
            return await asyncio_guest.modal(user32.MessageBoxW, None, "Hello", "demo", 0)

        asyncio_guest.hosts.win32.run(main)
        ```
    """
    return run_adapter(
        "hosts.win32.run", async_fn, args, kwargs, lambda: Win32Host(user32, kernel32)
    )
