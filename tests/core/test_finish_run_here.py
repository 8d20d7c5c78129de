"""`finish_run_here`: a host loop ended under a live guest; the run finishes here.

Every test checks the contract a GUI developer relies on when a window closes:
each task's ``finally`` runs (awaits included), no ResourceWarning, no "Task was
destroyed but it is pending", done_callback exactly once with the returned
outcome, and (the autouse ``no_leaks`` fixture) threads and fds back to baseline.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import socket
import time
import warnings
from collections import deque
from collections.abc import Iterator
from typing import Any, Callable, Optional

import outcome
import pytest

import asyncio_guest
from asyncio_guest._run import finish_run_here
from asyncio_guest.hosts import run_on_host


@pytest.fixture
def strict(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Fail on any warning, and on anything asyncio logs as an error."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with caplog.at_level(logging.ERROR, logger="asyncio"):
            yield
            gc.collect()
    assert not caplog.records, [r.getMessage() for r in caplog.records]


class DeadHost:
    """A host whose loop ran a few callbacks and then ended for good."""

    def __init__(self, thread_free: bool = False) -> None:
        self.calls: deque[Callable[[], object]] = deque()
        self.results: list[outcome.Outcome] = []
        self.watches: list[list[Any]] = []
        if not thread_free:
            self.wait_readable = None

    def post(self, fn: Callable[[], object]) -> None:
        self.calls.append(fn)

    def wait_readable(  # type: ignore[no-redef]
        self, fd: int, timeout: Optional[float], fn: Callable[[], object]
    ) -> Callable[[], None]:
        watch = [fd, fn]
        self.watches.append(watch)

        def cancel() -> None:
            watch[1] = None

        return cancel

    def start(self, async_fn: Callable[..., Any], *args: Any) -> asyncio.Task[Any]:
        return asyncio_guest.start_guest_run(
            async_fn,
            *args,
            run_sync_soon_threadsafe=self.post,
            done_callback=self.results.append,
            wait_readable=self.wait_readable,
        )

    def run_callbacks(self, count: int) -> None:
        for _ in range(count):
            if self.calls:
                self.calls.popleft()()


def app(log: list[str]) -> Callable[[], Any]:
    """A small GUI-style app: a server socket pair, a helper task, cleanup that awaits."""

    async def helper(sock: socket.socket) -> None:
        try:
            await asyncio.get_running_loop().sock_recv(sock, 1)
        finally:
            await asyncio.sleep(0.01)
            sock.close()
            log.append("helper finally")

    async def main() -> str:
        a, b = socket.socketpair()
        a.setblocking(False)
        b.setblocking(False)
        side = asyncio.get_running_loop().create_task(helper(a))
        try:
            await asyncio.sleep(3600)
        finally:
            await asyncio.sleep(0.01)
            b.close()
            log.append("main finally")
        await side
        return "unreachable"

    return main


@pytest.mark.parametrize("thread_free", [False, True], ids=["worker", "thread-free"])
def test_a_live_run_is_cancelled_and_torn_down(thread_free: bool, strict: None) -> None:
    log: list[str] = []
    host = DeadHost(thread_free)
    task = host.start(app(log))
    host.run_callbacks(5)  # the app is up and idle; then the host loop ends
    assert host.results == [] and not task.done()
    result = finish_run_here(task)
    assert isinstance(result, outcome.Error)
    assert isinstance(result.error, asyncio.CancelledError)
    assert host.results == [result]  # the run's own done_callback, once
    assert sorted(log) == ["helper finally", "main finally"]
    assert task.get_loop().is_closed()
    # What the dead host still holds is stale: running it does nothing, and
    # dropping it is not reported as an abandonment (``strict``).
    while host.calls:
        host.calls.popleft()()
    for watch in host.watches:
        assert watch[1] is None, "the dead host's fd watch was not cancelled"
    del host
    assert finish_run_here(task) is result


def test_a_cancellation_already_delivered_is_not_repeated(strict: None) -> None:
    log: list[str] = []

    async def main() -> str:
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            await asyncio.sleep(0.02)  # a second cancel would interrupt this
            log.append("cleanup finished")
            return "closed cleanly"
        return "not cancelled"

    host = DeadHost()
    task = host.start(main)
    host.run_callbacks(3)
    task.cancel()  # a window's close handler
    host.run_callbacks(2)  # the cancellation is delivered; cleanup has started
    assert not task.done()
    result = finish_run_here(task)
    assert result.unwrap() == "closed cleanly"
    assert log == ["cleanup finished"]
    assert host.results == [result]


def test_a_finished_run_returns_its_outcome(strict: None) -> None:
    host = DeadHost()
    task = host.start(asyncio.sleep, 0, "done")
    while not host.results:
        host.run_callbacks(1)
    assert finish_run_here(task) is host.results[0]
    assert finish_run_here(task).unwrap() == "done"
    assert len(host.results) == 1


def test_a_run_never_ticked_finishes_here(strict: None) -> None:
    log: list[str] = []
    host = DeadHost()
    task = host.start(app(log))  # the host loop never ran at all
    result = finish_run_here(task)
    # The main task never started, so cancelling it ends it before its body.
    assert isinstance(result, outcome.Error)
    assert isinstance(result.error, asyncio.CancelledError)
    assert log == []
    assert host.results == [result]


def test_a_stopped_asyncio_host_hands_over(strict: None) -> None:
    log: list[str] = []
    host_loop = asyncio.new_event_loop()
    tasks: list[asyncio.Task[Any]] = []

    async def host_main() -> None:
        tasks.append(
            asyncio_guest.start_guest_run(
                app(log),
                run_sync_soon_threadsafe=host_loop.call_soon_threadsafe,
                run_sync_soon_not_threadsafe=host_loop.call_soon,
                done_callback=lambda o: None,
                host_uses_signal_set_wakeup_fd=True,
            )
        )
        await asyncio.sleep(0.05)  # the guest runs as a guest of this loop

    try:
        host_loop.run_until_complete(host_main())  # the host loop stops, the guest lives
        assert asyncio._get_running_loop() is None
        result = finish_run_here(tasks[0])
    finally:
        host_loop.close()  # its queued guest ticks are stale now
    assert isinstance(result, outcome.Error)
    assert isinstance(result.error, asyncio.CancelledError)
    assert sorted(log) == ["helper finally", "main finally"]


def test_only_a_main_task_is_accepted() -> None:
    async def main() -> None:
        pass

    loop = asyncio_guest.GuestEventLoop()
    try:
        task = loop.create_task(main())
        with pytest.raises(TypeError, match="main task returned by start_guest_run"):
            finish_run_here(task)
        loop.run_until_complete(task)
    finally:
        loop.close()


class DroppingHost:
    """A host whose loop, once stopped, frees the callbacks still queued (as a toolkit
    that throws its pending work away when its loop ends)."""

    host_uses_signal_set_wakeup_fd = False

    def __init__(self) -> None:
        self.calls: deque[Callable[[], object]] = deque()
        self.running = False

    def run_sync_soon_threadsafe(self, fn: Callable[[], object]) -> None:
        self.calls.append(fn)

    run_sync_soon_not_threadsafe = run_sync_soon_threadsafe

    def stop(self) -> None:
        self.running = False

    def close(self) -> None:
        pass

    def mainloop(self) -> None:
        self.running = True
        deadline = time.monotonic() + 10
        while self.running:
            assert time.monotonic() < deadline, "the guest never stopped the host"
            if self.calls:
                self.calls.popleft()()
            else:
                time.sleep(0.001)
        self.calls.clear()  # drops the pending tick: nobody can run it any more


def test_run_on_host_reports_a_run_its_host_abandoned() -> None:
    # The host stops while the guest still has ready work, so a tick is queued when the
    # host loop ends, and the host drops it: the run cannot go on, done_callback has
    # nobody to call, and run_on_host must say so with GuestRunAbandoned (not fail on
    # its own bookkeeping), and leave the thread able to host the next run.
    host = DroppingHost()

    async def main() -> None:
        loop = asyncio.get_running_loop()
        loop.guest_time_slice = 0.0  # type: ignore[attr-defined]  # one iteration a tick

        def stop_with_work_ready() -> None:
            host.stop()
            loop.call_soon(lambda: None)
            loop.call_soon(lambda: None)

        # Later, so that it runs in a tick of its own (the first tick's slice is the default).
        loop.call_later(0.05, stop_with_work_ready)
        await asyncio.sleep(3600)

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(asyncio_guest.GuestRunAbandoned, match="dropped a pending"):
            run_on_host(host, main)
        gc.collect()
    assert any("dropped a pending tick" in str(w.message) for w in caught)

    async def after() -> str:
        await asyncio.sleep(0)
        return "next run ok"

    assert asyncio_guest.run(after()) == "next run ok"
