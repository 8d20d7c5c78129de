"""Qt host for PyQt5, PyQt6 and PySide6: guest ticks are posted events to a receiver object.

Posting (see docs/hosts.md): both hooks append the callable to a FIFO, then
``QCoreApplication.postEvent`` a plain event of one custom registered type to a receiver
``QObject`` that lives on the GUI thread; each delivered event pops and runs the *oldest*
callable, so events and callables stay paired and order is append order.

* ``postEvent`` is documented thread-safe and always queues, also from the GUI thread.  A
  signal is never used: emitting one with the default AutoConnection from the GUI thread calls
  the slot inline, which would recurse into the guest tick (trio#1551).
* The event object carries no Python state (the callable is in the FIFO), so nothing depends on
  a binding keeping a Python wrapper alive after Qt took ownership of the event.
* Priority ``Qt.LowEventPriority`` (-1): posted events are ordered by priority, then FIFO.
  At low priority a guest tick never overtakes queued signal/slot calls or other normal posted
  events, and stays FIFO with the widgets' repaint requests (Qt posts ``UpdateRequest`` at low
  priority too), so a guest that keeps itself busy cannot starve painting.  Input, timers and
  socket notifiers come from the event dispatcher, not this queue, and are not affected.
* There is no cheaper same-thread path that still queues (a 0 ms ``QTimer`` costs more than a
  posted event), so ``run_sync_soon_not_threadsafe`` is the same hook.
* PySide6 6.12.0's ``postEvent`` drops a reference to ``None`` per call, fatal before Python
  3.12: where a probe at start-up sees that, posts go through a queued
  ``QMetaObject.invokeMethod`` instead (see :func:`_post_event_drops_none`).

Thread-free mode (default on Linux): the host also offers ``wait_readable``, so the guest's
I/O wait is a ``QSocketNotifier`` on the poller's fd plus a precise single-shot ``QTimer`` in
Qt's own dispatcher, instead of a worker thread that hands each wake-up back through
``postEvent``.  It is the default only where it has been run: on macOS Qt implements
``QSocketNotifier`` with ``CFSocket``, unproven on a kqueue descriptor, so there (and on other
systems) the default is the worker; ``thread_free=True`` asks for it anyway.  Where the poller
has no fd (Windows) the core uses the worker whatever is asked.

Modal dialogs: ``QDialog.exec()`` runs a nested event loop that delivers posted events, so with
``await asyncio_guest.modal(dialog.exec)`` the guest keeps running while the dialog is open.

Lifetime: while a guest runs, ``setQuitOnLastWindowClosed(False)`` is in force, so closing the
last window cannot end the event loop under a live guest (the run would be abandoned);
:func:`run` instead cancels the main task on ``lastWindowClosed``.  The host loop is the
application loop (``app.exec()``) when no Qt loop runs yet, since Qt emits ``lastWindowClosed``
only inside ``exec()``; when called from inside a running loop it is a ``QEventLoop`` of its
own, so :meth:`QtHost.stop` never ends a loop the caller runs.
"""

from __future__ import annotations

import contextlib
import ctypes
import importlib
import math
import os
import sys
from types import ModuleType
from typing import Any, Awaitable, Callable, Iterator, Optional, TypeVar

from asyncio_guest.hosts._base import CallQueue, HostBase, run_adapter

__all__ = ["BINDINGS", "PRIORITY", "QtHost", "load_binding", "run"]

T = TypeVar("T")

#: Supported bindings, in the order they are tried when none is chosen or imported.
BINDINGS = ("PySide6", "PyQt6", "PyQt5")

#: ``Qt.LowEventPriority``; every binding takes the priority of ``postEvent`` as an int.
PRIORITY = -1

#: Thread-free mode by default only where it has been run (see the module docstring).
THREAD_FREE_BY_DEFAULT = sys.platform.startswith("linux")


def load_binding(binding: Optional[str] = None) -> ModuleType:
    """Return the ``QtCore`` module of the binding to use.

    ``binding`` if given (one of :data:`BINDINGS`), else a binding the process already
    imported, else ``$QT_API`` (the qtpy convention: ``pyside6``, ``pyqt6``, ``pyqt5``), else
    the first of :data:`BINDINGS` that imports.
    """
    if binding is not None:
        if binding not in BINDINGS:
            raise ValueError(f"binding must be one of {BINDINGS}, got {binding!r}")
        return importlib.import_module(binding + ".QtCore")
    for name in BINDINGS:
        if name + ".QtCore" in sys.modules:
            return sys.modules[name + ".QtCore"]
    wanted = os.environ.get("QT_API", "").lower()
    for name in BINDINGS:
        if name.lower() == wanted:
            return importlib.import_module(name + ".QtCore")
    errors = []
    for name in BINDINGS:
        try:
            return importlib.import_module(name + ".QtCore")
        except ImportError as exc:
            errors.append(f"{name}: {exc}")
    raise ImportError("no Qt binding could be imported (" + "; ".join(errors) + ")")


def _post_event_drops_none(host: QtHost) -> bool:
    """Whether this binding's ``postEvent`` loses a reference to ``None`` on every call.

    PySide6 6.12.0 does (measured: ``sys.getrefcount(None)`` drops by exactly 1 per
    ``QCoreApplication.postEvent``; 6.10.3, PyQt5 and PyQt6 do not).  Before Python 3.12,
    where ``None`` is not immortal, that ends in "Fatal Python error: none_dealloc" after a few
    thousand guest ticks.  Probed once per host instead of trusting version numbers; where it
    happens the host posts with ``QMetaObject.invokeMethod(..., QueuedConnection)`` (also
    thread-safe and always queued, at normal priority), which does not leak.
    """
    if sys.version_info >= (3, 12):
        return False  # None is immortal: such a leak would be harmless
    QtCore, probes = host.QtCore, 64
    before = sys.getrefcount(None)
    for _ in range(probes):
        QtCore.QCoreApplication.postEvent(host._receiver, QtCore.QEvent(host._type), PRIORITY)
    lost = before - sys.getrefcount(None)
    # The probes find the FIFO empty when delivered; drop them anyway.
    QtCore.QCoreApplication.removePostedEvents(host._receiver, host._type)
    if lost < probes // 2:
        return False
    for _ in range(lost):  # give back what the probe took
        ctypes.pythonapi.Py_IncRef(ctypes.py_object(None))
    return True


def _exec(obj: Any) -> int:
    # PyQt5 spells it exec_ (exec was a keyword in Python 2); PyQt6 only has exec.
    method = getattr(obj, "exec", None) or obj.exec_
    return int(method())


class QtHost(HostBase):
    """Host adapter for the ``QCoreApplication`` (or ``QApplication``) of this process."""

    host_uses_signal_set_wakeup_fd = False

    def __init__(
        self,
        binding: Optional[str] = None,
        priority: int = PRIORITY,
        thread_free: Optional[bool] = None,
    ) -> None:
        if thread_free is None:
            thread_free = THREAD_FREE_BY_DEFAULT
        if not isinstance(thread_free, bool):
            raise TypeError(f"thread_free must be a bool, got {thread_free!r}")
        if not isinstance(priority, int):
            raise TypeError(f"priority must be an int (a Qt event priority), got {priority!r}")
        self.QtCore = QtCore = load_binding(binding)
        self.binding: str = QtCore.__name__.split(".")[0]
        app = QtCore.QCoreApplication.instance()
        if app is None:
            raise RuntimeError("create the QApplication (or QCoreApplication) first")
        if QtCore.QThread.currentThread() != app.thread():
            raise RuntimeError("QtHost must be created on the thread of the QApplication")
        self.app = app
        self.priority = priority
        self._type = QtCore.QEvent.Type(QtCore.QEvent.registerEventType())
        self._queue = CallQueue("Qt")
        self.end_nested_loops = self._end_nested_loops
        self._loop: Any = None
        host = self

        slot = getattr(QtCore, "Slot", None) or QtCore.pyqtSlot

        class _Receiver(QtCore.QObject):  # type: ignore[misc, name-defined]
            def event(self, ev: Any) -> bool:
                if ev.type() == host._type:
                    host._dispatch()
                    return True
                return bool(super().event(ev))

            @slot()  # type: ignore[untyped-decorator]  # Qt's Slot is untyped
            def guestTick(self) -> None:  # the invokeMethod fallback, see below
                host._dispatch()

        # Created here, so it lives on the GUI thread: its events are delivered there.
        self._receiver: Any = _Receiver()
        #: "postEvent", or "invokeMethod" where this binding's postEvent is broken.
        self.post_path = "invokeMethod" if _post_event_drops_none(self) else "postEvent"
        self._queued = getattr(QtCore.Qt, "ConnectionType", QtCore.Qt).QueuedConnection
        self._old_quit_on_last = self._set_quit_on_last_window_closed(False)
        # Thread-free mode (see _wait_readable): one notifier per poller fd and one timer,
        # reused for every wait.
        if thread_free:
            self.wait_readable = self._wait_readable
        self._notifier: Any = None
        self._notifier_fd = -1
        self._waiter: Optional[Callable[[], object]] = None
        self._wait_serial = 0
        self._wait_timer: Any = QtCore.QTimer()
        self._wait_timer.setSingleShot(True)
        # Precise: a coarse timer may fire up to 5 % early or late, and asyncio's timers
        # (sleep, call_later, timeouts) are what this timer stands for.
        self._wait_timer.setTimerType(getattr(QtCore.Qt, "TimerType", QtCore.Qt).PreciseTimer)
        self._wait_timer.timeout.connect(self._on_wait_done)

    def _set_quit_on_last_window_closed(self, value: Optional[bool]) -> Optional[bool]:
        # Only QGuiApplication has the setting; a QCoreApplication has no windows to close.
        if value is None or not hasattr(self.app, "setQuitOnLastWindowClosed"):
            return None
        old = bool(self.app.quitOnLastWindowClosed())
        self.app.setQuitOnLastWindowClosed(value)
        return old

    def _dispatch(self) -> None:
        fn = self._queue.pop()
        if fn is not None:  # else close() dropped it
            self.call(fn)

    def run_sync_soon_threadsafe(self, fn: Callable[[], object]) -> None:
        with self._queue.lock:
            # Append first: the event may be delivered before postEvent even returns.  Posted
            # under the lock so close() cannot drop the receiver in between.
            self._queue.push_locked(fn)
            if self.post_path == "postEvent":
                self.QtCore.QCoreApplication.postEvent(
                    self._receiver, self.QtCore.QEvent(self._type), self.priority
                )
            else:
                self.QtCore.QMetaObject.invokeMethod(self._receiver, "guestTick", self._queued)

    run_sync_soon_not_threadsafe = run_sync_soon_threadsafe

    def mainloop(self) -> None:
        if self.QtCore.QThread.currentThread().loopLevel() == 0:
            # No loop runs yet: run the application loop itself, because Qt emits
            # lastWindowClosed only while QCoreApplication::exec() runs.
            self._loop = self.app
        else:
            # Called from inside a running loop (a slot, a dialog): a nested loop of our own,
            # so stop() cannot end the caller's loops.
            self._loop = self.QtCore.QEventLoop()
        try:
            _exec(self._loop)
        finally:
            self._loop = None
        self.raise_pending_error()

    def stop(self) -> None:
        # QCoreApplication::exit() also ends every nested loop (dialogs) it runs in.
        if self._loop is not None:
            self._loop.exit(0)

    def _end_nested_loops(self) -> None:
        """Close the open popup menus and modal dialogs, innermost first, so the ``exec()``
        that runs each of them returns (a dialog is rejected, as its Escape key does)."""
        app = self.app
        for _ in range(100):  # bounded: a dialog that reopens itself must not hang us
            widget = None
            if hasattr(app, "activePopupWidget"):
                widget = app.activePopupWidget() or app.activeModalWidget()
            if widget is None:
                return
            reject = getattr(widget, "reject", None)
            if reject is not None:
                reject()
            else:
                widget.close()

    # -- thread-free mode

    def _wait_readable(
        self, fd: int, timeout: Optional[float], fn: Callable[[], object]
    ) -> Callable[[], None]:
        """Call ``fn()`` once, when ``fd`` is readable or after ``timeout`` s (GUI thread).

        The guest's thread-free mode (Unix): Qt's own dispatcher watches the poller's fd
        with a ``QSocketNotifier`` (it is level-triggered, so it is disabled once it fired)
        and a single-shot precise ``QTimer`` covers the timeout, so the guest needs no
        worker thread and no thread hop per wake-up.  Qt delivers both in nested loops
        (``QDialog.exec``) too.
        """
        if self._queue.closed:
            raise RuntimeError("the Qt host is closed; the callback cannot run")
        QtCore = self.QtCore
        if self._notifier is None or self._notifier_fd != fd:
            self._drop_notifier()
            kind = getattr(QtCore.QSocketNotifier, "Type", QtCore.QSocketNotifier).Read
            self._notifier = QtCore.QSocketNotifier(fd, kind)
            self._notifier.activated.connect(self._on_wait_done)
            self._notifier_fd = fd
        self._wait_serial += 1
        serial = self._wait_serial
        self._waiter = fn
        self._notifier.setEnabled(True)
        if timeout is not None:
            self._wait_timer.start(max(0, math.ceil(timeout * 1000)))

        def cancel() -> None:
            if serial == self._wait_serial and self._waiter is not None:
                self._end_wait()

        return cancel

    def _end_wait(self) -> Optional[Callable[[], object]]:
        fn, self._waiter = self._waiter, None
        if self._notifier is not None:
            self._notifier.setEnabled(False)
        self._wait_timer.stop()
        return fn

    def _on_wait_done(self, *_: object) -> None:
        fn = self._end_wait()  # before fn(): the tick it runs may arm the next wait
        if fn is not None:
            self.call(fn)

    def _drop_notifier(self) -> None:
        if self._notifier is not None:
            self._notifier.setEnabled(False)
            self._notifier.activated.disconnect(self._on_wait_done)
            self._notifier = None
            self._notifier_fd = -1

    def close(self) -> None:
        """Forget queued callables, restore ``quitOnLastWindowClosed``, drop the receiver."""
        with self._queue.lock:
            if self._receiver is None:
                return
            receiver, self._receiver = self._receiver, None
        self._queue.close()
        self._set_quit_on_last_window_closed(self._old_quit_on_last)
        self._old_quit_on_last = None
        self._end_wait()
        self._drop_notifier()
        self.QtCore.QCoreApplication.removePostedEvents(receiver, self._type)
        # The receiver has no parent: dropping the last reference deletes the QObject now
        # (deleteLater would need the loop again), and Qt drops events posted to it.
        del receiver


def run(
    async_fn: Callable[..., Awaitable[T]],
    *args: Any,
    binding: Optional[str] = None,
    priority: int = PRIORITY,
    thread_free: Optional[bool] = None,
    **kwargs: Any,
) -> Optional[T]:
    """Run ``async_fn(*args)`` as a guest of Qt and return its result.

    ``thread_free=False`` makes the guest wait for I/O on the core's worker thread instead
    of a ``QSocketNotifier`` (default: thread-free on Linux, see the module docstring).
    Quitting follows the contract of :mod:`asyncio_guest.hosts`: closing the last window or
    ``QApplication.quit()`` (from a slot or a task) cancels the main task; a quit returns
    ``None``.
    Adopts the existing ``QApplication`` or creates one (kept for the process: Qt allows one
    per process and PyQt/PySide do not support re-creating it reliably).  Closing the last
    window cancels the main task, so the guest ends cleanly instead of being abandoned.

    Raises:
        TypeError: ``async_fn`` is a coroutine object or not an async function, or a
            keyword argument other than the documented ones was given (pass keyword
            arguments to ``async_fn`` with ``functools.partial``). Raised before any
            window is created.
        KeyboardInterrupt: Ctrl+C ended the run (after the guest's cleanup).
        Exception: whatever the main task raised, other than the cancellation of a quit.

    Example:
        ```python
        app = QApplication([])
        label = QLabel("0")
        label.show()

        async def main() -> None:
            for n in range(100):
                await asyncio.sleep(0.1)
                label.setText(str(n))

        asyncio_guest.hosts.qt.run(main)  # None if the window was closed
        ```
    """

    def make_host() -> QtHost:
        QtCore = load_binding(binding)
        if QtCore.QCoreApplication.instance() is None:
            QtWidgets = importlib.import_module(QtCore.__name__.split(".")[0] + ".QtWidgets")
            app = QtWidgets.QApplication(sys.argv[:1])
            _apps.append(app)  # keep it alive: a collected QApplication takes every widget down
        return QtHost(QtCore.__name__.split(".")[0], priority, thread_free)

    return run_adapter(
        "hosts.qt.run", async_fn, args, kwargs, make_host, watch_quit=_last_window_quits
    )


@contextlib.contextmanager
def _last_window_quits(host: QtHost, cancel: Callable[[], None]) -> Iterator[None]:
    """While the main task runs, the last window closing cancels it (the quit contract)."""
    signal = getattr(host.app, "lastWindowClosed", None)
    if signal is None:  # a QCoreApplication has no windows
        yield
        return

    def check_still_closed() -> None:
        # Qt also emits lastWindowClosed when a hidden window is destroyed while none is
        # on screen (say, a collected window just before the next one is shown): only a
        # quit if no window is visible once the event that emitted it is done.
        windows = getattr(host.app, "topLevelWindows", None)
        if windows is None or not any(w.isVisible() for w in windows()):
            cancel()

    def on_last_window_closed() -> None:
        host.QtCore.QTimer.singleShot(0, check_still_closed)

    signal.connect(on_last_window_closed)
    try:
        yield
    finally:
        signal.disconnect(on_last_window_closed)


_apps: list[Any] = []
