"""The webview as an asyncio-guest host, and the one implementation of a webview run.

* ``run_sync_soon_threadsafe(fn)`` is ``webview_dispatch``: a ``g_idle_add`` on GTK,
  safe from the asyncio-guest worker thread, FIFO, never inline.  The same-thread post
  is the same call (the library has nothing cheaper).
* ``mainloop()`` is ``webview_run``, with the GIL released while GTK waits.
* ``stop()`` is ``webview_terminate``.

The webview's loop also ends on its own when the user closes the window.  Guest mode
must not lose the guest then, so :meth:`WebviewHost.mainloop` tells the guest to wind
down (``on_close``) and keeps the GUI loop turning until ``stop()`` is called from
``done_callback``, i.e. until the guest is completely torn down.

:func:`serve` runs any ``async def`` as the guest of a webview while serving its
bindings; :func:`run_until_closed` is ``Webview.run()`` for both webview classes (ours
and the ``webview-python`` adapter's).
"""

from __future__ import annotations

import asyncio
import functools
from typing import Any, Awaitable, Callable, Optional, Protocol, TypeVar

from asyncio_guest.hosts import run_on_host
from asyncio_guest.hosts._base import HostBase
from asyncio_guest_webview._bridge import Bridge

__all__ = ["GuestWebview", "NativeLoop", "WebviewHost", "run_until_closed", "serve"]

T = TypeVar("T")


class NativeLoop(Protocol):
    """The library's loop primitives (our PyO3 class, or the webview-python adapter's)."""

    def dispatch(self, fn: Callable[[], object], /) -> None: ...

    def run(self) -> None: ...

    def terminate(self) -> None: ...

    @property
    def destroyed(self) -> bool: ...


class GuestWebview(Protocol):
    """What a webview offers to run asyncio as its guest.

    ``native``: the library's loop primitives; ``bridge``: the call bridge its bindings
    go through; ``destroy()``: free it (deferred to the end of a run inside one).
    """

    @property
    def native(self) -> NativeLoop: ...

    @property
    def bridge(self) -> Bridge: ...

    def destroy(self) -> None: ...


class WebviewHost(HostBase):
    """The asyncio-guest ``Host`` over one webview (see the module docstring).

    No optional capabilities: the library offers no fd watch (the guest's I/O wait runs on
    the worker thread) and no nested loops.  GTK's main loop does not own
    ``signal.set_wakeup_fd``, so asyncio-guest may use it.  A ``KeyboardInterrupt`` raised
    by a posted callable stops the library's loop (the binding re-raises it from ``run``);
    :meth:`mainloop` winds the guest down and re-raises it afterwards.
    """

    def __init__(
        self, webview: GuestWebview, on_close: Optional[Callable[[], None]] = None
    ) -> None:
        self.webview = webview
        #: Called (once per ``mainloop``) on the GUI thread when the loop ended without
        #: ``stop()``: the window was closed or ``terminate()`` was called.  It should make
        #: the guest finish, e.g. cancel its main task.
        self.on_close = on_close
        self._stopped = False
        self._closed = False

    def _run_posted(self, fn: Callable[[], object]) -> None:
        if not self._closed:
            fn()

    def run_sync_soon_threadsafe(self, fn: Callable[[], object]) -> None:
        if self._closed:
            raise RuntimeError("the webview host is closed; the callback cannot run")
        self.webview.native.dispatch(functools.partial(self._run_posted, fn))

    def run_sync_soon_not_threadsafe(self, fn: Callable[[], object]) -> None:
        self.run_sync_soon_threadsafe(fn)

    def mainloop(self) -> None:
        native = self.webview.native
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
        self.webview.native.terminate()

    def close(self) -> None:
        """Forget queued callables: nothing posted before now runs after this."""
        self._closed = True


def serve(webview: GuestWebview, async_fn: Callable[..., Awaitable[T]], *args: Any) -> Optional[T]:
    """Run ``async_fn(*args)`` as the guest of ``webview``, serving its bindings.

    Returns what ``async_fn`` returns.  Closing the window (or ``terminate()``) is a quit,
    as on every asyncio-guest host: the in-flight JS calls and streams are cancelled (their
    Promises reject with ``CancelledError``), so is ``async_fn``, and ``serve`` returns
    None once everything is torn down.
    """
    bridge = webview.bridge
    if bridge.running:
        raise RuntimeError("run() is already running")
    if webview.native.destroyed:
        raise RuntimeError("the webview was destroyed")
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
    finally:
        host.close()


async def _until_cancelled() -> None:
    await asyncio.get_running_loop().create_future()


def run_until_closed(webview: GuestWebview) -> None:
    """``Webview.run()``: serve the bindings until the window closes, then destroy it."""
    try:
        serve(webview, _until_cancelled)
    finally:
        if not webview.bridge.running:
            webview.destroy()
