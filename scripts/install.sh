#!/usr/bin/env bash
# The steps of `make install` that are not one pip command (the Makefile calls them):
#
#   scripts/install.sh system          apt-get the missing packages of requirements/system-packages.txt
#   scripts/install.sh venv NAME       create .venvs/NAME from Python X.Y, where NAME is X.Y or X.Y-<suffix>
#   scripts/install.sh wx NAME         make Debian's wxPython importable in .venvs/NAME (Python 3.11 only)
#
# Pythons come from pyenv (~/.pyenv/versions/X.Y.*) or from pythonX.Y on PATH.
set -euo pipefail
cd "$(dirname "$0")/.."

system_packages() {
    local list=requirements/system-packages.txt missing=() sudo=() p
    while read -r p; do
        p="${p%%#*}"
        p="${p//[[:space:]]/}"
        [ -n "$p" ] || continue
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done <"$list"
    [ "${#missing[@]}" -gt 0 ] || { echo "system packages: all installed"; return 0; }
    [ "$(id -u)" -eq 0 ] || sudo=(sudo)
    local apt=("${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 -y -q)
    echo "system packages: installing ${missing[*]}"
    # A fresh machine has no package lists (or stale ones): update once, only when needed.
    if ! "${apt[@]}" install --no-install-recommends "${missing[@]}"; then
        "${apt[@]}" update
        "${apt[@]}" install --no-install-recommends "${missing[@]}"
    fi
}

find_python() { # X.Y -> the path of an interpreter of that version
    local v=$1 c
    for c in "$HOME"/.pyenv/versions/"$v".*/bin/python; do
        [ -x "$c" ] && { echo "$c"; return 0; }
    done
    command -v "python$v" || { echo "Python $v not found (pyenv or python$v on PATH)" >&2; return 1; }
}

make_venv() { # NAME
    local name=$1 venv=.venvs/$1 py
    [ -x "$venv/bin/python" ] && return 0
    py=$(find_python "${name%%-*}")
    echo "venv $venv from $py"
    "$py" -m venv "$venv"
}

link_wx() { # NAME
    # PyPI has no Linux wheels of wxPython and a source build takes far too long, so the tests
    # use Debian's python3-wxgtk4.0, built for Debian's Python 3.11. Its extension modules are
    # tagged cpython-311, which any 3.11 interpreter loads (same ABI). Only the `wx` package is
    # linked in: all of /usr/lib/python3/dist-packages would shadow the venv's own packages.
    local venv=.venvs/$1 debian_wx=/usr/lib/python3/dist-packages/wx version site
    version=$("$venv/bin/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
    if [ "$version" != "3.11" ] || [ ! -d "$debian_wx" ]; then
        echo "wxPython: not available for Python $version here (Debian's build is for 3.11); its tests skip"
        return 0
    fi
    site=$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["platlib"])')
    if [ ! -e "$site/wx" ] || [ -L "$site/wx" ]; then
        ln -sfn "$debian_wx" "$site/wx"
    fi
    "$venv/bin/python" -c "import wx; print('wxPython', wx.version())"
}

case "${1:-}" in
    system) system_packages ;;
    venv) make_venv "${2:?venv NAME}" ;;
    wx) link_wx "${2:?wx NAME}" ;;
    *)
        sed -n '2,8p' "$0" >&2
        exit 2
        ;;
esac
