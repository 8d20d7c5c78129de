"""asyncio loop as host: guest asyncio beside a host asyncio loop on one thread.

The child (this file as a script) drives ``asyncio_guest.samples.asyncio_app``, a terminal app whose
host loop reads keys; "clicks" are its key handler (what a key press calls) and its "dialog"
is an awaited prompt (an asyncio host has no nested loop for ``modal()``).  The host timer is
a ``call_later`` chain on the host loop.  Also checks that the host's running loop is
restored around guest ticks.
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
def test_asyncio_host(scenario: str) -> None:
    from conftest import check_scenario

    check_scenario(_results(), scenario)


def test_running_loop_swapped_per_tick() -> None:
    """Inside the guest the running loop is the guest; host code sees the host loop."""
    from asyncio_guest.hosts import asyncio_host as aio_host

    seen: dict[str, Any] = {}

    async def guest() -> str:
        seen["guest"] = asyncio.get_running_loop()
        await asyncio.sleep(0.01)
        assert asyncio.get_running_loop() is seen["guest"]
        return "ok"

    async def host_main() -> str:
        host_loop = asyncio.get_running_loop()
        result = await aio_host.run_as_guest(guest)
        assert asyncio.get_running_loop() is host_loop
        assert seen["guest"] is not host_loop
        return result

    assert asyncio.run(host_main()) == "ok"
    assert asyncio._get_running_loop() is None


def test_cancelling_the_host_task_cancels_the_guest() -> None:
    from asyncio_guest.hosts import asyncio_host as aio_host

    state: dict[str, bool] = {}

    async def guest() -> None:
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            state["cancelled"] = True
            raise

    async def host_main() -> None:
        task = asyncio.ensure_future(aio_host.run_as_guest(guest))
        await asyncio.sleep(0.1)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(host_main())
    assert state == {"cancelled": True}


def test_run_returns_the_result_and_raises_the_error() -> None:
    from asyncio_guest.hosts import asyncio_host as aio_host

    async def ok(x: int) -> int:
        await asyncio.sleep(0)
        return x * 2

    async def bad() -> None:
        raise ValueError("boom")

    assert aio_host.run(ok, 21) == 42
    with pytest.raises(ValueError, match="boom"):
        aio_host.run(bad)


# --------------------------------------------------------------------------- child


def terminal_driver_base() -> Any:
    from conftest import Driver

    class TerminalDriver(Driver):
        """Shared by the asyncio and Tornado hosts (both drive a TerminalApp)."""

        keys = {"download": "d", "cancel": "c", "dialog": "m", "dialog_ok": "y"}

        def click(self, app: Any, which: str) -> None:
            app.key(self.keys[which])

        def dialog_open(self, app: Any) -> bool:
            return app.dialog_future is not None

        def status_text(self, app: Any) -> str:
            return str(app.status)

        def close_window(self, app: Any) -> None:
            app.key("q")

        def call_later(self, app: Any, seconds: float, fn: Callable[[], object]) -> None:
            app.host_loop.call_later(seconds, fn)

        def start_timer(self, app: Any, ms: int, fn: Callable[[], object]) -> Callable[[], None]:
            state: dict[str, Any] = {}

            def fire() -> None:
                fn()
                state["h"] = app.host_loop.call_later(ms / 1000, fire)

            state["h"] = app.host_loop.call_later(ms / 1000, fire)
            return lambda: state["h"].cancel()

    return TerminalDriver


def _driver() -> Any:
    from asyncio_guest.hosts.asyncio_host import AsyncioHost, run_as_guest
    from asyncio_guest.samples import asyncio_app

    class AsyncioDriver(terminal_driver_base()):  # type: ignore[misc]
        name = "asyncio"

        def make_app(self, **kw: Any) -> Any:
            host = AsyncioHost()
            app = asyncio_app.TerminalApp(host, **kw)
            app.out = io.StringIO()
            app.host = host
            return app

        def destroy_app(self, app: Any) -> None:
            app.stop_redraw()
            app.host.close()

        def run_guest(self, app: Any, async_fn: Callable[[], Awaitable[Any]]) -> Any:
            return app.host.loop.run_until_complete(run_as_guest(async_fn, host=app.host))

        def run_sample(self, app: Any) -> Any:
            app.redraw()
            return self.run_guest(app, app.controller.main)

    return AsyncioDriver()


if __name__ == "__main__":
    sys.path.insert(0, str(HERE.parent))
    from conftest import child_main

    child_main(_driver(), sys.argv[1:] or None)


def test_host_code_reaches_the_guest_and_the_wrong_loop_warns() -> None:
    """create_guest_task/call_in_guest run guest work from a host callback; in debug mode a
    task that a host callback puts on the host loop during the run gets a RuntimeWarning."""
    import asyncio
    import warnings

    from asyncio_guest.hosts.asyncio_host import AsyncioHost, run_as_guest

    host = AsyncioHost()
    seen: list[str] = []
    mistakes: list[asyncio.Future[None]] = []

    async def where() -> None:
        seen.append(type(asyncio.get_running_loop()).__name__)

    async def guest() -> None:
        def host_callback() -> None:
            host.create_guest_task(where())
            host.call_in_guest(lambda: seen.append("called in guest"))
            mistakes.append(asyncio.ensure_future(asyncio.sleep(0)))  # a host task

        host.loop.call_soon(host_callback)
        while len(seen) < 2:
            await asyncio.sleep(0.01)

    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            host.loop.run_until_complete(run_as_guest(guest, host=host, debug=True))
    finally:
        host.close()
    assert sorted(seen) == ["GuestEventLoop", "called in guest"]
    messages = [str(w.message) for w in caught if w.category is RuntimeWarning]
    assert any("a host callback created a task on the host loop" in m for m in messages)
    assert host.guest_loop is None
    with pytest.raises(RuntimeError, match="no guest run is live on this host"):
        host.call_in_guest(print)


@pytest.mark.parametrize("host_name", ["asyncio", "tornado"])
@pytest.mark.parametrize("thread_free", [True, False], ids=["thread_free", "worker"])
def test_quit_contract_on_asyncio_hosts(host_name: str, thread_free: bool) -> None:
    """A quit (the main task cancelled from host code) returns None, a caught cancellation
    returns its value, other exceptions propagate, bad arguments fail first; nothing left."""
    import asyncio
    import functools

    from asyncio_guest.hosts import asyncio_host, tornado_host
    from tests._support.leaks import snapshot

    run = functools.partial(
        asyncio_host.run if host_name == "asyncio" else tornado_host.run, thread_free=thread_free
    )
    api = f"hosts.{host_name}_host.run"
    finals: list[str] = []

    async def quit_by_host(catch: bool) -> str:
        task = asyncio.current_task()
        assert task is not None
        # Host code cancels the main task: the asyncio hosts' way to quit.
        asyncio.get_running_loop().call_later(0.05, task.cancel)
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            if catch:
                return "caught"
            raise
        finally:
            finals.append("finally")
        return "not quit"

    async def boom() -> None:
        raise ValueError("boom")

    async def fine() -> None:
        pass

    before = snapshot()
    assert run(quit_by_host, False) is None
    assert run(quit_by_host, True) == "caught"
    assert finals == ["finally", "finally"]
    with pytest.raises(ValueError, match="boom"):
        run(boom)
    coro = fine()
    with pytest.raises(TypeError, match=rf"use {api}\(fn, arg\) instead of {api}\(fn\(arg\)\)"):
        run(coro)
    coro.close()
    with pytest.raises(TypeError, match=rf"{api}\(\) expects an async function; .* returned int"):
        run(lambda: 1)
    with pytest.raises(TypeError, match=r"use functools\.partial"):
        run(fine, x=1)
    assert not before.diff(snapshot())
