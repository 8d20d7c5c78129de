"""Portability points checked on this machine: newer CPython behaviours forced or
probed by feature, the Windows Ctrl+C path forced on Linux, and the thread cost of
an idle thread-free run."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
import threading
from pathlib import Path
from typing import Any, Optional

import pytest

import asyncio_guest
from asyncio_guest import _loop
from tests._support.platforms import needs_posix_signals
from tests.core.harness import asyncio_host_run, thread_count, trivial_guest_run

ROOT = Path(__file__).resolve().parents[2]


# -- eager task starts from host code on an asyncio host ------------------------


@pytest.mark.skipif(
    not hasattr(asyncio, "eager_task_factory"), reason="eager tasks exist from Python 3.12"
)
@pytest.mark.parametrize("thread_free", [False, True], ids=["worker", "host-watch"])
def test_eager_task_started_from_host_code_runs_as_a_guest_task(thread_free: bool) -> None:
    seen: dict[str, Any] = {}
    host_tasks: list[Optional[asyncio.Task[Any]]] = []

    async def spawned(guest: asyncio.AbstractEventLoop) -> str:
        # The eager first step runs inside create_task, called from host code.
        seen["first step loop is guest"] = asyncio.get_running_loop() is guest
        seen["current task"] = asyncio.current_task() is not None
        await asyncio.sleep(0.01)
        seen["after await loop is guest"] = asyncio.get_running_loop() is guest
        return "spawned done"

    async def main() -> str:
        guest = asyncio.get_running_loop()
        guest.set_task_factory(asyncio.eager_task_factory)  # type: ignore[attr-defined]
        created: asyncio.Future[asyncio.Task[str]] = guest.create_future()

        def from_host() -> None:
            host_task = asyncio.current_task()
            created.set_result(guest.create_task(spawned(guest)))
            # The host's own notion of its current task is untouched.
            host_tasks.append(asyncio.current_task())
            assert asyncio.current_task() is host_task

        while not host_loops:  # host_main starts just after the guest run
            await asyncio.sleep(0.001)
        host_loops[0].call_soon(from_host)
        task = await created
        return await task

    host_loops: list[asyncio.AbstractEventLoop] = []

    async def host_main() -> None:
        host_loops.append(asyncio.get_running_loop())

    assert asyncio_host_run(main, host_main=host_main, thread_free=thread_free) == "spawned done"
    assert seen == {
        "first step loop is guest": True,
        "current task": True,
        "after await loop is guest": True,
    }
    assert len(host_tasks) == 1


# -- asyncio private names ------------------------------------------------------------


@pytest.mark.parametrize(
    "owner, name",
    [("asyncio.base_events.BaseEventLoop", "_run_once"), ("asyncio.events", "_set_running_loop")],
)
def test_a_missing_private_name_is_a_clear_import_error(owner: str, name: str) -> None:
    module, _, attribute = owner.rpartition(".")
    if owner == "asyncio.events":
        module, attribute = owner, ""
    script = textwrap.dedent(
        f"""
        import importlib
        target = importlib.import_module({module!r})
        if {attribute!r}:
            target = getattr(target, {attribute!r})
        delattr(target, {name!r})
        try:
            import asyncio_guest
        except ImportError as exc:
            print("IMPORT ERROR:", exc)
        else:
            print("imported")
        """
    )
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert out.startswith("IMPORT ERROR:"), out
    assert name in out
    assert f"Python {sys.version.split()[0]}" in out


# -- where futures look up call_soon ---------------------------------------------------


def test_the_waker_probe_finds_the_instance_path_here() -> None:
    async def main() -> None:
        await asyncio.sleep(0.01)  # idle once: wakers are installed, so probed

    trivial_guest_run(main)
    assert _loop._wakers_on_instance is True


def test_the_wakeup_tests_pass_with_class_level_wakers() -> None:
    """The fallback for a Python whose C Future skips instance attributes: the
    whole wakeup suite, run again in a child with the fallback forced."""
    script = textwrap.dedent(
        """
        import sys, pytest
        from asyncio_guest import _loop
        _loop.use_class_level_wakers()
        rc = pytest.main(["-q", "-p", "no:cacheprovider", "-p", "no:pytest-qt",
                          "tests/core/test_wakeups.py", "tests/core/test_thread_free.py"])
        print("WAKERS ON INSTANCE:", _loop._wakers_on_instance)
        sys.exit(rc)
        """
    )
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300, cwd=ROOT
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "WAKERS ON INSTANCE: False" in proc.stdout
    assert " passed" in proc.stdout and " failed" not in proc.stdout


# -- Ctrl+C in a blocking run (the Windows path, forced) ------------------------------


@pytest.fixture
def default_sigint() -> Any:
    old = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, old)


@needs_posix_signals
def test_blocking_run_wakeup_fd_path_interrupts_an_idle_run(
    monkeypatch: pytest.MonkeyPatch, default_sigint: None
) -> None:
    """Where a lock wait cannot be interrupted (Windows), a blocking run points
    the signal wakeup fd at the loop's self-pipe for its duration, so Ctrl+C
    ends the guest's wait. Forced here; the run sleeps in a worker-mode wait."""
    monkeypatch.setattr(_loop, "BLOCKING_RUN_SETS_WAKEUP_FD", True)
    loop = asyncio_guest.GuestEventLoop()
    loop.guest_thread_free = False
    seen: list[int] = []

    async def idle() -> None:
        fd = signal.set_wakeup_fd(-1)
        signal.set_wakeup_fd(fd)
        seen.append(fd)
        killer = threading.Timer(0.1, os.kill, (os.getpid(), signal.SIGINT))
        killer.start()
        try:
            await asyncio.sleep(30)
        finally:
            killer.join()

    try:
        with pytest.raises(KeyboardInterrupt):
            loop.run_until_complete(idle())
        assert seen == [loop._csock.fileno()]  # type: ignore[attr-defined]
        # The loop is reusable, and the wakeup fd is restored (no_leaks fixture).
        assert loop.run_until_complete(asyncio.sleep(0, "again")) == "again"
    finally:
        loop.close()


# -- thread cost --------------------------------------------------------------------


def test_an_idle_thread_free_blocking_run_starts_no_thread() -> None:
    before = thread_count()
    counts: list[int] = []
    running: list[bool] = []

    async def main() -> None:
        loop = asyncio.get_running_loop()
        a, b = __import__("socket").socketpair()
        with a, b:
            a.setblocking(False)
            loop.call_later(0.05, b.send, b"x")
            await loop.sock_recv(a, 1)  # an I/O wait
            await asyncio.sleep(0.05)  # a timer wait
            counts.append(thread_count())
            running.append(loop._selector.worker_thread_running)  # type: ignore[attr-defined]

    asyncio_guest.run(main())
    assert counts == [before]
    assert running == [False]


# -- teardown -----------------------------------------------------------------------


def test_teardown_bounds_the_executor_shutdown_where_it_can(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[tuple[Any, ...]] = []
    original = asyncio_guest.GuestEventLoop.shutdown_default_executor

    async def recording(self: Any, *args: Any) -> None:
        calls.append(args)
        await original(self, *args)

    monkeypatch.setattr(asyncio_guest.GuestEventLoop, "shutdown_default_executor", recording)

    async def main() -> int:
        return await asyncio.get_running_loop().run_in_executor(None, int, "7")

    assert trivial_guest_run(main) == 7
    import inspect

    takes_timeout = "timeout" in inspect.signature(original).parameters
    assert calls == ([(300.0,)] if takes_timeout else [()])
