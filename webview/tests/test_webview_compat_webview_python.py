"""The adapter for the ``webview-python`` package (``import webview``).

Needs webview-python installed with a libwebview it can load.  Offline, its import-time
download cannot work, so ``webview/scripts/install-webview.sh`` builds libwebview here
(``webview/scripts/build-libwebview.sh``) and imports ``webview`` once with
``WEBVIEW_DOWNLOAD_BASE``/``WEBVIEW_VERSION`` pointing at it, which copies the library
into the package.  These tests are skipped where that was not done.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

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
    "(webview/scripts/install-webview.sh installs it where a wheel exists: Python >= 3.10)",
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
        def terminate():
            webview._webview_ffi._webview_lib.webview_terminate(wv._handle)
        def report(value):
            state["report"] = value
            terminate()  # the page decided: settled, or still pending after 1.5 s
        wv.bind("add", add)
        wv.bind("report", report)
        wv.navigate("data:text/html,<script>add(1,2).then(v=>report('settled '+v));"
                    "setTimeout(()=>report('pending'),1500)</script>")
        threading.Timer(30, terminate).start()  # only if the page never reports
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
        active = peak = 0
        async def slow_add(a, b):
            global active, peak
            active += 1
            peak = max(peak, active)
            try:
                await asyncio.sleep(0.3)
                return a + b
            finally:
                active -= 1
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
          const values = await Promise.all([slow_add(1, 2), slow_add(3, 4), sync_mul(5, 6)]);
          let message;
          try { await boom(); } catch (e) { message = e.message; }
          document.title = "page";
          report({values, message, evaluated: await from_python()});
        })();
        </script>''')
        emit(is_subclass=isinstance(wv, webview.Webview), errors=errors)
        wv.run()
        emit(guest_io_threads=guest_io_threads(), python_threads=python_threads(),
             handle=wv._handle, peak=peak)
        """
    )
    assert result["is_subclass"] is True
    assert result["errors"] == {"non_callable": "TypeError", "duplicate": "ValueError"}
    assert result["values"] == [3, 7, 30]
    # The two sleeps overlapped: both calls were in flight at once.
    assert result["peak"] == 2
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
    assert result["guest_io_threads"] == 0


#: Replaces webview-python's ctypes library with a proxy that hides some C functions, the
#: way an older libwebview lacks them (ctypes raises AttributeError for a missing symbol).
HIDE_SYMBOLS = """
import webview._webview_ffi as ffi

class Hiding:
    def __init__(self, lib, hidden):
        object.__setattr__(self, "_lib", lib)
        object.__setattr__(self, "_hidden", frozenset(hidden))
    def __getattr__(self, name):
        if name in self._hidden:
            raise AttributeError(f"{self._lib._name}: undefined symbol: {name}")
        return getattr(self._lib, name)

ffi._webview_lib.lib = Hiding(ffi._webview_lib.lib, HIDDEN)
"""


def test_adapter_falls_back_without_set_html_and_get_window() -> None:
    result = run_scenario(
        "HIDDEN = ['webview_set_html', 'webview_get_window']\n"
        + HIDE_SYMBOLS
        + textwrap.dedent(
            """
        from asyncio_guest_webview import compat_webview_python as compat
        wv = compat.Webview()
        async def echo(data):
            await asyncio.sleep(0.01)
            return data
        def report(value):
            emit(report=value)
            asyncio.get_running_loop().call_later(0.1, wv.close)
        wv.bind("echo", echo)
        wv.bind("report", report)
        wv.set_html("<p>d\u00e9j\u00e0 vu</p><script>echo(new Uint8Array([1, 2])).then(v =>"
                    " report({bytes: Array.from(v), text: document.querySelector('p')"
                    ".textContent}))"
                    "</script>")
        wv.run()
        emit(available=compat.AVAILABLE, guest_io_threads=guest_io_threads())
        """
        )
    )
    assert result["available"] == {
        "webview_dispatch": True,
        "webview_set_html": False,
        "webview_get_window": False,
    }
    # set_html went through a data: URL (non-ASCII text intact); close() used terminate.
    assert result["report"] == {"bytes": [1, 2], "text": "d\u00e9j\u00e0 vu"}
    assert result["guest_io_threads"] == 0


def test_adapter_without_dispatch_refuses_clearly_and_creates_nothing() -> None:
    result = run_scenario(
        "HIDDEN = ['webview_dispatch']\n"
        + HIDE_SYMBOLS
        + textwrap.dedent(
            """
        from asyncio_guest_webview import compat_webview_python as compat
        try:
            compat.Webview()
        except RuntimeError as exc:
            emit(error=str(exc))
        emit(available=compat.AVAILABLE["webview_dispatch"], threads=python_threads())
        """
        )
    )
    assert result["available"] is False
    assert "has no webview_dispatch, which running asyncio as its guest needs" in result["error"]
    assert "libwebview.x86_64.so" in result["error"]
    assert "build-libwebview.sh" in result["error"]
    assert result["threads"] == ["MainThread"]
