"""The one protocol every host adapter implements, and the generic ``run`` helper."""

from __future__ import annotations

from typing import Any, Awaitable, Callable, Optional, Protocol, TypeVar, runtime_checkable

import outcome

T = TypeVar("T")


@runtime_checkable
class Host(Protocol):
    """What asyncio-guest needs from a host event loop.

    ``run_sync_soon_threadsafe(fn)`` must be callable from any thread and must
    arrange for ``fn()`` to run soon on the host thread: never inline, never
    dropped, never after the host is gone.  ``run_sync_soon_not_threadsafe`` is
    the same, called only from the host thread; adapters whose toolkit has a
    cheaper same-thread path use it, the others alias the threadsafe one.
    """

    #: True when the toolkit itself owns ``signal.set_wakeup_fd``.
    host_uses_signal_set_wakeup_fd: bool

    def run_sync_soon_threadsafe(self, fn: Callable[[], object]) -> None: ...

    def run_sync_soon_not_threadsafe(self, fn: Callable[[], object]) -> None: ...

    def mainloop(self) -> None:
        """Run the host loop on the calling thread until :meth:`stop`."""

    def stop(self) -> None:
        """Make :meth:`mainloop` return.  Called on the host thread."""

    # Optional (not part of the runtime-checked protocol): a host that can watch
    # a file descriptor on its own thread may define
    #     wait_readable(fd, timeout, fn) -> cancel
    # calling fn() once when fd is readable or after timeout seconds (None: no
    # timeout), whichever comes first; cancel() drops the watch. run_on_host
    # then uses the thread-free mode (see start_guest_run).


def cancel_once(task: Any) -> Callable[[], None]:
    """A canceller that does nothing if the task is done or already being cancelled.

    A second ``cancel()`` arriving after the first was delivered would interrupt the
    task's cleanup (its ``finally`` awaits), e.g. when a window's close handler already
    cancelled the task and the last-window signal comes later.  ``Task.cancelling()`` is
    3.11+; before that only this canceller's own call is known.
    """
    fired = [False]

    def cancel() -> None:
        cancelling = getattr(task, "cancelling", None)
        if task.done() or fired[0] or (cancelling is not None and cancelling()):
            return
        fired[0] = True
        task.cancel()

    return cancel


def wait_readable_once(
    fn: Callable[[], object],
    timeout: Optional[float],
    watch_fd: Callable[[Callable[[], None]], Callable[[], None]],
    call_later: Callable[[float, Callable[[], None]], Callable[[], None]],
) -> Callable[[], None]:
    """Build a host's ``wait_readable`` result from its two primitives.

    ``watch_fd(cb)`` starts watching the descriptor and ``call_later(delay, cb)``
    starts a timer; each returns a function that stops it. ``fn`` runs once,
    for whichever fires first, after both are stopped; the returned function
    stops both without running ``fn``. Both are host-thread only.
    """
    stoppers: list[Callable[[], None]] = []
    done = False

    def stop_all() -> None:
        nonlocal done
        done = True
        while stoppers:
            stoppers.pop()()

    def fire() -> None:
        if not done:
            stop_all()
            fn()

    stoppers.append(watch_fd(fire))
    if timeout is not None:
        stoppers.append(call_later(timeout, fire))
    return stop_all


def start_on_host(
    host: Host,
    async_fn: Callable[..., Awaitable[T]],
    *args: Any,
    done_callback: Callable[[outcome.Outcome], object],
    **kwargs: Any,
) -> Any:
    """:func:`asyncio_guest.start_guest_run` with ``host``'s hooks (and, if it has
    one, its ``wait_readable`` for the thread-free mode). Returns the main task."""
    from asyncio_guest import start_guest_run

    kwargs.setdefault("host_uses_signal_set_wakeup_fd", host.host_uses_signal_set_wakeup_fd)
    wait_readable = getattr(host, "wait_readable", None)
    if wait_readable is not None:
        kwargs.setdefault("wait_readable", wait_readable)
    return start_guest_run(
        async_fn,
        *args,
        run_sync_soon_threadsafe=host.run_sync_soon_threadsafe,
        run_sync_soon_not_threadsafe=host.run_sync_soon_not_threadsafe,
        done_callback=done_callback,
        **kwargs,
    )


def run_on_host(host: Host, async_fn: Callable[..., Awaitable[T]], *args: Any, **kwargs: Any) -> T:
    """Start ``async_fn(*args)`` as a guest of ``host``, run the host loop, return the result.

    The host is stopped from ``done_callback``, i.e. only after the guest run is
    completely torn down, which is the lifetime pattern guest mode requires.
    Extra keyword arguments go to :func:`asyncio_guest.start_guest_run`.
    """
    results: list[outcome.Outcome] = []

    def done_callback(result: outcome.Outcome) -> None:
        results.append(result)
        host.stop()

    task = start_on_host(host, async_fn, *args, done_callback=done_callback, **kwargs)
    try:
        host.mainloop()
    finally:
        if not results:
            # The host loop ended (or raised) under a live guest: tear the run
            # down here, so the thread can host another one.
            task.get_loop().abandon_guest_run()  # type: ignore[attr-defined]
    if not results:
        raise RuntimeError(
            "the host loop returned before the guest run finished; stop the host only "
            "from done_callback (cancel the main task to quit early)"
        )
    return results[0].unwrap()
