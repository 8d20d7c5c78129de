#!/usr/bin/env bash
# Screenshot of the sample (python -m asyncio_guest_webview.sample) under Xvfb
# -> docs/images/webview_app.png.
#
# The sample runs its --demo (a progress stream, a cancelled stream, an image passed as
# bytes, an executor job, a raising call) and prints "demo: done"; the X screen is grabbed
# at that point with ImageMagick's `import`.  The Xvfb screen is exactly the window's size
# and there is no window manager, so the window sits at 0,0 without decorations.
#
# Usage: webview/scripts/screenshot-webview.sh [PYTHON] [OUT.png]
# Needs: xvfb (xvfb-run), imagemagick (import); asyncio_guest_webview in PYTHON.
set -euo pipefail
here="$(cd "$(dirname "$0")/../.." && pwd)"
python="${1:-python3}"
out="${2:-$here/docs/images/webview_app.png}"
mkdir -p "$(dirname "$out")"
export WEBKIT_DISABLE_COMPOSITING_MODE=1 WEBKIT_DISABLE_DMABUF_RENDERER=1 NO_AT_BRIDGE=1
export SAMPLE_PYTHON="$python" SHOT_OUT="$out"
timeout 120 xvfb-run -a -s "-screen 0 760x650x24" bash -c '
    set -euo pipefail
    log="$(mktemp)"
    "$SAMPLE_PYTHON" -m asyncio_guest_webview.sample --demo --quit-after 3 >"$log" 2>&1 &
    pid=$!
    for _ in $(seq 1 300); do
        grep -q "demo: done" "$log" && break
        kill -0 "$pid" 2>/dev/null || { cat "$log" >&2; exit 1; }
        sleep 0.1
    done
    grep -q "demo: done" "$log" || { echo "sample did not finish its demo" >&2; cat "$log" >&2; kill "$pid"; exit 1; }
    sleep 0.5  # let the last results paint
    import -window root "$SHOT_OUT"
    wait "$pid"
    rm -f "$log"
'
echo "wrote $out"
