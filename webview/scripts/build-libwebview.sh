#!/usr/bin/env bash
# Build libwebview as a shared library from the C/C++ source that the wv-sys
# crate bundles (the same source our Rust binding links statically), and lay it
# out the way the `webview-python` package expects a download folder:
#   OUTDIR/<version>/libwebview.x86_64.so
# so that `WEBVIEW_DOWNLOAD_BASE=OUTDIR WEBVIEW_VERSION=<version>` makes
# `import webview` copy it instead of fetching webview_deno's release from
# GitHub (which fails offline).  Prints OUTDIR on success.
#
# Usage: webview/scripts/build-libwebview.sh [OUTDIR]   (default: webview/target/libwebview)
# Needs: cmake, a C++ compiler, libwebkit2gtk-4.1-dev, cargo (to locate wv-sys).
set -euo pipefail
here="$(cd "$(dirname "$0")/../.." && pwd)"
out="${1:-$here/webview/target/libwebview}"
version="0.12.0"
case "$(uname -m)" in
    aarch64 | arm64) libname="libwebview.aarch64.so" ;;
    *) libname="libwebview.x86_64.so" ;;
esac
if [[ -f "$out/$version/$libname" ]]; then
    echo "$out"
    exit 0
fi
# Locate wv-sys's unpacked crate source through cargo, so we build exactly the
# version pinned in webview/Cargo.lock (cargo downloads it if needed).
src="$(cd "$here/webview" && cargo metadata --format-version 1 2>/dev/null |
    python3 -c 'import json,sys,os; m=json.load(sys.stdin); print(next(os.path.dirname(p["manifest_path"]) for p in m["packages"] if p["name"]=="wv-sys"))')/webview"
build="$here/webview/target/libwebview-build"
mkdir -p "$build" "$out/$version"
nice cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=Release \
    -DWEBVIEW_WEBKITGTK_API=4.1 \
    -DWEBVIEW_BUILD_SHARED_LIBRARY=ON -DWEBVIEW_BUILD_STATIC_LIBRARY=OFF \
    -DWEBVIEW_BUILD_TESTS=OFF -DWEBVIEW_BUILD_EXAMPLES=OFF -DWEBVIEW_BUILD_DOCS=OFF \
    -DWEBVIEW_BUILD_AMALGAMATION=OFF -DWEBVIEW_ENABLE_CHECKS=OFF \
    -DWEBVIEW_ENABLE_PACKAGING=OFF -DWEBVIEW_INSTALL_TARGETS=OFF >&2
nice cmake --build "$build" --parallel 1 >&2
lib="$(find "$build" -name 'libwebview.so*' -type f | head -n 1)"
[[ -n "$lib" ]] || { echo "libwebview.so not produced" >&2; exit 1; }
cp "$lib" "$out/$version/$libname"
echo "$out"
