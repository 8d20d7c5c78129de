"""The pytest plugin (``asyncio_guest.pytest_plugin``), run with pytester in child processes.

Each scenario writes a small test file and runs pytest on it in a subprocess (a toolkit's
application object is one per process), then checks the outcomes and the report.  The
scenarios prove the guest really runs on the host: a host-side timer or callback fires while
the test awaits, and the running loop is a ``GuestEventLoop``.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import sys
import textwrap

import pytest

pytest_plugins = ["pytester"]

CHILD_TIMEOUT = 180


def _plugin_args() -> list[str]:
    """Load the plugin in the child: through its entry point when the package is installed
    with metadata (as users get it), else by module name (source tree on sys.path)."""
    entry_points = importlib.metadata.entry_points()
    group = (
        entry_points.select(group="pytest11")
        if hasattr(entry_points, "select")
        else entry_points.get("pytest11", [])  # type: ignore[attr-defined]
    )
    if any(ep.value == "asyncio_guest.pytest_plugin" for ep in group):
        return []
    return ["-p", "asyncio_guest.pytest_plugin"]


def _require(module: str, required_in_ci: bool = True) -> None:
    """Skip when a toolkit is missing, except in CI, where it must be installed (wxPython
    has no Linux wheels: CI has it for one Python only, from the distribution)."""
    if importlib.util.find_spec(module) is None:
        if os.environ.get("CI") and required_in_ci:
            pytest.fail(f"{module} is not installed (CI installs every toolkit)")
        pytest.skip(f"{module} is not installed")


def _require_display() -> None:
    if sys.platform.startswith("linux") and not os.environ.get("DISPLAY"):
        if os.environ.get("CI"):
            pytest.fail("no DISPLAY: run the tests under xvfb-run")
        pytest.skip("no DISPLAY (run under xvfb-run)")


@pytest.fixture
def run(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    monkeypatch.delenv("PYTEST_ADDOPTS", raising=False)

    def run(source: str, *args: str, ini: str = "") -> pytest.RunResult:
        pytester.makepyfile(test_scenario=textwrap.dedent(source))
        pytester.makeini("[pytest]\n" + textwrap.dedent(ini))
        return pytester.runpytest_subprocess(
            *_plugin_args(), "-p", "no:cacheprovider", "-v", *args, timeout=CHILD_TIMEOUT
        )

    return run


def test_tk_test_runs_as_guest_while_tk_processes_events(run) -> None:  # type: ignore[no-untyped-def]
    _require("_tkinter")
    _require_display()
    result = run(
        """
        import asyncio, tkinter
        import pytest
        import asyncio_guest

        @pytest.mark.asyncio_guest(host="tk")
        async def test_after_fires_while_awaiting(tk_root, guest_host):
            assert isinstance(tk_root, tkinter.Tk)
            assert guest_host.root is tk_root
            assert isinstance(asyncio.get_running_loop(), asyncio_guest.GuestEventLoop)
            fired = []
            tk_root.after(20, fired.append, "tk timer")
            label = tkinter.Label(tk_root, text="before")
            label.pack()
            for _ in range(200):
                if fired:
                    break
                await asyncio.sleep(0.01)
            assert fired == ["tk timer"]
            label.configure(text="after")
            await asyncio.sleep(0)
            assert label.cget("text") == "after"

        @pytest.mark.asyncio_guest("tkinter")
        async def test_fresh_root_per_test(tk_root):
            assert tk_root.winfo_children() == []

        def test_sync_tests_are_untouched():
            assert True
        """
    )
    result.assert_outcomes(passed=3)


def test_qt_with_pytest_qt_and_pytest_asyncio(run) -> None:  # type: ignore[no-untyped-def]
    _require("pytestqt")
    _require("pytest_asyncio")
    if not any(importlib.util.find_spec(b) for b in ("PySide6", "PyQt6", "PyQt5")):
        _require("PyQt6")
    result = run(
        """
        import asyncio
        import pytest
        import asyncio_guest
        from pytestqt.qt_compat import qt_api

        @pytest.mark.asyncio_guest(host="qt")
        async def test_qtimer_fires_while_awaiting(qt_app, qapp):
            assert qt_app is qapp  # one QApplication, shared with pytest-qt
            assert isinstance(asyncio.get_running_loop(), asyncio_guest.GuestEventLoop)
            fired = []
            qt_api.QtCore.QTimer.singleShot(20, lambda: fired.append("qt timer"))
            for _ in range(200):
                if fired:
                    break
                await asyncio.sleep(0.01)
            assert fired == ["qt timer"]

        @pytest.mark.asyncio_guest(host="qt")
        async def test_qtbot_and_await(qtbot):
            button = qt_api.QtWidgets.QPushButton("go")
            qtbot.addWidget(button)
            clicked = asyncio.get_running_loop().create_future()
            button.clicked.connect(lambda *_: clicked.done() or clicked.set_result("clicked"))
            button.show()
            qtbot.mouseClick(button, qt_api.QtCore.Qt.MouseButton.LeftButton)
            assert await asyncio.wait_for(clicked, 5) == "clicked"

        def test_pytest_qt_alone(qtbot):
            label = qt_api.QtWidgets.QLabel("plain pytest-qt")
            qtbot.addWidget(label)
            assert label.text() == "plain pytest-qt"

        @pytest.mark.asyncio
        async def test_pytest_asyncio_alone():
            loop = asyncio.get_running_loop()
            assert not isinstance(loop, asyncio_guest.GuestEventLoop)
            await asyncio.sleep(0.01)
        """,
        ini="asyncio_mode = strict\nasyncio_default_fixture_loop_scope = function\n",
    )
    result.assert_outcomes(passed=4)


def test_asyncio_host_from_ini_default(run) -> None:  # type: ignore[no-untyped-def]
    result = run(
        """
        import asyncio
        import asyncio_guest

        async def test_host_loop_runs_beside_the_guest(asyncio_host_loop):
            guest_loop = asyncio.get_running_loop()
            assert isinstance(guest_loop, asyncio_guest.GuestEventLoop)
            assert guest_loop is not asyncio_host_loop
            seen = []
            asyncio_host_loop.call_soon_threadsafe(seen.append, "host callback")
            for _ in range(200):
                if seen:
                    break
                await asyncio.sleep(0.01)
            assert seen == ["host callback"]

        async def test_each_test_gets_a_fresh_host_loop(asyncio_host_loop):
            assert not asyncio_host_loop.is_closed()
        """,
        ini="asyncio_guest_host = asyncio\n",
    )
    result.assert_outcomes(passed=2)


def test_timeout_cancels_the_test_and_runs_its_cleanup(run, pytester) -> None:  # type: ignore[no-untyped-def]
    marker = pytester.path / "cleanup-ran"
    result = run(
        f"""
        import asyncio
        import pytest

        @pytest.mark.asyncio_guest(host="asyncio", timeout=0.5)
        async def test_hangs():
            try:
                await asyncio.Event().wait()
            finally:
                open({str(marker)!r}, "w").close()

        @pytest.mark.asyncio_guest(host="asyncio", timeout=0.5)
        async def test_quick_enough():
            await asyncio.sleep(0.01)
        """
    )
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*the test did not finish within 0.5 s and was cancelled; it was waiting at:*",
            "*in test_hangs*",
        ]
    )
    assert marker.exists(), "the cancelled test's finally block did not run"


def test_failure_shows_the_task_traceback(run) -> None:  # type: ignore[no-untyped-def]
    result = run(
        """
        import asyncio
        import pytest

        async def fetch_config():
            await asyncio.sleep(0.01)
            raise ValueError("config server said no")

        @pytest.mark.asyncio_guest(host="asyncio")
        async def test_fails_in_a_helper():
            await fetch_config()
        """
    )
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*await fetch_config()*",
            '*raise ValueError("config server said no")*',
            "E*ValueError: config server said no",
        ]
    )


def test_leaked_tasks_are_cancelled_and_reported_at_teardown(run, pytester) -> None:  # type: ignore[no-untyped-def]
    marker = pytester.path / "leak-cancelled"
    result = run(
        f"""
        import asyncio
        import pytest

        async def poll_forever():
            try:
                while True:
                    await asyncio.sleep(0.01)
            except asyncio.CancelledError:
                open({str(marker)!r}, "w").close()
                raise

        @pytest.mark.asyncio_guest(host="asyncio")
        async def test_leaks_a_task():
            asyncio.get_running_loop().create_task(poll_forever(), name="poller")
            await asyncio.sleep(0.02)

        @pytest.mark.asyncio_guest(host="asyncio")
        async def test_clean():
            task = asyncio.get_running_loop().create_task(asyncio.sleep(0.01))
            await task
        """
    )
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*ERROR at teardown of test_leaks_a_task*",
            "*the test left 1 task(s) running (cancelled at its end):*",
            "*task 'poller' running poll_forever, suspended at:*",
        ]
    )
    assert marker.exists(), "the leaked task was not cancelled"


def test_explicit_marker_wins_over_pytest_asyncio_auto_mode(run) -> None:  # type: ignore[no-untyped-def]
    _require("pytest_asyncio")
    result = run(
        """
        import asyncio
        import pytest
        import asyncio_guest

        @pytest.mark.asyncio_guest(host="asyncio")
        async def test_guest():
            assert isinstance(asyncio.get_running_loop(), asyncio_guest.GuestEventLoop)

        async def test_pytest_asyncio():
            assert not isinstance(asyncio.get_running_loop(), asyncio_guest.GuestEventLoop)
        """,
        ini="asyncio_mode = auto\nasyncio_default_fixture_loop_scope = function\n",
    )
    result.assert_outcomes(passed=2)


def test_inert_unless_asked(run) -> None:  # type: ignore[no-untyped-def]
    result = run(
        """
        import asyncio_guest.pytest_plugin as plugin

        def test_sync():
            assert plugin.HOSTS
        """
    )
    result.assert_outcomes(passed=1)


@pytest.mark.parametrize(
    ("source", "message"),
    [
        (
            "@pytest.mark.asyncio_guest(host='motif')\nasync def test_x():\n    pass\n",
            "*unknown asyncio_guest host 'motif'; choose one of: tk, qt,*",
        ),
        (
            "@pytest.mark.asyncio_guest(host='tk')\ndef test_x():\n    pass\n",
            "*the asyncio_guest marker applies to async def tests only*",
        ),
        (
            "@pytest.mark.asyncio_guest(host='tk', timeout='soon')\nasync def test_x():\n"
            "    pass\n",
            "*asyncio_guest timeout must be a number of seconds, got 'soon'*",
        ),
    ],
)
def test_bad_markers_are_usage_errors(run, source: str, message: str) -> None:  # type: ignore[no-untyped-def]
    result = run("import pytest\n" + source)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([message])


def test_missing_host_and_wrong_fixture_are_clear_errors(run) -> None:  # type: ignore[no-untyped-def]
    result = run(
        """
        import pytest

        @pytest.mark.asyncio_guest
        async def test_no_host():
            pass

        @pytest.mark.asyncio_guest(host="asyncio")
        async def test_wrong_fixture(tk_root):
            pass
        """
    )
    result.assert_outcomes(errors=2)
    result.stdout.fnmatch_lines(
        [
            "*no asyncio_guest host: pass one to the marker*",
            "*fixture 'tk_root' exists for asyncio_guest host tk; this test runs on 'asyncio'*",
        ]
    )


def test_a_test_that_ends_cancelled_fails(run) -> None:  # type: ignore[no-untyped-def]
    _require("_tkinter")
    _require_display()
    result = run(
        """
        import asyncio
        import pytest

        @pytest.mark.asyncio_guest(host="tk")
        async def test_quits_the_host(tk_root):
            tk_root.quit()
            await asyncio.sleep(30)

        @pytest.mark.asyncio_guest(host="asyncio")
        async def test_cancels_itself():
            asyncio.current_task().cancel()
            await asyncio.sleep(30)

        @pytest.mark.asyncio_guest(host="asyncio")
        async def test_returns_a_value():
            return 42
        """
    )
    result.assert_outcomes(failed=3)
    result.stdout.fnmatch_lines_random(
        [
            "*the tk host loop ended before the test finished*",
            "*the test task was cancelled (CancelledError reached the test function)*",
            "*an asyncio_guest test must return None, it returned 42*",
        ]
    )


#: host -> (module it needs, fixture, code scheduling ``fired.append("host")`` on the host loop)
OTHER_HOSTS = {
    "gtk": ("gi", "guest_host", "GLib.timeout_add(20, lambda: fired.append('host') and False)"),
    "tornado": ("tornado", "tornado_io_loop", "host.call_later(0.02, fired.append, 'host')"),
    "pygame": (
        "pygame",
        "guest_host",
        "host.run_sync_soon_threadsafe(lambda: fired.append('host'))",
    ),
    "wx": ("wx", "wx_app", "wx.CallAfter(fired.append, 'host')"),
}


@pytest.mark.parametrize("host", sorted(OTHER_HOSTS))
def test_other_hosts(run, host: str) -> None:  # type: ignore[no-untyped-def]
    module, fixture, schedule = OTHER_HOSTS[host]
    _require(module, required_in_ci=host != "wx")
    if host != "tornado":
        _require_display()
    imports = {"gtk": "from gi.repository import GLib", "wx": "import wx"}.get(host, "")
    result = run(
        f"""
        import asyncio
        import pytest
        import asyncio_guest
        {imports}

        @pytest.mark.asyncio_guest(host={host!r})
        async def test_host_runs_while_awaiting({fixture}):
            host = {fixture}
            assert isinstance(asyncio.get_running_loop(), asyncio_guest.GuestEventLoop)
            fired = []
            {schedule}
            for _ in range(500):
                if fired:
                    break
                await asyncio.sleep(0.01)
            assert fired == ["host"]
        """
    )
    result.assert_outcomes(passed=1)
