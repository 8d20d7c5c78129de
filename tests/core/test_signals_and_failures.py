"""Signals (semantics 8), abandonment (9) and internal errors (10)."""

from __future__ import annotations

import asyncio
import errno
import gc
import os
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time

import outcome
import pytest

import asyncio_guest
from tests._support.platforms import needs_posix_signals
from tests.core.harness import TrivialHost, trivial_guest_run


async def sleep_forever() -> None:
    await asyncio.get_running_loop().create_future()


# -- set_wakeup_fd negotiation ------------------------------------------------


@pytest.fixture
def host_wakeup_fd():  # type: ignore[no-untyped-def]
    a, b = socket.socketpair()
    a.setblocking(False)
    old = signal.set_wakeup_fd(a.fileno())
    try:
        yield a.fileno()
    finally:
        signal.set_wakeup_fd(old)
        a.close()
        b.close()


async def report_wakeup_fd() -> int:
    fd = signal.set_wakeup_fd(-1)
    signal.set_wakeup_fd(fd)
    return fd


def test_wakeup_fd_collision_warns_and_is_restored(host_wakeup_fd: int) -> None:
    with pytest.warns(RuntimeWarning, match="signal handling code might have collided"):
        during = trivial_guest_run(report_wakeup_fd)
    assert during != host_wakeup_fd
    assert signal.set_wakeup_fd(host_wakeup_fd) == host_wakeup_fd


def test_wakeup_fd_collision_warns_with_explicit_false(host_wakeup_fd: int) -> None:
    with pytest.warns(RuntimeWarning, match="host_uses_signal_set_wakeup_fd=True"):
        trivial_guest_run(report_wakeup_fd, host_uses_signal_set_wakeup_fd=False)


def test_host_owned_wakeup_fd_is_left_alone(host_wakeup_fd: int, recwarn) -> None:  # type: ignore[no-untyped-def]
    during = trivial_guest_run(report_wakeup_fd, host_uses_signal_set_wakeup_fd=True)
    assert during == host_wakeup_fd
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]


def test_no_host_fd_no_warning(recwarn) -> None:  # type: ignore[no-untyped-def]
    during = trivial_guest_run(report_wakeup_fd)
    assert during != -1  # ours, so signals wake the worker
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]


@needs_posix_signals
def test_guest_add_signal_handler_keeps_the_wakeup_fd() -> None:
    async def main() -> tuple[int, int]:
        loop = asyncio.get_running_loop()
        got = loop.create_future()
        loop.add_signal_handler(signal.SIGUSR1, got.set_result, "usr1")
        threading.Timer(0.05, os.kill, args=(os.getpid(), signal.SIGUSR1)).start()
        await got
        loop.remove_signal_handler(signal.SIGUSR1)
        return await report_wakeup_fd(), loop._csock.fileno()  # type: ignore[attr-defined]

    fd, ours = trivial_guest_run(main)
    assert fd == ours


# -- Ctrl+C -----------------------------------------------------------------------


def test_sigint_in_a_host_callback_cancels_main_and_reports_keyboard_interrupt() -> None:
    async def main(host: TrivialHost) -> None:
        host.in_host(lambda: signal.raise_signal(signal.SIGINT))
        await sleep_forever()

    with pytest.raises(KeyboardInterrupt) as info:
        trivial_guest_run(main, pass_host=True)
    assert info.value.__context__ is None
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


@needs_posix_signals
def test_sigint_while_the_worker_waits() -> None:
    async def main() -> None:
        threading.Timer(0.1, os.kill, args=(os.getpid(), signal.SIGINT)).start()
        await sleep_forever()

    with pytest.raises(KeyboardInterrupt):
        trivial_guest_run(main)


def test_sigint_then_main_raises_keeps_the_error_as_context() -> None:
    async def main(host: TrivialHost) -> None:
        host.in_host(lambda: signal.raise_signal(signal.SIGINT))
        try:
            await sleep_forever()
        finally:
            raise KeyError("cleanup failed")

    with pytest.raises(KeyboardInterrupt) as info:
        trivial_guest_run(main, pass_host=True)
    assert isinstance(info.value.__context__, KeyError)


def test_a_host_sigint_handler_is_not_replaced() -> None:
    calls: list[int] = []

    def mine(signum: int, frame: object) -> None:
        calls.append(signum)

    old = signal.signal(signal.SIGINT, mine)
    try:

        async def main() -> str:
            assert signal.getsignal(signal.SIGINT) is mine
            signal.raise_signal(signal.SIGINT)
            await asyncio.sleep(0)
            return "kept"

        assert trivial_guest_run(main) == "kept"
        assert calls == [signal.SIGINT]
        assert signal.getsignal(signal.SIGINT) is mine
    finally:
        signal.signal(signal.SIGINT, old)


# -- abandonment ---------------------------------------------------------------


def test_host_dropping_the_chain_warns_and_cleans_up() -> None:
    async def spin(host: TrivialHost) -> None:
        host.in_host(lambda: 1 / 0)
        while True:
            await asyncio.sleep(0)

    # The harness drops its queue when its loop dies, as a real host would;
    # the pending tick link dies with it.
    with pytest.warns(RuntimeWarning, match="abandoned"):
        with pytest.raises(ZeroDivisionError):
            trivial_guest_run(spin, pass_host=True)
        gc.collect()
    assert asyncio._get_running_loop() is None
    # The thread is free for a new run.
    assert trivial_guest_run(asyncio.sleep, 0, "again") == "again"


ABANDON_SCRIPT = textwrap.dedent(
    """
    import asyncio, queue, time, sys
    import asyncio_guest

    q = queue.SimpleQueue()

    async def main():
        await asyncio.get_running_loop().create_future()  # no timers: worker waits forever

    asyncio_guest.start_guest_run(main, run_sync_soon_threadsafe=q.put, done_callback=print)
    q.get()()  # first tick; the worker now waits with no timeout
    time.sleep(0.1)
    print("host stops", flush=True)
    sys.exit(0)  # the host simply goes away
    """
)


def test_interpreter_exits_promptly_with_a_waiting_worker() -> None:
    start = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-c", ABANDON_SCRIPT], capture_output=True, text=True, timeout=30
    )
    assert proc.returncode == 0, proc.stderr
    assert "host stops" in proc.stdout
    assert time.monotonic() - start < 15


# -- internal errors ------------------------------------------------------------


def test_failing_tick_reaches_done_callback() -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()

        def broken(event_list: object) -> None:
            raise RuntimeError("tick machinery broke")

        loop._process_events = broken  # type: ignore[method-assign]
        await asyncio.sleep(0)
        await asyncio.sleep(0)

    with pytest.raises(RuntimeError, match="tick machinery broke"):
        trivial_guest_run(main)


def test_failing_worker_wait_reaches_done_callback() -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        loop._selector._fail_next_wait(errno.EBADF)  # type: ignore[attr-defined]
        await asyncio.sleep(0.01)

    with pytest.raises(OSError) as info:
        trivial_guest_run(main)
    assert info.value.errno == errno.EBADF


def test_keyboard_interrupt_from_a_callback_is_the_outcome() -> None:
    async def main() -> None:
        def interrupt() -> None:
            raise KeyboardInterrupt

        asyncio.get_running_loop().call_soon(interrupt)
        await sleep_forever()

    with pytest.raises(KeyboardInterrupt):
        trivial_guest_run(main)


def test_done_callback_that_raises_propagates_to_the_host() -> None:
    host = TrivialHost()

    def done_callback(result: outcome.Outcome) -> None:
        raise ValueError("done_callback failed")

    asyncio_guest.start_guest_run(
        asyncio.sleep,
        0,
        run_sync_soon_threadsafe=host.run_sync_soon_threadsafe,
        run_sync_soon_not_threadsafe=host.run_sync_soon_not_threadsafe,
        done_callback=done_callback,
    )
    with pytest.raises(ValueError, match="done_callback failed"):
        for _ in range(100):
            host.queue.get(timeout=10)()


def test_threadsafe_hook_failing_on_the_worker_is_reported_and_cleaned_up() -> None:
    """The host's threadsafe hook raises on the worker thread (a Tk app driving
    its own update() loop gets "main thread is not in main loop"): the error is
    printed as unraisable, a RuntimeWarning says the run is abandoned, the
    worker stops calling the broken hook, and the host thread's state is
    cleaned up by the next use of asyncio_guest there."""
    host = TrivialHost()
    results: list[outcome.Outcome] = []
    hook_calls: list[int] = []
    unraisable: list[str] = []

    def broken_threadsafe(fn: object) -> None:
        hook_calls.append(threading.get_ident())
        raise RuntimeError("main thread is not in main loop")

    async def main() -> str:
        await asyncio.sleep(0.05)  # a wait on the worker, whose post then fails
        return "unreachable"

    old_hook = sys.unraisablehook
    # Keep only the text: holding the exception would keep its traceback, and
    # so the dropped link, alive past the point this test is about.
    sys.unraisablehook = lambda u: unraisable.append(repr(u.exc_value))
    try:
        with pytest.warns(RuntimeWarning, match="failed on the I/O worker thread"):
            asyncio_guest.start_guest_run(
                main,
                run_sync_soon_threadsafe=broken_threadsafe,
                run_sync_soon_not_threadsafe=host.run_sync_soon_not_threadsafe,
                done_callback=results.append,
            )
            deadline = time.monotonic() + 1.5  # > the 0.5 s watchdog threshold
            while time.monotonic() < deadline:
                try:
                    host.queue.get(timeout=0.05)()
                except Exception:
                    pass
    finally:
        sys.unraisablehook = old_hook
    assert len(hook_calls) == 1, "the broken hook was called again"
    assert any("main thread is not in main loop" in u for u in unraisable), unraisable
    assert results == []  # done_callback can only run on the host thread
    # The next run on this thread cleans up the dead one and works.
    assert trivial_guest_run(asyncio.sleep, 0, "next run") == "next run"
    assert asyncio._get_running_loop() is None


def test_host_stopping_mid_run_leaves_the_thread_usable() -> None:
    """run_on_host: the host loop returns while the worker waits (no timer due for
    an hour): the run is cancelled and torn down on the built-in host before
    run_on_host returns (a quit, so it returns None), and the thread can host again."""
    from asyncio_guest.hosts import run_on_host
    from asyncio_guest.hosts.builtin import QueueHost

    host = QueueHost(thread_free=False)
    cleaned: list[str] = []

    async def main() -> None:
        asyncio.get_running_loop().call_later(0.02, host.stop)
        try:
            await asyncio.sleep(3600)
        finally:
            await asyncio.sleep(0)
            cleaned.append("finally")

    assert run_on_host(host, main) is None
    assert cleaned == ["finally"]
    assert asyncio._get_running_loop() is None
    assert run_on_host(QueueHost(), asyncio.sleep, 0.01, "second run") == "second run"
    assert asyncio_guest.run(asyncio.sleep(0, "asyncio.run-style")) == "asyncio.run-style"


def test_abandon_guest_run_is_host_thread_only_and_idempotent() -> None:
    host = TrivialHost()
    task = asyncio_guest.start_guest_run(
        sleep_forever,
        run_sync_soon_threadsafe=host.run_sync_soon_threadsafe,
        done_callback=lambda o: None,
    )
    loop = task.get_loop()
    errors: list[BaseException] = []

    def off_thread() -> None:
        try:
            loop.abandon_guest_run()  # type: ignore[attr-defined]
        except RuntimeError as exc:
            errors.append(exc)

    t = threading.Thread(target=off_thread)
    t.start()
    t.join()
    assert errors and "host thread" in str(errors[0])
    loop.abandon_guest_run()  # type: ignore[attr-defined]
    loop.abandon_guest_run()  # type: ignore[attr-defined]
    assert loop.is_closed()
    # The main task never ran: close its coroutine, as a dropped run leaves it.
    task._log_destroy_pending = False  # type: ignore[attr-defined]
    task.get_coro().close()


def test_an_unclosed_loop_is_garbage_collected() -> None:
    """The Rust selector takes part in garbage collection: an unclosed loop (with
    its self-pipe reader registered) is collected and closed, worker included."""
    import weakref

    loop = asyncio_guest.GuestEventLoop()
    loop.run_until_complete(asyncio.sleep(0.01))  # starts the worker
    ref = weakref.ref(loop)
    with pytest.warns(ResourceWarning):
        del loop
        gc.collect()
    assert ref() is None
