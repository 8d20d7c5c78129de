"""fd reuse between a wait and a tick: no event reaches the wrong socket.

Each round:

1. the guest watches socket A (``add_reader``) and goes idle, so the worker
   thread waits in the OS poller;
2. the host (outside any tick) writes to A's peer: the worker's wait returns
   a read event for A's fd and posts the next tick through the threadsafe
   hook;
3. *before that tick runs*, the host removes A's reader, closes A and opens
   socket B, which gets the same fd number from the OS, and watches B (no data
   yet);
4. the tick runs.  The stale event for the fd must not be delivered: neither
   A's callback (removed, closed) nor B's (B has nothing to read) may run;
5. the host writes to B's peer: B's callback must run and read it (the
   re-registration of a reused fd number must really be in the poller).
"""

from __future__ import annotations

import asyncio
import os
import socket
import time
from typing import Any, Optional

import pytest

from .conftest import CheckingQueueHost, run_guest
from .figures import record

ROUNDS = int(os.environ.get("STRESS_FD_ROUNDS", "300"))
BOUND = 3.0


class Round:
    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.phase = "armed"
        self.a, self.a_peer = socket.socketpair()
        self.a.setblocking(False)
        self.fd = self.a.fileno()
        self.b: Optional[socket.socket] = None
        self.b_peer: Optional[socket.socket] = None
        self.done: asyncio.Future[str] = loop.create_future()
        self.errors: list[str] = []
        self.reused = False
        loop.add_reader(self.a, self.on_a)

    def on_a(self) -> None:
        if self.phase in ("sent", "armed"):
            # The event came inline (no worker hop): this round cannot test
            # the swap; it still must be real data.
            if not self.a.recv(16):
                self.errors.append("A readable without data")
            self.loop.remove_reader(self.a)
            self.phase = "skipped"
            self.done.set_result("skipped")
        else:
            self.errors.append(f"A's reader ran in phase {self.phase} (after remove+close)")

    def on_b(self) -> None:
        assert self.b is not None
        try:
            data = self.b.recv(16)
        except BlockingIOError:
            self.errors.append(
                f"B's reader ran with nothing to read in phase {self.phase}: the stale "
                f"event for fd {self.fd} was delivered to the new socket"
            )
            return
        if self.phase != "sent_b":
            self.errors.append(f"B readable in phase {self.phase}")
        if data != b"b":
            self.errors.append(f"B got {data!r}")
        self.loop.remove_reader(self.b)
        self.phase = "ok"
        if not self.done.done():
            self.done.set_result("ok")

    # host thread, outside ticks -------------------------------------------

    def host_idle(self, idle: bool) -> None:
        if not idle:
            return
        if self.phase == "armed":
            self.phase = "sent"
            self.a_peer.send(b"a")
        elif self.phase == "swapped":
            assert self.b_peer is not None
            self.phase = "sent_b"
            self.b_peer.send(b"b")

    def before_worker_tick(self) -> None:
        if self.phase != "sent":
            return
        self.loop.remove_reader(self.a)
        self.a.close()
        self.b, self.b_peer = socket.socketpair()
        self.b.setblocking(False)
        self.reused = self.b.fileno() == self.fd
        self.loop.add_reader(self.b, self.on_b)
        self.phase = "swapped"

    def close(self) -> None:
        for s in (self.a, self.a_peer, self.b, self.b_peer):
            if s is not None:
                if s.fileno() != -1:
                    self.loop.remove_reader(s)
                s.close()


async def _rounds(host: CheckingQueueHost, n: int) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    counts = {"ok": 0, "skipped": 0, "reused": 0, "timeout": 0}
    errors: list[str] = []
    for _ in range(n):
        r = Round(loop)
        host.idle_action = r.host_idle
        host.before_threadsafe_item = r.before_worker_tick
        try:
            outcome = await asyncio.wait_for(r.done, BOUND)
        except asyncio.TimeoutError:
            outcome = "timeout"
            errors.append(f"round stuck in phase {r.phase} (lost event for B?)")
        finally:
            host.idle_action = None
            host.before_threadsafe_item = None
            r.close()
        # Let a late wrong delivery, if any, happen before we judge.
        await asyncio.sleep(0)
        errors += r.errors
        counts[outcome] += 1
        counts["reused"] += r.reused
    return {"counts": counts, "errors": errors}


@pytest.mark.timeout(120, method="thread")
def test_fd_reuse_between_wait_and_tick() -> None:
    host = CheckingQueueHost(poll_interval=0.002)
    # idle_action is set per round; start with one so mainloop polls.
    host.idle_action = lambda idle: None
    t0 = time.monotonic()
    res = run_guest(_rounds, host, ROUNDS, host=host)
    elapsed = time.monotonic() - t0
    counts = res["counts"]
    record(
        "fd_reuse",
        rounds=ROUNDS,
        swapped_between_wait_and_tick=counts["ok"],
        fd_number_reused=counts["reused"],
        inline_rounds=counts["skipped"],
        seconds=elapsed,
    )
    assert not res["errors"], res["errors"][:10]
    assert counts["timeout"] == 0
    # The scenario must really have happened, most of the time.
    assert counts["ok"] >= ROUNDS // 2, counts
    assert counts["reused"] >= counts["ok"] // 2, counts
