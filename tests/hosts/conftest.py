"""pytest glue for the host tests: the shared scenarios and the child runner live in
``tests/_support`` (``gui_scenarios``, ``child``, ``leaks``); this re-exports them under the
names the test files import, and stops the Xvfb the runner may have started."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests._support.child import display_env, run_child, stop_xvfb
from tests._support.gui_scenarios import (
    FAST,
    SLOW,
    Driver,
    check_common,
    check_scenario,
    child_main,
    wait_for,
)
from tests._support.leaks import fd_count, thread_count

__all__ = [
    "FAST",
    "SLOW",
    "Driver",
    "check_common",
    "check_scenario",
    "child_main",
    "display_env",
    "fd_count",
    "run_child",
    "thread_count",
    "wait_for",
]


def pytest_sessionfinish(session: Any, exitstatus: int) -> None:
    stop_xvfb()
