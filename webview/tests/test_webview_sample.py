"""The sample (``python -m asyncio_guest_webview.sample``) runs its demo and quits."""

from __future__ import annotations

import os
import subprocess
import sys

from webview_harness import ROOT, WEBKIT_ENV


def test_sample_demo_runs_and_quits() -> None:
    env = dict(os.environ)
    env.update(WEBKIT_ENV)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "asyncio_guest_webview.sample",
            "--demo",
            "--quit-after",
            "0.3",
        ],
        capture_output=True,
        text=True,
        timeout=90,
        env=env,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert "demo: done" in proc.stdout
    # The abort path: the page saw an AbortError, and Python closed the generator, whose
    # finally cancelled the download task.
    assert "demo: cancelled: cancelled at " in proc.stdout
    assert "bytes: AbortError" in proc.stdout
    assert "demo: downloaded: downloaded " in proc.stdout
    assert "content verified" in proc.stdout
    assert "demo: aborted: last cancel: cancelled at " in proc.stdout
    assert "in Python the download was cancelled" in proc.stdout
    assert "demo: image: Uint8Array of " in proc.stdout
    assert "demo: raised: rejected: ValueError: this coroutine raised as requested" in proc.stdout
    assert "Traceback" not in proc.stderr, proc.stderr[-4000:]
