"""asyncio-guest sample on a webview: the page's buttons await async Python.

asyncio runs as a guest of the webview's own GUI loop (WebKitGTK on Linux).  The page is
loaded with ``set_html`` (no network); its buttons call bound ``async def`` functions and
get Promises back:

* Download: fetches 2 MiB from a local HTTP server on 127.0.0.1 with asyncio streams,
  pushing progress into the page (``webview.eval``) while the Promise is pending;
* Compute: a slow CPU-bound job in a thread-pool executor, while the page and the
  Python-side counter stay live;
* Raise: a coroutine that raises; the Promise rejects with ``ValueError: ...``.

A Python task pushes a counter and the guest loop's timer latency into the page; the page's
own clock shows the page never freezes.  Closing the window cancels everything in flight.

    python -m asyncio_guest_webview.sample     (or: python -m asyncio_guest demo --host webview)
    xvfb-run -a python -m asyncio_guest_webview.sample --demo --quit-after 10   (no display)
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import sys
import time
from typing import Any, Optional

from asyncio_guest.samples import _common as common
from asyncio_guest_webview import Size, Webview
from asyncio_guest_webview.host import run

PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>asyncio-guest webview</title>
<style>
  body { font: 15px system-ui, sans-serif; margin: 0; background: #f4f5f7; color: #222; }
  header { background: #2b5797; color: white; padding: 12px 18px; }
  header h1 { margin: 0; font-size: 19px; }
  header p { margin: 4px 0 0; font-size: 13px; opacity: .85; }
  main { padding: 12px 18px; display: grid; gap: 10px; }
  section { background: white; border-radius: 6px; padding: 10px 14px;
            box-shadow: 0 1px 2px rgba(0,0,0,.12); }
  h2 { font-size: 14px; margin: 0 0 6px; color: #2b5797; }
  button { font: inherit; padding: 4px 14px; margin-right: 6px; }
  progress { width: 100%; height: 14px; }
  .out { font-family: monospace; font-size: 13px; margin-top: 6px; min-height: 1.2em; }
  .err { color: #b00020; }
  .ok { color: #1b7a2f; }
  .live { display: grid; grid-template-columns: 220px 1fr; row-gap: 2px;
          font-family: monospace; font-size: 13px; white-space: nowrap; }
  #latency { grid-column: 1 / 3; }
</style></head>
<body>
<header><h1>JavaScript awaiting async Python</h1>
<p>asyncio runs as a guest of this window's own GUI loop &mdash; one thread for both, no polling</p>
</header>
<main>
<section><h2>Live</h2><div class="live">
  <span id="clock">page clock: -</span><span id="counter">python counter: -</span>
  <span id="latency">timer latency: -</span></div></section>
<section><h2>Download from a local server (asyncio streams)</h2>
  <button id="dl" onclick="doDownload()">Download</button>
  <button id="cancel" onclick="cancel_download()" disabled>Cancel</button>
  <progress id="bar" value="0" max="1"></progress>
  <div class="out" id="dl-out">&nbsp;</div></section>
<section><h2>Slow computation in an executor</h2>
  <button id="compute" onclick="doCompute()">Compute</button>
  <div class="out" id="compute-out">&nbsp;</div></section>
<section><h2>A coroutine that raises</h2>
  <button id="raise" onclick="doRaise()">Raise</button>
  <div class="out" id="raise-out">&nbsp;</div></section>
</main>
<script>
  const $ = (id) => document.getElementById(id);
  function show(id, text, cls) {
    const e = $(id); e.textContent = text; e.className = "out " + (cls || "");
  }
  window.app = {
    progress(received, total) {
      $("bar").max = total || 1; $("bar").value = received;
      show("dl-out", "received " + received.toLocaleString() + " of "
           + total.toLocaleString() + " bytes");
    },
    live(count, latency) {
      $("counter").textContent = "python counter: " + count;
      $("latency").textContent = latency;
    },
  };
  setInterval(() => {
    $("clock").textContent = "page clock: " + new Date().toLocaleTimeString();
  }, 200);
  async function doDownload() {
    $("dl").disabled = true; $("cancel").disabled = false;
    try {
      const r = await download();
      show("dl-out", "downloaded " + r.bytes.toLocaleString() + " bytes in " + r.seconds.toFixed(2)
           + " s, content " + (r.ok ? "verified" : "CORRUPT"), r.ok ? "ok" : "err");
    } catch (e) { show("dl-out", e.message, "err"); }
    finally { $("dl").disabled = false; $("cancel").disabled = true; }
  }
  async function doCompute() {
    $("compute").disabled = true; show("compute-out", "computing...");
    try {
      const r = await compute(300000);
      show("compute-out", r.rounds.toLocaleString() + " rounds of SHA-256 in "
           + r.seconds.toFixed(2) + " s: " + r.digest.slice(0, 16) + "...", "ok");
    } catch (e) { show("compute-out", e.message, "err"); }
    finally { $("compute").disabled = false; }
  }
  async function doRaise() {
    try { await fail("as requested"); show("raise-out", "no error?!"); }
    catch (e) { show("raise-out", "rejected: " + e.message, "err"); }
  }
  window.demo = async function () {
    await doDownload(); await doCompute(); await doRaise();
  };
</script>
</body></html>
"""


def _sha_rounds(rounds: int) -> str:
    digest = b"asyncio-guest"
    for _ in range(rounds):
        digest = hashlib.sha256(digest).digest()
    return digest.hex()


class WebviewSample:
    """Binds the page's Python side; the guest's main coroutine is :meth:`main`."""

    def __init__(self, webview: Webview) -> None:
        self.webview = webview
        self.server: Optional[common.DemoServer] = None
        self.download_task: Optional[asyncio.Task[Any]] = None
        self.count = 0
        self.latency = "timer latency: -"
        webview.bind("download", self.download)
        webview.bind("cancel_download", self.cancel_download)
        webview.bind("compute", self.compute)
        webview.bind("fail", self.fail)

    def _push(self, js: str) -> None:
        self.webview.eval(js)

    async def download(self) -> dict[str, Any]:
        if self.server is None:
            raise RuntimeError("the local server is not up yet")
        self.download_task = asyncio.current_task()
        started = time.perf_counter()
        body = await common.download(
            self.server.url, lambda got, total: self._push(f"app.progress({got}, {total})")
        )
        return {
            "bytes": len(body),
            "seconds": time.perf_counter() - started,
            "ok": body == common.expected_body(self.server.size),
        }

    def cancel_download(self) -> None:
        if self.download_task is not None and not self.download_task.done():
            self.download_task.cancel()

    async def compute(self, rounds: int) -> dict[str, Any]:
        if not isinstance(rounds, int) or not 0 < rounds <= 10_000_000:
            raise ValueError(f"rounds must be an int in 1..10000000, got {rounds!r}")
        started = time.perf_counter()
        loop = asyncio.get_running_loop()
        digest = await loop.run_in_executor(None, _sha_rounds, rounds)
        return {"rounds": rounds, "seconds": time.perf_counter() - started, "digest": digest}

    async def fail(self, why: str) -> None:
        await asyncio.sleep(0.1)
        raise ValueError(f"this coroutine raised {why}")

    def _on_count(self, n: int) -> None:
        self.count = n
        self._push(f"app.live({n}, {json.dumps(self.latency)})")

    def _on_latency(self, stats: common.LatencyStats) -> None:
        self.latency = common.format_latency(stats)

    async def main(self, demo: bool, quit_after: float) -> None:
        async with await common.start_server() as server:
            self.server = server
            tasks = [
                asyncio.ensure_future(common.count(self._on_count, 0.1)),
                asyncio.ensure_future(common.probe_latency(self._on_latency)),
            ]
            try:
                if demo:
                    # Drive the page as a user would; "demo: done" marks the end (the
                    # screenshot script waits for it).
                    await self.webview.evaluate("window.demo()")
                    print("demo: done", flush=True)
                if quit_after > 0:
                    await asyncio.sleep(quit_after)
                    self.webview.close()
                await asyncio.Event().wait()  # until the window is closed
            finally:
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--demo", action="store_true", help="click Download, Compute and Raise")
    parser.add_argument(
        "--quit-after", type=float, default=0, help="close N seconds after start (or the demo)"
    )
    args = parser.parse_args(argv)
    webview = Webview(size=Size(760, 560))
    webview.title = "asyncio-guest on a webview"
    sample = WebviewSample(webview)
    webview.set_html(PAGE)
    try:
        run(sample.main, args.demo, args.quit_after, webview=webview)
    except asyncio.CancelledError:
        pass  # the window was closed: the normal way to quit
    finally:
        webview.destroy()
    return 0


if __name__ == "__main__":
    sys.exit(main())
