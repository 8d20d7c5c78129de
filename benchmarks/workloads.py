"""Server-side halves of the workloads: the code that runs *inside* each contender.

Network workloads (echo ping-pong, echo streaming, host responsiveness, scale)
serve TCP on 127.0.0.1 and take their load from ``client.py`` in another
process. A second, tiny control server takes ``BEGIN`` (the client's warm-up
is over: start measuring) and ``STOP`` (report and exit). Every run has a
deadline so it stops by itself even if the client never says ``STOP``.

In-process workloads (wake latency, timer overshoot, idle cost) need no client;
they warm up in-process before measuring.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any, Awaitable, Callable

from _common import READY, emit, percentile, proc_status
from contenders._base import Contender

Params = dict[str, Any]


# ---------------------------------------------------------------------------
# Shared pieces


async def _echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """The echo every network workload serves: asyncio streams, as users write it."""
    try:
        while True:
            data = await reader.read(262144)
            if not data:
                break
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        writer.close()


class _Meter:
    """Process CPU, wall time, memory, context switches and loop counters over a window."""

    def __init__(self, contender: Contender) -> None:
        self.contender = contender
        self.t0 = time.perf_counter()
        self.cpu0 = time.process_time()
        self.status0 = proc_status()
        self.stats0 = contender.stats()

    def read(self) -> dict[str, Any]:
        elapsed = time.perf_counter() - self.t0
        cpu = time.process_time() - self.cpu0
        status = proc_status()
        stats = self.contender.stats()
        out: dict[str, Any] = {
            "elapsed_s": elapsed,
            "cpu_s": cpu,
            "cpu_percent": 100.0 * cpu / elapsed if elapsed > 0 else 0.0,
            "ctx_switches": status["voluntary"] - self.status0["voluntary"],
            "ctx_switches_involuntary": status["involuntary"] - self.status0["involuntary"],
            "rss_begin_kib": self.status0["vm_rss_kib"],
            "rss_end_kib": status["vm_rss_kib"],
            "peak_rss_kib": status["vm_hwm_kib"],
            "threads": status["threads"],
        }
        for key, value in stats.items():
            if key in self.stats0:
                out[f"loop_{key}"] = value - self.stats0[key]
        return out


async def _serve_controlled(
    contender: Contender,
    p: Params,
    on_begin: Callable[[], Awaitable[None]],
    on_stop: Callable[[], Awaitable[dict[str, Any]]],
) -> dict[str, Any]:
    stop = asyncio.Event()
    began = False

    async def control(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal began
        try:
            while True:
                line = await reader.readline()
                if not line:
                    break
                command = line.strip().decode()
                if command == "BEGIN" and not began:
                    began = True
                    await on_begin()
                elif command == "STOP":
                    stop.set()
                writer.write(b"OK\n")
                await writer.drain()
                if command == "STOP":
                    break
        finally:
            writer.close()

    server = await asyncio.start_server(_echo, "127.0.0.1", 0, backlog=int(p.get("backlog", 4096)))
    ctrl = await asyncio.start_server(control, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    ctrl_port = ctrl.sockets[0].getsockname()[1]
    emit(READY, {"port": port, "ctrl": ctrl_port})
    timed_out = False
    try:
        await asyncio.wait_for(stop.wait(), float(p["deadline"]))
    except asyncio.TimeoutError:
        timed_out = True
    if not began:
        await on_begin()
    result = await on_stop()
    result["timed_out"] = timed_out
    server.close()
    ctrl.close()
    return result


async def _internal_window(
    p: Params,
    on_begin: Callable[[], Awaitable[None]],
    on_stop: Callable[[], Awaitable[dict[str, Any]]],
) -> dict[str, Any]:
    """The same begin/stop window without a client (loops that cannot serve TCP)."""
    emit(READY, {"port": 0, "ctrl": 0})
    await asyncio.sleep(float(p.get("warmup_s", 0.5)))
    await on_begin()
    await asyncio.sleep(float(p["duration_s"]))
    result = await on_stop()
    result["timed_out"] = False
    return result


# ---------------------------------------------------------------------------
# Workloads


async def echo(contender: Contender, p: Params) -> dict[str, Any]:
    """Echo server for ping-pong, streaming and scale; the client measures throughput."""
    meter: list[_Meter] = []

    async def begin() -> None:
        meter.append(_Meter(contender))

    async def stop() -> dict[str, Any]:
        return meter[0].read()

    return await _serve_controlled(contender, p, begin, stop)


async def responsiveness(contender: Contender, p: Params) -> dict[str, Any]:
    """Lateness of a 10 ms host timer while 1,000 guest tasks spin on sleep(0), under echo load."""
    interval = float(p.get("interval_s", 0.010))
    n_tasks = int(p.get("tasks", 1000))
    lateness: list[float] = []
    spins = [0]
    running = [False]
    tasks: list[asyncio.Task[None]] = []
    meter: list[_Meter] = []

    async def spinner() -> None:
        while running[0]:
            await asyncio.sleep(0)
            spins[0] += 1

    def arm() -> None:
        due = time.perf_counter() + interval
        contender.call_later_host(interval, lambda: fire(due))

    def fire(due: float) -> None:
        lateness.append(time.perf_counter() - due)
        if running[0]:
            arm()

    async def begin() -> None:
        running[0] = True
        for _ in range(n_tasks):
            tasks.append(asyncio.ensure_future(spinner()))
        meter.append(_Meter(contender))
        arm()

    async def stop() -> dict[str, Any]:
        out = meter[0].read()
        running[0] = False
        await asyncio.gather(*tasks, return_exceptions=True)
        ms = [x * 1000.0 for x in lateness]
        out.update(
            {
                "lateness_p50_ms": percentile(ms, 50),
                "lateness_p99_ms": percentile(ms, 99),
                "lateness_max_ms": max(ms) if ms else float("nan"),
                "timer_samples": len(ms),
                "spins_per_s": spins[0] / out["elapsed_s"],
                "echo_load": contender.supports_network,
            }
        )
        return out

    if contender.supports_network:
        return await _serve_controlled(contender, p, begin, stop)
    return await _internal_window(p, begin, stop)


async def wake(contender: Contender, p: Params) -> dict[str, Any]:
    """Host->guest and guest->host wake latency (in-process; warm-up samples dropped)."""
    emit(READY, {"port": 0, "ctrl": 0})
    loop = asyncio.get_running_loop()
    warm, n = int(p.get("warmup", 50)), int(p["samples"])
    delay = float(p.get("host_delay_s", 0.002))
    h2g: list[float] = []
    g2h: list[float] = []
    for i in range(warm + n):
        # Host -> guest: a host timer callback resolves a future the guest awaits.
        # The guest is otherwise idle, so the loop is in its blocking wait.
        fut: asyncio.Future[float] = loop.create_future()

        def resolve(fut: asyncio.Future[float] = fut) -> None:
            fut.set_result(time.perf_counter())

        contender.call_later_host(delay, resolve)
        t_host = await fut
        t_guest = time.perf_counter()
        # Guest -> host: post a host callback; time until it runs.
        done: asyncio.Future[float] = loop.create_future()

        def on_host(done: asyncio.Future[float] = done) -> None:
            done.set_result(time.perf_counter())

        t_post = time.perf_counter()
        contender.post_host(on_host)
        t_ran = await done
        if i >= warm:
            h2g.append((t_guest - t_host) * 1e6)
            g2h.append((t_ran - t_post) * 1e6)
        await asyncio.sleep(0.001)
    return {
        "h2g_p50_us": percentile(h2g, 50),
        "h2g_p99_us": percentile(h2g, 99),
        "g2h_p50_us": percentile(g2h, 50),
        "g2h_p99_us": percentile(g2h, 99),
        "samples": n,
    }


async def timer(contender: Contender, p: Params) -> dict[str, Any]:
    """Overshoot of asyncio.sleep(0.005) (in-process; warm-up samples dropped)."""
    emit(READY, {"port": 0, "ctrl": 0})
    warm, n = int(p.get("warmup", 20)), int(p["samples"])
    period = float(p.get("sleep_s", 0.005))
    over: list[float] = []
    for i in range(warm + n):
        t0 = time.perf_counter()
        await asyncio.sleep(period)
        if i >= warm:
            over.append((time.perf_counter() - t0 - period) * 1000.0)
    return {
        "overshoot_p50_ms": percentile(over, 50),
        "overshoot_p99_ms": percentile(over, 99),
        "samples": n,
    }


async def idle(contender: Contender, p: Params) -> dict[str, Any]:
    """CPU and wakeups while nothing happens: a listening server and one long sleep."""
    emit(READY, {"port": 0, "ctrl": 0})
    server = None
    if contender.supports_network:
        server = await asyncio.start_server(_echo, "127.0.0.1", 0)
    await asyncio.sleep(float(p.get("warmup_s", 1.0)))  # let start-up work settle
    meter = _Meter(contender)
    await asyncio.sleep(float(p["duration_s"]))
    out = meter.read()
    out["wakeups_per_s"] = out["ctx_switches"] / out["elapsed_s"]
    if "loop_ticks" in out:
        out["ticks_per_s"] = out["loop_ticks"] / out["elapsed_s"]
    if server is not None:
        server.close()
    return out


WORKLOADS: dict[str, Callable[[Contender, Params], Awaitable[dict[str, Any]]]] = {
    "echo_pingpong": echo,
    "echo_pingpong_busy": echo,
    "echo_stream": echo,
    "scale": echo,
    "responsiveness": responsiveness,
    "wake": wake,
    "timer": timer,
    "idle": idle,
}
