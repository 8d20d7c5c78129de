"""A ``GuestEventLoop`` whose blocking entry points run on a real Tk mainloop.

The conformance runner uses :class:`TkGuestEventLoop` as "the loop" for
``test_events``, ``test_tasks``, ``test_streams`` and ``test_subprocess``:
every ``run_forever``/``run_until_complete`` the suite makes starts a guest
run of this very loop on :class:`asyncio_guest.hosts.tk.TkHost` and
enters ``root.mainloop()``; the guest's ticks are Tk idle callbacks and the
worker posts the next tick with a cross-thread ``root.call``.

One hidden Tk root serves the main thread for the whole process: creating a
Tk interpreter per ``run_until_complete`` would cost more than most tests.
Loops that a test runs on *another* thread use the built-in host instead: a
Tk interpreter must be deleted on the thread that made it, and tests do not
join their helper threads in a way that would let us do that safely.  The
counters below say how many runs went where.
"""

from __future__ import annotations

import threading
import tkinter
from typing import Optional

from asyncio_guest import GuestEventLoop
from asyncio_guest.hosts.tk import TkHost

_root: Optional[tkinter.Tk] = None

#: Runs on the Tk host / on the built-in host (non-main thread), for the report.
stats = {"tk_runs": 0, "builtin_runs": 0}


def _main_root() -> tkinter.Tk:
    global _root
    if _root is None:
        _root = tkinter.Tk()
        _root.withdraw()
    return _root


class TkGuestEventLoop(GuestEventLoop):
    """``run_forever`` = one guest run of this loop on a Tk mainloop."""

    def run_forever(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            stats["builtin_runs"] += 1
            super().run_forever()
            return
        stats["tk_runs"] += 1
        host = TkHost(_main_root())
        try:
            self._run_forever_on(host, use_fd_watch=False)
        finally:
            host.close()
            # One Tcl command per TkHost; do not let thousands pile up.
            host.root.deletecommand(host._cmd)
