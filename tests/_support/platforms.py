"""Markers for tests that depend on what only POSIX systems offer."""

from __future__ import annotations

import sys

import pytest

#: ``os.kill(os.getpid(), SIGINT)`` terminates the process on Windows instead of raising
#: KeyboardInterrupt, ``Popen.send_signal`` accepts only SIGTERM and the CTRL_* events there,
#: and SIGUSR1 does not exist.
needs_posix_signals = pytest.mark.skipif(
    sys.platform == "win32",
    reason="needs POSIX signal delivery (os.kill with SIGINT, SIGUSR1): not on Windows",
)
