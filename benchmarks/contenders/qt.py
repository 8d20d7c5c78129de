"""Qt (PySide6) contenders: qasync and PySide6's own QtAsyncio, plus Qt helpers.

Qt runs with ``QT_QPA_PLATFORM=offscreen`` (set by the harness), a real
``QApplication`` and one small shown widget, so the Qt event loop is the GUI one.
"""

from __future__ import annotations

import asyncio
from typing import Any, Callable, Optional

from contenders._base import AsyncFn, Contender, ms

_keep: list[Any] = []


def qt_app() -> Any:
    """The process's QApplication (created once) with one visible widget."""
    from PySide6.QtWidgets import QApplication, QLabel

    app = QApplication.instance()
    if app is None:
        app = QApplication(["bench"])
        label = QLabel("asyncio-guest benchmark")
        label.show()
        _keep.extend((app, label))
    return app


def qt_call_later(delay: float, fn: Callable[[], object]) -> None:
    """A one-shot Qt timer (0 ms = "as soon as the event loop is back").

    Qt makes single shots under 2 s ``Qt.PreciseTimer`` by default.
    """
    from PySide6.QtCore import QTimer

    QTimer.singleShot(ms(delay), fn)


class _QtContender(Contender):
    def post_host(self, fn: Callable[[], object]) -> None:
        qt_call_later(0, fn)

    def call_later_host(self, delay: float, fn: Callable[[], object]) -> None:
        qt_call_later(delay, fn)


class QAsync(_QtContender):
    name = "qasync"
    requires = ("qasync", "PySide6.QtWidgets")

    def run(self, async_fn: AsyncFn) -> Any:
        import qasync

        app = qt_app()
        loop = qasync.QEventLoop(app)
        asyncio.set_event_loop(loop)
        try:
            return loop.run_until_complete(async_fn())
        finally:
            asyncio.set_event_loop(None)
            loop.close()


class QtAsyncio(_QtContender):
    name = "qtasyncio"
    requires = ("PySide6.QtAsyncio", "PySide6.QtWidgets")
    # QAsyncioEventLoop raises NotImplementedError for create_server, sockets,
    # add_reader...: it cannot serve TCP, so the echo workloads do not apply.
    supports_network = False

    def run(self, async_fn: AsyncFn) -> Any:
        from PySide6 import QtAsyncio as qta

        qt_app()
        box: list[Any] = []

        async def main() -> bool:
            box.append(await async_fn())
            return True  # QtAsyncio.run only returns truthy results

        result: Optional[bool] = qta.run(main(), keep_running=False)
        if not result:
            raise RuntimeError("QtAsyncio.run returned no result")
        return box[0]
