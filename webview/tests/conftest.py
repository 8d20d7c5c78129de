"""Skip the webview tests, with the reason, where they cannot run (see webview_harness.py)."""

from __future__ import annotations

import importlib.util
import os
import sys
from typing import Optional

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
# The tests import their harness as a top-level module, however pytest was started.
if HERE not in sys.path:
    sys.path.insert(0, HERE)


def _skip_reason(needs_display: bool) -> Optional[str]:
    if os.environ.get("CI"):
        return None  # CI installs everything and runs under Xvfb: never skip there
    if importlib.util.find_spec("asyncio_guest_webview") is None:
        return "asyncio_guest_webview is not installed (webview/scripts/install-webview.sh)"
    if needs_display and not os.environ.get("DISPLAY"):
        return "no X display: run under `xvfb-run -a`"
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if not str(item.fspath).startswith(HERE):
            continue
        # Tests named test_no_display_* check behaviour without a display on purpose, and
        # modules that set NEEDS_DISPLAY = False never open a window.
        needs_display = getattr(item.module, "NEEDS_DISPLAY", True) and not item.name.startswith(
            "test_no_display"
        )
        reason = _skip_reason(needs_display=needs_display)
        if reason is not None:
            item.add_marker(pytest.mark.skip(reason=reason))
