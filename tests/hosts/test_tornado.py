"""Tornado host: guest asyncio beside a Tornado IOLoop, driving the Tornado sample.

The child (this file as a script) clicks the sample's web UI buttons with real HTTP POSTs to
the Tornado server (sent from the guest with asyncio streams), so every click crosses the
host: Tornado handler -> ``controller.loop.call_soon`` -> guest.  The host timer is an
``IOLoop.call_later`` chain.
"""

from __future__ import annotations

import asyncio
import io
import sys
from pathlib import Path
from typing import Any, Awaitable, Callable

import pytest

HERE = Path(__file__).resolve()
SCENARIOS = ["download", "cancel", "modal", "cadence", "close"]
_cache: dict[str, Any] = {}


def _results() -> dict[str, Any]:
    from conftest import run_child

    if "r" not in _cache:
        _cache["r"] = run_child(HERE)
    return _cache["r"]  # type: ignore[no-any-return]


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_tornado_host(scenario: str) -> None:
    from conftest import check_scenario

    check_scenario(_results(), scenario)


def test_run_helper() -> None:
    from asyncio_guest.hosts import tornado_host

    async def guest(x: int) -> int:
        await asyncio.sleep(0.01)
        return x + 1

    assert tornado_host.run(guest, 1) == 2


# --------------------------------------------------------------------------- child


async def _http_post(url: str, body: bytes = b"") -> int:
    """A minimal HTTP/1.1 POST with asyncio streams; returns the status code."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
    try:
        writer.write(
            f"POST {parts.path} HTTP/1.1\r\nHost: {parts.hostname}\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
            + body
        )
        await writer.drain()
        status = await reader.readline()
        await reader.read()
        return int(status.split()[1])
    finally:
        writer.close()
        await writer.wait_closed()


def _driver() -> Any:
    from test_asyncio import terminal_driver_base

    from asyncio_guest.hosts.asyncio_host import run_as_guest
    from asyncio_guest.hosts.tornado_host import TornadoHost
    from asyncio_guest.samples import tornado_app

    actions = {"download": "download", "cancel": "cancel", "dialog": "dialog"}

    class TornadoDriver(terminal_driver_base()):  # type: ignore[misc]
        name = "tornado"

        def make_app(self, **kw: Any) -> Any:
            host = TornadoHost()

            async def make() -> Any:
                # Tornado binds its HTTP server to the running IOLoop.
                return tornado_app.TornadoApp(host, **kw)

            app = host.io_loop.run_sync(make)
            app.out = io.StringIO()
            app.posts = []
            return app

        def click(self, app: Any, which: str) -> None:
            if which == "dialog_ok":
                url, body = app.url + "answer", b"yes"
            else:
                url, body = app.url + actions[which], b""
            # A real HTTP request to the host's web UI, like the page's button does.
            app.posts.append(asyncio.ensure_future(_http_post(url, body)))

        def destroy_app(self, app: Any) -> None:
            app.stop_redraw()
            if not app.host.io_loop.asyncio_loop.is_closed():
                app.host.io_loop.run_sync(app.aclose)
            app.host.close()

        def run_guest(self, app: Any, async_fn: Callable[[], Awaitable[Any]]) -> Any:
            async def main() -> Any:
                try:
                    return await async_fn()
                finally:
                    await asyncio.gather(*app.posts, return_exceptions=True)

            return app.host.io_loop.run_sync(lambda: run_as_guest(main, host=app.host))

        def call_later(self, app: Any, seconds: float, fn: Callable[[], object]) -> None:
            app.host.io_loop.call_later(seconds, fn)

        def run_sample(self, app: Any) -> Any:
            app.redraw()
            return app.host.io_loop.run_sync(
                lambda: run_as_guest(app.controller.main, host=app.host)
            )

    return TornadoDriver()


if __name__ == "__main__":
    sys.path.insert(0, str(HERE.parent))
    from conftest import child_main

    child_main(_driver(), sys.argv[1:] or None)
