"""The driver of one guest run: hooks, links, batches, context, signals, wait mode.

A guest run is driven by exactly one :class:`GuestDriver`, created when the run
starts and dropped when it ends. "A run is active on this thread" means "a
driver is registered for this thread"; nothing else keeps that state.

Threads and the one link in flight::

    host thread                                   worker thread (Rust)
    ───────────                                   ────────────────────
    host loop ── Link() ─▶ GuestDriver.tick()
                           │ batch: loop._run_once() x N (≤ time_slice)
                           ├─ work ready ─▶ run_sync_soon_not_threadsafe(Link)
                           │                 (the next tick, no thread hop)
                           ├─ idle, worker mode ─▶ selector.arm(timeout, ...) ─▶ OS wait, no GIL
                           │                                                        │
                           │  ◀──────────── run_sync_soon_threadsafe(Link) ─────────┘
                           └─ idle, host-watch mode ─▶ wait_readable(poller fd, timeout, Link)
                                 (the host's own fd watch; no thread at all)
    host code adds work while idle ─▶ GuestDriver.wake()  (ends either kind of wait)

A :class:`Link` is one step of that chain. The driver never keeps a reference
to its links: only the host's queue, the host's fd watch or the worker holds
the one in flight. If the host drops it without running it, its ``__del__``
reports the run as abandoned instead of letting it hang silently. A link is
*stale* when its driver is no longer the loop's current one (the run ended,
or moved to another host): it then does nothing, whether run or dropped.
"""

from __future__ import annotations

import asyncio
import copy
import itertools
import math
import os
import signal
import sys
import threading
import time
import warnings
from typing import TYPE_CHECKING, Any, Callable, Optional

from asyncio_guest import _compat, _nested

if TYPE_CHECKING:
    from asyncio_guest._loop import GuestEventLoop

Hook = Callable[[Callable[[], object]], object]
#: wait_readable(fd, timeout, fn) -> cancel: the host-watch mode's host hook.
WaitReadable = Callable[[int, Optional[float], Callable[[], object]], Callable[[], object]]

#: asyncio's own cap on one wait (``base_events.MAXIMUM_SELECT_TIMEOUT``).
_MAX_TIMEOUT = 24 * 3600

#: Default time slice: several loop iterations may run in one host callback, for
#: at most this long. Well under a 16 ms frame, so the host stays responsive.
DEFAULT_TIME_SLICE = 0.002

#: Default inline wait (see start_guest_run's ``inline_wait``). Windows lock and
#: poller waits on the host thread round up to the ~15.6 ms system tick, which
#: would turn a 2 ms window into a frame-long stall of the GUI: there the
#: inline wait is off by default, and every wait goes to the worker.
DEFAULT_INLINE_WAIT = 0.0 if os.name == "nt" else 0.002

#: A timer this close is waited out on the host thread (precisely, GIL
#: released) instead of by a host timer: GUI toolkits' timers have 1 ms
#: granularity, so a host wait is asked to end this much early.
TIMER_TAIL = 0.001

#: Default threshold of the nested-host-loop check (GuestEventLoop.guest_nested_loop_check):
#: how long other tasks may stay frozen when a task enters a nested host loop (calls a
#: modal dialog directly) before guest ticks start running inside it (see _nested).
DEFAULT_NESTED_LOOP_CHECK = 0.05

#: The two ways an idle guest waits for I/O.
WORKER = "worker"
HOST_WATCH = "host-watch"

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
_WAKEUP_FD_COLLISION = (
    "asyncio_guest: the host had set signal.set_wakeup_fd(); the guest run replaces it "
    "for its duration and signal handling code might have collided. If the host owns "
    "the wakeup fd (Qt, GTK and asyncio hosts often do), pass "
    "host_uses_signal_set_wakeup_fd=True."
)


class GuestRunAbandoned(RuntimeError):
    """The host dropped the guest's pending tick before the run finished.

    ``done_callback`` receives it as ``outcome.Error(GuestRunAbandoned(...))`` when a
    host stops or drops the guest's queued tick while the run is still active; the
    guest's tasks then get no chance to clean up. Stop the host only from
    ``done_callback`` (or use a ``hosts.<name>.run``, which finishes the run itself).

    Example:
        ```python
        def done_callback(result: outcome.Outcome) -> None:
            if isinstance(result, outcome.Error) and isinstance(
                result.error, asyncio_guest.GuestRunAbandoned
            ):
                log.warning("the host loop ended under a live guest run")
        ```
    """


#: Numbers the guest runs of this process (named in the links' repr).
_run_ids = itertools.count(1)

#: The driver of the guest run active on each host thread.
_active: dict[int, GuestDriver] = {}

#: Drivers whose run broke on the worker thread, ended lazily on their host thread.
_abandoned_elsewhere: list[GuestDriver] = []


class Link:
    """One link of the tick chain, handed to the host or to the worker.

    To the host it is a plain callable: it has the ``__name__``,
    ``__qualname__`` and ``__module__`` a function has (tkinter's ``after``
    builds a Tcl command name from ``__name__``), and its repr names the run.
    """

    __slots__ = ("_driver", "_run_id")

    __name__ = "asyncio_guest_tick"

    def __init__(self, driver: GuestDriver) -> None:
        self._driver: Optional[GuestDriver] = driver
        self._run_id = driver.run_id

    def __getattr__(self, name: str) -> Any:
        # A class body cannot hold a plain-string ``__qualname__`` (type() takes
        # it for the class's own), so it is answered here, like a function's.
        if name == "__qualname__":
            return "asyncio_guest_tick"
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __call__(self) -> None:
        driver = self._driver
        if driver is not None:
            self._driver = None
            driver.tick()

    def __del__(self) -> None:
        driver = self._driver
        if driver is not None:
            self._driver = None
            driver.link_dropped()

    def __repr__(self) -> str:
        return f"<asyncio_guest tick of guest run {self._run_id}>"


def driver_for(loop: GuestEventLoop) -> Optional[GuestDriver]:
    """The driver of the loop's live guest run, or None."""
    return loop._guest_driver


def check_no_active_run() -> None:
    """Refuse a second guest run on this thread (after ending abandoned ones here)."""
    _collect_abandoned()
    if threading.get_ident() in _active:
        raise RuntimeError(
            "a guest run is already active on this thread; run several things inside "
            "one guest run (asyncio.create_task / TaskGroup) instead"
        )


def _collect_abandoned() -> None:
    """End, on this thread, the runs whose chain broke on the worker thread."""
    here = threading.get_ident()
    for driver in list(_abandoned_elsewhere):
        if driver.host_thread == here:
            _abandoned_elsewhere.remove(driver)
            driver.finish(GuestRunAbandoned("the host's threadsafe hook failed"))


def _forget_runs_after_fork() -> None:
    # A forked child has one thread and none of the parent's runs: the parent's
    # bookkeeping must not make it look busy. (The Rust workers know their
    # process id and are left alone in the child.)
    _active.clear()
    _abandoned_elsewhere.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_runs_after_fork)


class GuestDriver:
    """Drives one guest run of a :class:`GuestEventLoop` from a host loop.

    Everything here runs on the host thread, except :meth:`link_dropped` and
    :meth:`tick`, which a broken host may call elsewhere (both notice it).
    """

    def __init__(
        self,
        loop: GuestEventLoop,
        run_sync_soon_threadsafe: Hook,
        run_sync_soon_not_threadsafe: Hook,
        on_stop: Callable[[Optional[BaseException]], None],
        wait_readable: Optional[WaitReadable],
    ) -> None:
        self.loop = loop
        self.selector = loop._selector
        self.run_id = next(_run_ids)
        self.host_thread = threading.get_ident()
        self.threadsafe = run_sync_soon_threadsafe
        self.not_threadsafe = run_sync_soon_not_threadsafe
        self.on_stop: Optional[Callable[[Optional[BaseException]], None]] = on_stop
        self.wait_mode = WORKER
        self.wait_readable: Optional[WaitReadable] = None
        self.poller_fd = -1
        self._choose_wait_mode(wait_readable)
        # The host's fd watch that holds the link (host-watch mode), or None.
        self.cancel_wait: Optional[Callable[[], object]] = None
        # The asyncio loop that was running on this thread when the run
        # started (an asyncio host), or None for a non-asyncio host.
        self.host_loop: Optional[asyncio.AbstractEventLoop] = None
        self.old_agen_hooks: Any = None
        self.sniffio_local: Any = None
        self.in_tick = False
        # Set while a host hook is called from the host thread: a link that runs
        # then was called inline by the hook instead of queued.
        self.posting = False
        #: The error of a host hook that ran a tick inline (or on the wrong thread).
        self.hook_misuse: Optional[RuntimeError] = None
        # The deadline of the wait the worker / host watch holds (for call_at).
        self.armed_deadline = math.inf
        self.last_io = -math.inf
        self.abandoned_off_thread = False
        self.nested_loop_check = True
        # Ticks inside a tick (see _nested): the frozen iterations, outermost first
        # (one list for the run: a batch keeps a local reference), the error or stop
        # of a nested tick that the outermost tick completes, and the host's way to
        # end its nested loops when the run must end (start_guest_run).
        self.levels: list[_nested.Level] = []
        self.nested_error: Optional[BaseException] = None
        self.end_nested_loops: Optional[Callable[[], object]] = None
        # Signal handling (main thread only; see install_signal_handling).
        self.owns_wakeup_fd = False
        self._old_wakeup_fd: Optional[int] = None
        self._sigint_handler: Optional[Callable[[int, Any], None]] = None

    def _choose_wait_mode(self, wait_readable: Optional[WaitReadable]) -> None:
        self.wait_mode = WORKER
        self.wait_readable = None
        if wait_readable is None:
            return
        try:
            self.poller_fd = self.selector.fileno()
        except NotImplementedError:
            return  # no pollable poller fd here (Windows): use the worker thread
        self.wait_mode = HOST_WATCH
        self.wait_readable = wait_readable

    def on_host_thread(self) -> bool:
        return threading.get_ident() == self.host_thread

    @property
    def is_current(self) -> bool:
        """True while this driver's run is live (its links are not stale)."""
        return self.loop._guest_driver is self and not self.abandoned_off_thread

    # -- start -------------------------------------------------------------------

    def start(
        self,
        *,
        set_wakeup_fd: bool,
        on_sigint: Optional[Callable[[int, Any], None]] = None,
        warn_if_wakeup_fd_replaced: bool = False,
        nested_loop_check: bool = True,
    ) -> None:
        """Take over the loop for the run and post the first tick (never run it here).

        ``set_wakeup_fd``, ``on_sigint``: see :meth:`install_signal_handling`.
        ``nested_loop_check``: watch for ticks stuck in a nested host loop (the
        watchdog needs the worker thread; a host that cannot nest skips it).
        If anything fails, nothing of the run is left behind.
        """
        self.nested_loop_check = nested_loop_check
        loop = self.loop
        _compat.check_closed(loop)
        if loop.is_running() or loop._guest_driver is not None:
            raise RuntimeError("This event loop is already running")
        check_no_active_run()
        host_loop = _compat.get_running_loop()
        if host_loop is loop:
            raise RuntimeError("This event loop is already running")
        self.host_loop = host_loop
        if host_loop is None:
            # A non-asyncio host: the guest is the running loop for the whole
            # run, so host callbacks can use get_running_loop() / create_task().
            self._become_running_loop()
        else:
            # An asyncio host: the guest is the running loop only during its
            # ticks (see tick()); its thread id marks it as running meanwhile.
            _compat.set_thread_id(loop, self.host_thread)
            _compat.set_origin_tracking(loop, loop.get_debug())
        sniffio = sys.modules.get("sniffio")
        self.sniffio_local = getattr(sniffio, "thread_local", None)
        self.selector.set_guest_mode(True)
        loop._guest_driver = self
        _active[self.host_thread] = self
        try:
            self.install_signal_handling(set_wakeup_fd, on_sigint, warn_if_wakeup_fd_replaced)
            self._set_watchdog()
            self.post(self.not_threadsafe, Link(self))
        except BaseException:
            self.end()
            raise

    def _become_running_loop(self) -> None:
        loop = self.loop
        setup = _compat.run_forever_setup
        if setup is not None:
            # CPython's own setup, so state it adds in later versions is set too.
            _compat.set_thread_id(loop, None)
            setup(loop)
            return
        _compat.set_thread_id(loop, self.host_thread)
        _compat.set_origin_tracking(loop, loop.get_debug())
        self.old_agen_hooks = sys.get_asyncgen_hooks()
        firstiter, finalizer = _compat.asyncgen_hooks(loop)
        sys.set_asyncgen_hooks(firstiter=firstiter, finalizer=finalizer)
        _compat.set_running_loop(loop)

    def _stop_being_running_loop(self) -> None:
        loop = self.loop
        cleanup = _compat.run_forever_cleanup
        if cleanup is not None:
            cleanup(loop)
            return
        # Unconditionally, like the stock loop: nothing else may be running
        # here, and _get_running_loop itself may be patched (3.9's tests do).
        _compat.set_stopping(loop, False)
        _compat.set_thread_id(loop, None)
        _compat.set_running_loop(None)
        _compat.set_origin_tracking(loop, False)
        sys.set_asyncgen_hooks(*self.old_agen_hooks)

    def _set_watchdog(self) -> None:
        check = self.loop.guest_nested_loop_check
        if check > 0 and self.nested_loop_check:
            self.selector.set_watchdog(check, self.threadsafe, self.probe)

    # -- posting -------------------------------------------------------------------

    def post(self, hook: Callable[..., object], *args: Any) -> Any:
        """Call a host hook from the host thread, noticing a tick it runs inline."""
        self.posting = True
        try:
            result = hook(*args)
        finally:
            self.posting = False
        misuse = self.hook_misuse
        if misuse is not None:
            # The hook may have swallowed the error its inline call raised.
            raise misuse
        return result

    def _refuse_tick(self, message: str) -> None:
        """A host hook ran a tick where it must not: record it and raise it to the hook."""
        misuse = RuntimeError(message)
        if self.hook_misuse is None:
            self.hook_misuse = misuse
        if threading.get_ident() != self.host_thread:
            # On the worker thread (its threadsafe hook called the link inline):
            # no tick may run here, and the host thread cannot be reached, so
            # the run is abandoned like one whose threadsafe hook failed.
            self.abandon_off_thread(message)
        raise misuse

    # -- a tick --------------------------------------------------------------------

    def tick(self) -> None:
        """One host callback: a batch of loop iterations, then the next link."""
        if not self.is_current:
            return  # a stale link: the run ended or moved to another host
        if threading.get_ident() != self.host_thread:
            self._refuse_tick(_WRONG_THREAD_MESSAGE)
        if self.posting:
            self._refuse_tick(_INLINE_MESSAGE)
        if self.in_tick:
            # A tick is on the stack and is not posting: the host runs a nested loop
            # inside a loop iteration, and this link runs in it (see _nested).
            if _nested.run_nested_tick(self, probe=False):
                return
            self._refuse_tick(_INLINE_MESSAGE)
        loop = self.loop
        loop._guest_remove_wakers()
        self.cancel_wait = None  # the host's watch fired: it is over
        host_context = self.enter_guest_context()
        self.in_tick = True
        try:
            stopped = self._run_batch()
            error: Optional[BaseException] = None
        except BaseException as exc:
            stopped, error = True, exc
        finally:
            self.in_tick = False
            self.exit_guest_context(host_context)
        if stopped:
            self.finish(error)

    def enter_guest_context(self) -> Any:
        """Make this thread look like the guest's own: running loop, asyncgen hooks, sniffio.

        Returns what :meth:`exit_guest_context` restores. On an asyncio host
        the guest is the running loop (and owns the asyncgen hooks) only while
        guest code runs; on any other host it is for the whole run, and only
        sniffio's name needs switching.
        """
        host_loop = self.host_loop
        host_hooks = None
        if host_loop is not None:
            host_hooks = sys.get_asyncgen_hooks()
            _compat.set_running_loop(self.loop)
            firstiter, finalizer = _compat.asyncgen_hooks(self.loop)
            sys.set_asyncgen_hooks(firstiter=firstiter, finalizer=finalizer)
        # sniffio's thread-local name wins over its asyncio detection; a host
        # that sets it (a Trio host does) keeps it for its own callbacks only.
        sniffio_local = self.sniffio_local
        host_library = None
        if sniffio_local is not None:
            host_library = sniffio_local.name
            sniffio_local.name = None
        return host_loop, host_hooks, host_library

    def exit_guest_context(self, host_context: Any) -> None:
        host_loop, host_hooks, host_library = host_context
        if host_loop is not None:
            _compat.set_running_loop(host_loop)
            sys.set_asyncgen_hooks(*host_hooks)
        if self.sniffio_local is not None:
            self.sniffio_local.name = host_library

    def _run_batch(self) -> bool:
        """Run loop iterations for at most one time slice, then hand on the link.

        Each iteration is exactly one inherited ``_run_once()``. Iterations go on
        in this host callback while work is ready and the slice lasts; then the
        host gets control back. With nothing ready: a timer due within
        TIMER_TAIL is waited for here, precisely; a guest that saw I/O less
        than ``guest_inline_wait`` seconds ago waits for more *on this thread*
        until that window closes or the slice ends, so request/response
        traffic rarely pays for a thread hop. Otherwise the wait goes to the
        worker or the host's fd watch (the wait mode).

        Returns True when the loop was stopped (the run is over).
        """
        loop = self.loop
        selector = self.selector
        run_once = _compat.run_once(loop)
        ready = _compat.ready_queue(loop)
        clock = time.monotonic
        slice_end = clock() + loop.guest_time_slice
        loop._guest_ticks += 1
        inline = loop.guest_inline_wait
        levels = self.levels
        while True:
            run_once()
            if levels:
                # This iteration may have been frozen under a nested host loop (_nested).
                handed_over = _nested.after_iteration(self)
                if handed_over is not _nested.CONTINUE:
                    return bool(handed_over)
            if _compat.is_stopping(loop):
                return True
            if selector.last_event_count:
                self.last_io = clock()
            if ready or selector.poll_into_buffer():
                if clock() < slice_end:
                    continue
                self.post(self.not_threadsafe, Link(self))
                return False
            timeout, deadline = self._next_timeout()
            if timeout is not None and timeout <= TIMER_TAIL:
                # A timer is due or nearly so: wait for it precisely, here
                # (at most TIMER_TAIL; I/O ends the wait too), and run it.
                if timeout > _compat.clock_resolution(loop):
                    selector.poll_into_buffer(timeout)
                if clock() < slice_end:
                    continue
                self.post(self.not_threadsafe, Link(self))
                return False
            # The inline window: for `inline` seconds after the last I/O event,
            # more is likely on its way (a request/response peer), so wait for
            # it here instead of paying two thread hops for a worker wait.
            # Never past the slice: then the wait goes to the worker (or the
            # host's fd watch) as below, which empties the host's queue of our
            # posts, so hosts that rank posted work above their timers
            # (Win32's WM_TIMER) still run them while I/O streams in.
            wait = min(self.last_io + inline, slice_end) - clock()
            if wait > 0:
                if selector.poll_into_buffer(wait if timeout is None else min(wait, timeout)):
                    continue
                if timeout is not None and wait >= timeout:
                    continue  # the timer is due
            self._hand_over_wait(timeout, deadline)
            return False

    def _hand_over_wait(self, timeout: Optional[float], deadline: float) -> None:
        """Idle: the worker or the host's fd watch now holds the link."""
        self.armed_deadline = deadline
        self.loop._guest_install_wakers()
        if self.wait_mode == HOST_WATCH:
            assert self.wait_readable is not None
            # The host's watch now holds the link: wake() notifies the poller
            # fd, and the watchdog sleeps (nothing can be stuck until a tick).
            self.selector.arm_host_watch()
            # Ask the host's (millisecond) timer to fire up to TIMER_TAIL
            # early; the tick then waits out the rest precisely.
            self.cancel_wait = self.post(
                self.wait_readable,
                self.poller_fd,
                None if timeout is None else timeout - TIMER_TAIL,
                Link(self),
            )
        else:
            self.selector.arm(timeout, self.threadsafe, Link(self))

    def _next_timeout(self) -> tuple[Optional[float], float]:
        """Seconds until the earliest live timer (None: no timer), and its deadline."""
        deadline = _compat.pop_cancelled_timers(self.loop)
        if deadline is None:
            return None, math.inf
        return min(max(0.0, deadline - self.loop.time()), _MAX_TIMEOUT), deadline

    def wake(self) -> None:
        """Host code added work the pending wait does not know about: end the wait."""
        self.loop._guest_remove_wakers()
        # Either mode: the worker's wait returns, or the watched poller fd
        # becomes readable (the selector knows which one holds the link).
        self.selector.wake()

    # -- the end -----------------------------------------------------------------

    def finish(self, error: Optional[BaseException]) -> None:
        """The run is over: undo everything, then tell the run (on_stop), once."""
        on_stop = self.on_stop
        self.end()
        if on_stop is not None:
            on_stop(error)

    def end(self) -> None:
        """Undo everything start() did. Host thread; idempotent."""
        loop = self.loop
        if loop._guest_driver is not self:
            return
        self.on_stop = None
        self.abandoned_off_thread = False
        loop._guest_driver = None  # from here on, every link of this run is stale
        loop._guest_remove_wakers()
        cancel_wait, self.cancel_wait = self.cancel_wait, None
        if cancel_wait is not None:
            cancel_wait()  # the host drops its watch (and the now-stale link)
        self.selector.set_watchdog(0)
        _nested.reset(self)
        if _active.get(self.host_thread) is self:
            del _active[self.host_thread]
        self._take_link_from_worker()
        self.selector.set_guest_mode(False)
        self.restore_signal_handling()
        if self.host_loop is None:
            self._stop_being_running_loop()
        else:
            _compat.set_stopping(loop, False)
            _compat.set_thread_id(loop, None)
            _compat.set_origin_tracking(loop, False)
        self.host_loop = None

    def _take_link_from_worker(self) -> None:
        if self.selector.worker_waiting and not self.selector.disarm():
            warnings.warn(
                RuntimeWarning("asyncio_guest: the I/O worker did not return within 5 s"),
                stacklevel=3,
            )

    def move_to_host(
        self,
        run_sync_soon_threadsafe: Hook,
        run_sync_soon_not_threadsafe: Hook,
        on_stop: Callable[[Optional[BaseException]], None],
        wait_readable: Optional[WaitReadable],
    ) -> GuestDriver:
        """Drive the live run from another host on this thread; returns the new driver.

        For a host loop that ended under a live guest. The new driver replaces
        this one, so the links the old host still holds become stale: they
        never run, and dropping them is no abandonment.
        """
        loop = self.loop
        if not self.is_current:
            raise RuntimeError("no guest run is active on this loop")
        if threading.get_ident() != self.host_thread:
            raise RuntimeError("a guest run can only move to a host on its own thread")
        if self.in_tick:
            raise RuntimeError("a guest run cannot move to another host from inside a tick")
        loop._guest_remove_wakers()
        cancel_wait, self.cancel_wait = self.cancel_wait, None
        new = copy.copy(self)
        loop._guest_driver = new
        _active[self.host_thread] = new
        self.on_stop = None
        if cancel_wait is not None:
            try:
                cancel_wait()
            except Exception:
                # The old host is gone and may not survive being asked; all its
                # watch can still do is run a link that is now stale.
                pass
        self._take_link_from_worker()
        new.threadsafe = run_sync_soon_threadsafe
        new.not_threadsafe = run_sync_soon_not_threadsafe
        new.on_stop = on_stop
        new._choose_wait_mode(wait_readable)
        new._set_watchdog()
        if new.host_loop is not None:
            # The asyncio host loop has ended: the new host is not asyncio, so
            # the guest is the running loop for the rest of the run.
            new.host_loop = None
            new._become_running_loop()
        try:
            new.post(new.not_threadsafe, Link(new))
        except BaseException as exc:
            new.finish(exc)  # the outcome carries it
        return new

    def probe(self) -> None:
        """Posted by the worker's watchdog when an iteration stopped progressing.

        If it runs while that iteration is still on the stack, the host is running
        its loop from *inside* guest code (a nested host loop): it becomes the first
        tick that runs inside it (see _nested).
        """
        if threading.get_ident() != self.host_thread:
            # The threadsafe hook called the probe inline on the worker thread:
            # there is no host stack here, and nothing to do.
            return
        if self.is_current and self.in_tick:
            _nested.run_nested_tick(self, probe=True)

    def request_end_of_nested_loops(self) -> None:
        """The run must end, but host loops nested in a tick are still running: ask the
        host to end them (the run can only finish once they return)."""
        end = self.end_nested_loops
        if end is not None and self.levels and self.on_host_thread():
            end()

    def link_dropped(self) -> None:
        """A link was garbage-collected without being run: the chain is broken."""
        if not self.is_current:
            return
        if threading.get_ident() == self.host_thread:
            warnings.warn(
                RuntimeWarning(
                    "asyncio guest run got abandoned without properly finishing: the host "
                    "dropped a pending tick (did the host loop stop, or a host callback "
                    "fail, before done_callback was called?). Pending guest tasks were "
                    "dropped."
                ),
                stacklevel=1,
            )
            self.finish(GuestRunAbandoned("the host dropped a pending guest tick"))
        else:
            warnings.warn(
                RuntimeWarning(
                    "asyncio guest run got abandoned: the host's run_sync_soon_threadsafe "
                    "failed on the I/O worker thread (see the exception above), so no tick "
                    "can reach the host any more. done_callback cannot be called from this "
                    "thread; the run's state on the host thread is cleaned up the next "
                    "time asyncio_guest is used there. Pending guest tasks were dropped."
                ),
                stacklevel=1,
            )
            self.abandon_off_thread(None)

    def abandon_off_thread(self, message: Optional[str]) -> None:
        """The chain broke on the worker thread; the run ends on the host thread later."""
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
        self.abandoned_off_thread = True
        _abandoned_elsewhere.append(self)

    # -- signals -------------------------------------------------------------------

    def install_signal_handling(
        self,
        set_wakeup_fd: bool,
        on_sigint: Optional[Callable[[int, Any], None]],
        warn_if_replaced: bool,
    ) -> None:
        """Make signals reach an idle guest, and route Ctrl+C to ``on_sigint``.

        Only on the main thread (the only place Python runs signal handlers).
        Python runs signal handlers only when the main thread runs Python code;
        a host blocked in C (Tk, GTK, Win32, a lock wait on Windows) would sit
        on them. With the wakeup fd on the loop's self-pipe, a signal wakes the
        guest's poller, the wait ends, a tick is posted and the host thread gets
        into Python. ``on_sigint`` is installed only if nobody installed a
        SIGINT handler before (the rule of asyncio.Runner).
        """
        if threading.current_thread() is not threading.main_thread():
            return
        if set_wakeup_fd:
            old = signal.set_wakeup_fd(_compat.self_pipe_fd(self.loop), warn_on_full_buffer=False)
            self._old_wakeup_fd = old
            self.owns_wakeup_fd = True
            if old != -1 and warn_if_replaced:
                warnings.warn(RuntimeWarning(_WAKEUP_FD_COLLISION), stacklevel=5)
        if on_sigint is not None and signal.getsignal(signal.SIGINT) is signal.default_int_handler:
            signal.signal(signal.SIGINT, on_sigint)
            self._sigint_handler = on_sigint

    def reclaim_wakeup_fd(self) -> None:
        """The stock loop cleared the wakeup fd (its last signal handler went)."""
        if self.owns_wakeup_fd and threading.current_thread() is threading.main_thread():
            signal.set_wakeup_fd(_compat.self_pipe_fd(self.loop), warn_on_full_buffer=False)

    def restore_signal_handling(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        handler, self._sigint_handler = self._sigint_handler, None
        if handler is not None and signal.getsignal(signal.SIGINT) == handler:
            signal.signal(signal.SIGINT, signal.default_int_handler)
        if self._old_wakeup_fd is not None:
            signal.set_wakeup_fd(self._old_wakeup_fd)
            self._old_wakeup_fd = None
            self.owns_wakeup_fd = False
