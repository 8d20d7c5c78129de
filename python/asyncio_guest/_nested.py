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
  ``await``, exactly as for a task that cancels itself. A context cannot be entered
  twice: a handle that runs in the context A's step entered waits until A's level ends.
* **The end of the run.** A run cannot be finished with frozen iterations on the stack.
  A stop or a fatal error in a nested tick ends the chain there and is completed by T0
  when the nested host loops return; the run asks its host to end them
  (``start_guest_run``'s ``end_nested_loops``).
"""

from __future__ import annotations

import collections
import logging
import sys
import traceback
from asyncio import events
from types import FrameType
from typing import TYPE_CHECKING, Any, Optional

from asyncio_guest import _compat

if TYPE_CHECKING:
    from asyncio_guest._driver import GuestDriver

logger = logging.getLogger("asyncio_guest")

#: Returned by :func:`after_iteration` when the iteration was not frozen: go on as usual.
CONTINUE = object()


class Level:
    """One frozen loop iteration: its ``_run_once`` frame, the batch frame that called it,
    and the context its running handle entered (a task's step runs in the task's)."""

    __slots__ = ("batch_frame", "context", "deferred", "run_once_frame")

    def __init__(self, run_once_frame: FrameType) -> None:
        self.run_once_frame = run_once_frame
        self.batch_frame = run_once_frame.f_back
        self.context = _compat.handle_context(_compat.running_handle(run_once_frame))
        #: Handles that must wait until this level ends (see _NestedReady.popleft).
        self.deferred: list[events.Handle] = []


class _NestedReady(collections.deque):  # type: ignore[type-arg]
    """The loop's ready queue while an iteration is frozen under a nested host loop.

    A frozen iteration that resumes keeps popping the handles it counted at its start;
    nested ticks already ran them. It gets a cancelled placeholder instead, which
    ``_run_once`` skips. Every other caller gets the real queue, except for a handle that
    runs in a context a frozen handle has entered: that one waits for its level to end.
    """

    __slots__ = ("frozen", "levels", "original", "placeholder")

    def __init__(self, original: collections.deque[Any], placeholder: events.Handle) -> None:
        super().__init__(original)
        original.clear()
        #: The loop's own deque, given back (with the queue's content) when the last
        #: level ends, so that anything holding it keeps holding the live queue.
        self.original = original
        #: The ``_run_once`` frames of the levels (one per level, outermost first).
        self.frozen: list[FrameType] = []
        self.levels: list[Level] = []
        self.placeholder = placeholder

    def popleft(self) -> Any:
        if self.frozen and sys._getframe(1) in self.frozen:
            return self.placeholder
        handle = super().popleft()
        context = _compat.handle_context(handle)
        if context is not None:
            for level in self.levels:
                if level.context is context:
                    # A context cannot be entered twice: this handle (the blocked
                    # task's own, or a callback sharing its context) waits until that
                    # level ends, like anything else of the blocked task.
                    level.deferred.append(handle)
                    return self.placeholder
        return handle


def _noop() -> None:
    pass


def _innermost_driver_frame(driver: GuestDriver) -> Optional[FrameType]:
    """The innermost frame on this stack that is the loop's ``_run_once`` or a batch.

    ``_run_once`` means the host runs us from inside a loop iteration (a nested host
    loop); a batch means a host hook called the link inline; None: neither.
    """
    loop = driver.loop
    run_once_code = _compat.run_once_code(loop)
    batch_code = type(driver)._run_batch.__code__
    frame: Optional[FrameType] = sys._getframe(2)
    while frame is not None:
        code = frame.f_code
        if code is run_once_code:
            if frame.f_locals.get("self") is loop:
                return frame
        elif code is batch_code and frame.f_locals.get("self") is driver:
            return frame
        frame = frame.f_back
    return None


def run_nested_tick(driver: GuestDriver, probe: bool) -> bool:
    """Run a guest tick inside the current one, if a nested host loop is running.

    Called, on the host thread, by a link or a watchdog probe that the host ran while
    a tick is on the stack. Returns False if this is not a nested host loop (the host
    called the link inline from its hook): the caller reports it.
    """
    frame = _innermost_driver_frame(driver)
    loop = driver.loop
    if frame is None or frame.f_code is not _compat.run_once_code(loop):
        return False
    levels = driver.levels
    if not levels or levels[-1].run_once_frame is not frame:
        # An iteration is running host code that runs host callbacks: the chain is
        # held by that iteration's tick, so this tick takes it over.
        _freeze(driver, frame)
    elif probe:
        # Between nested ticks of an existing level a link is in flight already.
        return True
    loop._guest_remove_wakers()
    driver.cancel_wait = None  # the host's watch fired (if it held the link): it is over
    depth = len(levels)
    task = _compat.suspend_current_task(loop)
    current_handle = _compat.current_handle(loop)
    error: Optional[BaseException] = None
    try:
        stopped = driver._run_batch()
    except BaseException as exc:
        stopped, error = True, exc
    finally:
        # A level above ours that did not end normally (an exception went through
        # its frozen iteration) is over too; what it deferred can run again.
        while len(levels) > depth:
            _requeue(driver, levels.pop())
        _sync_frozen(driver)
        _compat.set_current_handle(loop, current_handle)
        _compat.resume_current_task(loop, task)
    if stopped:
        # The chain ends here: the loop stopped, or the tick failed. The run can only
        # be finished by the outermost tick, once the host's nested loops return.
        if error is not None and driver.nested_error is None:
            driver.nested_error = error
        driver.request_end_of_nested_loops()
    return True


def _freeze(driver: GuestDriver, run_once_frame: FrameType) -> None:
    """A new level: the iteration of ``run_once_frame`` waits for a nested host loop."""
    loop = driver.loop
    driver.levels.append(Level(run_once_frame))
    loop._guest_nested_loops += 1
    ready = _compat.ready_queue(loop)
    if not isinstance(ready, _NestedReady):
        placeholder = events.Handle(_noop, (), loop, None)
        placeholder.cancel()
        _compat.replace_ready_queue(loop, _NestedReady(ready, placeholder))
    _sync_frozen(driver)
    if logger.isEnabledFor(logging.DEBUG):
        stack = "".join(traceback.format_stack(sys._getframe(3)))
        logger.debug(
            "asyncio_guest: a guest callback runs a nested host event loop (a modal dialog?); "
            "guest ticks go on inside it (depth %d). The blocking call:\n%s",
            len(driver.levels),
            stack,
        )


def _sync_frozen(driver: GuestDriver) -> None:
    ready = _compat.ready_queue(driver.loop)
    if isinstance(ready, _NestedReady):
        ready.frozen[:] = [level.run_once_frame for level in driver.levels]
        ready.levels[:] = driver.levels


def _requeue(driver: GuestDriver, level: Level) -> None:
    """A level ended: what it deferred goes first in the queue, in its order."""
    if level.deferred:
        _compat.ready_queue(driver.loop).extendleft(reversed(level.deferred))


def after_iteration(driver: GuestDriver) -> object:
    """Called by a batch after each ``_run_once`` while levels exist.

    If this batch's iteration was frozen, the nested host loop has returned and the
    chain went on in nested ticks: end the level and return what the batch returns
    (False: the next link is already in flight; True: the loop stopped), or raise the
    error that ended a nested tick. Otherwise return :data:`CONTINUE`.
    """
    levels = driver.levels
    if levels[-1].batch_frame is not sys._getframe(1):
        return CONTINUE
    _requeue(driver, levels.pop())
    _sync_frozen(driver)
    loop = driver.loop
    if not levels:
        _restore_ready_queue(driver)
        error, driver.nested_error = driver.nested_error, None
        if error is not None:
            raise error
    elif driver.nested_error is not None:
        return True  # the chain ended in a deeper tick: nothing may run now
    return _compat.is_stopping(loop)


def _restore_ready_queue(driver: GuestDriver) -> None:
    ready = _compat.ready_queue(driver.loop)
    if isinstance(ready, _NestedReady):
        original = ready.original
        original.extend(ready)
        _compat.replace_ready_queue(driver.loop, original)


def reset(driver: GuestDriver) -> None:
    """The run ended: forget the levels (their frames are gone or going)."""
    driver.levels.clear()
    driver.nested_error = None
    _restore_ready_queue(driver)
