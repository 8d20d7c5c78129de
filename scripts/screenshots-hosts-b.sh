#!/usr/bin/env bash
# Screenshots of the PyQt5 / PyQt6 / PySide6 / wxPython samples under Xvfb:
#   scripts/screenshots-hosts-b.sh [PYTHON]      (default: .venvs/3.11/bin/python)
# Each sample runs with --demo (a download starts at 0.3 s, the modal dialog opens at 0.9 s)
# in its own Xvfb (no window manager, so no title bars); ImageMagick's `import -window root`
# grabs the screen while the dialog is open and the counter keeps counting, and `-trim` crops
# the black root window away.  Qt uses its xcb platform plugin here (a real X window), not
# offscreen.  Output: docs/images/<host>_app.png.  Needs: xvfb-run, imagemagick
# (scripts/install-hosts-b.sh).  Win32 cannot run on Linux: no screenshot.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${1:-.venvs/3.11/bin/python}"
PY="$(cd "$(dirname "$PY")" && pwd)/$(basename "$PY")"
OUT=docs/images
mkdir -p "$OUT"
export PYTHONPATH="$PWD/python${PYTHONPATH:+:$PYTHONPATH}"
export NO_AT_BRIDGE=1
unset QT_QPA_PLATFORM

shot() { # name delay command...
    local name="$1" delay="$2"
    shift 2
    local tmp attempt height
    tmp="$(mktemp --suffix .png)"
    # On a loaded machine the dialog may not be open yet at grab time; the dialog sits below
    # the main window, so a grab without it is short: try again (3 attempts).
    for attempt in 1 2 3; do
        # -noreset: the grab is a second X client; never let the server reset between clients.
        timeout 60 xvfb-run -a -s "-noreset -screen 0 900x600x24" bash -c '
            "${@:3}" >/dev/null 2>&1 &
            pid=$!
            sleep "$2"
            import -window root "$1"
            wait $pid
        ' _ "$tmp" "$delay" "$@"
        convert "$tmp" -trim +repage "$OUT/${name}_app.png"
        height="$(identify -format '%h' "$OUT/${name}_app.png")"
        [ "$height" -ge 280 ] && break
        echo "  $name: dialog not on screen yet (height $height), attempt $attempt" >&2
    done
    rm -f "$tmp"
    echo "wrote $OUT/${name}_app.png ($(identify -format '%wx%h' "$OUT/${name}_app.png"))"
}

for host in pyqt5 pyqt6 pyside6 wx; do
    shot "$host" 2.0 "$PY" "examples/${host}_app.py" --demo --quit-after 3.5
done
