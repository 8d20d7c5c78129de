"""A blocking modal call made directly from a task: every other task keeps running.

The host is tests.modal._host.NestingHost, whose "dialog" runs the host loop inside a
callback, exactly as a toolkit's ``exec()`` does; both wait modes.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import socket
import threading
from typing import Any

import pytest

from tests._support.counter import Counter
from tests.modal._host import NestingHost, run_nesting

MODES = [pytest.param(True, id="thread-free"), pytest.param(False, id="worker")]


@pytest.mark.parametrize("thread_free", MODES)
def test_tasks_timers_io_threads_and_host_tasks_run_during_a_direct_modal_call(
    thread_free: bool,
) -> None:
    async def main(host: NestingHost) -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        seen: dict[str, Any] = {"received": 0}
        threadsafe: list[int] = []

        # A download: a peer thread streams 64 chunks over a socket.
        a, b = socket.socketpair()
        a.setblocking(False)

        def peer() -> None:
            for _ in range(64):
                b.sendall(b"x" * 1024)
                threading.Event().wait(0.002)
            b.close()

        async def download() -> None:
            while True:
                data = await loop.sock_recv(a, 4096)
                if not data:
                    return
                seen["received"] += len(data)

        def from_thread() -> None:
            for _ in range(10):
                loop.call_soon_threadsafe(threadsafe.append, 1)
                threading.Event().wait(0.005)

        async def started_by_button() -> str:
            await asyncio.sleep(0.01)
            return "finished"

        button_task: list[asyncio.Task[str]] = []

        def press_button() -> None:
            # A host callback inside the dialog's loop, outside any guest tick.
            button_task.append(loop.create_task(started_by_button()))

        counter = Counter(0.005)
        dl = asyncio.create_task(download())
        await asyncio.sleep(0.01)
        peer_thread = threading.Thread(target=peer)
        pusher = threading.Thread(target=from_thread)
        me = asyncio.current_task()
        before = counter.count

        def inner_dialog() -> None:
            seen["inner"] = host.dialog(0.2)
            seen["counter_after_inner"] = counter.count

        host.call_later(0.15, press_button)
        host.call_later(0.3, inner_dialog)
        peer_thread.start()
        pusher.start()
        # The blocking modal call, straight from the task.
        result = host.dialog(
            close_when=lambda: (
                "inner" in seen
                and bool(button_task)
                and button_task[0].done()
                and dl.done()
                and len(threadsafe) == 10
                and counter.count >= before + 20
            )
        )
        seen["threadsafe"] = len(threadsafe)
        seen["current_task_ok"] = asyncio.current_task() is me
        seen["during"] = counter.count - before
        seen["button"] = button_task[0].result()
        seen["download_done_in_dialog"] = dl.done()
        peer_thread.join(5)
        pusher.join(5)
        await asyncio.sleep(0)
        counter.task.cancel()
        a.close()
        seen["result"] = result
        seen["stats"] = loop.guest_stats()  # type: ignore[attr-defined]
        return seen

    seen = run_nesting(main, thread_free=thread_free)
    assert seen["result"] == "closed"
    assert seen["current_task_ok"]
    assert seen["during"] > 20
    assert seen["received"] == 64 * 1024
    assert seen["download_done_in_dialog"]
    assert seen["threadsafe"] == 10
    assert seen["button"] == "finished"
    assert seen["inner"] == "closed"
    assert seen["stats"]["nested_loops"] == 1


@pytest.mark.parametrize("thread_free", MODES)
def test_callbacks_ready_when_the_nested_loop_begins_run_once_in_fifo_order(
    thread_free: bool,
) -> None:
    async def main(host: NestingHost) -> tuple[list[int], list[int]]:
        loop = asyncio.get_running_loop()
        ran: list[int] = []
        ran_during: list[int] = []

        def blocking_callback() -> None:
            # A plain callback (no task) enters the nested loop; the ten callbacks
            # queued behind it in the same iteration must run inside it.
            host.dialog(close_when=lambda: len(ran) >= 10)
            ran_during.extend(ran)

        def schedule() -> None:
            loop.call_soon(blocking_callback)
            for i in range(10):
                loop.call_soon(ran.append, i)

        loop.call_soon(schedule)
        await asyncio.sleep(0.05)
        return ran, ran_during

    ran, ran_during = run_nesting(main, thread_free=thread_free)
    assert ran == list(range(10))
    assert ran_during == list(range(10))


@pytest.mark.parametrize("thread_free", MODES)
def test_current_task_is_right_inside_nested_ticks(thread_free: bool) -> None:
    async def main(host: NestingHost) -> list[bool]:
        checks: list[bool] = []

        async def other() -> None:
            me = asyncio.current_task()
            for _ in range(5):
                await asyncio.sleep(0.002)
                checks.append(asyncio.current_task() is me)

        blocked = asyncio.current_task()
        task = asyncio.create_task(other())
        await asyncio.sleep(0)
        host.dialog(close_when=task.done)
        checks.append(asyncio.current_task() is blocked)
        await asyncio.sleep(0)
        checks.append(asyncio.current_task() is blocked)
        return checks

    checks = run_nesting(main, thread_free=thread_free)
    assert checks == [True] * 7


@pytest.mark.parametrize("thread_free", MODES)
def test_cancelling_the_blocked_task_is_delivered_at_its_next_await(thread_free: bool) -> None:
    async def main(host: NestingHost) -> list[str]:
        log: list[str] = []

        async def blocked() -> None:
            host.dialog(close_when=lambda: "cancel requested" in log)
            log.append("dialog returned")
            try:
                await asyncio.sleep(10)
            except asyncio.CancelledError:
                log.append("cancelled at the await")
                raise

        task = asyncio.create_task(blocked())

        async def canceller() -> None:
            await asyncio.sleep(0.05)
            task.cancel()
            log.append("cancel requested")

        canceller_task = asyncio.create_task(canceller())
        with pytest.raises(asyncio.CancelledError):
            await task
        await canceller_task
        return log

    log = run_nesting(main, thread_free=thread_free)
    assert log == ["cancel requested", "dialog returned", "cancelled at the await"]


@pytest.mark.parametrize("thread_free", MODES)
def test_nested_loops_nest_to_depth_three(thread_free: bool) -> None:
    async def main(host: NestingHost) -> tuple[list[str], int, dict[str, int]]:
        loop = asyncio.get_running_loop()
        order: list[str] = []
        counter = Counter(0.002)

        async def opener(depth: int) -> None:
            await asyncio.sleep(0.02)
            order.append(f"open {depth}")
            start = counter.count
            if depth < 3:
                child = asyncio.create_task(opener(depth + 1))
                host.dialog(close_when=lambda: child.done() and counter.count > start + 5)
            else:
                host.dialog(close_when=lambda: counter.count > start + 5)
            order.append(f"closed {depth}")
            await asyncio.sleep(0)
            order.append(f"done {depth}")

        await opener(1)
        counter.task.cancel()
        return order, counter.count, loop.guest_stats()  # type: ignore[attr-defined]

    order, _ticks, stats = run_nesting(main, thread_free=thread_free)
    assert order == [
        "open 1",
        "open 2",
        "open 3",
        "closed 3",
        "done 3",
        "closed 2",
        "done 2",
        "closed 1",
        "done 1",
    ]
    assert stats["nested_loops"] == 3


def test_the_nested_loop_is_a_debug_log_and_a_counter(caplog: pytest.LogCaptureFixture) -> None:
    async def main(host: NestingHost) -> dict[str, int]:
        other = asyncio.create_task(asyncio.sleep(0.01))
        host.dialog(close_when=other.done)
        return asyncio.get_running_loop().guest_stats()  # type: ignore[attr-defined]

    with caplog.at_level(logging.DEBUG, logger="asyncio_guest"):
        stats = run_nesting(main, thread_free=True)
    assert stats["nested_loops"] == 1
    records = [r for r in caplog.records if "nested host event loop" in r.getMessage()]
    assert len(records) == 1
    assert records[0].levelno == logging.DEBUG
    assert "host.dialog(close_when=other.done)" in records[0].getMessage()
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


@pytest.mark.parametrize("thread_free", MODES)
def test_nested_asyncio_run_is_still_refused_inside_a_nested_tick(thread_free: bool) -> None:
    async def main(host: NestingHost) -> list[str]:
        loop = asyncio.get_running_loop()
        errors: list[str] = []

        async def nothing() -> None:
            pass

        async def misuse() -> None:
            coro = nothing()
            try:
                asyncio.run(coro)
            except RuntimeError as exc:
                errors.append(str(exc))
                coro.close()
            fut = loop.create_future()
            try:
                loop.run_until_complete(fut)
            except RuntimeError as exc:
                errors.append(str(exc))

        task = asyncio.create_task(misuse())
        host.dialog(close_when=task.done)
        await task
        return errors

    errors = run_nesting(main, thread_free=thread_free)
    assert errors == [
        "asyncio.run() cannot be called from a running event loop",
        "This event loop is already running",
    ]


@pytest.mark.parametrize("thread_free", MODES)
def test_main_task_ending_during_a_dialog_ends_the_nested_loops(thread_free: bool) -> None:
    """The run ends while a task sits in a dialog: the host is asked to close it, the
    blocked task gets its cancellation at its next await, the run finishes cleanly."""
    log: list[str] = []

    async def main(host: NestingHost) -> str:
        async def blocked() -> None:
            try:
                host.dialog()  # nobody closes it but end_nested_loops
                log.append("dialog returned")
                await asyncio.sleep(10)
            finally:
                log.append("finally")

        blocked_task = asyncio.create_task(blocked())
        await asyncio.sleep(0.2)
        log.append("main returns")
        assert not blocked_task.done()
        return "result"

    assert run_nesting(main, thread_free=thread_free) == "result"
    assert log == ["main returns", "dialog returned", "finally"]


@pytest.mark.skipif(
    threading.current_thread() is not threading.main_thread(), reason="signals: main thread"
)
@pytest.mark.parametrize("thread_free", MODES)
def test_ctrl_c_during_a_dialog_ends_it_and_the_run(thread_free: bool) -> None:
    log: list[str] = []

    async def main(host: NestingHost) -> None:
        host.call_later(0.1, lambda: signal.raise_signal(signal.SIGINT))
        try:
            host.dialog()  # the main task itself blocks; only Ctrl+C ends it
            log.append("dialog returned")
            await asyncio.sleep(10)
        finally:
            log.append("finally")

    old = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with pytest.raises(KeyboardInterrupt):
            run_nesting(main, thread_free=thread_free)
    finally:
        signal.signal(signal.SIGINT, old)
    assert log == ["dialog returned", "finally"]


@pytest.mark.parametrize("thread_free", MODES)
def test_a_callback_sharing_the_blocked_context_waits_until_it_returns(
    thread_free: bool,
) -> None:
    """A context cannot be entered twice: a callback in the context that the blocked
    callback entered runs once the nested loop returns, not inside it, and not lost."""
    import contextvars

    async def main(host: NestingHost) -> list[str]:
        loop = asyncio.get_running_loop()
        log: list[str] = []
        shared = contextvars.copy_context()

        def blocking() -> None:
            loop.call_soon(log.append, "same context", context=shared)
            loop.call_soon(log.append, "other context")
            host.dialog(close_when=lambda: "other context" in log and "timer" in log)
            log.append("dialog returned")

        loop.call_soon(blocking, context=shared)
        loop.call_later(0.01, log.append, "timer")
        while "same context" not in log:
            await asyncio.sleep(0.005)
        return log

    log = run_nesting(main, thread_free=thread_free)
    assert log == ["other context", "timer", "dialog returned", "same context"]


def test_guest_nested_loop_check_is_a_setting_that_takes_effect_during_a_run() -> None:
    async def main(host: NestingHost) -> tuple[int, int]:
        loop = asyncio.get_running_loop()
        counter = Counter(0.002)
        await asyncio.sleep(0.01)
        loop.guest_nested_loop_check = 0  # type: ignore[attr-defined]
        before = counter.count
        host.dialog(0.3)  # off: the guest is frozen while it is up
        frozen = counter.count - before
        loop.guest_nested_loop_check = 0.02  # type: ignore[attr-defined]
        before = counter.count
        host.dialog(close_when=lambda: counter.count >= before + 10)
        counter.task.cancel()
        return frozen, loop.guest_stats()["nested_loops"]  # type: ignore[attr-defined]

    assert run_nesting(main, thread_free=True) == (0, 1)


@pytest.mark.parametrize("bad", [-1, 61, "1", True])
def test_guest_nested_loop_check_rejects_bad_values(bad: object) -> None:
    import asyncio_guest

    loop = asyncio_guest.GuestEventLoop()
    try:
        with pytest.raises((TypeError, ValueError), match="guest_nested_loop_check"):
            loop.guest_nested_loop_check = bad  # type: ignore[assignment]
        assert loop.guest_nested_loop_check == 0.05
    finally:
        loop.close()
