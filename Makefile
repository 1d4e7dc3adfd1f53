# The README's commands. People and CI run exactly these targets.
#   make run   install everything, simulate the demo company, build through Dagster, serve
#   make test  install everything (Chromium too) and run the whole test suite with the linters
SHELL := /bin/bash
PYTHON ?= python3
UV := $(PYTHON) -m uv
RUN := $(UV) run --frozen
LINT_HOME := $(CURDIR)/data/.lint

.PHONY: run test install browser lint pytest bench clean

run: install browser
	$(RUN) servops simulate --days 180 --chatbot-launch 2025-02-15
	$(RUN) servops build
	$(RUN) servops serve

test: install browser lint pytest

install:
	@$(UV) --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet 'uv>=0.9'
	# Compiled bytecode: this environment sets PYTHONDONTWRITEBYTECODE, so without it every dbt,
	# Dagster and Superset process would recompile pandas and friends at start (~3.5 s CPU each).
	$(UV) sync --frozen --compile-bytecode

# Debian's Chromium for the dashboard tests (the project's own setup installs it).
browser:
	@if ! command -v chromium >/dev/null 2>&1; then \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; \
	fi
	@chromium --version

lint:
	$(RUN) ruff check .
	$(RUN) ruff format --check .
	@mkdir -p $(LINT_HOME)
	SERVOPS_LAKE=$(LINT_HOME)/lake SERVOPS_BUILD_DB=$(LINT_HOME)/build.duckdb \
		$(RUN) sqlfluff lint dbt/models

pytest:
	$(RUN) pytest

bench: install
	$(RUN) servops bench --scale small

clean:
	rm -rf data dbt/target dbt/logs .pytest_cache .ruff_cache
