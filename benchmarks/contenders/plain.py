"""Plain loops: stock ``asyncio.run`` and uvloop. The loop itself is the host."""

from __future__ import annotations

import asyncio
from typing import Any, Callable

from contenders._base import AsyncFn, Contender


class Stock(Contender):
    name = "stock"

    def run(self, async_fn: AsyncFn) -> Any:
        return asyncio.run(async_fn())  # type: ignore[arg-type]

    def post_host(self, fn: Callable[[], object]) -> None:
        asyncio.get_running_loop().call_soon(fn)

    def call_later_host(self, delay: float, fn: Callable[[], object]) -> None:
        asyncio.get_running_loop().call_later(delay, fn)


class UVLoop(Stock):
    name = "uvloop"
    requires = ("uvloop",)

    def run(self, async_fn: AsyncFn) -> Any:
        import uvloop

        loop = uvloop.new_event_loop()
        try:
            asyncio.set_event_loop(loop)
            return loop.run_until_complete(async_fn())
        finally:
            asyncio.set_event_loop(None)
            loop.close()
