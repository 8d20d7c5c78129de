"""`Webview`: webview_python's API, with async bindings served by guest asyncio."""

from __future__ import annotations

import asyncio
from enum import IntEnum
from typing import Any, Callable, Optional

from asyncio_guest_webview._bridge import CLIENT_JS, REPLY_BINDING, Bridge
from asyncio_guest_webview._guest import run_until_closed
from asyncio_guest_webview._typescript import typescript
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
    import), plus ``set_html``, ``dispatch``, ``terminate``, ``evaluate`` and ``emit``.

    Threads: create it and call its methods on one thread (the GUI thread, usually the
    main thread); ``run()`` runs the GUI loop there, and asyncio runs there too, as a
    guest of that loop (:mod:`asyncio_guest`).  From other threads only ``dispatch``,
    ``terminate`` and ``return_`` may be called; the rest raise ``RuntimeError``.

    ``bind(name, fn)`` makes ``window.<name>(...)`` in the page return a Promise:
    a plain ``fn`` runs immediately on the GUI thread (as in webview_python), or in the
    loop's executor with ``thread=True`` (the default for every plain function when the
    webview is created with ``sync_in_thread=True``); an ``async def`` runs as an asyncio
    task on the webview's loop, so many calls can be in flight at once; an async generator
    is a stream the page reads with ``for await``.  The Promise resolves with the result
    (``bytes`` arrive as ``Uint8Array``), or rejects with an ``Error`` whose message is
    ``"<PythonExceptionType>: <text>"``.
    """

    def __init__(
        self,
        debug: bool = False,
        size: Optional[Size] = None,
        window: Optional[int] = None,
        *,
        sync_in_thread: bool = False,
    ) -> None:
        self._native = NativeWebview(bool(debug), window)
        self._title = ""
        self._size: Optional[Size] = None
        self._bridge = Bridge(self._native, sync_in_thread=sync_in_thread)
        # Our page-side client (binary data, streams, cancellation, events, evaluate())
        # goes in first so it runs on every page, right after the library's own glue.
        self._native.init(CLIENT_JS)
        self._native.bind(REPLY_BINDING, self._bridge.on_reply)
        if size is not None:
            self.size = size

    @property
    def native(self) -> NativeWebview:
        """The library's loop primitives (``dispatch``, ``run``, ``terminate``)."""
        return self._native

    @property
    def bridge(self) -> Bridge:
        """The call bridge the bindings go through."""
        return self._bridge

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
        """Run ``source`` in the page and return its value.

        The value of the last expression is returned; a Promise is awaited first.  JSON
        values arrive as Python ones, binary data (``ArrayBuffer``, typed arrays, ``Blob``)
        as ``bytes``.  A JS exception, or a value that cannot cross, raises
        :class:`~asyncio_guest_webview.JavaScriptError`.  Must be awaited inside ``run()``.
        It waits until the current page has loaded (the library drops scripts before
        that); with no page at all it waits until the window closes.
        """
        return await self._bridge.evaluate(source)

    async def emit(self, name: str, payload: Any = None) -> None:
        """Send event ``name`` to the page's ``asyncioGuest.on(name, handler)`` handlers.

        ``payload`` is JSON or binary (``bytes`` arrive as ``Uint8Array``); one that cannot
        cross raises ``TypeError`` at once.  Waits, like :meth:`evaluate`, until the page
        has loaded; returns once the event is queued to the page.
        """
        await self._bridge.emit(name, payload)

    # ------------------------------------------------------------------ bindings

    def bind(self, name: str, fn: Callable[..., Any], *, thread: Optional[bool] = None) -> None:
        """Make ``window.<name>(...)`` call ``fn``; see the class doc.

        ``thread=True`` runs a plain ``fn`` in the loop's default executor, so a slow one
        does not freeze the page; ``None`` takes the webview's ``sync_in_thread``.
        """
        raw = self._bridge.add(name, fn, thread)
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

    def typescript(self) -> str:
        """A TypeScript declaration (``.d.ts``) of the bound functions; see ``typescript()``."""
        return typescript(self._bridge.functions())

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
        in-flight async calls and streams are cancelled (their Promises reject), the guest
        loop is torn down (no thread is left behind), and the webview is destroyed, as
        webview_python's ``run()`` does.
        """
        if not self._native.on_owner_thread:
            raise RuntimeError("run() must be called on the thread that created the webview")
        run_until_closed(self)

    def terminate(self) -> None:
        """Make ``run()`` wind down and return.  Safe from any thread."""
        self._native.terminate()

    def destroy(self) -> None:
        """Close the window and free it.  Idempotent; later calls raise ``RuntimeError``.

        While the webview runs (e.g. from a bound function) this only asks the run to
        finish; the webview is destroyed when it returns.
        """
        if self._bridge.running:
            self.terminate()
            return
        self._native.destroy()

    @property
    def destroyed(self) -> bool:
        return bool(self._native.destroyed)

    def close(self) -> None:
        """Close the window as its close button would (then ``run()`` winds down)."""
        self._native.request_close()
