"""asyncio-guest sample on a webview: the page's buttons await async Python.

asyncio runs as a guest of the webview's own GUI loop (WebKitGTK on Linux).  The page is
loaded with ``set_html`` (no network); its buttons call bound Python functions and get
Promises (or streams) back:

* Download: fetches 2 MiB from a local HTTP server on 127.0.0.1 with asyncio streams.  The
  binding is an async generator: the page reads its progress with ``for await``.  Cancel
  aborts the call through an ``AbortSignal``; the generator is closed and the download
  task cancelled in Python;
* Render: Python draws a PNG and returns it as ``bytes``; the page receives a
  ``Uint8Array`` and shows it as an image;
* Compute: a slow CPU-bound job in a thread-pool executor, while the page and the
  Python-side counter stay live;
* Raise: a coroutine that raises; the Promise rejects with ``ValueError: ...``.

A Python task pushes a counter and the guest loop's timer latency into the page as events
(``webview.emit``); the page's own clock shows the page never freezes.  Closing the window
cancels everything in flight.

    python -m asyncio_guest_webview.sample     (or: python -m asyncio_guest demo --host webview)
    xvfb-run -a python -m asyncio_guest_webview.sample --demo --quit-after 10   (no display)
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import math
import struct
import sys
import time
import zlib
from typing import Any, AsyncIterator, Optional

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
  .row { display: flex; align-items: center; gap: 12px; }
  #image { border-radius: 4px; background: #eee; }
</style></head>
<body>
<header><h1>JavaScript awaiting async Python</h1>
<p>asyncio runs as a guest of this window's own GUI loop &mdash; one thread for both, no polling</p>
</header>
<main>
<section><h2>Live</h2><div class="live">
  <span id="clock">page clock: -</span><span id="counter">python counter: -</span>
  <span id="latency">timer latency: -</span></div></section>
<section><h2>Download from a local server (a stream of progress)</h2>
  <button id="dl" onclick="doDownload()">Download</button>
  <button id="cancel" onclick="cancelDownload()" disabled>Cancel</button>
  <progress id="bar" value="0" max="1"></progress>
  <div class="out" id="dl-out">&nbsp;</div>
  <div class="out" id="dl-aborted">&nbsp;</div></section>
<section><h2>An image made in Python, passed as bytes</h2>
  <div class="row"><button id="render" onclick="doRender()">Render</button>
  <img id="image" alt="" width="240" height="80">
  <div class="out" id="render-out">&nbsp;</div></div></section>
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
  asyncioGuest.on("live", (p) => {
    $("counter").textContent = "python counter: " + p.count;
    $("latency").textContent = p.latency;
  });
  setInterval(() => {
    $("clock").textContent = "page clock: " + new Date().toLocaleTimeString();
  }, 200);
  let downloadAbort = null;
  async function doDownload(cancelAfterBytes) {
    $("dl").disabled = true; $("cancel").disabled = false;
    downloadAbort = new AbortController();
    try {
      for await (const p of download(downloadAbort.signal)) {
        $("bar").max = p.total || 1; $("bar").value = p.received;
        if (p.done) {
          show("dl-out", "downloaded " + p.received.toLocaleString() + " bytes in "
               + p.seconds.toFixed(2) + " s, content " + (p.ok ? "verified" : "CORRUPT"),
               p.ok ? "ok" : "err");
        } else {
          show("dl-out", "received " + p.received.toLocaleString() + " of "
               + p.total.toLocaleString() + " bytes");
          if (cancelAfterBytes && p.received >= cancelAfterBytes) { cancelDownload(); }
        }
      }
    } catch (e) {
      if (e.name === "AbortError") {
        const text = "cancelled at " + $("bar").value.toLocaleString() + " bytes: " + e.name;
        show("dl-out", text);
        show("dl-aborted", "last cancel: " + text);
      } else {
        show("dl-out", e.message, "err");
      }
    } finally { $("dl").disabled = false; $("cancel").disabled = true; downloadAbort = null; }
  }
  function cancelDownload() { if (downloadAbort) { downloadAbort.abort(); } }
  let imageUrl = null;
  async function doRender() {
    const t0 = performance.now();
    const png = await render(240, 80, Date.now() % 360);
    if (imageUrl) { URL.revokeObjectURL(imageUrl); }
    imageUrl = URL.createObjectURL(new Blob([png], {type: "image/png"}));
    $("image").src = imageUrl;
    show("render-out", png.constructor.name + " of " + png.length.toLocaleString()
         + " bytes in " + (performance.now() - t0).toFixed(0) + " ms", "ok");
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
    await doDownload(700000);              // cancelled through the abort path
    const cancelled = $("dl-out").textContent;
    $("dl-aborted").textContent += "; in Python the download was " + await python_download_state();
    await doDownload();                    // then a full one
    await doRender(); await doCompute(); await doRaise();
    return {cancelled, aborted: $("dl-aborted").textContent,
            downloaded: $("dl-out").textContent, image: $("render-out").textContent,
            computed: $("compute-out").textContent, raised: $("raise-out").textContent};
  };
</script>
</body></html>
"""


def _sha_rounds(rounds: int) -> str:
    digest = b"asyncio-guest"
    for _ in range(rounds):
        digest = hashlib.sha256(digest).digest()
    return digest.hex()


def _png(width: int, height: int, pixels: bytes) -> bytes:
    """A truecolour PNG of ``pixels`` (rows of RGB bytes), with the standard library only."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    stride = width * 3
    raw = b"".join(b"\x00" + pixels[y * stride : (y + 1) * stride] for y in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 6))
        + chunk(b"IEND", b"")
    )


def render_image(width: int, height: int, hue: float) -> bytes:
    """A colourful wave as PNG bytes (what the page shows after Render)."""
    pixels = bytearray()
    for y in range(height):
        for x in range(width):
            wave = math.sin(x / 14.0 + math.cos(y / 9.0)) * 0.5 + 0.5
            angle = math.radians(hue + x * 0.8 + y * 0.5)
            pixels += bytes(
                int(255 * wave * (0.5 + 0.5 * math.cos(angle + shift)))
                for shift in (0.0, 2.094, 4.189)
            )
    return _png(width, height, bytes(pixels))


class WebviewSample:
    """Binds the page's Python side; the guest's main coroutine is :meth:`main`."""

    def __init__(self, webview: Webview) -> None:
        self.webview = webview
        self.server: Optional[common.DemoServer] = None
        self.count = 0
        self.latency = "timer latency: -"
        self.last_download = ""
        self.download_closed: Optional[asyncio.Event] = None
        webview.bind("download", self.download)
        webview.bind("render", self.render)
        webview.bind("compute", self.compute)
        webview.bind("fail", self.fail)
        webview.bind("python_download_state", self.download_state)

    async def download(self) -> AsyncIterator[dict[str, Any]]:
        """Download from the local server; yields progress, then the result."""
        if self.server is None:
            raise RuntimeError("the local server is not up yet")
        server = self.server
        closed = self.download_closed = asyncio.Event()
        progress: asyncio.Queue[tuple[int, int]] = asyncio.Queue()
        started = time.perf_counter()
        task = asyncio.ensure_future(
            common.download(server.url, lambda got, total: progress.put_nowait((got, total)))
        )
        try:
            while not task.done() or not progress.empty():
                getter = asyncio.ensure_future(progress.get())
                await asyncio.wait({getter, task}, return_when=asyncio.FIRST_COMPLETED)
                if not getter.done():
                    getter.cancel()
                    continue
                received, total = getter.result()
                yield {"received": received, "total": total, "done": False}
            body = task.result()
            self.last_download = "done"
            yield {
                "received": len(body),
                "total": len(body),
                "done": True,
                "seconds": time.perf_counter() - started,
                "ok": body == common.expected_body(server.size),
            }
        finally:
            if not task.done():
                # The page broke out of its loop or aborted: stop the transfer.
                self.last_download = "cancelled"
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
            closed.set()

    async def download_state(self) -> str:
        """How the last download ended, once its generator has closed."""
        if self.download_closed is not None:
            await self.download_closed.wait()
        return self.last_download

    async def render(self, width: int, height: int, hue: float) -> bytes:
        if not (0 < width <= 2000 and 0 < height <= 2000):
            raise ValueError(f"size must be within 1..2000, got {width}x{height}")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(None, render_image, width, height, hue)

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

    async def _push_live(self) -> None:
        """Forever: the counter and the timer latency, as a "live" event to the page."""
        while True:
            await asyncio.sleep(0.1)
            self.count += 1
            await self.webview.emit("live", {"count": self.count, "latency": self.latency})

    def _on_latency(self, stats: common.LatencyStats) -> None:
        self.latency = common.format_latency(stats)

    async def main(self, demo: bool, quit_after: float) -> None:
        async with await common.start_server() as server:
            self.server = server
            tasks = [
                asyncio.ensure_future(self._push_live()),
                asyncio.ensure_future(common.probe_latency(self._on_latency)),
            ]
            try:
                if demo:
                    # Drive the page as a user would; "demo: done" marks the end (the
                    # screenshot script waits for it).
                    outcome = await self.webview.evaluate("window.demo()")
                    for key, value in outcome.items():
                        print(f"demo: {key}: {value}", flush=True)
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
    parser.add_argument(
        "--demo", action="store_true", help="cancel a download, then click every button"
    )
    parser.add_argument(
        "--quit-after", type=float, default=0, help="close N seconds after start (or the demo)"
    )
    args = parser.parse_args(argv)
    webview = Webview(size=Size(760, 650))
    webview.title = "asyncio-guest on a webview"
    sample = WebviewSample(webview)
    webview.set_html(PAGE)
    try:
        run(sample.main, args.demo, args.quit_after, webview=webview)  # None once closed
    finally:
        webview.destroy()
    return 0


if __name__ == "__main__":
    sys.exit(main())
