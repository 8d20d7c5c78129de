#!/usr/bin/env bash
# The full matrix CI runs (`make test-all`, `.ci/run`): every suite, on every Python, each one
# a Makefile target. Every suite runs even if an earlier one failed; the script ends with one
# summary line ("suites: N passed, N failed") and exits non-zero if any failed.
#
#   PYTHONS="3.9 3.10 3.11 3.12 3.13" bash scripts/test-all.sh     (after `make install`)
set -uo pipefail
cd "$(dirname "$0")/.."
read -r -a versions <<<"${PYTHONS:-3.9 3.10 3.11 3.12 3.13}"

passed=0
failed=0
failed_names=()
absent=()
SECONDS=0

suite() { # suite NAME MAKE-TARGET [VARIABLE=VALUE...]
    local name=$1 started=$SECONDS
    shift
    printf '\n==== %s (at %ss)\n' "$name" "$SECONDS"
    if make --no-print-directory "$@"; then
        passed=$((passed + 1))
        printf '==== %s: ok (%ss)\n' "$name" "$((SECONDS - started))"
    else
        failed=$((failed + 1))
        failed_names+=("$name")
        printf '==== %s: FAILED (%ss)\n' "$name" "$((SECONDS - started))"
    fi
}

per_python() { # per_python TITLE TARGET [DIR]: one suite per Python; skipped if DIR is absent
    local title=$1 target=$2 dir=${3:-} v
    if [ -n "$dir" ] && [ ! -d "$dir" ]; then
        absent+=("$title ($dir)")
        return
    fi
    for v in "${versions[@]}"; do
        suite "$title on Python $v" "$target" PY="$v"
    done
}

suite "ruff check + ruff format --check" lint-python
suite "cargo fmt --check + clippy -D warnings (both crates)" lint-rust
suite "mypy --strict" mypy
suite "stubtest asyncio_guest._core" stubtest
suite "cargo test (poller, worker, hand-off)" test-rust

per_python "core tests" test-core tests/core
per_python "CLI tests" test-cli tests/cli
per_python "pytest plugin tests" test-plugin tests/plugin
per_python "host adapters (Tk, GTK 3/4, pygame-ce/classic, Tornado, asyncio, Qt x3, wx, Win32 queue)" \
    test-hosts tests/hosts
per_python "modal dialogs" test-modal tests/modal
per_python "webview" test-webview webview/tests
per_python "stress and faults" test-stress tests/stress

# CPython's own test_asyncio, stock vs ours (built-in host and a real Tk host), every version;
# fails on any difference not listed in tests/conformance/expectations.json.
suite "CPython test_asyncio conformance" conformance PYTHONS="${versions[*]}"
suite "benchmark harness smoke run" test-bench
suite "docs site: mkdocs build --strict" docs
suite "docs: code examples name what the package has" test-docs
suite "packaging: wheel builds, installs and imports in a clean venv" check-wheel

printf '\n==== done in %ss\n' "$SECONDS"
if [ "${#absent[@]}" -gt 0 ]; then
    printf 'not in this checkout (not run):\n'
    printf '  %s\n' "${absent[@]}"
fi
if [ "$failed" -gt 0 ]; then
    printf 'failed suites:\n'
    printf '  %s\n' "${failed_names[@]}"
fi
printf 'suites: %d passed, %d failed\n' "$passed" "$failed"
[ "$failed" -eq 0 ]
