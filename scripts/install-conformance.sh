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

need_apt=()
command -v Xvfb >/dev/null 2>&1 || need_apt+=(xvfb)
command -v xauth >/dev/null 2>&1 || need_apt+=(xauth)
dpkg -s libtk8.6 >/dev/null 2>&1 || need_apt+=(libtk8.6)
if ((${#need_apt[@]})); then
    if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get install -y --no-install-recommends "${need_apt[@]}" \
        || { $SUDO apt-get update && $SUDO apt-get install -y --no-install-recommends "${need_apt[@]}"; }
fi

for py in "$@"; do
    if ! "$py" -c "import test.test_asyncio" 2>/dev/null; then
        echo "warning: $py has no test.test_asyncio (its conformance run will be skipped)" >&2
    fi
    "$py" -c "import pytest, pytest_timeout" 2>/dev/null \
        || "$py" -m pip install --quiet "pytest>=7" "pytest-timeout>=2"
done
