"""The Qt sample window, shared by ``pyqt5_app.py``, ``pyqt6_app.py`` and ``pyside6_app.py``.

One code path for the three bindings: widgets are looked up on the binding's ``QtWidgets``
module, and the few spelling differences (``exec`` vs ``exec_``) go through tiny helpers.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from typing import Any, Optional

import asyncio_guest
from asyncio_guest.hosts import qt as qt_host
from asyncio_guest.samples import _common as common


def _exec(obj: Any) -> int:
    method = getattr(obj, "exec", None) or obj.exec_
    return int(method())


class QtApp:
    """The sample window; implements :class:`asyncio_guest.samples._common.SampleView`."""

    def __init__(self, binding: str, **controller_kwargs: Any) -> None:
        self.QtCore = importlib.import_module(binding + ".QtCore")
        self.QtWidgets = W = importlib.import_module(binding + ".QtWidgets")
        self.binding = binding
        self.app = W.QApplication.instance() or W.QApplication(sys.argv[:1])
        self.controller = common.SampleController(self, **controller_kwargs)
        self.dialog: Any = None
        self.dialog_result: Optional[str] = None

        # Closing the window needs no handler: qt.run() cancels the guest when the last
        # window closes (quitOnLastWindowClosed is off while the guest runs).
        self.window = win = W.QWidget()
        win.setWindowTitle(f"asyncio-guest on Qt ({binding})")
        layout = W.QGridLayout(win)
        self.count_label = W.QLabel("counter: 0")
        font = self.count_label.font()
        font.setPointSize(14)
        self.count_label.setFont(font)
        layout.addWidget(self.count_label, 0, 0, 1, 3)
        self.count_bar = W.QProgressBar()
        self.count_bar.setRange(0, 100)
        self.count_bar.setTextVisible(False)
        layout.addWidget(self.count_bar, 1, 0, 1, 3)

        self.status_label = W.QLabel("starting...")
        layout.addWidget(self.status_label, 2, 0, 1, 3)
        self.download_bar = W.QProgressBar()
        self.download_bar.setRange(0, 1)
        self.download_bar.setValue(0)
        layout.addWidget(self.download_bar, 3, 0, 1, 3)
        self.download_button = W.QPushButton("Download")
        self.download_button.clicked.connect(self.controller.start_download)
        layout.addWidget(self.download_button, 4, 0)
        self.cancel_button = W.QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.controller.cancel_download)
        layout.addWidget(self.cancel_button, 4, 1)
        self.dialog_button = W.QPushButton("Open modal dialog")
        self.dialog_button.clicked.connect(self.open_dialog)
        layout.addWidget(self.dialog_button, 4, 2)

        self.latency_label = W.QLabel("timer latency: -")
        mono = self.QtGui.QFontDatabase.systemFont(self.QtGui.QFontDatabase.SystemFont.FixedFont)
        self.latency_label.setFont(mono)
        layout.addWidget(self.latency_label, 5, 0, 1, 3)
        # Which binding this is (the screenshots have no title bar: no window manager).
        version = getattr(self.QtCore, "PYQT_VERSION_STR", None) or getattr(
            importlib.import_module(binding), "__version__", "?"
        )
        self.host_label = W.QLabel(f"host: {binding} {version}, Qt {self.QtCore.qVersion()}")
        layout.addWidget(self.host_label, 6, 0, 1, 3)
        win.resize(440, 210)
        win.move(20, 20)
        win.show()

    @property
    def QtGui(self) -> Any:
        return importlib.import_module(self.binding + ".QtGui")

    # -- SampleView
    def show_count(self, n: int) -> None:
        self.count_label.setText(f"counter: {n}")
        self.count_bar.setValue(n % 100)

    def show_progress(self, received: int, total: int) -> None:
        # QProgressBar takes a C int: scale to per-mille so big downloads cannot overflow.
        self.download_bar.setRange(0, 1000)
        self.download_bar.setValue(received * 1000 // max(total, 1))

    def show_status(self, text: str, downloading: bool) -> None:
        self.status_label.setText(text)
        self.cancel_button.setEnabled(downloading)
        self.download_button.setEnabled(not downloading)

    def show_latency(self, stats: common.LatencyStats) -> None:
        self.latency_label.setText(common.format_latency(stats))

    # -- modal dialog
    def open_dialog(self) -> None:
        if self.dialog is None:
            self.controller.spawn(self._dialog_task())

    async def _dialog_task(self) -> None:
        # exec() runs a nested Qt event loop; through modal() it runs from the host, outside
        # any guest tick, and that nested loop keeps delivering the guest's posted ticks.
        self.dialog_result = await asyncio_guest.modal(self.run_dialog)
        self.status_label.setText(f"dialog closed: {self.dialog_result}")

    def run_dialog(self) -> str:
        """Blocking: show a modal QDialog and wait until it is closed; returns the choice."""
        W = self.QtWidgets
        dialog = self.dialog = W.QDialog(self.window)
        dialog.setWindowTitle("Modal dialog")
        dialog.setModal(True)
        layout = W.QVBoxLayout(dialog)
        layout.addWidget(W.QLabel("A modal dialog (QDialog.exec).\nThe counter keeps counting."))
        row = W.QHBoxLayout()
        self.dialog_ok = W.QPushButton("OK")
        self.dialog_ok.clicked.connect(dialog.accept)
        cancel = W.QPushButton("Cancel")
        cancel.clicked.connect(dialog.reject)
        row.addWidget(self.dialog_ok)
        row.addWidget(cancel)
        layout.addLayout(row)
        # Below the main window, so both stay visible (and in screenshots).
        geo = self.window.frameGeometry()
        dialog.move(geo.left() + 40, geo.bottom() + 20)
        try:
            code = _exec(dialog)
        finally:
            self.dialog = None
            dialog.deleteLater()
        return "OK" if code == 1 else "closed"  # QDialog.Accepted == 1 in every binding

    def close(self) -> None:
        """Quit from code: cancel the guest.  An open dialog is ended when the run ends."""
        self.controller.close()


def main(binding: str, argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=f"asyncio-guest sample on {binding}")
    parser.add_argument("--demo", action="store_true", help="start a download and open the dialog")
    parser.add_argument("--quit-after", type=float, default=0, help="close after N seconds")
    args = parser.parse_args(argv)
    try:
        importlib.import_module(binding + ".QtWidgets")
    except ImportError as exc:
        extra = {"PyQt5": "qt5", "PyQt6": "qt6", "PySide6": "pyside6"}[binding]
        print(f"{binding} is not installed ({exc}); pip install 'asyncio-guest[{extra}]'")
        return 2
    if sys.platform.startswith("linux") and not (
        os.environ.get("DISPLAY")
        or os.environ.get("WAYLAND_DISPLAY")
        or os.environ.get("QT_QPA_PLATFORM")
    ):
        print("cannot open a Qt window (no display); try: xvfb-run -a python -m asyncio_guest demo")
        return 2
    app = QtApp(binding)
    QTimer = app.QtCore.QTimer
    if args.demo:
        QTimer.singleShot(300, app.controller.start_download)
        QTimer.singleShot(900, app.open_dialog)
    if args.quit_after:
        QTimer.singleShot(int(args.quit_after * 1000), app.window.close)
    try:
        qt_host.run(app.controller.main, binding=binding)
    finally:
        app.window.close()
        app.window.deleteLater()
    print(f"guest finished cleanly; counter reached {app.controller.count}")
    return 0
