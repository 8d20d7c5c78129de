"""Trio: ``trio.run`` and Trio's own guest mode on Tk (the overhead ratio Trio pays).

Trio's guest run uses asyncio_guest's generic Tk host adapter for its
``run_sync_soon_threadsafe`` (``after idle`` marshalled by a threaded Tcl), so the
host posting is exactly the one our Tk contender uses.
"""

from __future__ import annotations

from typing import Any, Callable

from contenders._base import AsyncFn, Contender


class TrioRun(Contender):
    name = "trio-run"
    family = "trio"
    requires = ("trio",)

    def run(self, async_fn: AsyncFn) -> Any:
        import trio

        return trio.run(async_fn)

    def post_host(self, fn: Callable[[], object]) -> None:
        raise NotImplementedError("the Trio workloads do not use host callbacks")

    call_later_host = post_host  # type: ignore[assignment]


class TrioGuestTk(TrioRun):
    name = "trio-guest-tk"
    needs_display = True
    requires = ("trio", "tkinter", "asyncio_guest.hosts.tk")

    def run(self, async_fn: AsyncFn) -> Any:
        import trio

        from asyncio_guest.hosts.tk import TkHost
        from contenders.tk import new_root

        root = new_root()
        host = TkHost(root)
        results: list[Any] = []

        def done(outcome: Any) -> None:
            results.append(outcome)
            root.quit()

        trio.lowlevel.start_guest_run(
            async_fn,
            run_sync_soon_threadsafe=host.run_sync_soon_threadsafe,
            run_sync_soon_not_threadsafe=host.run_sync_soon_not_threadsafe,
            done_callback=done,
        )
        try:
            root.mainloop()
        finally:
            host.close()
            root.destroy()
        return results[0].unwrap()
