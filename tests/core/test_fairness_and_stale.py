"""Fairness between host and guest (semantics 5) and stale events (semantics 6)."""

from __future__ import annotations

import asyncio
import gc
import os
import socket
import threading
import time

import pytest

from tests.core.harness import TrivialHost, trivial_guest_run


@pytest.mark.parametrize("time_slice", [0.0, 0.002])
def test_sleep0_spinner_never_freezes_the_host(time_slice: float) -> None:
    """A task looping on sleep(0) leaves the host running between ticks."""

    async def main(host: TrivialHost) -> tuple[int, int]:
        host_runs = 0
        spins = 0
        stop = False

        def host_callback() -> None:
            nonlocal host_runs
            host_runs += 1
            if host_runs < 50:
                host.in_host(host_callback)

        async def spinner() -> None:
            nonlocal spins
            while not stop:
                spins += 1
                await asyncio.sleep(0)

        task = asyncio.create_task(spinner())
        host.in_host(host_callback)
        while host_runs < 50:
            await asyncio.sleep(0)
        stop = True
        await task
        return host_runs, spins

    start = time.monotonic()
    host_runs, spins = trivial_guest_run(main, pass_host=True, time_slice=time_slice)
    elapsed = time.monotonic() - start
    assert host_runs == 50
    if time_slice == 0:
        # One iteration per host callback: strictly interleaved.
        assert spins <= 4 * host_runs + 10
    else:
        # Batches are bounded by the slice: 50 host callbacks, each behind at
        # most one batch, cannot take much longer than 50 slices.
        assert elapsed < 50 * time_slice + 5


def test_batches_return_to_the_host_within_the_slice() -> None:
    async def main(host: TrivialHost) -> float:
        gaps: list[float] = []
        last = time.monotonic()

        def host_timer() -> None:
            nonlocal last
            now = time.monotonic()
            gaps.append(now - last)
            last = now
            if len(gaps) < 30:
                host.in_host(host_timer)

        async def spinner() -> None:
            while len(gaps) < 30:
                await asyncio.sleep(0)

        host.in_host(host_timer)
        await spinner()
        return max(gaps[1:])

    # Loose bound (shared machines): the point is "milliseconds, not seconds".
    assert trivial_guest_run(main, pass_host=True, time_slice=0.002) < 0.5


def test_one_loop_iteration_per_tick() -> None:
    """Callbacks scheduled by a callback run in the next tick, as in _run_once."""

    async def main(host: TrivialHost) -> list[str]:
        loop = asyncio.get_running_loop()
        order: list[str] = []
        done = loop.create_future()

        def first() -> None:
            order.append("first")
            loop.call_soon(second)
            host.in_host(lambda: order.append("host"))

        def second() -> None:
            order.append("second")
            done.set_result(None)

        loop.call_soon(first)
        await done
        return order

    # The host callback queued by `first` runs between the two ticks.
    assert trivial_guest_run(main, pass_host=True, time_slice=0) == ["first", "host", "second"]


def _stale_scenario(action: str) -> str:
    """Data arrives on a watched socket; between the worker's wait and the tick
    that would process it, a host callback removes the reader, closes the
    socket, or closes it and reuses its fd number for a new registration."""

    async def main(host: TrivialHost) -> str:
        loop = asyncio.get_running_loop()
        a, b = socket.socketpair()
        a.setblocking(False)
        wrong: list[str] = []
        loop.add_reader(a, lambda: wrong.append("old reader ran"))
        reused: list[socket.socket] = []

        def between_wait_and_tick() -> None:
            host.before_worker_tick = None
            fd = a.fileno()
            loop.remove_reader(a)
            if action in ("close", "reuse"):
                a.close()
            if action == "reuse":
                # Take the same fd number for a brand-new socket pair end and
                # watch it for *writability*-free reading: it has no data.
                c, d = socket.socketpair()
                if c.fileno() != fd:
                    os.dup2(c.fileno(), fd)
                    c.close()
                    c = socket.socket(fileno=fd)
                c.setblocking(False)
                reused.extend([c, d])
                loop.add_reader(c, lambda: wrong.append("new reader got the old event"))

        host.before_worker_tick = between_wait_and_tick
        # The data must arrive while the worker waits, not during a tick.
        threading.Timer(0.05, b.send, args=(b"x",)).start()
        await asyncio.sleep(0.3)
        for s in reused:
            loop.remove_reader(s) if s is reused[0] else None
            s.close()
        if action == "remove":
            a.close()
        b.close()
        assert host.before_worker_tick is None, "the host action did not run between wait and tick"
        return ",".join(wrong) or "clean"

    return trivial_guest_run(main, pass_host=True)


def test_reader_removed_between_wait_and_tick() -> None:
    assert _stale_scenario("remove") == "clean"


def test_socket_closed_between_wait_and_tick() -> None:
    assert _stale_scenario("close") == "clean"


def test_fd_reused_between_wait_and_tick() -> None:
    assert _stale_scenario("reuse") == "clean"


def test_transport_closed_between_wait_and_tick() -> None:
    async def main(host: TrivialHost) -> str:
        loop = asyncio.get_running_loop()
        received: list[bytes] = []

        class Proto(asyncio.Protocol):
            def data_received(self, data: bytes) -> None:
                received.append(data)

        a, b = socket.socketpair()
        transport, _ = await loop.connect_accepted_socket(Proto, a)
        host.before_worker_tick = lambda: (
            setattr(host, "before_worker_tick", None),
            transport.abort(),
        )
        threading.Timer(0.05, b.send, args=(b"late data",)).start()
        await asyncio.sleep(0.3)
        b.close()
        gc.collect()
        assert host.before_worker_tick is None, "the host action did not run between wait and tick"
        return "clean" if not received else f"delivered {received}"

    assert trivial_guest_run(main, pass_host=True) == "clean"
