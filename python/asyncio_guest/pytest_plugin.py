"""pytest plugin: ``async def`` tests that run as an asyncio guest on a real host loop.

Installed with the package (entry point ``pytest11``) and inert until a test asks for it::

    @pytest.mark.asyncio_guest(host="qt")
    async def test_button(qt_app, qtbot):
        button = QPushButton("go")
        qtbot.addWidget(button)
        await asyncio.sleep(0.1)        # the Qt event loop keeps running meanwhile

or for every ``async def`` test of a project, in the ini file::

    [pytest]
    asyncio_guest_host = tk
    asyncio_guest_timeout = 30

For each such test the plugin creates the host (a Tk root, the QApplication, a GLib main
loop, a fresh asyncio loop, ...), runs the test as the guest's main task while the host loop
runs, and tears both down.  It provides:

* fixtures for the host objects: ``guest_host`` (the host adapter), ``tk_root``, ``qt_app``,
  ``asyncio_host_loop``, ``tornado_io_loop``, ``wx_app``;
* a per-test timeout (marker ``timeout=`` or ini ``asyncio_guest_timeout``, seconds, 0 for
  none) that cancels the test task, lets its cleanup run, and fails the test with the place
  where the task was waiting;
* failures reported with the test task's own traceback;
* tasks the test started and left running are cancelled and reported as a teardown error.

Tests claimed by pytest-asyncio (``@pytest.mark.asyncio``) are left to it, unless they also
carry the ``asyncio_guest`` marker: an explicit marker always wins, even in pytest-asyncio's
auto mode.  Fixtures are ordinary (sync) pytest fixtures; they run before the host loop starts.
"""

from __future__ import annotations

import asyncio
import dataclasses
import importlib
import inspect
import sys
import traceback
from typing import Any, Callable, Optional

import pytest

from asyncio_guest.__main__ import install_hint

__all__ = ["HOSTS", "GuestTestCancelled", "GuestTestTimeout"]

#: Seconds a cancelled test task, or a leaked task, gets to finish its cleanup.
CLEANUP_GRACE = 5.0
DEFAULT_TIMEOUT = 60.0

#: --host / marker names -> the adapter that hosts the test (aliases included).
HOSTS = ("tk", "qt", "pyqt5", "pyqt6", "pyside6", "gtk", "asyncio", "tornado", "pygame", "wx")
_ALIASES = {"tkinter": "tk", "asyncio_host": "asyncio", "wxpython": "wx", "glib": "gtk"}
_QT_BINDINGS = {"qt": None, "pyqt5": "PyQt5", "pyqt6": "PyQt6", "pyside6": "PySide6"}
#: Fixture name -> the hosts it exists for.
_TOOLKIT_FIXTURES = {
    "tk_root": ("tk",),
    "qt_app": ("qt", "pyqt5", "pyqt6", "pyside6"),
    "asyncio_host_loop": ("asyncio",),
    "tornado_io_loop": ("tornado",),
    "wx_app": ("wx",),
}
_RUNNER_FIXTURE = "_asyncio_guest_runner"

#: QApplication / wx.App objects the plugin created: one per process, kept alive (toolkits
#: do not support re-creating their application object).
_kept_apps: list[Any] = []


class GuestTestTimeout(Exception):
    """The test did not finish within its ``asyncio_guest`` timeout."""


class GuestTestCancelled(Exception):
    """The test task ended cancelled without the plugin's timeout cancelling it."""


@dataclasses.dataclass
class _Finished:
    """What the guest's main task returns when the test ran to its end (a host quit
    cancels the main task instead, and the run returns ``None``)."""

    value: Any


@dataclasses.dataclass
class _GuestTest:
    """What collection decided for one test item."""

    host: Optional[str]
    timeout: Optional[float]
    function: Callable[..., Any]


@dataclasses.dataclass
class _HostSession:
    """One test's host: the adapter, its toolkit object, and how to tear it down."""

    name: str
    host: Any
    toolkit_object: Any
    cleanup: Callable[[], None]
    #: ``run(async_fn, *args)``: run the host loop with ``async_fn`` as the guest, return
    #: its result; the adapter's own way (hosts that are asyncio loops start the guest from
    #: inside their running loop).
    run: Optional[Callable[..., Any]] = None
    leaked: list[str] = dataclasses.field(default_factory=list)

    def run_guest(self, async_fn: Callable[..., Any], *args: Any) -> Any:
        if self.run is not None:
            return self.run(async_fn, *args)
        from asyncio_guest.hosts import run_on_host

        return run_on_host(self.host, async_fn, *args)


_guest_test_key = pytest.StashKey[_GuestTest]()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(
        "asyncio_guest_host",
        "host loop for every async def test not claimed by another plugin "
        f"(one of: {', '.join(HOSTS)}); unset: only tests marked asyncio_guest run as guests",
        default="",
    )
    parser.addini(
        "asyncio_guest_timeout",
        f"seconds an asyncio_guest test may run before it is cancelled (0: no limit; "
        f"default {DEFAULT_TIMEOUT:g})",
        default=str(DEFAULT_TIMEOUT),
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "asyncio_guest(host=None, timeout=None): run this async def test as an asyncio guest "
        f"on a real host loop ({', '.join(HOSTS)}); host defaults to the asyncio_guest_host "
        "ini option",
    )


def _normalise_host(name: object, where: str) -> str:
    if not isinstance(name, str) or _ALIASES.get(name.lower(), name.lower()) not in HOSTS:
        raise pytest.UsageError(
            f"{where}: unknown asyncio_guest host {name!r}; choose one of: {', '.join(HOSTS)}"
        )
    return _ALIASES.get(name.lower(), name.lower())


def _parse_timeout(value: object, where: str) -> Optional[float]:
    try:
        seconds = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise pytest.UsageError(
            f"{where}: asyncio_guest timeout must be a number of seconds, got {value!r}"
        ) from None
    if seconds < 0 or seconds != seconds:
        raise pytest.UsageError(f"{where}: asyncio_guest timeout must be >= 0, got {value!r}")
    return seconds or None


def _is_async_test(obj: object) -> bool:
    return inspect.iscoroutinefunction(obj)


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    ini_host = config.getini("asyncio_guest_host").strip()
    default_host = _normalise_host(ini_host, "ini option asyncio_guest_host") if ini_host else None
    default_timeout = _parse_timeout(
        config.getini("asyncio_guest_timeout"), "ini option asyncio_guest_timeout"
    )
    for item in items:
        if not isinstance(item, pytest.Function):
            continue
        marker = item.get_closest_marker("asyncio_guest")
        function = item.obj
        if marker is None:
            # Only the ini default applies: leave tests another plugin runs (pytest-asyncio)
            # and sync tests alone.
            if default_host is None or not _is_async_test(function):
                continue
            if item.get_closest_marker("asyncio") is not None:
                continue
            item.stash[_guest_test_key] = _GuestTest(default_host, default_timeout, function)
            item.fixturenames.insert(0, _RUNNER_FIXTURE)
            continue
        if not _is_async_test(function):
            if any(m.name == "asyncio_guest" for m in item.own_markers):
                raise pytest.UsageError(
                    f"{item.nodeid}: the asyncio_guest marker applies to async def tests only"
                )
            continue  # a class- or module-level marker also covers the sync tests beside them
        if len(marker.args) > 1 or set(marker.kwargs) - {"host", "timeout"}:
            raise pytest.UsageError(
                f"{item.nodeid}: use @pytest.mark.asyncio_guest(host=NAME, timeout=SECONDS)"
            )
        host_arg = marker.kwargs.get("host", marker.args[0] if marker.args else None)
        host = _normalise_host(host_arg, item.nodeid) if host_arg is not None else default_host
        if "timeout" in marker.kwargs:
            timeout = _parse_timeout(marker.kwargs["timeout"], item.nodeid)
        else:
            timeout = default_timeout
        item.stash[_guest_test_key] = _GuestTest(host, timeout, function)
        item.fixturenames.insert(0, _RUNNER_FIXTURE)


def _import_toolkit(module: str, host: str) -> Any:
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        pytest.fail(
            f"asyncio_guest host {host!r} needs {module}, which is not importable ({exc}); "
            f"{install_hint(host)}",
            pytrace=False,
        )


def _start_host(name: str) -> _HostSession:
    """Create the host of one test (and its toolkit object); the caller tears it down."""
    if name == "tk":
        tkinter = _import_toolkit("tkinter", name)
        from asyncio_guest.hosts.tk import TkHost

        root = tkinter.Tk()
        try:
            tk_host = TkHost(root)
        except BaseException:
            root.destroy()
            raise

        def close_tk() -> None:
            tk_host.close()
            try:
                root.destroy()
            except tkinter.TclError:
                pass  # the test destroyed it already

        return _HostSession(name, tk_host, root, close_tk)
    if name in _QT_BINDINGS:
        binding = _QT_BINDINGS[name]
        qt = _import_toolkit("asyncio_guest.hosts.qt", name)
        try:
            QtCore = qt.load_binding(binding)
        except ImportError as exc:
            pytest.fail(f"asyncio_guest host {name!r}: {exc}; {install_hint(name)}", pytrace=False)
        app = QtCore.QCoreApplication.instance()
        if app is None:
            # The same QApplication pytest-qt's qapp fixture adopts (it creates one the same
            # way when it comes first).
            QtWidgets = importlib.import_module(QtCore.__name__.split(".")[0] + ".QtWidgets")
            app = QtWidgets.QApplication(sys.argv[:1])
            _kept_apps.append(app)
        qt_host = qt.QtHost(QtCore.__name__.split(".")[0])
        return _HostSession(name, qt_host, app, qt_host.close)
    if name == "gtk":
        _import_toolkit("gi", name)
        from asyncio_guest.hosts.gtk import GLibHost

        glib_host = GLibHost()
        return _HostSession(name, glib_host, glib_host.loop, glib_host.close)
    if name == "asyncio":
        from asyncio_guest.hosts.asyncio_host import AsyncioHost, run_as_guest

        loop = asyncio.new_event_loop()
        asyncio_host = AsyncioHost(loop)

        def close_asyncio() -> None:
            asyncio_host.close()
            loop.close()

        def run_on_asyncio(async_fn: Callable[..., Any], *args: Any) -> Any:
            return loop.run_until_complete(run_as_guest(async_fn, *args, host=asyncio_host))

        return _HostSession(name, asyncio_host, loop, close_asyncio, run_on_asyncio)
    if name == "tornado":
        _import_toolkit("tornado", name)
        from asyncio_guest.hosts.asyncio_host import run_as_guest
        from asyncio_guest.hosts.tornado_host import TornadoHost

        tornado_host = TornadoHost()

        def run_on_tornado(async_fn: Callable[..., Any], *args: Any) -> Any:
            return tornado_host.io_loop.run_sync(
                lambda: run_as_guest(async_fn, *args, host=tornado_host)
            )

        return _HostSession(
            name, tornado_host, tornado_host.io_loop, tornado_host.close, run_on_tornado
        )
    if name == "pygame":
        pygame = _import_toolkit("pygame", name)
        from asyncio_guest.hosts.pygame_host import PygameHost

        if not pygame.display.get_init():
            pygame.init()
        pygame_host = PygameHost()
        return _HostSession(name, pygame_host, pygame, pygame_host.close)
    if name == "wx":
        wx = _import_toolkit("wx", name)
        from asyncio_guest.hosts.wx_host import WxHost

        app = wx.GetApp()
        if app is None:
            # clearSigInt=False: Ctrl+C cancels the test instead of killing pytest.
            app = wx.App(clearSigInt=False)
            _kept_apps.append(app)
        wx_host = WxHost(app)
        return _HostSession(name, wx_host, app, wx_host.close)
    raise AssertionError(f"unhandled host {name!r}")  # _normalise_host checked the name


@pytest.fixture
def _asyncio_guest_runner(request: pytest.FixtureRequest) -> Any:
    """The host of an asyncio_guest test; reports the test's leaked tasks at teardown."""
    spec = request.node.stash.get(_guest_test_key, None)
    if spec is None:
        pytest.fail(
            f"{request.node.nodeid} is not an asyncio_guest test: mark it "
            "@pytest.mark.asyncio_guest(host=...) to use the host fixtures",
            pytrace=False,
        )
    if spec.host is None:
        pytest.fail(
            f"{request.node.nodeid}: no asyncio_guest host: pass one to the marker "
            "(@pytest.mark.asyncio_guest(host='tk')) or set asyncio_guest_host in the ini file",
            pytrace=False,
        )
    session = _start_host(spec.host)
    try:
        yield session
    finally:
        session.cleanup()
    if session.leaked:
        pytest.fail(
            f"the test left {len(session.leaked)} task(s) running (cancelled at its end):\n"
            + "\n".join(session.leaked),
            pytrace=False,
        )


@pytest.fixture
def guest_host(_asyncio_guest_runner: _HostSession) -> Any:
    """The host adapter the test runs on (``TkHost``, ``QtHost``, ``GLibHost``, ...)."""
    return _asyncio_guest_runner.host


def _toolkit_fixture(name: str) -> Any:
    hosts = _TOOLKIT_FIXTURES[name]

    def fixture(_asyncio_guest_runner: _HostSession) -> Any:
        if _asyncio_guest_runner.name not in hosts:
            pytest.fail(
                f"fixture {name!r} exists for asyncio_guest host {' / '.join(hosts)}; "
                f"this test runs on {_asyncio_guest_runner.name!r}",
                pytrace=False,
            )
        return _asyncio_guest_runner.toolkit_object

    fixture.__name__ = name
    return pytest.fixture(name=name)(fixture)


tk_root = _toolkit_fixture("tk_root")
tk_root.__doc__ = "The ``tkinter.Tk`` root the test runs on (destroyed after the test)."
qt_app = _toolkit_fixture("qt_app")
qt_app.__doc__ = "The process's ``QApplication`` (shared with pytest-qt's ``qapp``)."
asyncio_host_loop = _toolkit_fixture("asyncio_host_loop")
asyncio_host_loop.__doc__ = "The host asyncio loop (not the guest's); closed after the test."
tornado_io_loop = _toolkit_fixture("tornado_io_loop")
tornado_io_loop.__doc__ = "The host Tornado ``IOLoop``; closed after the test."
wx_app = _toolkit_fixture("wx_app")
wx_app.__doc__ = "The process's ``wx.App``."


def _where(task: asyncio.Task[Any]) -> str:
    """Where a pending task is suspended, as traceback lines (innermost last)."""
    frames = task.get_stack()
    if not frames:
        return f"  {task!r}\n"
    summary = traceback.StackSummary.extract((f, f.f_lineno) for f in frames)
    return "".join(summary.format())


def _describe(task: asyncio.Task[Any]) -> str:
    coro = task.get_coro()
    name = getattr(coro, "__qualname__", None) or repr(coro)
    return f"- task {task.get_name()!r} running {name}, suspended at:\n{_where(task)}"


async def _run_test(
    function: Callable[..., Any],
    kwargs: dict[str, Any],
    timeout: Optional[float],
    leaked: list[str],
) -> Any:
    """The guest's main task: the test with its timeout, then the leaked-task sweep.

    Leaked tasks go into ``leaked`` (also when the test failed), for the teardown report.
    """
    loop = asyncio.get_running_loop()
    here = asyncio.current_task()
    test_task = loop.create_task(function(**kwargs))
    done, _ = await asyncio.wait({test_task}, timeout=timeout)
    timed_out: Optional[str] = None
    if not done:
        timed_out = _where(test_task)
        test_task.cancel()
        await asyncio.wait({test_task}, timeout=CLEANUP_GRACE)
        if not test_task.done():
            timed_out += (
                f"\nand it was still running {CLEANUP_GRACE:g} s after being cancelled "
                "(does it catch CancelledError?)\n"
            )
    leaked_tasks = [t for t in asyncio.all_tasks(loop) if t is not here and t is not test_task]
    leaked.extend(_describe(t) for t in leaked_tasks)
    for task in leaked_tasks:
        task.cancel()
    if leaked_tasks:
        await asyncio.wait(leaked_tasks, timeout=CLEANUP_GRACE)
    if timed_out is not None:
        raise GuestTestTimeout(
            f"the test did not finish within {timeout:g} s and was cancelled; "
            f"it was waiting at:\n{timed_out}"
        )
    if test_task.cancelled():
        raise GuestTestCancelled(
            "the test task was cancelled (CancelledError reached the test function)"
        )
    return _Finished(test_task.result())


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> Optional[bool]:
    spec = pyfuncitem.stash.get(_guest_test_key, None)
    if spec is None:
        return None
    session: _HostSession = pyfuncitem.funcargs[_RUNNER_FIXTURE]  # type: ignore[assignment]
    kwargs = {name: pyfuncitem.funcargs[name] for name in pyfuncitem._fixtureinfo.argnames}
    try:
        finished = session.run_guest(_run_test, spec.function, kwargs, spec.timeout, session.leaked)
    except (GuestTestTimeout, GuestTestCancelled) as exc:
        pytest.fail(str(exc), pytrace=False)
    if not isinstance(finished, _Finished):
        pytest.fail(
            f"the {session.name} host loop ended before the test finished (a quit or a "
            "destroyed window ends the run): the test was cancelled",
            pytrace=False,
        )
    if finished.value is not None:
        pytest.fail(f"an asyncio_guest test must return None, it returned {finished.value!r}")
    return True
