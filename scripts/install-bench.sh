#!/usr/bin/env bash
# Install the benchmark contenders (issue 6) into each Python given on the command line.
# Idempotent; safe to re-run.
#
#   scripts/install-bench.sh .venvs/3.11/bin/python [.venvs/3.12/bin/python ...]
#
# apt: Xvfb (Tk/Qt/GTK need a display; the harness runs GUI contenders under xvfb-run),
#      python3-tk is part of the venv's base CPython here, the GObject-introspection and
#      cairo headers PyGObject builds against, the GTK 3 typelib, and the X libraries
#      PySide6's xcb/offscreen platform plugins load.
# pip: uvloop, qasync, PySide6 (QtAsyncio ships inside it), async-tkinter-loop, trio,
#      matplotlib (the chart), PyGObject 3.50.x (pinned: 3.51+ needs girepository-2.0,
#      which Debian 12 lacks; gi.events is new in 3.50).
# Qt contenders need Python >= 3.12 with PySide6 6.12.0: on 3.11 and older it drops a reference
# to None per Python callback and the interpreter aborts (see docs/benchmarks.md).
# Set SKIP_APT=1 to skip apt.  A contender whose pip install fails is reported and the
# others still install (the harness then lists it as "not installable" with the reason).
set -uo pipefail
# shellcheck source=scripts/_apt.sh
source "$(dirname "$0")/_apt.sh"

if [ "$#" -lt 1 ]; then
    echo "usage: $0 PYTHON [PYTHON...]" >&2
    exit 2
fi

PYGOBJECT_VERSION="3.50.1"

if [ "${SKIP_APT:-0}" != "1" ]; then
    apt_pkgs=(xvfb xauth pkg-config libgirepository1.0-dev libcairo2-dev gir1.2-gtk-3.0
        libgtk-3-0 gobject-introspection ninja-build libegl1 libgl1 libxkbcommon0
        libxkbcommon-x11-0 libfontconfig1 libdbus-1-3 libxcb-cursor0 libxcb-icccm4
        libxcb-keysyms1 libxcb-shape0 libxcb-xinerama0 libxcb-randr0 libxcb-render-util0
        libxcb-image0)
    apt_install_missing "${apt_pkgs[@]}" || { echo "install-bench: apt failed" >&2; exit 1; }
fi

status=0
for py in "$@"; do
    echo "== bench: installing into $py"
    # The chart and the two plain contenders are required; the rest are best effort.
    nice "$py" -m pip install --disable-pip-version-check -q "matplotlib>=3.7" "uvloop>=0.19" \
        "trio>=0.25" "outcome>=1.2" || { echo "install-bench: core pip packages failed" >&2; status=1; }
    for spec in "PySide6>=6.6" "qasync>=0.27" "async-tkinter-loop>=0.9" \
        "pycairo>=1.26,<2" "PyGObject==$PYGOBJECT_VERSION"; do
        # PyGObject has no wheels: it builds with meson against the system libraries (~1-2 min).
        nice "$py" -m pip install --disable-pip-version-check -q "$spec" ||
            echo "install-bench: $spec could not be installed into $py (continuing)" >&2
    done
    "$py" - <<'PY'
import importlib
for name in ("matplotlib", "uvloop", "trio", "PySide6", "qasync", "async_tkinter_loop", "gi"):
    try:
        mod = importlib.import_module(name)
        print(f"bench: {name} {getattr(mod, '__version__', 'ok')}")
    except Exception as exc:  # report, do not fail: the harness reports it too
        print(f"bench: {name} NOT available: {exc}")
PY
done
exit $status
