# Two commands on a fresh machine: `make demo` and `make test`. Everything they need is set up here.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
# generated from its parts, not committed (see `components` below)
COMPONENTS := source_confluence/components.py

# Packages are installed without byte-compiling them (below); Python then compiles each module on its first import
# and caches it, unless PYTHONDONTWRITEBYTECODE is set (it is in this machine's shell): then every process compiles
# everything it imports again (1.5 s more CPU per source run, 2 s per destination run here), and the suite runs a
# hundred of them. The commands below let Python cache.
unexport PYTHONDONTWRITEBYTECODE

.PHONY: install lint components demo test test-fast bench bench-peers bench-fidelity clean

install: $(STAMP) $(COMPONENTS)

# torch is installed first and pinned: a plain `torch` requirement pulls a several-GB CUDA build.
# --no-compile: pip would byte-compile every module of every package (torch alone: 122 s instead of 25 s here);
# Python compiles the modules actually imported on first use instead, and caches them the same way (see above).
# The rest is installed by uv, which resolves and installs it in seconds where pip took minutes of CPU (same pins);
# pip takes over where uv cannot reach the index (uv reads neither pip.conf nor PIP_* settings).
$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet --no-compile torch==2.13.0 uv==0.13.9
	$(VENV)/bin/uv pip install --quiet --python $(PY) -e '.[dev]' \
		|| $(PY) -m pip install --quiet --no-compile -e '.[dev]'
	touch $(STAMP)

# source_confluence/components.py, the one file Airbyte's manifest-only image and the Connector Builder load, is
# generated from its parts in source_confluence/component_parts/ (one job each) and not committed: `make install`
# (so `make demo` and `make test`) writes it whenever a part or the bundler changed; `make components` always does.
$(COMPONENTS): $(wildcard source_confluence/component_parts/*.py) scripts/bundle_components.py | $(STAMP)
	$(PY) -m scripts.bundle_components

components: | $(STAMP)
	$(PY) -m scripts.bundle_components

demo: install
	$(PY) -m scripts.demo

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# Three workers (pytest-xdist) on this 2-core machine, one test file each at a time: a file's module fixtures (stand-ins,
# the S3 server) are built once, and much of the suite sleeps (retry back-offs, timeouts, servers), so a third worker
# keeps both cores busy (a fresh clone: 9 min 6 s in all with three, 10 min 6 s with two on a slightly older main).
# Files run in the order conftest.py gives them (long ones first); xdist would otherwise start the files with the most tests first, which left
# the one-test files of a minute or more (the pipe, PyAirbyte) running alone at the end.
test: install lint
	$(PY) -m pytest -q -n 3 --dist loadfile --no-loadscope-reorder

test-fast: install
	$(PY) -m pytest -q -n 3 --dist loadfile --no-loadscope-reorder -m "not slow"

bench: install
	$(PY) -m bench.source_throughput
	$(PY) -m bench.destination_sync
	$(PY) -m bench.embedding

bench-peers: install
	$(PY) -m bench.peers

# the peers' converters (markdownify, html2text) come from the bench-only extra
bench-fidelity: install
	$(PY) -m pip install --quiet -e '.[bench]'
	$(PY) -m bench.fidelity --results bench/RESULTS.md

clean:
	rm -rf $(VENV) demo-data bench/out
