#!/usr/bin/env bash
# Screenshots of the tkinter / GTK 3 / GTK 4 / pygame / Tornado / asyncio samples under Xvfb:
#   scripts/screenshots-hosts-a.sh [PYTHON]      (default: .venvs/3.11/bin/python)
# Each sample runs with --demo (a download starts, the modal dialog opens) in its own Xvfb;
# ImageMagick's `import -window root` grabs the screen mid-download and `-trim` crops the
# black root window away.  The terminal samples (asyncio, tornado) run inside an xterm.
# Output: docs/images/<host>_app.png.  Needs: xvfb-run, imagemagick, xterm (install-hosts-a.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${1:-.venvs/3.11/bin/python}"
PY="$(cd "$(dirname "$PY")" && pwd)/$(basename "$PY")"
OUT=docs/images
mkdir -p "$OUT"
export PYTHONPATH="$PWD/python${PYTHONPATH:+:$PYTHONPATH}"
export NO_AT_BRIDGE=1 SDL_AUDIODRIVER=dummy

shot() { # name delay command...
    local name="$1" delay="$2"
    shift 2
    local tmp
    tmp="$(mktemp --suffix .png)"
    # The grab runs inside the same Xvfb as the sample; the sample quits on its own.
    timeout 60 xvfb-run -a -s "-screen 0 900x600x24" bash -c '
        "${@:3}" >/dev/null 2>&1 &
        pid=$!
        sleep "$2"
        import -window root "$1"
        wait $pid
    ' _ "$tmp" "$delay" "$@"
    convert "$tmp" -trim +repage "$OUT/${name}_app.png"
    rm -f "$tmp"
    echo "wrote $OUT/${name}_app.png ($(identify -format '%wx%h' "$OUT/${name}_app.png"))"
}

shot tkinter 1.8 "$PY" examples/tkinter_app.py --demo --quit-after 3.5
shot gtk3 1.8 "$PY" examples/gtk3_app.py --demo --quit-after 3.5
shot gtk4 1.8 "$PY" examples/gtk4_app.py --demo --no-dialog --quit-after 3.5
shot pygame 1.8 "$PY" examples/pygame_app.py --demo --quit-after 3.5
for host in asyncio tornado; do
    shot "$host" 2.2 xterm -geometry 64x12+0+0 -fa Monospace -fs 11 -bg white -fg black \
        -e "$PY" "examples/${host}_app.py" --demo --quit-after 4
done
