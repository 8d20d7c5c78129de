"""Round-trip figures for asyncio-guest-webview (run under a display: xvfb-run -a).

    xvfb-run -a python scripts/bench-webview.py

Measures, in the page with performance.now() (WebKit coarsens it to 1 ms, so only the
total over N calls is used):
  * sequential awaited calls of a plain binding and of an ``async def`` binding (mean
    per round trip = total / N);
  * 200 concurrent ``async def`` calls that each sleep 0.1 s (wall time for all 200);
and in Python ``await webview.evaluate("1")`` round trips.  Prints one JSON object.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import time
from typing import Any

from asyncio_guest_webview import Webview

N = 1000
results: dict[str, Any] = {}


def summary(samples_ms: list[float]) -> dict[str, float]:
    ordered = sorted(samples_ms)
    return {
        "n": len(ordered),
        "mean_ms": round(statistics.fmean(ordered), 3),
        "median_ms": round(statistics.median(ordered), 3),
        "p95_ms": round(ordered[int(len(ordered) * 0.95) - 1], 3),
    }


def main() -> None:
    wv = Webview()

    def echo_sync(x: Any) -> Any:
        return x

    async def echo_async(x: Any) -> Any:
        return x

    async def sleepy(i: int) -> int:
        await asyncio.sleep(0.1)
        return i

    async def python_side() -> None:
        samples = []
        for _ in range(N):
            t0 = time.perf_counter()
            await wv.evaluate("1")
            samples.append((time.perf_counter() - t0) * 1000)
        results["evaluate"] = summary(samples)

    def report(page: dict[str, Any]) -> None:
        results["sync_call_mean_ms"] = round(page["sync"] / N, 3)
        results["async_call_mean_ms"] = round(page["async"] / N, 3)
        results["concurrent_200_sleep_100ms_wall_ms"] = round(page["concurrent_ms"], 1)
        wv.terminate()

    wv.bind("echo_sync", echo_sync)
    wv.bind("echo_async", echo_async)
    wv.bind("sleepy", sleepy)
    wv.bind("python_side", python_side)
    wv.bind("report", report)
    wv.set_html(
        f"""<script>
        (async () => {{
          const out = {{}};
          for (const [name, fn] of [["sync", echo_sync], ["async", echo_async]]) {{
            for (let i = 0; i < 20; i++) await fn(i);  // warm up
            const t0 = performance.now();
            for (let i = 0; i < {N}; i++) await fn(i);
            out[name] = performance.now() - t0;
          }}
          const t0 = performance.now();
          await Promise.all(Array.from({{length: 200}}, (_, i) => sleepy(i)));
          out.concurrent_ms = performance.now() - t0;
          await python_side();
          report(out);
        }})();
        </script>"""
    )
    wv.run()
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
