"""asyncio loop as host: guest asyncio beside a host asyncio loop on the same thread.

The guest's ticks are callbacks of the host loop: ``call_soon_threadsafe`` from the worker
thread (it writes to the host loop's self-pipe, so a host blocked in ``select`` wakes up) and
plain ``call_soon`` on the host thread (no self-pipe write needed: the host is running and
will pick the callback up on its next iteration; never inline).  The guest loop becomes the
running loop only during its ticks; the host's running loop is restored after each.  The
host loop owns ``signal.set_wakeup_fd`` (it sets it for ``add_signal_handler``, and
``asyncio.run`` installs its own SIGINT handling), hence ``host_uses_signal_set_wakeup_fd``.

The guest must be started from *inside* the running host loop: that is how the core tells
an asyncio host (swap the running loop per tick) from a non-asyncio one (stay the running loop
for the whole run).  So :func:`asyncio_guest.hosts.run_on_host`, which starts the guest
before ``mainloop()``, is not used here.  Two ways in:

* ``await asyncio_guest.hosts.asyncio_host.run_as_guest(async_fn, *args)`` from host asyncio code
  (returns the guest's result, raises its exception);
* ``asyncio_guest.hosts.asyncio_host.run(async_fn, *args)`` from synchronous code: a new host loop
  on this thread runs until the guest is done.
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any, Awaitable, Callable, Optional, TypeVar

import outcome

from asyncio_guest.hosts._base import Host, start_on_host, wait_readable_once

__all__ = ["AsyncioHost", "run", "run_as_guest"]

T = TypeVar("T")


class AsyncioHost:
    """Host adapter for an asyncio event loop (a new one unless given)."""

    host_uses_signal_set_wakeup_fd = True

    def __init__(
        self, loop: Optional[asyncio.AbstractEventLoop] = None, thread_free: bool = True
    ) -> None:
        if loop is not None and not isinstance(loop, asyncio.AbstractEventLoop):
            raise TypeError(f"loop must be an asyncio event loop, got {type(loop).__name__}")
        if not thread_free or sys.platform == "win32":
            # The worker thread waits instead (Windows: the proactor loop has no add_reader).
            self.wait_readable = None  # type: ignore[method-assign,assignment]
        self.loop = loop if loop is not None else asyncio.new_event_loop()
        self._owned = loop is None

    def run_sync_soon_threadsafe(self, fn: Callable[[], object]) -> None:
        # Raises RuntimeError("Event loop is closed") if the host is gone: never dropped.
        self.loop.call_soon_threadsafe(fn)

    def run_sync_soon_not_threadsafe(self, fn: Callable[[], object]) -> None:
        self.loop.call_soon(fn)

    def wait_readable(
        self, fd: int, timeout: Optional[float], fn: Callable[[], object]
    ) -> Callable[[], None]:
        """Thread-free mode: the host loop watches the guest poller's descriptor."""
        loop = self.loop

        def watch_fd(cb: Callable[[], None]) -> Callable[[], None]:
            loop.add_reader(fd, cb)
            return lambda: loop.remove_reader(fd)  # type: ignore[return-value]

        def call_later(delay: float, cb: Callable[[], None]) -> Callable[[], None]:
            return loop.call_later(delay, cb).cancel

        return wait_readable_once(fn, timeout, watch_fd, call_later)

    def mainloop(self) -> None:
        self.loop.run_forever()

    def stop(self) -> None:
        self.loop.stop()

    def close(self) -> None:
        """Close the loop if this host created it."""
        if self._owned and not self.loop.is_closed():
            self.loop.close()


async def run_as_guest(
    async_fn: Callable[..., Awaitable[T]],
    *args: Any,
    host: Optional[Host] = None,
    **kwargs: Any,
) -> T:
    """From host asyncio code: run ``async_fn(*args)`` as a guest beside the running loop.

    ``host`` defaults to an :class:`AsyncioHost` on the running loop (Tornado passes its own).
    Cancelling the caller cancels the guest; this returns only after the guest's teardown.
    """
    loop = asyncio.get_running_loop()
    if host is None:
        host = AsyncioHost(loop)
    done: asyncio.Future[outcome.Outcome] = loop.create_future()

    def done_callback(result: outcome.Outcome) -> None:
        if not done.done():
            done.set_result(result)

    guest_task = start_on_host(host, async_fn, *args, done_callback=done_callback, **kwargs)
    try:
        result = await asyncio.shield(done)
    except asyncio.CancelledError:
        # Cancelling the caller cancels the guest, and we still must not return before the
        # guest is torn down (done_callback), or its chain would outlive us.
        guest_task.cancel()
        while not done.done():
            try:
                await asyncio.shield(done)
            except asyncio.CancelledError:
                pass
        raise
    return result.unwrap()


def run(
    async_fn: Callable[..., Awaitable[T]],
    *args: Any,
    loop: Optional[asyncio.AbstractEventLoop] = None,
    **kwargs: Any,
) -> T:
    """Run ``async_fn(*args)`` as a guest of an asyncio host loop (new unless given).

    The host loop runs until the guest is done (``run_until_complete`` of
    :func:`run_as_guest`); a loop created here is closed afterwards.
    """
    host = AsyncioHost(loop)
    try:
        return host.loop.run_until_complete(run_as_guest(async_fn, *args, host=host, **kwargs))
    finally:
        host.close()
