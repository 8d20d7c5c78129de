"""Both ways a host can carry the guest's I/O wait, for every host that offers both:
the worker thread (posting back with run_sync_soon_threadsafe) and the thread-free mode
(the host watches the guest poller's descriptor itself: ``wait_readable``).

Each case runs a real guest in a child process: socket I/O, a timer, a wakeup from a host
callback, a ``call_soon_threadsafe`` from another thread and an executor job, then checks
which path carried the waits (the loop's counters) and that no thread or fd is left.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from tests._support.child import ROOT, display_env

CHILD = textwrap.dedent(
    """
    import asyncio, json, os, sys, threading

    HOST, THREAD_FREE = sys.argv[1], sys.argv[2] == "1"

    from tests._support.leaks import fd_count, thread_count

    def counts():
        return thread_count(), fd_count()

    async def guest(poke):
        loop = asyncio.get_running_loop()

        async def echo(reader, writer):
            writer.write(await reader.readline())
            await writer.drain()
            writer.close()

        server = await asyncio.start_server(echo, "127.0.0.1", 0)
        reader, writer = await asyncio.open_connection(
            "127.0.0.1", server.sockets[0].getsockname()[1])
        writer.write(b"ping\\n")
        echoed = await reader.readline()
        writer.close()
        server.close()
        await server.wait_closed()
        await asyncio.sleep(0.02)
        poked = loop.create_future()
        poke(lambda: poked.set_result("host"))      # resolved from a host callback
        by_host = await poked
        other = loop.create_future()
        threading.Timer(0.02, loop.call_soon_threadsafe, (other.set_result, "thread")).start()
        by_thread = await other
        total = await loop.run_in_executor(None, sum, [1, 2, 3])
        return {"echoed": echoed.decode(), "by_host": by_host, "by_thread": by_thread,
                "total": total, "stats": loop.guest_stats()}

    # `before` is taken once the toolkit is up (its X connection is not ours to count).
    if HOST == "tkinter":
        from asyncio_guest.hosts import tk as mod
        import tkinter
        root = tkinter.Tk()
        host = mod.TkHost(root, thread_free=THREAD_FREE)
        poke = lambda fn: root.after(30, fn)
        from asyncio_guest.hosts import run_on_host
        # Tcl starts its notifier thread (and its pipe) the first time it waits for
        # events: let it, so that what is counted is ours.
        root.after(10, root.quit)
        root.mainloop()
        before = counts()
        result = run_on_host(host, guest, poke)
        host.close()
    elif HOST == "gtk":
        import gi
        gi.require_version("Gtk", "3.0")
        from gi.repository import GLib
        from asyncio_guest.hosts import gtk as mod
        host = mod.GLibHost(thread_free=THREAD_FREE)
        poke = lambda fn: GLib.timeout_add(30, lambda: fn() or False)
        before = counts()
        result = mod.run(guest, poke, host=host)
    elif HOST == "asyncio":
        from asyncio_guest.hosts import asyncio_host as mod
        host = mod.AsyncioHost(thread_free=THREAD_FREE)
        poke = lambda fn: host.loop.call_later(0.03, fn)
        before = counts()
        result = host.loop.run_until_complete(mod.run_as_guest(guest, poke, host=host))
    elif HOST == "tornado":
        from asyncio_guest.hosts import tornado_host as mod
        from asyncio_guest.hosts.asyncio_host import run_as_guest
        host = mod.TornadoHost(thread_free=THREAD_FREE)
        poke = lambda fn: host.io_loop.call_later(0.03, fn)
        before = counts()
        result = host.io_loop.run_sync(lambda: run_as_guest(guest, poke, host=host))
    elif HOST == "builtin":
        from asyncio_guest.hosts import run_on_host
        from asyncio_guest.hosts.builtin import QueueHost
        host = QueueHost(thread_free=THREAD_FREE)
        poke = lambda fn: host.call_later(0.03, fn)
        before = counts()
        result = run_on_host(host, guest, poke)
    import gc, time
    gc.collect()
    deadline = time.monotonic() + 5
    while counts()[0] > before[0] and time.monotonic() < deadline:
        time.sleep(0.02)  # executor threads are joined at teardown; give the OS a moment
    result["leaked"] = [a - b for a, b in zip(counts(), before)]
    print(json.dumps(result))
    """
)


@pytest.mark.parametrize("thread_free", [True, False], ids=["thread-free", "worker"])
@pytest.mark.parametrize("host", ["builtin", "tkinter", "gtk", "asyncio", "tornado"])
def test_both_wait_modes(host: str, thread_free: bool) -> None:
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, host, "1" if thread_free else "0"],
        capture_output=True,
        text=True,
        timeout=120,
        env=display_env(),
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["echoed"] == "ping\n"
    assert (result["by_host"], result["by_thread"], result["total"]) == ("host", "thread", 6)
    waits = result["stats"]["worker_waits"]
    if thread_free:
        assert waits == 0, result["stats"]
    else:
        assert waits > 0, result["stats"]
    assert result["leaked"][0] <= 0, f"threads left: {result['leaked']}"
    assert result["leaked"][1] <= 0, f"fds left: {result['leaked']}"
