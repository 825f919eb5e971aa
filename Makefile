# Market Supervision Data Warehouse — the two commands of the README:
#   make demo   set everything up and run a generated district year end to end
#   make test   set everything up and run the test suite (what CI runs)
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
UV_VERSION := 0.13.9
STAMP := $(VENV)/.msdw-installed

.PHONY: venv demo test test-fast test-slow lint bench docs clean system-deps

venv: $(STAMP)

# requirements-dev.lock = the runtime lock (requirements.lock, what the production
# image installs) + test, lint, demo and benchmark tools, at the same pins.
$(STAMP): requirements.lock requirements-dev.lock pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -c 'import sys; assert sys.version_info[:2] == (3, 11), "Python 3.11 is required, found %s" % sys.version'
	$(BIN)/python -m pip install --quiet "uv==$(UV_VERSION)"
	$(BIN)/uv pip install --quiet --python $(BIN)/python -r requirements-dev.lock
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	@touch $(STAMP)

# Debian packages: headless Chromium renders the HTML reports in tests and prints
# the quality report's PDF; a CJK font lets the work report's charts carry Chinese
# labels (without it they fall back to English labels); poppler-utils (pdftotext,
# pdfinfo) lets the tests read the PDF back; redis-server is the Celery broker of
# the production-stack test (tests/compose_stack.py starts its own,
# password-protected, as compose does).
system-deps:
	@{ command -v chromium >/dev/null 2>&1 && fc-list :lang=zh 2>/dev/null | grep -q . && command -v pdftotext >/dev/null 2>&1 && command -v redis-server >/dev/null 2>&1; } || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing chromium, fonts-noto-cjk, poppler-utils and redis-server (Debian) for the reports, their PDF and the production-stack test"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk fontconfig poppler-utils redis-server >/dev/null; \
	  else echo "chromium/CJK font/pdftotext/redis-server missing and cannot be installed: the tests that need them will be skipped"; fi; }

demo: venv system-deps
	$(BIN)/msdw demo

test: venv system-deps
	$(BIN)/ruff check plugins dags tests bench
	$(BIN)/python -m pytest -q --timeout=1200 --durations=25 -n 2 --dist loadscope $(PYTEST_ARGS)

test-fast: venv
	$(BIN)/python -m pytest -q -m "not slow" $(PYTEST_ARGS)

test-slow: venv
	$(BIN)/python -m pytest -q -m slow $(PYTEST_ARGS)

# ruff, and sqlfluff as .sqlfluff configures it: every dbt model, both branches of the
# incremental ones, on a throw-away database (tests/sqlfluff_lint.py)
lint: venv
	$(BIN)/ruff check plugins dags tests bench
	$(BIN)/python tests/sqlfluff_lint.py

bench: venv
	$(BIN)/python bench/run_all.py

clean:
	rm -rf .msdw dbt_project/target dbt_project/logs
