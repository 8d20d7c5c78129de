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

Nested loops: ``wait_window``, ``wait_variable`` and Tk's own dialogs (``tkinter.messagebox``,
``simpledialog``, ``filedialog``) grab the pointer while they wait.  When the run ends while
one is up (Ctrl+C, ``main`` returning), :meth:`TkHost.stop` destroys the grabbing windows, so
their waits return and the host loop ends at once.
"""

from __future__ import annotations

import contextlib
import math
import tkinter
from typing import Any, Awaitable, Callable, Iterator, Optional, TypeVar

from asyncio_guest.hosts._base import CallQueue, HostBase, run_adapter, wait_readable_once

__all__ = ["TkHost", "run"]

T = TypeVar("T")


class TkHost(HostBase):
    """Host adapter for a ``tkinter.Tk`` root (created if not given, and then destroyed
    by :meth:`close`)."""

    host_uses_signal_set_wakeup_fd = False

    def __init__(self, root: Optional[tkinter.Tk] = None, thread_free: bool = True) -> None:
        if root is not None and not isinstance(root, tkinter.Tk):
            raise TypeError(f"root must be a tkinter.Tk, got {type(root).__name__}")
        if not isinstance(thread_free, bool):
            raise TypeError(f"thread_free must be a bool, got {thread_free!r}")
        self.root = root if root is not None else tkinter.Tk()
        self._owns_root = root is None
        if not self.root.tk.call("info", "exists", "tcl_platform(threaded)") or not int(
            self.root.tk.call("set", "tcl_platform(threaded)")
        ):
            # Without a threaded Tcl, root.call() from the worker thread would run the Tcl
            # interpreter on the wrong thread instead of marshalling the call.
            if self._owns_root:
                self.root.destroy()
            raise RuntimeError("asyncio_guest needs a Tcl/Tk built with thread support")
        if thread_free and hasattr(self.root.tk, "createfilehandler"):
            # (Windows has no Tk file handlers: the worker thread waits there.)
            self.wait_readable = self._wait_readable
        self.end_nested_loops = self._end_nested_loops
        self._queue = CallQueue("Tk")
        self._cmd = self.root.register(self._dispatch)
        # Thread-free mode: one Tcl command for the wait's timer, registered once
        # (root.after() would create and delete a Tcl command for every wait).
        # Only one wait is ever pending, so one slot is enough.
        self._timer_cb: Optional[Callable[[], None]] = None
        self._timer_cmd = self.root.register(self._on_timer)
        #: Host callbacks running now; above 1 means a nested loop (a dialog) is up.
        self._depth = 0

    def _on_timer(self) -> None:
        cb, self._timer_cb = self._timer_cb, None
        if cb is not None and not self._queue.closed:
            self._run(cb)

    def _dispatch(self) -> None:
        fn = self._queue.pop()
        if fn is not None:
            self._run(fn)

    def _run(self, fn: Callable[[], object]) -> None:
        self._depth += 1
        try:
            self.call(fn)
        finally:
            self._depth -= 1

    def run_sync_soon_threadsafe(self, fn: Callable[[], object]) -> None:
        self._post(fn, "after", "idle", self._cmd)

    def run_sync_soon_not_threadsafe(self, fn: Callable[[], object]) -> None:
        self._post(fn, "after", "idle", "after", "0", self._cmd)

    def _post(self, fn: Callable[[], object], *script: str) -> None:
        self._queue.push(fn)
        try:
            self.root.call(*script)
        except (tkinter.TclError, RuntimeError) as exc:
            # The interpreter is gone or not in mainloop: the callable can never run.
            self._queue.close()
            raise RuntimeError(f"cannot post to the Tk host: {exc}") from exc

    def _wait_readable(
        self, fd: int, timeout: Optional[float], fn: Callable[[], object]
    ) -> Callable[[], None]:
        """Thread-free mode (Unix): Tk watches the guest poller's descriptor itself."""
        tk = self.root.tk

        def watch_fd(cb: Callable[[], None]) -> Callable[[], None]:
            tk.createfilehandler(fd, tkinter.READABLE, lambda *_: self._run(cb))
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
        self.raise_pending_error()

    def stop(self) -> None:
        # quit() (not destroy()) so a root the caller owns survives the run.
        try:
            self.root.quit()
        except tkinter.TclError:
            return  # the root is already destroyed: its mainloop has ended
        if self._depth > 1:
            self._end_nested_loops()

    def _end_nested_loops(self) -> None:
        """Destroy the windows that grab the pointer (modal dialogs), innermost first, so
        the ``wait_window``/``vwait`` that holds each one returns."""
        for _ in range(100):  # bounded: a dialog that re-grabs forever must not hang us
            try:
                grab = self.root.tk.call("grab", "current")
            except tkinter.TclError:
                return
            if not grab or str(grab) == ".":
                return
            top = self.root.tk.call("winfo", "toplevel", grab)
            if str(top) == ".":
                self.root.tk.call("grab", "release", grab)
                continue
            self.root.tk.call("destroy", top)

    def close(self) -> None:
        """Forget queued callables: nothing posted before now runs after this.  A root
        this host created is destroyed; a root it was given is left to its owner."""
        self._queue.close()
        self._timer_cb = None
        if self._owns_root:
            self._owns_root = False
            try:
                self.root.destroy()
            except tkinter.TclError:
                pass  # already destroyed


def run(
    async_fn: Callable[..., Awaitable[T]],
    *args: Any,
    root: Optional[tkinter.Tk] = None,
    thread_free: bool = True,
    **kwargs: Any,
) -> Optional[T]:
    """Run ``async_fn(*args)`` as a guest of Tk and return its result.

    Uses ``root``, else adopts tkinter's default root, else creates one (destroyed at the
    end).  Quitting follows the contract of :mod:`asyncio_guest.hosts`: closing the window
    cancels the main task (Tk's default close handler, which would destroy the window under
    the live guest, is replaced for the run; a handler of your own is kept), and so does
    ``root.destroy()`` or ``root.quit()`` from a callback or a task; a quit returns ``None``.

    Raises:
        TypeError: ``async_fn`` is a coroutine object or not an async function, or a
            keyword argument other than the documented ones was given (pass keyword
            arguments to ``async_fn`` with ``functools.partial``). Raised before any
            window is created.
        KeyboardInterrupt: Ctrl+C ended the run (after the guest's cleanup).
        Exception: whatever the main task raised, other than the cancellation of a quit.

    Example:
        ```python
        root = tkinter.Tk()
        label = tkinter.Label(root, text="0")
        label.pack()

        async def main() -> None:
            for n in range(100):
                await asyncio.sleep(0.1)
                label["text"] = str(n)

        asyncio_guest.hosts.tk.run(main, root=root)  # None if the window was closed
        ```
    """
    default_root = getattr(tkinter, "_default_root", None)
    return run_adapter(
        "hosts.tk.run",
        async_fn,
        args,
        kwargs,
        lambda: TkHost(root if root is not None else default_root, thread_free),
        watch_quit=_close_button_quits,
    )


@contextlib.contextmanager
def _close_button_quits(host: TkHost, cancel: Callable[[], None]) -> Iterator[None]:
    """While the main task runs, the window's close button cancels it (the quit contract).

    Only Tk's default handler is replaced (it would destroy the window under the live
    guest); a handler of the app's own decides what closing means, and is kept.
    """
    root = host.root
    handler = root.protocol("WM_DELETE_WINDOW")
    if not _is_tk_default_close(root, handler):
        yield
        return
    root.protocol("WM_DELETE_WINDOW", cancel)
    try:
        yield
    finally:
        _restore_close_handler(root, handler)


def _is_tk_default_close(root: tkinter.Tk, handler: object) -> bool:
    """Whether the root's ``WM_DELETE_WINDOW`` handler is still the one ``tkinter.Tk()``
    installs (a Tcl command wrapping ``root.destroy``), or none at all."""
    if not handler:
        return True
    name = str(handler)
    return name.endswith("destroy") and name in (root._tclCommands or ())  # type: ignore[attr-defined]


def _restore_close_handler(root: tkinter.Tk, handler: object) -> None:
    try:
        if root.winfo_exists():
            root.tk.call("wm", "protocol", root._w, "WM_DELETE_WINDOW", handler or "")  # type: ignore[attr-defined]
    except tkinter.TclError:
        pass  # destroyed meanwhile
