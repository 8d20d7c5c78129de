"""async-tkinter-loop (asyncio drives Tk: ``dooneevent`` every 10 ms), plus Tk helpers."""

from __future__ import annotations

import asyncio
from typing import Any, Callable

from contenders._base import AsyncFn, Contender, ms


def new_root() -> Any:
    """A Tk root with one label (a real, shown window under Xvfb)."""
    import tkinter

    root = tkinter.Tk()
    root.title("asyncio-guest benchmark")
    tkinter.Label(root, text="asyncio-guest benchmark").pack()
    return root


class AsyncTkinterLoop(Contender):
    name = "async-tkinter-loop"
    needs_display = True
    requires = ("tkinter", "async_tkinter_loop")

    def __init__(self) -> None:
        self.root: Any = None

    def run(self, async_fn: AsyncFn) -> Any:
        from async_tkinter_loop import async_mainloop

        self.root = root = new_root()
        box: list[Any] = []
        errors: list[BaseException] = []

        async def main() -> None:
            try:
                box.append(await async_fn())
            except BaseException as exc:
                errors.append(exc)
            finally:
                # async_mainloop returns once the root window is gone.
                root.destroy()

        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        try:
            task = loop.create_task(main())
            async_mainloop(root, loop)
            if not task.done():
                loop.run_until_complete(task)
        finally:
            asyncio.set_event_loop(None)
            loop.close()
            self.root = None
        if errors:
            raise errors[0]
        return box[0]

    def post_host(self, fn: Callable[[], object]) -> None:
        self.root.after(0, fn)

    def call_later_host(self, delay: float, fn: Callable[[], object]) -> None:
        self.root.after(ms(delay), fn)
