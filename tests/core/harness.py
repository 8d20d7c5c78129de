"""Test hosts for the core tests.

`trivial_guest_run` is a host whose loop is a queue drained on the test thread.
Like Trio's own test host it *fails the test* if a hook is called from the
wrong thread: the threadsafe hook must never be called from the host thread,
the other never from any other thread. It also checks `done_callback` is
called exactly once, and that no tick is ever run inline by the hook.
"""

from __future__ import annotations

import asyncio
import os
import queue
import threading
from typing import Any, Awaitable, Callable, Optional

import outcome

import asyncio_guest


class HostError(AssertionError):
    pass


def thread_count() -> int:
    return len(os.listdir("/proc/self/task"))


def fd_count() -> int:
    return len(os.listdir("/proc/self/fd"))


class TrivialHost:
    def __init__(self) -> None:
        self.queue: queue.SimpleQueue[Callable[[], object]] = queue.SimpleQueue()
        self.host_thread = threading.get_ident()
        self.errors: list[str] = []
        self.threadsafe_calls = 0
        self.not_threadsafe_calls = 0
        #: Called on the host thread with each callable posted from the worker,
        #: before it is queued: lets tests run host code between wait and tick.
        self.before_worker_tick: Optional[Callable[[], None]] = None

    def run_sync_soon_threadsafe(self, fn: Callable[[], object]) -> None:
        if threading.get_ident() == self.host_thread:
            self.errors.append("run_sync_soon_threadsafe called from the host thread")
        self.threadsafe_calls += 1
        hook = self.before_worker_tick
        if hook is not None:
            self.queue.put(hook)
        self.queue.put(fn)

    def run_sync_soon_not_threadsafe(self, fn: Callable[[], object]) -> None:
        if threading.get_ident() != self.host_thread:
            self.errors.append("run_sync_soon_not_threadsafe called off the host thread")
        self.not_threadsafe_calls += 1
        self.queue.put(fn)

    def in_host(self, fn: Callable[[], object]) -> None:
        """Queue `fn` to run on the host, outside any guest tick (any thread)."""
        self.queue.put(fn)


def trivial_guest_run(
    async_fn: Callable[..., Awaitable[Any]],
    *args: Any,
    host: Optional[TrivialHost] = None,
    timeout: float = 20.0,
    pass_host: bool = False,
    **start_kwargs: Any,
) -> Any:
    """Run `async_fn(host, *args)` (or `async_fn(*args)`) as a guest; return or raise its result."""
    host = host or TrivialHost()
    results: list[outcome.Outcome] = []

    def done_callback(result: outcome.Outcome) -> None:
        if threading.get_ident() != host.host_thread:
            host.errors.append("done_callback called off the host thread")
        results.append(result)

    call_args = (host, *args) if pass_host else args
    asyncio_guest.start_guest_run(
        async_fn,
        *call_args,
        run_sync_soon_threadsafe=host.run_sync_soon_threadsafe,
        run_sync_soon_not_threadsafe=host.run_sync_soon_not_threadsafe,
        done_callback=done_callback,
        **start_kwargs,
    )
    try:
        while not results:
            try:
                fn = host.queue.get(timeout=timeout)
            except queue.Empty:
                raise HostError(f"guest run made no progress for {timeout} s") from None
            fn()
        # Anything still queued must be harmless (stale links); run it, then
        # check nothing called done_callback twice.
        while True:
            try:
                fn = host.queue.get_nowait()
            except queue.Empty:
                break
            fn()
    finally:
        del host.queue  # so an abandoned run's links are garbage, as a real host's would be
    if host.errors:
        raise HostError("; ".join(host.errors))
    assert len(results) == 1, f"done_callback called {len(results)} times"
    return results[0].unwrap()


def asyncio_host_run(
    async_fn: Callable[..., Awaitable[Any]],
    *args: Any,
    use_not_threadsafe: bool = True,
    host_main: Optional[Callable[[], Awaitable[None]]] = None,
    thread_free: bool = False,
) -> Any:
    """Run the guest on a stock asyncio loop as host (two loops, one thread).

    With `thread_free`, the host watches the guest poller's fd itself
    (`wait_readable`), so the guest never uses its worker thread.
    """

    host_loops: list[asyncio.AbstractEventLoop] = []

    def wait_readable(
        fd: int, timeout: Optional[float], fn: Callable[[], object]
    ) -> Callable[[], None]:
        # Called from inside a guest tick: the *host* loop is the captured one,
        # not the running one.
        loop = host_loops[0]
        timer: Optional[asyncio.TimerHandle] = None

        def fire() -> None:
            cancel()
            fn()

        def cancel() -> None:
            loop.remove_reader(fd)
            if timer is not None:
                timer.cancel()

        loop.add_reader(fd, fire)
        if timeout is not None:
            timer = loop.call_later(timeout, fire)
        return cancel

    async def host() -> Any:
        loop = asyncio.get_running_loop()
        host_loops.append(loop)
        done: asyncio.Future[outcome.Outcome] = loop.create_future()
        asyncio_guest.start_guest_run(
            async_fn,
            *args,
            run_sync_soon_threadsafe=loop.call_soon_threadsafe,
            run_sync_soon_not_threadsafe=loop.call_soon if use_not_threadsafe else None,
            done_callback=done.set_result,
            host_uses_signal_set_wakeup_fd=True,
            wait_readable=wait_readable if thread_free else None,
        )
        side = asyncio.ensure_future(host_main()) if host_main else None
        result = await asyncio.wait_for(done, 20)
        if side is not None:
            side.cancel()
        return result.unwrap()

    return asyncio.run(host())
