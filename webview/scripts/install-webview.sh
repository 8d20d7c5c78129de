#!/usr/bin/env bash
# Install the optional webview package (asyncio-guest-webview) into the given Pythons.
#
#   webview/scripts/install-webview.sh PYTHON [PYTHON...]
#
# 1. System packages (WebKitGTK 4.1 + GTK 3 headers, cmake for wv-sys's bundled C++ source,
#    xvfb, node-typescript for `tsc`, imagemagick) are in requirements/system-packages.txt,
#    which `make install` installs before it runs this script.
# 2. Builds ONE abi3 wheel of webview/ with maturin (webview/target, single job) and
#    pip-installs it (--no-deps: the core asyncio-guest must already be installed in
#    each Python; it is checked, never fetched from an index).
# 3. For the webview-python adapter: builds libwebview.so from the same bundled source
#    (webview/scripts/build-libwebview.sh) and installs webview-python 1.1.3 where a wheel exists
#    (CPython >= 3.10), letting its import-time "download" copy our local build
#    (WEBVIEW_DOWNLOAD_BASE/WEBVIEW_VERSION) instead of fetching from GitHub.
# Idempotent: re-running rebuilds incrementally and reinstalls.
set -euo pipefail
here="$(cd "$(dirname "$0")/../.." && pwd)"
if [[ $# -lt 1 ]]; then
    echo "usage: $0 PYTHON [PYTHON...]" >&2
    exit 2
fi

command -v cargo >/dev/null || { echo "cargo (Rust) is required to build webview/" >&2; exit 1; }

pythons=()
for py in "$@"; do
    # Absolute (venv) paths: the build below runs from another directory.
    pythons+=("$("$py" -c 'import sys; print(sys.executable)')")
    "$py" -c "import asyncio_guest" 2>/dev/null ||
        { echo "$py: asyncio_guest (the core) is not installed; install it first" >&2; exit 1; }
done

first="${pythons[0]}"
"$first" -m maturin --version >/dev/null 2>&1 || "$first" -m pip install -q -c "$here/requirements/constraints.txt" maturin
wheels="$here/webview/target/wheels"
rm -f "$wheels"/asyncio_guest_webview-*.whl
# A development copy of the extension next to the sources would be packed twice.
rm -f "$here"/webview/python/asyncio_guest_webview/_webview*.so
(cd "$here/webview" && CARGO_BUILD_JOBS=1 CMAKE_BUILD_PARALLEL_LEVEL=1 nice \
    "$first" -m maturin build --release --interpreter "$first" -o "$wheels")
wheel="$(ls "$wheels"/asyncio_guest_webview-*-abi3-*.whl | head -n 1)"

libdir="$(bash "$here/webview/scripts/build-libwebview.sh")"

for py in "${pythons[@]}"; do
    "$py" -m pip install -q --no-deps --force-reinstall "$wheel"
    "$py" -c "import asyncio_guest_webview as w; print('$py: asyncio_guest_webview', w.version())"
    if "$py" -c 'import sys; sys.exit(sys.version_info < (3, 10))'; then
        if "$py" -m pip install -q --no-deps --only-binary=:all: \
            -c "$here/requirements/constraints.txt" webview-python; then
            WEBVIEW_DOWNLOAD_BASE="$libdir" WEBVIEW_VERSION=0.12.0 \
                "$py" -c "import webview; print('$py: webview-python uses', webview._webview_ffi._webview_lib.lib._name)"
        else
            echo "$py: no webview-python wheel; its adapter tests will be skipped" >&2
        fi
    else
        echo "$py: webview-python 1.1.3 has no wheel for this Python; adapter tests skipped" >&2
    fi
done
