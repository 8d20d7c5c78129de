"""`start_guest_run` and the life of one guest run: start, teardown, outcome.

A run's life, all on the host thread::

    start_guest_run()              creates the loop and the main task, installs
                                   signal handling, posts the first tick; returns
    ticks ...                      the main task runs, as do any other tasks
    main task done           ->    a teardown task cancels what is left, awaits
                                   it, shuts down async generators and the
                                   default executor, then stops the loop
    last tick sees the stop  ->    restore signals, close the loop (joins the
                                   worker), then done_callback(outcome), once

If a tick fails (KeyboardInterrupt or SystemExit out of a callback, like the
stock loop lets through, or an internal error such as a failed poller wait),
the loop cannot be trusted to run teardown, so the run is closed at once and
the error is the outcome.
"""

from __future__ import annotations

import asyncio
import inspect
from typing import Any, Awaitable, Callable, Optional, TypeVar

import outcome

from asyncio_guest import _compat
from asyncio_guest._driver import (
    DEFAULT_INLINE_WAIT,
    DEFAULT_TIME_SLICE,
    GuestDriver,
    GuestRunAbandoned,
    Hook,
    WaitReadable,
    check_no_active_run,
    driver_for,
)
from asyncio_guest._loop import GuestEventLoop

T = TypeVar("T")

#: How long teardown waits for the default executor's threads (asyncio.Runner's bound).
_EXECUTOR_SHUTDOWN_TIMEOUT = 300.0
_executor_shutdown_takes_timeout = (
    "timeout" in inspect.signature(asyncio.BaseEventLoop.shutdown_default_executor).parameters
)


def _check_callable(value: object, name: str) -> None:
    if not callable(value):
        raise TypeError(f"{name} must be callable, got {value!r}")


def _check_duration(value: object, name: str) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a number of seconds, got {value!r}")
    if not 0 <= value <= 1:
        raise ValueError(f"{name} must be between 0 and 1 second, got {value!r}")


def _make_coroutine(async_fn: Callable[..., Awaitable[Any]], args: tuple[Any, ...]) -> Any:
    if inspect.iscoroutine(async_fn):
        raise TypeError(
            "start_guest_run() expects an async function and its arguments, not a "
            "coroutine object: use start_guest_run(fn, arg) instead of "
            "start_guest_run(fn(arg))"
        )
    _check_callable(async_fn, "async_fn")
    coro = async_fn(*args)
    if not inspect.iscoroutine(coro):
        if inspect.isawaitable(coro) and hasattr(coro, "close"):
            coro.close()
        raise TypeError(
            f"start_guest_run() expects an async function; {async_fn!r} returned "
            f"{type(coro).__name__}, not a coroutine"
        )
    return coro


class _MainTask(asyncio.Task):  # type: ignore[type-arg]
    """The run's main task; it knows whether a cancellation is pending.

    ``Task.cancelling()`` exists only from 3.11, and a task that already
    received its cancellation (now awaiting in its ``finally``) shows no trace
    of it on older versions. Ending a run must cancel the main task at most
    once, or its cleanup would be interrupted.
    """

    _guest_run: _GuestRun
    _guest_cancel_requests = 0

    def cancel(self, *args: Any, **kwargs: Any) -> bool:
        cancelled: bool = super().cancel(*args, **kwargs)
        if cancelled:
            self._guest_cancel_requests += 1
        return cancelled

    if hasattr(asyncio.Task, "uncancel"):

        def uncancel(self) -> int:
            if self._guest_cancel_requests > 0:
                self._guest_cancel_requests -= 1
            return super().uncancel()  # type: ignore[no-any-return,misc]

    def cancel_once(self) -> None:
        """Cancel unless done or a cancellation is already pending.

        This is how a run is ended (a window closed): a task blocked in a host loop
        nested in a tick (a modal dialog called directly) could not finish until that
        loop returns, so the host is asked to end those loops too.
        """
        if not self.done() and self._guest_cancel_requests == 0:
            self.cancel()
        self._guest_run.end_nested_loops()


class _GuestRun:
    """Bookkeeping of one run: the main task, Ctrl+C, teardown, the outcome."""

    def __init__(
        self, loop: GuestEventLoop, done_callback: Callable[[outcome.Outcome[Any]], object]
    ) -> None:
        self.loop = loop
        self.done_callback = done_callback
        self.main_task: Optional[_MainTask] = None
        #: Set once the run has ended (what done_callback got, or an abandonment).
        self.outcome: Optional[outcome.Outcome[Any]] = None
        self.interrupts = 0

    def on_sigint(self, signum: int, frame: object) -> None:
        # Like asyncio.Runner: the first Ctrl+C cancels the main task (host code
        # is never interrupted), a second one raises where it lands.
        self.interrupts += 1
        task = self.main_task
        if self.interrupts == 1 and task is not None and not task.done():
            task.cancel()
            # Make sure a guest blocked in the worker notices, and end the host's
            # nested loops (modal dialogs) a blocked task may be waiting in.
            if not self.loop.is_closed():
                self.loop.call_soon_threadsafe(self.end_nested_loops)
            return
        raise KeyboardInterrupt()

    # -- the run's end ------------------------------------------------------

    def on_main_done(self, task: asyncio.Task[Any]) -> None:
        self.loop.create_task(self._teardown())
        # A task blocked in a nested host loop (a modal dialog called directly) can
        # only be cancelled and awaited once that loop returns.
        self.end_nested_loops()

    def end_nested_loops(self) -> None:
        """The run is ending: ask the host to end the nested loops a tick is inside."""
        driver = driver_for(self.loop)
        if driver is not None:
            driver.request_end_of_nested_loops()

    async def _teardown(self) -> None:
        loop = self.loop
        try:
            # Tasks cancelled here may start others in their finally blocks:
            # repeat until none is left (bounded, in case one keeps respawning).
            for _ in range(10):
                current = asyncio.current_task()
                others = [t for t in asyncio.all_tasks(loop) if t is not current]
                if not others:
                    break
                for t in others:
                    t.cancel()
                results = await asyncio.gather(*others, return_exceptions=True)
                for t, result in zip(others, results):
                    if isinstance(result, BaseException) and not isinstance(
                        result, asyncio.CancelledError
                    ):
                        loop.call_exception_handler(
                            {
                                "message": "unhandled exception during asyncio_guest run shutdown",
                                "exception": result,
                                "task": t,
                            }
                        )
            await loop.shutdown_asyncgens()
            if _executor_shutdown_takes_timeout:
                await loop.shutdown_default_executor(_EXECUTOR_SHUTDOWN_TIMEOUT)  # type: ignore[call-arg,unused-ignore]
            else:
                await loop.shutdown_default_executor()
        finally:
            loop.stop()

    def on_loop_stopped(self, tick_error: Optional[BaseException]) -> None:
        """Called by the loop, on the host thread, once its run has ended."""
        loop = self.loop
        try:
            loop.close()
        except BaseException as exc:  # pragma: no cover - defensive
            tick_error = tick_error or exc
        if isinstance(tick_error, GuestRunAbandoned):
            # The host is gone: there is nobody to call back. The loop already
            # warned with a RuntimeWarning.
            self.outcome = outcome.Error(tick_error)
            return
        self.outcome = self._outcome(tick_error)
        # An exception from done_callback propagates to the host out of the
        # host callback that ran this last tick: the run is already fully torn
        # down, so the thread can host a new run.
        self.done_callback(self.outcome)

    def _outcome(self, tick_error: Optional[BaseException]) -> outcome.Outcome[Any]:
        task = self.main_task
        result: outcome.Outcome[Any]
        if tick_error is not None:
            result = outcome.Error(tick_error)
        elif task is None or not task.done():
            result = outcome.Error(
                RuntimeError("the guest run ended before its main task finished")
            )
        else:
            result = outcome.capture(task.result)
        if self.interrupts:
            ki = KeyboardInterrupt()
            if isinstance(result, outcome.Error) and not isinstance(
                result.error, (asyncio.CancelledError, KeyboardInterrupt)
            ):
                ki.__context__ = result.error
            result = outcome.Error(ki)
        return result


def start_guest_run(
    async_fn: Callable[..., Awaitable[T]],
    *args: Any,
    run_sync_soon_threadsafe: Hook,
    done_callback: Callable[[outcome.Outcome[Any]], object],
    run_sync_soon_not_threadsafe: Optional[Hook] = None,
    host_uses_signal_set_wakeup_fd: bool = False,
    debug: Optional[bool] = None,
    time_slice: float = DEFAULT_TIME_SLICE,
    inline_wait: float = DEFAULT_INLINE_WAIT,
    wait_readable: Optional[WaitReadable] = None,
    end_nested_loops: Optional[Callable[[], object]] = None,
) -> asyncio.Task[T]:
    """Run ``async_fn(*args)`` in a fresh asyncio loop that is a guest of a host loop.

    Call it on the host thread. The host provides ``run_sync_soon_threadsafe(fn)``
    (run ``fn()`` soon on the host thread; callable from any thread; must queue,
    never call inline, never drop) and optionally ``run_sync_soon_not_threadsafe``
    (the same, from the host thread only, if the host has a cheaper path).
    ``done_callback(outcome)`` is called exactly once, on the host thread, with an
    :class:`outcome.Value` or :class:`outcome.Error`, after the run is fully torn
    down: other tasks cancelled and awaited, async generators and the default
    executor shut down, the loop closed and its I/O thread joined.

    ``time_slice`` bounds how long one host callback may keep running loop
    iterations while work is ready (0: exactly one iteration per callback);
    ``inline_wait``: for this long after the last I/O event, the host thread
    may wait (within the slice) for more I/O instead of handing the wait over,
    which saves a thread hop per request/response (0: never wait for I/O on
    the host thread; the default on Windows, whose waits round up to the
    ~15.6 ms system tick, 2 ms elsewhere).

    ``wait_readable(fd, timeout, fn) -> cancel`` (optional) enables the
    thread-free mode for hosts that can watch a file descriptor on their own
    thread (GLib, Qt, Tornado, Tk on Unix, asyncio): instead of handing the wait
    to the worker thread, the guest asks the host to call ``fn()`` once, when
    ``fd`` (the poller's own descriptor) becomes readable or after ``timeout``
    seconds (None: no timeout), and calls the returned ``cancel()`` if the run
    ends first. Where the poller has no descriptor (Windows) the worker is used.

    ``end_nested_loops()`` (optional, host thread) makes the host's nested event
    loops return (closes its modal dialogs). A task may call a blocking modal
    function directly; other tasks keep running inside the nested loop, but the
    run can only finish after it returns. When the run must end (the main task
    finished or was cancelled through ``cancel_once``, Ctrl+C) while such a loop
    runs, this is called so that quitting stays prompt.

    Returns the main :class:`asyncio.Task`. No user code has run when this
    returns; the host can already use the loop (``task.get_loop()``) with
    ``create_task``, ``call_soon``, ``call_later`` and ``call_soon_threadsafe``.
    Cancel the main task to end the run early; do not stop the host before
    ``done_callback`` has been called.

    Raises:
        TypeError: ``async_fn`` is a coroutine object (pass the function and its
            arguments: ``start_guest_run(fn, arg)``) or does not return a coroutine;
            a hook, ``done_callback``, ``wait_readable`` or ``end_nested_loops`` is not
            callable; ``debug`` is not a bool or None; ``time_slice`` or
            ``inline_wait`` is not a number.
        ValueError: ``time_slice`` or ``inline_wait`` is outside 0 to 1 second.
        RuntimeError: a guest run is already active on this thread, or a hook called
            the guest's callback inline instead of queueing it.

    Example:
        A minimal host: a queue of callables drained on this thread.

        ```python
        import asyncio, queue
        import asyncio_guest

        calls: queue.SimpleQueue = queue.SimpleQueue()
        results = []

        async def main() -> str:
            await asyncio.sleep(0.1)
            return "done"

        asyncio_guest.start_guest_run(
            main,
            run_sync_soon_threadsafe=calls.put,
            done_callback=results.append,
        )
        while not results:
            calls.get()()
        print(results[0].unwrap())  # done
        ```
    """
    _check_callable(run_sync_soon_threadsafe, "run_sync_soon_threadsafe")
    _check_callable(done_callback, "done_callback")
    if run_sync_soon_not_threadsafe is None:
        run_sync_soon_not_threadsafe = run_sync_soon_threadsafe
    _check_callable(run_sync_soon_not_threadsafe, "run_sync_soon_not_threadsafe")
    if debug is not None and not isinstance(debug, bool):
        raise TypeError(f"debug must be None or a bool, got {debug!r}")
    if wait_readable is not None:
        _check_callable(wait_readable, "wait_readable")
    if end_nested_loops is not None:
        _check_callable(end_nested_loops, "end_nested_loops")
    _check_duration(time_slice, "time_slice")
    _check_duration(inline_wait, "inline_wait")
    check_no_active_run()
    coro = _make_coroutine(async_fn, args)
    loop = GuestEventLoop()
    run = _GuestRun(loop, done_callback)
    task: Optional[_MainTask] = None
    try:
        if debug is not None:
            loop.set_debug(debug)
        loop.guest_time_slice = float(time_slice)
        loop.guest_inline_wait = float(inline_wait)
        task = _MainTask(coro, loop=loop)
        task._guest_run = run
        run.main_task = task
        task.add_done_callback(run.on_main_done)
        driver = GuestDriver(
            loop,
            run_sync_soon_threadsafe,
            run_sync_soon_not_threadsafe,
            run.on_loop_stopped,
            wait_readable,
        )
        driver.end_nested_loops = end_nested_loops
        driver.start(
            set_wakeup_fd=not host_uses_signal_set_wakeup_fd,
            on_sigint=run.on_sigint,
            warn_if_wakeup_fd_replaced=True,
        )
    except BaseException:
        if not loop.is_closed():
            # The task never ran: close its coroutine and drop it without warnings.
            coro.close()
            if task is not None:
                _compat.silence_pending_destroy(task)
            loop.close()
        raise
    return task


def finish_run_here(task: asyncio.Task[Any]) -> outcome.Outcome[Any]:
    """Finish a guest run on the built-in host, after its own host loop has ended.

    ``task`` is the main task :func:`start_guest_run` returned. Call this on the
    run's host thread once the host loop has returned while the run is still
    live (a window was closed, the toolkit quit). The run moves to a
    :class:`~asyncio_guest.hosts.builtin.QueueHost` on this thread: whatever
    the dead host still holds is dropped, never run, and is not reported as an
    abandonment. The main task is cancelled unless it is done or a cancellation
    is already pending (its cleanup is never interrupted twice), and the run
    goes on until it is fully torn down: other tasks cancelled and awaited,
    async generators and the default executor shut down, the loop closed and
    its worker joined. ``done_callback`` is called once, as usual, and the
    same outcome is returned. If the run has already finished, its outcome is
    returned and nothing else happens.
    """
    run = getattr(task, "_guest_run", None)
    if not isinstance(task, _MainTask) or not isinstance(run, _GuestRun):
        raise TypeError(
            f"finish_run_here() needs the main task returned by start_guest_run(), got {task!r}"
        )
    loop = run.loop
    driver = driver_for(loop)
    if run.outcome is None and driver is not None and driver.abandoned_off_thread:
        check_no_active_run()  # ends it here, on its host thread, as abandoned
    if run.outcome is not None:
        return run.outcome
    assert driver is not None
    from asyncio_guest.hosts.builtin import QueueHost

    host = QueueHost()

    def on_stop(tick_error: Optional[BaseException]) -> None:
        host.stop()
        run.on_loop_stopped(tick_error)

    driver.move_to_host(
        host.run_sync_soon_threadsafe,
        host.run_sync_soon_not_threadsafe,
        on_stop,
        host.wait_readable,
    )
    task.cancel_once()
    try:
        host.mainloop()
    finally:
        if run.outcome is None:
            # The built-in host itself was interrupted (KeyboardInterrupt): end
            # the run here, so the thread stays usable.
            loop.abandon_guest_run()
    assert run.outcome is not None
    return run.outcome


async def modal(fn: Callable[..., T], *args: Any) -> T:
    """Run a blocking host call (``dialog.exec``, ``ShowModal``, ``wait_window``...)
    from the host, outside any guest tick, and return its result.

    Calling the blocking function directly from a task works too: the host's nested
    loop then runs guest ticks inside the blocked tick (see docs/architecture.md). The
    explicit form differs in that the call runs as a plain host callback, so other
    tasks go on without the short pause a direct call has when the dialog opens
    (``GuestEventLoop.guest_nested_loop_check``), the awaiting task is an ordinary
    awaiting task (its own timers and I/O go on; cancelling it delivers at once,
    though only the host can close the dialog), and the run can finish while the
    dialog is still up. The awaiting task gets the result (or the exception).
    """
    _check_callable(fn, "fn")
    loop = asyncio.get_running_loop()
    if not isinstance(loop, GuestEventLoop) or driver_for(loop) is None:
        raise RuntimeError(
            "asyncio_guest.modal() must be awaited inside a guest run (start_guest_run "
            "or a hosts.<name>.run helper)"
        )
    future: asyncio.Future[T] = loop.create_future()

    def run_on_host() -> None:
        if future.done():
            return
        try:
            result = fn(*args)
        except BaseException as exc:
            if not future.done() and driver_for(loop) is not None:
                future.set_exception(exc)
            if not isinstance(exc, Exception):
                raise
        else:
            if not future.done() and driver_for(loop) is not None:
                future.set_result(result)

    loop.post_to_host(run_on_host)
    return await future


def new_event_loop() -> GuestEventLoop:
    """A new :class:`GuestEventLoop` (for ``asyncio.set_event_loop`` style code).

    Example:
        ```python
        loop = asyncio_guest.new_event_loop()
        try:
            loop.run_until_complete(main())
        finally:
            loop.close()
        ```
    """
    return GuestEventLoop()


def run(main: Awaitable[T], *, debug: Optional[bool] = None) -> T:
    """``asyncio.run(main)`` on a :class:`GuestEventLoop` (built-in host).

    Raises:
        RuntimeError: called while an event loop is running on this thread.
        BaseException: whatever ``main`` raises.

    Example:
        ```python
        print(asyncio_guest.run(main()))
        ```
    """
    runner_cls = getattr(asyncio, "Runner", None)
    if runner_cls is not None:
        with runner_cls(debug=debug, loop_factory=GuestEventLoop) as runner:
            return runner.run(main)  # type: ignore[no-any-return]
    # Python 3.9 / 3.10: no asyncio.Runner; the same steps by hand.
    loop = GuestEventLoop()
    try:
        asyncio.set_event_loop(loop)
        if debug is not None:
            loop.set_debug(debug)
        result: T = loop.run_until_complete(main)
        return result
    finally:
        try:
            tasks = asyncio.all_tasks(loop)
            for t in tasks:
                t.cancel()
            if tasks:
                loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.run_until_complete(loop.shutdown_default_executor())
        finally:
            asyncio.set_event_loop(None)
            loop.close()
