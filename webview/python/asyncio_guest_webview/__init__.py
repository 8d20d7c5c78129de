"""asyncio-guest-webview: a webview whose JavaScript awaits ``async def`` Python.

``Webview`` has webview_python's API (switch by changing the import); its ``run()``
drives asyncio as a guest of the webview's own GUI loop, so bound ``async def``
functions run as asyncio tasks and their results settle the JS Promises.  Binary data,
streams (async generators), events, cancellation from JavaScript and a typed client
(:func:`typescript`) come with it.  See ``docs/webview.md``.
"""

from __future__ import annotations

from asyncio_guest_webview._api import Size, SizeHint, Webview
from asyncio_guest_webview._bridge import JavaScriptError
from asyncio_guest_webview._typescript import typescript
from asyncio_guest_webview._webview import WebviewError, library_version

__all__ = [
    "JavaScriptError",
    "Size",
    "SizeHint",
    "Webview",
    "WebviewError",
    "library_version",
    "typescript",
    "version",
]


def version() -> str:
    """This package's version, e.g. ``"0.1.0"`` (:func:`library_version` is the C library's)."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as distribution_version

    try:
        return distribution_version("asyncio-guest-webview")
    except PackageNotFoundError:  # imported from a source tree that was never installed
        return "0+unknown"
