"""The webview as an asyncio-guest host, on the shared :class:`asyncio_guest.hosts.Host` protocol.

* ``run_sync_soon_threadsafe(fn)`` is ``webview_dispatch``: a ``g_idle_add`` on GTK,
  safe from the asyncio-guest worker thread, FIFO, never inline.  The same-thread post
  is the same call (the library has nothing cheaper).
* ``mainloop()`` is ``webview_run``, with the GIL released while GTK waits.
* ``stop()`` is ``webview_terminate``.

The webview's loop also ends on its own when the user closes the window.  Guest mode
must not lose the guest then, so :meth:`WebviewHost.mainloop` tells the guest to wind
down (``on_close``) and keeps the GUI loop turning until ``stop()`` is called from
``done_callback``, i.e. until the guest is completely torn down.

Use :func:`run` to run any ``async def`` with a webview window::

    from asyncio_guest_webview import Webview
    from asyncio_guest_webview.host import run

    webview = Webview()
    webview.set_html("<p>hi</p>")
    result = run(main, webview=webview)   # closing the window cancels main()
"""

from __future__ import annotations

import asyncio
from typing import Any, Awaitable, Callable, Optional, Protocol, TypeVar

from asyncio_guest.hosts import run_on_host
from asyncio_guest_webview._api import Webview
from asyncio_guest_webview._bridge import Bridge

__all__ = ["GuestWebview", "WebviewHost", "run", "run_bridge"]

T = TypeVar("T")


class NativeLoop(Protocol):
    """The library's loop primitives (our PyO3 class, or the webview-python adapter's)."""

    def dispatch(self, fn: Callable[[], object], /) -> None: ...

    def run(self) -> None: ...

    def terminate(self) -> None: ...

    @property
    def destroyed(self) -> bool: ...


class GuestWebview(Protocol):
    """What the host needs from a webview object: its loop primitives and its call bridge."""

    @property
    def _native(self) -> NativeLoop: ...

    @property
    def _bridge(self) -> Bridge: ...


class WebviewHost:
    """Host protocol implementation over one :class:`~asyncio_guest_webview.Webview`."""

    #: GTK's main loop does not own ``signal.set_wakeup_fd``; asyncio-guest may use it.
    host_uses_signal_set_wakeup_fd = False

    def __init__(
        self, webview: GuestWebview, on_close: Optional[Callable[[], None]] = None
    ) -> None:
        self.webview = webview
        #: Called (once per ``mainloop``) on the GUI thread when the loop ended without
        #: ``stop()``: the window was closed or ``terminate()`` was called.  It should make
        #: the guest finish, e.g. cancel its main task.
        self.on_close = on_close
        self._stopped = False

    def run_sync_soon_threadsafe(self, fn: Callable[[], object]) -> None:
        self.webview._native.dispatch(fn)

    def run_sync_soon_not_threadsafe(self, fn: Callable[[], object]) -> None:
        self.webview._native.dispatch(fn)

    def mainloop(self) -> None:
        native = self.webview._native
        self._stopped = False
        notified = False
        error: Optional[BaseException] = None
        while not self._stopped:
            try:
                native.run()
            except BaseException as exc:
                # KeyboardInterrupt from a callback: wind the guest down first and
                # re-raise afterwards; a second one gives up waiting.
                if error is not None:
                    raise
                error = exc
            if native.destroyed:
                raise RuntimeError("the webview was destroyed while the guest was running")
            if not self._stopped and not notified:
                notified = True
                if self.on_close is not None:
                    self.on_close()
        if error is not None:
            raise error

    def stop(self) -> None:
        self._stopped = True
        self.webview._native.terminate()


def run_bridge(
    webview: GuestWebview,
    async_fn: Callable[..., Awaitable[T]],
    *args: Any,
    cancelled_ok: bool = True,
) -> Optional[T]:
    """Run ``async_fn(*args)`` as the guest of ``webview``, serving its async bindings.

    Closing the window (or ``terminate()``) cancels the in-flight JS calls (their
    Promises reject with ``CancelledError``) and ``async_fn``; ``run_bridge`` then returns
    None, or raises ``CancelledError`` when ``cancelled_ok`` is false.
    """
    bridge = webview._bridge
    main_task: list[asyncio.Task[Any]] = []
    closed: list[bool] = []

    def on_close() -> None:
        closed.append(True)
        bridge.begin_shutdown()
        if main_task:
            main_task[0].cancel()

    async def main() -> T:
        task = asyncio.current_task()
        assert task is not None
        main_task.append(task)
        bridge.attach(asyncio.get_running_loop())
        try:
            if closed:  # closed before the first tick
                raise asyncio.CancelledError
            return await async_fn(*args)
        finally:
            bridge.begin_shutdown()
            try:
                await bridge.wait_calls()
            finally:
                bridge.detach()

    host = WebviewHost(webview, on_close)
    try:
        return run_on_host(host, main)
    except asyncio.CancelledError:
        if closed and cancelled_ok:
            return None
        raise


def run(async_fn: Callable[..., Awaitable[T]], *args: Any, webview: Optional[Webview] = None) -> T:
    """Run ``async_fn(*args)`` as a guest of a webview's loop and return its result.

    With no ``webview`` a blank window is created (and destroyed at the end); a given
    webview is left alive for the caller.  Closing the window cancels ``async_fn``:
    ``run`` raises ``asyncio.CancelledError`` then.
    """
    owned = webview is None
    wv = Webview() if webview is None else webview
    try:
        return run_bridge(wv, async_fn, *args, cancelled_ok=False)  # type: ignore[return-value]
    finally:
        if owned:
            wv.destroy()
