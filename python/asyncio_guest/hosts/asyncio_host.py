"""asyncio loop as host: guest asyncio beside a host asyncio loop on the same thread.

The guest's ticks are callbacks of the host loop: ``call_soon_threadsafe`` from the worker
thread (it writes to the host loop's self-pipe, so a host blocked in ``select`` wakes up) and
plain ``call_soon`` on the host thread (no self-pipe write needed: the host is running and
will pick the callback up on its next iteration; never inline).  The guest loop becomes the
running loop only during its ticks; the host's running loop is restored after each.  The
host loop owns ``signal.set_wakeup_fd`` (it sets it for ``add_signal_handler``, and
``asyncio.run`` installs its own SIGINT handling), hence ``host_uses_signal_set_wakeup_fd``.

The guest must be started from *inside* the running host loop: that is how the core tells
an asyncio host (swap the running loop per tick) from a non-asyncio one (stay the running loop
for the whole run).  So :func:`asyncio_guest.hosts.run_on_host`, which starts the guest
before ``mainloop()``, is not used here.  Two ways in:

* ``await asyncio_guest.hosts.asyncio_host.run_as_guest(async_fn, *args)`` from host asyncio code
  (returns the guest's result, raises its exception);
* ``asyncio_guest.hosts.asyncio_host.run(async_fn, *args)`` from synchronous code: a new host loop
  on this thread runs until the guest is done.

Reaching the guest from host code: a host callback runs with the *host* loop as the running
loop, so ``asyncio.create_task`` there makes a host task.  To start guest work from host code
use the host's :meth:`AsyncioHost.create_guest_task` (or :meth:`AsyncioHost.call_in_guest`
for a plain callback); ``host.guest_loop`` is the guest loop while a run is live.  With the
guest in debug mode (``debug=True``, or ``PYTHONASYNCIODEBUG=1``) a task created on the host
loop from a plain host callback during the run gets a ``RuntimeWarning`` that says so.
"""

from __future__ import annotations

import asyncio
import sys
import warnings
from typing import Any, Awaitable, Callable, Optional, Protocol, TypeVar

import outcome

from asyncio_guest.hosts._base import (
    Host,
    HostBase,
    quit_outcome,
    run_adapter,
    start_on_host,
    wait_readable_once,
)

__all__ = ["AsyncioHost", "run", "run_as_guest"]

T = TypeVar("T")
R = TypeVar("R")


class AsyncioHost(HostBase):
    """Host adapter for an asyncio event loop (a new one unless given)."""

    host_uses_signal_set_wakeup_fd = True

    def __init__(
        self, loop: Optional[asyncio.AbstractEventLoop] = None, thread_free: bool = True
    ) -> None:
        if loop is not None and not isinstance(loop, asyncio.AbstractEventLoop):
            raise TypeError(f"loop must be an asyncio event loop, got {type(loop).__name__}")
        if not isinstance(thread_free, bool):
            raise TypeError(f"thread_free must be a bool, got {thread_free!r}")
        if thread_free and sys.platform != "win32":
            # (Windows: the proactor loop has no add_reader; the worker thread waits.)
            self.wait_readable = self._wait_readable
        self.loop = loop if loop is not None else asyncio.new_event_loop()
        self._owned = loop is None

    def run_sync_soon_threadsafe(self, fn: Callable[[], object]) -> None:
        if self.loop.is_closed():
            raise RuntimeError("the asyncio host loop is closed; the callback cannot run")
        self.loop.call_soon_threadsafe(fn)

    def run_sync_soon_not_threadsafe(self, fn: Callable[[], object]) -> None:
        self.loop.call_soon(fn)

    def _wait_readable(
        self, fd: int, timeout: Optional[float], fn: Callable[[], object]
    ) -> Callable[[], None]:
        """Thread-free mode: the host loop watches the guest poller's descriptor."""
        loop = self.loop

        def watch_fd(cb: Callable[[], None]) -> Callable[[], None]:
            loop.add_reader(fd, cb)
            return lambda: loop.remove_reader(fd)  # type: ignore[return-value]

        def call_later(delay: float, cb: Callable[[], None]) -> Callable[[], None]:
            return loop.call_later(delay, cb).cancel

        return wait_readable_once(fn, timeout, watch_fd, call_later)

    def mainloop(self) -> None:
        self.loop.run_forever()

    def stop(self) -> None:
        self.loop.stop()

    def run_until_done(self, make_awaitable: Callable[[], Awaitable[R]]) -> R:
        """Run the host loop until ``make_awaitable()`` is done; return its result."""
        return self.loop.run_until_complete(make_awaitable())

    def close(self) -> None:
        """Close the loop if this host created it."""
        if self._owned and not self.loop.is_closed():
            self.loop.close()


async def run_as_guest(
    async_fn: Callable[..., Awaitable[T]],
    *args: Any,
    host: Optional[Host] = None,
    **kwargs: Any,
) -> Optional[T]:
    """From host asyncio code: run ``async_fn(*args)`` as a guest beside the running loop.

    ``host`` defaults to an :class:`AsyncioHost` on the running loop (Tornado passes its own).
    Cancelling the caller cancels the guest; this returns only after the guest's teardown.
    Quitting follows the contract of :mod:`asyncio_guest.hosts`: if the guest's main task
    ends cancelled (a quit), this returns ``None``.
    """
    result = await guest_outcome(async_fn, *args, host=host, **kwargs)
    return quit_outcome(result)  # type: ignore[no-any-return]


async def guest_outcome(
    async_fn: Callable[..., Awaitable[Any]],
    *args: Any,
    host: Optional[Host] = None,
    **kwargs: Any,
) -> outcome.Outcome[Any]:
    """:func:`run_as_guest`, returning the guest's :class:`outcome.Outcome`."""
    loop = asyncio.get_running_loop()
    if host is None:
        host = AsyncioHost(loop)
    done: asyncio.Future[outcome.Outcome[Any]] = loop.create_future()

    def done_callback(result: outcome.Outcome[Any]) -> None:
        if not done.done():
            done.set_result(result)

    guest_task = start_on_host(host, async_fn, *args, done_callback=done_callback, **kwargs)
    restore_factory = _warn_host_tasks_from_callbacks(loop, guest_task.get_loop())
    try:
        result = await asyncio.shield(done)
    except asyncio.CancelledError:
        # Cancelling the caller cancels the guest, and we still must not return before the
        # guest is torn down (done_callback), or its chain would outlive us.
        guest_task.cancel()
        while not done.done():
            try:
                await asyncio.shield(done)
            except asyncio.CancelledError:
                pass
        raise
    finally:
        restore_factory()
    return result


def _warn_host_tasks_from_callbacks(
    host_loop: asyncio.AbstractEventLoop, guest_loop: asyncio.AbstractEventLoop
) -> Callable[[], None]:
    """In debug mode, warn when a plain host callback creates a task on the host loop while
    the guest runs: the usual sign of guest work started on the wrong loop."""
    if not guest_loop.get_debug():
        return lambda: None
    previous = host_loop.get_task_factory()

    def factory(loop: asyncio.AbstractEventLoop, coro: Any, **kwargs: Any) -> Any:
        if asyncio.current_task(loop) is None and not guest_loop.is_closed():
            warnings.warn(
                f"a host callback created a task on the host loop for {coro!r} while a guest "
                f"run is live; for guest work use host.create_guest_task(coro) or "
                f"host.call_in_guest(fn) (a host task is fine if that is what you meant)",
                RuntimeWarning,
                stacklevel=3,
            )
        if previous is not None:
            return previous(loop, coro, **kwargs)
        return asyncio.Task(coro, loop=loop, **kwargs)

    host_loop.set_task_factory(factory)

    def restore() -> None:
        if host_loop.get_task_factory() is factory:
            host_loop.set_task_factory(previous)

    return restore


def run(
    async_fn: Callable[..., Awaitable[T]],
    *args: Any,
    loop: Optional[asyncio.AbstractEventLoop] = None,
    thread_free: bool = True,
    **kwargs: Any,
) -> Optional[T]:
    """Run ``async_fn(*args)`` as a guest of an asyncio host loop (new unless given).

    The host loop runs until the guest is done (``run_until_complete`` of
    :func:`run_as_guest`); a loop created here is closed afterwards.  Quitting follows the
    contract of :mod:`asyncio_guest.hosts`: a quit (the main task cancelled) returns ``None``.

    Raises:
        TypeError: ``async_fn`` is a coroutine object or not an async function, or a
            keyword argument other than the documented ones was given (pass keyword
            arguments to ``async_fn`` with ``functools.partial``). Raised before any
            window is created.
        KeyboardInterrupt: Ctrl+C ended the run (after the guest's cleanup).
        Exception: whatever the main task raised, other than the cancellation of a quit.

    Example:
        ```python
        async def main() -> str:
            await asyncio.sleep(0.1)  # runs on the guest loop
            return "done"

        print(asyncio_guest.hosts.asyncio_host.run(main))  # done
        ```
    """
    return run_adapter(
        "hosts.asyncio_host.run",
        async_fn,
        args,
        kwargs,
        lambda: AsyncioHost(loop, thread_free),
        drive=drive_until_done,
    )


class _RunsUntilDone(Host, Protocol):
    def run_until_done(self, make_awaitable: Callable[[], Awaitable[R]]) -> R: ...


def drive_until_done(
    host: _RunsUntilDone, main: Callable[[], Awaitable[Any]], **options: Any
) -> Any:
    """The ``drive`` of an asyncio-based host's ``run()``: the guest is started from inside
    the running host loop (:func:`run_as_guest`), which runs until the guest is done."""
    result = host.run_until_done(lambda: guest_outcome(main, host=host, **options))
    return quit_outcome(result)
