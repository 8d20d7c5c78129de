"""The load generator, always a separate process: ``client.py MODE PORT CTRL PARAMS_JSON``.

Modes:
  pingpong  one connection, 64-byte request / 64-byte response, blocking sockets
            (the cheapest possible client, identical for every contender)
  stream    one connection, a thread writes 1 MiB chunks, the main thread reads the
            echo back; MiB/s of echoed data
  scale     N concurrent connections held open at once, each doing R 64-byte round
            trips concurrently (asyncio, uvloop if installed), req/s

Each mode warms the server up first, then sends ``BEGIN`` on the control port, measures,
and sends ``STOP``. Prints ``BENCH-RESULT {...}``. Every phase is bounded in time.
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import socket
import sys
import threading
import time
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _common import RESULT, emit

HOST = "127.0.0.1"
MSG = b"x" * 64
CHUNK = b"y" * (1 << 20)
TIMEOUT = 20.0


def control(port: int, command: str) -> None:
    with socket.create_connection((HOST, port), timeout=TIMEOUT) as s:
        s.sendall(command.encode() + b"\n")
        s.recv(16)


def _connect(port: int) -> socket.socket:
    s = socket.create_connection((HOST, port), timeout=TIMEOUT)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def _recv_exact(s: socket.socket, n: int) -> None:
    got = 0
    while got < n:
        chunk = s.recv(n - got)
        if not chunk:
            raise ConnectionError("server closed the connection")
        got += len(chunk)


def _pingpong_for(s: socket.socket, seconds: float) -> tuple[int, float]:
    count = 0
    t0 = time.perf_counter()
    end = t0 + seconds
    while time.perf_counter() < end:
        for _ in range(20):
            s.sendall(MSG)
            _recv_exact(s, len(MSG))
        count += 20
    return count, time.perf_counter() - t0


def pingpong(port: int, ctrl: int, p: dict[str, Any]) -> dict[str, Any]:
    with _connect(port) as s:
        _pingpong_for(s, float(p["warmup_s"]))
        control(ctrl, "BEGIN")
        count, elapsed = _pingpong_for(s, float(p["duration_s"]))
    control(ctrl, "STOP")
    return {"requests": count, "req_per_s": count / elapsed, "elapsed_s": elapsed}


def stream(port: int, ctrl: int, p: dict[str, Any]) -> dict[str, Any]:
    s = _connect(port)
    stop = threading.Event()

    def writer() -> None:
        try:
            while not stop.is_set():
                s.sendall(CHUNK)
            s.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    buf = bytearray(1 << 20)
    warm_end = time.perf_counter() + float(p["warmup_s"])
    while time.perf_counter() < warm_end:
        s.recv_into(buf)
    control(ctrl, "BEGIN")
    received = 0
    t0 = time.perf_counter()
    end = t0 + float(p["duration_s"])
    while time.perf_counter() < end:
        received += s.recv_into(buf)
    elapsed = time.perf_counter() - t0
    stop.set()
    # Drain what is still in flight until the server closes after our EOF.
    try:
        while s.recv_into(buf):
            pass
    except OSError:
        pass
    thread.join(TIMEOUT)
    s.close()
    control(ctrl, "STOP")
    return {"mib_per_s": received / elapsed / (1 << 20), "elapsed_s": elapsed}


async def _scale(port: int, ctrl: int, p: dict[str, Any]) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    n, rounds, batch = int(p["connections"]), int(p["rounds"]), int(p.get("batch", 500))

    async def open_many(count: int) -> list[tuple[asyncio.StreamReader, asyncio.StreamWriter]]:
        conns: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
        for start in range(0, count, batch):
            size = min(batch, count - start)
            conns += await asyncio.gather(
                *(asyncio.open_connection(HOST, port) for _ in range(size))
            )
        return conns

    async def talk(conn: tuple[asyncio.StreamReader, asyncio.StreamWriter], r: int) -> None:
        reader, writer = conn
        for _ in range(r):
            writer.write(MSG)
            await reader.readexactly(len(MSG))

    async def close_all(conns: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]]) -> None:
        for _, writer in conns:
            writer.close()
        await asyncio.sleep(0)

    warm = await open_many(int(p.get("warmup_connections", 200)))
    await asyncio.gather(*(talk(c, 3) for c in warm))
    await close_all(warm)
    await asyncio.sleep(0.2)
    await loop.run_in_executor(None, control, ctrl, "BEGIN")
    t_open = time.perf_counter()
    conns = await open_many(n)
    opened = time.perf_counter() - t_open
    t0 = time.perf_counter()
    await asyncio.gather(*(talk(c, rounds) for c in conns))
    elapsed = time.perf_counter() - t0
    await loop.run_in_executor(None, control, ctrl, "STOP")
    await close_all(conns)
    return {
        "connections": n,
        "req_per_s": n * rounds / elapsed,
        "open_s": opened,
        "elapsed_s": elapsed,
    }


def scale(port: int, ctrl: int, p: dict[str, Any]) -> dict[str, Any]:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or hard > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    try:
        import uvloop

        result = uvloop.run(_scale(port, ctrl, p))
        result["client_loop"] = "uvloop"
    except ImportError:
        result = asyncio.run(_scale(port, ctrl, p))
        result["client_loop"] = "asyncio"
    return result


MODES = {"pingpong": pingpong, "stream": stream, "scale": scale}


def main(argv: list[str]) -> int:
    if len(argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    mode, port, ctrl, params = argv[0], int(argv[1]), int(argv[2]), json.loads(argv[3])
    try:
        emit(RESULT, MODES[mode](port, ctrl, params))
    except Exception as exc:
        emit(RESULT, {"error": f"client: {type(exc).__name__}: {exc}"})
        try:
            control(ctrl, "STOP")
        except OSError:
            pass
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
