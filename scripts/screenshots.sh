#!/usr/bin/env bash
# Screenshots of the host samples under Xvfb -> docs/images/<host>_app.png (`make screenshots`).
#
#   scripts/screenshots.sh [PYTHON] [HOST...]      (default: .venvs/3.11/bin/python, every host)
#   SCREENSHOTS_OUT=DIR puts the images elsewhere (default docs/images).
#
# Each sample (python -m asyncio_guest.samples.<host>_app) runs its --demo (a download
# starts, the modal dialog opens, the counter keeps counting) in its own Xvfb without a
# window manager; ImageMagick's `import -window root` grabs the screen and `-trim` crops the
# black root window away. The terminal samples (asyncio, tornado) run inside an xterm. Qt
# uses its xcb platform plugin here (a real X window), not offscreen. Win32 cannot run on
# Linux: no screenshot.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${1:-.venvs/3.11/bin/python}"
PY="$(cd "$(dirname "$PY")" && pwd)/$(basename "$PY")"
shift || true
hosts=("$@")
[ "${#hosts[@]}" -gt 0 ] || hosts=(tkinter gtk3 gtk4 pygame asyncio tornado pyqt5 pyqt6 pyside6 wx)
OUT=${SCREENSHOTS_OUT:-docs/images}
mkdir -p "$OUT"
export NO_AT_BRIDGE=1 SDL_AUDIODRIVER=dummy
unset QT_QPA_PLATFORM

shot() { # shot NAME DELAY MIN_HEIGHT COMMAND...
    local name=$1 delay=$2 min_height=$3 tmp attempt height
    shift 3
    tmp="$(mktemp --suffix .png)"
    # On a loaded machine the dialog may not be open yet at grab time; it sits below the
    # main window, so a grab without it is short: try again (3 attempts).
    for attempt in 1 2 3; do
        # -noreset: the grab is a second X client; the server must not reset between clients.
        timeout 60 xvfb-run -a -s "-noreset -screen 0 900x600x24" bash -c '
            "${@:3}" >/dev/null 2>&1 &
            pid=$!
            sleep "$2"
            import -window root "$1"
            wait $pid
        ' _ "$tmp" "$delay" "$@"
        convert "$tmp" -trim +repage "$OUT/${name}_app.png"
        height="$(identify -format '%h' "$OUT/${name}_app.png")"
        [ "$height" -ge "$min_height" ] && break
        echo "  $name: dialog not on screen yet (height $height), attempt $attempt" >&2
    done
    rm -f "$tmp"
    echo "wrote $OUT/${name}_app.png ($(identify -format '%wx%h' "$OUT/${name}_app.png"))"
}

for host in "${hosts[@]}"; do
    module="asyncio_guest.samples.${host}_app"
    case "$host" in
        asyncio | tornado)
            shot "$host" 2.2 0 xterm -geometry 64x12+0+0 -fa Monospace -fs 11 -bg white -fg black \
                -e "$PY" -m "$module" --demo --quit-after 4
            ;;
        gtk4) shot "$host" 1.8 0 "$PY" -m "$module" --demo --no-dialog --quit-after 3.5 ;;
        pyqt5 | pyqt6 | pyside6 | wx) shot "$host" 2.0 280 "$PY" -m "$module" --demo --quit-after 3.5 ;;
        *) shot "$host" 1.8 0 "$PY" -m "$module" --demo --quit-after 3.5 ;;
    esac
done
