"""Real work in guest mode (semantics 13): sockets, streams, SSL, subprocesses,
executors, cross-thread calls, debug mode."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import ssl
import sys
import tempfile
import threading
import time

import pytest
import trustme

from tests.core.harness import trivial_guest_run


async def echo_roundtrip(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bytes:
    writer.write(b"hello\n")
    await writer.drain()
    line = await reader.readline()
    writer.close()
    await writer.wait_closed()
    return line


async def echo_handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    while line := await reader.readline():
        writer.write(line.upper())
        await writer.drain()
    writer.close()


def test_tcp_streams() -> None:
    async def main() -> bytes:
        server = await asyncio.start_server(echo_handler, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        line = await echo_roundtrip(*await asyncio.open_connection("127.0.0.1", port))
        server.close()
        await server.wait_closed()
        return line

    assert trivial_guest_run(main) == b"HELLO\n"


@pytest.mark.skipif(not hasattr(socket, "AF_UNIX"), reason="no Unix sockets on this platform")
def test_unix_streams() -> None:
    async def main(path: str) -> bytes:
        server = await asyncio.start_unix_server(echo_handler, path)
        line = await echo_roundtrip(*await asyncio.open_unix_connection(path))
        server.close()
        await server.wait_closed()
        return line

    with tempfile.TemporaryDirectory() as d:
        assert trivial_guest_run(main, os.path.join(d, "sock")) == b"HELLO\n"


def test_many_tcp_connections_large_payload() -> None:
    payload = os.urandom(1 << 20)

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        data = await reader.readexactly(len(payload))
        writer.write(data[::-1])
        await writer.drain()
        writer.close()

    async def client(port: int) -> bool:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(payload)
        await writer.drain()
        back = await reader.readexactly(len(payload))
        writer.close()
        return back == payload[::-1]

    async def main() -> list[bool]:
        server = await asyncio.start_server(handler, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        results = await asyncio.gather(*(client(port) for _ in range(20)))
        server.close()
        await server.wait_closed()
        return results

    assert all(trivial_guest_run(main))


def test_low_level_socket_api() -> None:
    async def main() -> bytes:
        loop = asyncio.get_running_loop()
        a, b = socket.socketpair()
        a.setblocking(False)
        b.setblocking(False)
        await loop.sock_sendall(a, b"x" * 100_000)
        got = b""
        while len(got) < 100_000:
            got += await loop.sock_recv(b, 65536)
        a.close()
        b.close()
        return got[:3]

    assert trivial_guest_run(main) == b"xxx"


def test_ssl_with_a_generated_certificate() -> None:
    ca = trustme.CA()
    cert = ca.issue_cert("localhost")
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(server_ctx)
    client_ctx = ssl.create_default_context()
    ca.configure_trust(client_ctx)

    async def main() -> bytes:
        server = await asyncio.start_server(echo_handler, "127.0.0.1", 0, ssl=server_ctx)
        port = server.sockets[0].getsockname()[1]
        reader, writer = await asyncio.open_connection(
            "127.0.0.1", port, ssl=client_ctx, server_hostname="localhost"
        )
        line = await echo_roundtrip(reader, writer)
        server.close()
        await server.wait_closed()
        return line

    assert trivial_guest_run(main) == b"HELLO\n"


def test_subprocess() -> None:
    async def main() -> tuple[int, bytes]:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            "import sys; sys.stdout.write(sys.stdin.read().upper())",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        out, _ = await proc.communicate(b"from the guest")
        return proc.returncode or 0, out

    assert trivial_guest_run(main) == (0, b"FROM THE GUEST")


def test_run_in_executor_and_to_thread() -> None:
    async def main() -> tuple[int, str]:
        loop = asyncio.get_running_loop()
        a = await loop.run_in_executor(None, sum, range(1000))
        b = await asyncio.to_thread(threading.current_thread)
        return a, b.name

    total, name = trivial_guest_run(main)
    assert total == 499500
    assert name != threading.current_thread().name


def test_call_soon_threadsafe_from_many_threads() -> None:
    async def main() -> int:
        loop = asyncio.get_running_loop()
        seen: set[tuple[int, int]] = set()
        done = loop.create_future()

        def add(item: tuple[int, int]) -> None:
            seen.add(item)
            if len(seen) == 16 * 500 and not done.done():
                done.set_result(None)

        def producer(k: int) -> None:
            for i in range(500):
                loop.call_soon_threadsafe(add, (k, i))
                if i % 50 == 0:
                    time.sleep(0.001)

        threads = [threading.Thread(target=producer, args=(k,)) for k in range(16)]
        for t in threads:
            t.start()
        await asyncio.wait_for(done, 10)
        for t in threads:
            t.join()
        return len(seen)

    assert trivial_guest_run(main) == 8000


def test_debug_mode_reports_slow_callbacks(caplog: pytest.LogCaptureFixture) -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        loop.slow_callback_duration = 0.01
        time.sleep(0.05)  # a slow step of this task
        await asyncio.sleep(0)

    with caplog.at_level(logging.WARNING, logger="asyncio"):
        trivial_guest_run(main, debug=True)
    assert any("Executing" in r.getMessage() and "took" in r.getMessage() for r in caplog.records)


def test_timers_fire_in_deadline_order() -> None:
    async def main() -> list[int]:
        loop = asyncio.get_running_loop()
        order: list[int] = []
        done = loop.create_future()
        for i, delay in enumerate([0.03, 0.01, 0.02, 0.0, 0.04]):
            loop.call_later(delay, order.append, i)
        loop.call_later(0.06, done.set_result, None)
        await done
        return order

    assert trivial_guest_run(main) == [3, 1, 2, 0, 4]
