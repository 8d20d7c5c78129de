"""Async bindings for users who keep the ``webview-python`` package (``import webview``).

webview-python's own ``bind`` hands an ``async def`` to ``asyncio.ensure_future``, but its
blocking ``run()`` never runs an event loop, so the JS Promise never settles.  This
module's :class:`Webview` subclasses ``webview.Webview`` and fixes that by running asyncio
as a guest of the library's loop, exactly like :class:`asyncio_guest_webview.Webview`
(the same bridge serves the calls, with binary data, streams, events and cancellation)::

    # from webview import Webview, Size, SizeHint
    from asyncio_guest_webview.compat_webview_python import Webview, Size, SizeHint

It also adds ``dispatch``, ``terminate``, ``set_html``, ``close``, ``evaluate`` and
``emit``.

How it reaches the library: through webview-python's ctypes handle
(``webview._webview_ffi._webview_lib``).  Which C functions that library offers depends on
where it came from (webview-python downloads webview_deno's 0.9.0 build; a local build of
webview 0.12 has them all), so they are looked up once, at import (:data:`AVAILABLE`):

* ``webview_dispatch`` is required: it is how asyncio's worker wakes the GUI thread.
  Without it, creating a :class:`Webview` raises ``RuntimeError`` saying so.
* ``webview_set_html``: without it ``set_html`` loads the page as a ``data:`` URL.
* ``webview_get_window``: without it ``close`` ends the run with ``terminate`` (the
  window's close button still works).

Getting libwebview: webview-python's wheel does not contain it; ``import webview``
downloads webview_deno's build from GitHub (fails offline) unless
``WEBVIEW_DOWNLOAD_BASE``/``WEBVIEW_VERSION`` point at a folder holding
``<version>/libwebview.x86_64.so``.  ``webview/scripts/build-libwebview.sh`` builds one
from the source bundled in the ``wv-sys`` crate; ``webview/scripts/install-webview.sh``
wires it up.
"""

from __future__ import annotations

import base64
import collections
import ctypes
import importlib
import sys
from typing import Any, Callable, Optional

from asyncio_guest_webview._bridge import CLIENT_JS, REPLY_BINDING, Bridge
from asyncio_guest_webview._guest import run_until_closed
from asyncio_guest_webview._typescript import typescript
from asyncio_guest_webview._webview import drain_library_queue

# webview-python ships no type information; imported by name so that its module is `Any`
# to the type checker (a source checkout also has a `webview/` folder that would shadow it).
_wvp: Any = importlib.import_module("webview")
_ffi: Any = importlib.import_module("webview._webview_ffi")
_encode_c_string: Callable[[str], bytes] = _ffi._encode_c_string
_webview_lib: Any = _ffi._webview_lib
Size: Any = _wvp.Size
SizeHint: Any = _wvp.SizeHint

__all__ = ["AVAILABLE", "Size", "SizeHint", "Webview"]

_DispatchFn = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_void_p)
_BindFn = ctypes.CFUNCTYPE(None, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_void_p)

_lib = _webview_lib.lib

#: The optional C functions, with their ctypes signatures (argtypes, restype).
_OPTIONAL: dict[str, tuple[list[Any], Any]] = {
    "webview_dispatch": ([ctypes.c_void_p, _DispatchFn, ctypes.c_void_p], ctypes.c_int),
    "webview_set_html": ([ctypes.c_void_p, ctypes.c_char_p], ctypes.c_int),
    "webview_get_window": ([ctypes.c_void_p], ctypes.c_void_p),
}


def _lookup(name: str) -> Any:
    try:
        return getattr(_lib, name)
    except AttributeError:  # ctypes: the loaded library has no such symbol
        return None


#: Which optional C functions the loaded libwebview offers (name -> bool).
AVAILABLE: dict[str, bool] = {}
for _name, (_argtypes, _restype) in _OPTIONAL.items():
    _function = _lookup(_name)
    AVAILABLE[_name] = _function is not None
    if _function is not None:
        _function.argtypes = _argtypes
        _function.restype = _restype
_lib.webview_run.restype = ctypes.c_int
_lib.webview_terminate.restype = ctypes.c_int


def _library_name() -> str:
    return str(getattr(_lib, "_name", "libwebview"))


def _address(function: Any) -> int:
    return int(ctypes.cast(function, ctypes.c_void_p).value or 0)


class _Native:
    """The loop primitives :mod:`asyncio_guest_webview._guest` needs, over ctypes.

    ``dispatch`` uses one C trampoline and a FIFO of Python callables: each
    ``webview_dispatch`` call runs the oldest one, so order is kept and nothing is
    handed to C but a function pointer that lives as long as this object.
    """

    def __init__(self, owner: Webview) -> None:
        self._owner = owner
        self._queue: collections.deque[Callable[[], object]] = collections.deque()
        self._trampoline = _DispatchFn(self._run_one)

    def handle(self) -> int:
        handle = self._owner._handle
        if not handle:
            raise RuntimeError("the webview was destroyed")
        return int(handle)

    def _run_one(self, _w: Optional[int], _arg: Optional[int]) -> None:
        # An exception escaping here is reported by ctypes through sys.unraisablehook:
        # there is no Python caller to give it to.
        self._queue.popleft()()

    def dispatch(self, fn: Callable[[], object]) -> None:
        if not callable(fn):
            raise TypeError(f"dispatch() needs a callable, got {type(fn).__name__}")
        handle = self.handle()
        self._queue.append(fn)
        if _lib.webview_dispatch(handle, self._trampoline, None) != 0:
            self._queue.pop()
            raise RuntimeError("webview_dispatch failed")

    def run(self) -> None:
        # ctypes releases the GIL for the duration of the call.
        _lib.webview_run(self.handle())

    def terminate(self) -> None:
        _lib.webview_terminate(self.handle())

    @property
    def destroyed(self) -> bool:
        return not self._owner._handle

    def return_(self, seq: str, status: int, result: str) -> None:
        _lib.webview_return(
            self.handle(), _encode_c_string(seq), int(status), _encode_c_string(result)
        )

    def eval(self, source: str) -> None:
        _lib.webview_eval(self.handle(), _encode_c_string(source))

    def drain(self) -> None:
        """Run the loop until everything queued so far has run (see ``Webview.destroy``)."""
        drain_library_queue(
            self.handle(),
            _address(_lib.webview_dispatch),
            _address(_lib.webview_run),
            _address(_lib.webview_terminate),
        )


class Webview(_wvp.Webview):  # type: ignore[misc]
    """webview-python's ``Webview`` whose ``bind`` accepts ``async def`` functions."""

    def __init__(
        self,
        debug: bool = False,
        size: Optional[Any] = None,
        window: Optional[int] = None,
        *,
        sync_in_thread: bool = False,
    ) -> None:
        if not AVAILABLE["webview_dispatch"]:
            # Checked before creating a window, so nothing is left behind.
            raise RuntimeError(
                f"the libwebview that webview-python loaded ({_library_name()}) has no "
                "webview_dispatch, which running asyncio as its guest needs; point "
                "WEBVIEW_DOWNLOAD_BASE at a libwebview 0.10 or newer (for example one built "
                "by webview/scripts/build-libwebview.sh) and reinstall webview-python, or "
                "use asyncio_guest_webview.Webview, which bundles the library"
            )
        super().__init__(debug, size, window)
        if not self._handle:
            raise RuntimeError(
                "webview_create failed (no display? GTK could not be initialised, "
                "or WebKitGTK is missing)"
            )
        self._native = _Native(self)
        self._bridge = Bridge(self._native, sync_in_thread=sync_in_thread)
        self.init(CLIENT_JS)
        self._bind_raw(REPLY_BINDING, self._bridge.on_reply)

    @property
    def native(self) -> _Native:
        """The library's loop primitives (``dispatch``, ``run``, ``terminate``)."""
        return self._native

    @property
    def bridge(self) -> Bridge:
        """The call bridge the bindings go through."""
        return self._bridge

    def _bind_raw(self, name: str, raw: Callable[[str, str], None]) -> None:
        def wrapper(seq: bytes, req: bytes, _arg: Optional[int]) -> None:
            raw(seq.decode(), req.decode())

        c_callback = _BindFn(wrapper)
        # webview-python's destroy() unbinds every name in _callbacks, and the dict
        # keeps the C function pointer alive.
        self._callbacks[name] = c_callback
        _lib.webview_bind(self._native.handle(), _encode_c_string(name), c_callback, None)

    def bind(
        self, name: str, callback: Callable[..., Any], *, thread: Optional[bool] = None
    ) -> None:
        """Bind ``callback`` (plain, ``async def`` or async generator); see ``Webview.bind``."""
        raw = self._bridge.add(name, callback, thread)
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

    def typescript(self) -> str:
        """A TypeScript declaration (``.d.ts``) of the bound functions."""
        return typescript(self._bridge.functions())

    def navigate(self, url: str) -> None:
        super().navigate(url)
        self._bridge.page_loading()

    def set_html(self, html: str) -> None:
        """Load ``html`` as the page (a ``data:`` URL where the library lacks set_html)."""
        if AVAILABLE["webview_set_html"]:
            _lib.webview_set_html(self._native.handle(), _encode_c_string(html))
            self._bridge.page_loading()
        else:
            encoded = base64.b64encode(html.encode("utf-8")).decode("ascii")
            self.navigate(f"data:text/html;charset=utf-8;base64,{encoded}")

    def dispatch(self, fn: Callable[[], object]) -> None:
        """Run ``fn()`` soon on the GUI thread.  Safe from any thread."""
        self._native.dispatch(fn)

    def terminate(self) -> None:
        """Make ``run()`` wind down and return.  Safe from any thread."""
        self._native.terminate()

    def close(self) -> None:
        """Close the window as its close button would (elsewhere than GTK: terminate)."""
        window = (
            _lib.webview_get_window(self._native.handle())
            if AVAILABLE["webview_get_window"]
            else None
        )
        if window and sys.platform.startswith("linux"):
            gtk = ctypes.CDLL("libgtk-3.so.0")
            gtk.gtk_window_close.argtypes = [ctypes.c_void_p]
            gtk.gtk_window_close(window)
        else:
            self.terminate()

    async def evaluate(self, source: str) -> Any:
        """Run ``source`` in the page and return its value (see the main ``Webview``)."""
        return await self._bridge.evaluate(source)

    async def emit(self, name: str, payload: Any = None) -> None:
        """Send an event to the page's ``asyncioGuest.on`` handlers (see ``Webview.emit``)."""
        await self._bridge.emit(name, payload)

    @property
    def loop(self) -> Any:
        return self._bridge.loop

    def run(self) -> None:
        """Run the window with asyncio as a guest; destroys the webview at the end."""
        run_until_closed(self)

    def destroy(self) -> None:
        if not self._handle:
            return
        if self._bridge.running:
            self.terminate()  # the run destroys the webview when it returns
            return
        # Run what is still queued (results going back to JS) while the library object
        # is whole: its destructor would run them after freeing the web view widget.
        self._native.drain()
        super().destroy()
