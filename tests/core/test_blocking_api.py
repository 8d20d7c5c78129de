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


async def work() -> str:
    await asyncio.sleep(0.01)
    await asyncio.to_thread(lambda: None)
    return "done"


def test_run_until_complete_uses_the_worker() -> None:
    loop = asyncio_guest.GuestEventLoop()
    try:
        assert loop.run_until_complete(work()) == "done"
        assert loop.run_until_complete(work()) == "done"
        stats = loop.guest_stats()
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


def test_keyboard_interrupt_leaves_the_loop_reusable() -> None:
    """Ctrl+C while run_forever waits propagates like on the stock loop, and the
    loop can run again afterwards (the worker gives the chain back)."""
    loop = asyncio_guest.GuestEventLoop()
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
    loop.run_until_complete(asyncio.sleep(0.01))
    selector = loop._selector
    assert selector.stats()["worker_waits"] >= 1
    loop.close()
    assert loop.is_closed()
    assert selector.get_map() is None
    # (The no_leaks fixture checks the worker thread is gone.)
