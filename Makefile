# The two commands of the README: `make demo` runs callbot on its embedded default,
# `make test` runs the whole test suite. Both set up what they need first.
VENV ?= .venv
BIN := $(VENV)/bin
PYTEST_ARGS ?=
# Test files run in two worker processes (a file's tests stay together, so its fixtures are shared): most
# end-to-end tests wait on real time (audio, SIP, leases), so two workers halve the wall time.
PYTEST_WORKERS ?= 2

.PHONY: demo test test-quick setup setup-test lint lock bench screenshots

demo: setup
	$(BIN)/callbot demo

test: setup-test
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

# The quick loop: skips the slow end-to-end tests.
test-quick: setup-test
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadfile -m "not slow" $(PYTEST_ARGS)

setup:
	scripts/setup.sh run

# Screenshots of the console's main pages into docs/console/ (the demo, run to the end, in Chromium).
screenshots: setup-test
	$(BIN)/python -m callbot.console.screenshots --out docs/console

setup-test:
	scripts/setup.sh test

lint: setup
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports

# Re-pin the dependencies after editing pyproject.toml (needs uv: pip install uv). The speech extra's
# lock is constrained by the main one, so both install into one virtualenv.
lock:
	uv pip compile pyproject.toml --extra dev -o requirements.lock --python-version 3.11 --no-header
	uv pip compile pyproject.toml --extra speech -c requirements.lock -o requirements-speech.lock --python-version 3.11 --no-header
