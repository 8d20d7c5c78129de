"""One leak checker for every test: what a guest run must leave as it found it.

``snapshot()`` records the process state a run may touch (open fds, OS threads, the SIGINT
handler, the signal wakeup fd, the asyncgen hooks, the running loop); ``snapshot().diff(...)``
lists what changed, so a test asserts ``not before.diff(snapshot())``.
"""

from __future__ import annotations

import asyncio
import gc
import os
import signal
import sys
import threading
from dataclasses import dataclass
from typing import Any, Optional


def fd_count() -> int:
    return len(os.listdir("/proc/self/fd")) if os.path.isdir("/proc/self/fd") else 0


def thread_count() -> int:
    # /proc/self/task counts native threads too (the Rust worker is not a Python thread).
    if os.path.isdir("/proc/self/task"):
        return len(os.listdir("/proc/self/task"))
    return threading.active_count()


def _wakeup_fd() -> int:
    if threading.current_thread() is not threading.main_thread():
        return -1
    fd = signal.set_wakeup_fd(-1)
    signal.set_wakeup_fd(fd)
    return fd


def _running_loop() -> Optional[asyncio.AbstractEventLoop]:
    return asyncio._get_running_loop()


@dataclass
class Snapshot:
    fds: int
    threads: int
    sigint: Any
    wakeup_fd: int
    asyncgen_hooks: tuple[Any, Any]
    running_loop: Any

    def diff(self, after: Snapshot) -> list[str]:
        """What ``after`` has that this snapshot did not (more fds/threads count as left)."""
        changes = []
        if after.fds > self.fds:
            changes.append(f"fds {self.fds} -> {after.fds}")
        if after.threads > self.threads:
            changes.append(f"threads {self.threads} -> {after.threads}")
        for name in ("sigint", "wakeup_fd", "asyncgen_hooks", "running_loop"):
            if getattr(after, name) != getattr(self, name):
                changes.append(f"{name} {getattr(self, name)!r} -> {getattr(after, name)!r}")
        return changes


def snapshot() -> Snapshot:
    gc.collect()
    hooks = sys.get_asyncgen_hooks()
    return Snapshot(
        fds=fd_count(),
        threads=thread_count(),
        sigint=signal.getsignal(signal.SIGINT),
        wakeup_fd=_wakeup_fd(),
        asyncgen_hooks=(hooks.firstiter, hooks.finalizer),
        running_loop=_running_loop(),
    )
