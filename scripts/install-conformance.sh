#!/usr/bin/env bash
# Install what tests/conformance and tests/stress need, idempotently.
#
#   scripts/install-conformance.sh [PYTHON ...]
#
# System: Xvfb (the Tk-host conformance runs) and Tk's shared libraries (the
# pyenv interpreters link _tkinter against them).  Python: pytest and
# pytest-timeout into each interpreter given (the stress tests); the
# conformance runner itself needs only the standard library, and each
# interpreter's own Lib/test/test_asyncio.
set -euo pipefail
# shellcheck source=scripts/_apt.sh
source "$(dirname "$0")/_apt.sh"

apt_install_missing xvfb xauth libtk8.6

for py in "$@"; do
    if ! "$py" -c "import test.test_asyncio" 2>/dev/null; then
        echo "warning: $py has no test.test_asyncio (its conformance run will be skipped)" >&2
    fi
    "$py" -c "import pytest, pytest_timeout" 2>/dev/null \
        || "$py" -m pip install --quiet "pytest>=7" "pytest-timeout>=2"
done
