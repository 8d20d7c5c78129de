"""wxPython host: guest ticks run from ``wx.CallAfter`` (other threads) and idle events.

Posting (see docs/hosts.md): both hooks append the callable to one FIFO; a drain pops and
runs the callables that were queued when it started.

* From another thread: ``wx.CallAfter(drain)``.  CallAfter queues an event to the ``wx.App``
  with ``wxEvtHandler::QueueEvent`` and wakes the GUI thread; it is the documented thread-safe
  way into wx and it always defers.  wx has no event priorities: queued events run in the
  loop's pending-event pass (on wxGTK from its idle handler, at ``G_PRIORITY_LOW``, after
  input, timers and redraws).
* From the GUI thread (the busy guest's next tick, ``modal()``): ``wx.WakeUpIdle()`` and a
  drain from the app's ``EVT_IDLE`` handler, which asks for more idle time with
  ``RequestMore()`` while callables remain.  Not CallAfter: wx's pending-event pass keeps
  going until *no* event is pending, including the ones queued during the pass, so a guest
  spinning on ``sleep(0)`` would never give the loop back (measured: a 10 ms ``wx.Timer``
  fired 0 times in 1 s).  wx stops sending idle events as soon as the toolkit has anything
  pending, so a busy guest yields to every input event, timer and redraw.  (An ``EVT_IDLE``
  handler of your own bound on the *app* must call ``event.Skip()``, as wx expects, or this
  one never sees the event.)

Modal dialogs: ``ShowModal()`` runs a nested event loop that keeps processing pending and idle
events, so with ``await asyncio_guest.modal(dialog.ShowModal)`` the guest keeps running while
the dialog is open.

Lifetime: :meth:`WxHost.mainloop` runs a ``wx.GUIEventLoop`` of its own, not
``app.MainLoop()``: wxPython's ``MainLoop`` returns at once when no top-level window exists
yet, and it ends when the last frame is deleted (``ExitOnFrameDelete``), which would abandon a
live guest.  Destroying the last frame does not end our loop; :func:`run` cancels the main
task then instead, and :meth:`WxHost.stop` exits exactly our loop, never one the caller runs.
"""

from __future__ import annotations

import sys
import threading
from collections import deque
from typing import Any, Awaitable, Callable, Optional, TypeVar

import wx

from asyncio_guest.hosts._base import cancel_once, run_on_host

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
        self._queue: deque[Callable[[], object]] = deque()
        self._lock = threading.Lock()
        self._thread = threading.get_ident()
        self._closed = False
        self._error: Optional[BaseException] = None
        self._loop: Optional[wx.GUIEventLoop] = None
        app.Bind(wx.EVT_IDLE, self._on_idle)

    def _drain(self) -> None:
        """Run the callables queued now; ones queued meanwhile wait for the next drain."""
        with self._lock:
            n = len(self._queue)
        for _ in range(n):
            with self._lock:
                if self._closed or not self._queue:
                    return  # close() dropped them: the run is over, never run them late
                fn = self._queue.popleft()
            try:
                fn()
            except Exception:
                sys.excepthook(*sys.exc_info())
            except BaseException as exc:
                # KeyboardInterrupt / SystemExit: end the host loop, re-raise from mainloop().
                self._error = exc
                self.stop()
                return

    def _on_idle(self, event: wx.IdleEvent) -> None:
        event.Skip()
        if self._queue:
            self._drain()
            if self._queue:
                event.RequestMore()

    def _append(self, fn: Callable[[], object]) -> None:
        with self._lock:
            if self._closed:
                raise RuntimeError("the wx host is closed; the callback cannot run")
            self._queue.append(fn)

    def run_sync_soon_threadsafe(self, fn: Callable[[], object]) -> None:
        if threading.get_ident() == self._thread:
            self.run_sync_soon_not_threadsafe(fn)
            return
        self._append(fn)
        wx.CallAfter(self._drain)

    def run_sync_soon_not_threadsafe(self, fn: Callable[[], object]) -> None:
        self._append(fn)
        wx.WakeUpIdle()

    def mainloop(self) -> None:
        # A loop of our own, not app.MainLoop(): wxPython's MainLoop returns at once when no
        # top-level window exists yet, and stop() must never end a loop the caller runs.
        self._loop = wx.GUIEventLoop()
        try:
            self._loop.Run()
        finally:
            self._loop = None
        if self._error is not None:
            error, self._error = self._error, None
            raise error

    def stop(self) -> None:
        if self._loop is not None:
            self._loop.Exit()

    def close(self) -> None:
        """Drop still-queued callables and unbind the idle handler."""
        with self._lock:
            self._closed = True
            self._queue.clear()
        self.app.Unbind(wx.EVT_IDLE, handler=self._on_idle)


def run(
    async_fn: Callable[..., Awaitable[T]],
    *args: Any,
    app: Optional[wx.App] = None,
    **kwargs: Any,
) -> T:
    """Run ``async_fn(*args)`` as a guest of wx and return its result.

    Uses ``app``, else the existing ``wx.App``, else creates one.  When the last top-level
    window is destroyed the main task is cancelled, so the guest ends cleanly.

    Ctrl+C: ``wx.App()`` resets SIGINT to ``SIG_DFL`` by default (``clearSigInt=True``), so
    Ctrl+C kills the process at once.  The app created here passes ``clearSigInt=False``, so
    Ctrl+C cancels the main task like ``asyncio.run`` does; create yours the same way.
    """
    if app is None and wx.GetApp() is None:
        app = wx.App(False, clearSigInt=False)
        _apps.append(app)  # one wx.App per process: keep it for later runs
    host = WxHost(app)

    async def main() -> T:
        import asyncio

        task = asyncio.current_task()
        cancel = cancel_once(task)

        def on_destroy(event: wx.WindowDestroyEvent) -> None:
            event.Skip()
            gone = event.GetEventObject()
            if not isinstance(gone, wx.TopLevelWindow) or task is None:
                return
            if not any(w is not gone and not w.IsBeingDeleted() for w in wx.GetTopLevelWindows()):
                cancel()

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
