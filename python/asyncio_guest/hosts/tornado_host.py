"""Tornado host: guest ticks are ``IOLoop.add_callback`` callbacks.

``IOLoop.add_callback`` is documented as the one IOLoop method that is safe to call from any
thread (in Tornado 6 it is the wrapped asyncio loop's ``call_soon_threadsafe`` off-thread
and ``call_soon`` on the IOLoop's own thread), and it always defers, never runs inline.
Tornado 6 runs on an asyncio loop, so this is "guest asyncio beside a host asyncio loop on
one thread": the guest loop is the running loop only during its ticks.  The host asyncio
loop owns ``signal.set_wakeup_fd`` when it has signal handlers, hence
``host_uses_signal_set_wakeup_fd = True``.  As for any asyncio host, the guest must be
started from inside the running IOLoop (see :mod:`asyncio_guest.hosts.asyncio_host`):
``await run_as_guest(async_fn, *args, host=TornadoHost(IOLoop.current()))`` from a coroutine
on the IOLoop, or :func:`run` from synchronous code.  Thread-free mode (default, not on
Windows): the IOLoop watches the guest poller's descriptor with ``add_handler``.
"""

from __future__ import annotations

import asyncio
import sys
from typing import TYPE_CHECKING, Any, Awaitable, Callable, Optional, TypeVar, cast

from tornado.ioloop import IOLoop

from asyncio_guest.hosts._base import HostBase, run_adapter, wait_readable_once
from asyncio_guest.hosts.asyncio_host import drive_until_done

if TYPE_CHECKING:
    from tornado.platform.asyncio import BaseAsyncIOLoop

__all__ = ["TornadoHost", "run"]

T = TypeVar("T")
R = TypeVar("R")


class TornadoHost(HostBase):
    """Host adapter for a Tornado ``IOLoop`` (a new one unless given)."""

    host_uses_signal_set_wakeup_fd = True

    def __init__(self, io_loop: Optional[IOLoop] = None, thread_free: bool = True) -> None:
        if io_loop is not None and not isinstance(io_loop, IOLoop):
            raise TypeError(f"io_loop must be a tornado IOLoop, got {type(io_loop).__name__}")
        if not isinstance(thread_free, bool):
            raise TypeError(f"thread_free must be a bool, got {thread_free!r}")
        if thread_free and sys.platform != "win32":
            self.wait_readable = self._wait_readable
        self.io_loop = io_loop if io_loop is not None else IOLoop(make_current=False)
        self._owned = io_loop is None

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The asyncio loop under the IOLoop (the host loop)."""
        # Since Tornado 5 every IOLoop is a BaseAsyncIOLoop, the class that has asyncio_loop.
        return cast("BaseAsyncIOLoop", self.io_loop).asyncio_loop

    def run_sync_soon_threadsafe(self, fn: Callable[[], object]) -> None:
        if self.loop.is_closed():
            raise RuntimeError("the Tornado IOLoop is closed; the callback cannot run")
        self.io_loop.add_callback(fn)

    run_sync_soon_not_threadsafe = run_sync_soon_threadsafe

    def _wait_readable(
        self, fd: int, timeout: Optional[float], fn: Callable[[], object]
    ) -> Callable[[], None]:
        """Thread-free mode: the IOLoop watches the guest poller's descriptor."""
        io_loop = self.io_loop

        def watch_fd(cb: Callable[[], None]) -> Callable[[], None]:
            io_loop.add_handler(fd, lambda _fd, _events: cb(), IOLoop.READ)
            return lambda: io_loop.remove_handler(fd)

        def call_later(delay: float, cb: Callable[[], None]) -> Callable[[], None]:
            handle = io_loop.call_later(delay, cb)
            return lambda: io_loop.remove_timeout(handle)

        return wait_readable_once(fn, timeout, watch_fd, call_later)

    def mainloop(self) -> None:
        self.io_loop.start()

    def stop(self) -> None:
        self.io_loop.stop()

    def run_until_done(self, make_awaitable: Callable[[], Awaitable[R]]) -> R:
        """Run the IOLoop until ``make_awaitable()`` is done; return its result."""
        return cast("R", self.io_loop.run_sync(make_awaitable))

    def close(self) -> None:
        """Close the IOLoop if this host created it."""
        if self._owned:
            self.io_loop.close(all_fds=False)


def run(
    async_fn: Callable[..., Awaitable[T]],
    *args: Any,
    io_loop: Optional[IOLoop] = None,
    thread_free: bool = True,
    **kwargs: Any,
) -> Optional[T]:
    """Run ``async_fn(*args)`` as a guest beside a Tornado IOLoop and return its result.

    The IOLoop (a new one unless given; closed afterwards if new) runs until the guest is
    done (``IOLoop.run_sync``); inside ``async_fn``, ``tornado.ioloop.IOLoop.current()`` is
    not the host, so pass the host's IOLoop along if the guest needs it.  Quitting follows
    the contract of :mod:`asyncio_guest.hosts`: a quit (the main task cancelled) returns
    ``None``.

    Raises:
        TypeError: ``async_fn`` is a coroutine object or not an async function, or a
            keyword argument other than the documented ones was given (pass keyword
            arguments to ``async_fn`` with ``functools.partial``). Raised before any
            window is created.
        KeyboardInterrupt: Ctrl+C ended the run (after the guest's cleanup).
        Exception: whatever the main task raised, other than the cancellation of a quit.

    Example:
        ```python
        async def main() -> str:
            await asyncio.sleep(0.1)
            return "done"

        print(asyncio_guest.hosts.tornado_host.run(main))  # done
        ```
    """
    return run_adapter(
        "hosts.tornado_host.run",
        async_fn,
        args,
        kwargs,
        lambda: TornadoHost(io_loop, thread_free),
        drive=drive_until_done,
    )
