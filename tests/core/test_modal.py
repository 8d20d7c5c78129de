"""`asyncio_guest.modal`: a blocking host call that runs a nested host loop,
made from a task, while every other task keeps running."""

from __future__ import annotations

import asyncio
import logging
import queue
import time

import pytest

import asyncio_guest
from asyncio_guest._driver import driver_for
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
        ticks = 0

        async def counter() -> None:
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0.01)

        task = asyncio.create_task(counter())
        await asyncio.sleep(0)
        result = await asyncio_guest.modal(nested_host_loop, host, 0.3)
        counted = ticks
        task.cancel()
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


def test_direct_blocking_call_in_a_task_is_reported_loudly(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Without modal(): the nested loop freezes the guest; the watchdog names
    the blocking call, and the loop works normally once it returns."""

    async def main(host: TrivialHost) -> str:
        loop = asyncio.get_running_loop()
        # A shorter threshold than the default 0.5 s, to keep the test quick.
        driver = driver_for(loop)  # type: ignore[arg-type]
        assert driver is not None
        loop._selector.set_watchdog(0.2, host.run_sync_soon_threadsafe, driver.probe)  # type: ignore[attr-defined]
        result = nested_host_loop(host, 1.0)  # blocking, inside the task
        await asyncio.sleep(0.01)  # the loop still works afterwards
        return result

    with caplog.at_level(logging.ERROR, logger="asyncio"):
        assert trivial_guest_run(main, pass_host=True) == "dialog closed"
    messages = [r.getMessage() for r in caplog.records]
    assert any("nested host event loop" in m and "nested_host_loop" in m for m in messages), (
        messages
    )
