"""Shared helpers for the stress and fault tests.

Every test here is bounded twice: an internal deadline that ends its own work,
and a ``pytest-timeout`` marker (thread method, so a hang still prints every
thread's stack) as the backstop.
"""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import textwrap
import threading
import time
from typing import Any, Callable, Optional, Sequence

import pytest

#: The checkout's root (the directory that holds ``tests/``).
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

asyncio_guest = pytest.importorskip("asyncio_guest", reason="asyncio_guest is not installed")


class CheckingQueueHost:
    """The trivial host: a ``SimpleQueue`` drained on the thread that runs ``mainloop``.

    It checks the hook contract instead of trusting it: the threadsafe hook
    is expected off the host thread (the worker) and the other one on it.
    Violations are counted, not raised, so that a violation is reported by
    the test rather than turned into a host-hook failure inside the core.

    ``idle_action(idle)`` (optional) runs on the host thread *between*
    callbacks, i.e. as host code outside any guest tick, which is where lost
    wakeups hide; ``idle`` is True when the queue stayed empty for
    ``poll_interval`` (the guest is most likely waiting in the worker).
    """

    host_uses_signal_set_wakeup_fd = False

    def __init__(
        self,
        idle_action: Optional[Callable[[bool], None]] = None,
        poll_interval: float = 0.002,
    ) -> None:
        self._queue: queue.SimpleQueue[tuple[Callable[[], object], bool]] = queue.SimpleQueue()
        self._running = False
        self.thread: Optional[int] = None
        #: Runs on the host thread just before a callable that arrived through
        #: the threadsafe hook (i.e. from the worker, after its wait ended).
        self.before_threadsafe_item: Optional[Callable[[], None]] = None
        self.idle_action = idle_action
        self.poll_interval = poll_interval
        self.threadsafe_on_host = 0
        self.not_threadsafe_off_host = 0
        self.posted = 0
        self.ran = 0

    def run_sync_soon_threadsafe(self, fn: Callable[[], object]) -> None:
        if threading.get_ident() == self.thread:
            self.threadsafe_on_host += 1
        self.posted += 1
        self._queue.put((fn, True))

    def run_sync_soon_not_threadsafe(self, fn: Callable[[], object]) -> None:
        if threading.get_ident() != self.thread:
            self.not_threadsafe_off_host += 1
        self.posted += 1
        self._queue.put((fn, False))

    def mainloop(self) -> None:
        self._running = True
        get = self._queue.get
        while self._running:
            item: Optional[tuple[Callable[[], object], bool]]
            if self.idle_action is None:
                item = get()
            else:
                try:
                    item = get(timeout=self.poll_interval)
                except queue.Empty:
                    item = None
            fn = None
            if item is not None:
                fn, from_threadsafe = item
                if from_threadsafe and self.before_threadsafe_item is not None:
                    self.before_threadsafe_item()
                self.ran += 1
                fn()
            if self.idle_action is not None and self._running:
                self.idle_action(fn is None)

    def stop(self) -> None:
        self._running = False


def run_guest(
    async_fn: Callable[..., Any],
    *args: Any,
    host: Optional[CheckingQueueHost] = None,
    **kwargs: Any,
) -> Any:
    """Run ``async_fn`` as a guest of ``host`` on this thread and return its result."""
    from asyncio_guest.hosts import run_on_host

    host = host if host is not None else CheckingQueueHost()
    host.thread = threading.get_ident()
    return run_on_host(host, async_fn, *args, **kwargs)


def child_env() -> dict[str, str]:
    """The environment of a child interpreter: this one's, with the checkout on the path (the
    child imports the shared test helpers, ``tests._support``, wherever the run was started
    from) and without asyncio's debug mode."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (ROOT, env.get("PYTHONPATH")) if p)
    env.pop("PYTHONASYNCIODEBUG", None)
    return env


def run_python(
    code: str, timeout: float = 60.0, args: Sequence[str] = (), **kwargs: Any
) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh interpreter (this one), killed after ``timeout``."""
    env = child_env()
    env.setdefault("PYTHONFAULTHANDLER", "1")
    t0 = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-X", "faulthandler", "-c", textwrap.dedent(code), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        **kwargs,
    )
    proc.elapsed = time.monotonic() - t0  # type: ignore[attr-defined]
    return proc


def pytest_terminal_summary(terminalreporter: Any) -> None:
    from .figures import FIGURES, dump, render

    if not FIGURES:
        return
    terminalreporter.section("stress figures")
    for line in render():
        terminalreporter.write_line(line)
    dump(os.path.join(ROOT, "target", "stress-figures.json"))
