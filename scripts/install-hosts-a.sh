#!/usr/bin/env bash
# Install what the tkinter / GTK 3 / GTK 4 / pygame / Tornado / asyncio host tests and samples
# need, into each Python given on the command line.  Idempotent; safe to re-run.
#
#   scripts/install-hosts-a.sh .venvs/3.11/bin/python [.venvs/3.12/bin/python ...]
#
# apt: Xvfb (headless X server), ImageMagick (screenshots), the GObject-introspection and
#      cairo headers PyGObject builds against, and the GTK 3 / GTK 4 typelibs.
# pip: PyGObject 3.50.x (pinned: 3.51+ needs girepository-2.0, which Debian 12 lacks),
#      pycairo, pygame-ce, tornado.
#
# pygame-ce and classic pygame both install the module "pygame" and cannot share an
# environment, so classic pygame goes into a second venv next to the first Python given:
#   <dir of first python's venv>/../<venv name>-pygame-classic   (e.g. .venvs/3.11-pygame-classic)
# with the test requirements and a .pth pointing at the same asyncio_guest source tree.
# tests/hosts/test_pygame.py runs its tests again in that venv (see its docstring); set
# ASYNCIO_GUEST_PYGAME_CLASSIC_PYTHON to use another interpreter.  Set SKIP_APT=1 to skip apt.
set -euo pipefail
# shellcheck source=scripts/_apt.sh
source "$(dirname "$0")/_apt.sh"

if [ "$#" -lt 1 ]; then
    echo "usage: $0 PYTHON [PYTHON...]" >&2
    exit 2
fi

PYGOBJECT_VERSION="3.50.1"
PYCAIRO_SPEC="pycairo>=1.26,<2"
PYGAME_CE_SPEC="pygame-ce>=2.5,<3"
PYGAME_CLASSIC_SPEC="pygame>=2.6,<3"
TORNADO_SPEC="tornado>=6.4,<7"

if [ "${SKIP_APT:-0}" != "1" ]; then
    apt_pkgs=(xvfb xauth x11-utils imagemagick pkg-config gcc libgirepository1.0-dev libcairo2-dev
        gir1.2-gtk-3.0 gir1.2-gtk-4.0 libgtk-3-0 libgtk-4-1 gobject-introspection xterm
        ninja-build fonts-dejavu-core)
    apt_install_missing "${apt_pkgs[@]}"
fi

first=""
for py in "$@"; do
    [ -n "$first" ] || first="$py"
    echo "== hosts-a: installing into $py"
    # PyGObject has no wheels: it builds with meson against the system libraries (~1-2 min).
    nice "$py" -m pip install --disable-pip-version-check -q \
        "$PYCAIRO_SPEC" "PyGObject==$PYGOBJECT_VERSION" "$PYGAME_CE_SPEC" "$TORNADO_SPEC"
    "$py" -c "import gi, cairo, pygame, tornado; print('hosts-a ok:', 'PyGObject', gi.__version__, \
'pygame', pygame.version.ver, 'tornado', tornado.version)"
done

# ---- classic pygame in its own venv, beside the first interpreter's venv
first_abs="$(cd "$(dirname "$first")" && pwd)/$(basename "$first")"
prefix="$("$first_abs" -c 'import sys; print(sys.prefix)')"
base="$("$first_abs" -c 'import sys; print(sys.base_prefix)')"
if [ "$prefix" != "$base" ]; then
    classic="${prefix%/}-pygame-classic"
else
    classic="$(pwd)/.venvs/pygame-classic"
fi
echo "== hosts-a: classic pygame venv at $classic"
if [ ! -x "$classic/bin/python" ]; then
    "$base/bin/python3" -m venv "$classic"
fi
nice "$classic/bin/python" -m pip install --disable-pip-version-check -q \
    "$PYGAME_CLASSIC_SPEC" "outcome>=1.2" "pytest>=7" "pytest-timeout" "sniffio>=1.3"
# Same asyncio_guest as the first interpreter: point a .pth at its package directory (the
# editable source tree with the built _core extension).  Fall back to the repo's python/.
if ! pkgdir="$("$first_abs" -c 'import asyncio_guest, os; print(os.path.dirname(os.path.dirname(asyncio_guest.__file__)))' 2>/dev/null)"; then
    pkgdir="$(cd "$(dirname "$0")/.." && pwd)/python"
fi
site="$("$classic/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
echo "$pkgdir" >"$site/asyncio_guest_source.pth"
"$classic/bin/python" -c "import pygame; assert not getattr(pygame, 'IS_CE', False), 'pygame-ce in classic venv'; \
print('hosts-a ok: classic pygame', pygame.version.ver)"
