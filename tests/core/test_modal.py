"""`asyncio_guest.modal`: a blocking host call that runs a nested host loop,
made from a task, while every other task keeps running."""

from __future__ import annotations

import asyncio
import logging
import queue
import time

import pytest

import asyncio_guest
from tests._support.counter import Counter
from tests.core.harness import TrivialHost, trivial_guest_run


def nested_host_loop(host: TrivialHost, seconds: float) -> str:
    """What a modal dialog does: run the host's event loop until it is closed."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            fn = host.queue.get(timeout=0.01)
        except queue.Empty:
            continue
        fn()
    return "dialog closed"


def test_modal_keeps_other_tasks_running() -> None:
    async def main(host: TrivialHost) -> tuple[str, int]:
        counter = Counter(0.01)
        await asyncio.sleep(0)
        result = await asyncio_guest.modal(nested_host_loop, host, 0.3)
        counted = counter.count
        counter.task.cancel()
        return result, counted

    result, counted = trivial_guest_run(main, pass_host=True)
    assert result == "dialog closed"
    assert counted >= 10  # ~30 expected; the counter ran while the "dialog" was open


def test_modal_propagates_the_exception() -> None:
    def failing_dialog() -> None:
        raise LookupError("dialog failed")

    async def main() -> None:
        await asyncio_guest.modal(failing_dialog)

    with pytest.raises(LookupError, match="dialog failed"):
        trivial_guest_run(main)


def test_modal_outside_a_guest_run_is_an_error() -> None:
    async def main() -> None:
        await asyncio_guest.modal(lambda: None)

    with pytest.raises(RuntimeError, match="inside a guest run"):
        asyncio.run(main())


def test_modal_rejects_non_callables() -> None:
    async def main() -> None:
        await asyncio_guest.modal(42)  # type: ignore[arg-type]

    with pytest.raises(TypeError, match="fn must be callable"):
        trivial_guest_run(main)


def test_direct_blocking_call_in_a_task_keeps_the_guest_running(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Without modal(): guest ticks run inside the nested loop; the loop reports it at
    debug level, naming the blocking call, and counts it."""

    async def main(host: TrivialHost) -> tuple[str, int, int]:
        loop = asyncio.get_running_loop()
        counter = Counter(0.01)
        await asyncio.sleep(0)
        result = nested_host_loop(host, 0.5)  # blocking, inside the task
        counted = counter.count
        counter.task.cancel()
        await asyncio.sleep(0.01)  # the loop still works afterwards
        return result, counted, loop.guest_stats()["nested_loops"]  # type: ignore[attr-defined]

    with caplog.at_level(logging.DEBUG, logger="asyncio_guest"):
        result, counted, nested = trivial_guest_run(main, pass_host=True)
    assert result == "dialog closed"
    assert counted >= 10
    assert nested == 1
    messages = [r.getMessage() for r in caplog.records if r.levelno == logging.DEBUG]
    assert any("nested host event loop" in m and "nested_host_loop" in m for m in messages), (
        messages
    )
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
