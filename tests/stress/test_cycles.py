"""1,000 start/stop cycles of a guest run in one process: nothing accumulates.

Runs in a fresh interpreter (so that pytest's own threads and allocations do
not blur the baseline).  Each cycle starts a guest run on the trivial queue
host that does real work (a timer, a socket round trip through the loop, a
default-executor job, a cancelled leftover task), lets it finish and tear
down, and every third cycle uses the blocking API (``GuestEventLoop`` +
``run_until_complete`` + ``close``) instead.  After a warm-up, threads
(``/proc/self/task``), fds (``/proc/self/fd``), RSS and tracemalloc's traced
memory must come back to the baseline (memory within a small allowance for
interpreter caches).
"""

from __future__ import annotations

import json
import os

import pytest

from .conftest import run_python
from .figures import record

CYCLES = int(os.environ.get("STRESS_CYCLES", "1000"))

SCRIPT = r"""
import asyncio, gc, json, os, queue, socket, sys, threading, time, tracemalloc
import asyncio_guest
from asyncio_guest import GuestEventLoop, start_guest_run

CYCLES = int(sys.argv[1])

from tests._support.leaks import fd_count as fds, thread_count as threads

def rss_kb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])

async def work(n):
    loop = asyncio.get_running_loop()
    a, b = socket.socketpair()
    a.setblocking(False); b.setblocking(False)
    try:
        await loop.sock_sendall(a, b"ping %d" % n)
        data = await loop.sock_recv(b, 100)
        assert data == b"ping %d" % n, data
    finally:
        a.close(); b.close()
    fut = loop.create_future()
    loop.call_later(0.0005, fut.set_result, n)
    assert await fut == n
    assert await loop.run_in_executor(None, pow, n, 2) == n * n
    # A task left running: the run's teardown must cancel and await it.
    loop.create_task(asyncio.sleep(3600))
    return n

def guest_cycle(n):
    q = queue.SimpleQueue()
    done = []
    start_guest_run(work, n, run_sync_soon_threadsafe=q.put,
                    done_callback=done.append)
    while not done:
        q.get()()
    return done[0].unwrap()

def blocking_cycle(n):
    loop = GuestEventLoop()
    try:
        return loop.run_until_complete(work(n))
    finally:
        # what asyncio.run does: cancel leftovers, shut the executor down
        tasks = asyncio.all_tasks(loop)
        for t in tasks:
            t.cancel()
        loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
        loop.run_until_complete(loop.shutdown_default_executor())
        loop.close()

def cycle(n):
    result = blocking_cycle(n) if n % 3 == 2 else guest_cycle(n)
    assert result == n, (result, n)

for n in range(20):  # warm-up: imports, caches, first executor
    cycle(n)
gc.collect()
tracemalloc.start()
base = {"threads": threads(), "fds": fds(), "rss_kb": rss_kb(),
        "traced": tracemalloc.get_traced_memory()[0]}
t0 = time.monotonic()
worst_threads = 0
for n in range(CYCLES):
    cycle(n)
    worst_threads = max(worst_threads, threads())
elapsed = time.monotonic() - t0
# Give the last run's worker and executor threads a moment to be reaped.
deadline = time.monotonic() + 5
while threads() > base["threads"] and time.monotonic() < deadline:
    time.sleep(0.01)
gc.collect()
end = {"threads": threads(), "fds": fds(), "rss_kb": rss_kb(),
       "traced": tracemalloc.get_traced_memory()[0]}
top = []
if end["traced"] - base["traced"] > 64 * 1024:
    snap = tracemalloc.take_snapshot()
    top = [str(s) for s in snap.statistics("lineno")[:8]]
print(json.dumps({"base": base, "end": end, "seconds": elapsed, "cycles": CYCLES,
                  "worst_threads": worst_threads, "top": top}))
"""


@pytest.mark.timeout(300, method="thread")
def test_start_stop_cycles_return_to_baseline() -> None:
    proc = run_python(SCRIPT, timeout=240, args=[str(CYCLES)])
    assert proc.returncode == 0, proc.stderr[-4000:]
    data = json.loads(proc.stdout.strip().splitlines()[-1])
    base, end = data["base"], data["end"]
    record(
        "cycles",
        cycles=data["cycles"],
        seconds=data["seconds"],
        threads_delta=end["threads"] - base["threads"],
        fds_delta=end["fds"] - base["fds"],
        rss_delta_kb=end["rss_kb"] - base["rss_kb"],
        traced_delta_kb=(end["traced"] - base["traced"]) / 1024,
    )
    assert end["threads"] == base["threads"], data
    assert end["fds"] == base["fds"], data
    # Allowances: allocator and interpreter caches (free lists, interned
    # strings, the executor's thread-name counter) may grow a little; a leak
    # of one loop, selector or worker per cycle would be megabytes.
    assert end["traced"] - base["traced"] < 256 * 1024, data
    assert end["rss_kb"] - base["rss_kb"] < 8 * 1024, data


UNCLOSED_SCRIPT = r"""
import asyncio, gc, json, os, sys, time, warnings, weakref
from asyncio_guest import GuestEventLoop

from tests._support.leaks import fd_count, thread_count

def counts():
    return thread_count(), fd_count()

warnings.simplefilter("ignore", ResourceWarning)  # the stock loop warns, then closes
base = counts()
refs = []
for i in range(20):
    loop = GuestEventLoop()
    if i % 2:
        loop.run_until_complete(asyncio.sleep(0.001))
    refs.append(weakref.ref(loop))
    del loop
gc.collect()
deadline = time.monotonic() + 5
while counts() != base and time.monotonic() < deadline:
    time.sleep(0.01)
print(json.dumps({"alive": sum(r() is not None for r in refs), "base": base, "end": counts()}))
"""


@pytest.mark.timeout(60, method="thread")
def test_unclosed_loops_are_collected_like_stock() -> None:
    """A loop dropped without close() is collected, like the stock loop.

    (Found by this suite: the Rust selector held the self-pipe's reader
    Handle, which refers back to the loop, outside GC traversal, so such
    loops and their worker threads and fds were never freed.)
    """
    proc = run_python(UNCLOSED_SCRIPT, timeout=45)
    assert proc.returncode == 0, proc.stderr[-3000:]
    data = json.loads(proc.stdout.strip().splitlines()[-1])
    assert data["alive"] == 0, data
    assert data["end"] == data["base"], data
