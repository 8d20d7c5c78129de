"""Webview test harness: each scenario runs in its own Python subprocess with a watchdog.

Why a subprocess per test: GTK is initialised once per process and a hung GUI loop
cannot be interrupted from pytest; a child can simply be killed.  The child gets a
watchdog thread that ``os._exit``s it, and the parent a ``subprocess`` timeout on top.

Run them under a virtual display::

    xvfb-run -a python -m pytest webview/tests

They are skipped (with the reason) when ``asyncio_guest_webview`` is not installed in
this interpreter (it is an optional package: ``webview/scripts/install-webview.sh``) or when
there is no X display.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from typing import Any, Optional

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))  # the repository

#: Environment for WebKitGTK under Xvfb: software rendering without compositing
#: (avoids blank painting), and silence the a11y-bus noise.
WEBKIT_ENV = {
    "WEBKIT_DISABLE_COMPOSITING_MODE": "1",
    "WEBKIT_DISABLE_DMABUF_RENDERER": "1",
    "NO_AT_BRIDGE": "1",
    "LIBGL_ALWAYS_SOFTWARE": "1",
}

#: Prepended to every child scenario: a watchdog, and helpers to report results.
PRELUDE = """
import asyncio, json, os, sys, threading, time
WATCHDOG_SECONDS = {watchdog}

def _watchdog():
    sys.stdout.write("WATCHDOG: scenario did not finish in %s s\\n" % WATCHDOG_SECONDS)
    sys.stdout.flush()
    import faulthandler
    faulthandler.dump_traceback(all_threads=True)  # to stderr: where it hung
    os._exit(3)

_timer = threading.Timer(WATCHDOG_SECONDS, _watchdog)
_timer.daemon = True
_timer.name = "watchdog"
_timer.start()

def emit(**result):
    sys.stdout.write("RESULT:" + json.dumps(result) + "\\n")
    sys.stdout.flush()

def guest_io_threads():
    # The asyncio-guest worker is a Rust thread named "asyncio-guest-io" (comm is
    # truncated to 15 characters); count the ones still alive in this process.
    n = 0
    for tid in os.listdir("/proc/self/task"):
        try:
            with open("/proc/self/task/%s/comm" % tid) as f:
                if f.read().startswith("asyncio-guest"):
                    n += 1
        except OSError:
            pass
    return n

def python_threads():
    return sorted(t.name for t in threading.enumerate() if t.name != "watchdog")
"""


def run_scenario(
    code: str,
    *,
    watchdog: float = 40.0,
    env: Optional[dict[str, str]] = None,
    expect_exit: int = 0,
) -> dict[str, Any]:
    """Run ``code`` (after :data:`PRELUDE`) in a child; return what it ``emit``-ted."""
    source = PRELUDE.format(watchdog=watchdog) + textwrap.dedent(code)
    child_env = dict(os.environ)
    child_env.update(WEBKIT_ENV)
    if env:
        child_env.update(env)
    proc = subprocess.run(
        [sys.executable, "-c", source],
        capture_output=True,
        text=True,
        timeout=watchdog + 20,
        env=child_env,
        cwd=ROOT,
    )
    results = [
        json.loads(line[len("RESULT:") :])
        for line in proc.stdout.splitlines()
        if line.startswith("RESULT:")
    ]
    detail = f"exit {proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr[-4000:]}"
    assert "WATCHDOG" not in proc.stdout, detail
    assert proc.returncode == expect_exit, detail
    assert results, f"scenario emitted nothing\n{detail}"
    merged: dict[str, Any] = {}
    for result in results:
        merged.update(result)
    merged["_stderr"] = proc.stderr
    return merged


def page_scenario(
    setup: str, page_js: str, after: str = "", webview_args: str = "", **kwargs: Any
) -> dict[str, Any]:
    """A scenario with a ``Webview`` ``wv`` whose page runs ``page_js`` in an async function.

    ``setup`` (Python) binds what the page needs; the page ends by calling
    ``report({...})`` (bound here), which emits the object and calls ``wv.terminate()``.
    A JS exception is reported as ``{"js_error": "..."}``.  After ``run()`` returns the
    scenario emits ``after_run`` facts (threads left, elapsed), then runs ``after``.
    ``webview_args`` is the text of the ``Webview(...)`` arguments.
    """
    code = f"""
from asyncio_guest_webview import Webview, Size
wv = Webview({webview_args})
wv.size = Size(480, 320)
def report(result):
    emit(**result)
    wv.terminate()
wv.bind("report", report)
{textwrap.dedent(setup)}
wv.set_html('''<!doctype html><html><body><p id="out">running</p><script>
(async () => {{
  try {{
{textwrap.indent(textwrap.dedent(page_js), "    ")}
  }} catch (e) {{
    report({{js_error: String(e && e.stack || e)}});
  }}
}})();
</script></body></html>''')
started = time.perf_counter()
wv.run()
emit(elapsed=time.perf_counter() - started, guest_io_threads=guest_io_threads(),
     python_threads=python_threads(), destroyed=wv.destroyed)
{textwrap.dedent(after)}
"""
    return run_scenario(code, **kwargs)
