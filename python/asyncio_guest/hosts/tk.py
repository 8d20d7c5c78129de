"""tkinter host: guest ticks run as Tk idle callbacks of one registered Tcl command.

Posting (see docs/hosts.md): every hook appends the callable to a FIFO and schedules one run
of a single Tcl command registered once at start-up; each run pops the *oldest* callable, so
the number of queued callables and scheduled Tcl events stay paired and order is FIFO.

* threadsafe: ``after idle <cmd>`` issued with ``root.call`` from the worker thread.  With a
  threaded Tcl (required; checked) ``_tkinter`` marshals the call to the Tcl thread as an event
  and waits for it, so the post is safe; it only works while the main thread is in
  ``mainloop`` (or a nested Tk loop such as ``wait_window``), which is exactly when the
  worker can be waiting.
* same thread: ``after idle after 0 <cmd>``: the idle callback only arms a 0 ms timer, so a
  guest that keeps itself busy (``await asyncio.sleep(0)`` in a loop) still lets Tk process
  its event queue between two ticks instead of draining an endless idle queue.
* thread-free mode (default on Unix): Tk watches the guest poller's descriptor itself
  (``createfilehandler``) plus an ``after`` timer for the next guest timer, so the guest's
  I/O wait does not use the worker thread.  ``TkHost(thread_free=False)`` keeps the worker.
"""

from __future__ import annotations

import math
import tkinter
from collections import deque
from typing import Any, Awaitable, Callable, Optional, TypeVar

from asyncio_guest.hosts._base import run_on_host, wait_readable_once

__all__ = ["TkHost", "run"]

T = TypeVar("T")


class TkHost:
    """Host adapter for a ``tkinter.Tk`` root (created if not given)."""

    host_uses_signal_set_wakeup_fd = False

    def __init__(self, root: Optional[tkinter.Tk] = None, thread_free: bool = True) -> None:
        if root is not None and not isinstance(root, tkinter.Tk):
            raise TypeError(f"root must be a tkinter.Tk, got {type(root).__name__}")
        self.root = root if root is not None else tkinter.Tk()
        if not thread_free or not hasattr(self.root.tk, "createfilehandler"):
            # Windows has no Tk file handlers: the worker thread waits instead.
            self.wait_readable = None  # type: ignore[method-assign,assignment]
        if not self.root.tk.call("info", "exists", "tcl_platform(threaded)") or not int(
            self.root.tk.call("set", "tcl_platform(threaded)")
        ):
            # Without a threaded Tcl, root.call() from the worker thread would run the Tcl
            # interpreter on the wrong thread instead of marshalling the call.
            raise RuntimeError("asyncio_guest needs a Tcl/Tk built with thread support")
        self._queue: deque[Callable[[], object]] = deque()
        self._cmd = self.root.register(self._dispatch)
        # Thread-free mode: one Tcl command for the wait's timer, registered once
        # (root.after() would create and delete a Tcl command for every wait).
        # Only one wait is ever pending, so one slot is enough.
        self._timer_cb: Optional[Callable[[], None]] = None
        self._timer_cmd = self.root.register(self._on_timer)
        self._closed = False

    def _on_timer(self) -> None:
        cb, self._timer_cb = self._timer_cb, None
        if cb is not None and not self._closed:
            cb()

    def _dispatch(self) -> None:
        fn = self._queue.popleft()
        if not self._closed:
            fn()

    def run_sync_soon_threadsafe(self, fn: Callable[[], object]) -> None:
        self._post(fn, "after", "idle", self._cmd)

    def run_sync_soon_not_threadsafe(self, fn: Callable[[], object]) -> None:
        self._post(fn, "after", "idle", "after", "0", self._cmd)

    def _post(self, fn: Callable[[], object], *script: str) -> None:
        if self._closed:
            raise RuntimeError("the Tk host is closed; the callback cannot run")
        self._queue.append(fn)
        try:
            self.root.call(*script)
        except (tkinter.TclError, RuntimeError) as exc:
            # The interpreter is gone or not in mainloop: the callable can never run.
            self._closed = True
            raise RuntimeError(f"cannot post to the Tk host: {exc}") from exc

    def wait_readable(
        self, fd: int, timeout: Optional[float], fn: Callable[[], object]
    ) -> Callable[[], None]:
        """Thread-free mode (Unix): Tk watches the guest poller's descriptor itself."""
        tk = self.root.tk

        def watch_fd(cb: Callable[[], None]) -> Callable[[], None]:
            tk.createfilehandler(fd, tkinter.READABLE, lambda *_: cb())
            return lambda: tk.deletefilehandler(fd)

        def call_later(delay: float, cb: Callable[[], None]) -> Callable[[], None]:
            # Milliseconds, rounded up: a timer that fires early only costs a re-wait.
            self._timer_cb = cb
            timer = tk.call("after", max(0, math.ceil(delay * 1000)), self._timer_cmd)

            def cancel() -> None:
                self._timer_cb = None
                tk.call("after", "cancel", timer)

            return cancel

        return wait_readable_once(fn, timeout, watch_fd, call_later)

    def mainloop(self) -> None:
        self.root.mainloop()

    def stop(self) -> None:
        # quit() (not destroy()) so a root the caller owns survives the run.
        self.root.quit()

    def close(self) -> None:
        """Forget queued callables: nothing posted before now runs after this."""
        self._closed = True
        self._queue.clear()


def run(
    async_fn: Callable[..., Awaitable[T]],
    *args: Any,
    root: Optional[tkinter.Tk] = None,
    **kwargs: Any,
) -> T:
    """Run ``async_fn(*args)`` as a guest of Tk and return its result.

    Uses ``root``, else adopts tkinter's default root, else creates one (destroyed at the
    end).  Unless the caller set its own ``WM_DELETE_WINDOW`` handler, closing the window
    cancels the main task, so the guest ends cleanly instead of being abandoned.
    """
    default_root = getattr(tkinter, "_default_root", None)
    owned = root is None and default_root is None
    host = TkHost(root if root is not None else default_root)

    async def main() -> T:
        import asyncio

        task = asyncio.current_task()
        if task is not None and not host.root.protocol("WM_DELETE_WINDOW"):
            host.root.protocol("WM_DELETE_WINDOW", task.cancel)
        return await async_fn(*args)

    try:
        return run_on_host(host, main, **kwargs)
    finally:
        host.close()
        if owned:
            try:
                host.root.destroy()
            except tkinter.TclError:
                pass  # already destroyed
