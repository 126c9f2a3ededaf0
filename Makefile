# QianPOS front door: every command a developer or CI runs is a target here.
#   make test       all tests, on every core: portable tier on CPython, host tier (incl. the
#                   portable tier on MicroPython via node, and the mpy-cross gate), then make typecheck
#   make campaign   every cell of the host fault matrix (each fault x kind x count: docs/PROTOCOL.md);
#                   make test runs a sample of it
#   make lint       ruff check + format check          make format     apply ruff fixes + format
#   make typecheck  mypy: firmware/ hal/ against the MicroPython stubs; sim/ tests/ against CPython
#   make sim        the interactive simulator (the line mode where it cannot run)
#   make screenshot docs/sim.svg, the simulator's picture in README.md
#   make bench      print the benchmarks
#   make mpy        compile the device code into build/mpy/ (runs make version first)
#   make version    write today's date (UTC) into firmware/version.py
#   make font       the display's glyphs from GNU Unifont (apt-get install unifont): hal/drivers/font8x16.py
#                   and fonts/qianpos16.qpf (both committed; a test checks them against the build)
#   make deploy PORT=/dev/ttyUSB0   copy build/mpy + boot.py + main.py to a board (needs a board)
#   make freeze     check manifest.py (firmware/ + hal/ for a frozen MicroPython image), print the build
#   make unix-port MPY_SRC=/path/to/micropython   the 32-bit unix port with a frozen image that
#                   bench/memory.py measures (QIANPOS_UPY_UNIX); needs a MicroPython 1.27 source tree
#   make clean
# Needs python3 (3.11+) and node/npm (20) on PATH; everything else is pinned and installed here.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
VENV_STAMP := $(VENV)/.requirements-stamp
STUBS := $(VENV)/mpy-stubs
NODE_STAMP := node_modules/.lock-stamp
PIP_FLAGS := --disable-pip-version-check -q
PORT ?= /dev/ttyUSB0
LINT_PATHS := $(wildcard firmware hal virtual sim tests tools bench boot.py main.py manifest.py)

.PHONY: test campaign sim screenshot lint format typecheck version font mpy deploy bench clean venv node unix-port

# The venv is rebuilt in place when requirements-dev.txt changes. The MicroPython stubs go into
# their own folder too: mypy takes it as the typeshed of the firmware/hal run.
$(VENV_STAMP): requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install $(PIP_FLAGS) -r requirements-dev.txt
	rm -rf $(STUBS)
	$(PY) -m pip install $(PIP_FLAGS) --no-deps --target $(STUBS) \
		$$(grep -E '^micropython-[a-z0-9-]+-stubs==' requirements-dev.txt)
	touch $@

# npm ci from the lock. Without npm, a developer still gets the CPython tiers (the MicroPython
# tier test then skips and says why); under CI a missing npm is an error.
$(NODE_STAMP): package.json package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
		npm ci --no-audit --no-fund --loglevel=error && touch $@; \
	elif [ -n "$$CI" ]; then \
		echo "npm is not on PATH: needed for the MicroPython tier" >&2; exit 1; \
	else \
		echo "warning: npm not on PATH: the MicroPython tier will be skipped" >&2; \
	fi

venv: $(VENV_STAMP)
node: $(NODE_STAMP)

# On every core (pytest-xdist): the MicroPython tier's shards run beside the CPython tests.
test: $(VENV_STAMP) $(NODE_STAMP)
	$(PY) -m pytest -n auto
	@$(MAKE) --no-print-directory typecheck

campaign: $(VENV_STAMP)
	QIANPOS_CAMPAIGN=1 $(PY) -m pytest -q tests/host/test_fault_matrix.py

sim: $(VENV_STAMP)
	$(PY) -m sim

screenshot: $(VENV_STAMP)
	$(PY) -m sim.app docs/sim.svg

lint: $(VENV_STAMP)
	$(PY) -m ruff check $(LINT_PATHS)
	$(PY) -m ruff format --check $(LINT_PATHS)

format: $(VENV_STAMP)
	$(PY) -m ruff check --fix $(LINT_PATHS)
	$(PY) -m ruff format $(LINT_PATHS)

# Two runs, one config (pyproject.toml): the device code sees only what MicroPython has.
typecheck: $(VENV_STAMP)
	@status=0; \
	echo "== mypy firmware hal (MicroPython stubs)"; \
	MYPYPATH=$(STUBS) $(PY) -m mypy --custom-typeshed-dir $(STUBS) firmware hal || status=1; \
	echo "== mypy virtual sim tests tools (CPython)"; \
	$(PY) -m mypy virtual sim tests tools || status=1; \
	exit $$status

# The build date the firmware trusts its clock after (firmware/version.py; SOURCE_DATE_EPOCH
# sets it for a reproducible build). VERSION in that file is edited by hand.
version: $(VENV_STAMP)
	$(PY) -m tools.version_stamp

font: $(VENV_STAMP)
	@test -f /usr/share/unifont/unifont.hex || { echo "needs GNU Unifont: apt-get install unifont" >&2; exit 1; }
	$(PY) -m sim.fontbuild

# mpy-cross -O0, on purpose: -O3 drops the line numbers the crash record needs (firmware/compat.py
# crash_site), -O1/-O2 drop asserts and save nothing here. The why, and the file list: mpy_gate.py.
mpy: $(VENV_STAMP) version
	rm -rf build/mpy
	$(PY) -m tools.mpy_gate build/mpy

# Cannot run here (no board): tools/deploy.py builds one chained mpremote command, tested as
# a list. On the board it first removes every .py under firmware/ and hal/ (a .py beside a .mpy
# wins the import) and every .mpy this build lacks, then copies build/mpy's trees and the boot.py
# and main.py sources (a port runs those two only as .py) and fonts/qianpos16.qpf to where hal/esp32/board.py
# reads it, then resets. FROZEN=1: the image already holds firmware/ and hal/ (make freeze): it
# empties them on the board and copies the two scripts and the font (data, never frozen).
# A terminal whose watchdog runs resets under a deploy: power it on in safe mode first (docs/BOARD.md).
deploy: mpy
	$(PY) -m tools.deploy $(PORT) build/mpy $(if $(FROZEN),--frozen)

# manifest.py is the frozen image's (bytecode in flash, not in the heap): this checks it covers what
# make mpy builds and prints the command that builds an image with it from a MicroPython 1.27 checkout.
.PHONY: freeze
freeze: $(VENV_STAMP) version
	$(PY) -m tools.freeze

# Never part of make test: a MicroPython 1.27 source tree (its lib/micropython-lib submodule fetched)
# and gcc-multilib for -m32. Writes build/unix-port/manifest.py (manifest.py's packages + the bench's
# test doubles), builds 32-bit with single-precision floats, prints the QIANPOS_UPY_UNIX to use.
unix-port: $(VENV_STAMP)
	@test -n "$(MPY_SRC)" || { echo "usage: make unix-port MPY_SRC=/path/to/micropython (1.27)" >&2; exit 1; }
	$(PY) -m tools.build_unix_port $(MPY_SRC)

bench: $(VENV_STAMP) $(NODE_STAMP)
	@set -e; for f in $(filter-out bench/upy%,$(wildcard bench/*.py)); do \
		echo "== $$f"; $(PY) $$f; \
	done

clean:
	rm -rf build .pytest_cache .ruff_cache
	find . -name __pycache__ -type d -not -path './.venv/*' -not -path './node_modules/*' -prune -exec rm -rf {} +
