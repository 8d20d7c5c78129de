"""Async bindings for users who keep the ``webview-python`` package (``import webview``).

webview-python's own ``bind`` hands an ``async def`` to ``asyncio.ensure_future``, but its
blocking ``run()`` never runs an event loop, so the JS Promise never settles.  This
module's :class:`Webview` subclasses ``webview.Webview`` and fixes that by running asyncio
as a guest of the library's loop, exactly like :class:`asyncio_guest_webview.Webview`
(the same bridge code serves the calls)::

    # from webview import Webview, Size, SizeHint
    from asyncio_guest_webview.compat_webview_python import Webview, Size, SizeHint

It also adds ``dispatch``, ``terminate``, ``set_html``, ``close`` and ``evaluate``.

How it reaches the library: through webview-python's ctypes handle
(``webview._webview_ffi._webview_lib``), plus three functions its wrapper does not
declare: ``webview_dispatch`` (our ``run_sync_soon_threadsafe``), ``webview_set_html`` and
``webview_get_window``.

Getting libwebview: webview-python's wheel does not contain it; ``import webview``
downloads webview_deno's build from GitHub (fails offline) unless
``WEBVIEW_DOWNLOAD_BASE``/``WEBVIEW_VERSION`` point at a folder holding
``<version>/libwebview.x86_64.so``.  ``scripts/build-libwebview.sh`` builds one here from
the source bundled in the ``wv-sys`` crate; ``scripts/install-webview.sh`` wires it up.
"""

from __future__ import annotations

import collections
import ctypes
import sys
from typing import Any, Callable, Optional

from webview._webview_ffi import _encode_c_string, _webview_lib  # type: ignore[import-untyped]

import webview as _wvp  # type: ignore[import-untyped]
from asyncio_guest_webview._bridge import CLIENT_JS, REPLY_BINDING, Bridge
from webview import Size, SizeHint

__all__ = ["Size", "SizeHint", "Webview"]

_DispatchFn = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_void_p)
_BindFn = ctypes.CFUNCTYPE(None, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_void_p)

_lib = _webview_lib.lib
_lib.webview_dispatch.argtypes = [ctypes.c_void_p, _DispatchFn, ctypes.c_void_p]
_lib.webview_dispatch.restype = ctypes.c_int
_lib.webview_set_html.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
_lib.webview_set_html.restype = ctypes.c_int
_lib.webview_get_window.argtypes = [ctypes.c_void_p]
_lib.webview_get_window.restype = ctypes.c_void_p
_lib.webview_run.restype = ctypes.c_int
_lib.webview_terminate.restype = ctypes.c_int


class _Native:
    """The loop primitives :mod:`asyncio_guest_webview.host` needs, over ctypes.

    ``dispatch`` uses one C trampoline and a FIFO of Python callables: each
    ``webview_dispatch`` call runs the oldest one, so order is kept and nothing is
    handed to C but a function pointer that lives as long as this object.
    """

    def __init__(self, owner: Webview) -> None:
        self._owner = owner
        self._queue: collections.deque[Callable[[], object]] = collections.deque()
        self._trampoline = _DispatchFn(self._run_one)

    def _handle(self) -> int:
        handle = self._owner._handle
        if not handle:
            raise RuntimeError("the webview was destroyed")
        return handle  # type: ignore[no-any-return]

    def _run_one(self, _w: Optional[int], _arg: Optional[int]) -> None:
        # An exception escaping here is reported by ctypes through sys.unraisablehook:
        # there is no Python caller to give it to.
        self._queue.popleft()()

    def dispatch(self, fn: Callable[[], object]) -> None:
        if not callable(fn):
            raise TypeError(f"dispatch() needs a callable, got {type(fn).__name__}")
        handle = self._handle()
        self._queue.append(fn)
        if _lib.webview_dispatch(handle, self._trampoline, None) != 0:
            self._queue.pop()
            raise RuntimeError("webview_dispatch failed")

    def run(self) -> None:
        # ctypes releases the GIL for the duration of the call.
        _lib.webview_run(self._handle())

    def terminate(self) -> None:
        _lib.webview_terminate(self._handle())

    @property
    def destroyed(self) -> bool:
        return not self._owner._handle

    def return_(self, seq: str, status: int, result: str) -> None:
        _lib.webview_return(
            self._handle(), _encode_c_string(seq), int(status), _encode_c_string(result)
        )

    def eval(self, source: str) -> None:
        _lib.webview_eval(self._handle(), _encode_c_string(source))

    def drain(self) -> None:
        """Run the loop until everything queued so far has run (see ``destroy``)."""
        done = []

        def marker(w: Optional[int], _arg: Optional[int]) -> None:
            done.append(True)
            _lib.webview_terminate(w)

        fn = _DispatchFn(marker)
        handle = self._handle()
        if _lib.webview_dispatch(handle, fn, None) != 0:
            return
        while not done:
            _lib.webview_run(handle)


class Webview(_wvp.Webview):  # type: ignore[misc]
    """webview-python's ``Webview`` whose ``bind`` accepts ``async def`` functions."""

    def __init__(
        self, debug: bool = False, size: Optional[Size] = None, window: Optional[int] = None
    ) -> None:
        super().__init__(debug, size, window)
        if not self._handle:
            raise RuntimeError(
                "webview_create failed (no display? GTK could not be initialised, "
                "or WebKitGTK is missing)"
            )
        self._native = _Native(self)
        self._bridge = Bridge(self._native)
        self._running = False
        self.init(CLIENT_JS)
        self._bind_raw(REPLY_BINDING, self._bridge.on_reply)

    def _bind_raw(self, name: str, raw: Callable[[str, str], None]) -> None:
        def wrapper(seq: bytes, req: bytes, _arg: Optional[int]) -> None:
            raw(seq.decode(), req.decode())

        c_callback = _BindFn(wrapper)
        # webview-python's destroy() unbinds every name in _callbacks, and the dict
        # keeps the C function pointer alive.
        self._callbacks[name] = c_callback
        _lib.webview_bind(self._native._handle(), _encode_c_string(name), c_callback, None)

    def bind(self, name: str, callback: Callable[..., Any]) -> None:
        raw = self._bridge.add(name, callback)
        try:
            self._bind_raw(name, raw)
        except BaseException:
            self._bridge.remove(name)
            raise

    def unbind(self, name: str) -> None:
        # webview-python's destroy() also unbinds our reserved reply binding.
        if name != REPLY_BINDING:
            self._bridge.remove(name)
        super().unbind(name)

    def navigate(self, url: str) -> None:
        super().navigate(url)
        self._bridge.page_loading()

    def set_html(self, html: str) -> None:
        _lib.webview_set_html(self._native._handle(), _encode_c_string(html))
        self._bridge.page_loading()

    def dispatch(self, fn: Callable[[], object]) -> None:
        """Run ``fn()`` soon on the GUI thread.  Safe from any thread."""
        self._native.dispatch(fn)

    def terminate(self) -> None:
        """Make ``run()`` wind down and return.  Safe from any thread."""
        self._native.terminate()

    def close(self) -> None:
        """Close the window as its close button would (GTK only; elsewhere: terminate)."""
        window = _lib.webview_get_window(self._native._handle())
        if window and sys.platform.startswith("linux"):
            gtk = ctypes.CDLL("libgtk-3.so.0")
            gtk.gtk_window_close.argtypes = [ctypes.c_void_p]
            gtk.gtk_window_close(window)
        else:
            self.terminate()

    async def evaluate(self, source: str) -> Any:
        """Run ``source`` in the page and return its value (see the main ``Webview``)."""
        return await self._bridge.evaluate(source)

    @property
    def loop(self) -> Any:
        return self._bridge.loop

    def run(self) -> None:
        """Run the window with asyncio as a guest; destroys the webview at the end."""
        from asyncio_guest_webview.host import run_bridge

        if self._running:
            raise RuntimeError("run() is already running")
        self._running = True
        try:
            run_bridge(self, _wait_forever)
        finally:
            self._running = False
            self.destroy()

    def destroy(self) -> None:
        if not self._handle:
            return
        if self._running:
            self.terminate()  # run() destroys when it returns
            return
        # Run what is still queued (results going back to JS) while the library object
        # is whole: its destructor would run them after freeing the web view widget.
        self._native.drain()
        super().destroy()


async def _wait_forever() -> None:
    import asyncio

    await asyncio.get_running_loop().create_future()
