"""The adapter for the ``webview-python`` package (``import webview``).

Needs webview-python installed with a libwebview it can load.  Offline, its import-time
download cannot work, so ``scripts/install-webview.sh`` builds libwebview here
(``scripts/build-libwebview.sh``) and imports ``webview`` once with
``WEBVIEW_DOWNLOAD_BASE``/``WEBVIEW_VERSION`` pointing at it, which copies the library
into the package.  These tests are skipped where that was not done.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from webview_harness import run_scenario


def _webview_python_ready() -> bool:
    # Import in a child: a failing import-time download must not break this process.
    probe = subprocess.run(
        [sys.executable, "-c", "import webview._webview_ffi"],
        capture_output=True,
        timeout=60,
    )
    return probe.returncode == 0


pytestmark = pytest.mark.skipif(
    # webview-python has no wheel for 3.9; elsewhere CI installs it, so it must not skip.
    sys.version_info < (3, 10) or (not os.environ.get("CI") and not _webview_python_ready()),
    reason="webview-python is not installed with a loadable libwebview "
    "(scripts/install-webview.sh installs it where a wheel exists: Python >= 3.10)",
)


def test_stock_webview_python_leaves_async_promises_pending() -> None:
    # The problem the adapter solves, shown on the unmodified package.
    result = run_scenario(
        """
        import webview
        wv = webview.Webview()
        wv.size = webview.Size(300, 200, webview.SizeHint.NONE)
        state = {}
        async def add(a, b):
            return a + b
        def report(value):
            state["report"] = value
        wv.bind("add", add)
        wv.bind("report", report)
        wv.navigate("data:text/html,<script>add(1,2).then(v=>report('settled '+v));"
                    "setTimeout(()=>report('pending'),1500)</script>")
        threading.Timer(2.5, lambda: webview._webview_ffi._webview_lib.webview_terminate(
            wv._handle)).start()
        import warnings
        warnings.simplefilter("ignore")
        try:
            wv.run()
        except Exception as exc:
            state["run_error"] = repr(exc)
        emit(**state)
        os._exit(0)  # its ensure_future left a never-awaited coroutine behind
        """
    )
    assert result.get("report") == "pending", result


def test_adapter_settles_async_bindings_and_cleans_up() -> None:
    result = run_scenario(
        """
        from asyncio_guest_webview.compat_webview_python import Webview, Size, SizeHint
        import webview
        wv = Webview()
        wv.size = Size(400, 300, SizeHint.NONE)
        wv.title = "compat"
        async def slow_add(a, b):
            await asyncio.sleep(0.3)
            return a + b
        async def boom():
            raise ValueError("compat boom")
        def sync_mul(a, b):
            return a * b
        def report(value):
            emit(**value)
            wv.terminate()
        errors = {}
        for label, fn in [("non_callable", lambda: wv.bind("x", 1)),
                          ("duplicate", lambda: wv.bind("report", report))]:
            try:
                wv.bind("report", report) if label == "duplicate" else None
                fn()
            except (TypeError, ValueError) as exc:
                errors[label] = type(exc).__name__
        wv.bind("slow_add", slow_add)
        wv.bind("boom", boom)
        wv.bind("sync_mul", sync_mul)
        async def from_python():
            return await wv.evaluate("document.title + '!'")
        wv.bind("from_python", from_python)
        wv.set_html('''<script>
        (async () => {
          const t0 = performance.now();
          const values = await Promise.all([slow_add(1, 2), slow_add(3, 4), sync_mul(5, 6)]);
          const ms = performance.now() - t0;
          let message;
          try { await boom(); } catch (e) { message = e.message; }
          document.title = "page";
          report({values, ms, message, evaluated: await from_python()});
        })();
        </script>''')
        emit(is_subclass=isinstance(wv, webview.Webview), errors=errors)
        wv.run()
        emit(guest_io_threads=guest_io_threads(), python_threads=python_threads(),
             handle=wv._handle)
        """
    )
    assert result["is_subclass"] is True
    assert result["errors"] == {"non_callable": "TypeError", "duplicate": "ValueError"}
    assert result["values"] == [3, 7, 30]
    # The two 0.3 s sleeps overlap: in sequence they would take at least 600 ms.
    assert result["ms"] < 550, result["ms"]
    assert result["message"] == "ValueError: compat boom"
    assert result["evaluated"] == "page!"
    assert result["guest_io_threads"] == 0
    assert result["python_threads"] == ["MainThread"]
    assert result["handle"] is None


def test_adapter_close_during_a_call_cancels_it() -> None:
    result = run_scenario(
        """
        from asyncio_guest_webview.compat_webview_python import Webview
        wv = Webview()
        state = {}
        async def forever():
            asyncio.get_running_loop().call_later(0.2, wv.close)
            try:
                await asyncio.sleep(30)
            except asyncio.CancelledError:
                state["cancelled"] = True
                raise
        wv.bind("forever", forever)
        wv.set_html("<script>forever()</script>")
        started = time.perf_counter()
        wv.run()
        emit(elapsed=time.perf_counter() - started, guest_io_threads=guest_io_threads(),
             **state)
        """
    )
    assert result["cancelled"] is True
    assert result["elapsed"] < 5
    assert result["guest_io_threads"] == 0
