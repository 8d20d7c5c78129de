"""GuestEventLoop without an external host: run_until_complete, run_forever,
Runner / asyncio.run(loop_factory=), and the uvloop-style helpers."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import threading

import pytest

import asyncio_guest
from tests._support.platforms import needs_posix_signals


async def work() -> str:
    await asyncio.sleep(0.01)
    await asyncio.to_thread(lambda: None)
    return "done"


@pytest.mark.parametrize("thread_free", [True, False], ids=["thread-free", "worker"])
def test_run_until_complete_waits_where_configured(thread_free: bool) -> None:
    """By default the built-in host waits for I/O on its own thread (the worker
    never waits); guest_thread_free = False hands every wait to the worker."""
    loop = asyncio_guest.GuestEventLoop()
    loop.guest_thread_free = thread_free
    try:
        assert loop.run_until_complete(work()) == "done"
        assert loop.run_until_complete(work()) == "done"
        stats = loop.guest_stats()
        if thread_free:
            assert stats["worker_waits"] == 0
        else:
            assert stats["worker_waits"] >= 2
        assert stats["ticks"] > 2
        assert not loop.is_running()
        assert asyncio._get_running_loop() is None
        loop.run_until_complete(loop.shutdown_default_executor())
    finally:
        loop.close()


def test_run_forever_until_stop() -> None:
    loop = asyncio_guest.GuestEventLoop()
    try:
        loop.call_later(0.02, loop.stop)
        loop.run_forever()
        assert not loop.is_running()
    finally:
        loop.close()


@pytest.mark.skipif(sys.version_info < (3, 11), reason="asyncio.Runner is new in 3.11")
def test_runner_with_loop_factory() -> None:
    with asyncio.Runner(loop_factory=asyncio_guest.GuestEventLoop) as runner:
        assert runner.run(work()) == "done"
        assert isinstance(runner.get_loop(), asyncio_guest.GuestEventLoop)


@pytest.mark.skipif(sys.version_info < (3, 12), reason="asyncio.run(loop_factory=) is new in 3.12")
def test_asyncio_run_with_loop_factory() -> None:
    assert asyncio.run(work(), loop_factory=asyncio_guest.GuestEventLoop) == "done"


def test_run_helper_and_new_event_loop() -> None:
    assert asyncio_guest.run(work()) == "done"
    loop = asyncio_guest.new_event_loop()
    assert isinstance(loop, asyncio_guest.GuestEventLoop)
    loop.close()


def test_run_forever_twice_is_refused() -> None:
    loop = asyncio_guest.GuestEventLoop()

    async def nested() -> None:
        with pytest.raises(RuntimeError, match="already running"):
            loop.run_forever()

    try:
        loop.run_until_complete(nested())
    finally:
        loop.close()


@needs_posix_signals
@pytest.mark.parametrize("thread_free", [True, False], ids=["thread-free", "worker"])
def test_keyboard_interrupt_leaves_the_loop_reusable(thread_free: bool) -> None:
    """Ctrl+C while run_forever waits propagates like on the stock loop, and the
    loop can run again afterwards (the worker, if it waited, gives the chain back)."""
    loop = asyncio_guest.GuestEventLoop()
    loop.guest_thread_free = thread_free
    try:
        threading.Timer(0.1, os.kill, args=(os.getpid(), signal.SIGINT)).start()
        with pytest.raises(KeyboardInterrupt):
            loop.run_forever()
        assert loop.run_until_complete(work()) == "done"
        loop.run_until_complete(loop.shutdown_default_executor())
    finally:
        loop.close()


def test_exception_in_run_until_complete() -> None:
    async def boom() -> None:
        await asyncio.sleep(0)
        raise ValueError("boom")

    loop = asyncio_guest.GuestEventLoop()
    try:
        with pytest.raises(ValueError, match="boom"):
            loop.run_until_complete(boom())
    finally:
        loop.close()


def test_close_while_idle_joins_the_worker() -> None:
    loop = asyncio_guest.GuestEventLoop()
    loop.guest_thread_free = False
    loop.run_until_complete(asyncio.sleep(0.01))
    selector = loop._selector
    assert selector.stats()["worker_waits"] >= 1
    loop.close()
    assert loop.is_closed()
    assert selector.get_map() is None
    # (The no_leaks fixture checks the worker thread is gone.)


def test_nested_run_inside_a_running_loop_uses_the_stock_message() -> None:
    outer = asyncio_guest.GuestEventLoop()
    inner = asyncio_guest.GuestEventLoop()

    async def main() -> None:
        coro = asyncio.sleep(0)
        with pytest.raises(RuntimeError, match="Cannot run the event loop while another loop"):
            inner.run_until_complete(coro)
        coro.close()

    try:
        outer.run_until_complete(main())
    finally:
        inner.close()
        outer.close()


def test_running_loop_is_cleared_even_if_get_running_loop_is_patched() -> None:
    """Python 3.9's own test helpers patch events._get_running_loop to return None
    while a loop runs; the running loop must still be cleared afterwards."""
    from asyncio import events

    real = events._get_running_loop
    events._get_running_loop = lambda: None  # type: ignore[assignment]
    try:
        loop = asyncio_guest.GuestEventLoop()
        loop.run_until_complete(asyncio.sleep(0))
        loop.close()
    finally:
        events._get_running_loop = real  # type: ignore[assignment]
    assert asyncio._get_running_loop() is None


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
# 3.12+ warns about fork() in a multi-threaded process (the worker thread exists): that is
# the situation under test.
@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
def test_a_forked_child_can_run_its_own_loop() -> None:
    async def main() -> int:
        await asyncio.sleep(0.01)
        pid = os.fork()
        if pid == 0:  # the child: a fresh loop of its own must work
            code = 1
            try:
                asyncio.events._set_running_loop(None)
                child = asyncio_guest.GuestEventLoop()
                code = 0 if child.run_until_complete(asyncio.sleep(0.01, 7)) == 7 else 2
                child.close()
            finally:
                os._exit(code)
        _, status = await asyncio.get_running_loop().run_in_executor(None, os.waitpid, pid, 0)
        return (
            os.waitstatus_to_exitcode(status) if hasattr(os, "waitstatus_to_exitcode") else status
        )

    assert asyncio_guest.run(main()) == 0
