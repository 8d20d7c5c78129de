"""wxPython host: guest ticks are ``wx.CallAfter`` calls.

Posting (see docs/hosts-b.md): both hooks use ``wx.CallAfter``, which queues an event to the
``wx.App`` with ``wxEvtHandler::QueueEvent`` and wakes the GUI thread; it is documented as the
thread-safe way to call into wx and it always defers, never runs inline.  wx has no event
priorities; queued events run when the event loop processes pending events, i.e. after the
native events already waiting (on wxGTK from the loop's idle handling), and the guest's
time-sliced ticks keep each one short, so neither side starves the other.  There is no cheaper
same-thread path, so ``run_sync_soon_not_threadsafe`` is the same hook.

Modal dialogs: ``ShowModal()`` runs a nested event loop that keeps processing pending events,
so with ``await asyncio_guest.modal(dialog.ShowModal)`` the guest keeps running while it is open.

Lifetime: while a guest runs ``SetExitOnFrameDelete(False)`` is in force, so destroying the
last frame cannot end ``MainLoop`` under a live guest; :func:`run` instead cancels the main task
when the last top-level window is destroyed.  :meth:`WxHost.stop` uses ``ExitMainLoop`` (or
exits the nested loop :meth:`WxHost.mainloop` started, when called from inside a running loop).
"""

from __future__ import annotations

import sys
import threading
from typing import Any, Awaitable, Callable, Optional, TypeVar

import wx

from asyncio_guest.hosts._base import run_on_host

__all__ = ["WxHost", "run"]

T = TypeVar("T")


class WxHost:
    """Host adapter for the process's ``wx.App`` (create it first)."""

    host_uses_signal_set_wakeup_fd = False

    def __init__(self, app: Optional[wx.App] = None) -> None:
        if app is not None and not isinstance(app, wx.App):
            raise TypeError(f"app must be a wx.App, got {type(app).__name__}")
        app = app if app is not None else wx.GetApp()
        if app is None:
            raise RuntimeError("create the wx.App first")
        self.app: wx.App = app
        self._lock = threading.Lock()
        self._closed = False
        self._error: Optional[BaseException] = None
        self._nested: Optional[wx.GUIEventLoop] = None
        self._old_exit_on_frame_delete: Optional[bool] = app.GetExitOnFrameDelete()
        app.SetExitOnFrameDelete(False)

    def _call(self, fn: Callable[[], object]) -> None:
        if self._closed:
            return  # queued before close(): the run is over, never run it late
        try:
            fn()
        except Exception:
            sys.excepthook(*sys.exc_info())
        except BaseException as exc:
            # KeyboardInterrupt / SystemExit: end the host loop, re-raise from mainloop().
            self._error = exc
            self.stop()

    def run_sync_soon_threadsafe(self, fn: Callable[[], object]) -> None:
        with self._lock:
            if self._closed:
                raise RuntimeError("the wx host is closed; the callback cannot run")
            wx.CallAfter(self._call, fn)

    run_sync_soon_not_threadsafe = run_sync_soon_threadsafe

    def mainloop(self) -> None:
        if self.app.IsMainLoopRunning():
            # Called from a handler inside a running loop: run a nested loop of our own, so
            # stop() cannot end the caller's main loop.
            self._nested = wx.GUIEventLoop()
            try:
                self._nested.Run()
            finally:
                self._nested = None
        else:
            self.app.MainLoop()
        if self._error is not None:
            error, self._error = self._error, None
            raise error

    def stop(self) -> None:
        if self._nested is not None:
            self._nested.Exit()
        else:
            self.app.ExitMainLoop()

    def close(self) -> None:
        """Make still-queued callables no-ops and restore ``ExitOnFrameDelete``."""
        with self._lock:
            self._closed = True
        if self._old_exit_on_frame_delete is not None:
            self.app.SetExitOnFrameDelete(self._old_exit_on_frame_delete)
            self._old_exit_on_frame_delete = None


def run(
    async_fn: Callable[..., Awaitable[T]],
    *args: Any,
    app: Optional[wx.App] = None,
    **kwargs: Any,
) -> T:
    """Run ``async_fn(*args)`` as a guest of wx and return its result.

    Uses ``app``, else the existing ``wx.App``, else creates one.  When the last top-level
    window is destroyed the main task is cancelled, so the guest ends cleanly.
    """
    if app is None and wx.GetApp() is None:
        app = wx.App(False)
        _apps.append(app)  # one wx.App per process: keep it for later runs
    host = WxHost(app)

    async def main() -> T:
        import asyncio

        task = asyncio.current_task()

        def on_destroy(event: wx.WindowDestroyEvent) -> None:
            event.Skip()
            gone = event.GetEventObject()
            if not isinstance(gone, wx.TopLevelWindow) or task is None:
                return
            if not any(w is not gone and not w.IsBeingDeleted() for w in wx.GetTopLevelWindows()):
                task.cancel()

        # Unhandled window events reach the app last, so this sees every window's destroy.
        host.app.Bind(wx.EVT_WINDOW_DESTROY, on_destroy)
        try:
            return await async_fn(*args)
        finally:
            host.app.Unbind(wx.EVT_WINDOW_DESTROY, handler=on_destroy)

    try:
        return run_on_host(host, main, **kwargs)
    finally:
        host.close()


_apps: list[wx.App] = []
