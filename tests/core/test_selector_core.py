"""The Rust selector's own contract: timeouts, the two wait modes, threads.

Timeouts go through one conversion: NaN (and, where a length of time is
meant, a negative value) is a ValueError naming the parameter; None and
infinity mean "no timeout"; huge values are capped like asyncio's 24 h.
"""

from __future__ import annotations

import math
import os
import queue
import select
import selectors
import socket
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator

import pytest

import asyncio_guest
from asyncio_guest import _core
from tests.core.harness import thread_count


def eventually(condition: Callable[[], bool], limit: float = 10.0) -> bool:
    """Poll `condition` until it holds, for at most `limit` seconds."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.005)
    return condition()


@pytest.fixture
def guest_selector() -> Iterator[_core.Selector]:
    sel = _core.Selector()
    sel.set_guest_mode(True)
    try:
        yield sel
    finally:
        sel.close()


def link() -> None:
    """A stand-in for the guest's next tick."""


BAD_DURATIONS = [math.nan, -1.0, -1e-9, -math.inf]


@pytest.mark.parametrize("bad", BAD_DURATIONS)
def test_arm_refuses_nan_and_negative_timeouts(guest_selector: _core.Selector, bad: float) -> None:
    with pytest.raises(ValueError, match=r"^timeout must be a number of seconds >= 0"):
        guest_selector.arm(bad, queue.SimpleQueue().put, link)
    assert guest_selector.wait_holder == "tick", "a refused arm must leave nothing handed off"
    assert not guest_selector.worker_thread_running


@pytest.mark.parametrize("bad", BAD_DURATIONS)
def test_poll_into_buffer_refuses_nan_and_negative_timeouts(
    guest_selector: _core.Selector, bad: float
) -> None:
    with pytest.raises(ValueError, match=r"^timeout must be a number of seconds >= 0"):
        guest_selector.poll_into_buffer(bad)


def test_poll_into_buffer_refuses_to_wait_forever_on_the_host_thread(
    guest_selector: _core.Selector,
) -> None:
    with pytest.raises(ValueError, match="timeout must be finite"):
        guest_selector.poll_into_buffer(math.inf)


@pytest.mark.parametrize("bad", BAD_DURATIONS)
def test_set_watchdog_refuses_nan_and_negative_thresholds(
    guest_selector: _core.Selector, bad: float
) -> None:
    with pytest.raises(ValueError, match=r"^threshold must be a number of seconds >= 0"):
        guest_selector.set_watchdog(bad, queue.SimpleQueue().put, link)


def test_shutdown_workers_refuses_nan() -> None:
    with pytest.raises(ValueError, match=r"^timeout must be"):
        _core.shutdown_workers(math.nan)


def test_select_refuses_nan_and_polls_on_negative_like_base_selector() -> None:
    with _core.Selector() as sel:
        with pytest.raises(ValueError, match=r"^timeout must be"):
            sel.select(math.nan)
        # selectors.BaseSelector.select: "timeout <= 0" means do not wait.
        assert sel.select(-1.0) == []
        assert sel.select(-math.inf) == []


@pytest.mark.parametrize("huge", [86_400.0 * 2, 1e300, math.inf, None])
def test_huge_and_infinite_timeouts_are_accepted(huge: float | None) -> None:
    a, b = socket.socketpair()
    try:
        with _core.Selector() as sel:
            key = sel.register(b, selectors.EVENT_READ)
            a.send(b"!")
            # No OverflowError; the ready socket ends the (capped) wait at once.
            assert sel.select(huge) == [(key, selectors.EVENT_READ)]
            sel.set_guest_mode(True)
            sel.unregister(b)
            delivered: queue.SimpleQueue[object] = queue.SimpleQueue()
            sel.arm(huge, delivered.put, link)
            assert sel.wait_holder == "worker"
            assert sel.wake()
            assert delivered.get(timeout=10) is link
    finally:
        a.close()
        b.close()


def test_host_watch_mode_wakes_the_poller_fd_and_starts_no_thread(
    guest_selector: _core.Selector,
) -> None:
    sel = guest_selector
    sel.arm_host_watch()
    assert sel.wait_holder == "host-watch"
    with pytest.raises(RuntimeError, match="already handed off"):
        sel.arm(None, queue.SimpleQueue().put, link)
    assert sel.wake() is True
    assert sel.wake() is False, "one notify per wait"
    readable, _, _ = select.select([sel.fileno()], [], [], 10)
    assert readable == [sel.fileno()]
    assert sel.select() == []  # the tick the watch started: takes the wait back
    assert sel.wait_holder == "tick"
    assert sel.wake() is False, "nothing to interrupt during a tick"
    assert not sel.worker_thread_running
    assert sel.stats()["wakeups"] == 1


def test_the_watchdog_thread_starts_at_a_tick_and_leaves_an_idle_guest(
    guest_selector: _core.Selector,
) -> None:
    sel = guest_selector
    sel.set_watchdog(60.0, queue.SimpleQueue().put, link)
    assert not sel.worker_thread_running, "setting a watchdog starts no thread"
    sel.select()  # a tick
    assert sel.worker_thread_running
    sel.arm_host_watch()  # idle, carried by the host: nothing can be stuck
    assert eventually(lambda: not sel.worker_thread_running), "the idle thread stayed"
    sel.select()
    assert sel.worker_thread_running, "the next tick starts it again"
    sel.set_watchdog(0)


def test_an_idle_thread_free_run_has_no_thread_of_its_own() -> None:
    """asyncio_guest.run (thread-free built-in host, nested-loop check on):
    while the guest idles, the process has no more threads than before."""
    before = thread_count()

    async def main() -> bool:
        import asyncio

        loop = asyncio.get_running_loop()
        idle_without_threads = loop.create_future()

        def check() -> None:
            # This checker thread is the one extra thread allowed.
            ok = eventually(lambda: thread_count() == before + 1)
            loop.call_soon_threadsafe(idle_without_threads.set_result, ok)

        checker = threading.Thread(target=check)
        checker.start()
        try:
            return bool(await idle_without_threads)
        finally:
            checker.join(10)

    assert asyncio_guest.run(main()) is True


def test_registration_from_another_thread_restarts_the_workers_wait(
    guest_selector: _core.Selector,
) -> None:
    sel = guest_selector
    a, b = socket.socketpair()
    try:
        delivered: queue.SimpleQueue[object] = queue.SimpleQueue()
        sel.arm(None, delivered.put, link)
        registrar = threading.Thread(target=sel.register, args=(b, selectors.EVENT_READ, "b"))
        registrar.start()
        registrar.join(10)
        assert not registrar.is_alive()
        # Nothing is ready yet: the worker waits again, with b in its set,
        # instead of handing back an empty wait.
        assert eventually(lambda: sel.stats()["rewaits"] >= 1), "the wait was not restarted"
        assert delivered.empty()
        assert sel.wait_holder == "worker"
        a.send(b"!")
        assert delivered.get(timeout=10) is link
        [(key, mask)] = sel.select()
        assert (key.fileobj, key.data, mask) == (b, "b", selectors.EVENT_READ)
    finally:
        sel.unregister(b)
        a.close()
        b.close()


def test_calls_from_two_threads_serialize_instead_of_failing() -> None:
    """A select() blocked in one thread does not lock out register() in another."""
    a, b = socket.socketpair()
    try:
        with _core.Selector() as sel:
            results: queue.SimpleQueue[object] = queue.SimpleQueue()
            waiter = threading.Thread(target=lambda: results.put(sel.select(10)))
            waiter.start()
            time.sleep(0.05)  # let it block (either order is correct)
            key = sel.register(b, selectors.EVENT_READ)
            a.send(b"!")
            waiter.join(10)
            assert results.get(timeout=1) == [(key, selectors.EVENT_READ)]
            sel.unregister(b)
    finally:
        a.close()
        b.close()


def _socket_with_number(number: int) -> tuple[socket.socket, socket.socket, list[socket.socket]]:
    """A connected pair whose second socket has descriptor `number` (reused)."""
    spare: list[socket.socket] = []
    for _ in range(32):
        c, d = socket.socketpair()
        if d.fileno() == number:
            return c, d, spare
        if c.fileno() == number:
            return d, c, spare
        spare += [c, d]
    raise AssertionError(f"descriptor {number} was never reused")


def test_close_before_unregister_then_reuse_of_the_number() -> None:
    """The sequence that breaks kqueue in the `polling` crate: a socket closed
    before it is unregistered, then a new socket with the same number."""
    a, b = socket.socketpair()
    with _core.Selector() as sel:
        number = b.fileno()
        sel.register(b, selectors.EVENT_READ)
        b.close()
        assert sel.unregister(b).fd == number  # found by identity, like stock
        peer, reused, spare = _socket_with_number(number)
        try:
            key = sel.register(reused, selectors.EVENT_READ, "new")
            peer.send(b"!")
            assert sel.select(10) == [(key, selectors.EVENT_READ)]
            sel.unregister(reused)
        finally:
            for s in [a, peer, reused, *spare]:
                s.close()


def test_a_reused_number_still_registered_is_refused_like_stock() -> None:
    a, b = socket.socketpair()
    with _core.Selector() as sel, selectors.DefaultSelector() as stock:
        number = b.fileno()
        sel.register(b, selectors.EVENT_READ)
        stock.register(b, selectors.EVENT_READ)
        b.close()
        peer, reused, spare = _socket_with_number(number)
        try:
            with pytest.raises(KeyError, match="is already registered"):
                stock.register(reused, selectors.EVENT_READ)
            with pytest.raises(KeyError, match="is already registered"):
                sel.register(reused, selectors.EVENT_READ)
        finally:
            for s in [a, peer, reused, *spare]:
                s.close()


@pytest.mark.skipif(sys.platform != "linux", reason="symbol lookup checked on Linux CPython")
def test_the_worker_can_tell_that_the_interpreter_is_finalizing() -> None:
    assert _core._can_detect_finalization()


def test_a_wait_ending_during_finalization_does_not_attach() -> None:
    """The worst case: no atexit shutdown, and handed-off waits that end while
    the interpreter is finalizing. The worker must not attach (3.14+ would
    hang it; earlier versions refuse it too), must not deliver, and must stay
    able to serve the next wait."""
    code = textwrap.dedent(
        """
        import atexit, os, sys, time
        from asyncio_guest import _core

        atexit.unregister(_core.shutdown_workers)

        def until(condition):
            deadline = time.monotonic() + 10
            while not condition() and time.monotonic() < deadline:
                time.sleep(0.02)
            return condition()

        def hook(link):
            os.write(1, b"delivered\\n")

        class SlowTeardown:
            def __init__(self, sel):
                self.sel = sel

            def __del__(self):
                # Runs when finalization empties sys.modules.
                sel = self.sel
                os.write(1, b"finalizing %d\\n" % sys.is_finalizing())
                ended = until(lambda: sel.wait_holder == "tick")
                os.write(1, b"first wait ended %d\\n" % ended)
                sel.arm(0.05, hook, lambda: None)
                ended = until(lambda: sel.wait_holder == "tick")
                os.write(1, b"second wait ended %d\\n" % ended)

        sel = _core.Selector()
        sel.set_guest_mode(True)
        sys.modules["_slow_teardown"] = SlowTeardown(sel)  # its only reference
        sel.arm(0.2, hook, lambda: None)
        """
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        timeout=60,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
    )
    assert proc.returncode == 0, proc.stderr.decode()
    assert proc.stdout.decode().splitlines() == [
        "finalizing 1",
        "first wait ended 1",
        "second wait ended 1",
    ]
