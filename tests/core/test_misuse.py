"""The misuse table of the core: one row per mistake a user or a host can make.

Each row asserts the exact message the user sees and that the thread is usable
afterwards (a new run works). The autouse ``no_leaks`` fixture checks that no
thread, fd, running loop, asyncgen hook, SIGINT handler, wakeup fd or
registered run is left behind.
"""

from __future__ import annotations

import asyncio
import gc
import sys
import threading
import time
import warnings
from collections import deque
from typing import Any, Callable, Optional

import outcome
import pytest

import asyncio_guest
from tests.core.harness import trivial_guest_run

Row = Callable[[], None]
ROWS: dict[str, Row] = {}


def row(fn: Row) -> Row:
    ROWS[fn.__name__] = fn
    return fn


class DequeHost:
    """A host whose queue is drained by :meth:`drain` on the test thread."""

    def __init__(self) -> None:
        self.calls: deque[Callable[[], object]] = deque()
        self.results: list[outcome.Outcome] = []

    def post(self, fn: Callable[[], object]) -> None:
        self.calls.append(fn)

    def drain(self, timeout: float = 10.0) -> None:
        """Run posted calls until done_callback ran (or raise after ``timeout``)."""
        deadline = time.monotonic() + timeout
        while not self.results:
            if time.monotonic() > deadline:
                raise AssertionError(f"the guest run made no progress for {timeout} s")
            if self.calls:
                self.calls.popleft()()
            else:
                time.sleep(0.001)


def thread_is_usable() -> None:
    assert trivial_guest_run(asyncio.sleep, 0, "next run") == "next run"


class Unraisables:
    """Collects what ``sys.unraisablehook`` receives (as text: no object kept alive)."""

    def __init__(self) -> None:
        self.messages: list[str] = []

    def __enter__(self) -> Unraisables:
        self._old = sys.unraisablehook
        sys.unraisablehook = lambda u: self.messages.append(f"{u.exc_type.__name__}: {u.exc_value}")
        return self

    def __exit__(self, *exc: object) -> None:
        sys.unraisablehook = self._old


async def main_that_must_not_run(ran: list[str]) -> None:
    ran.append("user code")


# -- rows -----------------------------------------------------------------------


@row
def inline_hook_at_start() -> None:
    ran: list[str] = []
    with pytest.raises(RuntimeError, match="never call it inline"):
        asyncio_guest.start_guest_run(
            main_that_must_not_run,
            ran,
            run_sync_soon_threadsafe=lambda fn: fn(),
            done_callback=lambda o: None,
        )
    assert ran == [], "user code ran inside start_guest_run"
    thread_is_usable()


@row
def inline_hook_that_swallows_the_error_at_start() -> None:
    ran: list[str] = []

    def swallowing(fn: Callable[[], object]) -> None:
        try:
            fn()
        except Exception:
            pass

    with pytest.raises(RuntimeError, match="never call it inline"):
        asyncio_guest.start_guest_run(
            main_that_must_not_run,
            ran,
            run_sync_soon_threadsafe=swallowing,
            done_callback=lambda o: None,
        )
    assert ran == []
    thread_is_usable()


@row
def inline_hook_later() -> None:
    """The host queues the first post, then calls the next one inline."""
    host = DequeHost()
    posts = [0]

    def sometimes_inline(fn: Callable[[], object]) -> None:
        posts[0] += 1
        if posts[0] == 1:
            host.post(fn)
        else:
            fn()

    async def main() -> None:
        for _ in range(3):
            await asyncio.sleep(0)

    asyncio_guest.start_guest_run(
        main,
        run_sync_soon_threadsafe=host.post,
        run_sync_soon_not_threadsafe=sometimes_inline,
        done_callback=host.results.append,
        time_slice=0,
    )
    host.drain()
    with pytest.raises(RuntimeError, match="never call it inline"):
        host.results[0].unwrap()
    thread_is_usable()


@row
def inline_threadsafe_hook_on_the_worker() -> None:
    """The threadsafe hook runs the tick inline on the worker thread."""
    host = DequeHost()
    called_on: list[int] = []

    def inline_threadsafe(fn: Callable[[], object]) -> None:
        called_on.append(threading.get_ident())
        fn()

    async def main() -> None:
        await asyncio.sleep(0.02)  # a wait on the worker, whose post runs inline

    with Unraisables() as unraisable, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        asyncio_guest.start_guest_run(
            main,
            run_sync_soon_threadsafe=inline_threadsafe,
            run_sync_soon_not_threadsafe=host.post,
            done_callback=host.results.append,
            inline_wait=0,
        )
        deadline = time.monotonic() + 10
        while not caught and time.monotonic() < deadline:
            if host.calls:
                host.calls.popleft()()
            else:
                time.sleep(0.005)
    assert called_on and threading.get_ident() not in called_on
    messages = [str(w.message) for w in caught]
    assert any("other than the host thread" in m and "abandoned" in m for m in messages), messages
    assert any("never call it inline" in m for m in unraisable.messages), unraisable.messages
    assert host.results == []  # done_callback runs only on the host thread
    thread_is_usable()  # also cleans up the abandoned run here


@row
def wait_readable_that_runs_the_callback_inline() -> None:
    """Host-watch mode: the host's fd watch calls the tick at once instead of
    when the fd is readable."""
    host = DequeHost()

    def inline_watch(fd: int, timeout: Optional[float], fn: Callable[[], object]) -> Any:
        fn()
        return lambda: None

    async def main() -> None:
        await asyncio.sleep(0.01)  # an idle wait, handed to the host's watch

    asyncio_guest.start_guest_run(
        main,
        run_sync_soon_threadsafe=host.post,
        done_callback=host.results.append,
        wait_readable=inline_watch,
        inline_wait=0,
    )
    host.drain()
    with pytest.raises(RuntimeError, match="never call it inline"):
        host.results[0].unwrap()
    thread_is_usable()


@row
def wait_readable_that_drops_the_callback() -> None:
    """Host-watch mode: the host forgets its fd watch (a host that stops watching)."""
    host = DequeHost()

    def forgetful_watch(fd: int, timeout: Optional[float], fn: Callable[[], object]) -> Any:
        return lambda: None  # fn is not kept anywhere

    async def main() -> None:
        await asyncio.sleep(3600)

    asyncio_guest.start_guest_run(
        main,
        run_sync_soon_threadsafe=host.post,
        done_callback=host.results.append,
        wait_readable=forgetful_watch,
        inline_wait=0,
    )
    with pytest.warns(RuntimeWarning, match="abandoned without properly finishing"):
        while host.calls:
            host.calls.popleft()()
        gc.collect()
    assert host.results == []
    thread_is_usable()


@row
def second_run_on_the_same_thread() -> None:
    async def main() -> str:
        with pytest.raises(RuntimeError, match="already active on this thread"):
            asyncio_guest.start_guest_run(
                asyncio.sleep, 0, run_sync_soon_threadsafe=print, done_callback=print
            )
        return "refused"

    assert trivial_guest_run(main) == "refused"
    thread_is_usable()


@row
def loop_used_after_the_run() -> None:
    async def main() -> asyncio.AbstractEventLoop:
        return asyncio.get_running_loop()

    loop = trivial_guest_run(main)
    with pytest.raises(RuntimeError, match="Event loop is closed"):
        loop.call_soon(print)
    coro = asyncio.sleep(0)
    with pytest.raises(RuntimeError, match="Event loop is closed"):
        loop.run_until_complete(coro)
    coro.close()
    thread_is_usable()


@row
def asyncio_run_inside_the_guest() -> None:
    async def main() -> str:
        coro = asyncio.sleep(0)
        with pytest.raises(RuntimeError, match=r"asyncio.run\(\) cannot be called from a running"):
            asyncio.run(coro)
        coro.close()
        return "ok"

    assert trivial_guest_run(main) == "ok"
    thread_is_usable()


@row
def run_until_complete_inside_the_guest() -> None:
    async def main() -> str:
        loop = asyncio.get_running_loop()
        coro = asyncio.sleep(0)
        with pytest.raises(RuntimeError, match="This event loop is already running"):
            loop.run_until_complete(coro)
        coro.close()
        other = asyncio_guest.GuestEventLoop()
        coro = asyncio.sleep(0)
        try:
            with pytest.raises(RuntimeError, match="another loop is running"):
                other.run_until_complete(coro)
        finally:
            coro.close()
            other.close()
        return "ok"

    assert trivial_guest_run(main) == "ok"
    thread_is_usable()


@row
def hook_that_raises_at_start() -> None:
    def broken(fn: object) -> None:
        raise OSError("host is gone")

    with pytest.raises(OSError, match="host is gone"):
        asyncio_guest.start_guest_run(
            asyncio.sleep, 0, run_sync_soon_threadsafe=broken, done_callback=print
        )
    thread_is_usable()


@row
def hook_that_raises_later_on_the_host_thread() -> None:
    host = DequeHost()
    posts = [0]

    def fails_later(fn: Callable[[], object]) -> None:
        posts[0] += 1
        if posts[0] > 1:
            raise OSError("host queue is full")
        host.post(fn)

    async def main() -> None:
        for _ in range(3):
            await asyncio.sleep(0)

    asyncio_guest.start_guest_run(
        main,
        run_sync_soon_threadsafe=host.post,
        run_sync_soon_not_threadsafe=fails_later,
        done_callback=host.results.append,
        time_slice=0,
    )
    host.drain()
    with pytest.raises(OSError, match="host queue is full"):
        host.results[0].unwrap()
    thread_is_usable()


@row
def hook_that_raises_later_on_the_worker() -> None:
    host = DequeHost()

    def broken_threadsafe(fn: object) -> None:
        raise RuntimeError("main thread is not in main loop")

    async def main() -> None:
        await asyncio.sleep(0.02)

    with Unraisables() as unraisable, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        asyncio_guest.start_guest_run(
            main,
            run_sync_soon_threadsafe=broken_threadsafe,
            run_sync_soon_not_threadsafe=host.post,
            done_callback=host.results.append,
            inline_wait=0,
        )
        deadline = time.monotonic() + 10
        while not caught and time.monotonic() < deadline:
            if host.calls:
                host.calls.popleft()()
            else:
                time.sleep(0.005)
    messages = [str(w.message) for w in caught]
    assert any("failed on the I/O worker thread" in m for m in messages), messages
    assert any("main thread is not in main loop" in m for m in unraisable.messages)
    assert host.results == []
    thread_is_usable()


@row
def hook_that_drops_calls() -> None:
    """The host stops posting: the dropped tick is reported as an abandonment."""
    results: list[outcome.Outcome] = []
    kept: list[Callable[[], object]] = []
    posts = [0]

    def drops_after_first(fn: Callable[[], object]) -> None:
        posts[0] += 1
        if posts[0] == 1:
            kept.append(fn)  # the first tick is queued; every later one is dropped

    async def main() -> None:
        while True:
            await asyncio.sleep(0)

    asyncio_guest.start_guest_run(
        main,
        run_sync_soon_threadsafe=drops_after_first,
        done_callback=results.append,
        time_slice=0,
    )
    with pytest.warns(RuntimeWarning, match="abandoned without properly finishing"):
        kept.pop()()
        gc.collect()
    assert results == []  # nobody is left to call back: the warning says so
    thread_is_usable()


@row
def done_callback_that_raises() -> None:
    """It propagates out of the host callback that ran the last tick; the run is
    already torn down, so the thread is usable."""
    host = DequeHost()

    def done_callback(result: outcome.Outcome) -> None:
        host.results.append(result)
        raise ValueError("done_callback failed")

    asyncio_guest.start_guest_run(
        asyncio.sleep, 0, run_sync_soon_threadsafe=host.post, done_callback=done_callback
    )
    with pytest.raises(ValueError, match="done_callback failed"):
        host.drain()
    assert len(host.results) == 1
    thread_is_usable()


@row
def coroutine_object_instead_of_function() -> None:
    coro = asyncio.sleep(0)
    try:
        with pytest.raises(TypeError, match=r"use start_guest_run\(fn, arg\) instead"):
            asyncio_guest.start_guest_run(coro, run_sync_soon_threadsafe=print, done_callback=print)  # type: ignore[arg-type]
    finally:
        coro.close()
    thread_is_usable()


@row
def sync_callable_instead_of_async_function() -> None:
    with pytest.raises(TypeError, match=r"expects an async function; .* returned int"):
        asyncio_guest.start_guest_run(
            lambda: 1,  # type: ignore[arg-type,return-value]
            run_sync_soon_threadsafe=print,
            done_callback=print,
        )
    thread_is_usable()


@row
def selector_argument() -> None:
    with Unraisables() as unraisable:
        with pytest.raises(TypeError, match="always uses its own poller"):
            asyncio_guest.GuestEventLoop(selector=object())  # type: ignore[arg-type]
        gc.collect()
    assert unraisable.messages == []
    loop = asyncio_guest.GuestEventLoop(selector=None)
    try:
        assert loop.run_until_complete(asyncio.sleep(0, "ok")) == "ok"
    finally:
        loop.close()


@pytest.mark.parametrize("case", list(ROWS), ids=list(ROWS))
def test_misuse(case: str) -> None:
    ROWS[case]()


def test_the_table_names_every_row() -> None:
    # A row that is defined but never run would be a silent gap in the table.
    assert len(ROWS) == 18
