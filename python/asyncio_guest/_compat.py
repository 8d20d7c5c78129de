"""Every private name of asyncio that asyncio-guest touches, in one place.

asyncio-guest runs asyncio's own loop code (``BaseEventLoop._run_once``) one
iteration at a time, so it needs a few of asyncio's private names: the
ready queue, the timer heap, the "stopping" flag, the running-loop slot.
They are reached only through this module, and all of them are checked once,
when ``asyncio_guest`` is imported: on a Python whose asyncio lacks one, the
import fails with an :class:`ImportError` that names the attribute and the
Python version, instead of an ``AttributeError`` in the middle of a tick.

On a new Python version this is the one file to check against asyncio's
sources. Names that only some versions have (``_run_forever_setup``) are
detected by feature, never by version number.
"""

from __future__ import annotations

import asyncio
import collections
import sys
from asyncio import base_events, events, selector_events
from typing import Any, Callable, Optional

__all__ = [
    "MISSING",
    "asyncgen_hooks",
    "check_closed",
    "check_running",
    "check_selector_loop",
    "clock_resolution",
    "current_handle",
    "get_running_loop",
    "handle_context",
    "is_stopping",
    "mark_closed",
    "pop_cancelled_timers",
    "ready_queue",
    "replace_ready_queue",
    "resume_current_task",
    "run_forever_cleanup",
    "run_forever_setup",
    "run_once",
    "run_once_code",
    "running_handle",
    "self_pipe_fd",
    "set_current_handle",
    "set_origin_tracking",
    "set_running_loop",
    "set_stopping",
    "set_thread_id",
    "silence_pending_destroy",
    "suspend_current_task",
    "thread_id",
]

#: What a probe found missing (empty when everything is there).
MISSING: list[str] = []


def _require(owner: Any, name: str, where: str) -> None:
    if not hasattr(owner, name):
        MISSING.append(f"{where}.{name}")


def _check() -> None:
    """Find every private name this module uses; raise ImportError naming the first missing."""
    for name in ("_get_running_loop", "_set_running_loop"):
        _require(events, name, "asyncio.events")
    for name in (
        "_run_once",
        "_check_closed",
        "_check_running",
        "_set_coroutine_origin_tracking",
        "_asyncgen_firstiter_hook",
        "_asyncgen_finalizer_hook",
    ):
        _require(base_events.BaseEventLoop, name, "asyncio.BaseEventLoop")
    _require(selector_events.BaseSelectorEventLoop, "_make_self_pipe", "BaseSelectorEventLoop")
    _require(asyncio.Task, "_log_destroy_pending", "asyncio.Task")
    if not hasattr(asyncio.tasks, "_swap_current_task"):
        for name in ("_enter_task", "_leave_task"):
            _require(asyncio.tasks, name, "asyncio.tasks")
    # Instance attributes, on a throwaway loop that opens no file descriptors.
    loop = base_events.BaseEventLoop()
    try:
        for name in (
            "_ready",
            "_scheduled",
            "_stopping",
            "_thread_id",
            "_clock_resolution",
            "_timer_cancelled_count",
            "_closed",
            "_debug",
            "_current_handle",
        ):
            _require(loop, name, "asyncio.BaseEventLoop()")
        if not isinstance(getattr(loop, "_ready", None), collections.deque):
            MISSING.append("asyncio.BaseEventLoop()._ready (a deque)")
        timer = asyncio.TimerHandle(0.0, print, (), loop)
        for name in ("_when", "_cancelled", "_scheduled", "_context"):
            _require(timer, name, "asyncio.TimerHandle")
    finally:
        loop._closed = True  # type: ignore[attr-defined]  # nothing to close: no selector, no executor
    if MISSING:
        raise ImportError(
            f"asyncio_guest needs asyncio's private attribute {MISSING[0]}, which Python "
            f"{sys.version.split()[0]} does not have"
            + (f" (also missing: {', '.join(MISSING[1:])})" if len(MISSING) > 1 else "")
            + ". This Python version is not supported yet by this asyncio-guest release."
        )


_check()

# -- the running-loop slot ----------------------------------------------------

# Looked up on the module at each call, never bound once: code (CPython's own
# test_asyncio among it) swaps in the pure-Python versions of these two, and the
# guest must set the slot that the swapped-in get_running_loop() reads.


def get_running_loop() -> Optional[asyncio.AbstractEventLoop]:
    return events._get_running_loop()


def set_running_loop(loop: Optional[asyncio.AbstractEventLoop]) -> None:
    events._set_running_loop(loop)


# -- one loop's state -----------------------------------------------------------


def run_once(loop: asyncio.AbstractEventLoop) -> Callable[[], None]:
    """The loop's bound ``_run_once``: one iteration (timers, select, callbacks)."""
    return loop._run_once  # type: ignore[attr-defined,no-any-return]


def ready_queue(loop: asyncio.AbstractEventLoop) -> collections.deque[Any]:
    """The loop's deque of ready handles (the same object for the loop's life)."""
    return loop._ready  # type: ignore[attr-defined,no-any-return]


def replace_ready_queue(loop: asyncio.AbstractEventLoop, ready: collections.deque[Any]) -> None:
    """Swap the loop's ready deque (only while a tick runs inside a tick, see _nested)."""
    loop._ready = ready  # type: ignore[attr-defined]


def run_once_code(loop: asyncio.AbstractEventLoop) -> Any:
    """The code object of the loop's ``_run_once`` (to find its frames on the stack)."""
    return loop._run_once.__func__.__code__  # type: ignore[attr-defined]


def running_handle(run_once_frame: Any) -> Any:
    """The handle an iteration (a ``_run_once`` frame) is running, or None if unknown."""
    return run_once_frame.f_locals.get("handle")


def handle_context(handle: Any) -> Any:
    """The ``contextvars.Context`` a handle runs in."""
    return getattr(handle, "_context", None)


def current_handle(loop: asyncio.AbstractEventLoop) -> Any:
    return loop._current_handle  # type: ignore[attr-defined]


def set_current_handle(loop: asyncio.AbstractEventLoop, handle: Any) -> None:
    loop._current_handle = handle  # type: ignore[attr-defined]


#: ``asyncio.tasks._swap_current_task`` (3.12+; also where 3.14 keeps the current task
#: in the thread state), else ``_enter_task``/``_leave_task``: what Task steps use.
_swap_current_task: Optional[Callable[..., Any]] = getattr(
    asyncio.tasks, "_swap_current_task", None
)


def suspend_current_task(loop: asyncio.AbstractEventLoop) -> Optional[asyncio.Task[Any]]:
    """Make no task current on ``loop`` (its task is blocked lower on the stack); return it."""
    task = asyncio.current_task(loop)
    if task is None:
        return None  # a plain callback is blocked (3.12.1's swap fails on an empty slot)
    if _swap_current_task is not None:
        _swap_current_task(loop, None)
    else:
        asyncio.tasks._leave_task(loop, task)
    return task


def resume_current_task(loop: asyncio.AbstractEventLoop, task: Optional[asyncio.Task[Any]]) -> None:
    """Make ``task`` (what :func:`suspend_current_task` returned) current again."""
    if task is None:
        return
    if _swap_current_task is not None:
        _swap_current_task(loop, task)
    else:
        asyncio.tasks._enter_task(loop, task)


def is_stopping(loop: asyncio.AbstractEventLoop) -> bool:
    return loop._stopping  # type: ignore[attr-defined,no-any-return]


def set_stopping(loop: asyncio.AbstractEventLoop, value: bool) -> None:
    loop._stopping = value  # type: ignore[attr-defined]


def thread_id(loop: asyncio.AbstractEventLoop) -> Optional[int]:
    return loop._thread_id  # type: ignore[attr-defined,no-any-return]


def set_thread_id(loop: asyncio.AbstractEventLoop, value: Optional[int]) -> None:
    loop._thread_id = value  # type: ignore[attr-defined]


def clock_resolution(loop: asyncio.AbstractEventLoop) -> float:
    return loop._clock_resolution  # type: ignore[attr-defined,no-any-return]


def pop_cancelled_timers(loop: asyncio.AbstractEventLoop) -> Optional[float]:
    """Drop cancelled timers at the head of the heap; return the earliest live deadline.

    The same hygiene ``_run_once`` applies at its start, so cancelled timers
    cause no early wakeups. None: no timer is scheduled.
    """
    import heapq

    scheduled = loop._scheduled  # type: ignore[attr-defined]
    while scheduled and scheduled[0]._cancelled:
        loop._timer_cancelled_count -= 1  # type: ignore[attr-defined]
        handle = heapq.heappop(scheduled)
        handle._scheduled = False
    if not scheduled:
        return None
    return scheduled[0]._when  # type: ignore[no-any-return]


def mark_closed(loop: asyncio.AbstractEventLoop) -> None:
    """Flag a loop whose construction failed as closed (BaseEventLoop.__del__ reads it)."""
    loop._closed = True  # type: ignore[attr-defined]


_selector_loop_checked = False


def check_selector_loop(loop: asyncio.AbstractEventLoop) -> None:
    """The selector loop's own private attributes, checked on the first loop made."""
    global _selector_loop_checked
    if _selector_loop_checked:
        return
    missing = [name for name in ("_csock", "_ssock", "_selector") if not hasattr(loop, name)]
    if missing:
        raise ImportError(
            f"asyncio_guest needs asyncio's private attribute "
            f"SelectorEventLoop().{missing[0]}, which Python {sys.version.split()[0]} "
            f"does not have. This Python version is not supported yet by this "
            f"asyncio-guest release."
        )
    _selector_loop_checked = True


def check_closed(loop: asyncio.AbstractEventLoop) -> None:
    loop._check_closed()  # type: ignore[attr-defined]


def check_running(loop: asyncio.AbstractEventLoop) -> None:
    loop._check_running()  # type: ignore[attr-defined]


def set_origin_tracking(loop: asyncio.AbstractEventLoop, enabled: bool) -> None:
    loop._set_coroutine_origin_tracking(enabled)  # type: ignore[attr-defined]


def asyncgen_hooks(loop: asyncio.AbstractEventLoop) -> tuple[Any, Any]:
    """The loop's (firstiter, finalizer) pair for ``sys.set_asyncgen_hooks``."""
    return loop._asyncgen_firstiter_hook, loop._asyncgen_finalizer_hook  # type: ignore[attr-defined]


def self_pipe_fd(loop: asyncio.AbstractEventLoop) -> int:
    """The write end of the loop's self-pipe (what ``signal.set_wakeup_fd`` gets)."""
    return loop._csock.fileno()  # type: ignore[attr-defined,no-any-return]


def silence_pending_destroy(task: asyncio.Task[Any]) -> None:
    """A task that never ran is dropped without the "destroyed but pending" log."""
    task._log_destroy_pending = False  # type: ignore[attr-defined]


#: ``BaseEventLoop._run_forever_setup`` / ``_run_forever_cleanup`` (3.12+): what
#: ``run_forever`` does around its loop. None where this Python has no such split.
_setup = getattr(base_events.BaseEventLoop, "_run_forever_setup", None)
_cleanup = getattr(base_events.BaseEventLoop, "_run_forever_cleanup", None)
run_forever_setup: Optional[Callable[[asyncio.AbstractEventLoop], None]] = (
    _setup if _setup is not None and _cleanup is not None else None
)
run_forever_cleanup: Optional[Callable[[asyncio.AbstractEventLoop], None]] = (
    _cleanup if _setup is not None and _cleanup is not None else None
)
