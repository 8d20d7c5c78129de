"""The Trio echo server (for the overhead ratio of Trio's own guest mode)."""

from __future__ import annotations

from functools import partial
from typing import Any

import trio
from _common import READY, emit
from contenders._base import Contender


async def _echo(stream: trio.SocketStream) -> None:
    try:
        async for data in stream:
            await stream.send_all(data)
    except (trio.BrokenResourceError, trio.ClosedResourceError, OSError):
        pass


async def trio_echo(contender: Contender, p: dict[str, Any]) -> dict[str, Any]:
    timed_out = True
    async with trio.open_nursery() as nursery:

        async def control(stream: trio.SocketStream) -> None:
            nonlocal timed_out
            buf = b""
            async for data in stream:
                buf += data
                while b"\n" in buf:
                    line, buf = buf.split(b"\n", 1)
                    await stream.send_all(b"OK\n")
                    if line.strip() == b"STOP":
                        timed_out = False
                        nursery.cancel_scope.cancel()
                        return

        listeners = await nursery.start(partial(trio.serve_tcp, _echo, 0, host="127.0.0.1"))
        ctrl = await nursery.start(partial(trio.serve_tcp, control, 0, host="127.0.0.1"))
        emit(
            READY,
            {"port": listeners[0].socket.getsockname()[1], "ctrl": ctrl[0].socket.getsockname()[1]},
        )
        nursery.cancel_scope.deadline = trio.current_time() + float(p["deadline"])
    return {"timed_out": timed_out}
