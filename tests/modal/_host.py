"""A small re-entrant host for the nested-loop tests: its loop can run inside itself.

``NestingHost.run_until(pred)`` is the host's event loop; a "modal dialog" is the same
loop run from inside a callback until the dialog is closed, exactly what a toolkit's
``exec()`` does.  Both wait modes: with ``thread_free=True`` the host watches the guest
poller's descriptor itself (``wait_readable``), otherwise the worker thread waits.
"""

from __future__ import annotations

import heapq
import itertools
import os
import select
import threading
import time
from collections import deque
from typing import Any, Callable, Optional

import outcome

from asyncio_guest.hosts import start_on_host


class NestingHost:
    host_uses_signal_set_wakeup_fd = False

    def __init__(self, thread_free: bool) -> None:
        self.thread = threading.get_ident()
        self.calls: deque[Callable[[], object]] = deque()
        self.lock = threading.Lock()
        self.timers: list[list[Any]] = []
        self.seq = itertools.count()
        self.watch: Optional[list[Any]] = None
        self.wake_r, self.wake_w = os.pipe()
        os.set_blocking(self.wake_r, False)
        os.set_blocking(self.wake_w, False)
        self.errors: list[str] = []
        #: Nested loops ("dialogs") currently running, innermost last: their close flags.
        self.dialogs: list[list[bool]] = []
        self.ended_nested_loops = 0
        if not thread_free:
            self.wait_readable = None  # type: ignore[method-assign,assignment]

    # -- the Host protocol

    def run_sync_soon_threadsafe(self, fn: Callable[[], object]) -> None:
        if threading.get_ident() == self.thread:
            self.errors.append("threadsafe hook called on the host thread")
        self._post(fn)

    def run_sync_soon_not_threadsafe(self, fn: Callable[[], object]) -> None:
        if threading.get_ident() != self.thread:
            self.errors.append("not-threadsafe hook called off the host thread")
        self._post(fn)

    def _post(self, fn: Callable[[], object]) -> None:
        with self.lock:
            self.calls.append(fn)
        try:
            os.write(self.wake_w, b"\0")
        except BlockingIOError:
            pass

    def wait_readable(
        self, fd: int, timeout: Optional[float], fn: Callable[[], object]
    ) -> Callable[[], None]:
        if threading.get_ident() != self.thread:
            self.errors.append("wait_readable called off the host thread")
        if self.watch is not None:
            self.errors.append("two fd watches at once: two links in flight")
        deadline = None if timeout is None else time.monotonic() + timeout
        watch = [fd, deadline, fn]
        self.watch = watch

        def cancel() -> None:
            if self.watch is watch:
                self.watch = None

        return cancel

    def call_later(self, delay: float, fn: Callable[[], object]) -> None:
        heapq.heappush(self.timers, [time.monotonic() + delay, next(self.seq), fn])

    def end_nested_loops(self) -> None:
        """What a toolkit adapter does when the run must end: close every open dialog."""
        self.ended_nested_loops += 1
        for flag in self.dialogs:
            flag[0] = True

    # -- the loop

    def run_until(self, done: Callable[[], bool], limit: float = 30.0) -> None:
        give_up = time.monotonic() + limit
        while not done():
            if time.monotonic() > give_up:
                raise AssertionError("host loop ran too long")
            now = time.monotonic()
            while self.timers and self.timers[0][0] <= now:
                heapq.heappop(self.timers)[2]()
                if done():
                    return
            watch = self.watch
            if watch is not None and watch[1] is not None and watch[1] <= now:
                self.watch = None
                watch[2]()
                continue
            with self.lock:
                batch = len(self.calls)
            ran = False
            for _ in range(batch):
                with self.lock:
                    fn = self.calls.popleft()
                fn()
                ran = True
                if done():
                    return
            if ran:
                continue
            deadline = now + 0.05
            if self.timers:
                deadline = min(deadline, self.timers[0][0])
            if watch is not None and watch[1] is not None:
                deadline = min(deadline, watch[1])
            fds = [self.wake_r] + ([watch[0]] if watch is not None else [])
            readable, _, _ = select.select(fds, [], [], max(0.0, deadline - time.monotonic()))
            if self.wake_r in readable:
                try:
                    while os.read(self.wake_r, 4096):
                        pass
                except BlockingIOError:
                    pass
            if watch is not None and watch[0] in readable and self.watch is watch:
                self.watch = None
                watch[2]()

    def dialog(self, seconds: Optional[float] = None, close_when: Any = None) -> str:
        """A blocking modal call: run the host loop until closed (by a timer, a
        predicate, or end_nested_loops)."""
        flag = [False]
        self.dialogs.append(flag)
        try:
            if seconds is not None:
                self.call_later(seconds, lambda: flag.__setitem__(0, True))
            self.run_until(lambda: flag[0] or (close_when is not None and close_when()))
        finally:
            self.dialogs.remove(flag)
        return "closed"

    def close(self) -> None:
        os.close(self.wake_r)
        os.close(self.wake_w)


def run_nesting(
    async_fn: Callable[..., Any],
    *args: Any,
    thread_free: bool,
    **kwargs: Any,
) -> Any:
    """Run ``async_fn(host, *args)`` as a guest of a fresh NestingHost; return its result."""
    host = NestingHost(thread_free)
    results: list[outcome.Outcome] = []

    try:
        start_on_host(host, async_fn, host, *args, done_callback=results.append, **kwargs)
        host.run_until(lambda: bool(results))
    finally:
        host.close()
    assert not host.errors, host.errors
    assert len(results) == 1
    return results[0].unwrap()
