"""``python -m asyncio_guest``: help without a display, the demo list, install hints, exit codes.

The environment checks run in-process (``main(argv)``); the demos themselves run in a child
interpreter started from a directory outside the checkout, as a user would.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import asyncio_guest
from asyncio_guest import __main__ as cli


def _run(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "asyncio_guest", *args],
        cwd=str(cwd),
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )


def _without_display() -> dict[str, str]:
    return {
        k: v
        for k, v in os.environ.items()
        if k not in ("DISPLAY", "WAYLAND_DISPLAY", "SDL_VIDEODRIVER", "QT_QPA_PLATFORM")
    }


@pytest.mark.parametrize("args", [["--help"], ["demo", "--help"], ["demo", "--list"]])
def test_help_and_list_need_no_display(args: list[str], tmp_path: Path) -> None:
    proc = _run(args, tmp_path, _without_display())
    assert proc.returncode == 0, proc
    assert proc.stderr == "", proc
    if args == ["demo", "--list"]:
        for name in cli.DEMOS:
            assert f"  {name} " in proc.stdout, proc.stdout
    else:
        assert proc.stdout.startswith("usage: python -m asyncio_guest"), proc.stdout


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"asyncio-guest {asyncio_guest.__version__}"


def test_no_command_prints_usage_and_fails(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main([]) == 2
    assert "usage:" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("host", "extra"),
    [
        ("pyqt5", "qt5"),
        ("pyqt6", "qt6"),
        ("pyside6", "pyside6"),
        ("gtk4", "gtk"),
        ("pygame", "pygame"),
        ("tornado", "tornado"),
        ("wx", "wx"),
        ("webview", "webview"),
    ],
)
def test_missing_toolkit_names_the_extra(
    host: str, extra: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    required = set(cli.DEMOS[host].requires)
    monkeypatch.setattr(cli, "_installed", lambda module: module not in required)
    assert cli.main(["demo", "--host", host]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert f'pip install "asyncio-guest[{extra}]"' in err[0]


def test_missing_tk_points_to_the_system_package(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(cli, "_installed", lambda module: module != "_tkinter")
    assert cli.main(["demo", "--host", "tk"]) == 1
    assert "python3-tk" in capsys.readouterr().err


@pytest.mark.skipif(sys.platform in ("win32", "darwin"), reason="always a display there")
@pytest.mark.parametrize("host", ["tk", "gtk3", "pyside6", "pygame", "webview"])
def test_no_display_is_an_error_with_a_hint(
    host: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(cli, "_installed", lambda module: True)
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "SDL_VIDEODRIVER", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(name, raising=False)
    assert cli.main(["demo", "--host", host]) == 1
    err = capsys.readouterr().err
    assert "no display" in err and "xvfb-run -a python -m asyncio_guest demo" in err


def test_unknown_host_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["demo", "--host", "motif"]) == 2
    assert "unknown host 'motif'" in capsys.readouterr().err


@pytest.mark.skipif(sys.platform == "win32", reason="the Win32 demo runs there")
def test_win32_demo_elsewhere_says_windows_only(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["demo", "--host", "win32"]) == 1
    assert "Windows only" in capsys.readouterr().err


def test_qt_alias_picks_an_installed_binding(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli, "_installed", lambda module: module == "PyQt5")
    assert cli._resolve("qt") == "pyqt5"
    monkeypatch.setattr(cli, "_installed", lambda module: False)
    assert cli._resolve("qt") == "pyqt6"  # none installed: the hint names [qt6]
    assert cli._resolve("TK") == "tkinter"


def test_bench_outside_the_checkout_says_so(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(cli, "_checkout_root", lambda: None)
    assert cli.main(["bench", "--quick"]) == 1
    assert "needs benchmarks/run.py from the asyncio-guest source checkout" in (
        capsys.readouterr().err
    )


@pytest.mark.parametrize("host", ["asyncio", "tornado", "tk"])
def test_demo_runs_from_any_directory(host: str, tmp_path: Path) -> None:
    module = {"tk": "_tkinter", "tornado": "tornado"}.get(host)
    if module is not None and not cli._installed(module):
        if os.environ.get("CI"):
            pytest.fail(f"{module} is not installed (CI installs every toolkit)")
        pytest.skip(f"{module} is not installed")
    env = dict(os.environ)
    if host == "tk" and sys.platform.startswith("linux") and not env.get("DISPLAY"):
        if os.environ.get("CI"):
            pytest.fail("no DISPLAY: run the tests under xvfb-run")
        pytest.skip("no DISPLAY (run under xvfb-run)")
    proc = _run(["demo", "--host", host, "--demo", "--quit-after", "1.5"], tmp_path, env)
    assert proc.returncode == 0, proc
    assert "guest finished cleanly" in proc.stdout, proc
