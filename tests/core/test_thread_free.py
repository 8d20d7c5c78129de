"""Thread-free mode: the host watches the poller's descriptor itself
(`wait_readable`), so the guest never hands a wait to its worker thread."""

from __future__ import annotations

import asyncio
import threading

import pytest

import asyncio_guest
from tests.core.harness import asyncio_host_run


async def guest_workload() -> dict:
    loop = asyncio.get_running_loop()

    # Real I/O: an echo server and client, in the guest.
    async def handler(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        w.write(await r.readline())
        await w.drain()
        w.close()

    server = await asyncio.start_server(handler, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"ping\n")
    echoed = await reader.readline()
    writer.close()
    server.close()
    await server.wait_closed()
    # Timers, a wakeup from another thread, an executor.
    await asyncio.sleep(0.02)
    fut = loop.create_future()
    threading.Timer(0.02, loop.call_soon_threadsafe, args=(fut.set_result, "threadsafe")).start()
    from_thread = await fut
    in_executor = await loop.run_in_executor(None, sum, [1, 2, 3])
    return {
        "echoed": echoed,
        "from_thread": from_thread,
        "in_executor": in_executor,
        "stats": loop.guest_stats(),  # type: ignore[attr-defined]
    }


def test_thread_free_guest_on_an_asyncio_host_never_uses_the_worker() -> None:
    result = asyncio_host_run(guest_workload, thread_free=True)
    assert result["echoed"] == b"ping\n"
    assert result["from_thread"] == "threadsafe"
    assert result["in_executor"] == 6
    assert result["stats"]["worker_waits"] == 0


def test_thread_free_host_wakeups() -> None:
    """A host-side set_result / call_soon while the host watches the fd."""

    async def guest() -> str:
        loop = asyncio.get_running_loop()
        fut = loop.create_future()
        host_loop = hosts[0]
        host_loop.call_later(0.05, lambda: fut.set_result("woken by host code"))
        return await fut

    hosts: list[asyncio.AbstractEventLoop] = []

    async def capture() -> None:
        hosts.append(asyncio.get_running_loop())
        await asyncio.sleep(3600)

    # host_main runs on the host loop; make sure it is captured before the guest needs it.
    async def guest_wrapper() -> str:
        while not hosts:
            await asyncio.sleep(0)
        return await guest()

    assert asyncio_host_run(guest_wrapper, host_main=capture, thread_free=True) == (
        "woken by host code"
    )


def test_wait_readable_must_be_callable() -> None:
    with pytest.raises(TypeError, match="wait_readable must be callable"):
        asyncio_guest.start_guest_run(
            asyncio.sleep,
            0,
            run_sync_soon_threadsafe=lambda fn: None,
            done_callback=lambda o: None,
            wait_readable=5,  # type: ignore[arg-type]
        )
