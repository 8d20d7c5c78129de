#!/usr/bin/env bash
# CPython's own test_asyncio against asyncio-guest, on every interpreter 3.9-3.13.
#
#   bash scripts/conformance.sh [conformance.py run options...]
#
# For each version: the selected modules on the stock loop, on GuestEventLoop
# (guest mode on the built-in host) and, for test_events/test_tasks/
# test_streams/test_subprocess, on a real Tk mainloop under a private Xvfb.
# Prints the table (version x tests / passed on stock / passed on ours /
# differences), writes it into docs/conformance.md, and fails on any
# difference not listed in tests/conformance/expectations.json or on a listed
# one that no longer differs.  Uses the repo venvs .venvs/3.X (asyncio_guest
# installed); pass --versions 3.11,3.13 to narrow, --no-tk to skip Tk.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${CONFORMANCE_PYTHON:-.venvs/3.11/bin/python}
[ -x "$PY" ] || PY=python3
exec nice -n 5 "$PY" tests/conformance/conformance.py run --write-docs "$@"
