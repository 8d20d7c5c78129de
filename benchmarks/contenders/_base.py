"""The interface every contender implements (see ``contenders/__init__.py``)."""

from __future__ import annotations

import importlib
from typing import Any, Awaitable, Callable, Optional

AsyncFn = Callable[[], Awaitable[Any]]


class Contender:
    #: Registry name, set by subclasses.
    name = "?"
    #: "asyncio" or "trio": which workloads apply.
    family = "asyncio"
    #: Whether the toolkit needs an X display (the harness provides Xvfb).
    needs_display = False
    #: False when the loop has no socket support at all (QtAsyncio).
    supports_network = True
    #: Modules that must import for the contender to run.
    requires: tuple[str, ...] = ()

    def unavailable(self) -> Optional[str]:
        for module in self.requires:
            try:
                importlib.import_module(module)
            except Exception as exc:
                return f"cannot import {module}: {type(exc).__name__}: {exc}"
        return None

    def run(self, async_fn: AsyncFn) -> Any:
        raise NotImplementedError

    def post_host(self, fn: Callable[[], object]) -> None:
        raise NotImplementedError

    def call_later_host(self, delay: float, fn: Callable[[], object]) -> None:
        raise NotImplementedError

    def stats(self) -> dict[str, int]:
        """Loop counters where the contender has them (ours: ticks, worker waits)."""
        return {}


def ms(delay: float) -> int:
    """A delay in seconds as whole milliseconds for toolkit timers (at least 0)."""
    return max(0, round(delay * 1000))
