"""What every host adapter shares: the ``Host`` protocol, the posting FIFO, and ``run``.

An adapter module holds only what is specific to its toolkit: how to wake the toolkit's loop
(``post``), how to run and stop that loop, and the optional capabilities below.  Everything
else (argument checks, the quit contract, teardown after the loop ended, re-raising a
``KeyboardInterrupt`` that ended the loop) lives here, once.

The quit contract, the same for every ``hosts.<name>.run``:

* the usual ways to quit (the window's close button, the toolkit's destroy or quit call, made
  from a host callback or from a task, the last window closing) cancel the main task; every
  task's ``finally`` runs, async generators and the default executor shut down, and nothing
  is left behind;
* a quit is not an error: ``run()`` then returns ``None``;
* if the main task catches the cancellation and returns a value, ``run()`` returns it; any
  other exception of the main task propagates (Ctrl+C: ``KeyboardInterrupt``).
"""

from __future__ import annotations

import asyncio
import inspect
import sys
import threading
from collections import deque
from typing import (
    Any,
    Awaitable,
    Callable,
    ContextManager,
    Coroutine,
    Optional,
    Protocol,
    TypeVar,
    runtime_checkable,
)

import outcome

T = TypeVar("T")
H = TypeVar("H", bound="Host")

#: ``wait_readable(fd, timeout, fn) -> cancel``: see :class:`Host`.
WaitReadable = Callable[[int, Optional[float], Callable[[], object]], Callable[[], None]]

#: The keyword options of :func:`asyncio_guest.start_guest_run` that a ``run()`` passes on.
RUN_OPTIONS = ("debug", "time_slice", "inline_wait")


@runtime_checkable
class Host(Protocol):
    """What asyncio-guest needs from a host event loop.

    ``run_sync_soon_threadsafe(fn)`` must be callable from any thread and must arrange for
    ``fn()`` to run soon on the host thread: never inline, never dropped, never after the host
    is closed (then it raises ``RuntimeError``).  ``run_sync_soon_not_threadsafe`` is the same,
    called only from the host thread (a toolkit with a cheaper same-thread path uses it).

    Capabilities, ``None`` where the host lacks them:

    * ``wait_readable(fd, timeout, fn) -> cancel``: the host watches a file descriptor on its
      own thread and calls ``fn()`` once when it is readable or after ``timeout`` seconds
      (``None``: no timeout); ``cancel()`` drops the watch.  With it the guest's I/O wait
      needs no worker thread (thread-free mode).
    * ``end_nested_loops()``: end the nested loops (modal dialogs) that are still running,
      so that a run that ends while a dialog is up (Ctrl+C, ``main`` returning, the window
      closed) ends promptly, whether ``asyncio_guest.modal(...)`` opened it or a task called
      the blocking function directly.  :meth:`stop` and the core call it.

    Example:
        An app that owns its Tk root starts the guest itself and keeps its own mainloop:

        ```python
        host = asyncio_guest.hosts.tk.TkHost(root)
        results = []

        def done(result: outcome.Outcome[Any]) -> None:
            results.append(result)
            host.stop()  # only now: the guest run is fully torn down

        start_on_host(host, main, done_callback=done)
        host.mainloop()
        print(results[0].unwrap())
        ```
    """

    #: True when the toolkit itself owns ``signal.set_wakeup_fd``.
    host_uses_signal_set_wakeup_fd: bool
    wait_readable: Optional[WaitReadable]
    end_nested_loops: Optional[Callable[[], None]]

    def run_sync_soon_threadsafe(self, fn: Callable[[], object]) -> None: ...

    def run_sync_soon_not_threadsafe(self, fn: Callable[[], object]) -> None: ...

    def mainloop(self) -> None:
        """Run the host loop on the calling thread until :meth:`stop`."""

    def stop(self) -> None:
        """Make :meth:`mainloop` return.  Called on the host thread."""

    def close(self) -> None:
        """Drop whatever is still queued; later posts raise ``RuntimeError``."""


class CallQueue:
    """The FIFO behind an adapter's posting hooks, with the "host is closed" rule.

    Hooks :meth:`push` the callable first and then wake the toolkit; whatever the toolkit
    runs :meth:`pop` s the *oldest* callable, so order is append order whatever the wake-up
    mechanism.  After :meth:`close` nothing queued runs and :meth:`push` raises.
    """

    def __init__(self, host_name: str) -> None:
        self.host_name = host_name
        self.lock = threading.Lock()
        self._calls: deque[Callable[[], object]] = deque()
        self.closed = False

    def __len__(self) -> int:
        return len(self._calls)

    def push(self, fn: Callable[[], object]) -> None:
        with self.lock:
            self.push_locked(fn)

    def push_locked(self, fn: Callable[[], object]) -> None:
        """:meth:`push` for a caller that holds :attr:`lock` (to wake under it too)."""
        if self.closed:
            raise RuntimeError(f"the {self.host_name} host is closed; the callback cannot run")
        self._calls.append(fn)

    def pop(self) -> Optional[Callable[[], object]]:
        """The oldest callable, or None when the queue is empty or closed."""
        with self.lock:
            if self.closed or not self._calls:
                return None
            return self._calls.popleft()

    def close(self) -> None:
        with self.lock:
            self.closed = True
            self._calls.clear()


class HostBase:
    """Shared parts of the adapters: capabilities default to absent, and a
    ``KeyboardInterrupt``/``SystemExit`` raised by a host callback ends the host loop and is
    re-raised from :meth:`mainloop` (the toolkits' own dispatchers would swallow it)."""

    host_uses_signal_set_wakeup_fd = False
    wait_readable: Optional[WaitReadable] = None
    end_nested_loops: Optional[Callable[[], None]] = None
    #: The loop of the guest run on this host while it is live (set by start_on_host).
    guest_loop: Optional[asyncio.AbstractEventLoop] = None
    _pending_error: Optional[BaseException] = None

    def create_guest_task(self, coro: Coroutine[Any, Any, T]) -> asyncio.Task[T]:
        """From host code: run ``coro`` as a task of the guest loop (not the host's)."""
        return self._guest().create_task(coro)

    def call_in_guest(self, fn: Callable[..., object], *args: Any) -> asyncio.Handle:
        """From host code: call ``fn(*args)`` soon on the guest loop, in a guest tick."""
        return self._guest().call_soon_threadsafe(fn, *args)

    def _guest(self) -> asyncio.AbstractEventLoop:
        if self.guest_loop is None:
            raise RuntimeError("no guest run is live on this host ")
        return self.guest_loop

    def call(self, fn: Callable[[], object]) -> None:
        """Run one posted callable from the toolkit's dispatcher."""
        try:
            fn()
        except BaseException as exc:
            self.report(exc)

    def report(self, exc: BaseException) -> None:
        """Deliver an exception that reached the toolkit's dispatcher, which must not see it."""
        if isinstance(exc, Exception):
            # The guest's own callables never raise; this is a host-side bug: report it and
            # keep the host running (an exception escaping into PyQt would abort()).
            sys.excepthook(type(exc), exc, exc.__traceback__)
        else:
            # KeyboardInterrupt / SystemExit: end the host loop, re-raise from mainloop().
            self._pending_error = exc
            self.stop()

    def raise_pending_error(self) -> None:
        """Call at the end of :meth:`mainloop`."""
        error, self._pending_error = self._pending_error, None
        if error is not None:
            raise error

    def stop(self) -> None:  # pragma: no cover - every adapter overrides it
        raise NotImplementedError


def cancel_once(task: Any) -> Callable[[], None]:
    """A canceller for the main task that never interrupts its cleanup: it does nothing if
    the task is done or a cancellation is already pending (a close handler that fired, then
    the last-window signal)."""
    cancel_main = getattr(task, "cancel_once", None)
    if cancel_main is not None:
        return cancel_main  # type: ignore[no-any-return]
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


def prepare_main(
    api: str,
    async_fn: Callable[..., Awaitable[T]],
    args: tuple[Any, ...],
    options: dict[str, Any],
) -> Coroutine[Any, Any, T]:
    """Check what a user passed to ``hosts.<name>.run`` and make the main coroutine.

    Called before the adapter creates any window, so bad input fails first, with the message
    :func:`asyncio_guest.start_guest_run` gives, naming ``api`` (the user's own call).  The
    coroutine does not start running here; close it if the run does not start.
    """
    unknown = sorted(set(options) - set(RUN_OPTIONS))
    if unknown:
        names = ", ".join(repr(name) for name in unknown)
        raise TypeError(
            f"{api}() got unexpected keyword argument(s) {names}: it passes only positional "
            f"arguments to the async function; for keyword arguments use functools.partial, "
            f"e.g. {api}(functools.partial(main, {unknown[0]}=...))"
        )
    if inspect.iscoroutine(async_fn):
        raise TypeError(
            f"{api}() expects an async function and its arguments, not a coroutine object: "
            f"use {api}(fn, arg) instead of {api}(fn(arg))"
        )
    if not callable(async_fn):
        raise TypeError(f"async_fn must be callable, got {async_fn!r}")
    coro = async_fn(*args)
    if not inspect.iscoroutine(coro):
        if inspect.isawaitable(coro) and hasattr(coro, "close"):
            coro.close()
        raise TypeError(
            f"{api}() expects an async function; {async_fn!r} returned "
            f"{type(coro).__name__}, not a coroutine"
        )
    return coro


def start_on_host(
    host: Host,
    async_fn: Callable[..., Awaitable[T]],
    *args: Any,
    done_callback: Callable[[outcome.Outcome[Any]], object],
    **kwargs: Any,
) -> asyncio.Task[T]:
    """:func:`asyncio_guest.start_guest_run` with ``host``'s hooks (and, if it has the
    capability, its ``wait_readable`` for the thread-free mode). Returns the main task."""
    from asyncio_guest import start_guest_run

    kwargs.setdefault("host_uses_signal_set_wakeup_fd", host.host_uses_signal_set_wakeup_fd)
    wait_readable = getattr(host, "wait_readable", None)
    if wait_readable is not None:
        kwargs.setdefault("wait_readable", wait_readable)
    end_nested_loops = getattr(host, "end_nested_loops", None)
    if end_nested_loops is not None:
        kwargs.setdefault("end_nested_loops", end_nested_loops)

    def done(result: outcome.Outcome[Any]) -> object:
        if isinstance(host, HostBase):
            host.guest_loop = None
        return done_callback(result)

    task = start_guest_run(
        async_fn,
        *args,
        run_sync_soon_threadsafe=host.run_sync_soon_threadsafe,
        run_sync_soon_not_threadsafe=host.run_sync_soon_not_threadsafe,
        done_callback=done,
        **kwargs,
    )
    if isinstance(host, HostBase):
        host.guest_loop = task.get_loop()
    return task


def quit_outcome(result: outcome.Outcome[Any]) -> Any:
    """The value ``run()`` returns for a finished run: a quit (the main task ended
    cancelled) is ``None``, not an error; anything else is unwrapped."""
    if isinstance(result, outcome.Error) and isinstance(result.error, asyncio.CancelledError):
        return None
    return result.unwrap()


def run_on_host(
    host: Host, async_fn: Callable[..., Awaitable[T]], *args: Any, **kwargs: Any
) -> Optional[T]:
    """Start ``async_fn(*args)`` as a guest of ``host``, run the host loop, and return the
    result under the quit contract (see the module docstring).

    The host is stopped from ``done_callback``, i.e. only after the guest run is completely
    torn down.  If the host loop ends first (a window destroyed, the toolkit's quit called),
    the run is finished here, on the built-in host: the main task is cancelled and the
    teardown completes before this returns.  Extra keyword arguments go to
    :func:`asyncio_guest.start_guest_run`.
    """
    from asyncio_guest._run import finish_run_here

    results: list[outcome.Outcome[Any]] = []
    looping = [False]

    def done_callback(result: outcome.Outcome[Any]) -> None:
        results.append(result)
        if looping[0]:
            host.stop()

    task = start_on_host(host, async_fn, *args, done_callback=done_callback, **kwargs)
    looping[0] = True
    try:
        host.mainloop()
    finally:
        looping[0] = False
        if not results:
            # The host loop ended (or raised) under a live guest: finish the run here, so
            # every finally runs, nothing leaks and the thread can host another run. Its
            # outcome is taken from the return value, not from done_callback: a run the
            # host abandoned (it dropped a pending tick) has nobody to call back, and
            # ends with GuestRunAbandoned.
            finished = finish_run_here(task)
            if not results:
                results.append(finished)
    return quit_outcome(results[0])  # type: ignore[no-any-return]


#: ``watch_quit(host, cancel)``: while the main task runs, call ``cancel()`` when the user
#: quits the toolkit's way (the last window closed, the close button); see :func:`run_adapter`.
WatchQuit = Callable[[H, Callable[[], None]], ContextManager[None]]


def run_adapter(
    api: str,
    async_fn: Callable[..., Awaitable[T]],
    args: tuple[Any, ...],
    options: dict[str, Any],
    make_host: Callable[[], H],
    *,
    watch_quit: Optional[WatchQuit[H]] = None,
    drive: Optional[Callable[..., Optional[T]]] = None,
) -> Optional[T]:
    """The body of every ``hosts.<name>.run``: an adapter passes only what is its own.

    In order: the user's arguments are checked (:func:`prepare_main`, before any window
    exists); ``make_host()`` builds the host (if it fails, the main coroutine is closed,
    never left "never awaited"); the run is driven by ``drive(host, main, **options)``
    (:func:`run_on_host` unless given; an asyncio-based host runs its own loop instead);
    and the host is closed whatever happens.  ``watch_quit(host, cancel)``, if given, is
    entered inside the main task and stays entered while it runs: it connects the toolkit's
    quit event (the last window closing) to ``cancel``, which cancels the main task once,
    and disconnects it on exit.
    """
    coro = prepare_main(api, async_fn, args, options)
    try:
        host = make_host()
    except BaseException:
        coro.close()
        raise

    async def main() -> T:
        task = asyncio.current_task()
        if watch_quit is None or task is None:
            return await coro
        with watch_quit(host, cancel_once(task)):
            return await coro

    try:
        if drive is None:
            return run_on_host(host, main, **options)
        return drive(host, main, **options)
    finally:
        host.close()
