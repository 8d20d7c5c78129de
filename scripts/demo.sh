#!/usr/bin/env bash
# Set up (Python 3.11 only) and run the main demo: a Tk window running guest asyncio.
#
#   bash scripts/demo.sh [--host NAME] [sample args...]
#
# With a display it opens the window. Without one (a server, CI) it runs the demo
# under Xvfb in its scripted mode (starts a download, opens the modal dialog,
# quits after 10 s) and prints what happened.
set -euo pipefail
cd "$(dirname "$0")/.."
ASYNCIO_GUEST_PYTHONS=3.11 bash scripts/setup.sh >/dev/null
if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
    exec .venvs/3.11/bin/python -m asyncio_guest demo "$@"
fi
echo "No display: running the demo under Xvfb in its scripted mode (--demo --quit-after 10)."
exec xvfb-run -a .venvs/3.11/bin/python -m asyncio_guest demo "$@" --demo --quit-after 10
