"""asyncio-guest-webview: a webview whose JavaScript awaits ``async def`` Python.

``Webview`` has webview_python's API (switch by changing the import); its ``run()``
drives asyncio as a guest of the webview's own GUI loop, so bound ``async def``
functions run as asyncio tasks and their results settle the JS Promises.
See ``docs/webview.md``.
"""

from asyncio_guest_webview._api import Size, SizeHint, Webview
from asyncio_guest_webview._bridge import JavaScriptError
from asyncio_guest_webview._webview import WebviewError, version

__all__ = ["JavaScriptError", "Size", "SizeHint", "Webview", "WebviewError", "version"]
