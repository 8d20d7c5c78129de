"""Faults: every failure is reported (never swallowed), nothing hangs, the
interpreter exits promptly.

Each scenario runs in a fresh interpreter with a hard timeout; a timeout is a
hang and fails the test.  "Promptly" is ``EXIT_BOUND`` seconds from the fault
to the process's exit (generous for a loaded CI machine; a hang is forever).
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from tests._support.platforms import needs_posix_signals

from .conftest import child_env, run_python
from .figures import record

EXIT_BOUND = 10.0
KI_RUNS = int(os.environ.get("STRESS_KI_RUNS", "30"))

PRELUDE = r"""
import asyncio, errno, gc, os, queue, sys, threading, time, warnings
import asyncio_guest
from asyncio_guest import start_guest_run
from asyncio_guest.hosts import run_on_host
from asyncio_guest.hosts.builtin import QueueHost
from tests._support.leaks import thread_count
warnings.simplefilter("always")

class WatchdogHost:
    # A worker-mode queue host that gives up after `patience` seconds without
    # any callback, so a guest that can no longer reach its host shows as an
    # error, not a hang.
    host_uses_signal_set_wakeup_fd = False
    def __init__(self, patience=3.0):
        self._queue = queue.SimpleQueue()
        self._running = False
        self.patience = patience
        self.gave_up = False
    def run_sync_soon_threadsafe(self, fn):
        self._queue.put(fn)
    run_sync_soon_not_threadsafe = run_sync_soon_threadsafe
    def stop(self):
        self._running = False
    def mainloop(self):
        self._running = True
        while self._running:
            try:
                fn = self._queue.get(timeout=self.patience)
            except queue.Empty:
                self.gave_up = True
                print("HOST GAVE UP", flush=True)
                return
            fn()

def report_threads():
    # Python threads by name, and OS threads (the Rust worker is not a
    # Python thread). Executor threads may take a moment to be reaped.
    deadline = time.monotonic() + 2
    while thread_count() > 1 and time.monotonic() < deadline:
        time.sleep(0.01)
    names = sorted(t.name for t in threading.enumerate() if t is not threading.main_thread())
    print("THREADS", names, "OS_THREADS", thread_count(), flush=True)

async def busy():
    loop = asyncio.get_running_loop()
    while True:
        await asyncio.sleep(0.001)
        await loop.run_in_executor(None, time.sleep, 0.001)
"""

SCENARIOS = {
    # The host loop returns while the guest still has work: run_on_host finishes the run on
    # this thread (the main task is cancelled; a quit returns None), and the interpreter must
    # still exit (the worker may be waiting).
    "host_stops_mid_run": (
        r"""
host = QueueHost()
async def main():
    asyncio.get_running_loop().call_later(0.05, host.stop)
    await asyncio.sleep(3600)
print("RESULT", run_on_host(host, main), flush=True)
report_threads()
""",
        ["RESULT None", "THREADS [] OS_THREADS 1"],
        0,
    ),
    # The host stops and throws its queue away with a tick still in it (as a toolkit that
    # frees pending callbacks when its loop ends): no hang and no later tick; run_on_host
    # ends the run here, or reports it abandoned if the dropped tick was its only way on.
    "host_drops_pending_tick": (
        r"""
from asyncio_guest import GuestRunAbandoned
class DroppingHost(QueueHost):
    def mainloop(self):
        super().mainloop()
        self.close()   # drops whatever is still queued
host = DroppingHost()
async def main():
    loop = asyncio.get_running_loop()
    def stop_and_drop():
        host.stop()
        loop.call_soon(lambda: None)   # guarantees a queued tick
    loop.call_later(0.05, stop_and_drop)
    await asyncio.sleep(3600)
try:
    print("FINISHED with", run_on_host(host, main), flush=True)
except GuestRunAbandoned as exc:
    print("FINISHED abandoned:", exc, flush=True)
del host
gc.collect()
report_threads()
""",
        ["FINISHED", "THREADS [] OS_THREADS 1"],
        0,
    ),
    # The threadsafe hook (called by the worker thread) raises: the error must
    # be printed and the run reported abandoned; the host cannot be called
    # back (its hook is what failed), so a host with a watchdog gives up.
    "threadsafe_hook_raises": (
        r"""
host = WatchdogHost()
calls = [0]
def bad_threadsafe(fn):
    calls[0] += 1
    raise ValueError("boom from run_sync_soon_threadsafe")
async def main():
    await asyncio.sleep(0.05)   # a worker wait, then the worker posts
    return "unreachable"
start_guest_run(main, run_sync_soon_threadsafe=bad_threadsafe,
                run_sync_soon_not_threadsafe=host.run_sync_soon_threadsafe,
                done_callback=lambda o: print("DONE", o, flush=True))
host.mainloop()
gc.collect()
report_threads()
""",
        ["boom from run_sync_soon_threadsafe", "abandoned", "HOST GAVE UP"],
        0,
    ),
    # The same-thread hook raises on its first use: start_guest_run raises.
    "not_threadsafe_hook_raises_at_start": (
        r"""
def bad(fn):
    raise ValueError("boom at start")
async def main():
    return 1
try:
    start_guest_run(main, run_sync_soon_threadsafe=print,
                    run_sync_soon_not_threadsafe=bad, done_callback=print)
except ValueError as exc:
    print("REPORTED", exc, flush=True)
report_threads()
""",
        ["REPORTED boom at start", "THREADS [] OS_THREADS 1"],
        0,
    ),
    # The same-thread hook raises later, inside the run: the run ends with
    # that error as its outcome.
    "not_threadsafe_hook_raises_later": (
        r"""
host = QueueHost()
n = [0]
def flaky(fn):
    n[0] += 1
    if n[0] == 3:
        raise ValueError("boom on the third post")
    host.run_sync_soon_threadsafe(fn)
async def main():
    # Busy enough to outlast the loop's time slice, so that the run goes back
    # to the host (through this hook) between batches.
    for _ in range(200):
        time.sleep(0.001)
        await asyncio.sleep(0)
done = []
def cb(o):
    done.append(o)
    host.stop()
start_guest_run(main, run_sync_soon_threadsafe=host.run_sync_soon_threadsafe,
                run_sync_soon_not_threadsafe=flaky, done_callback=cb)
host.mainloop()
print("OUTCOME", done, flush=True)
try:
    done[0].unwrap()
except ValueError as exc:
    print("REPORTED", exc, flush=True)
report_threads()
""",
        ["REPORTED boom on the third post", "THREADS [] OS_THREADS 1"],
        0,
    ),
    # done_callback raises: the exception reaches the host loop (here: out of
    # mainloop, so the script dies with it), after the run is fully torn down.
    "done_callback_raises": (
        r"""
host = QueueHost()
def cb(o):
    report_threads()
    raise ValueError("boom from done_callback")
async def main():
    await asyncio.sleep(0.01)
    return 42
start_guest_run(main, run_sync_soon_threadsafe=host.run_sync_soon_threadsafe,
                done_callback=cb)
host.mainloop()
""",
        ["THREADS [] OS_THREADS 1", "ValueError: boom from done_callback"],
        1,
    ),
    # The worker's OS wait fails: the run ends with that OSError as outcome.
    "worker_wait_fails": (
        r"""
async def main():
    loop = asyncio.get_running_loop()
    loop._selector._fail_next_wait(errno.EBADF)
    await asyncio.sleep(0.05)
    await asyncio.sleep(3600)
try:
    run_on_host(QueueHost(thread_free=False), main)  # the wait must be the worker's
except OSError as exc:
    print("REPORTED", exc.errno == errno.EBADF, exc, flush=True)
report_threads()
""",
        ["REPORTED True", "THREADS [] OS_THREADS 1"],
        0,
    ),
    # Same through the blocking API: run_until_complete raises it.
    "worker_wait_fails_blocking_api": (
        r"""
loop = asyncio_guest.GuestEventLoop()
loop.guest_thread_free = False  # the wait must be the worker's
async def main():
    loop._selector._fail_next_wait(errno.EIO)
    await asyncio.sleep(0.05)
try:
    loop.run_until_complete(main())
except OSError as exc:
    print("REPORTED", exc.errno == errno.EIO, flush=True)
loop.close()
report_threads()
""",
        ["REPORTED True", "THREADS [] OS_THREADS 1"],
        0,
    ),
}


@pytest.mark.timeout(60, method="thread")
@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_fault_is_reported_and_exits(name: str) -> None:
    body, expected, rc = SCENARIOS[name]
    try:
        proc = run_python(PRELUDE + textwrap.dedent(body), timeout=30)
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"{name}: hung (no exit within 30 s): {exc.stderr!r}")
    out = proc.stdout + proc.stderr
    record("faults", scenarios=1, seconds=proc.elapsed)  # type: ignore[attr-defined]
    for text in expected:
        assert text in out, f"{name}: {text!r} not reported:\n{out[-4000:]}"
    assert proc.returncode == rc, f"{name}: rc={proc.returncode}\n{out[-4000:]}"
    assert proc.elapsed < EXIT_BOUND, f"{name}: took {proc.elapsed:.1f}s"  # type: ignore[attr-defined]


KI_SCRIPT = (
    PRELUDE
    + r"""
import signal, socket
# Ctrl+C must raise KeyboardInterrupt here even if this process was started with SIGINT
# ignored (a background job of a non-interactive shell is), which the child would inherit.
signal.signal(signal.SIGINT, signal.default_int_handler)
async def main():
    loop = asyncio.get_running_loop()
    a, b = socket.socketpair()
    a.setblocking(False); b.setblocking(False)
    print("READY", flush=True)
    async def pingpong():
        # sock_sendall/sock_recv do not yield when they can complete at once;
        # the sleep(0) keeps this a cooperative task (as on the stock loop).
        while True:
            await loop.sock_sendall(a, b"x" * 100)
            await loop.sock_recv(b, 100)
            await asyncio.sleep(0)
    async def timers():
        while True:
            await asyncio.sleep(0.0005)
    async def spin():
        while True:
            await asyncio.sleep(0)
    await asyncio.gather(pingpong(), timers(), spin(), busy())
run_on_host(QueueHost(thread_free=sys.argv[1] == "thread-free"), main)
"""
)


@needs_posix_signals
@pytest.mark.timeout(600, method="thread")
def test_keyboard_interrupt_at_random_points() -> None:
    rng = random.Random(20261124)
    env = child_env()
    worst = 0.0
    outcomes: dict[str, int] = {}
    for run in range(KI_RUNS):
        proc = subprocess.Popen(
            # Both wait modes of the built-in host, alternately.
            [sys.executable, "-c", KI_SCRIPT, "thread-free" if run % 2 else "worker"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        try:
            assert proc.stdout is not None
            line = proc.stdout.readline()
            assert line.strip() == "READY", (line, proc.stderr.read() if proc.stderr else "")
            time.sleep(rng.uniform(0.0, 0.25))
            signals = 2 if run % 5 == 4 else 1  # every fifth run: a second Ctrl+C
            t0 = time.monotonic()
            for k in range(signals):
                proc.send_signal(signal.SIGINT)
                if k + 1 < signals:
                    time.sleep(rng.uniform(0.0, 0.02))
            try:
                _out, err = proc.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                _out, err = proc.communicate()
                pytest.fail(f"run {run}: hung after SIGINT:\n{err[-3000:]}")
            elapsed = time.monotonic() - t0
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        worst = max(worst, elapsed)
        assert "KeyboardInterrupt" in err, f"run {run}: interrupt not reported:\n{err[-3000:]}"
        assert proc.returncode != 0, f"run {run}: exit 0 after an interrupt"
        assert elapsed < EXIT_BOUND, f"run {run}: exit took {elapsed:.1f}s"
        last = err.strip().splitlines()[-1] if err.strip() else ""
        outcomes[last[:60]] = outcomes.get(last[:60], 0) + 1
    record("keyboard_interrupt", runs=KI_RUNS, worst_exit_s=worst, _max=("worst_exit_s",))


RESTART_SCRIPT = (
    PRELUDE
    + r"""
host = QueueHost()
async def main():
    asyncio.get_running_loop().call_later(0.02, host.stop)
    await asyncio.sleep(3600)    # the worker is waiting when the host stops
print("RESULT", run_on_host(host, main), flush=True)
del host
gc.collect()
print("RUNNING LOOP", asyncio._get_running_loop(), flush=True)
async def again():
    await asyncio.sleep(0.01)
    return "second run ok"
print(run_on_host(QueueHost(), again), flush=True)
print(asyncio.run(again()), flush=True)
"""
)


@pytest.mark.timeout(60, method="thread")
def test_thread_usable_after_host_stopped_mid_run() -> None:
    """After a host stopped mid-run, the thread can run guests (and asyncio) again.

    (Found by this suite: an unfinished run used to stay registered as the
    thread's running loop, so every later run on that thread failed.)
    """
    proc = run_python(RESTART_SCRIPT, timeout=30)
    out = proc.stdout + proc.stderr
    assert "RESULT None" in out, out[-3000:]
    assert "RUNNING LOOP None" in out, out[-3000:]
    assert out.count("second run ok") == 2, out[-3000:]
    assert proc.returncode == 0, out[-3000:]
