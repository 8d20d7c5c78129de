"""Toolkit-free workload shared by every sample ``asyncio_guest.samples.<host>_app``.

Everything here is plain asyncio; the samples run it as a guest of their GUI loop and only
supply widgets.  Nothing here imports a GUI toolkit.

Low-level pieces
----------------
``server = await start_server(size=..., chunk_size=..., delay=...)``
    A tiny HTTP/1.1 server on 127.0.0.1 (random free port) that answers every GET with a
    deterministic body of ``size`` bytes (see :func:`expected_body`), sent in ``chunk_size``
    pieces with ``delay`` seconds between them so download progress is visible.
    ``server.url`` is the URL to fetch, ``await server.aclose()`` stops it and closes every
    connection (no fd left behind).

``body = await download(url, on_progress)``
    Fetch ``url`` (http only) with asyncio streams; calls ``on_progress(received, total)``
    after every chunk (``total`` is the Content-Length).  Returns the body bytes.  Cancelling
    the task closes the socket.

``await count(on_count, interval=0.05)``
    Forever: ``on_count(n)`` with n = 1, 2, 3, ... every ``interval`` seconds.

``await probe_latency(on_report, interval=0.02, window=50)``
    Forever: sleeps ``interval`` and measures how late the wakeup was; calls
    ``on_report(stats)`` with a :class:`LatencyStats` (last / mean / max over the last
    ``window`` samples, in milliseconds).

One-stop controller
-------------------
:class:`SampleController` ties these together the way every sample uses them.  A sample
implements the small :class:`SampleView` protocol (four ``show_*`` methods, all called on the
host thread from guest tasks), creates ``SampleController(view)``, starts
``controller.main`` as the guest (``asyncio_guest.hosts.<name>.run(controller.main)`` or
``start_guest_run``), and wires its buttons to ``controller.start_download()``,
``controller.cancel_download()``.  Closing the window needs no wiring: the adapter's ``run()``
cancels the main task (the quit contract), which then returns ``None``.  ``controller.close()``
quits the same way from code (``--quit-after``).
The modal-dialog button is sample-specific: it calls
``controller.spawn(coro)`` with a coroutine that does ``await asyncio_guest.modal(...)``.

For tests: ``controller.count``, ``controller.progress`` (received, total),
``controller.last_download`` ("done" / "cancelled" / "error: ...") and
``controller.download_task``.  Hosts whose own callbacks run on another asyncio loop
(Tornado, an asyncio host) must reach the controller through
``host.call_in_guest(...)``: there ``asyncio.ensure_future`` would pick the host loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from dataclasses import dataclass
from typing import Awaitable, Callable, Optional, Protocol
from urllib.parse import urlsplit

__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "DEFAULT_DELAY",
    "DEFAULT_SIZE",
    "DemoServer",
    "LatencyStats",
    "SampleController",
    "SampleView",
    "count",
    "download",
    "expected_body",
    "format_latency",
    "probe_latency",
    "start_server",
]

#: Sample defaults: 2 MiB in 64 chunks, 30 ms apart, so a download takes about 2 seconds.
DEFAULT_SIZE = 2 * 1024 * 1024
DEFAULT_CHUNK_SIZE = 32 * 1024
DEFAULT_DELAY = 0.03

_PATTERN = bytes(range(256))


def expected_body(size: int) -> bytes:
    """The exact body the demo server sends for ``size`` bytes (a repeating 0..255 pattern)."""
    if size < 0:
        raise ValueError(f"size must be >= 0, got {size}")
    reps, rest = divmod(size, len(_PATTERN))
    return _PATTERN * reps + _PATTERN[:rest]


# --------------------------------------------------------------------------- server


class DemoServer:
    """A running demo HTTP server; create it with :func:`start_server`."""

    def __init__(self, server: asyncio.Server, size: int, chunk_size: int, delay: float):
        self._server = server
        self.size = size
        self.chunk_size = chunk_size
        self.delay = delay
        self._writers: set[asyncio.StreamWriter] = set()
        self._handlers: set[asyncio.Task[object]] = set()
        self._closing = False
        sock = server.sockets[0]
        self.host, self.port = sock.getsockname()[:2]

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/data"

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._handlers.add(task)
        self._writers.add(writer)
        try:
            request_line = await reader.readline()
            # Drain the request headers; we answer every request the same way.
            while True:
                line = await reader.readline()
                if line in (b"\r\n", b"\n", b""):
                    break
            parts = request_line.split()
            if len(parts) < 2 or parts[0] != b"GET":
                writer.write(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
                await writer.drain()
                return
            writer.write(
                b"HTTP/1.1 200 OK\r\n"
                b"Content-Type: application/octet-stream\r\n"
                + f"Content-Length: {self.size}\r\n".encode()
                + b"Connection: close\r\n\r\n"
            )
            body = expected_body(self.size)
            for start in range(0, self.size, self.chunk_size):
                writer.write(body[start : start + self.chunk_size])
                await writer.drain()
                if self.delay:
                    await asyncio.sleep(self.delay)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass  # the client went away (e.g. a cancelled download): nothing to report
        except asyncio.CancelledError:
            # Cancelled by aclose(): end normally, because asyncio's stream server callback
            # (3.9-3.11) calls task.exception() on its handler task and would log a
            # CancelledError as an "Exception in callback".
            if not self._closing:
                raise
        finally:
            self._handlers.discard(task)
            self._writers.discard(writer)
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    async def aclose(self) -> None:
        """Stop listening and close every open connection."""
        self._closing = True
        self._server.close()
        handlers = list(self._handlers)
        for task in handlers:
            task.cancel()
        # Wait for the handlers' ``finally`` blocks, so no transport outlives the server
        # (before 3.12 the server's wait_closed() does not wait for them).
        await asyncio.gather(*handlers, return_exceptions=True)
        await self._server.wait_closed()

    async def __aenter__(self) -> DemoServer:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


async def start_server(
    size: int = DEFAULT_SIZE,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    delay: float = DEFAULT_DELAY,
) -> DemoServer:
    """Start the demo HTTP server on 127.0.0.1 on a free port (see the module docstring)."""
    if size < 0 or chunk_size <= 0 or delay < 0:
        raise ValueError("need size >= 0, chunk_size > 0 and delay >= 0")
    holder: list[DemoServer] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await holder[0]._handle(reader, writer)

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    demo = DemoServer(server, size, chunk_size, delay)
    holder.append(demo)
    return demo


# --------------------------------------------------------------------------- client


ProgressCallback = Callable[[int, int], None]


async def download(url: str, on_progress: Optional[ProgressCallback] = None) -> bytes:
    """GET ``url`` over plain HTTP with asyncio streams and return the body.

    ``on_progress(received, total)`` runs after the headers (with ``received == 0``) and after
    every chunk.  Raises :class:`RuntimeError` on a non-200 status or a short body.
    """
    parts = urlsplit(url)
    if parts.scheme != "http" or not parts.hostname:
        raise ValueError(f"only http:// URLs are supported, got {url!r}")
    port = parts.port or 80
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    reader, writer = await asyncio.open_connection(parts.hostname, port)
    try:
        writer.write(
            f"GET {path} HTTP/1.1\r\nHost: {parts.hostname}:{port}\r\n"
            "Connection: close\r\n\r\n".encode()
        )
        await writer.drain()
        status = await reader.readline()
        fields = status.split(None, 2)
        if len(fields) < 2 or fields[1] != b"200":
            raise RuntimeError(f"HTTP request failed: {status.decode(errors='replace').strip()}")
        total = -1
        while True:
            line = await reader.readline()
            if line in (b"\r\n", b"\n", b""):
                break
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                total = int(value.strip())
        if total < 0:
            raise RuntimeError("response has no Content-Length")
        if on_progress is not None:
            on_progress(0, total)
        chunks: list[bytes] = []
        received = 0
        while received < total:
            data = await reader.read(min(65536, total - received))
            if not data:
                raise RuntimeError(f"connection closed after {received} of {total} bytes")
            chunks.append(data)
            received += len(data)
            if on_progress is not None:
                on_progress(received, total)
        return b"".join(chunks)
    finally:
        writer.close()
        # A cancelled download still closes its socket; don't let a reset mask the result.
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()


# --------------------------------------------------------------------------- counter / latency


async def count(on_count: Callable[[int], None], interval: float = 0.05) -> None:
    """Call ``on_count(n)`` with n = 1, 2, ... every ``interval`` seconds, forever."""
    n = 0
    while True:
        await asyncio.sleep(interval)
        n += 1
        on_count(n)


@dataclass(frozen=True)
class LatencyStats:
    """Timer lateness in milliseconds: how much later than asked a ``sleep`` woke up."""

    last_ms: float
    mean_ms: float
    max_ms: float
    samples: int


def format_latency(stats: LatencyStats) -> str:
    """One-line human readout used by every sample."""
    return (
        f"timer latency: last {stats.last_ms:5.1f} ms  "
        f"mean {stats.mean_ms:5.1f} ms  max {stats.max_ms:5.1f} ms"
    )


async def probe_latency(
    on_report: Callable[[LatencyStats], None], interval: float = 0.02, window: int = 50
) -> None:
    """Forever: sleep ``interval``, measure the lateness, report stats over the last ``window``."""
    if interval <= 0 or window <= 0:
        raise ValueError("interval and window must be positive")
    recent: deque[float] = deque(maxlen=window)
    while True:
        start = time.perf_counter()
        await asyncio.sleep(interval)
        late_ms = max(0.0, (time.perf_counter() - start - interval) * 1000.0)
        recent.append(late_ms)
        on_report(LatencyStats(late_ms, sum(recent) / len(recent), max(recent), len(recent)))


# --------------------------------------------------------------------------- controller


class SampleView(Protocol):
    """What a sample's window shows.  Every method is called on the host thread."""

    def show_count(self, n: int) -> None: ...

    def show_progress(self, received: int, total: int) -> None: ...

    def show_status(self, text: str, downloading: bool) -> None:
        """Download state text; ``downloading`` says whether Cancel should be enabled."""

    def show_latency(self, stats: LatencyStats) -> None: ...


class SampleController:
    """The guest-side logic of every sample; see the module docstring for the wiring."""

    def __init__(
        self,
        view: SampleView,
        size: int = DEFAULT_SIZE,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        delay: float = DEFAULT_DELAY,
        count_interval: float = 0.05,
    ) -> None:
        self.view = view
        self._size, self._chunk_size, self._delay = size, chunk_size, delay
        self._count_interval = count_interval
        self.server: Optional[DemoServer] = None
        self.count = 0
        self.main_task: Optional[asyncio.Task[None]] = None
        #: The guest loop (set when ``main`` starts).  Hosts whose own code runs on another
        #: asyncio loop (Tornado, an asyncio host) call controller methods through
        #: ``host.call_in_guest(...)`` so they run in the guest.
        self.loop: Optional[asyncio.AbstractEventLoop] = None
        self.download_task: Optional[asyncio.Task[bytes]] = None
        self._tasks: set[asyncio.Task[object]] = set()
        self._closing = False
        #: The outcome of the last download: "done", "cancelled" or "error: ..."; for tests.
        self.last_download: Optional[str] = None
        #: (received, total) of the current or last download.
        self.progress: tuple[int, int] = (0, 0)

    def _on_count(self, n: int) -> None:
        self.count = n
        self.view.show_count(n)

    async def main(self) -> None:
        """The guest's main coroutine: runs until :meth:`close` cancels it."""
        self.main_task = asyncio.current_task()
        self.loop = asyncio.get_running_loop()
        if self._closing:  # closed before the first tick ran
            return
        self.server = await start_server(self._size, self._chunk_size, self._delay)
        self.view.show_status(f"server on {self.server.url}", False)
        try:
            self.spawn(count(self._on_count, self._count_interval))
            self.spawn(probe_latency(self.view.show_latency))
            # Until the run cancels us: the window closed (the quit contract), or close().
            await asyncio.Event().wait()
        finally:
            self._closing = True  # the window may be gone: children stop updating it
            for task in list(self._tasks):
                task.cancel()
            # Wait for the children so their sockets are closed before the server is.
            await asyncio.gather(*self._tasks, return_exceptions=True)
            await self.server.aclose()

    def spawn(self, coro: Awaitable[object]) -> asyncio.Task[object]:
        """Run ``coro`` as a task owned by the sample (cancelled on close); host thread only."""
        task: asyncio.Task[object] = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def start_download(self) -> None:
        """Button handler: start a download unless one is running."""
        if self.server is None or self._closing:
            return
        if self.download_task is not None and not self.download_task.done():
            return
        self.download_task = self.spawn(self._download())  # type: ignore[assignment]

    async def _download(self) -> bytes:
        assert self.server is not None
        self.view.show_status("downloading...", True)
        self.view.show_progress(0, self.server.size)
        self.progress = (0, self.server.size)
        started = time.perf_counter()

        def on_progress(received: int, total: int) -> None:
            self.progress = (received, total)
            self.view.show_progress(received, total)

        try:
            body = await download(self.server.url, on_progress)
        except asyncio.CancelledError:
            self.last_download = "cancelled"
            if not self._closing:
                self.view.show_status("download cancelled", False)
            raise
        except Exception as exc:
            self.last_download = f"error: {exc}"
            self.view.show_status(f"download failed: {exc}", False)
            raise
        elapsed = time.perf_counter() - started
        ok = body == expected_body(self.server.size)
        self.last_download = "done" if ok else "error: corrupt body"
        self.view.show_status(
            f"downloaded {len(body):,} bytes in {elapsed:.2f} s" + ("" if ok else " (CORRUPT)"),
            False,
        )
        return body

    def cancel_download(self) -> None:
        """Cancel button handler."""
        if self.download_task is not None and not self.download_task.done():
            self.download_task.cancel()

    def close(self) -> None:
        """Window-close handler: cancel the guest; the host ends from ``done_callback``."""
        self._closing = True
        if self.main_task is not None and not self.main_task.done():
            self.main_task.cancel()
