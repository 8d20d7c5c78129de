"""Host adapters: one small module per host event loop, all on one protocol.

Every adapter module ``asyncio_guest.hosts.<name>`` provides:

* a host class implementing :class:`asyncio_guest.hosts.Host` (the two posting
  hooks, ``mainloop()`` and ``stop()``), for users who already have an app and
  call :func:`asyncio_guest.start_guest_run` themselves;
* ``run(async_fn, *args)``: create or adopt the toolkit's app, start the guest,
  run the host loop until the guest finishes, and return its result (or raise
  its exception).
"""

from asyncio_guest.hosts._base import Host, run_on_host, start_on_host

__all__ = ["Host", "run_on_host", "start_on_host"]
