"""10,000 concurrent TCP connections to a guest server on 127.0.0.1.

The server is ``asyncio.start_server`` inside a guest run on the trivial
queue host, in this process.  The client is a separate process with its own
stock asyncio loop (started *from the guest* with
``asyncio.create_subprocess_exec``).  The client opens every connection and
has each one echo a first random chunk, so all of them are open at the same
time (the server records the peak); then each sends a second chunk and EOF
and reads the echo to EOF.  Every byte must come back unchanged, and the
server must see every connection end cleanly.
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import sys
import time
from typing import Any

import pytest

from .conftest import run_guest
from .figures import record

CONNECTIONS = int(os.environ.get("STRESS_CONNECTIONS", "10000"))

CLIENT = r"""
import asyncio, hashlib, json, os, random, resource, sys, time

port, n = int(sys.argv[1]), int(sys.argv[2])
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, n + 1000)), hard))

async def main():
    rng = random.Random(1234)
    all_open = asyncio.Event()
    opened = 0
    sem = asyncio.Semaphore(500)   # connects in flight (the listen backlog is finite)
    stats = {"bytes": 0, "bad": 0, "errors": []}

    async def one(i):
        nonlocal opened
        first = os.urandom(rng.randint(1, 512))
        second = os.urandom(rng.randint(1, 4096))
        async with sem:
            r, w = await asyncio.open_connection("127.0.0.1", port)
            w.write(first)
            echoed = await r.readexactly(len(first))
        opened += 1
        if opened == n:
            all_open.set()
        await all_open.wait()
        w.write(second)
        w.write_eof()
        rest = await r.read()
        w.close()
        await w.wait_closed()
        if echoed + rest != first + second:
            stats["bad"] += 1
        stats["bytes"] += len(first) + len(second)

    t0 = time.monotonic()
    results = await asyncio.gather(*(one(i) for i in range(n)), return_exceptions=True)
    errs = [repr(r) for r in results if isinstance(r, BaseException)]
    stats["errors"] = errs[:10]
    stats["n_errors"] = len(errs)
    stats["seconds"] = time.monotonic() - t0
    print(json.dumps(stats))

asyncio.run(main())
"""


def _raise_fd_limit(need: int) -> tuple[int, int]:
    old = resource.getrlimit(resource.RLIMIT_NOFILE)
    soft, hard = old
    if soft >= need:
        return old
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (need, max(hard, need)))
    except (ValueError, OSError):
        if hard < need:
            pytest.fail(f"RLIMIT_NOFILE hard limit {hard} < {need} and cannot be raised")
        resource.setrlimit(resource.RLIMIT_NOFILE, (need, hard))
    return old


async def _serve_and_run_client(n: int) -> dict[str, Any]:
    active = 0
    peak = 0
    finished = 0
    server_errors: list[str] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal active, peak, finished
        active += 1
        peak = max(peak, active)
        try:
            while True:
                data = await reader.read(65536)
                if not data:
                    break
                writer.write(data)
                await writer.drain()
            finished += 1
        except Exception as exc:
            server_errors.append(repr(exc))
        finally:
            active -= 1
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0, backlog=4096)
    port = server.sockets[0].getsockname()[1]
    t0 = time.monotonic()
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        CLIENT,
        str(port),
        str(n),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(), timeout=200)
    except asyncio.TimeoutError:
        proc.kill()
        await proc.wait()
        raise
    server.close()
    await server.wait_closed()
    elapsed = time.monotonic() - t0
    loop = asyncio.get_running_loop()
    stats = loop.guest_stats() if hasattr(loop, "guest_stats") else {}
    return {
        "rc": proc.returncode,
        "client": out.decode(),
        "stderr": err.decode()[-3000:],
        "peak": peak,
        "finished": finished,
        "server_errors": server_errors[:10],
        "seconds": elapsed,
        "ticks": stats.get("ticks", 0),
    }


@pytest.mark.timeout(300, method="thread")
def test_ten_thousand_concurrent_connections() -> None:
    old = _raise_fd_limit(CONNECTIONS + 1000)
    try:
        res = run_guest(_serve_and_run_client, CONNECTIONS)
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, old)
    assert res["rc"] == 0, res["stderr"]
    client = json.loads(res["client"].strip().splitlines()[-1])
    record(
        "tcp",
        connections=CONNECTIONS,
        peak_concurrent=res["peak"],
        bytes_echoed=client["bytes"],
        seconds=res["seconds"],
    )
    assert client["n_errors"] == 0, client["errors"]
    assert client["bad"] == 0, f"{client['bad']} connections got different bytes back"
    assert not res["server_errors"], res["server_errors"]
    assert res["finished"] == CONNECTIONS
    assert res["peak"] == CONNECTIONS, f"only {res['peak']} connections were open at once"
