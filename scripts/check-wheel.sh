#!/usr/bin/env bash
# Build the release wheel and sdist of asyncio-guest the way they are published, check
# them, and prove the wheel works for a user: installed into a fresh venv, run from a
# directory outside the checkout, with nothing from the source tree on the path.
#
#   bash scripts/check-wheel.sh [PYTHON...]    (default: .venvs/3.11/bin/python, else python3)
#
# Linux: an abi3 wheel for manylinux2014 (glibc 2.17), linked with zig (the `ziglang` PyPI
# package) so that a new distribution's glibc symbols do not leak into it; `auditwheel show`
# must report manylinux_2_17.  Other systems: a plain release wheel.
# Each PYTHON gets its own fresh venv; checks there: metadata and files, the version, a
# guest run, the CLI (--help/--list with no display, missing-toolkit hint, bench outside the
# checkout, the Tk demo under Xvfb), and the pytest plugin through its entry point.
#
# asyncio-guest-webview (Linux): built as a wheel for this machine (it links the system's
# WebKitGTK 4.1, so no manylinux tag is possible; users on Linux build it from the sdist) and
# installed into the same fresh venvs, where its demo must run under Xvfb. Skipped with a
# message when pkg-config finds no webkit2gtk-4.1 (an error in CI).
#
# Environment: CHECK_WHEEL_OUT=DIR keeps the wheels and sdist there (default: a temporary
# directory removed at exit). Builds use target/wheel and target/wheel-webview, apart from
# the development builds.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PYTHONS=("$@")
# The build tools run on the development Python (auditwheel needs a recent one), else python3.
BUILD_PYTHON=python3
[ -x .venvs/3.11/bin/python ] && BUILD_PYTHON="$ROOT/.venvs/3.11/bin/python"
[ ${#PYTHONS[@]} -gt 0 ] || PYTHONS=("$BUILD_PYTHON")

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
out=${CHECK_WHEEL_OUT:-$work/dist}
mkdir -p "$out"
constraints=()
[ -f requirements/constraints.txt ] && constraints=(-c "$ROOT/requirements/constraints.txt")

log() { printf '\n== check-wheel: %s\n' "$*"; }
fail() {
    printf 'check-wheel: FAILED: %s\n' "$*" >&2
    exit 1
}

log "build tools (maturin, ziglang, auditwheel) in a venv of their own"
"$BUILD_PYTHON" -m venv "$work/build-venv"
BV="$work/build-venv/bin"
[ -d "$BV" ] || BV="$work/build-venv/Scripts"
"$BV/python" -m pip install -q --disable-pip-version-check "${constraints[@]}" \
    maturin ziglang auditwheel

export CARGO_TARGET_DIR="$ROOT/target/wheel"
build=(--release -o "$out")
case "$(uname -s)" in
Linux) build+=(--zig --compatibility manylinux2014) ;;
esac
log "maturin build ${build[*]}"
rm -f "$out"/asyncio_guest-*
PATH="$BV:$PATH" nice "$BV/maturin" build "${build[@]}" -i "$BV/python"
"$BV/maturin" sdist -o "$out"
wheel=$(ls "$out"/asyncio_guest-*.whl)
sdist=$(ls "$out"/asyncio_guest-*.tar.gz)
echo "wheel: $(basename "$wheel")"
echo "sdist: $(basename "$sdist")"

if [ "$(uname -s)" = Linux ]; then
    log "auditwheel show"
    report=$("$BV/auditwheel" show "$wheel")
    echo "$report"
    echo "$report" | tr -s ' \n' ' ' | grep -q 'consistent with the following platform tag: "manylinux_2_17_' \
        || fail "the wheel is not manylinux2014 (manylinux_2_17)"
    case "$(basename "$wheel")" in
    *-cp39-abi3-manylinux*_2_17_*) ;;
    *) fail "unexpected wheel tag: $(basename "$wheel") (want cp39-abi3, manylinux_2_17)" ;;
    esac
fi

log "archive contents"
"$BV/python" - "$wheel" "$sdist" <<'PY'
import sys, tarfile, zipfile

wheel, sdist = sys.argv[1:]
names = zipfile.ZipFile(wheel).namelist()
def need(names, suffix, where):
    if not any(n.endswith(suffix) for n in names):
        raise SystemExit(f"{suffix} missing from the {where}")
for suffix in ("licenses/LICENSE-MIT", "licenses/LICENSE-APACHE", "asyncio_guest/py.typed",
               "asyncio_guest/_core.pyi", "asyncio_guest/pytest_plugin.py",
               "asyncio_guest/samples/tkinter_app.py", "asyncio_guest/samples/_common.py",
               "entry_points.txt"):
    need(names, suffix, "wheel")
snames = tarfile.open(sdist).getnames()
for suffix in ("/LICENSE-MIT", "/LICENSE-APACHE", "/Cargo.toml", "/pyproject.toml"):
    need(snames, suffix, "sdist")
print("wheel and sdist hold the licenses, typing files, samples and plugin entry point")
PY

webview_wheel=""
if [ "$(uname -s)" = Linux ]; then
    if pkg-config --exists webkit2gtk-4.1 2>/dev/null; then
        log "asyncio-guest-webview wheel (links the system WebKitGTK 4.1)"
        rm -f "$out"/asyncio_guest_webview-*
        (cd webview && CARGO_TARGET_DIR="$ROOT/target/wheel-webview" PATH="$BV:$PATH" \
            nice "$BV/maturin" build --release -o "$out" -i "$BV/python")
        webview_wheel=$(ls "$out"/asyncio_guest_webview-*.whl)
        echo "webview wheel: $(basename "$webview_wheel")"
        "$BV/python" - "$webview_wheel" <<'PY'
import sys, zipfile
names = zipfile.ZipFile(sys.argv[1]).namelist()
for suffix in ("licenses/LICENSE-MIT", "licenses/LICENSE-APACHE", "asyncio_guest_webview/sample.py"):
    if not any(n.endswith(suffix) for n in names):
        raise SystemExit(f"{suffix} missing from the webview wheel")
PY
    elif [ -n "${CI:-}" ]; then
        fail "pkg-config finds no webkit2gtk-4.1: install libwebkit2gtk-4.1-dev to check the webview wheel"
    else
        echo "check-wheel: webview wheel skipped: no webkit2gtk-4.1 (apt install libwebkit2gtk-4.1-dev)"
    fi
fi

XVFB=()
if [ "$(uname -s)" = Linux ]; then
    command -v xvfb-run >/dev/null || fail "xvfb-run not found (apt install xvfb xauth)"
    XVFB=(xvfb-run -a -s "-screen 0 1280x1024x24")
fi

expect() {
    # expect CODE TEXT COMMAND...: exit code CODE and TEXT in the combined output.
    local code=$1 text=$2 got=0 output
    shift 2
    output=$("$@" 2>&1) || got=$?
    if [ "$got" != "$code" ] || ! grep -qF -- "$text" <<<"$output"; then
        printf '%s\n' "$output" >&2
        fail "\`$*\` gave exit $got (want $code) or lacks: $text"
    fi
    echo "ok (exit $got): $*"
}

for i in "${!PYTHONS[@]}"; do
    py=${PYTHONS[$i]}
    venv="$work/venv-$i"
    log "fresh venv from $py"
    "$py" -m venv "$venv"
    VP="$venv/bin/python"
    [ -x "$VP" ] || VP="$venv/Scripts/python.exe"
    "$VP" -m pip install -q --disable-pip-version-check "${constraints[@]}" "$wheel" pytest
    cd "$work"  # outside the checkout: only the installed wheel can be imported
    "$VP" - <<'PY'
import asyncio, importlib.metadata, pathlib, sys
import asyncio_guest
pkg = pathlib.Path(asyncio_guest.__file__).parent
assert "site-packages" in str(pkg), f"imported from {pkg}, not from the installed wheel"
dist = importlib.metadata.version("asyncio-guest")
assert asyncio_guest.__version__ == dist, (asyncio_guest.__version__, dist)
async def main():
    await asyncio.sleep(0.01)
    return "ok"
assert asyncio_guest.run(main()) == "ok"
print(f"asyncio-guest {dist} on Python {sys.version.split()[0]}: import and guest run ok")
PY
    nodisplay=(env -u DISPLAY -u WAYLAND_DISPLAY "$VP" -m asyncio_guest)
    expect 0 "usage: python -m asyncio_guest" "${nodisplay[@]}" --help
    expect 0 "--quit-after" "${nodisplay[@]}" demo --help
    expect 0 "tkinter   ready" "${nodisplay[@]}" demo --list
    if [ "$(uname -s)" = Linux ]; then
        expect 1 "no display" "${nodisplay[@]}" demo --host tkinter
    fi
    expect 1 'pip install "asyncio-guest[qt6]"' "$VP" -m asyncio_guest demo --host pyqt6
    expect 2 "unknown host" "$VP" -m asyncio_guest demo --host motif
    expect 1 "source checkout" "$VP" -m asyncio_guest bench
    expect 0 "guest finished cleanly" "${XVFB[@]}" "$VP" -m asyncio_guest demo --host tkinter \
        --demo --quit-after 3

    if [ -n "$webview_wheel" ]; then
        "$VP" -m pip install -q --disable-pip-version-check "$webview_wheel"
        expect 0 "demo: done" env WEBKIT_DISABLE_COMPOSITING_MODE=1 "${XVFB[@]}" "$VP" \
            -m asyncio_guest demo --host webview --demo --quit-after 3
    fi

    mkdir -p "$work/plugin-check"
    cat >"$work/plugin-check/test_installed_plugin.py" <<'PY'
import asyncio

import pytest

import asyncio_guest


@pytest.mark.asyncio_guest(host="asyncio", timeout=30)
async def test_runs_as_guest(asyncio_host_loop):
    assert isinstance(asyncio.get_running_loop(), asyncio_guest.GuestEventLoop)
    seen = []
    asyncio_host_loop.call_soon_threadsafe(seen.append, 1)
    for _ in range(500):
        if seen:
            break
        await asyncio.sleep(0.01)
    assert seen == [1]
PY
    (cd "$work/plugin-check" && "$VP" -m pytest -q -p no:cacheprovider test_installed_plugin.py) \
        || fail "the pytest plugin (entry point pytest11) did not run the guest test"
    echo "ok: pytest plugin loaded through its entry point"
    cd "$ROOT"
done
log "all checks passed: $(basename "$wheel")${webview_wheel:+, $(basename "$webview_wheel")}"
