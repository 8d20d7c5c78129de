# asyncio-guest: the one developer entry point. `make help` lists the targets.
#
# Everything lives in the checkout: one venv per Python under .venvs/, the Rust extension
# built once (abi3: one binary serves 3.9-3.13) into python/asyncio_guest/, the package
# installed editable into every venv from that one build. Installs are make targets with
# stamp files (.venvs/<version>/.make-*), so `make install` does only what changed: it is
# quick when everything is in place. Pins: requirements/constraints.txt (every pip install
# uses it); system packages: requirements/system-packages.txt.
#
# Variables: PY=3.11 (the Python `make test` and the single-Python suites run on),
# PYTHONS="3.9 3.10 3.11 3.12 3.13" (the matrix), T=... (what `make test` runs), NICE=nice,
# JOBS=2 (`make test`'s processes), CONFORMANCE_ARGS, BENCH_ARGS, DEMO_ARGS (passed on to those
# commands), NO_BUILD=1.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-builtin-rules --no-print-directory
# Venvs and stamps made through pattern rules are results, not intermediates to delete.
.SECONDARY:

PYTHONS ?= 3.9 3.10 3.11 3.12 3.13
PY ?= 3.11
# The tools venv: maturin, ruff, mypy; it also builds the extension (keep it fixed, so that
# cargo reuses its build between runs).
TOOLS_PY := 3.11
BENCH_PY ?= 3.12
NICE ?= nice

V := .venvs
TOOLS := $(V)/$(TOOLS_PY)/bin
CLASSIC := $(TOOLS_PY)-pygame-classic
CONSTRAINTS := requirements/constraints.txt
pip_into = $(NICE) $(V)/$(1)/bin/python -m pip install -q --disable-pip-version-check -c $(CONSTRAINTS)
stamp = $(V)/$(1)/.make-$(2)
stamps = $(foreach v,$(1),$(call stamp,$(v),$(2)))

EXT := python/asyncio_guest/_core.abi3.so
EDITABLE_DIR := target/editable
EDITABLE := $(EDITABLE_DIR)/.built
RUST_SOURCES := Cargo.toml Cargo.lock $(shell find src -name '*.rs' 2>/dev/null)
# Targets that use the extension rebuild it first when src/ changed; NO_BUILD=1 uses the
# extension as it is (another process owns the build).
ifeq ($(NO_BUILD),1)
BUILT :=
else
BUILT := $(EDITABLE)
endif
WEBVIEW_SOURCES := $(shell find webview \( -path webview/target -o -name __pycache__ \) -prune \
	-o -type f \( -name '*.rs' -o -name '*.py' -o -name '*.js' -o -name '*.pyi' -o -name '*.toml' \
	-o -name Cargo.lock \) -print 2>/dev/null)
WEBVIEW_INSTALL := webview/scripts/install-webview.sh

PY_SOURCES := python tests benchmarks webview/python $(wildcard webview/tests webview/scripts) scripts
XVFB := xvfb-run -a -s "-screen 0 1280x1024x24 -noreset"
export WEBKIT_DISABLE_COMPOSITING_MODE := 1
export NO_AT_BRIDGE := 1
export PYTHONDONTWRITEBYTECODE := 1

# $(call pytest,VERSION,WRAPPER,ARGS): pytest on .venvs/VERSION. Exit status 5 ("no tests
# collected") fails like any other, with a message that says so.
define pytest
$(NICE) $(2) $(V)/$(1)/bin/python -m pytest -q -p no:cacheprovider $(3) || { \
	rc=$$?; [ $$rc -ne 5 ] || echo "error: pytest collected no tests from: $(3)" >&2; exit $$rc; }
endef

.PHONY: help
help: ## this list
	@awk 'BEGIN {FS = ":.*## "} /^[a-z][a-z-]*:.*## / {printf "  make %-14s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

# ---------------------------------------------------------------------------------------
# install

.PHONY: install build
install: ## everything the tests need: apt, venvs, toolkits, the Rust build (quick when done)
install: $(call stamps,$(PYTHONS),hosts) $(call stamp,$(CLASSIC),pygame) $(V)/.make-webview \
		$(call stamp,$(TOOLS_PY),bench) $(call stamp,$(TOOLS_PY),docs)
	@echo "installed: Python $(PYTHONS) in $(V)/ (+ $(CLASSIC)), extension $(EXT)"

build: $(EDITABLE) ## build the Rust extension if src/ changed (release, abi3, in place)

$(V)/.make-system: requirements/system-packages.txt
	bash scripts/install.sh system
	@mkdir -p $(V) && touch $@

$(V)/%/bin/python: | $(V)/.make-system
	bash scripts/install.sh venv $*

$(V)/%/.make-tools: requirements/tools.txt $(CONSTRAINTS) | $(V)/%/bin/python
	$(call pip_into,$*) -r requirements/tools.txt
	@touch $@

# One build for every venv: the editable abi3 wheel (metadata and a path entry, the same
# thing `pip install -e .` makes) plus the extension built in place next to the sources.
$(EDITABLE) $(EXT) &: $(RUST_SOURCES) pyproject.toml | $(call stamp,$(TOOLS_PY),tools)
	command -v cargo >/dev/null || { echo "cargo not found: install Rust (rustup) first" >&2; exit 1; }
	rm -f $(EDITABLE_DIR)/*.whl
	$(NICE) $(TOOLS)/maturin pep517 build-wheel --editable -i $(TOOLS)/python -o $(EDITABLE_DIR)
	@touch $(EXT) $(EDITABLE)

# The package (editable, from the one build) and the test runners. The editable install
# reads the sources and the extension in place: only new metadata (pyproject.toml) needs a
# reinstall, not a rebuild of the extension.
$(V)/%/.make-core: pyproject.toml requirements/test.txt $(CONSTRAINTS) | $(BUILT) $(V)/%/bin/python
	rm -f $$($(V)/$*/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/asyncio_guest_{dev,source}.pth
	$(NICE) $(V)/$*/bin/python -m pip install -q --disable-pip-version-check --no-deps --force-reinstall $(EDITABLE_DIR)/*.whl
	$(call pip_into,$*) $(EDITABLE_DIR)/*.whl -r requirements/test.txt
	@touch $@

# The host adapters' toolkits. PyGObject builds from source (a minute or two per Python).
$(V)/%/.make-hosts: requirements/hosts.txt $(CONSTRAINTS) | $(V)/%/.make-core $(V)/.make-system
	$(call pip_into,$*) -r requirements/hosts.txt
	bash scripts/install.sh wx $*
	@touch $@

# Classic pygame and pygame-ce install the same module: classic gets its own venv, which
# tests/hosts/test_pygame.py finds as <venv>-pygame-classic.
$(call stamp,$(CLASSIC),pygame): requirements/pygame-classic.txt $(CONSTRAINTS) | $(call stamp,$(CLASSIC),core)
	$(call pip_into,$(CLASSIC)) -r requirements/pygame-classic.txt
	@touch $@

$(V)/%/.make-bench: requirements/bench.txt $(CONSTRAINTS) | $(V)/%/.make-core $(V)/.make-system
	$(call pip_into,$*) -r requirements/bench.txt
	@touch $@

$(V)/%/.make-docs: requirements/docs.txt $(CONSTRAINTS) | $(V)/%/.make-core
	$(call pip_into,$*) -r requirements/docs.txt
	@touch $@

# The webview package: one wheel built, installed into every Python of the matrix.
$(V)/.make-webview: $(WEBVIEW_SOURCES) | $(call stamps,$(PYTHONS),core) $(call stamp,$(TOOLS_PY),tools) $(V)/.make-system
	bash $(WEBVIEW_INSTALL) $(foreach v,$(PYTHONS),$(V)/$(v)/bin/python)
	@touch $@

# ---------------------------------------------------------------------------------------
# format and lint

.PHONY: fmt lint lint-python lint-rust mypy stubtest
fmt: | $(call stamp,$(TOOLS_PY),tools) ## format Python (ruff) and Rust (cargo fmt), fix what ruff can
	$(TOOLS)/ruff check --fix-only -q $(PY_SOURCES)
	$(TOOLS)/ruff format -q $(PY_SOURCES)
	cargo fmt
	cd webview && cargo fmt

lint: lint-python lint-rust mypy stubtest ## ruff, cargo fmt --check, clippy (both crates), mypy --strict, stubtest

lint-python: | $(call stamp,$(TOOLS_PY),tools)
	$(TOOLS)/ruff check $(PY_SOURCES)
	$(TOOLS)/ruff format --check $(PY_SOURCES)

lint-rust:
	cargo fmt --check
	cd webview && cargo fmt --check
	$(NICE) cargo clippy --all-targets -q -- -D warnings
	cd webview && $(NICE) cargo clippy --release --all-targets -q -- -D warnings

mypy: | $(call stamp,$(TOOLS_PY),hosts) ## mypy --strict (mypy.ini) over both packages
	$(NICE) $(TOOLS)/mypy

stubtest: | $(call stamp,$(TOOLS_PY),tools) $(BUILT) ## the stub _core.pyi against the built extension
	cd python && $(NICE) ../$(TOOLS)/python -m mypy.stubtest asyncio_guest._core --mypy-config-file ../mypy.ini

# ---------------------------------------------------------------------------------------
# tests

# The edit-test loop: no install step beyond a first one (and a rebuild of the extension
# after a change under src/), one Python, the core tests and the host tests that need no
# display. `make test T=tests/core/test_api.py` narrows it; failures of the last run go first.
QUICK_HOST_TESTS := tests/hosts/test_win32_queue.py
T_DEFAULT := tests/core $(QUICK_HOST_TESTS)
T ?= $(T_DEFAULT)
# Processes for the fast loop (pytest-xdist): two for the default selection, one for a
# narrower T (where starting workers costs more than it saves). The CI suites use one.
JOBS ?= $(if $(filter-out $(T_DEFAULT),$(T)),0,2)

.PHONY: test test-all test-rust test-core test-cli test-plugin test-hosts test-modal \
	test-webview test-stress test-bench test-docs check-wheel
test: | $(call stamp,$(PY),core) ## the fast loop: core tests + quick host tests on one Python (PY=3.11), last failures first, stops at the first failure
	$(NICE) $(V)/$(PY)/bin/python -m pytest -q -x --ff -n $(JOBS) --timeout 120 $(T)

test-all: install ## the full matrix CI runs (every suite, every Python), with a summary
	PYTHONS="$(PYTHONS)" bash scripts/test-all.sh

test-rust: ## cargo test (the core crate)
	$(NICE) cargo test -q

test-core: | $(call stamp,$(PY),core) ## one suite on one Python: test-core, -cli, -plugin, -hosts, -modal, -webview, -stress (PY=3.9)
	$(call pytest,$(PY),,tests/core --timeout 120)

test-cli: | $(call stamp,$(PY),hosts)
	$(call pytest,$(PY),$(XVFB),tests/cli --timeout 300)

test-plugin: | $(call stamp,$(PY),hosts)
	$(call pytest,$(PY),$(XVFB),tests/plugin --timeout 300)

test-hosts: | $(call stamp,$(PY),hosts) $(call stamp,$(CLASSIC),pygame)
	$(call pytest,$(PY),$(XVFB),tests/hosts --timeout 300)

test-modal: | $(call stamp,$(PY),hosts)
	$(call pytest,$(PY),$(XVFB),tests/modal --timeout 300)

test-webview: | $(V)/.make-webview
	$(call pytest,$(PY),$(XVFB),webview/tests --timeout 300)

test-stress: | $(call stamp,$(PY),core)
	$(call pytest,$(PY),,tests/stress)

test-bench: | $(call stamp,$(TOOLS_PY),bench)
	$(call pytest,$(TOOLS_PY),,tests/bench)

# The release wheel, checked in fresh venvs of the oldest and the newest Python of the matrix.
check-wheel: | $(call stamp,$(TOOLS_PY),tools) $(V)/.make-system
	bash scripts/check-wheel.sh $(foreach v,$(sort $(firstword $(PYTHONS)) $(lastword $(PYTHONS))),$(V)/$(v)/bin/python)

test-docs: | $(call stamp,$(PY),core)
	$(call pytest,$(PY),,tests/docs)

.PHONY: conformance
conformance: | $(call stamps,$(PYTHONS),core) $(V)/.make-system ## CPython's test_asyncio, stock vs ours (built-in and Tk hosts), every Python
	$(NICE) -n 5 $(V)/$(TOOLS_PY)/bin/python tests/conformance/conformance.py run --write-docs \
		--versions $(shell echo $(PYTHONS) | tr ' ' ,) $(CONFORMANCE_ARGS)

# ---------------------------------------------------------------------------------------
# benchmarks, docs, demo, screenshots

.PHONY: bench docs demo screenshots
bench: | $(call stamp,$(BENCH_PY),bench) $(call stamp,$(BENCH_PY),hosts) ## the full benchmark matrix (~25 min) into docs/images and benchmarks/results
	$(V)/$(BENCH_PY)/bin/python benchmarks/run.py $(BENCH_ARGS)

docs: | $(call stamp,$(TOOLS_PY),docs) ## build the docs site (mkdocs build --strict) into site/
	NO_MKDOCS_2_WARNING=1 $(NICE) $(V)/$(TOOLS_PY)/bin/python -m mkdocs build --strict -q

demo: | $(call stamp,$(TOOLS_PY),core) $(V)/.make-system ## run the main demo (a Tk window; headless: under Xvfb, scripted)
	@if [ -n "$${DISPLAY:-}$${WAYLAND_DISPLAY:-}" ]; then \
		$(V)/$(TOOLS_PY)/bin/python -m asyncio_guest demo $(DEMO_ARGS); \
	else \
		echo "No display: running the demo under Xvfb in its scripted mode (--demo --quit-after 10)."; \
		xvfb-run -a $(V)/$(TOOLS_PY)/bin/python -m asyncio_guest demo $(DEMO_ARGS) --demo --quit-after 10; \
	fi

screenshots: | $(call stamp,$(TOOLS_PY),hosts) $(V)/.make-webview ## the samples' screenshots into docs/images/
	bash scripts/screenshots.sh $(V)/$(TOOLS_PY)/bin/python
	bash webview/scripts/screenshot-webview.sh $(V)/$(TOOLS_PY)/bin/python

.PHONY: clean
clean: ## remove build output and the install stamps (the venvs stay)
	rm -rf $(EDITABLE_DIR) site $(V)/.make-* $(V)/*/.make-*
