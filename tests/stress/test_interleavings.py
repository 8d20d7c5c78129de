"""Random interleavings of the scheduling API from the host, guest tasks and other threads.

For each seed, for ``STRESS_SEED_SECONDS``:

* guest tasks (inside ticks), the host thread *outside* ticks (between two
  host callbacks) and two plain threads randomly call ``call_soon``,
  ``call_later``, ``Handle.cancel``, ``Future.set_result``,
  ``call_soon_threadsafe``, ``create_task``, ``add_reader``/``remove_reader``
  and write to the watched sockets;
* every callback that should run is tracked by id.

Then, with all actors stopped and every reader attached, everything must
settle within ``BOUND`` seconds.  Asserted for every seed:

* no lost wakeup: every expected callback, task step, future waiter and
  byte ran/arrived, each within ``BOUND`` of when it became due;
* nothing ran twice, nothing cancelled ran, no reader callback ran while
  its reader was removed, and no reader callback found nothing to read;
* the orders asyncio documents: callbacks scheduled from one thread with
  ``call_soon``/``call_soon_threadsafe`` run in that order (FIFO), and
  timers run in order of their deadline and never before it;
* the host hooks were used as documented: the threadsafe one off the host
  thread, the other one on it.

Odd seeds run the loop without its time slice and inline wait (one
iteration per host callback), even seeds with the defaults.
"""

from __future__ import annotations

import asyncio
import collections
import math
import os
import queue
import random
import socket
import threading
import time
from dataclasses import dataclass
from typing import Any, Optional

import pytest

from .conftest import CheckingQueueHost, run_guest
from .figures import record

SEEDS = int(os.environ.get("STRESS_SEEDS", "60"))
DURATION = float(os.environ.get("STRESS_SEED_SECONDS", "0.3"))
#: The latest an expected callback may run after it became due.  Generous:
#: CI shares two cores; a lost wakeup is infinite, not late.
BOUND = 3.0
N_PAIRS = 4
N_THREADS = 2
N_PROBES = int(os.environ.get("STRESS_PROBES", "12"))


@dataclass
class Expect:
    kind: str
    origin: int  # thread ident that scheduled it
    seq: Optional[int]  # FIFO sequence number within origin, for call_soon*
    when: Optional[float]  # loop time deadline, for timers
    due: Optional[float]  # monotonic time from which it must run (None: not yet)
    handle: Any = None


class Tracker:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.lock = threading.Lock()
        self.loop: Optional[asyncio.AbstractEventLoop] = None
        self.host_thread = threading.get_ident()
        self.active = False
        self.next_id = 0
        self.pending: dict[int, Expect] = {}
        self.ran: set[int] = set()
        self.cancelled: set[int] = set()
        self.errors: list[str] = []
        self.seq: dict[int, int] = collections.defaultdict(int)
        self.last_seq_run: dict[int, int] = {}
        self.last_when = -math.inf
        self.max_latency = 0.0
        self.counts: collections.Counter[str] = collections.Counter()
        self.host_handles: list[int] = []  # ids cancellable from the host thread
        self.futures: list[tuple[int, asyncio.Future[None]]] = []  # unresolved, host side
        self.thread_futures: queue.SimpleQueue[tuple[int, asyncio.Future[None]]] = (
            queue.SimpleQueue()
        )
        self.pairs: list[tuple[socket.socket, socket.socket]] = []
        self.attached: list[bool] = [False] * N_PAIRS
        self.written = [0] * N_PAIRS
        self.read = [0] * N_PAIRS
        self.pair_locks = [threading.Lock() for _ in range(N_PAIRS)]
        self.probe: Optional[tuple[str, Any]] = None
        self.lost_wakeups: list[str] = []

    # -- probes: one host action while the guest waits with nothing else due --

    PROBES = ("call_soon", "create_task", "set_result", "call_later", "cancel", "add_reader")

    def run_probe(self) -> None:
        """Host thread, queue idle: resume the waiting guest with one host action."""
        assert self.probe is not None and self.loop is not None
        kind, target = self.probe
        self.probe = None
        loop = self.loop
        if kind == "call_soon":
            loop.call_soon(target.set_result, kind)
        elif kind == "create_task":

            async def resolve() -> None:
                target.set_result(kind)

            loop.create_task(resolve())
        elif kind == "set_result":
            target.set_result(kind)
        elif kind == "call_later":
            # Earlier than the long timer the worker is waiting for.
            loop.call_later(0.001, target.set_result, kind)
        elif kind == "cancel":
            target.cancel()
        elif kind == "add_reader":
            r, w, fut = target
            w.send(b"p")

            def on_probe_readable() -> None:
                loop.remove_reader(r)
                r.recv(16)
                fut.set_result(kind)

            loop.add_reader(r, on_probe_readable)

    # -- bookkeeping -------------------------------------------------------

    def _new(self, kind: str, seq: bool = False, due: Optional[float] = -1.0) -> int:
        me = threading.get_ident()
        with self.lock:
            cb_id = self.next_id
            self.next_id += 1
            s = None
            if seq:
                s = self.seq[me]
                self.seq[me] += 1
            self.pending[cb_id] = Expect(
                kind, me, s, None, time.monotonic() if due == -1.0 else due
            )
            self.counts[kind] += 1
        return cb_id

    def ran_cb(self, cb_id: int) -> None:
        now = time.monotonic()
        assert self.loop is not None
        loop_now = self.loop.time()
        with self.lock:
            if threading.get_ident() != self.host_thread:
                self.errors.append(f"callback {cb_id} ran off the host thread")
            if cb_id in self.cancelled:
                self.errors.append(f"cancelled callback {cb_id} ran")
                return
            if cb_id in self.ran:
                self.errors.append(f"callback {cb_id} ran twice")
                return
            exp = self.pending.pop(cb_id, None)
            if exp is None:
                self.errors.append(f"callback {cb_id} ran but was never scheduled")
                return
            self.ran.add(cb_id)
            if exp.due is not None:
                latency = now - exp.due
                if exp.when is not None:
                    latency = loop_now - exp.when
                self.max_latency = max(self.max_latency, latency)
            if exp.seq is not None:
                last = self.last_seq_run.get(exp.origin, -1)
                if exp.seq < last:
                    self.errors.append(
                        f"FIFO broken: {exp.kind} #{exp.seq} of thread {exp.origin} ran "
                        f"after #{last}"
                    )
                self.last_seq_run[exp.origin] = max(last, exp.seq)
            if exp.when is not None:
                res = time.get_clock_info("monotonic").resolution + 1e-6
                if loop_now < exp.when - res:
                    self.errors.append(f"timer {cb_id} ran {exp.when - loop_now:.6f}s early")
                if exp.when < self.last_when - res:
                    self.errors.append(
                        f"timer order broken: when={exp.when:.6f} ran after "
                        f"when={self.last_when:.6f}"
                    )
                self.last_when = max(self.last_when, exp.when)

    # -- actions (each documents the thread it may run on) ------------------

    def act_call_soon(self) -> None:  # host thread (in or out of a tick)
        assert self.loop is not None
        cb_id = self._new("call_soon", seq=True)
        h = self.loop.call_soon(self.ran_cb, cb_id)
        self.pending[cb_id].handle = h
        self.host_handles.append(cb_id)

    def act_call_soon_threadsafe(self) -> None:  # any thread
        assert self.loop is not None
        cb_id = self._new("call_soon_threadsafe", seq=True)
        self.loop.call_soon_threadsafe(self.ran_cb, cb_id)

    def act_call_later(self) -> None:  # host thread
        assert self.loop is not None
        delay = self.rng.choice([0.0, 0.0005, 0.002, 0.01, 0.03])
        # Registered first, then scheduled: it cannot run in between (it runs
        # on this thread), and the id must be known to the callback.
        cb_id = self._new("call_later")
        h = self.loop.call_later(delay, self.ran_cb, cb_id)
        exp = self.pending[cb_id]
        exp.handle = h
        exp.when = h.when()
        exp.due = time.monotonic() + delay
        self.host_handles.append(cb_id)

    def act_cancel(self) -> None:  # host thread
        if not self.host_handles:
            return
        cb_id = self.host_handles.pop(self.rng.randrange(len(self.host_handles)))
        with self.lock:
            exp = self.pending.get(cb_id)
            if exp is None:
                return  # already ran
            exp.handle.cancel()
            del self.pending[cb_id]
            self.cancelled.add(cb_id)
            self.counts["cancel"] += 1

    def act_create_task(self) -> None:  # host thread
        assert self.loop is not None
        cb_id = self._new("create_task")

        async def step() -> None:
            self.ran_cb(cb_id)

        self.loop.create_task(step())

    def act_new_future(self) -> None:  # host thread, in a tick or out
        assert self.loop is not None
        fut: asyncio.Future[None] = self.loop.create_future()
        cb_id = self._new("future", due=None)

        async def waiter() -> None:
            await fut
            self.ran_cb(cb_id)

        self.loop.create_task(waiter())
        if self.rng.random() < 0.3:
            self.thread_futures.put((cb_id, fut))
        else:
            self.futures.append((cb_id, fut))

    def _arm(self, cb_id: int) -> None:
        with self.lock:
            exp = self.pending.get(cb_id)
            if exp is not None and exp.due is None:
                exp.due = time.monotonic()

    def act_set_result(self) -> None:  # host thread
        if not self.futures:
            return
        cb_id, fut = self.futures.pop(self.rng.randrange(len(self.futures)))
        self._arm(cb_id)
        fut.set_result(None)
        self.counts["set_result"] += 1

    def act_thread_set_result(self) -> None:  # another thread
        assert self.loop is not None
        try:
            cb_id, fut = self.thread_futures.get_nowait()
        except queue.Empty:
            return
        self._arm(cb_id)
        self.loop.call_soon_threadsafe(fut.set_result, None)
        self.counts["set_result_threadsafe"] += 1

    def on_readable(self, i: int) -> None:
        if not self.attached[i]:
            self.errors.append(f"reader {i} ran while removed")
        rsock = self.pairs[i][0]
        got = 0
        while True:
            try:
                data = rsock.recv(65536)
            except BlockingIOError:
                break
            if not data:
                self.errors.append(f"pair {i}: EOF")
                break
            got += len(data)
        if got == 0:
            self.counts["spurious_read"] += 1
        self.read[i] += got

    def act_toggle_reader(self) -> None:  # host thread
        assert self.loop is not None
        i = self.rng.randrange(N_PAIRS)
        if self.attached[i]:
            self.loop.remove_reader(self.pairs[i][0])
            self.attached[i] = False
        else:
            self.loop.add_reader(self.pairs[i][0], self.on_readable, i)
            self.attached[i] = True
        self.counts["toggle_reader"] += 1

    def act_write(self) -> None:  # another thread
        i = self.rng.randrange(N_PAIRS)
        n = self.rng.choice([1, 7, 100, 1000])
        with self.pair_locks[i]:
            try:
                sent = self.pairs[i][1].send(b"x" * n)
            except BlockingIOError:
                return
            self.written[i] += sent
        self.counts["write"] += 1

    HOST_ACTIONS = (
        "act_call_soon",
        "act_call_soon_threadsafe",
        "act_call_later",
        "act_cancel",
        "act_create_task",
        "act_new_future",
        "act_set_result",
        "act_toggle_reader",
    )
    THREAD_ACTIONS = ("act_call_soon_threadsafe", "act_thread_set_result", "act_write")

    def host_idle(self, idle: bool) -> None:
        """Host code between two host callbacks, i.e. outside any guest tick."""
        if self.probe is not None and idle:
            self.run_probe()
            return
        if self.active and self.rng.random() < 0.7:
            self.counts["host_outside_tick"] += 1
            getattr(self, self.rng.choice(self.HOST_ACTIONS))()


def _thread_actor(tracker: Tracker, seed: int, stop_at: float) -> None:
    rng = random.Random(seed)
    while time.monotonic() < stop_at:
        getattr(tracker, rng.choice(Tracker.THREAD_ACTIONS))()
        if rng.random() < 0.5:
            time.sleep(rng.choice([0.0, 0.0002, 0.001, 0.003]))


async def _guest_main(tracker: Tracker, seed: int) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    tracker.loop = loop
    rng = tracker.rng
    if seed % 2 and hasattr(loop, "guest_time_slice"):
        # Odd seeds: no batching and no inline waits, so every iteration is
        # its own host callback and the host gets in between all of them.
        loop.guest_time_slice = 0.0
        loop.guest_inline_wait = 0.0
    for _ in range(N_PAIRS):
        r, w = socket.socketpair()
        r.setblocking(False)
        w.setblocking(False)
        tracker.pairs.append((r, w))
    stop_at = time.monotonic() + DURATION
    threads = [
        threading.Thread(target=_thread_actor, args=(tracker, seed * 100 + k, stop_at))
        for k in range(N_THREADS)
    ]
    tracker.active = True
    for t in threads:
        t.start()

    async def guest_actor() -> None:
        while time.monotonic() < stop_at:
            getattr(tracker, rng.choice(Tracker.HOST_ACTIONS))()
            await asyncio.sleep(rng.choice([0.0, 0.0, 0.0005, 0.002]))

    try:
        await asyncio.gather(guest_actor(), guest_actor())
    finally:
        tracker.active = False
        deadline = time.monotonic() + BOUND
        while any(t.is_alive() for t in threads) and time.monotonic() < deadline:
            await asyncio.sleep(0.005)
    # Settle: resolve what is left, attach every reader, wait for everything.
    for cb_id, fut in tracker.futures:
        tracker._arm(cb_id)
        fut.set_result(None)
    tracker.futures.clear()
    while True:
        try:
            cb_id, fut = tracker.thread_futures.get_nowait()
        except queue.Empty:
            break
        tracker._arm(cb_id)
        fut.set_result(None)
    for i in range(N_PAIRS):
        if not tracker.attached[i]:
            loop.add_reader(tracker.pairs[i][0], tracker.on_readable, i)
            tracker.attached[i] = True
    settle_start = time.monotonic()
    while time.monotonic() - settle_start < BOUND:
        if not tracker.pending and tracker.read == tracker.written:
            break
        await asyncio.sleep(0.005)
    settle = time.monotonic() - settle_start
    for i in range(N_PAIRS):
        loop.remove_reader(tracker.pairs[i][0])
        tracker.attached[i] = False
    await _probes(tracker, loop)
    for i, (r, w) in enumerate(tracker.pairs):
        loop.remove_reader(r)
        tracker.attached[i] = False
        r.close()
        w.close()
    stats = {}
    if hasattr(loop, "guest_stats"):
        stats = loop.guest_stats()
    return {"settle": settle, "threads_alive": sum(t.is_alive() for t in threads), **stats}


async def _probes(tracker: Tracker, loop: asyncio.AbstractEventLoop) -> None:
    """The guest waits with no timer due and no other thread active; the host
    (outside any tick) does one thing that must resume it.  A watchdog
    thread rescues and records a probe that is not resumed within BOUND:
    that is a lost wakeup (the worker kept waiting for I/O that never came).
    """
    rng = tracker.rng
    long_timer = loop.call_later(3600, lambda: None)  # worker waits, but not forever
    probe_sock = socket.socketpair()
    try:
        for _ in range(N_PROBES):
            kind = rng.choice(Tracker.PROBES)
            fut: asyncio.Future[str] = loop.create_future()
            target: Any = fut
            waiter: Any = fut
            if kind == "cancel":
                target = waiter = loop.create_task(asyncio.sleep(3600))
            elif kind == "add_reader":
                target = (probe_sock[0], probe_sock[1], fut)
            resumed = threading.Event()

            def watchdog(kind: str = kind, waiter: Any = waiter, ev: Any = resumed) -> None:
                if not ev.wait(BOUND):
                    tracker.lost_wakeups.append(kind)
                    loop.call_soon_threadsafe(
                        waiter.cancel if kind == "cancel" else waiter.set_result, "rescued"
                    )

            dog = threading.Thread(target=watchdog)
            dog.start()
            # Let the guest go idle first: the host acts only when its queue
            # stays empty, i.e. while the worker waits.
            tracker.probe = (kind, target)
            try:
                await waiter
            except asyncio.CancelledError:
                if kind != "cancel":
                    raise
            resumed.set()
            while dog.is_alive():
                await asyncio.sleep(0.001)
            tracker.counts["probe_" + kind] += 1
    finally:
        long_timer.cancel()
        probe_sock[0].close()
        probe_sock[1].close()


@pytest.mark.timeout(120, method="thread")
@pytest.mark.parametrize("seed", range(SEEDS))
def test_random_interleaving(seed: int) -> None:
    rng = random.Random(seed)
    tracker = Tracker(rng)
    host = CheckingQueueHost(idle_action=tracker.host_idle, poll_interval=0.001)
    t0 = time.monotonic()
    info = run_guest(_guest_main, tracker, seed, host=host)
    elapsed = time.monotonic() - t0

    late = {i: e.kind for i, e in tracker.pending.items() if e.due is not None}
    assert not tracker.errors, tracker.errors[:20]
    assert not tracker.lost_wakeups, f"lost wakeups after host actions: {tracker.lost_wakeups}"
    assert info["threads_alive"] == 0
    assert not late, f"lost wakeups (never ran within {BOUND}s): {dict(list(late.items())[:20])}"
    assert tracker.read == tracker.written, (tracker.read, tracker.written)
    assert tracker.max_latency <= BOUND, tracker.max_latency
    assert tracker.counts["spurious_read"] == 0, "reader called with nothing to read"
    assert host.not_threadsafe_off_host == 0, "run_sync_soon_not_threadsafe used off-thread"
    assert host.threadsafe_on_host == 0, "run_sync_soon_threadsafe used on the host thread"
    record(
        "interleavings",
        seeds=1,
        seconds=elapsed,
        callbacks=len(tracker.ran),
        cancelled=len(tracker.cancelled),
        bytes=sum(tracker.read),
        host_outside_tick=tracker.counts["host_outside_tick"],
        probes=sum(v for k, v in tracker.counts.items() if k.startswith("probe_")),
        ticks=info.get("ticks", 0),
        max_latency_ms=max(0.0, tracker.max_latency * 1000),
        _max=("max_latency_ms",),
    )
