"""Ticks inside a tick: guest tasks keep running while a task sits in a nested host loop.

A task that calls a host's blocking modal function directly (``dialog.exec()``,
``wait_window``, ``Gtk.Dialog.run()``, ``ShowModal()``, ``MessageBoxW``) makes the host
run a *nested* event loop in the middle of a guest tick: the stack is ::

    host loop -> tick T0 -> batch -> _run_once (iteration I0) -> handle -> task A's step
              -> dialog.exec() -> nested host loop -> ...

I0 cannot go on until the dialog returns. This module lets the nested host loop run
guest ticks of its own, *nested ticks*, on top of that stack, and hands the chain of
ticks back cleanly when the dialog returns. A *level* is one frozen iteration (I0);
levels nest to any depth (a dialog opened from a task that runs in a nested tick).

* **Start.** No link of the chain is in flight while I0 runs (T0 holds it), so the
  nested host loop has nothing of the guest to run. The worker's watchdog notices that
  no iteration started for ``guest_nested_loop_check`` seconds and posts a probe. A
  probe that runs while an unfrozen ``_run_once`` of this loop is on the stack is
  inside a nested host loop: it freezes that iteration (a new level) and becomes the
  first nested tick. From then on nested ticks post and arm links as any tick does.
* **The ready queue.** I0 ran ``ntodo = len(_ready)`` at its start and pops that many
  handles, one by one, from ``loop._ready``. Nested ticks run those handles (they are at
  the front of the queue, so in FIFO order, exactly once) and everything after them.
  While a level exists, ``_ready`` is a :class:`_NestedReady`, whose ``popleft`` hands a
  frozen iteration that resumes a cancelled placeholder instead: I0 then finishes its
  count without running anything twice or failing on an empty queue. The normal path
  keeps the plain deque.
* **Hand-over.** When the dialog returns, A's step finishes, I0 pops placeholders and
  returns to T0's batch, which sees it was frozen and returns without posting or arming
  (exactly one link stays in flight: the one the last nested tick queued or armed).
* **Current task.** asyncio refuses to enter a task while another one is current, and A
  is current. Around each nested tick A stops being current (``_swap_current_task`` on
  3.12+, which is also where 3.14 keeps it in the thread state; ``_leave_task`` /
  ``_enter_task`` before) and is made current again afterwards.
* **A stays A.** A's step is not in the ready queue while it runs, so nested ticks can
  never run it twice; cancelling A sets its pending cancellation, delivered at its next
  ``await``, exactly as for a task that cancels itself.
* **The end of the run.** A run cannot be finished with frozen iterations on the stack.
  A stop or a fatal error in a nested tick ends the chain there and is completed by T0
  when the nested host loops return; the run asks its host to end them (see
  ``GuestEventLoop.guest_end_nested_loops``).
"""

from __future__ import annotations

import asyncio
import collections
import logging
import sys
import traceback
from asyncio import events
from types import FrameType
from typing import TYPE_CHECKING, Any, Optional

if TYPE_CHECKING:
    from asyncio_guest._loop import GuestEventLoop

logger = logging.getLogger("asyncio_guest")

#: Returned by :func:`after_iteration` when the iteration was not frozen: go on as usual.
CONTINUE = object()

_swap_current_task = getattr(asyncio.tasks, "_swap_current_task", None)


def _suspend_current_task(loop: GuestEventLoop) -> Optional[asyncio.Task[Any]]:
    """Make no task current (A is blocked in the host's nested loop); return A."""
    if _swap_current_task is not None:
        return _swap_current_task(loop, None)  # type: ignore[no-any-return]
    task = asyncio.current_task(loop)
    if task is not None:
        asyncio.tasks._leave_task(loop, task)
    return task


def _resume_current_task(loop: GuestEventLoop, task: Optional[asyncio.Task[Any]]) -> None:
    if _swap_current_task is not None:
        _swap_current_task(loop, task)
    elif task is not None:
        asyncio.tasks._enter_task(loop, task)


class _Level:
    """One frozen loop iteration: its ``_run_once`` frame, the batch frame that called it,
    and the context its running handle entered (a task's step runs in the task's)."""

    __slots__ = ("batch_frame", "context", "deferred", "run_once_frame")

    def __init__(self, run_once_frame: Any) -> None:
        self.run_once_frame = run_once_frame
        self.batch_frame = run_once_frame.f_back
        handle = run_once_frame.f_locals.get("handle")
        self.context = getattr(handle, "_context", None)
        #: Handles that must wait until this level ends (see _NestedReady.popleft).
        self.deferred: list[events.Handle] = []


class _NestedReady(collections.deque):  # type: ignore[type-arg]
    """The loop's ready queue while an iteration is frozen under a nested host loop.

    A frozen iteration that resumes keeps popping the handles it counted at its start;
    nested ticks already ran them. It gets a cancelled placeholder instead, which
    ``_run_once`` skips. Every other caller gets the real queue.
    """

    __slots__ = ("frozen", "levels", "placeholder")

    def __init__(self, items: Any, placeholder: events.Handle) -> None:
        super().__init__(items)
        #: The ``_run_once`` frames of the levels (one per level, outermost first).
        self.frozen: list[Any] = []
        self.levels: list[_Level] = []
        self.placeholder = placeholder

    def popleft(self) -> Any:
        if self.frozen and sys._getframe(1) in self.frozen:
            return self.placeholder
        handle = super().popleft()
        context = getattr(handle, "_context", None)
        if context is not None:
            for level in self.levels:
                if level.context is context:
                    # This handle runs in a context that a frozen handle has entered
                    # (the blocked task's own, or a callback sharing it): a context
                    # cannot be entered twice, so it waits until that level ends,
                    # like anything else of the blocked task.
                    level.deferred.append(handle)
                    return self.placeholder
        return handle


def _noop() -> None:
    pass


def _innermost_driver_frame(loop: GuestEventLoop) -> Any:
    """The innermost frame on this stack that is this loop's ``_run_once`` or batch.

    ``_run_once`` means the host runs us from inside a loop iteration (a nested host
    loop); the batch means a host hook called the link inline; None: neither.
    """
    run_once_code = type(loop)._run_once.__code__  # type: ignore[attr-defined]
    batch_code = type(loop)._guest_run_batch.__code__
    frame: Optional[FrameType] = sys._getframe(2)
    while frame is not None:
        code = frame.f_code
        if (code is run_once_code or code is batch_code) and frame.f_locals.get("self") is loop:
            return frame
        frame = frame.f_back
    return None


def run_nested_tick(loop: GuestEventLoop, probe: bool) -> bool:
    """Run a guest tick inside the current one, if a nested host loop is running.

    Called, on the host thread, by a link or a watchdog probe that the host ran while
    a tick is on the stack. Returns False if this is not a nested host loop (the host
    called the link inline from its hook): the caller reports it.
    """
    frame = _innermost_driver_frame(loop)
    if frame is None or frame.f_code is not type(loop)._run_once.__code__:  # type: ignore[attr-defined]
        return False
    levels = loop._guest_levels
    if not levels or levels[-1].run_once_frame is not frame:
        # An iteration is running host code that runs host callbacks: the chain is
        # held by that iteration's tick, so this tick takes it over.
        _freeze(loop, frame)
    elif probe:
        # Between nested ticks of an existing level a link is in flight already.
        return True
    loop._guest_remove_wakers()
    loop._guest_cancel_wait = None
    depth = len(levels)
    task = _suspend_current_task(loop)
    current_handle = loop._current_handle  # type: ignore[attr-defined]
    try:
        next_step = loop._guest_run_batch()
    except BaseException as exc:
        next_step = exc
    finally:
        # A level above ours that did not end normally (an exception went through
        # its frozen iteration) is over too; what it deferred can run again.
        while len(levels) > depth:
            loop._ready.extendleft(reversed(levels.pop().deferred))  # type: ignore[attr-defined]
        _sync_frozen(loop)
        loop._current_handle = current_handle  # type: ignore[attr-defined]
        _resume_current_task(loop, task)
    if next_step is None:
        return True
    # The chain ends here: the loop stopped, or the tick failed. The run can only be
    # finished by the outermost tick, once the host's nested loops return.
    if next_step is not _stopped() and loop._guest_nested_error is None:
        loop._guest_nested_error = next_step  # type: ignore[assignment]
    loop._guest_request_end_of_nested_loops()
    return True


def _stopped() -> object:
    from asyncio_guest._loop import _STOPPED

    return _STOPPED


def _freeze(loop: GuestEventLoop, run_once_frame: Any) -> None:
    """A new level: the iteration of ``run_once_frame`` waits for a nested host loop."""
    loop._guest_levels.append(_Level(run_once_frame))
    loop._guest_nested_loops += 1
    ready = loop._ready  # type: ignore[attr-defined]
    if not isinstance(ready, _NestedReady):
        placeholder = events.Handle(_noop, (), loop, None)
        placeholder.cancel()
        loop._ready = _NestedReady(ready, placeholder)  # type: ignore[attr-defined]
    _sync_frozen(loop)
    if logger.isEnabledFor(logging.DEBUG):
        stack = "".join(traceback.format_stack(sys._getframe(3)))
        logger.debug(
            "asyncio_guest: a guest callback runs a nested host event loop (a modal dialog?); "
            "guest ticks go on inside it (depth %d). The blocking call:\n%s",
            len(loop._guest_levels),
            stack,
        )


def _sync_frozen(loop: GuestEventLoop) -> None:
    ready = loop._ready  # type: ignore[attr-defined]
    if isinstance(ready, _NestedReady):
        ready.frozen[:] = [level.run_once_frame for level in loop._guest_levels]
        ready.levels[:] = loop._guest_levels


def after_iteration(loop: GuestEventLoop) -> object:
    """Called by a batch after each ``_run_once`` while levels exist.

    If this batch's iteration was frozen, the nested host loop has returned and the
    chain went on in nested ticks: end the level and return what the batch returns
    (None: the next link is already in flight; or the stop / the error of a nested
    tick). Otherwise return :data:`CONTINUE`.
    """
    levels = loop._guest_levels
    if levels[-1].batch_frame is not sys._getframe(1):
        return CONTINUE
    level = levels.pop()
    _sync_frozen(loop)
    if level.deferred:
        # Their context is free again: first in the queue, in their order.
        loop._ready.extendleft(reversed(level.deferred))  # type: ignore[attr-defined]
    if not levels:
        # Back to the normal path: a plain deque again.
        loop._ready = collections.deque(loop._ready)  # type: ignore[attr-defined]
        error, loop._guest_nested_error = loop._guest_nested_error, None
        if error is not None:
            return error
    if loop._stopping:
        return _stopped()
    return None


def reset(loop: GuestEventLoop) -> None:
    """The run ended: forget the levels (their frames are gone or going)."""
    loop._guest_levels.clear()
    loop._guest_nested_error = None
    ready = loop._ready  # type: ignore[attr-defined]
    if isinstance(ready, _NestedReady):
        loop._ready = collections.deque(ready)  # type: ignore[attr-defined]
