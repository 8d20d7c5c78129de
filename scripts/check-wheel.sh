#!/usr/bin/env bash
# Build the release wheel and check it installs and works in a clean venv, with
# nothing from the source tree on the path.
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
.venvs/3.11/bin/maturin build --release -q -o "$out/dist"
python3 -m venv "$out/venv"
"$out/venv/bin/pip" install -q --disable-pip-version-check "$out"/dist/asyncio_guest-*.whl
cd "$out"
"$out/venv/bin/python" - <<'PY'
import asyncio, pathlib, asyncio_guest
pkg = pathlib.Path(asyncio_guest.__file__).parent
assert (pkg / "py.typed").exists(), "py.typed missing from the wheel"
assert (pkg / "_core.pyi").exists(), "_core.pyi missing from the wheel"
async def main():
    await asyncio.sleep(0.01)
    return "ok"
assert asyncio_guest.run(main()) == "ok"
print("wheel ok:", sorted(p.name for p in pkg.iterdir() if not p.name.startswith("__pycache__")))
PY
