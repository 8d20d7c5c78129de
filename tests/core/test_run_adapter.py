"""`run_adapter`, the body of every ``hosts.<name>.run``, on the built-in host.

The adapters' own suites (tests/hosts) run it in real toolkits; these tests pin the order
it promises: arguments checked before the host exists, the main coroutine closed if the
host cannot be built, ``watch_quit`` entered inside the main task and left when it ends,
the host closed whatever happens.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import warnings
from collections.abc import Iterator
from typing import Any, Callable, Optional

import pytest

from asyncio_guest.hosts._base import run_adapter, run_on_host
from asyncio_guest.hosts.builtin import QueueHost


class RecordingHost(QueueHost):
    """The built-in host, recording when it is closed."""

    def __init__(self, log: list[str]) -> None:
        super().__init__()
        self.log = log

    def close(self) -> None:
        self.log.append("host closed")
        super().close()


def test_bad_arguments_fail_before_the_host_is_built() -> None:
    built: list[str] = []

    async def main() -> None:
        pass

    def make_host() -> QueueHost:
        built.append("host")
        return QueueHost()

    coro = main()
    with pytest.raises(TypeError, match=r"hosts\.demo\.run\(\) expects an async function"):
        run_adapter("hosts.demo.run", coro, (), {}, make_host)  # type: ignore[arg-type]
    coro.close()  # the caller's own coroutine object: never started, closed by its owner
    with pytest.raises(TypeError, match=r"functools\.partial"):
        run_adapter("hosts.demo.run", main, (), {"x": 1}, make_host)
    assert built == []


def test_a_host_that_cannot_be_built_leaves_no_coroutine_behind() -> None:
    async def main() -> None:
        raise AssertionError("must not start")

    def make_host() -> QueueHost:
        raise RuntimeError("no display")

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(RuntimeError, match="no display"):
            run_adapter("hosts.demo.run", main, (), {}, make_host)
        gc.collect()
    assert not [w for w in caught if "never awaited" in str(w.message)]


def test_watch_quit_runs_inside_the_main_task_and_a_quit_returns_none() -> None:
    log: list[str] = []
    cancels: list[Callable[[], None]] = []

    @contextlib.contextmanager
    def watch_quit(host: RecordingHost, cancel: Callable[[], None]) -> Iterator[None]:
        task = asyncio.current_task()
        assert task is not None and task.get_coro().__qualname__.endswith("main")
        log.append("watching")
        cancels.append(cancel)
        try:
            yield
        finally:
            log.append("unwatched")

    async def app(name: str) -> str:
        try:
            # The toolkit's quit event fires while the app waits: the main task is cancelled.
            asyncio.get_running_loop().call_later(0.01, cancels[0])
            await asyncio.sleep(3600)
        finally:
            log.append(f"{name} finally")
        return "unreachable"

    result = run_adapter(
        "hosts.demo.run", app, ("app",), {}, lambda: RecordingHost(log), watch_quit=watch_quit
    )
    assert result is None
    assert log == ["watching", "app finally", "unwatched", "host closed"]
    cancels[0]()  # after the run: a no-op, not an error


def test_the_result_and_an_exception_pass_through_and_the_host_is_closed() -> None:
    log: list[str] = []

    async def ok(value: int) -> int:
        await asyncio.sleep(0)
        return value * 2

    async def fails() -> None:
        await asyncio.sleep(0)
        raise ValueError("from the app")

    assert run_adapter("hosts.demo.run", ok, (21,), {}, lambda: RecordingHost(log)) == 42
    with pytest.raises(ValueError, match="from the app"):
        run_adapter("hosts.demo.run", fails, (), {}, lambda: RecordingHost(log))
    assert log == ["host closed", "host closed"]


def test_drive_replaces_run_on_host_and_gets_the_options() -> None:
    log: list[str] = []
    seen: list[dict[str, Any]] = []

    def drive(host: RecordingHost, main: Callable[[], Any], **options: Any) -> Optional[str]:
        seen.append(options)
        log.append("driven")
        return run_on_host(host, main, **options)  # type: ignore[no-any-return]

    async def app() -> str:
        return "done"

    result = run_adapter(
        "hosts.demo.run", app, (), {"debug": True}, lambda: RecordingHost(log), drive=drive
    )
    assert result == "done"
    assert seen == [{"debug": True}]
    assert log == ["driven", "host closed"]
