from __future__ import annotations

import asyncio
import gc
import signal
import sys
from collections.abc import Iterator

import pytest

from tests.core.harness import fd_count, thread_count


@pytest.fixture(autouse=True)
def no_leaks() -> Iterator[None]:
    """Every core test must leave no thread, fd, running loop, handler or hook behind."""
    gc.collect()
    threads, fds = thread_count(), fd_count()
    hooks = sys.get_asyncgen_hooks()
    sigint = signal.getsignal(signal.SIGINT)
    wakeup = signal.set_wakeup_fd(-1)
    signal.set_wakeup_fd(wakeup)
    yield
    gc.collect()
    assert asyncio._get_running_loop() is None, "a running loop was left set"
    assert sys.get_asyncgen_hooks() == hooks, "async generator hooks were not restored"
    assert signal.getsignal(signal.SIGINT) is sigint, "SIGINT handler was not restored"
    now = signal.set_wakeup_fd(-1)
    signal.set_wakeup_fd(now)
    assert now == wakeup, "signal wakeup fd was not restored"
    from asyncio_guest._driver import _active

    assert not _active, "a guest run is still registered"
    assert thread_count() <= threads, "a thread was left running"
    assert fd_count() <= fds, "an fd was leaked"
