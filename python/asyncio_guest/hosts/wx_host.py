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
``wx.App.ExitMainLoop()`` only ends ``app.MainLoop()``, which does not run here: to quit, close
the frame (``frame.Close()``) or cancel the main task.  When the run ends while modal dialogs
opened from host callbacks are up (Ctrl+C, ``main`` returning), :meth:`WxHost.stop` ends them
with ``EndModal(wx.ID_CANCEL)``, so exit is prompt.
"""

from __future__ import annotations

import contextlib
import threading
from typing import Any, Awaitable, Callable, Iterator, Optional, TypeVar

import wx

from asyncio_guest.hosts._base import CallQueue, HostBase, run_adapter

__all__ = ["WxHost", "run"]

T = TypeVar("T")


class WxHost(HostBase):
    """Host adapter for the process's ``wx.App`` (create it first)."""

    host_uses_signal_set_wakeup_fd = False

    def __init__(self, app: Optional[wx.App] = None) -> None:
        if app is not None and not isinstance(app, wx.App):
            raise TypeError(f"app must be a wx.App, got {type(app).__name__}")
        app = app if app is not None else wx.GetApp()
        if app is None:
            raise RuntimeError("create the wx.App first")
        self.app: wx.App = app
        self._queue = CallQueue("wx")
        self._thread = threading.get_ident()
        self._loop: Optional[wx.GUIEventLoop] = None
        #: Host callbacks running now; above 1 means a nested loop (a dialog) is up.
        self._depth = 0
        self.end_nested_loops = self._end_nested_loops
        app.Bind(wx.EVT_IDLE, self._on_idle)

    def _drain(self) -> None:
        """Run the callables queued now; ones queued meanwhile wait for the next drain."""
        for _ in range(len(self._queue)):
            fn = self._queue.pop()
            if fn is None:
                return  # close() dropped them: the run is over, never run them late
            self._depth += 1
            try:
                self.call(fn)
            finally:
                self._depth -= 1
            if self._pending_error is not None:
                return

    def _on_idle(self, event: wx.IdleEvent) -> None:
        event.Skip()
        if self._queue:
            self._drain()
            if self._queue:
                event.RequestMore()

    def run_sync_soon_threadsafe(self, fn: Callable[[], object]) -> None:
        if threading.get_ident() == self._thread:
            self.run_sync_soon_not_threadsafe(fn)
            return
        self._queue.push(fn)
        wx.CallAfter(self._drain)

    def run_sync_soon_not_threadsafe(self, fn: Callable[[], object]) -> None:
        self._queue.push(fn)
        wx.WakeUpIdle()

    def mainloop(self) -> None:
        # A loop of our own, not app.MainLoop(): wxPython's MainLoop returns at once when no
        # top-level window exists yet, and stop() must never end a loop the caller runs.
        self._loop = wx.GUIEventLoop()
        try:
            self._loop.Run()
        finally:
            self._loop = None
        self.raise_pending_error()

    def stop(self) -> None:
        if self._depth > 1:
            self._end_nested_loops()
        if self._loop is None:
            return
        if self._loop.IsRunning():
            self._loop.Exit()
        else:
            # A nested loop (a dialog) runs inside ours: ours ends once it is back in control.
            self._loop.ScheduleExit()

    def _end_nested_loops(self) -> None:
        """End the modal dialogs that are up (``ShowModal`` returns ``wx.ID_CANCEL``)."""
        for window in wx.GetTopLevelWindows():
            if isinstance(window, wx.Dialog) and window.IsModal():
                window.EndModal(wx.ID_CANCEL)

    def close(self) -> None:
        """Drop still-queued callables and unbind the idle handler."""
        self._queue.close()
        self.app.Unbind(wx.EVT_IDLE, handler=self._on_idle)


def run(
    async_fn: Callable[..., Awaitable[T]],
    *args: Any,
    app: Optional[wx.App] = None,
    **kwargs: Any,
) -> Optional[T]:
    """Run ``async_fn(*args)`` as a guest of wx and return its result.

    Uses ``app``, else the existing ``wx.App``, else creates one.  Quitting follows the
    contract of :mod:`asyncio_guest.hosts`: when the last top-level window is destroyed (its
    close button, ``Close()``, ``Destroy()``) the main task is cancelled; a quit returns
    ``None``.

    Ctrl+C: ``wx.App()`` resets SIGINT to ``SIG_DFL`` by default (``clearSigInt=True``), so
    Ctrl+C kills the process at once.  The app created here passes ``clearSigInt=False``, so
    Ctrl+C cancels the main task like ``asyncio.run`` does; create yours the same way.

    Raises:
        TypeError: ``async_fn`` is a coroutine object or not an async function, or a
            keyword argument other than the documented ones was given (pass keyword
            arguments to ``async_fn`` with ``functools.partial``). Raised before any
            window is created.
        KeyboardInterrupt: Ctrl+C ended the run (after the guest's cleanup).
        Exception: whatever the main task raised, other than the cancellation of a quit.

    Example:
        ```python
        app = wx.App(False, clearSigInt=False)
        frame = wx.Frame(None, title="demo")
        label = wx.StaticText(frame, label="0")
        frame.Show()

        async def main() -> None:
            for n in range(100):
                await asyncio.sleep(0.1)
                label.SetLabel(str(n))

        asyncio_guest.hosts.wx_host.run(main, app=app)  # None if the frame was closed
        ```
    """

    def make_host() -> WxHost:
        wx_app = app
        if wx_app is None and wx.GetApp() is None:
            wx_app = wx.App(False, clearSigInt=False)
            _apps.append(wx_app)  # one wx.App per process: keep it for later runs
        return WxHost(wx_app)

    return run_adapter(
        "hosts.wx_host.run", async_fn, args, kwargs, make_host, watch_quit=_last_window_quits
    )


@contextlib.contextmanager
def _last_window_quits(host: WxHost, cancel: Callable[[], None]) -> Iterator[None]:
    """While the main task runs, the last top-level window being destroyed cancels it."""

    def on_destroy(event: wx.WindowDestroyEvent) -> None:
        event.Skip()
        gone = event.GetEventObject()
        if not isinstance(gone, wx.TopLevelWindow):
            return
        if not any(w is not gone and not w.IsBeingDeleted() for w in wx.GetTopLevelWindows()):
            cancel()

    # Unhandled window events reach the app last, so this sees every window's destroy.
    host.app.Bind(wx.EVT_WINDOW_DESTROY, on_destroy)
    try:
        yield
    finally:
        host.app.Unbind(wx.EVT_WINDOW_DESTROY, handler=on_destroy)


_apps: list[wx.App] = []
