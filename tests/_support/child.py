"""One child-process runner for GUI tests of every host.

Toolkits do not all fit in one process (GTK 3 and GTK 4, pygame-ce and classic pygame, three
Qt bindings), and a toolkit that crashes must not take pytest down, so a test runs a script
in a child interpreter with a display and reads the one ``RESULT <json>`` line it prints.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, Optional

ROOT = Path(__file__).resolve().parents[2]
_xvfb: Optional[subprocess.Popen[bytes]] = None


def display_env() -> dict[str, str]:
    """Environment with a usable X display: the current one, or an Xvfb started once."""
    global _xvfb
    env = dict(os.environ)
    if env.get("DISPLAY"):
        return env
    if _xvfb is None and not os.environ.get("ASYNCIO_GUEST_TEST_DISPLAY"):
        xvfb = shutil.which("Xvfb")
        if xvfb is None:
            raise RuntimeError("no DISPLAY and no Xvfb: install xvfb (make install)")
        read_fd, write_fd = os.pipe()
        # -noreset: otherwise the server resets whenever its last client disconnects, and a
        # child connecting during the reset fails.
        _xvfb = subprocess.Popen(
            [xvfb, "-displayfd", str(write_fd), "-screen", "0", "1024x768x24", "-nolisten",
             "tcp", "-noreset"],
            pass_fds=(write_fd,),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        os.close(write_fd)
        with os.fdopen(read_fd) as f:
            number = f.readline().strip()
        if not number:
            raise RuntimeError("Xvfb did not report a display number")
        os.environ["ASYNCIO_GUEST_TEST_DISPLAY"] = f":{number}"
    env["DISPLAY"] = os.environ["ASYNCIO_GUEST_TEST_DISPLAY"]
    return env


def stop_xvfb() -> None:
    global _xvfb
    if _xvfb is not None:
        _xvfb.terminate()
        _xvfb.wait(10)
        _xvfb = None


def run_child(
    script: Path,
    *args: str,
    python: str = sys.executable,
    timeout: float = 150,
    extra_env: Optional[dict[str, str]] = None,
) -> dict[str, Any]:
    """Run ``python script args`` with a display and return its RESULT json (plus the
    child's stderr tail as ``_stderr``)."""
    env = display_env()
    env.update(extra_env or {})
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(ROOT / "python"), str(ROOT), env.get("PYTHONPATH", "")) if p
    )
    proc = subprocess.run(
        [python, str(script), *args],
        env=env,
        cwd=str(ROOT),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            data: dict[str, Any] = json.loads(line[len("RESULT ") :])
            data["_stderr"] = proc.stderr[-4000:]
            return data
    raise AssertionError(
        f"child {script.name} {' '.join(args)} failed (rc={proc.returncode}):\n"
        f"--- stdout\n{proc.stdout[-4000:]}\n--- stderr\n{proc.stderr[-8000:]}"
    )
