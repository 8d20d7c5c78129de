#!/usr/bin/env bash
# Install what the Qt (PyQt5, PyQt6, PySide6) and wxPython host tests and samples need, into
# each Python given on the command line.  Idempotent; safe to re-run.
#
#   scripts/install-hosts-b.sh .venvs/3.11/bin/python [.venvs/3.12/bin/python ...]
#
# apt: the X/EGL/font libraries Qt's xcb and offscreen platform plugins load, Xvfb and
#      ImageMagick (screenshots), and Debian's wxPython (python3-wxgtk4.0, see below).
# pip: PyQt5, PyQt6 and PySide6-Essentials (the QtCore/QtGui/QtWidgets/QtTest part of PySide6,
#      the same "PySide6" package a third of the size; `pip install PySide6` works the same).
#
# wxPython: PyPI has no Linux wheels and a source build takes far too long, so the tests use
# Debian's python3-wxgtk4.0 (wxPython 4.2.0 on wxWidgets 3.2.2 / GTK 3), built for Debian's
# /usr/bin/python3 (3.11).  Its extension modules are tagged cpython-311, which any 3.11
# interpreter can load (same ABI), so for each given Python that is 3.11 this links only the
# `wx` package directory into its site-packages (not all of /usr/lib/python3/dist-packages,
# which would shadow the venv's own packages, e.g. PyGObject).  For other versions wx is not
# installed and tests/hosts/test_wx.py skips with that reason.  Set SKIP_APT=1 to skip apt.
set -euo pipefail
# shellcheck source=scripts/_apt.sh
source "$(dirname "$0")/_apt.sh"

if [ "$#" -lt 1 ]; then
    echo "usage: $0 PYTHON [PYTHON...]" >&2
    exit 2
fi

QT_SPECS=("PyQt5>=5.15,<5.16" "PyQt6>=6.5,<7" "PySide6-Essentials>=6.5,<7")
DEBIAN_WX=/usr/lib/python3/dist-packages/wx

if [ "${SKIP_APT:-0}" != "1" ]; then
    apt_pkgs=(xvfb xauth imagemagick fonts-dejavu-core
        libegl1 libgl1 libopengl0 libglib2.0-0 libfontconfig1 libfreetype6 libdbus-1-3
        libxkbcommon0 libxkbcommon-x11-0 libx11-xcb1 libxcb1 libxcb-cursor0 libxcb-icccm4
        libxcb-image0 libxcb-keysyms1 libxcb-randr0 libxcb-render-util0 libxcb-shape0
        libxcb-xfixes0 libxcb-xinerama0 libxcb-xkb1 libxrender1 libxi6
        python3-wxgtk4.0)
    apt_install_missing "${apt_pkgs[@]}"
fi

for py in "$@"; do
    echo "== hosts-b: installing into $py"
    nice "$py" -m pip install --disable-pip-version-check -q "${QT_SPECS[@]}"
    for b in PyQt5 PyQt6 PySide6; do
        # One interpreter per binding: two Qt builds cannot share a process.
        QT_QPA_PLATFORM=offscreen "$py" -c "from $b import QtCore, QtWidgets, QtTest; \
print('hosts-b ok: $b', QtCore.qVersion())" 2>&1 | grep -v XDG_RUNTIME_DIR
    done
    version="$("$py" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
    site="$("$py" -c 'import sysconfig; print(sysconfig.get_paths()["platlib"])')"
    if [ "$version" = "3.11" ] && [ -d "$DEBIAN_WX" ]; then
        if [ ! -e "$site/wx" ] || [ -L "$site/wx" ]; then
            ln -sfn "$DEBIAN_WX" "$site/wx"
        fi
        "$py" -c "import wx; print('hosts-b ok: wxPython', wx.version(), 'from', wx.__path__[0])"
    else
        echo "hosts-b: wxPython not installed for Python $version (Debian's build is for 3.11 only)"
    fi
done
