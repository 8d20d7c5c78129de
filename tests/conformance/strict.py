"""``GuestEventLoop`` with its two shortcuts turned off, for the conformance run.

By default a guest loop may run several iterations in one host callback (a
time slice) and may wait a moment for I/O on the host thread before handing
the wait to the worker (the inline wait).  Both are optimisations; for the
proof we want the plain mechanism: every loop iteration is its own host
callback, and every wait that is not zero goes to the worker thread (not to
the built-in host's own thread-free wait), which then posts the next tick
through the host's threadsafe hook.
"""

from __future__ import annotations

from asyncio_guest import GuestEventLoop


class StrictGuestEventLoop(GuestEventLoop):
    """One iteration per host tick; every blocking wait on the worker thread."""

    def __init__(self) -> None:
        super().__init__()
        self.guest_time_slice = 0.0
        self.guest_inline_wait = 0.0
        self.guest_thread_free = False
