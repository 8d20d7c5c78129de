"""The webview as an asyncio-guest host, on the shared :class:`asyncio_guest.hosts.Host` protocol.

:class:`WebviewHost` is the ``Host``; :func:`run` runs any ``async def`` with a webview
window, serving the webview's bindings meanwhile::

    from asyncio_guest_webview import Webview
    from asyncio_guest_webview.host import run

    webview = Webview()
    webview.set_html("<p>hi</p>")
    result = run(main, webview=webview)   # closing the window cancels main(): None

How the host maps onto the webview library is described in
:mod:`asyncio_guest_webview._guest`.
"""

from __future__ import annotations

from typing import Any, Awaitable, Callable, Optional, TypeVar

from asyncio_guest_webview._api import Webview
from asyncio_guest_webview._guest import GuestWebview, NativeLoop, WebviewHost, serve

__all__ = ["GuestWebview", "NativeLoop", "WebviewHost", "run", "serve"]

T = TypeVar("T")


def run(
    async_fn: Callable[..., Awaitable[T]], *args: Any, webview: Optional[Webview] = None
) -> Optional[T]:
    """Run ``async_fn(*args)`` as a guest of a webview's loop and return its result.

    With no ``webview`` a blank window is created (and destroyed at the end); a given
    webview is left alive for the caller.  Quitting follows the contract of
    :mod:`asyncio_guest.hosts`: closing the window (or ``terminate()``) cancels
    ``async_fn``, and ``run`` then returns ``None``.
    """
    owned = webview is None
    wv = Webview() if webview is None else webview
    try:
        return serve(wv, async_fn, *args)
    finally:
        if owned:
            wv.destroy()
