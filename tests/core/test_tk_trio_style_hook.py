"""The Trio-style Tk hook ``lambda fn: root.after(0, fn)`` works unchanged.

tkinter's ``after`` (3.9 and earlier code paths) reads ``func.__name__`` of what
it is given, so the callable handed to host hooks must look like a function.
Runs a real Tk in a child process under Xvfb.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap

import pytest

CHILD = textwrap.dedent(
    """
    import asyncio, socket, tkinter
    import asyncio_guest

    root = tkinter.Tk()
    results = []
    seen = {}

    def post(fn):
        seen.setdefault("name", fn.__name__)
        seen.setdefault("qualname", fn.__qualname__)
        seen.setdefault("module", fn.__module__)
        seen.setdefault("repr", repr(fn))
        root.after(0, fn)

    async def main():
        a, b = socket.socketpair()
        with a, b:
            loop = asyncio.get_running_loop()
            a.setblocking(False)
            b.setblocking(False)
            await asyncio.sleep(0.05)  # a wait on the worker, posted back with after()
            loop.call_later(0.02, b.send, b"x")
            return await loop.sock_recv(a, 1)

    def done(result):
        results.append(result)
        root.destroy()

    asyncio_guest.start_guest_run(
        main, run_sync_soon_threadsafe=post, done_callback=done, inline_wait=0
    )
    root.after(20000, root.destroy)  # a bound on the whole test
    root.mainloop()
    print(results[0].unwrap(), seen)
    """
)


def test_tk_after_accepts_the_guest_callable() -> None:
    command = [sys.executable, "-c", CHILD]
    if not os.environ.get("DISPLAY"):
        xvfb = shutil.which("xvfb-run")
        if xvfb is None:
            pytest.skip("needs a display or xvfb-run")
        command = [xvfb, "-a", "-s", "-screen 0 640x480x24 -noreset", *command]
    try:
        import tkinter  # noqa: F401
    except ImportError:
        pytest.skip("tkinter is not installed in this Python")
    proc = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("b'x' "), proc.stdout
    assert "'name': 'asyncio_guest_tick'" in proc.stdout
    assert "'qualname': 'asyncio_guest_tick'" in proc.stdout
    assert "'module': 'asyncio_guest." in proc.stdout
    assert "tick of guest run" in proc.stdout
