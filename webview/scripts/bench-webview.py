"""Figures for asyncio-guest-webview (run under a display: xvfb-run -a).

    xvfb-run -a python webview/scripts/bench-webview.py

Prints one JSON object (figures only; nothing is asserted):

* ``round_trip_us``: sequential awaited calls of a plain and of an ``async def`` binding.
  WebKit coarsens ``performance.now()`` to 1 ms, so the time of one round trip is taken
  in Python, as the interval between the arrivals of consecutive calls (the page sends
  the next call when the previous Promise settled): p50, p99 and mean in microseconds.
* ``stream``: 20,000 small chunks (ints) and 2,000 chunks of 64 KiB bytes through a
  ``for await`` loop: chunks per second and MiB per second.
* ``binary``: ``bytes`` returned to the page (Python -> JS) and a ``Uint8Array`` passed
  as an argument (JS -> Python), 1 MiB and 50 MiB, plus a JSON string of 10 MiB each way
  for comparison: milliseconds per call (best of the runs) and MiB per second.
* ``evaluate_us``: ``await webview.evaluate("1")`` from Python.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import time
from typing import Any, AsyncIterator

from asyncio_guest_webview import Webview

MIB = 1 << 20
N_CALLS = 2000
results: dict[str, Any] = {
    "python": sys.version.split()[0],
}


def percentiles(samples_s: list[float]) -> dict[str, float]:
    ordered = sorted(samples_s)

    def at(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1e6, 1)

    return {
        "n": len(ordered),
        "p50": at(0.50),
        "p99": at(0.99),
        "mean": round(statistics.fmean(ordered) * 1e6, 1),
    }


PAGE = """<!doctype html><html><body><script>
async function timed(fn, runs) {
  let best = Infinity;
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    await fn();
    best = Math.min(best, performance.now() - t0);
  }
  return best;
}
async function bench() {
  const out = {};
  for (let i = 0; i < %(n)d; i++) { await ping_sync(i); }
  await mark();
  for (let i = 0; i < %(n)d; i++) { await ping_async(i); }
  await mark();
  // Streams.
  let t0 = performance.now(), count = 0;
  for await (const x of small_chunks(20000)) { count += 1; }
  out.stream_small = {chunks: count, ms: performance.now() - t0};
  t0 = performance.now(); count = 0; let bytes = 0;
  for await (const x of big_chunks(2000, 65536)) { count += 1; bytes += x.length; }
  out.stream_big = {chunks: count, bytes, ms: performance.now() - t0};
  // Binary and JSON strings.
  out.binary = {};
  for (const mib of [1, 50]) {
    const n = mib * 1048576;
    let got = 0;
    const runs = mib === 1 ? 5 : 2;
    const down = await timed(async () => { got = (await give_bytes(n)).length; }, runs);
    const payload = new Uint8Array(n);
    for (let i = 0; i < n; i += 4096) { payload[i] = i & 255; }
    let taken = 0;
    const up = await timed(async () => { taken = await take_bytes(payload); }, runs);
    out.binary[mib + " MiB"] = {
      python_to_js_ms: down, js_to_python_ms: up, ok: got === n && taken === n};
  }
  const text = "x".repeat(10 * 1048576);
  let echoed = 0;
  const sdown = await timed(async () => { echoed = (await give_text(10 * 1048576)).length; }, 2);
  const sup = await timed(async () => { echoed = await take_text(text); }, 2);
  out.json_string = {
    "10 MiB": {python_to_js_ms: sdown, js_to_python_ms: sup, ok: echoed === text.length}};
  await done(out);
}
</script></body></html>"""


def main() -> None:
    wv = Webview()
    arrivals: list[float] = []
    marks: list[int] = []
    background: list[asyncio.Future[None]] = []

    def ping_sync(i: int) -> int:
        arrivals.append(time.perf_counter())
        return i

    async def ping_async(i: int) -> int:
        arrivals.append(time.perf_counter())
        return i

    def mark() -> None:
        marks.append(len(arrivals))

    async def small_chunks(n: int) -> AsyncIterator[int]:
        for i in range(n):
            yield i

    async def big_chunks(n: int, size: int) -> AsyncIterator[bytes]:
        block = bytes(range(256)) * (size // 256)
        for _ in range(n):
            yield block

    def give_bytes(n: int) -> bytes:
        return bytes(n)

    def take_bytes(data: bytes) -> int:
        return len(data)

    def give_text(n: int) -> str:
        return "y" * n

    def take_text(text: str) -> int:
        return len(text)

    def done(out: dict[str, Any]) -> None:
        first, second = marks
        results["round_trip_us"] = {
            "plain def": percentiles(
                [b - a for a, b in zip(arrivals[: first - 1], arrivals[1:first])]
            ),
            "async def": percentiles(
                [b - a for a, b in zip(arrivals[first : second - 1], arrivals[first + 1 : second])]
            ),
        }
        small, big = out["stream_small"], out["stream_big"]
        results["stream"] = {
            "20000 int chunks": {
                "chunks_per_s": round(small["chunks"] / (small["ms"] / 1000)),
                "ms": round(small["ms"]),
            },
            "2000 x 64 KiB bytes chunks": {
                "chunks_per_s": round(big["chunks"] / (big["ms"] / 1000)),
                "MiB_per_s": round(big["bytes"] / MIB / (big["ms"] / 1000), 1),
                "ms": round(big["ms"]),
            },
        }
        results["binary"] = {
            size: {
                **figures,
                "python_to_js_MiB_per_s": round(
                    int(size.split()[0]) / (figures["python_to_js_ms"] / 1000), 1
                ),
                "js_to_python_MiB_per_s": round(
                    int(size.split()[0]) / (figures["js_to_python_ms"] / 1000), 1
                ),
            }
            for size, figures in {**out["binary"], **out["json_string"]}.items()
        }
        background.append(asyncio.ensure_future(python_side()))

    async def python_side() -> None:
        samples = []
        for _ in range(500):
            t0 = time.perf_counter()
            await wv.evaluate("1")
            samples.append(time.perf_counter() - t0)
        results["evaluate_us"] = percentiles(samples)
        wv.terminate()

    for fn in (
        ping_sync,
        ping_async,
        mark,
        small_chunks,
        big_chunks,
        give_bytes,
        take_bytes,
        give_text,
        take_text,
        done,
    ):
        wv.bind(fn.__name__, fn)
    wv.set_html(PAGE % {"n": N_CALLS} + "<script>bench()</script>")
    wv.run()
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
