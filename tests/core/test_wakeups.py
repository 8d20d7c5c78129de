"""Prompt wakeups while the worker is blocked with no timers (semantics 4).

Each test puts the guest to sleep with *nothing* scheduled (so the worker waits
with no timeout: without a forced wakeup it would wait forever; the harness
fails the test after 20 s of no progress), then changes something from the host
thread, outside any tick.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from typing import Callable

import pytest

from tests.core.harness import TrivialHost, trivial_guest_run


async def until_worker_waits() -> None:
    """Let the tasks started so far reach their first await."""
    for _ in range(3):
        await asyncio.sleep(0)


def later_on_host(host: TrivialHost, fn: Callable[[], object], delay: float = 0.05) -> None:
    """Run `fn` on the host thread after `delay`, checking the guest is then idle
    with its worker blocked (the scenario these tests are about)."""
    loop = asyncio.get_running_loop()

    def on_host() -> None:
        if not loop._selector.worker_waiting:  # type: ignore[attr-defined]
            host.errors.append("the guest was not waiting on the worker when the host acted")
        fn()

    threading.Timer(delay, host.in_host, args=(on_host,)).start()


def test_host_set_result_wakes_the_guest() -> None:
    async def main(host: TrivialHost) -> str:
        fut = asyncio.get_running_loop().create_future()
        await until_worker_waits()
        later_on_host(host, lambda: fut.set_result("woken"))
        return await fut

    assert trivial_guest_run(main, pass_host=True) == "woken"


def test_host_call_soon_wakes_the_guest() -> None:
    async def main(host: TrivialHost) -> str:
        loop = asyncio.get_running_loop()
        event = asyncio.Event()
        await until_worker_waits()
        later_on_host(host, lambda: loop.call_soon(event.set))
        await event.wait()
        return "woken"

    assert trivial_guest_run(main, pass_host=True) == "woken"


def test_host_task_cancel_wakes_the_guest() -> None:
    async def main(host: TrivialHost) -> str:
        loop = asyncio.get_running_loop()

        async def forever() -> None:
            await loop.create_future()

        sleeper = loop.create_task(forever())
        await until_worker_waits()
        later_on_host(host, sleeper.cancel)
        with pytest.raises(asyncio.CancelledError):
            await sleeper
        return "cancelled"

    assert trivial_guest_run(main, pass_host=True) == "cancelled"


def test_host_create_task_wakes_the_guest() -> None:
    async def main(host: TrivialHost) -> str:
        loop = asyncio.get_running_loop()
        done = loop.create_future()

        async def spawned() -> None:
            done.set_result("spawned ran")

        await until_worker_waits()
        later_on_host(host, lambda: asyncio.get_running_loop().create_task(spawned()))
        return await done

    assert trivial_guest_run(main, pass_host=True) == "spawned ran"


def test_host_call_later_earlier_than_pending_wait_wakes_the_guest() -> None:
    async def main(host: TrivialHost) -> float:
        loop = asyncio.get_running_loop()
        fut = loop.create_future()
        loop.call_later(3600, lambda: None)  # the worker waits for this one
        await until_worker_waits()
        start = time.monotonic()
        later_on_host(host, lambda: loop.call_later(0.01, fut.set_result, None))
        await fut
        return time.monotonic() - start

    assert trivial_guest_run(main, pass_host=True) < 10


def test_later_timer_does_not_force_a_wakeup() -> None:
    async def main(host: TrivialHost) -> int:
        loop = asyncio.get_running_loop()
        fut = loop.create_future()
        loop.call_later(0.3, fut.set_result, None)  # earliest deadline
        await until_worker_waits()
        before = loop.guest_stats()["wakeups"]  # type: ignore[attr-defined]
        checked = loop.create_future()

        def add_later_timer() -> None:
            loop.call_later(3600, lambda: None)
            checked.set_result(loop.guest_stats()["wakeups"] - before)  # type: ignore[attr-defined]

        later_on_host(host, add_later_timer, delay=0.05)
        await fut
        # set_result on `checked` itself forced one wakeup; the timer forced none.
        return await checked

    # The call_later added no wakeup; set_result(checked) came right after it,
    # in the same host callback, and may have added the (single, coalesced) one.
    assert trivial_guest_run(main, pass_host=True) <= 1


def test_call_later_cost_is_zero_wakeups() -> None:
    async def main(host: TrivialHost) -> int:
        loop = asyncio.get_running_loop()
        fut = loop.create_future()
        loop.call_later(0.2, fut.set_result, None)
        await until_worker_waits()
        before = loop.guest_stats()["wakeups"]  # type: ignore[attr-defined]
        later_on_host(host, lambda: loop.call_later(3600, lambda: None))
        await fut
        return loop.guest_stats()["wakeups"] - before  # type: ignore[attr-defined]

    assert trivial_guest_run(main, pass_host=True) == 0


def test_host_stop_wakes_the_guest() -> None:
    """stop() from the host ends the current run_forever-style wait promptly."""

    async def main(host: TrivialHost) -> str:
        loop = asyncio.get_running_loop()
        fut = loop.create_future()
        await until_worker_waits()
        # A host callback that resolves a future via call_soon from the host.
        later_on_host(host, lambda: fut.set_result("ok"))
        return await fut

    assert trivial_guest_run(main, pass_host=True) == "ok"


def test_call_soon_threadsafe_from_other_threads_wakes_the_guest() -> None:
    async def main() -> int:
        loop = asyncio.get_running_loop()
        got: list[int] = []
        all_in = loop.create_future()

        def add(i: int) -> None:
            got.append(i)
            if len(got) == 200 and not all_in.done():
                all_in.set_result(None)

        await until_worker_waits()
        threads = [
            threading.Thread(
                target=lambda k=k: [loop.call_soon_threadsafe(add, k * 20 + j) for j in range(20)]
            )
            for k in range(10)
        ]
        for t in threads:
            t.start()
        await all_in
        for t in threads:
            t.join()
        return len(set(got))

    assert trivial_guest_run(main) == 200


def test_host_add_reader_is_seen_by_the_blocked_wait() -> None:
    async def main(host: TrivialHost) -> bytes:
        loop = asyncio.get_running_loop()
        a, b = socket.socketpair()
        a.setblocking(False)
        got = loop.create_future()

        def on_readable() -> None:
            loop.remove_reader(a)
            got.set_result(a.recv(10))

        await until_worker_waits()
        later_on_host(host, lambda: loop.add_reader(a, on_readable))
        threading.Timer(0.2, b.send, args=(b"ping",)).start()
        try:
            return await got
        finally:
            a.close()
            b.close()

    assert trivial_guest_run(main, pass_host=True) == b"ping"


def test_host_remove_reader_takes_effect() -> None:
    async def main(host: TrivialHost) -> str:
        loop = asyncio.get_running_loop()
        a, b = socket.socketpair()
        a.setblocking(False)
        calls: list[bytes] = []
        loop.add_reader(a, lambda: calls.append(a.recv(10)))
        await until_worker_waits()
        later_on_host(host, lambda: loop.remove_reader(a))
        await asyncio.sleep(0.2)
        b.send(b"ignored")
        await asyncio.sleep(0.2)
        a.close()
        b.close()
        return "no calls" if not calls else f"called {calls}"

    assert trivial_guest_run(main, pass_host=True) == "no calls"


def test_host_transport_write_is_sent_promptly() -> None:
    async def main(host: TrivialHost) -> bytes:
        loop = asyncio.get_running_loop()
        got = loop.create_future()

        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            got.set_result(await reader.readexactly(5))
            writer.close()

        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        _, writer = await asyncio.open_connection("127.0.0.1", port)
        await until_worker_waits()
        later_on_host(host, lambda: writer.write(b"hello"))
        data = await got
        writer.close()
        server.close()
        await server.wait_closed()
        return data

    assert trivial_guest_run(main, pass_host=True) == b"hello"


def test_idle_guest_causes_no_wakeups() -> None:
    """With nothing to do, the worker waits once and nothing wakes it."""

    async def main() -> dict:
        loop = asyncio.get_running_loop()
        before = loop.guest_stats()  # type: ignore[attr-defined]
        await asyncio.sleep(0.5)  # one wait of 0.5 s, nothing else
        after = loop.guest_stats()  # type: ignore[attr-defined]
        return {k: after[k] - before[k] for k in ("ticks", "worker_waits", "wakeups")}

    delta = trivial_guest_run(main)
    assert delta["wakeups"] == 0
    assert delta["worker_waits"] <= 2
    assert delta["ticks"] <= 3
