"""Host behaviour written as plain ``async def`` tests through the package's own pytest plugin.

Each test runs as the guest's main task on a real host loop (the plugin creates the host and
runs its loop while the test awaits), so a scenario needs no child process, no hand-written
``run()`` wrapper and no result plumbing: the test awaits what a user's task would await and
asserts in place.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

import asyncio_guest

pytestmark = pytest.mark.timeout(60)


@pytest.mark.asyncio_guest(host="tk", timeout=20)
async def test_tk_button_command_starts_a_guest_task(tk_root: Any) -> None:
    import tkinter

    loop = asyncio.get_running_loop()
    assert isinstance(loop, asyncio_guest.GuestEventLoop)
    done: asyncio.Future[str] = loop.create_future()

    async def on_click() -> None:
        await asyncio.sleep(0.01)
        done.set_result("clicked")

    button = tkinter.Button(tk_root, text="go", command=lambda: asyncio.create_task(on_click()))
    button.pack()
    # The click is a Tk event processed by Tk's own loop, outside any guest tick.
    tk_root.after(10, button.invoke)
    assert await asyncio.wait_for(done, 10) == "clicked"
    button.destroy()


@pytest.mark.asyncio_guest(host="tk", timeout=20)
async def test_tk_timers_fire_while_the_guest_awaits_io(tk_root: Any) -> None:
    fired: list[int] = []

    def tick(n: int) -> None:
        fired.append(n)
        if n < 5:
            tk_root.after(5, tick, n + 1)

    tk_root.after(5, tick, 1)

    async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(await reader.readline())
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(echo, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"ping\n")
    assert await asyncio.wait_for(reader.readline(), 10) == b"ping\n"
    writer.close()
    await writer.wait_closed()
    server.close()
    await server.wait_closed()
    for _ in range(200):  # bounded: Tk's five 5 ms timers need a moment of host time
        if len(fired) == 5:
            break
        await asyncio.sleep(0.01)
    assert fired == [1, 2, 3, 4, 5]


@pytest.mark.asyncio_guest(host="asyncio", timeout=20)
async def test_asyncio_host_and_guest_are_different_loops(asyncio_host_loop: Any) -> None:
    guest = asyncio.get_running_loop()
    assert guest is not asyncio_host_loop
    ran_on: list[object] = []

    # A host callback runs on the host loop; it reaches the guest through the threadsafe API.
    seen = guest.create_future()

    def host_callback() -> None:
        ran_on.append(threading.get_ident())
        guest.call_soon_threadsafe(seen.set_result, "from the host")

    asyncio_host_loop.call_soon(host_callback)
    assert await asyncio.wait_for(seen, 10) == "from the host"
    assert ran_on == [threading.get_ident()]  # same thread: the host runs the guest
