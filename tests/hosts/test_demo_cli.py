"""``python -m asyncio_guest demo`` / ``bench``: the main job's command line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _run(
    args: list[str], env: dict[str, str], timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    env = dict(env)
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(ROOT / "python"), env.get("PYTHONPATH")) if p
    )
    return subprocess.run(
        [sys.executable, "-m", "asyncio_guest", *args],
        env=env,
        cwd=str(ROOT),
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


def _no_display_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env.pop("SDL_VIDEODRIVER", None)
    return env


@pytest.mark.parametrize("host", [None, "gtk3", "gtk4", "pygame"])
def test_demo_without_display_says_how_to_get_one(host: str | None) -> None:
    args = ["demo"] + (["--host", host] if host else [])
    proc = _run(args, _no_display_env())
    assert proc.returncode == 1, proc
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "xvfb-run" in lines[0], proc


def test_unknown_host() -> None:
    proc = _run(["demo", "--host", "nope"], dict(os.environ))
    assert proc.returncode == 2
    assert "unknown host" in proc.stderr


@pytest.mark.parametrize("host", ["tkinter", "gtk3", "gtk4", "pygame", "asyncio", "tornado"])
def test_demo_runs_and_closes_cleanly(host: str) -> None:
    from conftest import display_env

    proc = _run(["demo", "--host", host, "--demo", "--quit-after", "1.5"], display_env())
    assert proc.returncode == 0, proc
    assert "guest finished cleanly" in proc.stdout, proc


def test_default_host_is_tkinter() -> None:
    from conftest import display_env

    proc = _run(["demo", "--quit-after", "0.5"], display_env())
    assert proc.returncode == 0, proc
    assert "guest finished cleanly" in proc.stdout, proc


def test_bench_forwards_arguments() -> None:
    proc = _run(["bench", "--help"], dict(os.environ))
    assert proc.returncode == 0, proc
    assert "usage" in proc.stdout.lower(), proc
