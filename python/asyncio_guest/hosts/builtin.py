"""The minimal built-in host: a queue drained on the calling thread.

This is what ``GuestEventLoop.run_forever`` (and so ``run_until_complete``,
``asyncio.run(..., loop_factory=GuestEventLoop)``) runs on when there is no GUI:
the guest's ticks are queued here and run one by one; while the guest waits for
I/O, the thread sleeps in ``SimpleQueue.get`` (interruptible by Ctrl+C) and the
worker thread sleeps in the OS poller.
"""

from __future__ import annotations

import queue
from typing import Any, Awaitable, Callable, TypeVar

from asyncio_guest.hosts._base import run_on_host

T = TypeVar("T")


class QueueHost:
    """A host whose loop runs queued callables until :meth:`stop`."""

    host_uses_signal_set_wakeup_fd = False

    def __init__(self) -> None:
        self._queue: queue.SimpleQueue[Callable[[], object]] = queue.SimpleQueue()
        self._running = False

    def run_sync_soon_threadsafe(self, fn: Callable[[], object]) -> None:
        self._queue.put(fn)

    # SimpleQueue.put is already cheap from the owning thread.
    run_sync_soon_not_threadsafe = run_sync_soon_threadsafe

    def mainloop(self) -> None:
        self._running = True
        get = self._queue.get
        while self._running:
            get()()

    def stop(self) -> None:
        self._running = False


def run(async_fn: Callable[..., Awaitable[T]], *args: Any) -> T:
    """Run ``async_fn(*args)`` as a guest of a :class:`QueueHost` on this thread."""
    return run_on_host(QueueHost(), async_fn, *args)
