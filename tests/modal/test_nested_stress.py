"""Random interleavings with nested host loops opened at random points, up to depth 3.

For each seed, guest tasks, plain guest callbacks, host callbacks (outside any tick,
also inside the nested loops) and a plain thread randomly ``call_soon``,
``call_soon_threadsafe``, ``call_later``, cancel handles and create tasks; guest tasks
and plain callbacks also randomly call a blocking "dialog" that runs the host loop
inside them (closed after a random number of callbacks ran, or by a host timer),
nested up to depth 3. Every scheduled callback carries an id and a per-origin sequence
number. Asserted for every seed:

* nothing lost: every callback that was not cancelled ran;
* nothing doubled: each ran once, and no cancelled one ran;
* nothing misordered: per origin (a task, a callback, the host, the thread) the
  ``call_soon``/``call_soon_threadsafe`` callbacks ran in the order they were scheduled,
  and no timer ran before its deadline;
* ``current_task()`` was the running task in every step that checked it;
* the host hooks were used from the right threads (NestingHost checks it).

Odd seeds run in thread-free mode, even seeds in worker mode.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import random
import threading
import time
from typing import Optional

import pytest

from tests.modal._host import NestingHost, run_nesting

SEEDS = int(os.environ.get("MODAL_STRESS_SEEDS", "16"))
DURATION = float(os.environ.get("MODAL_STRESS_SECONDS", "0.4"))
MAX_DEPTH = 3


class Tracker:
    def __init__(self, rng: random.Random, host: NestingHost) -> None:
        self.rng = rng
        self.host = host
        self.lock = threading.Lock()
        self.ids = itertools.count()
        self.expected: dict[int, tuple[str, int, Optional[float]]] = {}
        self.ran: dict[int, int] = {}
        self.cancelled: set[int] = set()
        self.seq: dict[str, int] = {}
        self.last_seq: dict[str, int] = {}
        self.errors: list[str] = []
        self.depth = 0
        self.max_depth = 0
        self.dialogs = 0
        self.run_count = 0
        self.stop = False
        self.live_tasks = 0

    def new(self, origin: str, when: Optional[float] = None) -> tuple[int, int]:
        with self.lock:
            cb_id = next(self.ids)
            seq = self.seq.get(origin, 0) + 1 if when is None else 0
            if when is None:
                self.seq[origin] = seq
            self.expected[cb_id] = (origin, seq, when)
            return cb_id, seq

    def record(self, cb_id: int, loop: asyncio.AbstractEventLoop) -> None:
        with self.lock:
            self.run_count += 1
            self.ran[cb_id] = self.ran.get(cb_id, 0) + 1
            if self.ran[cb_id] > 1:
                self.errors.append(f"callback {cb_id} ran twice")
            if cb_id in self.cancelled:
                self.errors.append(f"cancelled callback {cb_id} ran")
            origin, seq, when = self.expected[cb_id]
            if when is not None:
                if loop.time() < when:
                    self.errors.append(f"timer {cb_id} ran {when - loop.time():.4f} s early")
                return
            last = self.last_seq.get(origin, 0)
            if seq <= last:
                self.errors.append(f"{origin}: callback seq {seq} ran after seq {last}")
            self.last_seq[origin] = seq

    # -- random actions --------------------------------------------------

    def schedule(self, loop: asyncio.AbstractEventLoop, origin: str) -> None:
        """One random scheduling action (guest side or host side)."""
        rng = self.rng
        kind = rng.random()
        if kind < 0.45:
            cb_id, _ = self.new(origin)
            loop.call_soon(self.record, cb_id, loop)
        elif kind < 0.65:
            delay = rng.choice((0.0, 0.001, 0.003, 0.01))
            when = loop.time() + delay
            cb_id, _ = self.new(origin, when)
            handle = loop.call_at(when, self.record, cb_id, loop)
            if rng.random() < 0.2:
                handle.cancel()
                with self.lock:
                    self.cancelled.add(cb_id)
        elif kind < 0.75:
            cb_id, _ = self.new(origin)
            handle2 = loop.call_soon(self.record, cb_id, loop)
            if rng.random() < 0.5:
                handle2.cancel()
                with self.lock:
                    self.cancelled.add(cb_id)
        elif kind < 0.9:
            if self.live_tasks < 20 and not self.stop:
                loop.create_task(self.worker(loop, f"task{next(self.ids)}", rng.randint(1, 4)))
        elif not self.stop:
            loop.call_soon(self.plain_callback, loop, f"cb{next(self.ids)}")

    def maybe_dialog(self, loop: asyncio.AbstractEventLoop, origin: str) -> None:
        """Randomly run a blocking nested host loop right here (inside a tick)."""
        rng = self.rng
        if self.stop or self.depth >= MAX_DEPTH or rng.random() > 0.25:
            return
        self.depth += 1
        self.max_depth = max(self.max_depth, self.depth)
        self.dialogs += 1
        target = self.run_count + rng.randint(5, 60)
        task = asyncio.current_task()
        try:
            if rng.random() < 0.5:
                self.host.dialog(close_when=lambda: self.run_count >= target or self.stop)
            else:
                self.host.dialog(rng.choice((0.01, 0.03, 0.06)))
        finally:
            self.depth -= 1
        if asyncio.current_task() is not task:
            self.errors.append(f"{origin}: current_task changed across a dialog")
        # Work scheduled right after the dialog returns keeps its order too.
        if not self.stop:
            self.schedule(loop, origin)

    async def worker(self, loop: asyncio.AbstractEventLoop, origin: str, rounds: int) -> None:
        me = asyncio.current_task()
        self.live_tasks += 1
        try:
            for _ in range(rounds):
                for _ in range(self.rng.randint(1, 4)):
                    self.schedule(loop, origin)
                self.maybe_dialog(loop, origin)
                await asyncio.sleep(self.rng.choice((0, 0, 0.001, 0.004)))
                if asyncio.current_task() is not me:
                    self.errors.append(f"{origin}: current_task() is not the running task")
        finally:
            self.live_tasks -= 1

    async def run_workers(self, loop: asyncio.AbstractEventLoop, count: int) -> None:
        """``count`` workers for DURATION seconds; then stop scheduling and end them."""
        workers = [asyncio.create_task(self.worker(loop, f"main{i}", 1000)) for i in range(count)]
        await asyncio.sleep(DURATION)
        self.stop = True
        for w in workers:
            w.cancel()
        await asyncio.gather(*workers, return_exceptions=True)

    def plain_callback(self, loop: asyncio.AbstractEventLoop, origin: str) -> None:
        if asyncio.current_task() is not None:
            self.errors.append(f"{origin}: a task is current in a plain callback")
        if self.rng.random() < 0.5:
            self.schedule(loop, origin)
        self.maybe_dialog(loop, origin)

    def host_action(self, loop: asyncio.AbstractEventLoop) -> None:
        """A host callback (outside any tick): schedule guest work, re-arm itself."""
        if self.stop:
            return
        self.schedule(loop, "host")
        self.host.call_later(self.rng.choice((0.0, 0.002, 0.005)), lambda: self.host_action(loop))

    def thread_main(self, loop: asyncio.AbstractEventLoop) -> None:
        rng = random.Random(self.rng.random())
        while not self.stop:
            cb_id, _ = self.new("thread")
            loop.call_soon_threadsafe(self.record, cb_id, loop)
            time.sleep(rng.choice((0.0005, 0.002, 0.005)))


@pytest.mark.parametrize("seed", range(SEEDS))
def test_random_interleavings_with_nested_loops(seed: int) -> None:
    rng = random.Random(seed)

    async def main(host: NestingHost) -> Tracker:
        loop = asyncio.get_running_loop()
        tracker = Tracker(rng, host)
        thread = threading.Thread(target=tracker.thread_main, args=(loop,))
        thread.start()
        try:
            host.call_later(0, lambda: tracker.host_action(loop))
            await tracker.run_workers(loop, 3)
        finally:
            tracker.stop = True
            thread.join(10)
        # Let everything already scheduled settle: tasks finish their rounds, timers fire.
        for _ in range(2000):  # settling, bounded (20 s): a lost callback never settles
            others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            settled = len(tracker.ran) + len(tracker.cancelled) >= len(tracker.expected)
            # Also no dialog still open: a callback blocked in one goes on when it closes.
            if not others and settled and tracker.depth == 0:
                break
            await asyncio.sleep(0.01)
        return tracker

    tracker = run_nesting(main, thread_free=bool(seed % 2))
    assert not tracker.errors, tracker.errors[:10]
    lost = [
        cb_id
        for cb_id in tracker.expected
        if cb_id not in tracker.ran and cb_id not in tracker.cancelled
    ]
    assert not lost, f"{len(lost)} callbacks never ran: {lost[:10]}"
    assert tracker.dialogs > 0
    assert tracker.max_depth <= MAX_DEPTH


def test_the_stress_reaches_depth_three() -> None:
    """Across the seeds, nested loops really nest (not just one level)."""
    depths = []
    for seed in range(4):
        rng = random.Random(1000 + seed)

        async def main(host: NestingHost, rng: random.Random = rng) -> int:
            loop = asyncio.get_running_loop()
            tracker = Tracker(rng, host)
            await tracker.run_workers(loop, 4)
            for _ in range(2000):  # settling, bounded (20 s): a lost callback never settles
                if not [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]:
                    break
                await asyncio.sleep(0.01)
            assert not tracker.errors, tracker.errors[:10]
            return tracker.max_depth

        depths.append(run_nesting(main, thread_free=bool(seed % 2)))
    assert max(depths) == MAX_DEPTH, depths
