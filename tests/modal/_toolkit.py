"""The scenario every toolkit's blocking modal calls must pass, and the child-process runner.

Toolkits do not all fit in one process (Qt bindings, GTK versions), so each toolkit test
runs its scenarios in a child interpreter (its own test file run as a script) that prints
one JSON line, and the parent checks it.

The scenario, for each kind of modal call a toolkit has (``QDialog.exec``, ``wait_window``,
``messagebox``...), run *directly* from a guest task (no ``asyncio_guest.modal``):

* a counter task must advance while the dialog is up;
* a download (a local TCP server streaming 256 KiB in small, spaced chunks) must progress;
* a button in the dialog (or, for a stock dialog without one of ours, a host timer inside
  its loop) starts a new task, which must finish before the dialog closes;
* a task started from inside the dialog opens a second dialog directly (a dialog inside the
  dialog, a tick inside a tick inside a tick), during which the counter advances again;
* after the dialog returns, ``current_task()`` is the blocked task again.

The dialog closes itself (from a host timer) only once all of that happened; a bound (30 s)
closes it anyway and the result then shows what did not happen.  Then the run quits while
a dialog is up (the main task returns), which must close it and finish cleanly.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Callable, Optional

from tests._support.counter import Counter

ROOT = Path(__file__).resolve().parents[2]
BOUND = 30.0
PAYLOAD = 256 * 1024
CHUNK = 4096


class Control:
    """What a toolkit's ``modal`` hands the scenario once the dialog's loop runs."""

    def __init__(
        self,
        close: Callable[[], None],
        click: Optional[Callable[[], None]],
    ) -> None:
        self.close = close
        #: Clicks a button inside the dialog (None for stock dialogs); its handler calls
        #: :attr:`on_button`.
        self.click = click
        self.on_button: Callable[[], None] = lambda: None


class Kit:
    """One toolkit: its kinds of blocking modal calls and how to drive them."""

    name = "?"
    kinds: tuple[str, ...] = ()
    modes: tuple[bool, ...] = (True, False)
    #: The kind of the dialog opened from inside a dialog of each kind (default: the next).
    inner_kinds: dict[str, str] = {}

    def run(self, async_fn: Callable[[], Any], thread_free: bool) -> Any:
        raise NotImplementedError

    def call_later(self, ms: int, fn: Callable[[], None]) -> None:
        """A host timer (runs in whatever host loop is running, nested ones included)."""
        raise NotImplementedError

    def modal(self, kind: str, on_open: Callable[[Control], None]) -> Any:
        """Show a dialog of ``kind`` with the toolkit's *blocking* call and return its
        result; ``on_open(control)`` is called from a host timer once its loop runs."""
        raise NotImplementedError


def _serve(server: socket.socket) -> None:
    conn, _ = server.accept()
    with conn:
        sent = 0
        while sent < PAYLOAD:
            conn.sendall(b"x" * CHUNK)
            sent += CHUNK
            time.sleep(0.002)
    server.close()


async def _download(state: dict[str, Any]) -> None:
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]
    threading.Thread(target=_serve, args=(server,), daemon=True).start()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                return
            state["received"] += len(data)
    finally:
        writer.close()


def _scenario(kit: Kit, kind: str, inner_kind: str) -> Callable[[], Any]:
    async def main() -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        state: dict[str, Any] = {"received": 0}
        counter = Counter(0.005)
        download = asyncio.create_task(_download(state))
        await asyncio.sleep(0.01)
        me = asyncio.current_task()
        out: dict[str, Any] = {}
        give_up = time.monotonic() + BOUND
        c0 = counter.count
        button_job: list[asyncio.Task[str]] = []
        inner: list[asyncio.Task[Any]] = []

        async def started_by_button() -> str:
            await asyncio.sleep(0.01)
            return "done"

        async def open_inner() -> Any:
            c1 = counter.count

            def inner_open(ctl: Control) -> None:
                def poll() -> None:
                    if counter.count >= c1 + 5 or time.monotonic() > give_up:
                        out["inner_counter_advance"] = counter.count - c1
                        ctl.close()
                    else:
                        kit.call_later(10, poll)

                poll()

            result = kit.modal(inner_kind, inner_open)  # blocking, inside a nested tick
            await asyncio.sleep(0)
            return result

        def on_open(ctl: Control) -> None:
            def press() -> None:
                button_job.append(loop.create_task(started_by_button()))

            ctl.on_button = press
            if ctl.click is not None:
                ctl.click()
                out["button"] = "clicked"
            else:
                press()  # a host callback inside the stock dialog's loop
                out["button"] = "host timer"

            def poll() -> None:
                late = time.monotonic() > give_up
                ready = (
                    button_job
                    and button_job[0].done()
                    and counter.count >= c0 + 10
                    and state["received"] > 0
                )
                if ready and not inner:
                    out["counter_before_inner"] = counter.count - c0
                    inner.append(loop.create_task(open_inner()))
                if late or (inner and inner[0].done() and download.done()):
                    out["closed_by"] = "bound" if late else "scenario"
                    out["button_job_done"] = bool(button_job) and button_job[0].done()
                    out["inner_done"] = bool(inner) and inner[0].done()
                    out["download_done"] = download.done()
                    out["received_in_dialog"] = state["received"]
                    out["counter_advance"] = counter.count - c0
                    ctl.close()
                else:
                    kit.call_later(10, poll)

            poll()

        out["result"] = repr(kit.modal(kind, on_open))  # the direct, blocking call
        out.setdefault("closed_by", "the toolkit, before the scenario was complete")
        out["current_task_restored"] = asyncio.current_task() is me
        await asyncio.sleep(0)
        out["current_task_after_await"] = asyncio.current_task() is me
        out["inner_result"] = repr(inner[0].result()) if inner and inner[0].done() else None
        out["nested_loops"] = loop.guest_stats()["nested_loops"]  # type: ignore[attr-defined]
        counter.task.cancel()
        await download
        return out

    return main


def _quit_scenario(kit: Kit, kind: str) -> Callable[[], Any]:
    """The main task returns while another task sits in a dialog nobody closes."""

    async def main() -> dict[str, Any]:
        log: list[str] = []

        async def blocked() -> None:
            try:
                kit.modal(kind, lambda ctl: None)
                log.append("dialog returned")
                await asyncio.sleep(30)
            finally:
                log.append("finally")

        task = asyncio.create_task(blocked())
        await asyncio.sleep(0.3)
        log.append("main returns")
        task.add_done_callback(lambda t: results_log.append(list(log)))
        return {"log": log}

    results_log: list[list[str]] = []
    main.results_log = results_log  # type: ignore[attr-defined]
    return main


def child_main(kit: Kit) -> None:
    """Run every scenario of ``kit`` in its wait modes; print one JSON line."""
    import faulthandler

    faulthandler.dump_traceback_later(240, exit=True)
    print("RESULT " + json.dumps(run_all(kit)), flush=True)


def run_all(kit: Kit) -> dict[str, Any]:
    """Every scenario of ``kit`` in its wait modes; results by "kind/mode"."""
    results: dict[str, Any] = {}
    for mode in kit.modes:
        mode_name = "thread-free" if mode else "worker"
        for i, kind in enumerate(kit.kinds):
            inner_kind = kit.inner_kinds.get(kind, kit.kinds[(i + 1) % len(kit.kinds)])
            key = f"{kind}/{mode_name}"
            t0 = time.monotonic()
            try:
                results[key] = kit.run(_scenario(kit, kind, inner_kind), mode)
            except BaseException as exc:  # report, do not hide the other results
                results[key] = {"error": f"{type(exc).__name__}: {exc}"}
            results[key]["seconds"] = round(time.monotonic() - t0, 2)
        quit_main = _quit_scenario(kit, kit.kinds[0])
        try:
            value = kit.run(quit_main, mode)
            results[f"quit/{mode_name}"] = {
                "value": value,
                "task_log": quit_main.results_log,  # type: ignore[attr-defined]
            }
        except BaseException as exc:
            results[f"quit/{mode_name}"] = {"error": f"{type(exc).__name__}: {exc}"}
    return results


def run_child(test_file: str, *args: str, env: Optional[dict[str, str]] = None) -> Any:
    """Run ``test_file`` as a script (with a display) and return the JSON it printed."""
    cmd = [sys.executable, test_file, *args]
    child_env = dict(os.environ)
    child_env["PYTHONPATH"] = os.pathsep.join(
        [str(ROOT / "python"), str(ROOT), child_env.get("PYTHONPATH", "")]
    )
    child_env.update(env or {})
    if not child_env.get("DISPLAY") and not child_env.get("WAYLAND_DISPLAY"):
        xvfb = shutil.which("xvfb-run")
        if xvfb is None:
            raise RuntimeError("no display and no xvfb-run")
        cmd = [xvfb, "-a", "-s", "-screen 0 1280x1024x24 -noreset", *cmd]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=280, env=child_env)
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT ") :])
    raise AssertionError(
        f"child failed (exit {proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-6000:]}"
    )


def check(results: dict[str, Any], kinds: tuple[str, ...], modes: tuple[bool, ...]) -> None:
    """The assertions every toolkit shares."""
    for mode in modes:
        mode_name = "thread-free" if mode else "worker"
        for kind in kinds:
            r = results[f"{kind}/{mode_name}"]
            where = f"{kind}/{mode_name}: {r}"
            assert "error" not in r, where
            assert r["closed_by"] == "scenario", where
            assert r["button_job_done"], where
            assert r["inner_done"], where
            assert r["download_done"], where
            assert r["received_in_dialog"] == PAYLOAD, where
            assert r["counter_advance"] >= 10, where
            assert r["inner_counter_advance"] >= 5, where
            assert r["current_task_restored"] and r["current_task_after_await"], where
            assert r["nested_loops"] >= 2, where
        q = results[f"quit/{mode_name}"]
        assert "error" not in q, q
        assert q["value"] == {"log": ["main returns", "dialog returned", "finally"]}, q
        assert q["task_log"] == [["main returns", "dialog returned", "finally"]], q
