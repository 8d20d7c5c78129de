"""`GuestEventLoop`: asyncio's own selector loop, driven one iteration per host tick.

The loop is a plain subclass of the platform's ``asyncio.SelectorEventLoop``
whose selector is the Rust :class:`asyncio_guest._core.Selector`. Nothing of
asyncio is copied or patched: a *tick* is exactly the inherited ``_run_once()``,
run by the run's :class:`~asyncio_guest._driver.GuestDriver`. This class keeps
only what asyncio code sees of the loop:

* ``run_forever`` (so ``run_until_complete``, ``asyncio.run(...,
  loop_factory=GuestEventLoop)`` and ``asyncio.Runner``) runs a guest run on
  the minimal built-in host on the calling thread.
* While the guest's wait is handed over (to the worker or the host's fd watch),
  host code (a GUI callback) may create work the wait does not know about:
  ``call_soon`` (which is also how ``Future.set_result``, ``Task.cancel`` and
  ``create_task`` schedule), a ``call_at`` earlier than the wait's deadline,
  or ``stop()``. For exactly that window the loop installs *waking* versions of
  those three methods as instance attributes (found before the class's
  methods, also by the C ``Future``/``Task``), which wake the wait once and
  uninstall themselves. Ticks themselves never pay for this. If this Python's
  C ``Future`` does not look ``call_soon`` up on the instance (checked once,
  at first use), class-level versions guarded by a flag take their place.
  ``call_soon_threadsafe`` and signals need nothing extra: they write to the
  self-pipe, which is registered in the same poller.

See ``docs/architecture.md`` for the diagram.
"""

from __future__ import annotations

import abc
import asyncio
import collections.abc
import os
import selectors
from typing import Any, Callable, Optional

from asyncio_guest import _compat, _core
from asyncio_guest._driver import (
    DEFAULT_INLINE_WAIT,
    DEFAULT_NESTED_LOOP_CHECK,
    DEFAULT_TIME_SLICE,
    GuestDriver,
    GuestRunAbandoned,
    Hook,
    WaitReadable,
)

__all__ = ["GuestEventLoop", "GuestRunAbandoned", "Hook", "WaitReadable"]

_SelectorEventLoop: Any = asyncio.SelectorEventLoop

#: Windows: a lock wait (the built-in host's sleep without a poller fd) cannot be
#: interrupted by Ctrl+C; the blocking run points the signal wakeup fd at the
#: loop's self-pipe, as asyncio's own Windows loop does, so a signal ends the
#: guest's wait and a tick brings the main thread back into Python.
BLOCKING_RUN_SETS_WAKEUP_FD = os.name == "nt"


class GuestEventLoop(_SelectorEventLoop):  # type: ignore[misc]
    """An asyncio event loop that can run as a guest on another event loop.

    Used directly (``run_until_complete``, ``run_forever``, ``asyncio.Runner(
    loop_factory=GuestEventLoop)``) it drives itself on a minimal built-in host
    on the calling thread. Most users call :func:`asyncio_guest.start_guest_run`
    instead, which creates one.

    A subclass of the platform's ``asyncio.SelectorEventLoop``: every loop iteration
    is asyncio's own, so it behaves as the stock selector loop does.

    Raises:
        TypeError: a ``selector`` argument other than None (the guest loop always
            uses its own poller).

    Example:
        ```python
        asyncio.run(main(), loop_factory=asyncio_guest.GuestEventLoop)  # Python 3.12+

        with asyncio.Runner(loop_factory=asyncio_guest.GuestEventLoop) as runner:  # 3.11+
            runner.run(main())
        ```
    """

    _selector: _core.Selector
    #: The driver of the live guest run, or None: "a run is active" means this.
    _guest_driver: Optional[GuestDriver] = None
    #: Class-level wakers only: True while a wait is handed over.
    _guest_waiting = False

    def __init__(self, selector: None = None) -> None:
        # Closed until the parent's __init__ has run: if construction fails
        # before that, BaseEventLoop.__del__ finds a closed loop and stays quiet.
        _compat.mark_closed(self)
        if selector is not None:
            raise TypeError(
                f"GuestEventLoop always uses its own poller (asyncio_guest._core.Selector), "
                f"which its I/O worker and the host's fd watch wait on; got selector={selector!r}. "
                f"Create it as GuestEventLoop() (selector=None is accepted)."
            )
        own_selector = _core.Selector()
        try:
            super().__init__(selector=own_selector)
        except BaseException:
            _compat.mark_closed(self)
            own_selector.close()
            raise
        _compat.check_selector_loop(self)
        self._guest_ticks = 0
        #: Longest stretch (seconds) of loop iterations run in one host callback.
        #: 0 means exactly one iteration per host callback.
        self.guest_time_slice = DEFAULT_TIME_SLICE
        #: How long after the last I/O event the guest keeps waiting for more
        #: on the host thread (within the slice) before handing the wait to the
        #: worker or the host's fd watch. 0 disables it (the default on Windows).
        self.guest_inline_wait = DEFAULT_INLINE_WAIT
        #: Blocking use (run_forever, run_until_complete): the built-in host
        #: waits for I/O itself (True), or hands every wait to the worker thread.
        self.guest_thread_free = True
        self._guest_nested_loop_check = DEFAULT_NESTED_LOOP_CHECK
        #: Nested host loops guest ticks ran inside (see _nested).
        self._guest_nested_loops = 0

    @property
    def guest_nested_loop_check(self) -> float:
        """Seconds a loop iteration may stay stuck before the guest looks for a nested
        host loop (a task called a blocking dialog) and runs its ticks inside it (see
        docs/architecture.md); 0 turns it off. Takes effect at once, also during a run."""
        return self._guest_nested_loop_check

    @guest_nested_loop_check.setter
    def guest_nested_loop_check(self, seconds: float) -> None:
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
            raise TypeError(f"guest_nested_loop_check must be a number of seconds, got {seconds!r}")
        if not 0 <= seconds <= 60:
            raise ValueError(f"guest_nested_loop_check must be between 0 and 60 s, got {seconds!r}")
        self._guest_nested_loop_check = float(seconds)
        driver = self._guest_driver
        if driver is not None and driver.is_current:
            if seconds > 0:
                driver._set_watchdog()
            else:
                driver.selector.set_watchdog(0)

    # ------------------------------------------------------------------
    # Blocking use: the minimal built-in host on the calling thread.

    def run_forever(self) -> None:
        from asyncio_guest.hosts.builtin import QueueHost

        # The built-in host has no nested loop a task could start, so it needs
        # no nested-loop watchdog, and an idle thread-free run no thread for it.
        self._run_forever_on(QueueHost(thread_free=self.guest_thread_free), nested_loop_check=False)

    def _run_forever_on(
        self, host: Any, *, use_fd_watch: bool = True, nested_loop_check: bool = True
    ) -> None:
        """``run_forever`` as one guest run on ``host`` (a Host), until ``stop()``.

        ``use_fd_watch=False`` keeps every wait on the worker even if the host
        can watch the poller's fd; ``nested_loop_check=False`` skips the
        nested-host-loop watchdog (a host that cannot nest).
        """
        # The stock checks and messages: a blocking run inside another running
        # loop (guest or not) would block that loop.
        _compat.check_closed(self)
        _compat.check_running(self)
        errors: list[Optional[BaseException]] = []

        def on_stop(exc: Optional[BaseException]) -> None:
            errors.append(exc)
            host.stop()

        driver = GuestDriver(
            self,
            host.run_sync_soon_threadsafe,
            host.run_sync_soon_not_threadsafe,
            on_stop,
            getattr(host, "wait_readable", None) if use_fd_watch else None,
        )
        driver.start(set_wakeup_fd=BLOCKING_RUN_SETS_WAKEUP_FD, nested_loop_check=nested_loop_check)
        try:
            host.mainloop()
        finally:
            # Normally a no-op. If the host loop itself was interrupted
            # (KeyboardInterrupt while it waited), end the run here, leaving the
            # loop reusable, as the stock loop does.
            still_running = self._guest_driver
            if still_running is not None:
                still_running.end()
        if errors and errors[0] is not None:
            exc = errors[0]
            try:
                raise exc
            finally:
                del exc

    def create_task(self, coro: Any, **kwargs: Any) -> Any:
        driver = self._guest_driver
        if driver is None or driver.host_loop is None or _compat.get_running_loop() is self:
            return _SelectorEventLoop.create_task(self, coro, **kwargs)
        # Host code on an asyncio host (outside a tick): the host's loop is the
        # running one. A task started eagerly (eager_task_factory, or
        # eager_start=True) runs its first step right here, and must see the
        # guest as its running loop, exactly as in a tick.
        host_context = driver.enter_guest_context()
        try:
            return _SelectorEventLoop.create_task(self, coro, **kwargs)
        finally:
            driver.exit_guest_context(host_context)

    # ------------------------------------------------------------------
    # Wakeups for work created by host code while the wait is handed over.

    def _guest_call_soon_and_wake(self, callback: Any, *args: Any, context: Any = None) -> Any:
        handle = _SelectorEventLoop.call_soon(self, callback, *args, context=context)
        self._guest_wake()
        return handle

    def _guest_call_at_and_wake(
        self, when: float, callback: Any, *args: Any, context: Any = None
    ) -> Any:
        timer = _SelectorEventLoop.call_at(self, when, callback, *args, context=context)
        driver = self._guest_driver
        if driver is None or when < driver.armed_deadline:
            self._guest_wake()
        return timer

    def _guest_stop_and_wake(self) -> None:
        _SelectorEventLoop.stop(self)
        self._guest_wake()

    def _guest_wake(self) -> None:
        driver = self._guest_driver
        if driver is not None:
            driver.wake()
        else:
            self._guest_remove_wakers()

    def _guest_install_wakers(self) -> None:
        if _wakers_on_instance is None:
            _probe_waker_lookup(self)
        if _wakers_on_instance:
            d = self.__dict__
            d["call_soon"] = self._guest_call_soon_and_wake
            d["call_at"] = self._guest_call_at_and_wake
            d["stop"] = self._guest_stop_and_wake
        else:
            self._guest_waiting = True

    def _guest_remove_wakers(self) -> None:
        if _wakers_on_instance:
            d = self.__dict__
            d.pop("call_soon", None)
            d.pop("call_at", None)
            d.pop("stop", None)
        else:
            self._guest_waiting = False

    def remove_signal_handler(self, sig: int) -> bool:
        removed: bool = super().remove_signal_handler(sig)
        driver = self._guest_driver
        if driver is not None:
            # The stock loop clears the wakeup fd when its last handler goes;
            # the guest run still needs it to wake an idle guest on signals.
            driver.reclaim_wakeup_fd()
        return removed

    # ------------------------------------------------------------------
    # The guest run, as host code sees it.

    def abandon_guest_run(self) -> None:
        """End the current guest run now, because its host stopped for good.

        For a host loop that returned before ``done_callback`` was called (it was
        stopped or quit under a live guest). Call it on the host thread. Pending
        guest tasks are dropped, not run; the running loop, async generator hooks
        and signal handling are restored, the loop is closed and its worker thread
        joined, so the thread can host a new run. ``done_callback`` is not called.
        A no-op if no run is active. (To finish the run instead, with every
        task's cleanup, use ``asyncio_guest.hosts.run_on_host``, which does.)
        """
        driver = self._guest_driver
        if driver is None:
            return
        if not driver.on_host_thread():
            raise RuntimeError("abandon_guest_run() must be called on the guest's host thread")
        driver.finish(GuestRunAbandoned("the host loop stopped before the guest run finished"))

    def post_to_host(self, fn: Callable[[], object]) -> None:
        """Run ``fn()`` soon on the host thread, as a host callback (outside any tick).

        Only valid during a guest run, from the host thread.
        """
        driver = self._guest_driver
        if driver is None:
            raise RuntimeError("post_to_host() needs an active guest run")
        driver.not_threadsafe(fn)

    def guest_stats(self) -> dict[str, int]:
        """Counters for tests and benchmarks.

        ``ticks``: host callbacks that ran loop iterations; ``iterations``:
        loop iterations (``_run_once`` calls); ``worker_waits``: waits handed to
        the worker thread (each one a thread hop back); ``wakeups``: forced
        wakeups of a waiting worker; ``host_polls``: non-blocking polls;
        ``nested_loops``: nested host loops (modal dialogs called directly from a
        task) that guest ticks ran inside.
        """
        stats: dict[str, int] = dict(self._selector.stats())
        stats["ticks"] = self._guest_ticks
        stats["nested_loops"] = self._guest_nested_loops
        return stats


# -- where the C Future looks up call_soon ---------------------------------------

#: True: wakers are instance attributes (the fast path); False: class-level
#: versions guarded by ``_guest_waiting``; None: not probed yet.
_wakers_on_instance: Optional[bool] = None


def _probe_waker_lookup(loop: GuestEventLoop) -> None:
    """Find out, once, whether futures and tasks call ``loop.call_soon`` via the instance.

    A C fast path that called the class's method directly (as CPython may do
    for its exact built-in loop classes) would skip instance wakers, and host
    code resolving a future would then not wake an idle guest. Probe it: a
    probing ``call_soon`` on the instance, a future resolved, a task created.
    """
    global _wakers_on_instance
    calls: list[str] = []

    def probing_call_soon(callback: Any, *args: Any, context: Any = None) -> Any:
        calls.append("call_soon")
        return _SelectorEventLoop.call_soon(loop, callback, *args, context=context)

    async def nothing() -> None:
        pass

    ready = _compat.ready_queue(loop)
    queued = len(ready)
    coro = nothing()
    task: Optional[asyncio.Task[None]] = None
    loop.__dict__["call_soon"] = probing_call_soon
    try:
        future = loop.create_future()
        future.add_done_callback(lambda f: None)
        future.set_result(None)
        future_found_it = bool(calls)
        calls.clear()
        task = asyncio.Task(coro, loop=loop)
        task_found_it = bool(calls)
    finally:
        del loop.__dict__["call_soon"]
        while len(ready) > queued:
            ready.pop()  # the probe's own callbacks, never run
        coro.close()
        if task is not None:
            _compat.silence_pending_destroy(task)
    if future_found_it and task_found_it:
        _wakers_on_instance = True
    else:
        use_class_level_wakers()


def use_class_level_wakers() -> None:
    """Wake through class-level ``call_soon``/``call_at``/``stop`` from now on.

    Each costs one flag check per call, ticks included; used only where the
    instance attributes would not be seen.
    """
    global _wakers_on_instance
    _wakers_on_instance = False

    def call_soon(self: GuestEventLoop, callback: Any, *args: Any, context: Any = None) -> Any:
        handle = _SelectorEventLoop.call_soon(self, callback, *args, context=context)
        if self._guest_waiting:
            self._guest_wake()
        return handle

    def call_at(
        self: GuestEventLoop, when: float, callback: Any, *args: Any, context: Any = None
    ) -> Any:
        timer = _SelectorEventLoop.call_at(self, when, callback, *args, context=context)
        if self._guest_waiting:
            driver = self._guest_driver
            if driver is None or when < driver.armed_deadline:
                self._guest_wake()
        return timer

    def stop(self: GuestEventLoop) -> None:
        _SelectorEventLoop.stop(self)
        if self._guest_waiting:
            self._guest_wake()

    GuestEventLoop.call_soon = call_soon
    GuestEventLoop.call_at = call_at
    GuestEventLoop.stop = stop


# selectors.BaseSelector is an ABC: make the Rust selector count as one, so code
# that checks isinstance(loop._selector, BaseSelector) sees what it expects.
# (BaseSelector defines its own `register`, so call ABCMeta's explicitly.)
abc.ABCMeta.register(selectors.BaseSelector, _core.Selector)
collections.abc.Mapping.register(_core.SelectorMapping)
