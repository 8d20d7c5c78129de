"""asyncio-guest sample with an asyncio loop as host: two asyncio loops on one thread.

The host is an ordinary asyncio loop that owns the terminal: it redraws a status screen
10 times a second and reads single keys (d = download, c = cancel, m = dialog, q = quit).
The guest asyncio loop runs the usual workload (counter, download from a local HTTP server
with progress and cancel, timer latency) in ticks that are callbacks of the host loop.

Modal dialogs: an asyncio host has no nested event loop to block in, so there is nothing for
``asyncio_guest.modal`` to run (a blocking call would freeze both loops).  The "dialog" here is
what a terminal app does instead: a prompt the guest *awaits* (a guest future that the host's
key handler resolves), and the counter keeps counting meanwhile.

    python -m asyncio_guest.samples.asyncio_app
    python -m asyncio_guest demo --host asyncio
    python -m asyncio_guest.samples.asyncio_app --demo --quit-after 5     (no keyboard needed)
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
from typing import Any, Callable, Iterator, Optional

from asyncio_guest.hosts.asyncio_host import AsyncioHost, run_as_guest
from asyncio_guest.samples import _common as common

KEYS = "keys: [d]ownload  [c]ancel  [m]odal dialog  [q]uit"


def _bar(fraction: float, width: int = 40) -> str:
    filled = int(width * max(0.0, min(1.0, fraction)))
    return "[" + "#" * filled + "." * (width - filled) + "]"


class TerminalApp:
    """A terminal "window" driven by a host asyncio loop; implements ``SampleView``."""

    title = "asyncio-guest beside a host asyncio loop"

    def __init__(self, host: AsyncioHost, **controller_kwargs: Any) -> None:
        self.host = host
        self.host_loop = host.loop
        self.controller = common.SampleController(self, **controller_kwargs)
        self.count, self.received, self.total = 0, 0, 1
        self.status = "starting..."
        self.latency = "timer latency: -"
        self.prompt: Optional[str] = None
        self.dialog_future: Optional[asyncio.Future[str]] = None
        self.dialog_result: Optional[str] = None
        self.out = sys.stdout
        self._redraw: Optional[asyncio.Handle] = None

    # -- SampleView (called in guest ticks, on the host thread)
    def show_count(self, n: int) -> None:
        self.count = n

    def show_progress(self, received: int, total: int) -> None:
        self.received, self.total = received, max(total, 1)

    def show_status(self, text: str, downloading: bool) -> None:
        self.status = text

    def show_latency(self, stats: common.LatencyStats) -> None:
        self.latency = common.format_latency(stats)

    # -- host side
    def render(self) -> str:
        lines = [
            self.title,
            "",
            f"counter: {self.count}",
            _bar((self.count % 100) / 100),
            self.status,
            _bar(self.received / self.total),
            self.latency,
            "",
            self.prompt or KEYS,
        ]
        return "\x1b[H\x1b[J" + "\n".join(lines) + "\n"

    def redraw(self) -> None:
        self.out.write(self.render())
        self.out.flush()
        self._redraw = self.host_loop.call_later(0.1, self.redraw)

    def in_guest(self, fn: Callable[..., object], *args: object) -> None:
        """Run ``fn`` in the guest loop: this is host code, where ``asyncio.create_task``
        would make a host task."""
        if self.host.guest_loop is not None:
            self.host.call_in_guest(fn, *args)

    def key(self, ch: str) -> None:
        """A key press (host side)."""
        if ch in ("q", "\x1b"):  # quit always wins, also over an open dialog
            self.in_guest(self.close)
        elif self.dialog_future is not None:
            self.in_guest(self._answer, "yes" if ch in "yY" else "no")
        elif ch == "d":
            self.in_guest(self.controller.start_download)
        elif ch == "c":
            self.in_guest(self.controller.cancel_download)
        elif ch == "m":
            self.in_guest(self.open_dialog)

    # -- guest side
    def open_dialog(self) -> None:
        if self.dialog_future is None:
            self.controller.spawn(self._dialog_task())

    async def _dialog_task(self) -> None:
        self.dialog_future = asyncio.get_running_loop().create_future()
        self.prompt = "DIALOG: the counter keeps counting. Continue? [y/n]"
        try:
            self.dialog_result = await self.dialog_future
        finally:
            self.dialog_future, self.prompt = None, None
        self.status = f"dialog closed: {self.dialog_result}"

    def _answer(self, value: str) -> None:
        if self.dialog_future is not None and not self.dialog_future.done():
            self.dialog_future.set_result(value)

    def close(self) -> None:
        self._answer("closed")
        self.controller.close()

    def stop_redraw(self) -> None:
        if self._redraw is not None:
            self._redraw.cancel()
            self._redraw = None


@contextlib.contextmanager
def keyboard(loop: asyncio.AbstractEventLoop, on_key: Callable[[str], None]) -> Iterator[bool]:
    """Read single keys from a terminal stdin on ``loop``; yields whether that is possible."""
    if not sys.stdin.isatty():
        yield False
        return
    import termios
    import tty

    fd = sys.stdin.fileno()
    saved = termios.tcgetattr(fd)
    tty.setcbreak(fd)
    loop.add_reader(fd, lambda: on_key(os.read(fd, 1).decode(errors="replace")))
    try:
        yield True
    finally:
        loop.remove_reader(fd)
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)


def schedule_demo(app: TerminalApp, demo: bool, quit_after: float) -> None:
    """Host-side timers that press keys like a user would (for --demo / --quit-after)."""
    loop = app.host_loop
    if demo:
        loop.call_later(0.3, app.key, "d")
        loop.call_later(0.9, app.key, "m")
    if quit_after:
        loop.call_later(quit_after, app.key, "q")


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--demo", action="store_true", help="start a download and open the dialog")
    parser.add_argument("--quit-after", type=float, default=0, help="quit after N seconds")
    args = parser.parse_args(argv)
    host = AsyncioHost()
    app = TerminalApp(host)
    schedule_demo(app, args.demo, args.quit_after)
    try:
        with keyboard(host.loop, app.key) as interactive:
            if not interactive and not args.quit_after:
                print("stdin is not a terminal: use --quit-after N (and --demo)", file=sys.stderr)
                return 2
            app.redraw()
            # Started from inside the running host loop: see asyncio_guest.hosts.asyncio_host.
            host.loop.run_until_complete(run_as_guest(app.controller.main, host=host))
    finally:
        app.stop_redraw()
        host.close()
    print(f"guest finished cleanly; counter reached {app.controller.count}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
