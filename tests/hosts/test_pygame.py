"""pygame host under Xvfb, with pygame-ce AND classic pygame 2: real SDL, real sockets.

pygame-ce and classic pygame both install the module ``pygame`` and cannot share a venv, so
the scenarios of ``conftest.py`` run twice in child interpreters (this file as a script):
once with this interpreter (pygame-ce, what ``make install`` installs) and once
with the classic-pygame venv that script creates (``<venv>-pygame-classic``; override with
``ASYNCIO_GUEST_PYGAME_CLASSIC_PYTHON``).  Clicks and window close are real SDL events
(``MOUSEBUTTONUP`` at the button, ``QUIT``) posted to the queue the host loop reads; host
timers are ``pygame.time.set_timer`` events.
"""

from __future__ import annotations

import glob
import os
import sys
from pathlib import Path
from typing import Any, Awaitable, Callable

import pytest

HERE = Path(__file__).resolve()
ROOT = HERE.parents[2]
SCENARIOS = ["download", "cancel", "modal", "cadence", "close"]
_cache: dict[str, dict[str, Any]] = {}


def classic_python() -> str:
    """The interpreter of the classic-pygame venv (see the module docstring)."""
    candidates = [os.environ.get("ASYNCIO_GUEST_PYGAME_CLASSIC_PYTHON", "")]
    candidates.append(sys.prefix.rstrip("/") + "-pygame-classic/bin/python")
    candidates += sorted(glob.glob(str(ROOT / ".venvs" / "*-pygame-classic" / "bin" / "python")))
    for candidate in candidates:
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    raise AssertionError(
        "no classic-pygame venv found: run make install (it creates "
        "<venv>-pygame-classic) or set ASYNCIO_GUEST_PYGAME_CLASSIC_PYTHON"
    )


def _results(flavour: str) -> dict[str, Any]:
    from conftest import run_child

    if flavour not in _cache:
        python = sys.executable if flavour == "ce" else classic_python()
        _cache[flavour] = run_child(HERE, flavour, python=python)
    return _cache[flavour]


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_pygame_ce(scenario: str) -> None:
    from conftest import check_scenario

    check_scenario(_results("ce"), scenario)


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_pygame_classic(scenario: str) -> None:
    from conftest import check_scenario

    check_scenario(_results("classic"), scenario)


@pytest.mark.parametrize("flavour", ["ce", "classic"])
def test_full_event_queue_loses_no_tick(flavour: str) -> None:
    """SDL's event queue filled to the brim from a guest tick: the guest still finishes."""
    from conftest import check_common

    data = check_common(_results(flavour), "full_queue")
    assert data["queued"] > 1000, data  # the queue really was full (SDL holds ~65k events)
    assert data["post_failed"], data
    assert data["result"] == "done", data
    assert data["seconds"] < 10, data


@pytest.mark.parametrize("flavour", ["ce", "classic"])
def test_run_helper_blocking_wait(flavour: str) -> None:
    """pygame_host.run() with no fps: the loop blocks in SDL_WaitEvent and is woken by posts."""
    from conftest import check_common

    data = check_common(_results(flavour), "run_helper")
    assert data["result"] == 1 << 20, data
    assert data["seconds"] < 5, data


def test_flavours_are_what_they_claim() -> None:
    assert _results("ce")["host"] == "pygame-ce"
    assert _results("classic")["host"] == "pygame-classic"


# --------------------------------------------------------------------------- child


def _driver(flavour: str) -> Any:
    import asyncio
    import time

    import pygame

    is_ce = bool(getattr(pygame, "IS_CE", False))
    if is_ce != (flavour == "ce"):
        raise RuntimeError(f"expected {flavour} pygame, got pygame {pygame.version.ver}")
    pygame.display.init()
    pygame.font.init()

    from conftest import FAST, Driver

    from asyncio_guest.hosts._base import run_on_host
    from asyncio_guest.samples import pygame_app

    def full_queue(d: Driver) -> dict[str, Any]:
        app = d.make_app(**FAST)
        junk = pygame.event.custom_type()
        out: dict[str, Any] = {}

        async def main() -> str:
            queued = 0
            while queued < 500_000:
                try:
                    if not pygame.event.post(pygame.event.Event(junk)):
                        break
                except pygame.error:
                    break
                queued += 1
            out["queued"] = queued
            out["post_failed"] = queued < 500_000
            # The next tick's wakeup cannot be posted now (same-thread path: the FIFO keeps
            # it); after that the worker's wakeup (a real timer wait) is retried until the host
            # has drained the queue.  Either loss would hang here.
            await asyncio.sleep(0)
            await asyncio.sleep(0.05)
            return "done"

        started = time.monotonic()
        try:
            out["result"] = d.run_guest(app, main)
        finally:
            d.destroy_app(app)
        out["seconds"] = time.monotonic() - started
        return out

    def run_helper(d: Driver) -> dict[str, Any]:
        from asyncio_guest.hosts import pygame_host

        async def main() -> int:
            from asyncio_guest.samples import _common as common

            async with await common.start_server(**FAST) as server:
                await asyncio.sleep(0.1)  # a pure timer wait: only the worker can wake us
                return len(await common.download(server.url))

        started = time.monotonic()
        result = pygame_host.run(main)
        return {"result": result, "seconds": time.monotonic() - started}

    class PygameDriver(Driver):
        name = "pygame-ce" if is_ce else "pygame-classic"
        extra_scenarios = {"full_queue": full_queue, "run_helper": run_helper}

        def make_app(self, **kw: Any) -> Any:
            app = pygame_app.PygameApp(**kw)
            app.timers = {}
            sample_on_event = app.host.on_event

            def on_event(event: pygame.event.Event) -> None:
                fn = app.timers.get(event.type)
                if fn is not None:
                    fn()
                else:
                    sample_on_event(event)

            app.host.on_event = on_event
            return app

        def _post_click(self, pos: tuple[int, int]) -> None:
            pygame.event.post(pygame.event.Event(pygame.MOUSEBUTTONDOWN, pos=pos, button=1))
            pygame.event.post(pygame.event.Event(pygame.MOUSEBUTTONUP, pos=pos, button=1))

        def click(self, app: Any, which: str) -> None:
            if which == "dialog_ok":
                self._post_click(app.ok_rect.center)
            else:
                self._post_click(app.buttons[which].center)

        def dialog_open(self, app: Any) -> bool:
            return bool(app.dialog_open)

        def status_text(self, app: Any) -> str:
            return str(app.status)

        def close_window(self, app: Any) -> None:
            pygame.event.post(pygame.event.Event(pygame.QUIT))

        def destroy_app(self, app: Any) -> None:
            for kind in app.timers:
                pygame.time.set_timer(kind, 0)
            app.host.close()
            pygame.event.clear()

        def run_guest(self, app: Any, async_fn: Callable[[], Awaitable[Any]]) -> Any:
            return run_on_host(app.host, async_fn)

        def call_later(self, app: Any, seconds: float, fn: Callable[[], object]) -> None:
            kind = pygame.event.custom_type()
            app.timers[kind] = fn
            pygame.time.set_timer(kind, int(seconds * 1000), 1)

        def start_timer(self, app: Any, ms: int, fn: Callable[[], object]) -> Callable[[], None]:
            kind = pygame.event.custom_type()
            app.timers[kind] = fn
            pygame.time.set_timer(kind, ms)
            return lambda: pygame.time.set_timer(kind, 0)

        def warm_up(self, app: Any) -> None:
            # SDL starts its timer thread on the first set_timer and keeps it: start it now.
            kind = pygame.event.custom_type()
            pygame.time.set_timer(kind, 1, 1)
            pygame.time.wait(20)
            pygame.event.pump()
            pygame.event.clear()

    return PygameDriver()


if __name__ == "__main__":
    sys.path.insert(0, str(HERE.parent))
    from conftest import child_main

    child_main(_driver(sys.argv[1]), sys.argv[2:] or None)
