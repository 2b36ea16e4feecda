# tagpulse — every target sets up what it needs from the lock file.
SHELL := /bin/bash
export UV_PYTHON_DOWNLOADS := never
export UV_PYTHON := python3
UV := $(shell ./scripts/bootstrap-uv.sh)
RUN := $(UV) run --frozen --no-sync
PYTEST_WORKERS ?= 2

.PHONY: env demo test test-fast lint format bench clean

# Tests and benchmarks prove every extra; the demo needs the core plus the text and vision extras
# (--inexact keeps extras a test run installed).
.venv/.synced: pyproject.toml uv.lock
	$(UV) sync --frozen --all-extras
	@touch $@

.venv/.synced-demo: pyproject.toml uv.lock
	$(UV) sync --frozen --inexact --extra text --extra vision
	@touch $@

env: .venv/.synced

demo: .venv/.synced-demo
	$(RUN) tagpulse demo --out demo-out

lint: env
	$(RUN) ruff check src tests benchmarks
	$(RUN) ruff format --check src tests benchmarks
	$(RUN) mypy

test: env lint
	./scripts/ensure-debian.sh chromium=chromium redis-server=redis-server
	TAGPULSE_REQUIRE_BROWSER=1 $(RUN) pytest -n $(PYTEST_WORKERS) --durations=15

test-fast: env
	$(RUN) pytest -n $(PYTEST_WORKERS) -m "not slow"

format: env
	$(RUN) ruff format src tests benchmarks
	$(RUN) ruff check --fix src tests benchmarks

bench: env
	$(RUN) python benchmarks/run_all.py --out bench-results.json

clean:
	rm -rf .venv .tools demo-out bench-results.json .pytest_cache .mypy_cache .ruff_cache
