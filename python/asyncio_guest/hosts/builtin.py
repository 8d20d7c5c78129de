"""The minimal built-in host: queued callables and timers, run on the calling thread.

This is what ``asyncio_guest.run`` and ``GuestEventLoop.run_forever`` (so also
``run_until_complete`` and ``asyncio.run(..., loop_factory=GuestEventLoop)``)
run on when there is no GUI. It is a real, if tiny, event loop:

* ``run_sync_soon_*`` append to a FIFO; the loop runs what is queued, oldest first.
* ``call_later`` timers (used by benchmarks and tests as "host timers").
* Thread-free mode (default on POSIX): ``wait_readable`` watches the guest
  poller's descriptor, so the guest's I/O wait happens right here, in this
  thread's ``poll()``, and never on the worker thread: the stock loop's shape.
  A post from another thread wakes ``poll()`` through a pipe, written only
  while the loop sleeps. ``QueueHost(thread_free=False)`` (and Windows, whose
  guest poller has no descriptor) sleep on a ``SimpleQueue`` instead and leave
  the I/O wait to the worker thread.

Ctrl+C interrupts the sleep in both modes (``KeyboardInterrupt`` from ``mainloop``).
"""

from __future__ import annotations

import heapq
import itertools
import os
import queue
import select
import threading
import time
from collections import deque
from typing import Any, Awaitable, Callable, Optional, TypeVar

from asyncio_guest.hosts._base import WaitReadable, run_on_host

T = TypeVar("T")

#: Seconds; the cap on one sleep (poll() and SimpleQueue.get take no larger timeouts).
_MAX_SLEEP = 24 * 3600.0


class QueueHost:
    """A host whose loop runs queued callables and due timers until :meth:`stop`."""

    host_uses_signal_set_wakeup_fd = False

    def __init__(self, thread_free: bool = True) -> None:
        if not isinstance(thread_free, bool):
            raise TypeError(f"thread_free must be a bool, got {type(thread_free).__name__}")
        self._calls: deque[Callable[[], object]] = deque()
        # Heap of [deadline, seq, fn]; a cancelled timer has fn None.
        self._timers: list[list[Any]] = []
        self._seq = itertools.count()
        # The one fd watch of thread-free mode: [fd, deadline, fn], or None.
        self._watch: Optional[list[Any]] = None
        self._running = False
        # Wakeups from other threads: True only while mainloop sleeps, so a
        # busy loop is never woken. Set and read under _wake_lock, together
        # with the queue check: "append, then read the flag" on one side and
        # "set the flag, then read the queue" on the other need one lock to be
        # ordered (without the GIL, plain attribute stores and loads are not),
        # or a post could see "awake" while the loop sees "nothing queued".
        self._sleeping = False
        self._wake_lock = threading.Lock()
        self._wake_fd = -1
        self._tokens: Optional[queue.SimpleQueue[None]] = None
        self._closed = False
        #: The thread-free capability (None: the guest's waits go to the worker).
        self.wait_readable: Optional[WaitReadable] = self._watch_fd
        if not thread_free or not hasattr(select, "poll"):
            self.wait_readable = None
            self._tokens = queue.SimpleQueue()

    #: No nested loops: nothing a callback can open runs this host's loop again.
    end_nested_loops: Optional[Callable[[], None]] = None

    # -- the Host protocol ---------------------------------------------

    def run_sync_soon_threadsafe(self, fn: Callable[[], object]) -> None:
        with self._wake_lock:
            if self._closed:
                raise RuntimeError("this QueueHost is closed: nothing posted to it can run")
            self._calls.append(fn)
            sleeping = self._sleeping
        if sleeping:
            self._wake()

    def run_sync_soon_not_threadsafe(self, fn: Callable[[], object]) -> None:
        if self._closed:
            raise RuntimeError("this QueueHost is closed: nothing posted to it can run")
        self._calls.append(fn)  # on the host thread, which is not sleeping

    def close(self) -> None:
        """Drop whatever is still queued (and the fd watch); later posts raise RuntimeError."""
        with self._wake_lock:
            self._closed = True
            self._running = False
            calls = list(self._calls)
            self._calls.clear()
        self._watch = None
        self._timers.clear()
        del calls  # dropped here, on the host thread

    def _watch_fd(
        self, fd: int, timeout: Optional[float], fn: Callable[[], object]
    ) -> Callable[[], None]:
        """Thread-free mode: run ``fn`` once when ``fd`` is readable or after ``timeout``."""
        if self._watch is not None:
            raise RuntimeError("QueueHost watches one descriptor at a time")
        deadline = _MAX_SLEEP if timeout is None else min(timeout, _MAX_SLEEP)
        watch = [fd, time.monotonic() + deadline, fn]
        self._watch = watch

        def cancel() -> None:
            if self._watch is watch:
                self._watch = None

        return cancel

    def call_later(self, delay: float, fn: Callable[[], object]) -> Callable[[], None]:
        """Run ``fn()`` on the host thread after ``delay`` seconds; returns a canceller.

        Host thread only (like every GUI toolkit's timer call)."""
        timer = [time.monotonic() + max(0.0, delay), next(self._seq), fn]
        heapq.heappush(self._timers, timer)

        def cancel() -> None:
            timer[2] = None

        return cancel

    def mainloop(self) -> None:
        if self._closed:
            return  # a closed host has nothing left to run
        self._running = True
        poller = None
        if self._tokens is None:
            read_fd, write_fd = os.pipe()
            os.set_blocking(read_fd, False)
            os.set_blocking(write_fd, False)
            with self._wake_lock:
                self._wake_fd = write_fd
            poller = select.poll()
            poller.register(read_fd, select.POLLIN)
        try:
            while self._running:
                self._run_due_timers()
                # Only what is queued now: a guest re-posting its next tick
                # must not keep timers and the sleep check waiting forever.
                for _ in range(len(self._calls)):
                    if not self._running:
                        return
                    self._calls.popleft()()
                if self._running and not self._calls:
                    self._sleep(poller, read_fd if poller is not None else -1)
        finally:
            self._sleeping = False
            if poller is not None:
                with self._wake_lock:
                    self._wake_fd = -1
                os.close(read_fd)
                os.close(write_fd)

    def stop(self) -> None:
        self._running = False

    # -- internals --------------------------------------------------------

    def _run_due_timers(self) -> None:
        timers = self._timers
        now = time.monotonic()
        while timers and timers[0][0] <= now:
            fn = heapq.heappop(timers)[2]
            if fn is not None:
                fn()
        watch = self._watch
        if watch is not None and watch[1] <= now:
            self._watch = None
            watch[2]()

    def _sleep(self, poller: Any, read_fd: int) -> None:
        """Block until a post, the watched fd, or the next deadline."""
        deadline = _MAX_SLEEP + time.monotonic()
        while self._timers and self._timers[0][2] is None:
            heapq.heappop(self._timers)  # drop cancelled timers at the head
        if self._timers:
            deadline = self._timers[0][0]
        watch = self._watch
        if watch is not None:
            deadline = min(deadline, watch[1])
        with self._wake_lock:
            if self._calls:
                return  # posted since the loop looked: run it first
            self._sleeping = True
        try:
            timeout = max(0.0, deadline - time.monotonic())
            if poller is None:
                assert self._tokens is not None
                try:
                    self._tokens.get(timeout=timeout)
                except queue.Empty:
                    pass
                return
            if watch is not None:
                poller.register(watch[0], select.POLLIN)
            try:
                # poll() takes milliseconds: round up, like asyncio's own selector loop.
                ready = poller.poll(int(timeout * 1000.0 + 0.999999))
            finally:
                if watch is not None:
                    poller.unregister(watch[0])
        finally:
            with self._wake_lock:
                self._sleeping = False
        for fd, _ in ready:
            if fd == read_fd:
                try:
                    while os.read(read_fd, 4096):
                        pass
                except BlockingIOError:
                    pass
            elif watch is not None and fd == watch[0] and self._watch is watch:
                self._watch = None
                watch[2]()

    def _wake(self) -> None:
        if self._tokens is not None:
            self._tokens.put(None)
            return
        with self._wake_lock:
            if self._wake_fd >= 0:
                try:
                    os.write(self._wake_fd, b"\0")
                except BlockingIOError:
                    pass  # the pipe is full: a wakeup is already pending


def run(async_fn: Callable[..., Awaitable[T]], *args: Any) -> Optional[T]:
    """Run ``async_fn(*args)`` as a guest of a :class:`QueueHost` on this thread.

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

        print(asyncio_guest.hosts.builtin.run(main))  # done
        ```
    """
    return run_on_host(QueueHost(), async_fn, *args)
