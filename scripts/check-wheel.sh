#!/usr/bin/env bash
# Build the release wheel and sdist of asyncio-guest the way they are published, check
# them, and prove the wheel works for a user: installed into a fresh venv, run from a
# directory outside the checkout, with nothing from the source tree on the path.
#
#   bash scripts/check-wheel.sh [PYTHON...]       (default: .venvs/3.11/bin/python, else python3)
#
# Linux: an abi3 wheel for manylinux2014 (glibc 2.17), linked with zig (the `ziglang` PyPI
# package) so that a new distribution's glibc symbols do not leak into it; `auditwheel show`
# must report manylinux_2_17.  Other systems: a plain release wheel.
# Each PYTHON gets its own fresh venv; checks there: metadata and files, the version, a
# guest run, the CLI (--help/--list with no display, missing-toolkit hint, bench outside the
# checkout, the Tk demo under Xvfb), and the pytest plugin through its entry point.
#
# Environment: CHECK_WHEEL_OUT=DIR keeps the wheel and sdist there (default: a temporary
# directory removed at exit). Builds use target/wheel, apart from the development build.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PYTHONS=("$@")
if [ ${#PYTHONS[@]} -eq 0 ]; then
    if [ -x .venvs/3.11/bin/python ]; then PYTHONS=("$ROOT/.venvs/3.11/bin/python"); else PYTHONS=(python3); fi
fi

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
"${PYTHONS[0]}" -m venv "$work/build-venv"
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
log "all checks passed: $(basename "$wheel")"
