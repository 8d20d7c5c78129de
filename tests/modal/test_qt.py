"""Qt's blocking modal calls made directly from a task: ``QDialog.exec``,
``QMessageBox.exec`` and ``QMenu.exec``, with PyQt5, PyQt6 and PySide6 (each binding in its
own child process); see tests/modal/_toolkit.py for the scenario."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any, Callable

if __name__ == "__main__":
    sys.path[:0] = [str(Path(__file__).resolve().parents[2])]

from tests.modal._toolkit import Control, Kit, check, child_main, run_child

KINDS = ("QDialog.exec", "QMessageBox.exec", "QMenu.exec")
MODES = (True, False)
BINDINGS = ("PySide6", "PyQt6", "PyQt5")


class QtKit(Kit):
    name = "qt"
    kinds = KINDS
    modes = MODES
    # A popup menu closes when another window opens; from a menu, open a menu.
    inner_kinds = {"QMenu.exec": "QMenu.exec", "QMessageBox.exec": "QDialog.exec"}

    def __init__(self, binding: str) -> None:
        self.binding = binding
        self.QtCore = importlib.import_module(binding + ".QtCore")
        self.QtWidgets = importlib.import_module(binding + ".QtWidgets")
        self.app = self.QtWidgets.QApplication(sys.argv[:1])
        self.window = self.QtWidgets.QMainWindow()
        self.window.show()
        self._keep: list[Any] = []

    def run(self, async_fn: Callable[[], Any], thread_free: bool) -> Any:
        from asyncio_guest.hosts import qt

        return qt.run(async_fn, binding=self.binding, thread_free=thread_free)

    def call_later(self, ms: int, fn: Callable[[], None]) -> None:
        self.QtCore.QTimer.singleShot(ms, fn)

    @staticmethod
    def _exec(obj: Any, *args: Any) -> Any:
        method = getattr(obj, "exec", None) or obj.exec_
        return method(*args)

    def modal(self, kind: str, on_open: Callable[[Control], None]) -> Any:
        QtWidgets = self.QtWidgets
        parent = QtWidgets.QApplication.activeModalWidget() or self.window
        if kind == "QDialog.exec":
            dialog = QtWidgets.QDialog(parent)
            button = QtWidgets.QPushButton("Start", dialog)
            ctl = Control(close=dialog.accept, click=button.click)
            button.clicked.connect(lambda *_: ctl.on_button())
            self.call_later(20, lambda: on_open(ctl))
            return int(self._exec(dialog))
        if kind == "QMessageBox.exec":
            box = QtWidgets.QMessageBox(parent)
            box.setText("Go on?")
            ctl = Control(close=box.accept, click=None)
            self.call_later(20, lambda: on_open(ctl))
            return int(self._exec(box))
        if kind == "QMenu.exec":
            menu = QtWidgets.QMenu(parent)
            menu.addAction("First")
            menu.addAction("Second")
            ctl = Control(close=menu.close, click=None)
            self.call_later(20, lambda: on_open(ctl))
            chosen = self._exec(menu, self.window.mapToGlobal(self.window.rect().center()))
            return None if chosen is None else chosen.text()
        raise ValueError(kind)


def test_qt_modal_calls_made_directly_keep_the_guest_running() -> None:
    import pytest

    available = [b for b in BINDINGS if importlib.util.find_spec(b) is not None]
    if not available:
        pytest.skip("no Qt binding is installed")
    for binding in available:
        results = run_child(__file__, binding, env={"QT_QPA_PLATFORM": "offscreen"})
        check(results, KINDS, MODES)


if __name__ == "__main__":
    child_main(QtKit(sys.argv[1]))
