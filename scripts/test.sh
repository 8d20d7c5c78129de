#!/usr/bin/env bash
# Install everything the tests need, then run the whole test suite.
#
#   bash scripts/test.sh
#
# Every suite runs even if an earlier one failed; the script exits non-zero if
# any failed and ends with a one-line summary. The slowest parts run in
# parallel where they do not compete for the same resources.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
VERSIONS=${ASYNCIO_GUEST_PYTHONS:-"3.9 3.10 3.11 3.12 3.13"}
PY=.venvs/3.11/bin/python
LOGDIR=${ASYNCIO_GUEST_LOGDIR:-$ROOT/target/test-logs}
mkdir -p "$LOGDIR"

passed=0
failed=0
failed_names=()
SECONDS=0

suite() {
    # suite NAME COMMAND...: run one suite, record the result.
    local name=$1
    shift
    printf '\n==== %s (at %ss)\n' "$name" "$SECONDS"
    if "$@"; then
        passed=$((passed + 1))
        printf '==== %s: ok\n' "$name"
    else
        failed=$((failed + 1))
        failed_names+=("$name")
        printf '==== %s: FAILED\n' "$name"
    fi
}

set -e
bash scripts/setup.sh
pythons=()
for v in $VERSIONS; do pythons+=(".venvs/$v/bin/python"); done
# The optional parts: toolkits for the host adapters, the webview package.
bash scripts/install-hosts-a.sh "${pythons[@]}"
bash scripts/install-hosts-b.sh "${pythons[@]}"
bash webview/scripts/install-webview.sh "${pythons[@]}"
bash scripts/install-conformance.sh "${pythons[@]}"
bash scripts/install-bench.sh .venvs/3.11/bin/python
set +e

# GUI suites share one X server; -noreset keeps it up between clients.
XVFB=(xvfb-run -a -s "-screen 0 1280x1024x24 -noreset")
export WEBKIT_DISABLE_COMPOSITING_MODE=1

suite "rust: cargo fmt --check" cargo fmt --check
suite "rust: cargo clippy" cargo clippy --all-targets -q -- -D warnings
suite "python: ruff check" .venvs/3.11/bin/ruff check python tests examples benchmarks scripts webview/python webview/tests webview/scripts
suite "python: ruff format --check" .venvs/3.11/bin/ruff format --check python tests examples benchmarks scripts webview/python webview/tests webview/scripts
suite "rust: cargo test (poller, worker, hand-off)" cargo test -q

for v in $VERSIONS; do
    suite "core tests on Python $v" ".venvs/$v/bin/python" -m pytest tests/core -q -p no:cacheprovider --timeout 120
done

for v in $VERSIONS; do
    suite "host adapters on Python $v (Tk, GTK 3/4, pygame-ce/classic, Tornado, asyncio, Qt x3, wx, Win32 queue)" \
        "${XVFB[@]}" ".venvs/$v/bin/python" -m pytest tests/hosts -q -p no:cacheprovider --timeout 300
done

for v in $VERSIONS; do
    suite "webview on Python $v" "${XVFB[@]}" ".venvs/$v/bin/python" -m pytest webview/tests -q -p no:cacheprovider --timeout 300
done
suite "webview crate: fmt + clippy" bash -c 'cd webview && cargo fmt --check && CARGO_BUILD_JOBS=2 cargo clippy --release --all-targets -q -- -D warnings'

for v in $VERSIONS; do
    suite "stress and faults on Python $v" ".venvs/$v/bin/python" -m pytest tests/stress -q -p no:cacheprovider
done

# CPython's own test_asyncio, stock vs ours (built-in host and a real Tk host), every
# version; fails on any difference not listed in tests/conformance/expectations.json.
suite "CPython test_asyncio conformance, 3.9-3.13" bash scripts/conformance.sh

suite "benchmark harness smoke run" .venvs/3.11/bin/python -m pytest tests/bench -q -p no:cacheprovider

suite "packaging: wheel builds, installs and imports in a clean venv" bash scripts/check-wheel.sh

printf '\n==== done in %ss\n' "$SECONDS"
if [ "$failed" -gt 0 ]; then
    printf 'failed suites:\n'
    printf '  %s\n' "${failed_names[@]}"
fi
printf 'suites: %d passed, %d failed\n' "$passed" "$failed"
[ "$failed" -eq 0 ]
