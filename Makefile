# fanqa: two commands on a fresh machine — `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
# The CPU wheel of torch 2.13.0 lies on disk here; GPU users: make TORCH_SPEC='torch==2.13.0' \
#   PIP_EXTRA='--index-url https://download.pytorch.org/whl/cu128' (or any build they want).
TORCH_SPEC ?= torch==2.13.0
PIP_EXTRA ?=
PYTEST_ARGS ?=
# make test runs the suite on this many pytest-xdist workers (auto: one per core; 0: in-process).
TEST_WORKERS ?= auto

.PHONY: install chromium test test-postgres demo lint bench clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q $(PIP_EXTRA) "$(TORCH_SPEC)"
	$(PY) -m pip install -q -e '.[dev]'
	touch $@

# The engine's hot modules compiled with mypyc (harvest/native.py; the same sources, about
# 1.2x faster); rebuilt when one changes. Without a C compiler it says so and the sources run.
NATIVE_SRC := $(wildcard harvest/*.py harvest/*/*.py)
$(VENV)/.native: $(VENV)/.installed $(NATIVE_SRC) scripts/build_native.py
	$(PY) scripts/build_native.py
	touch $@

install: $(VENV)/.installed $(VENV)/.native

# The desk's browser tests drive Debian's Chromium (Playwright's own download is not used):
# installed here, with a CJK font so Chinese pages render, when missing and apt-get is usable
# as root; otherwise those tests skip and say why.
chromium:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing chromium for the browser tests"; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-wqy-microhei) \
	      || echo "chromium could not be installed: the browser tests will be skipped"; \
	  else \
	    echo "chromium is missing and apt-get is not usable here: the browser tests will be skipped"; \
	  fi; }

test: install chromium
	$(PY) -m pytest -q -m "not postgres" -n $(TEST_WORKERS) $(PYTEST_ARGS)

# Storage and import tests against a real PostgreSQL: uses FANQA_TEST_POSTGRES_URL, else the
# server on 127.0.0.1:5432, else installs and starts Debian's PostgreSQL (needs root + apt).
test-postgres: install
	FANQA_TEST_POSTGRES_URL="$$(bash scripts/ensure-postgres.sh)" $(PY) -m pytest -q -m postgres $(PYTEST_ARGS)

demo: install
	$(PY) scripts/demo.py

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy harvest storage trainer bot

bench: install
	$(PY) bench/irc_linking.py
	$(PY) bench/pair_quality.py
	$(PY) bench/link_ceiling.py
	$(PY) bench/word_lists.py
	$(PY) bench/import_throughput.py
	$(PY) bench/live_harvest.py
	$(PY) bench/retrieval.py
	$(PY) bench/abstention.py
	$(PY) bench/train_throughput.py
	$(PY) bench/answer_latency.py
	$(PY) bench/cli_startup.py

clean:
	rm -rf $(VENV) demo-out .pytest_cache harvest/_native.json
	find harvest -name '*.so' -delete
