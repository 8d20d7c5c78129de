"""`Webview`: webview_python's API, with async bindings served by guest asyncio."""

from __future__ import annotations

import asyncio
from enum import IntEnum
from typing import Any, Callable, Optional

from asyncio_guest_webview._bridge import CLIENT_JS, REPLY_BINDING, Bridge
from asyncio_guest_webview._webview import NativeWebview

__all__ = ["Size", "SizeHint", "Webview"]


class SizeHint(IntEnum):
    """How ``size`` applies: a plain size, a minimum, a maximum, or fixed (not resizable)."""

    NONE = 0
    MIN = 1
    MAX = 2
    FIXED = 3


class Size:
    """A window size (webview_python's ``Size``; here ``hint`` defaults to ``NONE``)."""

    def __init__(self, width: int, height: int, hint: SizeHint = SizeHint.NONE) -> None:
        self.width = width
        self.height = height
        self.hint = SizeHint(hint)

    def __repr__(self) -> str:
        return f"Size({self.width}, {self.height}, {self.hint!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Size):
            return NotImplemented
        return (self.width, self.height, self.hint) == (other.width, other.height, other.hint)

    def __hash__(self) -> int:
        return hash((self.width, self.height, self.hint))


class Webview:
    """A native window with a web page, whose JavaScript can await async Python.

    Drop-in for ``webview.Webview`` from the ``webview-python`` package (change the
    import), plus ``set_html``, ``dispatch``, ``terminate`` and ``evaluate``.

    Threads: create it and call its methods on one thread (the GUI thread, usually the
    main thread); ``run()`` runs the GUI loop there, and asyncio runs there too, as a
    guest of that loop (:mod:`asyncio_guest`).  From other threads only ``dispatch``,
    ``terminate`` and ``return_`` may be called; the rest raise ``RuntimeError``.

    ``bind(name, fn)`` makes ``window.<name>(...)`` in the page return a Promise:
    a plain ``fn`` runs immediately; an ``async def`` runs as an asyncio task on the
    webview's loop, so many calls can be in flight at once.  The Promise resolves with
    the JSON of the result, or rejects with an ``Error`` whose message is
    ``"<PythonExceptionType>: <text>"``.
    """

    def __init__(
        self, debug: bool = False, size: Optional[Size] = None, window: Optional[int] = None
    ) -> None:
        self._native = NativeWebview(bool(debug), window)
        self._title = ""
        self._size: Optional[Size] = None
        self._bridge = Bridge(self._native)
        self._running = False
        self._destroy_requested = False
        # Our page-side helpers (Error objects for rejections, evaluate()) go in first so
        # they run on every page, right after the library's own glue.
        self._native.init(CLIENT_JS)
        self._native.bind(REPLY_BINDING, self._bridge.on_reply)
        if size is not None:
            self.size = size

    # ------------------------------------------------------------------ window

    @property
    def title(self) -> str:
        return self._title

    @title.setter
    def title(self, value: str) -> None:
        if not isinstance(value, str):
            raise TypeError(f"title must be a str, got {type(value).__name__}")
        self._native.set_title(value)
        self._title = value

    @property
    def size(self) -> Optional[Size]:
        """The last size set (None before any); setting it also shows the window."""
        return self._size

    @size.setter
    def size(self, value: Size) -> None:
        if not isinstance(value, Size):
            raise TypeError(f"size must be a Size, got {type(value).__name__}")
        self._native.set_size(int(value.width), int(value.height), int(SizeHint(value.hint)))
        self._size = value

    def navigate(self, url: str) -> None:
        self._native.navigate(url)
        self._bridge.page_loading()

    def set_html(self, html: str) -> None:
        """Load ``html`` as the page (no network involved)."""
        self._native.set_html(html)
        self._bridge.page_loading()

    def init(self, source: str) -> None:
        """Run ``source`` at the start of every page load, before the page's own scripts."""
        self._native.init(source)

    def eval(self, source: str) -> None:
        """Run ``source`` in the page, fire and forget (dropped before any page is loaded)."""
        self._native.eval(source)

    async def evaluate(self, source: str) -> Any:
        """Run ``source`` in the page and return its value (JSON-converted).

        The value of the last expression is returned; a Promise is awaited first.
        A JS exception raises :class:`~asyncio_guest_webview.JavaScriptError`.  Must be
        awaited inside ``run()``.  It waits until the current page has loaded (the
        library drops scripts before that); with no page at all it waits until the
        window closes.
        """
        return await self._bridge.evaluate(source)

    # ------------------------------------------------------------------ bindings

    def bind(self, name: str, fn: Callable[..., Any]) -> None:
        """Make ``window.<name>(...)`` call ``fn`` (plain or ``async def``); see the class doc."""
        raw = self._bridge.add(name, fn)
        try:
            self._native.bind(name, raw)
        except BaseException:
            self._bridge.remove(name)
            raise

    def unbind(self, name: str) -> None:
        self._bridge.remove(name)
        self._native.unbind(name)

    def return_(self, seq: str, status: int, result: str) -> None:
        """Settle JS call ``seq`` by hand: ``status`` 0 resolves with the JSON ``result``."""
        self._native.return_(seq, int(status), result)

    # ------------------------------------------------------------------ loop

    def dispatch(self, fn: Callable[[], object]) -> None:
        """Run ``fn()`` soon on the GUI thread.  Safe from any thread."""
        self._native.dispatch(fn)

    @property
    def loop(self) -> Optional[asyncio.AbstractEventLoop]:
        """The guest asyncio loop while ``run()`` runs, else None."""
        return self._bridge.loop

    def run(self) -> None:
        """Show the window and run until it is closed or :meth:`terminate` is called.

        asyncio runs as a guest of the window's loop meanwhile.  On the way out the
        in-flight async calls are cancelled (their Promises reject), the guest loop is
        torn down (no thread is left behind), and the webview is destroyed, as
        webview_python's ``run()`` does.
        """
        from asyncio_guest_webview.host import run_bridge

        if self._running:
            raise RuntimeError("run() is already running")
        if self._native.destroyed:
            raise RuntimeError("the webview was destroyed")
        if not self._native.on_owner_thread:
            raise RuntimeError("run() must be called on the thread that created the webview")
        self._running = True
        try:
            run_bridge(self, _wait_forever)
        finally:
            self._running = False
            self.destroy()

    def terminate(self) -> None:
        """Make ``run()`` wind down and return.  Safe from any thread."""
        self._native.terminate()

    def destroy(self) -> None:
        """Close the window and free it.  Idempotent; later calls raise ``RuntimeError``.

        Inside ``run()`` (e.g. from a bound function) this only asks ``run()`` to
        finish; the webview is destroyed when it returns.
        """
        if self._running:
            self._destroy_requested = True
            self.terminate()
            return
        self._native.destroy()

    @property
    def destroyed(self) -> bool:
        return bool(self._native.destroyed)

    def close(self) -> None:
        """Close the window as its close button would (then ``run()`` winds down)."""
        self._native.request_close()


async def _wait_forever() -> None:
    await asyncio.get_running_loop().create_future()
