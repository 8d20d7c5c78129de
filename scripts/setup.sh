#!/usr/bin/env bash
# Set up the development environment on a Debian machine. Idempotent.
#
#   bash scripts/setup.sh
#
# * apt: Xvfb and X utilities (GUI tests and the demo run headless), ImageMagick.
# * one virtualenv per Python version under .venvs/<version>, from pyenv's
#   interpreters (~/.pyenv/versions/3.X*) or python3.X on PATH;
# * the Rust extension built once (release, abi3: one binary serves 3.9-3.13)
#   into python/asyncio_guest/, and the package installed editable into every venv.
#
# Environment: ASYNCIO_GUEST_PYTHONS="3.11 3.12" limits the versions;
# SKIP_APT=1 skips apt.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/_apt.sh
source scripts/_apt.sh
ROOT=$PWD
VERSIONS=${ASYNCIO_GUEST_PYTHONS:-"3.9 3.10 3.11 3.12 3.13"}
BUILD_VERSION=${ASYNCIO_GUEST_BUILD_PYTHON:-3.11}

log() { printf '\n== %s\n' "$*"; }

if [ "${SKIP_APT:-0}" != "1" ]; then
    pkgs=(xvfb xauth x11-utils imagemagick pkg-config build-essential)
    apt_install_missing "${pkgs[@]}"
fi

find_python() {
    local v=$1 c
    for c in "$HOME"/.pyenv/versions/"$v".*/bin/python; do
        [ -x "$c" ] && { echo "$c"; return 0; }
    done
    command -v "python$v" || return 1
}

for v in $VERSIONS; do
    venv=.venvs/$v
    if [ ! -x "$venv/bin/python" ]; then
        py=$(find_python "$v") || { echo "Python $v not found (pyenv or python$v on PATH)" >&2; exit 1; }
        log "venv $venv from $py"
        "$py" -m venv "$venv"
    fi
    "$venv/bin/python" -m pip install -q --disable-pip-version-check \
        "outcome>=1.2" "pytest>=7" pytest-timeout "sniffio>=1.3" "trustme>=1.0"
done

log "build the Rust extension (release, abi3)"
bvenv=.venvs/$BUILD_VERSION
"$bvenv/bin/python" -m pip install -q --disable-pip-version-check "maturin>=1.7,<2" ruff
command -v cargo >/dev/null || { echo "cargo not found: install Rust (rustup) first" >&2; exit 1; }
VIRTUAL_ENV=$ROOT/$bvenv "$bvenv/bin/maturin" develop --release -q

for v in $VERSIONS; do
    [ "$v" = "$BUILD_VERSION" ] && continue
    # The same abi3 extension and sources, installed editable like maturin does.
    site=$(".venvs/$v/bin/python" -c "import sysconfig; print(sysconfig.get_paths()['purelib'])")
    echo "$ROOT/python" > "$site/asyncio_guest_dev.pth"
done

for v in $VERSIONS; do
    ".venvs/$v/bin/python" -c "import asyncio_guest, sys; print('asyncio_guest', asyncio_guest.__version__, 'on', sys.version.split()[0])"
done
