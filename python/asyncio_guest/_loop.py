"""`GuestEventLoop`: asyncio's own selector loop, driven one iteration per host tick.

The loop is a plain subclass of the platform's ``asyncio.SelectorEventLoop``
whose selector is the Rust :class:`asyncio_guest._core.Selector`. Nothing of
asyncio is copied or patched: a *tick* is exactly the inherited ``_run_once()``.
What changes is who waits:

* In guest mode the selector's ``select()`` never blocks. At the end of each
  tick the driver decides what comes next:

  - callbacks are ready, or I/O is already ready -> post the next tick to the
    host with ``run_sync_soon_not_threadsafe`` (no thread hop; the host gets
    control back between ticks, so a busy guest cannot freeze the host);
  - otherwise -> *arm* the Rust worker thread with the time to the next timer.
    It blocks in the OS poller with the GIL released and, when the wait ends,
    posts the next tick with ``run_sync_soon_threadsafe``.

  Exactly one link of this chain is in flight at any time (a queued tick or a
  waiting worker), so an idle guest costs nothing: no polling, no timers.

* While the worker waits, host code (a GUI callback) may create work the wait
  does not know about: ``call_soon`` (which is also how ``Future.set_result``,
  ``Task.cancel`` and ``create_task`` schedule), a ``call_at`` earlier than the
  wait's deadline, or ``stop()``. For exactly that window the loop installs
  *waking* versions of those three methods as instance attributes (found
  before the class's methods, also by the C ``Future``/``Task``), which notify
  the poller once and uninstall themselves. Ticks themselves never pay for
  this. ``call_soon_threadsafe`` and signals need nothing extra: they write
  to the self-pipe, which is registered in the same poller.

See ``docs/architecture.md`` for the diagram.
"""

from __future__ import annotations

import abc
import asyncio
import collections.abc
import heapq
import itertools
import math
import os
import selectors
import signal
import sys
import threading
import time
import warnings
from asyncio import events
from typing import Any, Callable, Optional

from asyncio_guest import _core, _nested

#: asyncio's own cap on one wait (``base_events.MAXIMUM_SELECT_TIMEOUT``).
_MAX_TIMEOUT = 24 * 3600

#: Default time slice: several loop iterations may run in one host callback, for
#: at most this long. Well under a 16 ms frame, so the host stays responsive.
DEFAULT_TIME_SLICE = 0.002
#: Default inline wait (see GuestEventLoop.guest_inline_wait).
DEFAULT_INLINE_WAIT = 0.002

#: A timer this close is waited out on the host thread (precisely, GIL
#: released) instead of by a host timer: GUI toolkits' timers have 1 ms
#: granularity, so a host wait is asked to end this much early (see
#: _guest_run_batch).
TIMER_TAIL = 0.001

#: Default threshold of the nested-host-loop check (GuestEventLoop.guest_nested_loop_check):
#: how long guest tasks may stay frozen when a task enters a nested host loop (a modal
#: dialog called directly) before guest ticks start running inside it.
DEFAULT_NESTED_LOOP_CHECK = 0.05

_INLINE_MESSAGE = (
    "asyncio_guest: the host's run_sync_soon_* hook called the guest's callback inline; "
    "run_sync_soon_threadsafe and run_sync_soon_not_threadsafe must queue the callback "
    "to run later on the host thread, never call it inline "
    "(e.g. root.after(0, fn) or loop.call_soon(fn), not fn())"
)
_WRONG_THREAD_MESSAGE = (
    "asyncio_guest: a guest tick was called on a thread other than the host thread (did "
    "run_sync_soon_threadsafe call the callback inline on the I/O worker thread?); the "
    "hooks must queue the callback to run on the host thread, never call it inline."
)

#: Numbers the guest runs of this process (named in the links' repr).
_run_ids = itertools.count(1)

#: Returned by a batch when the loop was stopped.
_STOPPED = object()

#: The active guest loop per host thread (one guest run per thread).
_active: dict[int, GuestEventLoop] = {}

Hook = Callable[[Callable[[], object]], object]
#: wait_readable(fd, timeout, fn) -> cancel: the thread-free mode's host hook.
WaitReadable = Callable[[int, Optional[float], Callable[[], object]], Callable[[], object]]


class _Link:
    """One link of the tick chain, handed to the host or to the worker.

    The loop never keeps a reference to its links: only the host's queue (or
    the worker, while it waits) does. So if the host drops a link without
    running it, which means the host stopped under a live guest, ``__del__``
    sees it and the run is reported as abandoned instead of hanging silently.

    To the host it is a plain callable: it has the ``__name__``,
    ``__qualname__`` and ``__module__`` a function has (tkinter's ``after``
    builds a Tcl command name from ``__name__``), and its repr names the run.
    """

    __slots__ = ("_epoch", "_loop", "_run_id")

    __name__ = "asyncio_guest_tick"

    def __init__(self, loop: GuestEventLoop, epoch: int) -> None:
        self._loop: Optional[GuestEventLoop] = loop
        self._epoch = epoch
        self._run_id = loop._guest_run_id

    def __getattr__(self, name: str) -> Any:
        # A class body cannot hold a plain-string ``__qualname__`` (type() takes
        # it for the class's own), so it is answered here, like a function's.
        if name == "__qualname__":
            return "asyncio_guest_tick"
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __call__(self) -> None:
        loop = self._loop
        if loop is not None:
            self._loop = None
            loop._guest_tick(self._epoch)

    def __del__(self) -> None:
        loop = self._loop
        if loop is not None:
            self._loop = None
            loop._guest_link_dropped(self._epoch)

    def __repr__(self) -> str:
        return f"<asyncio_guest tick of guest run {self._run_id}>"


class GuestEventLoop(asyncio.SelectorEventLoop):  # type: ignore[misc,valid-type]
    """An asyncio event loop that can run as a guest on another event loop.

    Used directly (``run_until_complete``, ``run_forever``, ``asyncio.Runner(
    loop_factory=GuestEventLoop)``) it drives itself on a minimal built-in host
    on the calling thread, still waiting for I/O on the worker thread. Most
    users call :func:`asyncio_guest.start_guest_run` instead, which creates one.
    """

    _selector: _core.Selector

    def __init__(self, selector: None = None) -> None:
        # Closed until the parent's __init__ has run: if construction fails
        # before that, BaseEventLoop.__del__ finds a closed loop and stays quiet.
        self._closed = True
        if selector is not None:
            raise TypeError(
                f"GuestEventLoop always uses its own poller (asyncio_guest._core.Selector), "
                f"which its I/O worker and the host's fd watch wait on; got selector={selector!r}. "
                f"Create it as GuestEventLoop() (selector=None is accepted)."
            )
        own_selector = _core.Selector()
        try:
            super().__init__(selector=own_selector)  # type: ignore[arg-type]
        except BaseException:
            self._closed = True
            own_selector.close()
            raise
        # Bumped at the start and end of every guest run; a link carries the
        # epoch it was made in, so a link from a finished run is ignored.
        self._guest_epoch = 0
        self._guest_active = False
        self._guest_in_tick = False
        # Set while a host hook is being called from this loop's thread: a link
        # that runs then was called inline by the hook instead of queued.
        self._guest_posting = False
        #: The error of a host hook that ran a tick inline (or on the wrong thread).
        self._guest_hook_misuse: Optional[RuntimeError] = None
        # Names the run in the links' repr (the host sees them in its queue).
        self._guest_run_id = 0
        self._guest_threadsafe: Optional[Hook] = None
        self._guest_not_threadsafe: Optional[Hook] = None
        self._guest_on_stop: Optional[Callable[[Optional[BaseException]], None]] = None
        # Thread-free mode: the host watches the poller's fd itself.
        self._guest_wait_readable: Optional[WaitReadable] = None
        self._guest_poller_fd = -1
        self._guest_cancel_wait: Optional[Callable[[], object]] = None
        # The asyncio loop that was running on this thread when the run
        # started (an asyncio host), or None for a non-asyncio host.
        self._guest_host_loop: Optional[asyncio.AbstractEventLoop] = None
        self._guest_old_agen_hooks: Any = None
        self._guest_armed_deadline = math.inf
        self._guest_owns_wakeup_fd = False
        self._guest_ticks = 0
        self._guest_last_io = -math.inf
        self._guest_abandoned_off_thread = False
        self._guest_sniffio_local: Any = None
        #: Longest stretch (seconds) of loop iterations run in one host callback.
        #: 0 means exactly one iteration per host callback.
        self.guest_time_slice = DEFAULT_TIME_SLICE
        #: How long after the last I/O event the guest keeps waiting for more
        #: on the host thread (in slices) before handing the wait to the
        #: worker or the host's fd watch. 0 disables it.
        self.guest_inline_wait = DEFAULT_INLINE_WAIT
        #: Blocking use (run_forever, run_until_complete): the built-in host
        #: waits for I/O itself (True), or hands every wait to the worker thread.
        self.guest_thread_free = True
        self._guest_nested_loop_check = DEFAULT_NESTED_LOOP_CHECK
        #: Called on the host thread when the run must end while the host runs nested
        #: loops inside a guest tick (the run can only finish once they return).
        self.guest_end_nested_loops: Optional[Callable[[], object]] = None
        # Ticks inside a tick (see _nested): the frozen iterations, outermost first.
        # (One list object for the loop's life: the batch keeps a local reference.)
        self._guest_levels: list[Any] = []
        self._guest_nested_error: Optional[BaseException] = None
        self._guest_nested_loops = 0

    @property
    def guest_nested_loop_check(self) -> float:
        """Seconds a loop iteration may stay stuck before the guest looks for a nested
        host loop (a task called a blocking dialog) and runs its ticks inside it (see
        docs/modal.md); 0 turns it off. Takes effect at once, also during a run."""
        return self._guest_nested_loop_check

    @guest_nested_loop_check.setter
    def guest_nested_loop_check(self, seconds: float) -> None:
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
            raise TypeError(f"guest_nested_loop_check must be a number of seconds, got {seconds!r}")
        if not 0 <= seconds <= 60:
            raise ValueError(f"guest_nested_loop_check must be between 0 and 60 s, got {seconds!r}")
        self._guest_nested_loop_check = float(seconds)
        if self._guest_active and self._guest_threadsafe is not None:
            if seconds > 0:
                self._selector.set_watchdog(seconds, self._guest_threadsafe, self._guest_probe)
            else:
                self._selector.set_watchdog(0)

    # ------------------------------------------------------------------
    # Blocking use: the minimal built-in host on the calling thread.

    def run_forever(self) -> None:
        from asyncio_guest.hosts.builtin import QueueHost

        # The stock checks and messages: a blocking run inside another running
        # loop (guest or not) would block that loop.
        self._check_closed()
        self._check_running()
        host = QueueHost(thread_free=self.guest_thread_free)
        errors: list[Optional[BaseException]] = []

        def on_stop(exc: Optional[BaseException]) -> None:
            errors.append(exc)
            host.stop()

        self._guest_begin(
            host.run_sync_soon_threadsafe,
            host.run_sync_soon_not_threadsafe,
            on_stop,
            host.wait_readable,
        )
        try:
            host.mainloop()
        finally:
            # Normally a no-op. If the host loop itself was interrupted
            # (KeyboardInterrupt while it waited), end the run here, leaving the
            # loop reusable, as the stock loop does.
            self._guest_end()
        if errors and errors[0] is not None:
            exc = errors[0]
            try:
                raise exc
            finally:
                del exc

    # ------------------------------------------------------------------
    # Wakeups for work created by host code while the worker waits.

    def _guest_call_soon_and_wake(self, callback: Any, *args: Any, context: Any = None) -> Any:
        handle = super().call_soon(callback, *args, context=context)
        self._guest_wake()
        return handle

    def _guest_call_at_and_wake(
        self, when: float, callback: Any, *args: Any, context: Any = None
    ) -> Any:
        timer = super().call_at(when, callback, *args, context=context)
        if when < self._guest_armed_deadline:
            self._guest_wake()
        return timer

    def _guest_stop_and_wake(self) -> None:
        super().stop()
        self._guest_wake()

    def _guest_install_wakers(self) -> None:
        d = self.__dict__
        d["call_soon"] = self._guest_call_soon_and_wake
        d["call_at"] = self._guest_call_at_and_wake
        d["stop"] = self._guest_stop_and_wake

    def _guest_remove_wakers(self) -> None:
        d = self.__dict__
        d.pop("call_soon", None)
        d.pop("call_at", None)
        d.pop("stop", None)

    def _guest_wake(self) -> None:
        self._guest_remove_wakers()
        if self._guest_wait_readable is not None:
            self._selector.notify()  # makes the watched poller fd readable
        else:
            self._selector.wakeup()

    def remove_signal_handler(self, sig: int) -> bool:
        removed: bool = super().remove_signal_handler(sig)
        if self._guest_owns_wakeup_fd and threading.current_thread() is threading.main_thread():
            # The stock loop clears the wakeup fd when its last handler goes;
            # the guest run still needs it to wake the worker on signals.
            signal.set_wakeup_fd(self._csock.fileno(), warn_on_full_buffer=False)  # type: ignore[attr-defined]
        return removed

    # ------------------------------------------------------------------
    # The driver. Everything below runs on the host thread.

    def _guest_begin(
        self,
        run_sync_soon_threadsafe: Hook,
        run_sync_soon_not_threadsafe: Hook,
        on_stop: Callable[[Optional[BaseException]], None],
        wait_readable: Optional[WaitReadable] = None,
    ) -> None:
        """Start driving this loop from a host; the first tick is posted, not run."""
        self._check_closed()
        if self.is_running() or self._guest_active:
            raise RuntimeError("This event loop is already running")
        check_no_active_run()
        thread_id = threading.get_ident()
        host_loop = events._get_running_loop()
        if host_loop is self:
            raise RuntimeError("This event loop is already running")
        self._guest_host_loop = host_loop
        self._guest_threadsafe = run_sync_soon_threadsafe
        self._guest_not_threadsafe = run_sync_soon_not_threadsafe
        self._guest_on_stop = on_stop
        self._guest_wait_readable = None
        if wait_readable is not None:
            try:
                self._guest_poller_fd = self._selector.fileno()
            except NotImplementedError:
                pass  # no pollable poller fd here (Windows): use the worker thread
            else:
                self._guest_wait_readable = wait_readable
        self._thread_id = thread_id
        self._set_coroutine_origin_tracking(self._debug)
        self._guest_old_agen_hooks = sys.get_asyncgen_hooks()
        if host_loop is None:
            # A non-asyncio host: be the running loop for the whole run, so host
            # callbacks can use get_running_loop() / create_task().
            sys.set_asyncgen_hooks(
                firstiter=self._asyncgen_firstiter_hook, finalizer=self._asyncgen_finalizer_hook
            )
            events._set_running_loop(self)
        sniffio = sys.modules.get("sniffio")
        self._guest_sniffio_local = getattr(sniffio, "thread_local", None)
        self._selector.set_guest_mode(True)
        self._guest_epoch += 1
        self._guest_run_id = next(_run_ids)
        self._guest_hook_misuse = None
        self._guest_active = True
        _active[thread_id] = self
        if self.guest_nested_loop_check > 0:
            self._selector.set_watchdog(
                self.guest_nested_loop_check, run_sync_soon_threadsafe, self._guest_probe
            )
        try:
            self._guest_post(run_sync_soon_not_threadsafe, _Link(self, self._guest_epoch))
        except BaseException:
            self._guest_end()
            raise

    def _guest_post(self, hook: Callable[..., object], *args: Any) -> Any:
        """Call a host hook from the host thread, noticing a tick it runs inline."""
        self._guest_posting = True
        try:
            result = hook(*args)
        finally:
            self._guest_posting = False
        misuse = self._guest_hook_misuse
        if misuse is not None:
            # The hook may have swallowed the error its inline call raised.
            raise misuse
        return result

    def _guest_refuse_tick(self, message: str) -> None:
        """A host hook ran a tick where it must not: record it and raise it to the hook."""
        misuse = RuntimeError(message)
        if self._guest_hook_misuse is None:
            self._guest_hook_misuse = misuse
        if threading.get_ident() != self._thread_id:
            # On the worker thread (its threadsafe hook called the link inline):
            # no tick may run here, and the host thread cannot be reached, so
            # the run is abandoned like one whose threadsafe hook failed.
            self._guest_abandon_off_thread(message)
        raise misuse

    def _guest_tick(self, epoch: int) -> None:
        """One host callback: a batch of loop iterations, then the next link."""
        if epoch != self._guest_epoch or not self._guest_active:
            return  # a link from a run that has ended
        if threading.get_ident() != self._thread_id:
            self._guest_refuse_tick(_WRONG_THREAD_MESSAGE)
        if self._guest_posting:
            self._guest_refuse_tick(_INLINE_MESSAGE)
        if self._guest_in_tick:
            # A tick is on the stack and is not posting: the host runs a nested loop
            # inside a loop iteration, and this link runs in it (see _nested).
            if _nested.run_nested_tick(self, probe=False):
                return
            self._guest_refuse_tick(_INLINE_MESSAGE)
        self._guest_remove_wakers()
        self._guest_cancel_wait = None  # the host's watch fired: it is over
        host_loop = self._guest_host_loop
        if host_loop is not None:
            # An asyncio host: we are the running loop (and own the asyncgen
            # hooks) only while our tick runs.
            host_hooks = sys.get_asyncgen_hooks()
            events._set_running_loop(self)
            sys.set_asyncgen_hooks(
                firstiter=self._asyncgen_firstiter_hook, finalizer=self._asyncgen_finalizer_hook
            )
        # sniffio's thread-local name wins over its asyncio detection; a host
        # that sets it (a Trio host does) keeps it for its own callbacks only.
        sniffio_local = self._guest_sniffio_local
        if sniffio_local is not None:
            host_library = sniffio_local.name
            sniffio_local.name = None
        self._guest_in_tick = True
        try:
            next_step = self._guest_run_batch()
        except BaseException as exc:
            next_step = exc
        finally:
            self._guest_in_tick = False
            if host_loop is not None:
                events._set_running_loop(host_loop)
                sys.set_asyncgen_hooks(*host_hooks)
            if sniffio_local is not None:
                sniffio_local.name = host_library
        if next_step is None:
            return
        if next_step is _STOPPED:
            self._guest_finish(None)
        else:
            self._guest_finish(next_step)  # type: ignore[arg-type]

    def _guest_run_batch(self) -> object:
        """Run loop iterations for at most one time slice, then queue the next link.

        Each iteration is exactly one inherited ``_run_once()``. Iterations go on
        in this host callback while work is ready and the slice lasts; then the
        host gets control back. With nothing ready: a timer due within
        TIMER_TAIL is waited for here, precisely; a guest that saw I/O less
        than ``guest_inline_wait`` seconds ago waits for more *on this thread*
        until that window closes or the slice ends, so request/response
        traffic rarely pays for a thread hop. Otherwise the wait goes to the
        worker (or the host's fd watch).

        Returns None when the next link is queued, or _STOPPED.
        """
        selector = self._selector
        run_once = self._run_once
        clock = time.monotonic
        slice_end = clock() + self.guest_time_slice
        epoch = self._guest_epoch
        self._guest_ticks += 1
        inline = self.guest_inline_wait
        # The same list for the loop's life (mutated in place): a local test is free.
        levels = self._guest_levels
        while True:
            run_once()
            if levels:
                # This iteration may have been frozen under a nested host loop (_nested).
                step = _nested.after_iteration(self)
                if step is not _nested.CONTINUE:
                    return step
            if self._stopping:
                return _STOPPED
            if selector.last_event_count:
                self._guest_last_io = clock()
            if self._ready or selector.poll_ready():
                if clock() < slice_end:
                    continue
                self._guest_post(self._guest_not_threadsafe, _Link(self, epoch))
                return None
            timeout, deadline = self._guest_next_timeout()
            if timeout is not None and timeout <= TIMER_TAIL:
                # A timer is due or nearly so: wait for it precisely, here
                # (at most TIMER_TAIL; I/O ends the wait too), and run it.
                if timeout > self._clock_resolution:
                    selector.poll_ready(timeout)
                if clock() < slice_end:
                    continue
                self._guest_post(self._guest_not_threadsafe, _Link(self, epoch))
                return None
            # The inline window: for `inline` seconds after the last I/O event,
            # more is likely on its way (a request/response peer), so wait for
            # it here instead of paying two thread hops for a worker wait.
            # Never past the slice: then the wait goes to the worker (or the
            # host's fd watch) as below, which empties the host's queue of our
            # posts, so hosts that rank posted work above their timers
            # (Win32's WM_TIMER) still run them while I/O streams in.
            wait = min(self._guest_last_io + inline, slice_end) - clock()
            if wait > 0:
                if selector.poll_ready(wait if timeout is None else min(wait, timeout)):
                    continue
                if timeout is not None and wait >= timeout:
                    continue  # the timer is due
            self._guest_armed_deadline = deadline
            self._guest_install_wakers()
            wait_readable = self._guest_wait_readable
            if wait_readable is not None:
                selector.park_watchdog()  # idle: nothing can be stuck until the next tick
                # Ask the host's (millisecond) timer to fire up to TIMER_TAIL
                # early; the tick then waits out the rest precisely, above.
                self._guest_cancel_wait = self._guest_post(
                    wait_readable,
                    self._guest_poller_fd,
                    None if timeout is None else timeout - TIMER_TAIL,
                    _Link(self, epoch),
                )
            else:
                selector.arm(timeout, self._guest_threadsafe, _Link(self, epoch))
            return None

    def _guest_next_timeout(self) -> tuple[Optional[float], float]:
        """Seconds until the earliest live timer (None: no timer), and its deadline."""
        scheduled = self._scheduled
        # Drop cancelled timers at the head so they do not cause early wakeups
        # (the same hygiene _run_once applies at its start).
        while scheduled and scheduled[0]._cancelled:
            self._timer_cancelled_count -= 1
            handle = heapq.heappop(scheduled)
            handle._scheduled = False
        if not scheduled:
            return None, math.inf
        deadline: float = scheduled[0]._when
        return min(max(0.0, deadline - self.time()), _MAX_TIMEOUT), deadline

    def _guest_finish(self, exc: Optional[BaseException]) -> None:
        on_stop = self._guest_on_stop
        self._guest_end()
        if on_stop is not None:
            on_stop(exc)

    def _guest_end(self) -> None:
        """Undo everything _guest_begin did. Host thread; idempotent."""
        if not self._guest_active:
            return
        self._guest_active = False
        self._guest_epoch += 1
        self._guest_remove_wakers()
        cancel_wait, self._guest_cancel_wait = self._guest_cancel_wait, None
        self._guest_wait_readable = None
        if cancel_wait is not None:
            cancel_wait()  # the host drops its watch (and the now-stale link)
        self._selector.set_watchdog(0)
        _nested.reset(self)
        self._guest_on_stop = None
        self._guest_threadsafe = self._guest_not_threadsafe = None
        if _active.get(self._thread_id) is self:  # type: ignore[arg-type]
            del _active[self._thread_id]  # type: ignore[arg-type]
        if self._selector.worker_waiting and not self._selector.disarm():
            warnings.warn(
                RuntimeWarning("asyncio_guest: the I/O worker did not return within 5 s"),
                stacklevel=2,
            )
        self._selector.set_guest_mode(False)
        self._stopping = False
        self._thread_id = None
        if self._guest_host_loop is None:
            # Unconditionally, like the stock loop: nothing else may be running
            # here, and _get_running_loop itself may be patched (3.9's tests do).
            events._set_running_loop(None)
            sys.set_asyncgen_hooks(*self._guest_old_agen_hooks)
        self._guest_host_loop = None
        self._set_coroutine_origin_tracking(False)

    def _guest_move_to_host(
        self,
        run_sync_soon_threadsafe: Hook,
        run_sync_soon_not_threadsafe: Hook,
        on_stop: Callable[[Optional[BaseException]], None],
        wait_readable: Optional[WaitReadable],
    ) -> None:
        """Drive the live run from another host on this thread from now on.

        For a host loop that ended under a live guest. Links the old host still
        holds become stale: they never run, and dropping them is no abandonment.
        """
        if not self._guest_active:
            raise RuntimeError("no guest run is active on this loop")
        if threading.get_ident() != self._thread_id:
            raise RuntimeError("a guest run can only move to a host on its own thread")
        if self._guest_in_tick:
            raise RuntimeError("a guest run cannot move to another host from inside a tick")
        self._guest_epoch += 1
        self._guest_remove_wakers()
        cancel_wait, self._guest_cancel_wait = self._guest_cancel_wait, None
        if cancel_wait is not None:
            try:
                cancel_wait()
            except Exception:
                # The old host is gone and may not survive being asked; all its
                # watch can still do is run a link that is now stale.
                pass
        if self._selector.worker_waiting and not self._selector.disarm():
            warnings.warn(
                RuntimeWarning("asyncio_guest: the I/O worker did not return within 5 s"),
                stacklevel=2,
            )
        self._guest_threadsafe = run_sync_soon_threadsafe
        self._guest_not_threadsafe = run_sync_soon_not_threadsafe
        self._guest_on_stop = on_stop
        self._guest_wait_readable = None
        if wait_readable is not None:
            try:
                self._guest_poller_fd = self._selector.fileno()
            except NotImplementedError:
                pass
            else:
                self._guest_wait_readable = wait_readable
        if self.guest_nested_loop_check > 0:
            self._selector.set_watchdog(
                self.guest_nested_loop_check, run_sync_soon_threadsafe, self._guest_probe
            )
        if self._guest_host_loop is not None:
            # The asyncio host loop has ended: the new host is not asyncio, so
            # the guest is the running loop for the rest of the run.
            self._guest_host_loop = None
            self._guest_old_agen_hooks = sys.get_asyncgen_hooks()
            sys.set_asyncgen_hooks(
                firstiter=self._asyncgen_firstiter_hook, finalizer=self._asyncgen_finalizer_hook
            )
            events._set_running_loop(self)
        try:
            self._guest_post(run_sync_soon_not_threadsafe, _Link(self, self._guest_epoch))
        except BaseException as exc:
            self._guest_finish(exc)  # the outcome carries it

    def _guest_probe(self) -> None:
        """Posted by the worker's watchdog when an iteration stopped progressing.

        If it runs while that iteration is still on the stack, the host is running
        its loop from *inside* guest code (a nested host loop): it becomes the first
        tick that runs inside it (see _nested).
        """
        if threading.get_ident() != self._thread_id:
            # The threadsafe hook called the probe inline on the worker thread:
            # there is no host stack here, and nothing to do.
            return
        if self._guest_active and self._guest_in_tick:
            _nested.run_nested_tick(self, probe=True)

    def _guest_request_end_of_nested_loops(self) -> None:
        """The run must end, but host loops nested in a tick are still running."""
        end = self.guest_end_nested_loops
        if end is not None and self._guest_levels:
            end()

    def _guest_link_dropped(self, epoch: int) -> None:
        """A link was garbage-collected without being run: the chain is broken."""
        if epoch != self._guest_epoch or not self._guest_active:
            return
        on_host = threading.get_ident() == self._thread_id
        if on_host:
            message = (
                "asyncio guest run got abandoned without properly finishing: the host "
                "dropped a pending tick (did the host loop stop, or a host callback fail, "
                "before done_callback was called?). Pending guest tasks were dropped."
            )
        else:
            message = (
                "asyncio guest run got abandoned: the host's run_sync_soon_threadsafe "
                "failed on the I/O worker thread (see the exception above), so no tick "
                "can reach the host any more. done_callback cannot be called from this "
                "thread; the run's state on the host thread is cleaned up the next time "
                "asyncio_guest is used there. Pending guest tasks were dropped."
            )
        warnings.warn(RuntimeWarning(message), stacklevel=1)
        if on_host:
            on_stop = self._guest_on_stop
            self._guest_end()
            if on_stop is not None:
                on_stop(GuestRunAbandoned("the host dropped a pending guest tick"))
        else:
            self._guest_abandon_off_thread(None)

    def _guest_abandon_off_thread(self, message: Optional[str]) -> None:
        """The chain broke on the worker thread; finish on the host thread later."""
        if message is not None:
            warnings.warn(
                RuntimeWarning(
                    "asyncio guest run got abandoned: " + message + " No tick can reach "
                    "the host any more; the run's state on the host thread is cleaned up "
                    "the next time asyncio_guest is used there. Pending guest tasks "
                    "were dropped."
                ),
                stacklevel=1,
            )
        # The host-thread state (running loop, signal handlers, the
        # one-run-per-thread slot) can only be reset on the host thread.
        self._guest_abandoned_off_thread = True
        self._guest_epoch += 1
        _abandoned_elsewhere.append(self)

    def abandon_guest_run(self) -> None:
        """End the current guest run now, because its host stopped for good.

        For a host loop that returned before ``done_callback`` was called (it was
        stopped or quit under a live guest). Call it on the host thread. Pending
        guest tasks are dropped, not run; the running loop, async generator hooks
        and signal handling are restored, the loop is closed and its worker thread
        joined, so the thread can host a new run. ``done_callback`` is not called.
        A no-op if no run is active.
        """
        if not self._guest_active:
            return
        if threading.get_ident() != self._thread_id:
            raise RuntimeError("abandon_guest_run() must be called on the guest's host thread")
        on_stop = self._guest_on_stop
        self._guest_end()
        if on_stop is not None:
            on_stop(GuestRunAbandoned("the host loop stopped before the guest run finished"))

    def post_to_host(self, fn: Callable[[], object]) -> None:
        """Run ``fn()`` soon on the host thread, as a host callback (outside any tick).

        Only valid during a guest run, from the host thread.
        """
        if not self._guest_active or self._guest_not_threadsafe is None:
            raise RuntimeError("post_to_host() needs an active guest run")
        self._guest_not_threadsafe(fn)

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


class GuestRunAbandoned(RuntimeError):
    """The host dropped the guest's pending tick before the run finished."""


#: Loops whose run was abandoned from a non-host thread, cleaned up lazily.
_abandoned_elsewhere: list[GuestEventLoop] = []


def _forget_runs_after_fork() -> None:
    # A forked child has one thread and none of the parent's runs: the parent's
    # bookkeeping must not make it look busy. (The Rust workers know their
    # process id and are left alone in the child.)
    _active.clear()
    _abandoned_elsewhere.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_runs_after_fork)


def check_no_active_run() -> None:
    """Refuse a second guest run on this thread (after collecting abandoned ones)."""
    _collect_abandoned()
    if threading.get_ident() in _active:
        raise RuntimeError(
            "a guest run is already active on this thread; run several things inside "
            "one guest run (asyncio.create_task / TaskGroup) instead"
        )


def _collect_abandoned() -> None:
    """Finish cleaning up, on this thread, runs abandoned from another thread."""
    here = threading.get_ident()
    for loop in list(_abandoned_elsewhere):
        if loop._thread_id == here:
            _abandoned_elsewhere.remove(loop)
            loop._guest_abandoned_off_thread = False
            on_stop = loop._guest_on_stop
            loop._guest_end()
            if on_stop is not None:
                on_stop(GuestRunAbandoned("the host's threadsafe hook failed"))


# selectors.BaseSelector is an ABC: make the Rust selector count as one, so code
# that checks isinstance(loop._selector, BaseSelector) sees what it expects.
# (BaseSelector defines its own `register`, so call ABCMeta's explicitly.)
abc.ABCMeta.register(selectors.BaseSelector, _core.Selector)
collections.abc.Mapping.register(_core.SelectorMapping)
